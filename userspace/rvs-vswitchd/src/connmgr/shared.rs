//! The state one bridge's connections share: settings, the pipeline backend, the registry of
//! live connections with each one's protocol state (role, asynchronous configuration,
//! `miss_send_len`), the master election generation id, the ports last
//! described (for port-status), controller status, and the fan-out of asynchronous messages
//! (packet-in, flow-removed, port-status) to the connections that want them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rvs_dpif::{PortNo, VportStats};
use rvs_openflow::msg::{AsyncConfig, Message, Port, Role};
use rvs_openflow::Version;

use super::backend::{Backend, OfEvent};
use super::settings::Settings;
use crate::ofproto::{BridgeConfig, Switch};

/// What kind of connection: to a configured controller, or a service connection (the
/// management socket: `ovs-ofctl`, monitors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `Controller` row's connection.
    Primary,
    /// The management socket.
    Service,
}

/// `OFPR_*` bits of the default packet-in masks.
const PIN_ALL: u32 = 0b111;
/// `OFPPR_*` bits.
const PS_ALL: u32 = 0b111;
/// `OFPRR_*` bits.
const FR_ALL: u32 = 0b1111;

/// The asynchronous configuration a connection starts with (OpenFlow 1.3 defaults: masters and
/// equals get everything; slaves only port-status).
pub fn default_async() -> AsyncConfig {
    AsyncConfig { packet_in_mask: [PIN_ALL, 0], port_status_mask: [PS_ALL, PS_ALL], flow_removed_mask: [FR_ALL, 0] }
}

/// One connection's protocol state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnState {
    /// Negotiated version.
    pub version: Version,
    /// Primary or service.
    pub kind: Kind,
    /// Role (`Equal`, `Master` or `Slave`).
    pub role: Role,
    /// Asynchronous message masks.
    pub async_cfg: AsyncConfig,
    /// `miss_send_len` (service connections start at 0: no asynchronous messages until set).
    pub miss_send_len: u16,
    /// The controller's `enable_async_messages`.
    pub enable_async: bool,
}

impl ConnState {
    /// A fresh connection's state.
    pub fn new(version: Version, kind: Kind, enable_async: bool) -> ConnState {
        ConnState {
            version,
            kind,
            role: Role::Equal,
            async_cfg: default_async(),
            miss_send_len: if kind == Kind::Service { 0 } else { rvs_openflow::types::DEFAULT_MISS_SEND_LEN },
            enable_async,
        }
    }

    /// Whether an asynchronous message of this type and reason number is for this connection.
    pub fn wants(&self, msg: &Message) -> bool {
        if !self.enable_async || (self.kind == Kind::Service && self.miss_send_len == 0) {
            return false;
        }
        let i = usize::from(self.role == Role::Slave);
        let (mask, reason) = match msg {
            Message::PacketIn(p) => (self.async_cfg.packet_in_mask, p.reason.number()),
            Message::FlowRemoved(f) => (self.async_cfg.flow_removed_mask, f.reason.number()),
            Message::PortStatus(s) => (self.async_cfg.port_status_mask, s.reason.number()),
            _ => return true,
        };
        mask.get(i).is_some_and(|m| reason < 32 && m & (1u32 << reason) != 0)
    }
}

/// A live connection as the rest of the bridge sees it.
#[derive(Debug)]
pub struct ConnHandle {
    /// Unique id.
    pub id: u64,
    /// The `Controller` row, for primary connections.
    pub controller: Option<String>,
    /// Protocol state.
    pub state: Mutex<ConnState>,
    /// Messages for the connection's thread to send (asynchronous messages).
    pub outbox: Mutex<Sender<Message>>,
}

impl ConnHandle {
    /// A copy of the state.
    pub fn state(&self) -> ConnState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A controller's status for its row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CtlStatus {
    /// Connections up.
    pub connected: bool,
    /// Role of the (first) connection.
    pub role: Option<Role>,
    /// Last error.
    pub last_error: Option<String>,
    /// `ACTIVE`, `BACKOFF`, `CONNECTING`, `LISTENING`...
    pub state: String,
}

/// Datapath port counters of the bridge's datapath.
pub type DpStats = Box<dyn Fn() -> HashMap<PortNo, VportStats> + Send + Sync>;

/// What a bridge's connections share.
pub struct Shared {
    /// Bridge name.
    pub name: String,
    /// The switch (for the bridge's ports).
    pub switch: Arc<Switch>,
    /// The pipeline.
    pub backend: Arc<dyn Backend>,
    /// Current settings.
    pub settings: RwLock<Arc<Settings>>,
    /// Live connections.
    pub conns: Mutex<Vec<Arc<ConnHandle>>>,
    /// The master election generation id, once a controller sent one.
    pub generation: Mutex<Option<u64>>,
    /// Ports as last announced.
    pub ports: Mutex<Vec<Port>>,
    /// When each port was first seen.
    pub port_since: Mutex<HashMap<u32, Instant>>,
    /// Datapath counters.
    pub dp_stats: DpStats,
    /// Status per `Controller` row.
    pub status: Mutex<HashMap<String, CtlStatus>>,
    /// Set when the bridge goes away: every thread ends.
    pub stop: AtomicBool,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connmgr::Shared({})", self.name)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// State for bridge `settings.bridge`.
    pub fn new(switch: Arc<Switch>, backend: Arc<dyn Backend>, settings: Settings, dp_stats: DpStats) -> Arc<Shared> {
        let s = Arc::new(Shared {
            name: settings.bridge.clone(),
            switch,
            backend,
            settings: RwLock::new(Arc::new(settings)),
            conns: Mutex::new(Vec::new()),
            generation: Mutex::new(None),
            ports: Mutex::new(Vec::new()),
            port_since: Mutex::new(HashMap::new()),
            dp_stats,
            status: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        });
        let weak = Arc::downgrade(&s);
        s.backend.subscribe(Box::new(move |ev| {
            if let Some(s) = weak.upgrade() {
                s.dispatch_event(ev);
            }
        }));
        s
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The bridge's current port configuration (empty if the bridge is gone).
    pub fn bridge_config(&self) -> Arc<BridgeConfig> {
        self.switch.bridge(&self.name).map(|b| b.config()).unwrap_or_default()
    }

    /// Registers a new connection; returns its handle.
    pub fn register(&self, state: ConnState, controller: Option<String>, outbox: Sender<Message>) -> Arc<ConnHandle> {
        let h = Arc::new(ConnHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            controller,
            state: Mutex::new(state),
            outbox: Mutex::new(outbox),
        });
        lock(&self.conns).push(h.clone());
        h
    }

    /// Forgets a closed connection.
    pub fn unregister(&self, id: u64) {
        lock(&self.conns).retain(|c| c.id != id);
    }

    /// The live connections.
    pub fn connections(&self) -> Vec<Arc<ConnHandle>> {
        lock(&self.conns).clone()
    }

    /// Whether any primary connection is up.
    pub fn any_controller_connected(&self) -> bool {
        lock(&self.conns).iter().any(|c| c.controller.is_some())
    }

    /// Queues `msg` on every connection that wants it.
    pub fn broadcast(&self, msg: &Message) {
        for c in self.connections() {
            let st = c.state();
            if st.wants(msg) {
                // A port as the connection's version describes it.
                let m = match msg {
                    Message::PortStatus(s) => Message::PortStatus(rvs_openflow::msg::PortStatus { reason: s.reason, port: super::ports::for_version(&s.port, st.version) }),
                    m => m.clone(),
                };
                let _ = lock(&c.outbox).send(m);
            }
        }
    }

    /// Routes a pipeline event.
    pub fn dispatch_event(&self, ev: &OfEvent) {
        match ev {
            OfEvent::PacketIn(p) => self.broadcast(&Message::PacketIn(p.clone())),
            OfEvent::FlowRemoved(f) => self.broadcast(&Message::FlowRemoved(f.clone())),
        }
    }

    /// Makes `winner` the only master: every other master becomes a slave.
    pub fn demote_other_masters(&self, winner: u64) {
        for c in self.connections() {
            if c.id != winner {
                let mut st = lock(&c.state);
                if st.role == Role::Master {
                    st.role = Role::Slave;
                }
            }
        }
    }

    /// Re-describes the ports and announces the differences with port-status messages.
    pub fn refresh_ports(&self) {
        let cfg = self.bridge_config();
        let bits = self.switch.bridge(&self.name).map(|b| b.port_config.snapshot()).unwrap_or_default();
        let new = super::ports::describe(&cfg, &bits);
        {
            let mut since = lock(&self.port_since);
            let now = Instant::now();
            since.retain(|no, _| cfg.ports.contains_key(no));
            for no in cfg.ports.keys() {
                since.entry(*no).or_insert(now);
            }
        }
        let old = std::mem::replace(&mut *lock(&self.ports), new.clone());
        for st in super::ports::changes(&old, &new) {
            self.broadcast(&Message::PortStatus(st));
        }
    }

    /// The ports as last described.
    pub fn ports(&self) -> Vec<Port> {
        lock(&self.ports).clone()
    }

    /// Records a controller's status.
    pub fn set_status(&self, uuid: &str, f: impl FnOnce(&mut CtlStatus)) {
        f(lock(&self.status).entry(uuid.to_string()).or_default());
    }

    /// Status of every controller row.
    pub fn statuses(&self) -> HashMap<String, CtlStatus> {
        let mut st = lock(&self.status).clone();
        for e in st.values_mut() {
            e.connected = false;
            e.role = None;
        }
        for c in self.connections() {
            if let Some(u) = &c.controller {
                let e = st.entry(u.clone()).or_default();
                if !e.connected {
                    e.connected = true;
                    e.role = Some(c.state().role);
                }
            }
        }
        st
    }
}

//! The run-time state of bridges that translation reads: per bridge its ports (OpenFlow number,
//! datapath port, VLAN configuration), its MAC learning table and a generation counter; and
//! the switch-wide index from (datapath type, datapath port) to the bridge that owns it, which
//! the upcall handlers use to route a miss.
//!
//! Each bridge also owns its OpenFlow [`Pipeline`] (flow tables, groups, meters) and its
//! [`Events`] (packet-ins and flow removals for controllers). A new bridge in
//! `fail_mode=standalone` starts with the default `priority=0 actions=NORMAL` flow; the
//! controller connection manager adds and removes it as controllers come and go.
//!
//! The reconciler ([`crate::bridge`]) publishes a new immutable [`BridgeConfig`] whenever the
//! database changes; handlers take an `Arc` snapshot per upcall, so reconfiguration never
//! blocks forwarding.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use rvs_dpif::{DatapathType, PortNo};

use crate::mac_learning::MacTable;
use crate::pipeline::{Events, Pipeline};
use crate::upcall::Backer;
use crate::vlan::PortVlan;

/// OpenFlow's number for a bridge's own (local) port.
pub const OFPP_LOCAL: u32 = 0xfffe;

/// The datapath port number of ports that have none in the datapath (patch ports).
pub const NO_DP_PORT: PortNo = u32::MAX;

/// How a bridge forwards packets no controller decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Act as a learning switch (NORMAL).
    #[default]
    Standalone,
    /// Drop what no flow handles.
    Secure,
}

/// One bridge interface as translation sees it (a bond's members are one each, grouped by
/// [`BridgeConfig::bundle_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfPort {
    /// OpenFlow port number (`Interface.ofport`).
    pub ofport: u32,
    /// Interface (device) name.
    pub name: String,
    /// The `Port` row's name.
    pub port_name: String,
    /// Datapath port number.
    pub dp_port: PortNo,
    /// Interface type (`""`/`system`, `internal`, `tap`).
    pub iface_type: String,
    /// VLAN configuration of the port.
    pub vlan: PortVlan,
}

/// A bridge's configuration as published to translation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeConfig {
    /// Bridge name.
    pub name: String,
    /// Datapath type.
    pub dp_type: DatapathTypeEq,
    /// Fail mode.
    pub fail_mode: FailMode,
    /// Ports by OpenFlow number.
    pub ports: BTreeMap<u32, OfPort>,
    /// Datapath port → OpenFlow port.
    pub by_dp: BTreeMap<PortNo, u32>,
    /// Idle time after which datapath flows are removed (ms; `other_config:max-idle`).
    pub max_idle_ms: u64,
    /// Forward reserved multicast (`other_config:forward-bpdu`).
    pub forward_bpdu: bool,
    /// Bonds by bundle ID (their lowest member OpenFlow port; see [`crate::bond`]).
    pub bonds: BTreeMap<u32, crate::bond::Bond>,
    /// Bond member OpenFlow port → bundle ID (ports not listed are their own bundle).
    pub bundle_of: BTreeMap<u32, u32>,
    /// Mirrors ([`crate::mirror`]).
    pub mirrors: Vec<crate::mirror::Mirror>,
    /// Patch ports: OpenFlow port → peer ([`crate::patch`]).
    pub patches: BTreeMap<u32, crate::patch::PatchPeer>,
    /// GRE ports: OpenFlow port → tunnel ([`crate::tunnel`]; they share one datapath port).
    pub tunnels: BTreeMap<u32, crate::tunnel::Tunnel>,
}

/// A [`DatapathType`] with `Default`, for [`BridgeConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DatapathTypeEq(pub DatapathType);

impl BridgeConfig {
    /// The port with datapath number `dp`.
    pub fn port_by_dp(&self, dp: PortNo) -> Option<&OfPort> {
        self.by_dp.get(&dp).and_then(|o| self.ports.get(o))
    }
}

/// A bridge.
#[derive(Debug)]
pub struct Bridge {
    /// Name.
    pub name: String,
    config: RwLock<Arc<BridgeConfig>>,
    /// The MAC learning table.
    pub macs: Mutex<MacTable>,
    config_gen: AtomicU64,
    /// The OpenFlow tables.
    pub pipeline: RwLock<Pipeline>,
    /// Packet-in and flow-removed notifications.
    pub events: Events,
    /// Bridges this one's patch ports lead to, by OpenFlow port (set by [`Switch::publish`]).
    pub patch_peers: RwLock<BTreeMap<u32, Weak<Bridge>>>,
    /// Port-mod configuration bits of its ports ([`crate::xlate::portcfg`]).
    pub port_config: crate::xlate::portcfg::PortConfigs,
}

impl Bridge {
    /// A bridge with `cfg`.
    pub fn new(cfg: BridgeConfig, macs: MacTable) -> Bridge {
        let mut pipeline = Pipeline::new();
        pipeline.set_default_normal(cfg.fail_mode == FailMode::Standalone);
        Bridge {
            name: cfg.name.clone(),
            config: RwLock::new(Arc::new(cfg)),
            macs: Mutex::new(macs),
            config_gen: AtomicU64::new(1),
            pipeline: RwLock::new(pipeline),
            events: Events::new(),
            patch_peers: RwLock::new(BTreeMap::new()),
            port_config: Default::default(),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<BridgeConfig> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Publishes `cfg`; returns whether it differed (then flows get revalidated).
    pub fn set_config(&self, cfg: BridgeConfig) -> bool {
        let mut g = self.config.write().unwrap_or_else(|p| p.into_inner());
        if **g == cfg {
            return false;
        }
        if g.fail_mode != cfg.fail_mode {
            // Without a controller, standalone forwards with NORMAL and secure drops; the
            // connection manager overrides this while controllers are configured.
            self.pipeline.write().unwrap_or_else(|p| p.into_inner()).set_default_normal(cfg.fail_mode == FailMode::Standalone);
        }
        self.port_config.retain(|o| cfg.ports.contains_key(&o));
        *g = Arc::new(cfg);
        self.config_gen.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Makes the revalidator re-translate this bridge's flows (something translation reads
    /// outside [`BridgeConfig`] changed, e.g. telemetry).
    pub fn bump_generation(&self) {
        self.config_gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes when translation of some flow might change (configuration, MAC table,
    /// OpenFlow pipeline), its own or those of the bridges its patch ports lead to, since
    /// translation continues there.
    pub fn generation(&self) -> (u64, u64, u64) {
        let (mut c, mut m, mut v) = self.own_generation();
        for peer in crate::patch::peers(self) {
            let (pc, pm, pv) = peer.own_generation();
            c = c.wrapping_add(pc);
            m = m.wrapping_add(pm);
            v = v.wrapping_add(pv);
        }
        (c, m, v)
    }

    fn own_generation(&self) -> (u64, u64, u64) {
        let m = self.macs.lock().unwrap_or_else(|p| p.into_inner()).generation();
        let v = self.pipeline.read().unwrap_or_else(|p| p.into_inner()).version();
        (self.config_gen.load(Ordering::Acquire), m, v)
    }
}

/// The default `other_config:flow-limit`.
pub const DEFAULT_FLOW_LIMIT: u64 = 200_000;

/// All bridges and the datapath-port index.
#[derive(Debug, Default)]
pub struct Switch {
    bridges: RwLock<BTreeMap<String, Arc<Bridge>>>,
    // Looked up for every miss; keys are ours (port numbers), so a fast hash is safe.
    index: RwLock<crate::pipeline::classifier::FastMap<(DatapathTypeEq, PortNo), Arc<Bridge>>>,
    backers: RwLock<Vec<(DatapathTypeEq, Weak<Backer>)>>,
    /// NetFlow, sFlow and policing state ([`crate::telemetry`]).
    pub telemetry: crate::telemetry::Telemetry,
    /// Datapath meter IDs in use (OpenFlow meters and policing).
    pub meter_ids: crate::pipeline::meters::MeterIds,
    /// LACP state of the bonds that run it ([`crate::lacp`]).
    pub lacp: crate::lacp::Lacp,
    /// The linux-htb queues installed on devices ([`crate::qos::queues`]).
    pub queues: Arc<crate::qos::queues::QueueTable>,
    /// `other_config:flow-limit` of the `Open_vSwitch` row (0: the default).
    flow_limit: std::sync::atomic::AtomicU64,
}

impl std::hash::Hash for DatapathTypeEq {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        matches!(self.0, DatapathType::System).hash(state);
    }
}

impl Switch {
    /// An empty switch.
    pub fn new() -> Switch {
        Switch::default()
    }

    /// How many datapath flows a datapath may hold before misses are executed without installing
    /// a flow, and the revalidator evicts flows idle for more than 100 ms
    /// (`other_config:flow-limit`, default [`DEFAULT_FLOW_LIMIT`], as in Open vSwitch).
    pub fn flow_limit(&self) -> u64 {
        match self.flow_limit.load(std::sync::atomic::Ordering::Relaxed) {
            0 => DEFAULT_FLOW_LIMIT,
            n => n,
        }
    }

    /// Sets the flow limit (0: the default).
    pub fn set_flow_limit(&self, n: u64) {
        self.flow_limit.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The bridge named `name`.
    pub fn bridge(&self, name: &str) -> Option<Arc<Bridge>> {
        self.bridges.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// All bridges, by name.
    pub fn bridges(&self) -> Vec<Arc<Bridge>> {
        self.bridges.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Records the datapath of type `ty` (for packet-out).
    pub fn register_backer(&self, ty: DatapathType, b: &Arc<Backer>) {
        let mut v = self.backers.write().unwrap_or_else(|p| p.into_inner());
        v.retain(|(t, w)| t.0 != ty && w.strong_count() > 0);
        v.push((DatapathTypeEq(ty), Arc::downgrade(b)));
    }

    /// The running datapath of type `ty`.
    pub fn backer(&self, ty: DatapathType) -> Option<Arc<Backer>> {
        self.backers.read().unwrap_or_else(|p| p.into_inner()).iter().find(|(t, _)| t.0 == ty).and_then(|(_, w)| w.upgrade())
    }

    /// The bridge that owns datapath port `port` of the `ty` datapath.
    pub fn bridge_of(&self, ty: DatapathType, port: PortNo) -> Option<Arc<Bridge>> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).get(&(DatapathTypeEq(ty), port)).cloned()
    }

    /// Replaces the set of bridges (keeping the MAC tables of those that stay) and rebuilds the
    /// index. Returns the bridges whose configuration changed.
    pub fn publish(&self, configs: Vec<BridgeConfig>, aging: &dyn Fn(&str) -> (std::time::Duration, usize)) -> Vec<String> {
        let mut changed = Vec::new();
        let mut bridges = self.bridges.write().unwrap_or_else(|p| p.into_inner());
        let mut next = BTreeMap::new();
        let mut moved = Vec::new();
        for cfg in configs {
            let name = cfg.name.clone();
            let (age, size) = aging(&name);
            let br = match bridges.remove(&name) {
                Some(b) => {
                    let old = b.config();
                    {
                        let mut m = b.macs.lock().unwrap_or_else(|p| p.into_inner());
                        m.aging = age;
                        m.max = size.max(1);
                        for (ofp, p) in &old.ports {
                            if cfg.ports.get(ofp).map(|n| (&n.name, &n.vlan)) != Some((&p.name, &p.vlan)) {
                                m.flush_port(*ofp);
                            }
                        }
                    }
                    let (from, to) = (old.dp_type.0, cfg.dp_type.0);
                    if b.set_config(cfg) {
                        changed.push(name.clone());
                    }
                    if from != to {
                        moved.push((b.clone(), from, to));
                    }
                    b
                }
                None => {
                    changed.push(name.clone());
                    Arc::new(Bridge::new(cfg, MacTable::new(age, size)))
                }
            };
            next.insert(name, br);
        }
        changed.extend(bridges.keys().cloned());
        let removed: Vec<Arc<Bridge>> = bridges.values().cloned().collect();
        *bridges = next;
        crate::patch::link(&bridges);
        let mut index = crate::pipeline::classifier::FastMap::default();
        for b in bridges.values() {
            let c = b.config();
            for p in c.ports.values().filter(|p| p.dp_port != NO_DP_PORT && !c.tunnels.contains_key(&p.ofport)) {
                index.insert((c.dp_type, p.dp_port), b.clone());
            }
        }
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        drop(bridges);
        for b in removed {
            crate::pipeline::meters::release(self, &b);
        }
        for (b, from, to) in moved {
            crate::pipeline::meters::move_datapath(self, &b, from, to);
        }
        changed
    }
}

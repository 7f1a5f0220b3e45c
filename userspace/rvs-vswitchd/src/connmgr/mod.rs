//! The OpenFlow side of the daemon (Open vSwitch's connmgr): per bridge, the connections to
//! its controllers and the management socket, what each connection may do and receive, and
//! the bridge's fail mode.
//!
//! - [`settings`]: datapath id, descriptions, versions and controllers from the configuration;
//! - [`service`]: listener and connection threads; [`session`]: request handling;
//!   [`shared`]: what a bridge's connections share (roles, asynchronous message fan-out);
//! - [`ports`]: port descriptions, statistics and port-status;
//! - [`backend`]: the pipeline as the connection manager drives it;
//! - [`failopen`]: when a standalone bridge falls back to NORMAL;
//! - [`inband`]: the hidden rules of in-band control;
//! - [`status`]: the `Controller` and `Bridge` columns written back.
//!
//! [`ConnMgrs::reconcile`] runs after every reconciliation of the bridges: it starts a manager
//! for each new bridge, updates the settings of existing ones (restarting only connections
//! whose settings changed) and stops those of removed bridges. [`ConnMgrs::tick`] runs from the
//! main loop (every 200 ms at most) for port-status, fail-open and in-band control.

pub mod backend;
pub mod failopen;
pub mod inband;
pub mod pipeline_backend;
pub mod ports;
pub mod service;
pub mod session;
pub mod settings;
pub mod shared;
pub mod status;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rvs_dpif::{DatapathType, PortNo, VportStats};
use rvs_ofconn::Target;

use self::backend::Backend;
use self::pipeline_backend::PipelineBackend;
use self::failopen::FailOpen;
use self::service::{Runner, RunnerSpec};
use self::settings::Settings;
use self::shared::Shared;
use crate::bridge::Vswitchd;
use crate::config::Config;

/// One bridge's connection manager.
pub struct BridgeMgr {
    /// Shared state.
    pub shared: Arc<Shared>,
    runners: BTreeMap<String, Runner>,
    failopen: FailOpen,
    inband: inband::InBand,
    last_ports: Instant,
    miss_to_controller: Option<bool>,
}

impl std::fmt::Debug for BridgeMgr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BridgeMgr({})", self.shared.name)
    }
}

/// The connection managers of all bridges.
pub struct ConnMgrs {
    vs: Weak<Vswitchd>,
    run_dir: PathBuf,
    bridges: Mutex<BTreeMap<String, BridgeMgr>>,
}

impl std::fmt::Debug for ConnMgrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnMgrs({})", self.run_dir.display())
    }
}

/// Datapath counters of `ty`'s ports.
fn dp_stats(vs: &Weak<Vswitchd>, ty: DatapathType) -> HashMap<PortNo, VportStats> {
    let Some(vs) = vs.upgrade() else { return HashMap::new() };
    let Some(bk) = vs.backer(ty) else { return HashMap::new() };
    let list = bk.dpif.lock().unwrap_or_else(|p| p.into_inner()).port_list();
    match list {
        Ok(l) => l.into_iter().filter_map(|p| Some((p.port_no, p.stats?))).collect(),
        Err(e) => {
            crate::warn!("connmgr", "reading port statistics of {}: {e}", bk.name);
            HashMap::new()
        }
    }
}

/// A stable locally administered MAC for a bridge whose local port has none.
fn fallback_mac(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let b = h.to_be_bytes();
    format!("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[3], b[4], b[5], b[6], b[7])
}

/// The runners `s` calls for, keyed by controller row (`""` for the management socket).
fn wanted_runners(s: &Settings) -> (BTreeMap<String, RunnerSpec>, Vec<(String, String)>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    out.insert(
        String::new(),
        RunnerSpec { target: Target::Punix(s.mgmt.clone()), controller: None, versions: s.versions.clone(), tls: None },
    );
    for c in &s.controllers {
        match &c.target {
            Ok(t) => {
                out.insert(
                    c.uuid.clone(),
                    RunnerSpec { target: t.clone(), controller: Some(c.clone()), versions: s.versions.clone(), tls: s.tls.clone() },
                );
            }
            Err(e) => errors.push((c.uuid.clone(), e.clone())),
        }
    }
    (out, errors)
}

impl ConnMgrs {
    /// Managers for the bridges of `vs`; management sockets go to `run_dir`.
    pub fn new(vs: &Arc<Vswitchd>, run_dir: PathBuf) -> ConnMgrs {
        ConnMgrs { vs: Arc::downgrade(vs), run_dir, bridges: Mutex::new(BTreeMap::new()) }
    }

    fn backend_for(&self, switch: &Arc<crate::ofproto::Switch>, bridge: &str) -> Arc<dyn Backend> {
        Arc::new(PipelineBackend::new(switch.clone(), bridge))
    }

    /// Starts, updates and stops managers to match `cfg` (after the bridges were reconciled).
    pub fn reconcile(&self, cfg: &Config) {
        let Some(vs) = self.vs.upgrade() else { return };
        let mut bridges = self.bridges.lock().unwrap_or_else(|p| p.into_inner());
        let mut keep = BTreeMap::new();
        for b in &cfg.bridges {
            let mac = crate::netdev::status(&b.name).map(|d| d.mac).filter(|m| !m.is_empty() && m != "00:00:00:00:00:00");
            let mac = mac.unwrap_or_else(|| fallback_mac(&b.name));
            let s = Settings::new(b, Some(&mac), cfg.ssl.as_ref(), &self.run_dir);
            let mut m = match bridges.remove(&b.name) {
                Some(m) => {
                    let old = m.shared.settings();
                    if *old != s {
                        for w in s.warnings.iter().filter(|w| !old.warnings.contains(w)) {
                            crate::warn!("connmgr", "bridge {}: {w}", b.name);
                        }
                        *m.shared.settings.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s.clone());
                    }
                    m
                }
                None => {
                    for w in &s.warnings {
                        crate::warn!("connmgr", "bridge {}: {w}", b.name);
                    }
                    let weak = self.vs.clone();
                    let ty = b.dp_type;
                    let shared = Shared::new(vs.switch.clone(), self.backend_for(&vs.switch, &b.name), s.clone(), Box::new(move || dp_stats(&weak, ty)));
                    crate::info!("connmgr", "bridge {}: datapath id {:016x}, management socket {}", b.name, s.datapath_id, s.mgmt.display());
                    BridgeMgr { shared, runners: BTreeMap::new(), failopen: FailOpen::new(Instant::now()), inband: inband::InBand::new(&b.name), last_ports: Instant::now(), miss_to_controller: None }
                }
            };
            let (want, errors) = wanted_runners(&s);
            for (uuid, e) in errors {
                m.shared.set_status(&uuid, |st| {
                    st.last_error = Some(e.clone());
                    st.state = "VOID".into();
                });
            }
            m.runners.retain(|k, r| want.get(k) == Some(&r.spec));
            for (k, spec) in want {
                if m.runners.contains_key(&k) {
                    continue;
                }
                match service::start(&m.shared, spec.clone()) {
                    Ok(r) => {
                        m.runners.insert(k, r);
                    }
                    Err(e) => {
                        crate::warn!("connmgr", "bridge {}: {e}", b.name);
                        if let Some(c) = &spec.controller {
                            m.shared.set_status(&c.uuid, |st| st.last_error = Some(e.clone()));
                        }
                    }
                }
            }
            m.shared.status.lock().unwrap_or_else(|p| p.into_inner()).retain(|u, _| s.controllers.iter().any(|c| &c.uuid == u));
            m.shared.refresh_ports();
            keep.insert(b.name.clone(), m);
        }
        for (name, m) in std::mem::take(&mut *bridges) {
            crate::info!("connmgr", "bridge {name} removed: closing its OpenFlow connections");
            m.shared.stop.store(true, Ordering::Release);
        }
        *bridges = keep;
        drop(bridges);
        self.tick();
    }

    /// Periodic work: port-status for device changes (every second) and fail-open.
    pub fn tick(&self) {
        let now = Instant::now();
        let mut bridges = self.bridges.lock().unwrap_or_else(|p| p.into_inner());
        for m in bridges.values_mut() {
            if now.saturating_duration_since(m.last_ports) >= Duration::from_secs(1) {
                m.last_ports = now;
                m.shared.refresh_ports();
            }
            let s = m.shared.settings();
            let connected = m.shared.any_controller_connected();
            let of10 = m.shared.connections().iter().any(|c| c.controller.is_some() && c.state().version == rvs_openflow::Version::OF10);
            if m.miss_to_controller != Some(of10) {
                m.miss_to_controller = Some(of10);
                m.shared.backend.set_miss_to_controller(of10);
            }
            if let Some(on) = m.failopen.update(&s, connected, now) {
                if s.controllers.is_empty() {
                    crate::dbg_log!("connmgr", "bridge {}: default NORMAL flow {}", s.bridge, if on { "on" } else { "off" });
                } else if on {
                    crate::info!("connmgr", "bridge {}: no controller connected for {:?}: failing open (NORMAL)", s.bridge, failopen::trigger(&s));
                } else {
                    crate::info!("connmgr", "bridge {}: fail-open off ({:?}, controller connected: {connected})", s.bridge, s.fail_mode);
                }
                m.shared.backend.set_default_normal(on);
            }
            m.inband.configure_local(s.in_band_local.as_ref(), now);
            if let Some(rules) = m.inband.update(&s.in_band_remotes, now, &inband::System) {
                m.shared.backend.set_hidden_rules(rules);
            }
        }
    }

    /// The manager state of `bridge`.
    pub fn shared(&self, bridge: &str) -> Option<Arc<Shared>> {
        self.bridges.lock().unwrap_or_else(|p| p.into_inner()).get(bridge).map(|m| m.shared.clone())
    }

    /// Every bridge's shared state.
    pub fn all(&self) -> Vec<Arc<Shared>> {
        self.bridges.lock().unwrap_or_else(|p| p.into_inner()).values().map(|m| m.shared.clone()).collect()
    }

    /// Closes every connection and listener.
    pub fn shutdown(&self) {
        for (_, m) in std::mem::take(&mut *self.bridges.lock().unwrap_or_else(|p| p.into_inner())) {
            m.shared.stop.store(true, Ordering::Release);
        }
        // Listener threads notice within one accept poll and remove their sockets.
        std::thread::sleep(Duration::from_millis(300));
    }
}

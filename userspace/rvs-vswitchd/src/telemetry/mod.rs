//! Flow telemetry and ingress policing, configured per bridge / interface from the database:
//! NetFlow v5 export ([`netflow`]), sFlow v5 packet sampling and counter polling ([`sflow`]),
//! IPFIX export of sampled packets ([`ipfix`]), and `Interface.ingress_policing_rate/burst` as
//! datapath meters ([`police`]).
//!
//! [`Telemetry`] holds the live state. It sits in [`crate::ofproto::Switch`] so every upcall
//! handler and the revalidator reach it, and it is rebuilt from the database replica after each
//! reconciliation ([`reconfigure`]). The rest of the daemon calls it at four points:
//! - translation, once the pipeline has decided ([`Telemetry::xlate_finish`]): the policing
//!   meter and the sFlow `sample` action go in front of the actions, NetFlow's fields are
//!   un-wildcarded;
//! - the revalidator, for every dumped flow and at the end of each dump
//!   ([`Telemetry::flow_dumped`], [`Telemetry::dump_done`]): NetFlow expiry/active-timeout
//!   records, sFlow counter polling;
//! - the upcall handlers, for `userspace` action upcalls ([`Telemetry::action_upcall`]): sFlow
//!   packet samples;
//! - the backer, when it sets up its upcall sockets ([`Telemetry::set_upcall_pid`]): the
//!   netlink port the `userspace` action names.

pub mod ipfix;
pub mod netflow;
pub mod police;
pub mod sflow;

use crate::pipeline::classifier::FastMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use rvs_core::actions::{Action, ActionList};
use rvs_dpif::{DatapathType, Flow, Upcall};
use serde_json::{Map, Value};

use crate::config::{opt_int, opt_str, set_atoms, uuid_of, Config};
use crate::dbsync::Replica;
use crate::ofproto::{Bridge, BridgeConfig, DatapathTypeEq, Switch};
use crate::xlate::Xlate;

/// The `userspace` action's cookie of a sampling exporter: the exporter's two tag bytes (`A`, `B`), 2 zero bytes,
/// a 32-bit output value (big endian) — `sflow::Cookie` and `ipfix::Cookie` tell their upcalls apart by the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCookie<const A: u8, const B: u8> {
    /// The exporter's output value.
    pub output: u32,
}

impl<const A: u8, const B: u8> SampleCookie<A, B> {
    /// The 8 cookie bytes.
    pub fn encode(&self) -> [u8; 8] {
        let o = self.output.to_be_bytes();
        [A, B, 0, 0, o[0], o[1], o[2], o[3]]
    }

    /// Parses a cookie; `None` if it is not one with this tag.
    pub fn decode(b: &[u8]) -> Option<Self> {
        match b {
            [a, b, 0, 0, o0, o1, o2, o3] if *a == A && *b == B => Some(Self { output: u32::from_be_bytes([*o0, *o1, *o2, *o3]) }),
            _ => None,
        }
    }
}

/// Everything telemetry keeps at run time.
#[derive(Debug, Default)]
pub struct Telemetry {
    state: RwLock<State>,
    upcall_pids: RwLock<HashMap<DatapathTypeEq, u32>>,
    last_errors: std::sync::Mutex<Vec<String>>,
}

#[derive(Debug, Default)]
struct State {
    /// Bridge name → NetFlow exporter.
    netflow: FastMap<String, Arc<netflow::Exporter>>,
    /// Bridge name → sFlow agent.
    sflow: FastMap<String, Arc<sflow::Agent>>,
    /// Bridge name → IPFIX exporter.
    ipfix: FastMap<String, Arc<ipfix::Exporter>>,
    /// Policed datapath ports → meter.
    meters: police::Meters,
}

/// The telemetry configuration of one bridge as read from the database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeTelemetryCfg {
    /// The `NetFlow` row, if any.
    pub netflow: Option<netflow::NetflowCfg>,
    /// The `sFlow` row, if any.
    pub sflow: Option<sflow::SflowCfg>,
    /// The `IPFIX` row, if any.
    pub ipfix: Option<ipfix::IpfixCfg>,
}

fn row_ref<'a>(r: &'a Replica, row: &Map<String, Value>, col: &str, table: &str) -> Option<&'a Map<String, Value>> {
    set_atoms(row.get(col)).into_iter().find_map(uuid_of).and_then(|u| r.row(table, u))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    set_atoms(v).into_iter().filter_map(|a| a.as_str().map(str::to_string)).collect()
}

/// Reads the `NetFlow` / `sFlow` rows of the configured bridges, by bridge name.
pub fn read_bridges(r: &Replica, cfg: &Config) -> BTreeMap<String, BridgeTelemetryCfg> {
    let mut out = BTreeMap::new();
    for b in &cfg.bridges {
        let Some(row) = r.row("Bridge", &b.uuid) else { continue };
        let netflow = row_ref(r, row, "netflow", "NetFlow").map(|n| netflow::NetflowCfg {
            targets: strings(n.get("targets")),
            engine_type: opt_int(n.get("engine_type")).and_then(|v| u8::try_from(v).ok()).unwrap_or(0),
            engine_id: opt_int(n.get("engine_id")).and_then(|v| u8::try_from(v).ok()).unwrap_or(0),
            add_id_to_interface: n.get("add_id_to_interface").and_then(Value::as_bool).unwrap_or(false),
            active_timeout_s: match opt_int(n.get("active_timeout")).unwrap_or(0) {
                t if t < 0 => None,
                0 => Some(netflow::DEFAULT_ACTIVE_TIMEOUT_S),
                t => u64::try_from(t).ok(),
            },
        });
        let sflow = row_ref(r, row, "sflow", "sFlow").map(|s| sflow::SflowCfg {
            targets: strings(s.get("targets")),
            sampling: opt_int(s.get("sampling")).and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(sflow::DEFAULT_SAMPLING),
            polling_s: opt_int(s.get("polling")).and_then(|v| u64::try_from(v).ok()).unwrap_or(sflow::DEFAULT_POLLING_S),
            header: opt_int(s.get("header")).and_then(|v| usize::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(sflow::DEFAULT_HEADER),
            agent: opt_str(s.get("agent")).map(str::to_string),
        });
        let ipfix = row_ref(r, row, "ipfix", "IPFIX").map(|x| ipfix::IpfixCfg {
            targets: strings(x.get("targets")),
            sampling: opt_int(x.get("sampling")).and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(ipfix::DEFAULT_SAMPLING),
            obs_domain_id: opt_int(x.get("obs_domain_id")).and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
            obs_point_id: opt_int(x.get("obs_point_id")).and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        });
        out.insert(b.name.clone(), BridgeTelemetryCfg { netflow, sflow, ipfix });
    }
    out
}

/// Applies the database's telemetry and policing configuration; returns the problems that are
/// new since the last call (to log once).
pub fn reconfigure(vs: &crate::bridge::Vswitchd, r: &Replica, cfg: &Config) -> Vec<String> {
    let tel = &vs.switch.telemetry;
    let mut errors = Vec::new();
    let wanted = read_bridges(r, cfg);
    let now_ms = rvs_dpif::monotonic_ms();
    let mut st = tel.state.write().unwrap_or_else(|p| p.into_inner());
    let mut netflow = FastMap::default();
    let mut sflow = FastMap::default();
    let mut ipfix = FastMap::default();
    for (name, w) in &wanted {
        if let Some(n) = &w.netflow {
            let e = match st.netflow.get(name) {
                Some(e) if e.cfg == *n => e.clone(),
                _ => {
                    let (e, errs) = netflow::Exporter::new(n.clone(), now_ms);
                    errors.extend(errs.into_iter().map(|m| format!("bridge {name}: {m}")));
                    crate::info!("telemetry", "bridge {name}: NetFlow v5 to {}", n.targets.join(", "));
                    Arc::new(e)
                }
            };
            netflow.insert(name.clone(), e);
        }
        if let Some(s) = &w.sflow {
            let a = match st.sflow.get(name) {
                Some(a) if a.cfg == *s => a.clone(),
                _ => {
                    let (a, errs) = sflow::Agent::new(s.clone());
                    errors.extend(errs.into_iter().map(|m| format!("bridge {name}: {m}")));
                    crate::info!("telemetry", "bridge {name}: sFlow 1/{} to {}", s.sampling, s.targets.join(", "));
                    Arc::new(a)
                }
            };
            sflow.insert(name.clone(), a);
        }
        if let Some(x) = &w.ipfix {
            let e = match st.ipfix.get(name) {
                Some(e) if e.cfg == *x => e.clone(),
                _ => {
                    let (e, errs) = ipfix::Exporter::new(x.clone());
                    errors.extend(errs.into_iter().map(|m| format!("bridge {name}: {m}")));
                    crate::info!("telemetry", "bridge {name}: IPFIX 1/{} to {} (domain {}, point {})", x.sampling, x.targets.join(", "), x.obs_domain_id, x.obs_point_id);
                    Arc::new(e)
                }
            };
            ipfix.insert(name.clone(), e);
        }
    }
    let names = |m: &FastMap<String, Arc<netflow::Exporter>>| m.keys().cloned().collect::<std::collections::BTreeSet<_>>();
    let changed = names(&st.netflow) != names(&netflow)
        || st.sflow.iter().any(|(n, a)| sflow.get(n).is_none_or(|b| !Arc::ptr_eq(a, b)))
        || sflow.len() != st.sflow.len()
        || st.ipfix.iter().any(|(n, a)| ipfix.get(n).is_none_or(|b| !Arc::ptr_eq(a, b)))
        || ipfix.len() != st.ipfix.len();
    st.netflow = netflow;
    st.sflow = sflow;
    st.ipfix = ipfix;
    let meters = police::reconcile(vs, r, cfg, &st.meters, &mut errors);
    let changed = changed || meters != st.meters;
    st.meters = meters;
    drop(st);
    if changed {
        // Flows translated before the change lack (or still carry) the telemetry actions.
        for b in vs.switch.bridges() {
            b.bump_generation();
        }
    }
    let mut last = tel.last_errors.lock().unwrap_or_else(|p| p.into_inner());
    let new = errors.iter().filter(|e| !last.contains(e)).cloned().collect();
    *last = errors;
    new
}

/// The datapath ports a flow's top-level actions output to.
fn outputs(actions: &[u8]) -> Vec<u32> {
    ActionList(actions).iter().filter_map(|a| match a {
        Ok(Action::Output(p)) => Some(p),
        _ => None,
    }).collect()
}

impl Telemetry {
    /// Records the netlink port `userspace` actions of the `ty` datapath send to.
    pub fn set_upcall_pid(&self, ty: DatapathType, pid: Option<u32>) {
        let mut g = self.upcall_pids.write().unwrap_or_else(|p| p.into_inner());
        match pid {
            Some(p) => g.insert(DatapathTypeEq(ty), p),
            None => g.remove(&DatapathTypeEq(ty)),
        };
    }

    /// The netlink port `userspace` actions of the `ty` datapath send to, once known.
    pub fn upcall_pid(&self, ty: DatapathType) -> Option<u32> {
        self.upcall_pids.read().unwrap_or_else(|p| p.into_inner()).get(&DatapathTypeEq(ty)).copied()
    }

    /// Completes a translation: un-wildcards NetFlow's fields, puts the input port's policing
    /// meter and the bridge's sFlow `sample` action in front of the actions.
    pub fn xlate_finish(&self, ty: DatapathType, br: &Bridge, cfg: &BridgeConfig, x: &mut Xlate) {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        if st.netflow.contains_key(&br.name) {
            let flow = x.flow;
            netflow::Exporter::mask_fields(&mut x.wc, &flow);
        }
        let in_port = x.flow.in_port();
        let mut prefix = crate::odp::ActionBuf::default();
        if let Some(&(id, _)) = st.meters.get(&(DatapathTypeEq(ty), in_port)) {
            prefix.push(&Action::Meter(id));
            x.note(|| format!("ingress policing: meter({id})"));
        }
        if let Some(a) = st.sflow.get(&br.name) {
            let pid = self.upcall_pids.read().unwrap_or_else(|p| p.into_inner()).get(&DatapathTypeEq(ty)).copied();
            if let Some(pid) = pid {
                let outs = outputs(x.actions.bytes());
                let out_if = sflow::output_ifindex(&outs.iter().filter_map(|p| cfg.port_by_dp(*p).map(|o| o.name.as_str())).collect::<Vec<_>>());
                a.push_sample_action(&mut prefix, pid, out_if);
                x.note(|| format!("sFlow: sample 1/{}", a.cfg.sampling));
            }
        }
        if let Some(e) = st.ipfix.get(&br.name) {
            let pid = self.upcall_pids.read().unwrap_or_else(|p| p.into_inner()).get(&DatapathTypeEq(ty)).copied();
            if let Some(pid) = pid {
                let outs = outputs(x.actions.bytes());
                let out = match outs.as_slice() {
                    [p] => cfg.by_dp.get(p).copied().unwrap_or(ipfix::OUT_NONE),
                    _ => ipfix::OUT_NONE,
                };
                e.push_sample_action(&mut prefix, pid, out);
                x.note(|| format!("IPFIX: sample 1/{}", e.cfg.sampling));
            }
        }
        if !prefix.bytes().is_empty() {
            x.actions.prepend(prefix.bytes());
        }
    }

    /// Whether revalidator dumps must carry whole flows (NetFlow reports keys and actions of
    /// every flow; otherwise terse dumps do).
    pub fn wants_full_dumps(&self) -> bool {
        !self.state.read().unwrap_or_else(|p| p.into_inner()).netflow.is_empty()
    }

    /// Reports one dumped flow of the `ty` datapath (`deleted`: the revalidator is removing it).
    pub fn flow_dumped(&self, ty: DatapathType, sw: &Switch, f: &Flow, deleted: bool, now_ms: u64) {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        if st.netflow.is_empty() {
            return;
        }
        let Ok((key, _)) = crate::odp::decode_flow(f) else { return };
        let Some(br) = sw.bridge_of(ty, key.in_port()) else { return };
        let Some(e) = st.netflow.get(&br.name) else { return };
        let cfg = br.config();
        let outs = outputs(&f.actions);
        let out = match outs.as_slice() {
            [] => netflow::OUT_DROP,
            [p] => cfg.port_by_dp(*p).and_then(|o| u16::try_from(o.ofport).ok()).unwrap_or(netflow::OUT_MULTI),
            _ => netflow::OUT_MULTI,
        };
        let id = f.ufid.map_or_else(|| f.key.clone(), |u| u.to_vec());
        e.flow(&netflow::FlowReport {
            id: &id,
            key: &key,
            in_ofport: cfg.by_dp.get(&key.in_port()).copied().unwrap_or(0),
            out_ofport: out,
            packets: f.stats.n_packets,
            bytes: f.stats.n_bytes,
            tcp_flags: f.stats.tcp_flags,
            used_ms: f.stats.used_ms,
            now_ms,
            deleted,
        });
    }

    /// Accounts the packet of a miss (executed by the handler, so not in the flow's datapath
    /// counters) to the flow `ufid` that was installed for it.
    pub fn miss_packet(&self, ty: DatapathType, sw: &Switch, key: &rvs_core::key::FlowKey, ufid: &[u8; 16], len: usize) {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        if st.netflow.is_empty() {
            return;
        }
        let Some(br) = sw.bridge_of(ty, key.in_port()) else { return };
        if let Some(e) = st.netflow.get(&br.name) {
            e.miss_packet(key, ufid, len as u64, rvs_dpif::monotonic_ms());
        }
    }

    /// Ends a revalidation dump of the `ty` datapath: sends queued NetFlow records and due
    /// sFlow counter samples.
    pub fn dump_done(&self, ty: DatapathType, sw: &Switch) {
        let now_ms = rvs_dpif::monotonic_ms();
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        for e in st.netflow.values() {
            e.dump_done(now_ms);
        }
        for (name, a) in &st.sflow {
            let Some(br) = sw.bridge(name) else { continue };
            let cfg = br.config();
            if cfg.dp_type.0 == ty {
                a.poll_counters(&cfg, now_ms);
            }
        }
    }

    /// Handles a `userspace` action upcall (an sFlow or IPFIX sample); other upcalls are ignored.
    pub fn action_upcall(&self, ty: DatapathType, sw: &Switch, up: &Upcall) {
        if let Some(c) = up.userdata.as_deref().and_then(ipfix::Cookie::decode) {
            let Ok(key) = rvs_core::ovs::key_nl::decode_key(&up.key) else { return };
            let Some(br) = sw.bridge_of(ty, key.in_port()) else { return };
            let st = self.state.read().unwrap_or_else(|p| p.into_inner());
            let Some(e) = st.ipfix.get(&br.name) else { return };
            let cfg = br.config();
            let in_port = cfg.by_dp.get(&key.in_port()).copied().unwrap_or(0);
            e.packet_sample(&up.packet, up.len, in_port, c.output);
            return;
        }
        let Some(cookie) = up.userdata.as_deref().and_then(sflow::Cookie::decode) else { return };
        let Ok(key) = rvs_core::ovs::key_nl::decode_key(&up.key) else { return };
        let Some(br) = sw.bridge_of(ty, key.in_port()) else { return };
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let Some(a) = st.sflow.get(&br.name) else { return };
        let cfg = br.config();
        let in_if = cfg.port_by_dp(key.in_port()).map_or(0, |p| sflow::ifindex(&p.name));
        a.packet_sample(&up.packet, up.len, in_if, cookie.output);
    }
}

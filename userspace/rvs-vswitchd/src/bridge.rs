//! Reconciliation: makes datapaths, datapath ports and the bridges' run-time state match the
//! configuration, idempotently (run after every database change and every two seconds, so
//! devices that appear later get attached), and computes the status columns to write back.
//!
//! - One datapath per datapath type ([`crate::upcall::Backer`]), created when the first bridge
//!   of that type appears and deleted with the last one.
//! - Interfaces → datapath ports: `""`/`system` (an existing device), `internal` (a device the
//!   datapath creates; the one named after its bridge is the bridge's local port), `tap` (a
//!   persistent tap rvs creates). A port whose device or type changed is re-added; ports no
//!   bridge wants are removed. `patch` interfaces get an OpenFlow port but no datapath port
//!   ([`crate::patch`]); a port with several interfaces is a bond ([`crate::bond`]: member
//!   carriers are re-read on every pass); mirrors are resolved to bundles ([`crate::mirror`]).
//!   GRE interfaces share one `gre` datapath port ([`crate::tunnel`]).
//! - OpenFlow port numbers are stable: kept while the interface exists, else `ofport_request`,
//!   else the number recorded in the database (so a restart keeps them), else the lowest free.
//! - Status: `ofport` (-1 on failure), `ifindex`, `mac_in_use`, `admin_state`, `link_state`,
//!   `mtu`, `error`; then `cur_cfg` = `next_cfg` in the same transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rvs_dpif::{DatapathType, PortNo, PortSpec, PortType};
use serde_json::{json, Value};

use crate::bond::{Bond, BondState};
use crate::config::{set_atoms, BridgeCfg, Config, IfaceCfg, PortCfg};
use crate::mirror::Mirror;
use crate::dbsync::Replica;
use crate::mac_learning;
use crate::ofproto::{BridgeConfig, DatapathTypeEq, OfPort, Switch, NO_DP_PORT, OFPP_LOCAL};
use crate::upcall::{Backer, DEFAULT_MAX_IDLE_MS};
use crate::{netdev, patch, tunnel};

/// What happened to one interface.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfaceStatus {
    /// OpenFlow port, or -1.
    pub ofport: i64,
    /// Why the interface is not working.
    pub error: Option<String>,
    /// Device status, when the device exists.
    pub dev: Option<netdev::DevStatus>,
}

fn ty_key(t: DatapathType) -> u8 {
    match t {
        DatapathType::System => 0,
        DatapathType::Userspace => 1,
    }
}

/// The daemon's switch state: bridges, datapaths, and what reconciliation remembers.
pub struct Vswitchd {
    /// Bridges as translation sees them.
    pub switch: Arc<Switch>,
    /// Datapaths by type.
    pub backers: Mutex<BTreeMap<u8, Arc<Backer>>>,
    ofports: Mutex<HashMap<(String, String), u32>>,
    taps: Mutex<BTreeSet<String>>,
    bonds: Mutex<BondState>,
    logged: Mutex<BTreeSet<String>>,
    n_handlers: usize,
    /// Set by `exit` / SIGTERM.
    pub exiting: AtomicBool,
    /// `exit --cleanup`: delete the datapaths on the way out.
    pub cleanup: AtomicBool,
}

impl Vswitchd {
    /// A daemon with `n_handlers` upcall handler threads per datapath.
    pub fn new(n_handlers: usize) -> Vswitchd {
        Vswitchd {
            switch: Arc::new(Switch::new()),
            backers: Mutex::new(BTreeMap::new()),
            ofports: Mutex::new(HashMap::new()),
            taps: Mutex::new(BTreeSet::new()),
            bonds: Mutex::new(BondState::default()),
            logged: Mutex::new(BTreeSet::new()),
            n_handlers,
            exiting: AtomicBool::new(false),
            cleanup: AtomicBool::new(false),
        }
    }

    /// The backer of type `ty`.
    pub fn backer(&self, ty: DatapathType) -> Option<Arc<Backer>> {
        self.backers.lock().unwrap_or_else(|p| p.into_inner()).get(&ty_key(ty)).cloned()
    }

    /// All backers.
    pub fn all_backers(&self) -> Vec<Arc<Backer>> {
        self.backers.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Applies `cfg`; returns each interface's status by row UUID.
    pub fn reconcile(&self, cfg: &Config) -> BTreeMap<String, IfaceStatus> {
        let mut status: BTreeMap<String, IfaceStatus> = BTreeMap::new();
        self.switch.set_flow_limit(cfg.other_config.get("flow-limit").and_then(|v| v.parse().ok()).unwrap_or(0));
        for bk in self.all_backers() {
            bk.apply_flow_limit(self.switch.flow_limit());
        }
        let types: BTreeSet<u8> = cfg.bridges.iter().map(|b| ty_key(b.dp_type)).collect();
        // Datapaths for the types in use.
        let mut dp_errors: HashMap<u8, String> = HashMap::new();
        for b in &cfg.bridges {
            let k = ty_key(b.dp_type);
            if self.backer(b.dp_type).is_some() || dp_errors.contains_key(&k) {
                continue;
            }
            match Backer::open(b.dp_type, self.switch.clone(), self.n_handlers) {
                Ok(bk) => {
                    self.backers.lock().unwrap_or_else(|p| p.into_inner()).insert(k, bk);
                }
                Err(e) => {
                    crate::err!("bridge", "cannot open the {} datapath: {e}", crate::upcall::type_name(b.dp_type));
                    dp_errors.insert(k, format!("could not open datapath: {e}"));
                }
            }
        }
        let patches = patch::resolve(cfg);
        let mut tunnels: BTreeMap<String, tunnel::Tunnel> = BTreeMap::new();
        // Which bridge wants which device, per datapath.
        let mut wanted: BTreeMap<u8, BTreeMap<String, (PortType, &IfaceCfg)>> = BTreeMap::new();
        for b in &cfg.bridges {
            let k = ty_key(b.dp_type);
            for p in &b.ports {
                if let Some(w) = &p.vlan_warning {
                    crate::dbg_log!("bridge", "port {}: {w}", p.name);
                }
                for (n, i) in p.interfaces.iter().enumerate() {
                    let err = |m: String| IfaceStatus { ofport: -1, error: Some(m), dev: None };
                    if let Some(e) = dp_errors.get(&k) {
                        status.insert(i.uuid.clone(), err(e.clone()));
                        continue;
                    }
                    let _ = n;
                    if i.ty == "patch" {
                        if p.interfaces.len() > 1 {
                            status.insert(i.uuid.clone(), err(format!("{}: a patch port cannot be a bond member", i.name)));
                        } else if let Some(Err(e)) = patches.get(&i.uuid) {
                            status.insert(i.uuid.clone(), err(e.clone()));
                        }
                        continue;
                    }
                    if i.ty == "gre" {
                        match gre_tunnel(b, p, i, &tunnels) {
                            Ok(t) => {
                                tunnels.insert(i.uuid.clone(), t);
                                wanted.entry(k).or_default().entry(tunnel::GRE_DP_PORT_NAME.to_string()).or_insert((PortType::Gre, i));
                            }
                            Err(e) => {
                                status.insert(i.uuid.clone(), err(format!("{}: {e}", i.name)));
                            }
                        }
                        continue;
                    }
                    let pt = match i.ty.as_str() {
                        "" | "system" | "tap" => PortType::Netdev,
                        "internal" => PortType::Internal,
                        other => {
                            status.insert(i.uuid.clone(), err(format!("interface type \"{other}\" is not supported yet")));
                            continue;
                        }
                    };
                    if wanted.values().any(|m| m.contains_key(&i.name)) {
                        status.insert(i.uuid.clone(), err(format!("{} is already a port of another bridge", i.name)));
                        continue;
                    }
                    if i.ty == "tap" {
                        if let Err(e) = netdev::create_tap(&i.name) {
                            status.insert(i.uuid.clone(), err(e));
                            continue;
                        }
                        self.taps.lock().unwrap_or_else(|p| p.into_inner()).insert(i.name.clone());
                    } else if pt == PortType::Netdev && !netdev::exists(&i.name) {
                        status.insert(i.uuid.clone(), err(format!("could not open network device {} (No such device)", i.name)));
                        continue;
                    }
                    wanted.entry(k).or_default().insert(i.name.clone(), (pt, i));
                }
            }
        }
        // Datapath ports.
        let mut dp_ports: BTreeMap<u8, BTreeMap<String, PortNo>> = BTreeMap::new();
        for (k, bk) in self.backers.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            let want = wanted.remove(&k).unwrap_or_default();
            let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
            let existing = match d.port_list() {
                Ok(l) => l,
                Err(e) => {
                    crate::err!("bridge", "listing ports of {}: {e}", bk.name);
                    continue;
                }
            };
            let mut have = BTreeMap::new();
            for p in existing {
                if p.port_no == rvs_dpif::LOCAL_PORT {
                    continue;
                }
                let keep = want.get(&p.name).is_some_and(|(t, _)| *t == p.port_type);
                if keep {
                    have.insert(p.name.clone(), p.port_no);
                    continue;
                }
                match d.port_del(p.port_no) {
                    Ok(()) => crate::info!("bridge", "{}: removed port {} ({})", bk.name, p.name, p.port_no),
                    Err(e) => crate::warn!("bridge", "{}: removing port {}: {e}", bk.name, p.name),
                }
                if !want.contains_key(&p.name) && self.taps.lock().unwrap_or_else(|p| p.into_inner()).remove(&p.name) {
                    let _ = netdev::delete_tap(&p.name);
                }
            }
            for (name, (pt, i)) in &want {
                if have.contains_key(name) {
                    continue;
                }
                let spec = PortSpec { name: name.clone(), port_type: *pt, port_no: None, dst_port: None };
                match d.port_add(&spec) {
                    Ok(no) => {
                        crate::info!("bridge", "{}: added {} port {name} as {no}", bk.name, pt);
                        have.insert(name.clone(), no);
                    }
                    Err(e) => {
                        crate::warn!("bridge", "{}: adding port {name}: {e}", bk.name);
                        status.insert(i.uuid.clone(), IfaceStatus { ofport: -1, error: Some(format!("could not add network device {name} to {}: {e}", bk.name)), dev: None });
                    }
                }
            }
            // Internal ports stay down until the administrator configures them, as in OVS.
            dp_ports.insert(k, have);
        }
        // Bridges' run-time configuration.
        let mut configs = Vec::new();
        let mut ofmap = self.ofports.lock().unwrap_or_else(|p| p.into_inner());
        let mut next_ofmap = HashMap::new();
        let mut bond_keys = BTreeSet::new();
        for b in &cfg.bridges {
            let ports = dp_ports.get(&ty_key(b.dp_type));
            let mut bc = BridgeConfig {
                name: b.name.clone(),
                dp_type: DatapathTypeEq(b.dp_type),
                fail_mode: b.fail_mode,
                max_idle_ms: other_u64(b, "max-idle").unwrap_or(DEFAULT_MAX_IDLE_MS),
                forward_bpdu: b.other_config.get("forward-bpdu").is_some_and(|v| v == "true"),
                ..Default::default()
            };
            let members: Vec<(&PortCfg, &IfaceCfg, PortNo)> = b
                .ports
                .iter()
                .flat_map(|p| p.interfaces.iter().map(move |i| (p, i)))
                .filter_map(|(p, i)| {
                    if status.contains_key(&i.uuid) {
                        return None;
                    }
                    if i.ty == "patch" {
                        return Some((p, i, NO_DP_PORT));
                    }
                    if i.ty == "gre" {
                        return Some((p, i, *ports?.get(tunnel::GRE_DP_PORT_NAME)?));
                    }
                    Some((p, i, *ports?.get(&i.name)?))
                })
                .collect();
            let assigned = assign_ofports(b, &members.iter().map(|(_, i, _)| *i).collect::<Vec<_>>(), &ofmap);
            for (p, i, dp) in members {
                let Some(&ofport) = assigned.get(&i.name) else {
                    status.insert(i.uuid.clone(), IfaceStatus { ofport: -1, error: Some("no free OpenFlow port number".into()), dev: None });
                    continue;
                };
                next_ofmap.insert((b.name.clone(), i.name.clone()), ofport);
                if let Some(t) = tunnels.get(&i.uuid) {
                    bc.tunnels.insert(ofport, *t);
                } else if dp != NO_DP_PORT {
                    bc.by_dp.insert(dp, ofport);
                }
                if let Some(Ok(peer)) = patches.get(&i.uuid) {
                    bc.patches.insert(ofport, peer.clone());
                }
                bc.ports.insert(
                    ofport,
                    OfPort { ofport, name: i.name.clone(), port_name: p.name.clone(), dp_port: dp, iface_type: i.ty.clone(), vlan: p.vlan.clone() },
                );
                let dev = if matches!(i.ty.as_str(), "patch" | "gre") { None } else { netdev::status(&i.name) };
                status.insert(i.uuid.clone(), IfaceStatus { ofport: i64::from(ofport), error: None, dev });
            }
            self.bundles(b, &mut bc, &mut bond_keys);
            configs.push(bc);
        }
        *ofmap = next_ofmap;
        drop(ofmap);
        self.bonds.lock().unwrap_or_else(|p| p.into_inner()).retain(&bond_keys);
        self.switch.lacp.retain(&bond_keys);
        let aging = |name: &str| {
            let b = cfg.bridges.iter().find(|b| b.name == name);
            let age = b.and_then(|b| other_u64(b, "mac-aging-time")).map_or(mac_learning::DEFAULT_AGING, Duration::from_secs);
            let size = b.and_then(|b| other_u64(b, "mac-table-size")).map_or(mac_learning::DEFAULT_SIZE, |s| s as usize);
            (age, size)
        };
        let changed = self.switch.publish(configs, &aging);
        if !changed.is_empty() {
            crate::info!("bridge", "reconfigured bridges: {}", changed.join(", "));
        }
        // Datapaths no bridge uses any more.
        let unused: Vec<Arc<Backer>> = {
            let mut b = self.backers.lock().unwrap_or_else(|p| p.into_inner());
            let gone: Vec<u8> = b.keys().filter(|k| !types.contains(k)).copied().collect();
            gone.iter().filter_map(|k| b.remove(k)).collect()
        };
        for bk in unused {
            crate::info!("bridge", "no bridge uses datapath {} any more: deleting it", bk.name);
            bk.shutdown(true);
        }
        for bk in self.all_backers() {
            bk.kick();
        }
        status
    }

    /// Logs `msg` once (until it stops being reported: reconciliation runs every two seconds).
    fn warn_once(&self, now: &mut BTreeSet<String>, msg: String) {
        if !self.logged.lock().unwrap_or_else(|p| p.into_inner()).contains(&msg) {
            crate::warn!("bridge", "{msg}");
        }
        now.insert(msg);
    }

    /// Fills `bc`'s bonds (ports with several working interfaces) and mirrors from `b`, once its
    /// ports are in `bc.ports`. `keys` collects the bonds that exist.
    fn bundles(&self, b: &BridgeCfg, bc: &mut BridgeConfig, keys: &mut BTreeSet<(String, String)>) {
        let mut msgs = BTreeSet::new();
        let mut bundle_of_port: BTreeMap<&str, u32> = BTreeMap::new();
        let mut state = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        for p in &b.ports {
            let members: Vec<(u32, String)> = bc.ports.values().filter(|o| o.port_name == p.name).map(|o| (o.ofport, o.name.clone())).collect();
            if members.is_empty() {
                continue;
            }
            if p.interfaces.len() < 2 {
                bundle_of_port.insert(&p.uuid, members[0].0);
                continue;
            }
            let lacp_on = crate::lacp::configure_bond(&self.switch.lacp, b, p, bc, &members);
            let of_of = |n: &str| members.iter().find(|(_, m)| m == n).map_or(0, |(o, _)| *o);
            let usable = |n: &str| {
                netdev::status(n).is_some_and(|d| d.admin_up && d.link_up) && (!lacp_on || self.switch.lacp.may_enable(&b.name, &p.name, of_of(n)))
            };
            let (mut bond, warnings): (Bond, Vec<String>) = state.build(&b.name, p, &members, &usable);
            bond.lacp = lacp_on;
            for w in warnings {
                self.warn_once(&mut msgs, format!("bridge {}: bond {}: {w}", b.name, p.name));
            }
            let id = bond.id();
            for (o, _) in &bond.members {
                bc.bundle_of.insert(*o, id);
            }
            bundle_of_port.insert(&p.uuid, id);
            keys.insert((b.name.clone(), p.name.clone()));
            bc.bonds.insert(id, bond);
        }
        drop(state);
        for m in &b.mirrors {
            match Mirror::resolve(m, &|u| bundle_of_port.get(u).copied()) {
                Ok(m) => bc.mirrors.push(m),
                Err(e) => self.warn_once(&mut msgs, format!("bridge {}: {e}", b.name)),
            }
        }
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        logged.retain(|l| !l.starts_with(&format!("bridge {}: ", b.name)) || msgs.contains(l));
        logged.extend(msgs);
    }

    /// Stops every datapath's threads (deleting the datapaths with `exit --cleanup`).
    pub fn shutdown(&self) {
        let cleanup = self.cleanup.load(Ordering::Acquire);
        let all: Vec<Arc<Backer>> = std::mem::take(&mut *self.backers.lock().unwrap_or_else(|p| p.into_inner())).into_values().collect();
        for b in all {
            b.shutdown(cleanup);
        }
        if cleanup {
            for t in std::mem::take(&mut *self.taps.lock().unwrap_or_else(|p| p.into_inner())) {
                let _ = netdev::delete_tap(&t);
            }
        }
    }
}

/// The tunnel of GRE interface `i` (port `p` of bridge `b`), or why it cannot work; `seen` holds
/// the tunnels of the GRE interfaces accepted so far (two may not receive the same packets).
fn gre_tunnel(b: &BridgeCfg, p: &PortCfg, i: &IfaceCfg, seen: &BTreeMap<String, tunnel::Tunnel>) -> Result<tunnel::Tunnel, String> {
    if b.dp_type != DatapathType::System {
        return Err("GRE ports need the kernel datapath (datapath_type=system)".into());
    }
    if p.interfaces.len() > 1 {
        return Err("a GRE port cannot be a bond member".into());
    }
    let t = tunnel::Tunnel::from_options(&i.options)?;
    if seen.values().any(|o| o.remote == t.remote && o.key == t.key && (o.local.is_none() || t.local.is_none() || o.local == t.local)) {
        return Err(format!("another GRE port already has remote_ip {} and the same key", t.remote));
    }
    Ok(t)
}

fn other_u64(b: &BridgeCfg, k: &str) -> Option<u64> {
    b.other_config.get(k).and_then(|v| v.parse().ok())
}

/// OpenFlow numbers for a bridge's interfaces (see the module docs for the order of preference).
fn assign_ofports(b: &BridgeCfg, ifaces: &[&IfaceCfg], current: &HashMap<(String, String), u32>) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let mut used = BTreeSet::new();
    let mut pending = Vec::new();
    for i in ifaces {
        if i.name == b.name && i.ty == "internal" {
            out.insert(i.name.clone(), OFPP_LOCAL);
            continue;
        }
        match current.get(&(b.name.clone(), i.name.clone())) {
            Some(&o) if i.ofport_request.is_none_or(|r| r == o) && used.insert(o) => {
                out.insert(i.name.clone(), o);
            }
            _ => pending.push(*i),
        }
    }
    let mut rest = Vec::new();
    for i in pending {
        let candidates = [i.ofport_request, i.ofport_db.and_then(|o| u32::try_from(o).ok())];
        match candidates.into_iter().flatten().find(|o| (1..0xff00).contains(o) && !used.contains(o)) {
            Some(o) => {
                used.insert(o);
                out.insert(i.name.clone(), o);
            }
            None => rest.push(i),
        }
    }
    let mut next = 1u32;
    for i in rest {
        while used.contains(&next) {
            next += 1;
        }
        if next >= 0xff00 {
            break;
        }
        used.insert(next);
        out.insert(i.name.clone(), next);
    }
    out
}

fn opt_json<T: Into<Value>>(v: Option<T>) -> Value {
    match v {
        Some(x) => x.into(),
        None => json!(["set", []]),
    }
}

/// The transaction that writes `status` back and acknowledges `next_cfg` (empty if nothing
/// changed).
pub fn status_ops(cfg: &Config, replica: &Replica, status: &BTreeMap<String, IfaceStatus>) -> Vec<Value> {
    let mut ops = Vec::new();
    for (uuid, s) in status {
        let Some(row) = replica.row("Interface", uuid) else { continue };
        let dev = s.dev.as_ref();
        let want: [(&str, Value); 7] = [
            ("ofport", Value::from(s.ofport)),
            ("error", opt_json(s.error.clone())),
            ("ifindex", opt_json(dev.map(|d| d.ifindex))),
            ("mac_in_use", opt_json(dev.map(|d| d.mac.clone()).filter(|m| !m.is_empty()))),
            ("admin_state", opt_json(dev.map(|d| if d.admin_up { "up" } else { "down" }))),
            ("link_state", opt_json(dev.map(|d| if d.link_up { "up" } else { "down" }))),
            ("mtu", opt_json(dev.map(|d| d.mtu).filter(|m| *m > 0))),
        ];
        let mut upd = serde_json::Map::new();
        for (col, v) in want {
            if set_atoms(row.get(col)) != set_atoms(Some(&v)) {
                upd.insert(col.to_string(), v);
            }
        }
        if !upd.is_empty() {
            ops.push(json!({"op": "update", "table": "Interface", "where": [["_uuid", "==", ["uuid", uuid]]], "row": upd}));
        }
    }
    if let Some(root) = &cfg.root {
        if cfg.cur_cfg != cfg.next_cfg {
            ops.push(json!({"op": "update", "table": "Open_vSwitch", "where": [["_uuid", "==", ["uuid", root]]], "row": {"cur_cfg": cfg.next_cfg}}));
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, req: Option<u32>, db: Option<i64>) -> IfaceCfg {
        IfaceCfg { uuid: name.into(), name: name.into(), ty: String::new(), ofport_request: req, ofport_db: db, options: BTreeMap::new() }
    }

    #[test]
    fn ofport_assignment_is_stable() {
        let b = BridgeCfg {
            uuid: "b".into(),
            name: "br0".into(),
            dp_type: DatapathType::Userspace,
            fail_mode: Default::default(),
            has_controller: false,
            controllers: vec![],
            protocols: vec![],
            other_config: BTreeMap::new(),
            ports: vec![],
            mirrors: vec![],
        };
        let mut local = iface("br0", None, None);
        local.ty = "internal".into();
        let (a, c, d, e) = (iface("a", None, None), iface("c", Some(5), None), iface("d", None, Some(2)), iface("e", None, None));
        let cur = HashMap::from([(("br0".to_string(), "a".to_string()), 3u32)]);
        let got = assign_ofports(&b, &[&local, &a, &c, &d, &e], &cur);
        assert_eq!(got["br0"], OFPP_LOCAL);
        assert_eq!(got["a"], 3, "kept");
        assert_eq!(got["c"], 5, "requested");
        assert_eq!(got["d"], 2, "from the database (restart)");
        assert_eq!(got["e"], 1, "lowest free");
    }

    #[test]
    fn status_ops_only_for_changes() {
        let mut r = Replica::default();
        r.apply_update(&json!({
            "Open_vSwitch": {"root": {"new": {"next_cfg": 2, "cur_cfg": 1, "bridges": ["set", []]}}},
            "Interface": {"i1": {"new": {"name": "v1", "ofport": ["set", [4]], "error": ["set", []], "ifindex": 7, "mac_in_use": "00:00:00:00:00:01",
                "admin_state": "up", "link_state": "up", "mtu": 1500}}}
        }));
        let cfg = Config::from_replica(&r);
        let dev = netdev::DevStatus { ifindex: 7, mac: "00:00:00:00:00:01".into(), admin_up: true, link_up: true, mtu: 1500 };
        let st = BTreeMap::from([("i1".to_string(), IfaceStatus { ofport: 4, error: None, dev: Some(dev) })]);
        let ops = status_ops(&cfg, &r, &st);
        assert_eq!(ops.len(), 1, "only cur_cfg: {ops:?}");
        assert_eq!(ops[0]["row"]["cur_cfg"], 2);
        let st = BTreeMap::from([("i1".to_string(), IfaceStatus { ofport: -1, error: Some("boom".into()), dev: None })]);
        let ops = status_ops(&cfg, &r, &st);
        assert_eq!(ops[0]["row"]["ofport"], -1);
        assert_eq!(ops[0]["row"]["error"], "boom");
        assert_eq!(ops[0]["row"]["ifindex"], json!(["set", []]));
    }
}

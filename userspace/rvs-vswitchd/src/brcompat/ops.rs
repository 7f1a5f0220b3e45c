//! What each brctl request does to the configuration database: a fresh snapshot of the Bridge, Port and
//! Interface tables, the checks (the errno the Linux bridge gives for the same mistake), then ONE transaction
//! with `next_cfg += 1`; requests made outside rtnl then wait until the daemon has reconciled (`cur_cfg`), and
//! an `addif` whose interface the datapath refused is rolled back. Reads answer from the snapshot and the
//! bridges' MAC tables.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ovsdb::client::Client;
use serde_json::{json, Map, Value};

use super::wire::{self, BridgeInfo, FdbEntry, Op, PortInfo, Request};
use crate::bridge::Vswitchd;
use crate::dbsync::DB;
use crate::ofproto::OFPP_LOCAL;

/// Errno values returned to brctl.
mod errno {
    pub const EPERM: i32 = 1;
    pub const ENXIO: i32 = 6;
    pub const EIO: i32 = 5;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
    pub const ELOOP: i32 = 40;
    pub const EOPNOTSUPP: i32 = 95;
    pub const ETIMEDOUT: i32 = 110;
}

/// STP timers bridge-utils shows (the Linux bridge's defaults, in 1/100 s). rvs does not run STP: they are the
/// values a bridge would be configured with, reported so that `brctl showstp` prints sensible numbers.
const STP_MAX_AGE: u32 = 2000;
const STP_HELLO: u32 = 200;
const STP_FORWARD_DELAY: u32 = 1500;
/// rvs-vswitchd's MAC ageing default (seconds), as in `config.rs`.
const DEFAULT_AGEING_S: u64 = 300;
/// How much before the kernel's deadline the daemon stops waiting for reconciliation, to answer in time.
const ANSWER_MARGIN_MS: u64 = 500;

/// A failed request: errno for brctl and a message for the log.
#[derive(Debug)]
pub struct Failure {
    /// Positive errno.
    pub errno: i32,
    /// Why.
    pub msg: String,
}

fn fail(errno: i32, msg: impl Into<String>) -> Failure {
    Failure { errno, msg: msg.into() }
}

type Row = Map<String, Value>;

/// Bridges, ports and interfaces by name.
struct Snapshot {
    ovs_uuid: String,
    bridges: BTreeMap<String, Row>,
    ports: BTreeMap<String, Row>,
    ifaces: BTreeMap<String, Row>,
}

fn uuid_of(row: &Row) -> Option<&str> {
    row.get("_uuid").and_then(|u| u.get(1)).and_then(Value::as_str)
}

/// The UUIDs of a set-of-uuid column (`["uuid", U]` or `["set", [...]]`).
fn uuid_set(v: Option<&Value>) -> Vec<String> {
    let Some(v) = v.and_then(Value::as_array) else { return Vec::new() };
    match v.first().and_then(Value::as_str) {
        Some("uuid") => v.get(1).and_then(Value::as_str).map(|s| vec![s.to_string()]).unwrap_or_default(),
        Some("set") => v
            .get(1)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|e| e.get(1).and_then(Value::as_str).map(String::from)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn map_get(v: Option<&Value>, key: &str) -> Option<String> {
    let pairs = v?.as_array()?.get(1)?.as_array()?;
    pairs.iter().find(|p| p.get(0).and_then(Value::as_str) == Some(key)).and_then(|p| p.get(1)?.as_str().map(String::from))
}

fn int_of(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    v.as_i64().or_else(|| v.as_array().and_then(|a| a.get(1)?.as_array()?.first()?.as_i64()))
}

impl Snapshot {
    fn read(c: &Client) -> Result<Snapshot, Failure> {
        let sel = |t: &str| json!({"op": "select", "table": t, "where": []});
        let r = c
            .transact(DB, &[sel("Open_vSwitch"), sel("Bridge"), sel("Port"), sel("Interface")])
            .map_err(|e| fail(errno::EIO, format!("reading the database: {e}")))?;
        let rows = |i: usize| -> Vec<Row> {
            r.get(i)
                .and_then(|x| x.get("rows"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_object().cloned()).collect())
                .unwrap_or_default()
        };
        let by_name = |v: Vec<Row>| -> BTreeMap<String, Row> {
            v.into_iter().filter_map(|r| Some((r.get("name")?.as_str()?.to_string(), r))).collect()
        };
        let ovs = rows(0);
        let ovs_uuid = ovs.first().and_then(uuid_of).ok_or_else(|| fail(errno::EIO, "no Open_vSwitch row"))?.to_string();
        Ok(Snapshot { ovs_uuid, bridges: by_name(rows(1)), ports: by_name(rows(2)), ifaces: by_name(rows(3)) })
    }

    fn port_uuids(&self, br: &Row) -> Vec<String> {
        uuid_set(br.get("ports"))
    }

    /// The bridge (name) whose ports include the port named `port`.
    fn bridge_of_port(&self, port: &str) -> Option<&str> {
        let pu = uuid_of(self.ports.get(port)?)?;
        self.bridges.iter().find(|(_, b)| self.port_uuids(b).iter().any(|u| u == pu)).map(|(n, _)| n.as_str())
    }

    /// Non-local ports of a bridge: (name, ofport).
    fn bridge_ports(&self, br_name: &str) -> Vec<(String, i64)> {
        let Some(br) = self.bridges.get(br_name) else { return Vec::new() };
        let uuids = self.port_uuids(br);
        self.ports
            .iter()
            .filter(|(n, p)| *n != br_name && uuid_of(p).is_some_and(|u| uuids.iter().any(|x| x == u)))
            .map(|(n, _)| (n.clone(), self.ifaces.get(n).and_then(|i| int_of(i.get("ofport"))).unwrap_or(-1)))
            .collect()
    }
}

fn ifname(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has IF_NAMESIZE bytes, as if_indextoname requires; it writes a NUL-terminated name or fails.
    let p = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: On success `buf` holds a NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

fn ifindex(name: &str) -> u32 {
    let Ok(c) = std::ffi::CString::new(name) else { return 0 };
    // SAFETY: `c` is a valid NUL-terminated string for the call.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

fn dev_exists(name: &str) -> bool {
    ifindex(name) != 0
}

fn dev_is_up(name: &str) -> bool {
    std::fs::read_to_string(format!("/sys/class/net/{name}/flags"))
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok())
        .is_some_and(|f| f & 1 != 0)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() < 16 && name != "." && name != ".." && !name.contains(['/', ':']) && !name.contains(char::is_whitespace)
}

/// Commits `ops` plus `next_cfg += 1`; returns the new `next_cfg`.
fn commit(c: &Client, snap: &Snapshot, mut ops: Vec<Value>) -> Result<i64, Failure> {
    let ovs = json!(["uuid", snap.ovs_uuid]);
    ops.push(json!({"op": "mutate", "table": "Open_vSwitch", "where": [["_uuid", "==", ovs]], "mutations": [["next_cfg", "+=", 1]]}));
    ops.push(json!({"op": "select", "table": "Open_vSwitch", "where": [["_uuid", "==", ovs]], "columns": ["next_cfg"]}));
    let n = ops.len();
    let r = c.transact(DB, &ops).map_err(|e| fail(errno::EIO, format!("database transaction: {e}")))?;
    if let Some(e) = r.iter().find(|x| x.get("error").is_some_and(|e| !e.is_null())) {
        return Err(fail(errno::EIO, format!("database transaction failed: {e}")));
    }
    r.get(n - 1)
        .and_then(|x| x.get("rows")?.get(0)?.get("next_cfg")?.as_i64())
        .ok_or_else(|| fail(errno::EIO, "transaction result lacks next_cfg"))
}

/// Waits until the daemon has applied configuration `cfg`, at most until shortly before `deadline_ms`.
fn wait_reconciled(c: &Client, cfg: i64, deadline_ms: u64) -> Result<(), Failure> {
    let until = deadline_ms.saturating_sub(ANSWER_MARGIN_MS);
    loop {
        let r = c
            .transact(DB, &[json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["cur_cfg"]})])
            .map_err(|e| fail(errno::EIO, format!("reading cur_cfg: {e}")))?;
        let cur = r.first().and_then(|x| x.get("rows")?.get(0)?.get("cur_cfg")?.as_i64()).unwrap_or(0);
        if cur >= cfg {
            return Ok(());
        }
        if rvs_dpif::monotonic_ms() >= until {
            return Err(fail(errno::ETIMEDOUT, format!("configuration {cfg} committed but not applied in time (cur_cfg {cur})")));
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn bridge_where(br: &Row) -> Value {
    json!([["_uuid", "==", ["uuid", uuid_of(br).unwrap_or_default()]]])
}

/// Inserts port `name` (one interface of the same name, `iface_type`) into bridge `br`.
fn add_port_ops(br: &Row, name: &str, iface_type: &str) -> Vec<Value> {
    vec![
        json!({"op": "insert", "table": "Interface", "uuid-name": "i", "row": {"name": name, "type": iface_type}}),
        json!({"op": "insert", "table": "Port", "uuid-name": "p", "row": {"name": name, "interfaces": ["named-uuid", "i"]}}),
        json!({"op": "mutate", "table": "Bridge", "where": bridge_where(br), "mutations": [["ports", "insert", ["set", [["named-uuid", "p"]]]]]}),
    ]
}

fn del_port_ops(br: &Row, port: &Row) -> Vec<Value> {
    let pu = uuid_of(port).unwrap_or_default();
    vec![json!({"op": "mutate", "table": "Bridge", "where": bridge_where(br), "mutations": [["ports", "delete", ["set", [["uuid", pu]]]]]})]
}

/// Handles one request; returns the reply data.
pub fn handle(c: &Client, vs: &Vswitchd, req: &Request) -> Result<Vec<u8>, Failure> {
    let snap = Snapshot::read(c)?;
    let name = req.bridge.as_str();
    // A bridge request naming something that is not an rvs bridge: ENODEV if no such device, else "not a bridge".
    let bridge = || -> Result<&Row, Failure> {
        snap.bridges.get(name).ok_or_else(|| {
            if dev_exists(name) {
                fail(errno::EOPNOTSUPP, format!("{name} is not an rvs bridge"))
            } else {
                fail(errno::ENODEV, format!("bridge {name} does not exist"))
            }
        })
    };
    let port_name = || ifname(req.ifindex).ok_or_else(|| fail(errno::ENODEV, format!("no device with ifindex {}", req.ifindex)));
    match req.op {
        Op::AddBr => {
            if !valid_name(name) {
                return Err(fail(errno::EINVAL, format!("invalid bridge name {name:?}")));
            }
            if snap.bridges.contains_key(name) || snap.ports.contains_key(name) || snap.ifaces.contains_key(name) || dev_exists(name) {
                return Err(fail(errno::EEXIST, format!("{name} already exists")));
            }
            let ovs = json!(["uuid", snap.ovs_uuid]);
            let ops = vec![
                json!({"op": "insert", "table": "Interface", "uuid-name": "i", "row": {"name": name, "type": "internal"}}),
                json!({"op": "insert", "table": "Port", "uuid-name": "p", "row": {"name": name, "interfaces": ["named-uuid", "i"]}}),
                json!({"op": "insert", "table": "Bridge", "uuid-name": "b", "row": {"name": name, "ports": ["named-uuid", "p"]}}),
                json!({"op": "mutate", "table": "Open_vSwitch", "where": [["_uuid", "==", ovs]], "mutations": [["bridges", "insert", ["set", [["named-uuid", "b"]]]]]}),
            ];
            let cfg = commit(c, &snap, ops)?;
            wait_reconciled(c, cfg, req.deadline_ms)?;
            Ok(Vec::new())
        }
        Op::DelBr => {
            let Some(br) = snap.bridges.get(name) else {
                return Err(fail(errno::ENXIO, format!("bridge {name} does not exist")));
            };
            if dev_is_up(name) {
                return Err(fail(errno::EBUSY, format!("bridge {name} is still up")));
            }
            let ovs = json!(["uuid", snap.ovs_uuid]);
            let bu = uuid_of(br).unwrap_or_default();
            let ops = vec![json!({"op": "mutate", "table": "Open_vSwitch", "where": [["_uuid", "==", ovs]], "mutations": [["bridges", "delete", ["set", [["uuid", bu]]]]]})];
            let cfg = commit(c, &snap, ops)?;
            wait_reconciled(c, cfg, req.deadline_ms)?;
            Ok(Vec::new())
        }
        Op::AddIf | Op::AddSlave => {
            let br = bridge()?;
            let port = port_name()?;
            if snap.bridges.contains_key(&port) {
                return Err(fail(errno::ELOOP, format!("{port} is a bridge")));
            }
            if let Some(owner) = snap.bridge_of_port(&port) {
                if req.op == Op::AddSlave && owner == name {
                    return Ok(Vec::new());
                }
                return Err(fail(errno::EBUSY, format!("{port} is already a port of bridge {owner}")));
            }
            if snap.ports.contains_key(&port) || snap.ifaces.contains_key(&port) {
                return Err(fail(errno::EBUSY, format!("{port} is already in the database")));
            }
            let cfg = commit(c, &snap, add_port_ops(br, &port, ""))?;
            if req.op == Op::AddSlave {
                // Under rtnl: reconciliation (which needs rtnl) follows once `ip` returns.
                return Ok(Vec::new());
            }
            wait_reconciled(c, cfg, req.deadline_ms)?;
            // The datapath may refuse the device (loopback, not Ethernet...): undo, so nothing half-done stays.
            let after = Snapshot::read(c)?;
            let iface = after.ifaces.get(&port);
            let ofport = iface.and_then(|i| int_of(i.get("ofport"))).unwrap_or(-1);
            if ofport < 0 {
                let why = iface
                    .and_then(|i| i.get("error"))
                    .and_then(|e| e.as_str().map(String::from).or_else(|| e.get(1)?.as_array()?.first()?.as_str().map(String::from)))
                    .unwrap_or_else(|| "not attached".into());
                if let (Some(br), Some(p)) = (after.bridges.get(name), after.ports.get(&port)) {
                    let cfg = commit(c, &after, del_port_ops(br, p))?;
                    let _ = wait_reconciled(c, cfg, req.deadline_ms);
                }
                return Err(fail(errno::EINVAL, format!("{port} cannot be a port: {why}")));
            }
            Ok(Vec::new())
        }
        Op::DelIf | Op::DelSlave => {
            let port = port_name()?;
            let owner = snap.bridge_of_port(&port).map(String::from);
            let target = match (req.op, owner) {
                // `nomaster` goes to the device's current master (ovs-system for rvs ports): any bridge.
                (Op::DelSlave, None) => return Ok(Vec::new()),
                (Op::DelSlave, Some(o)) => o,
                (_, Some(o)) if o == name => o,
                _ => {
                    bridge()?;
                    return Err(fail(errno::EINVAL, format!("{port} is not a port of {name}")));
                }
            };
            let (Some(br), Some(p)) = (snap.bridges.get(&target), snap.ports.get(&port)) else {
                return Err(fail(errno::EIO, "database changed meanwhile"));
            };
            if port == target {
                return Err(fail(errno::EPERM, "the bridge's own port cannot be removed"));
            }
            let cfg = commit(c, &snap, del_port_ops(br, p))?;
            if req.op == Op::DelIf {
                wait_reconciled(c, cfg, req.deadline_ms)?;
            }
            Ok(Vec::new())
        }
        Op::GetBridges => {
            let max = usize::try_from(req.max).unwrap_or(0);
            let v: Vec<i32> =
                snap.bridges.keys().map(|n| i32::try_from(ifindex(n)).unwrap_or(0)).filter(|&i| i > 0).take(max).collect();
            Ok(wire::ints(&v))
        }
        Op::GetPortInfo => {
            bridge()?;
            let no = i64::from(req.offset);
            if !snap.bridge_ports(name).iter().any(|(_, o)| *o == no) {
                return Err(fail(errno::EINVAL, format!("{name} has no port {no}")));
            }
            // rvs forwards on every port (no STP): BR_STATE_FORWARDING.
            Ok(PortInfo { bridge_id: bridge_id(&snap, name), port_id: 0x8000 | (u16::try_from(no).unwrap_or(0) & 0x3ff), state: 3 }.encode())
        }
        Op::GetBridgeInfo => {
            let br = bridge()?;
            let ageing = map_get(br.get("other_config"), "mac-aging-time").and_then(|s| s.parse::<u64>().ok()).unwrap_or(DEFAULT_AGEING_S);
            let stp = br.get("stp_enable").and_then(Value::as_bool).unwrap_or(false);
            Ok(BridgeInfo {
                bridge_id: bridge_id(&snap, name),
                max_age: STP_MAX_AGE,
                hello_time: STP_HELLO,
                forward_delay: STP_FORWARD_DELAY,
                stp_enabled: u8::from(stp),
                ageing_time: u32::try_from(ageing.saturating_mul(100)).unwrap_or(u32::MAX),
            }
            .encode())
        }
        Op::GetPortList => {
            bridge()?;
            let max = usize::try_from(req.max).unwrap_or(0);
            let mut v = vec![0i32; max];
            for (p, ofport) in snap.bridge_ports(name) {
                if let Some(slot) = usize::try_from(ofport).ok().and_then(|o| v.get_mut(o)) {
                    *slot = i32::try_from(ifindex(&p)).unwrap_or(0);
                }
            }
            Ok(wire::ints(&v))
        }
        Op::GetFdb => {
            bridge()?;
            let Some(b) = vs.switch.bridge(name) else { return Ok(Vec::new()) };
            let entries = b.macs.lock().unwrap_or_else(|p| p.into_inner()).entries(Instant::now());
            let mut recs: Vec<FdbEntry> = entries
                .into_iter()
                .map(|(port, _vlan, mac, age)| FdbEntry {
                    mac,
                    port: if port == OFPP_LOCAL { 0 } else { u16::try_from(port).unwrap_or(u16::MAX) },
                    is_local: port == OFPP_LOCAL,
                    age: u32::try_from(age.as_millis() / 10).unwrap_or(u32::MAX),
                })
                .collect();
            recs.sort_by_key(|e| (e.port, e.mac));
            let mut out = Vec::new();
            for e in recs.iter().skip(usize::try_from(req.offset).unwrap_or(usize::MAX)).take(usize::try_from(req.max).unwrap_or(0)) {
                e.encode(&mut out);
            }
            Ok(out)
        }
        Op::SetAgeing => {
            let br = bridge()?;
            let secs = req.value / 100;
            if secs == 0 {
                return Err(fail(errno::EINVAL, "rvs cannot disable MAC learning (ageing time 0)"));
            }
            let ops = vec![json!({"op": "mutate", "table": "Bridge", "where": bridge_where(br), "mutations": [
                ["other_config", "delete", ["set", ["mac-aging-time"]]],
                ["other_config", "insert", ["map", [["mac-aging-time", secs.to_string()]]]]]})];
            commit(c, &snap, ops)?;
            Ok(Vec::new())
        }
        Op::SetStp => {
            let br = bridge()?;
            let on = req.value != 0;
            let ops = vec![json!({"op": "update", "table": "Bridge", "where": bridge_where(br), "row": {"stp_enable": on}})];
            commit(c, &snap, ops)?;
            if on {
                crate::warn!("brcompat", "{name}: stp_enable stored, but rvs does not run STP yet (no loop protection)");
            }
            Ok(Vec::new())
        }
    }
}

/// The bridge ID: default priority 0x8000, then the bridge device's MAC.
fn bridge_id(snap: &Snapshot, name: &str) -> [u8; 8] {
    let mac = snap
        .ifaces
        .get(name)
        .and_then(|i| i.get("mac_in_use")?.as_str().map(String::from))
        .or_else(|| std::fs::read_to_string(format!("/sys/class/net/{name}/address")).ok())
        .and_then(|s| parse_mac(s.trim()))
        .unwrap_or([0; 6]);
    let mut id = [0x80, 0, 0, 0, 0, 0, 0, 0];
    id[2..].copy_from_slice(&mac);
    id
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut it = s.split(':');
    for b in &mut m {
        *b = u8::from_str_radix(it.next()?, 16).ok()?;
    }
    it.next().is_none().then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbsync::start_embedded;

    fn req(op: Op, bridge: &str, ifindex: u32, value: u64) -> Request {
        Request { seq: 1, op, bridge: bridge.into(), ifindex, value, offset: 0, max: 16, deadline_ms: rvs_dpif::monotonic_ms() + 2000 }
    }

    /// Requests against an embedded database with no reconciling daemon: the checks and the stored values (changes
    /// that would wait for reconciliation are not exercised here; tests/brcompat/brctl.sh does, in a VM).
    #[test]
    fn checks_and_stored_values() {
        let dir = tempfile::tempdir().unwrap();
        let server = start_embedded(&dir.path().join("conf.db"), &[]).unwrap();
        let c = Client::local(&server);
        let vs = Vswitchd::new(1);
        let ovs = c.transact(DB, &[json!({"op": "select", "table": "Open_vSwitch", "where": []})]).unwrap();
        let ovs_uuid = ovs[0]["rows"][0]["_uuid"][1].as_str().unwrap().to_string();
        c.transact(DB, &[
            json!({"op": "insert", "table": "Interface", "uuid-name": "i", "row": {"name": "brt", "type": "internal", "mac_in_use": "02:00:00:00:00:07"}}),
            json!({"op": "insert", "table": "Port", "uuid-name": "p", "row": {"name": "brt", "interfaces": ["named-uuid", "i"]}}),
            json!({"op": "insert", "table": "Bridge", "uuid-name": "b", "row": {"name": "brt", "ports": ["named-uuid", "p"]}}),
            json!({"op": "mutate", "table": "Open_vSwitch", "where": [["_uuid", "==", ["uuid", ovs_uuid]]], "mutations": [["bridges", "insert", ["set", [["named-uuid", "b"]]]]]}),
        ])
        .unwrap();
        let err = |r: Request| handle(&c, &vs, &r).err().map(|f| f.errno);
        assert_eq!(err(req(Op::AddBr, "brt", 0, 0)), Some(errno::EEXIST));
        assert_eq!(err(req(Op::AddBr, "bad/name", 0, 0)), Some(errno::EINVAL));
        assert_eq!(err(req(Op::DelBr, "nosuchbr", 0, 0)), Some(errno::ENXIO));
        assert_eq!(err(req(Op::AddIf, "nosuchbr", 1, 0)), Some(errno::ENODEV));
        assert_eq!(err(req(Op::AddIf, "brt", 0x7fff_fff0, 0)), Some(errno::ENODEV)); // no such ifindex
        let lo = ifindex("lo");
        assert_eq!(err(req(Op::DelIf, "brt", lo, 0)), Some(errno::EINVAL)); // lo is no port of brt
        assert_eq!(err(req(Op::DelSlave, "ovs-system", lo, 0)), None); // nomaster of a non-port: nothing to do
        assert_eq!(err(req(Op::SetAgeing, "brt", 0, 0)), Some(errno::EINVAL));
        assert_eq!(err(req(Op::GetPortInfo, "brt", 0, 0)), Some(errno::EINVAL));

        // Stored values come back through GET_BRIDGE_INFO.
        handle(&c, &vs, &req(Op::SetAgeing, "brt", 0, 4500)).unwrap();
        handle(&c, &vs, &req(Op::SetStp, "brt", 0, 1)).unwrap();
        let r = c.transact(DB, &[json!({"op": "select", "table": "Bridge", "where": [], "columns": ["other_config", "stp_enable"]})]).unwrap();
        assert_eq!(map_get(r[0]["rows"][0].get("other_config"), "mac-aging-time").as_deref(), Some("45"));
        let info = handle(&c, &vs, &req(Op::GetBridgeInfo, "brt", 0, 0)).unwrap();
        assert_eq!(info.len(), wire::BRIDGE_INFO_LEN);
        assert_eq!(&info[8..16], &[0x80, 0, 2, 0, 0, 0, 0, 7]); // bridge_id: priority 8000, mac_in_use
        assert_eq!(info[47], 1); // stp_enabled
        assert_eq!(u32::from_ne_bytes([info[48], info[49], info[50], info[51]]), 4500);
        // Each change bumped next_cfg.
        let r = c.transact(DB, &[json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["next_cfg"]})]).unwrap();
        assert_eq!(r[0]["rows"][0]["next_cfg"], 2);
        // The bridge's own port is not in its port list.
        let ports = handle(&c, &vs, &req(Op::GetPortList, "brt", 0, 0)).unwrap();
        assert_eq!(ports, vec![0u8; 64]);
    }

    #[test]
    fn ovsdb_value_helpers() {
        assert_eq!(uuid_set(Some(&json!(["uuid", "a"]))), vec!["a"]);
        assert_eq!(uuid_set(Some(&json!(["set", [["uuid", "a"], ["uuid", "b"]]]))), vec!["a", "b"]);
        assert!(uuid_set(Some(&json!(["set", []]))).is_empty());
        assert_eq!(map_get(Some(&json!(["map", [["mac-aging-time", "60"]]])), "mac-aging-time").as_deref(), Some("60"));
        assert_eq!(int_of(Some(&json!(["set", [3]]))), Some(3));
        assert_eq!(int_of(Some(&json!(5))), Some(5));
        assert_eq!(int_of(Some(&json!(["set", []]))), None);
        assert_eq!(parse_mac("02:00:00:aa:bb:0c"), Some([2, 0, 0, 0xaa, 0xbb, 0x0c]));
        assert_eq!(parse_mac("02:00:00:aa:bb"), None);
        assert!(valid_name("br0") && !valid_name("") && !valid_name("a/b") && !valid_name("0123456789abcdef"));
    }
}

//! The desired configuration, read from the database replica: the `Open_vSwitch` root row, the
//! bridges it references, their ports and interfaces, as typed values (datums parsed from their
//! RFC 7047 JSON forms). Only rows reachable from the root count, as in Open vSwitch.

use std::collections::BTreeMap;

use rvs_dpif::DatapathType;
use serde_json::{Map, Value};

use crate::dbsync::Replica;
use crate::ofproto::FailMode;
use crate::vlan::PortVlan;

/// An interface row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceCfg {
    /// Row UUID.
    pub uuid: String,
    /// Device name.
    pub name: String,
    /// `type` (empty: a system device).
    pub ty: String,
    /// `ofport_request`.
    pub ofport_request: Option<u32>,
    /// The `ofport` column as last written (kept across restarts).
    pub ofport_db: Option<i64>,
    /// `options`.
    pub options: BTreeMap<String, String>,
}

/// A port row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortCfg {
    /// Row UUID.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// VLAN configuration.
    pub vlan: PortVlan,
    /// A problem with the VLAN columns, to log.
    pub vlan_warning: Option<String>,
    /// Interfaces (several make a bond).
    pub interfaces: Vec<IfaceCfg>,
    /// Bond columns (used when the port has several interfaces).
    pub bond: BondCfg,
}

/// A port's bond columns, as written (interpreted by [`crate::bond`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BondCfg {
    /// `bond_mode`.
    pub mode: Option<String>,
    /// `lacp`.
    pub lacp: Option<String>,
    /// `other_config:bond-detect-mode`.
    pub detect_mode: Option<String>,
    /// `other_config:lacp-time` (`fast` or `slow`).
    pub lacp_time: Option<String>,
    /// `other_config:lacp-system-id`.
    pub lacp_system_id: Option<String>,
    /// `other_config:lacp-system-priority`.
    pub lacp_system_priority: Option<String>,
}

/// A mirror row (ports by Port row UUID).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MirrorCfg {
    /// Row UUID.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// `select_all`.
    pub select_all: bool,
    /// `select_src_port`.
    pub select_src_port: Vec<String>,
    /// `select_dst_port`.
    pub select_dst_port: Vec<String>,
    /// `select_vlan`.
    pub select_vlan: Vec<u16>,
    /// `output_port`.
    pub output_port: Option<String>,
    /// `output_vlan`.
    pub output_vlan: Option<u16>,
}

/// A `Controller` row (one OpenFlow controller or listener of a bridge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerCfg {
    /// Row UUID.
    pub uuid: String,
    /// `target` (`tcp:`, `ssl:`, `unix:`, `ptcp:`, `pssl:`, `punix:`).
    pub target: String,
    /// `max_backoff` in milliseconds (default 8000).
    pub max_backoff_ms: u64,
    /// `inactivity_probe` in milliseconds (default 5000; 0 disables).
    pub inactivity_probe_ms: u64,
    /// `connection_mode` is `out-of-band` (the default is `in-band`).
    pub out_of_band: bool,
    /// `enable_async_messages` (default true).
    pub enable_async: bool,
    /// `local_ip`: the local port's address for in-band control.
    pub local_ip: Option<String>,
    /// `local_netmask`.
    pub local_netmask: Option<String>,
    /// `local_gateway`.
    pub local_gateway: Option<String>,
}

/// The `SSL` row referenced by the root row: the switch's TLS key, certificate and CA.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslCfg {
    /// `private_key` file.
    pub private_key: String,
    /// `certificate` file.
    pub certificate: String,
    /// `ca_cert` file.
    pub ca_cert: String,
}

/// A bridge row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeCfg {
    /// Row UUID.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// Datapath type (`datapath_type`: `""`/`system` or `netdev`/`userspace`).
    pub dp_type: DatapathType,
    /// `fail_mode`.
    pub fail_mode: FailMode,
    /// Whether controllers are configured.
    pub has_controller: bool,
    /// The `Controller` rows, by target.
    pub controllers: Vec<ControllerCfg>,
    /// `protocols` (empty: OpenFlow 1.0 and 1.3).
    pub protocols: Vec<String>,
    /// `other_config`.
    pub other_config: BTreeMap<String, String>,
    /// Ports, by name.
    pub ports: Vec<PortCfg>,
    /// Mirrors, by name.
    pub mirrors: Vec<MirrorCfg>,
}

/// The whole desired configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// UUID of the `Open_vSwitch` row, if there is one.
    pub root: Option<String>,
    /// `next_cfg`.
    pub next_cfg: i64,
    /// `cur_cfg`.
    pub cur_cfg: i64,
    /// Bridges, by name.
    pub bridges: Vec<BridgeCfg>,
    /// The `SSL` row, if configured.
    pub ssl: Option<SslCfg>,
    /// The root row's `other_config` (`flow-limit`, ...).
    pub other_config: BTreeMap<String, String>,
    /// Problems found while reading (logged by the caller).
    pub warnings: Vec<String>,
}

/// The atoms of a set datum (a bare atom is a one-element set).
pub fn set_atoms(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) if a.first().and_then(Value::as_str) == Some("set") => {
            a.get(1).and_then(Value::as_array).map(|x| x.iter().collect()).unwrap_or_default()
        }
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// A UUID atom's text.
pub fn uuid_of(v: &Value) -> Option<&str> {
    match v.as_array().map(Vec::as_slice) {
        Some([Value::String(t), Value::String(u)]) if t == "uuid" => Some(u),
        _ => None,
    }
}

/// A string→string map datum.
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(a)) = v {
        if a.first().and_then(Value::as_str) == Some("map") {
            for pair in a.get(1).and_then(Value::as_array).into_iter().flatten() {
                if let (Some(k), Some(v)) = (pair.get(0).and_then(Value::as_str), pair.get(1).and_then(Value::as_str)) {
                    out.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    out
}

/// An optional integer (a set of at most one integer).
pub fn opt_int(v: Option<&Value>) -> Option<i64> {
    set_atoms(v).first().and_then(|a| a.as_i64())
}

/// An optional string.
pub fn opt_str(v: Option<&Value>) -> Option<&str> {
    set_atoms(v).first().and_then(|a| a.as_str())
}

fn str_col<'a>(row: &'a Map<String, Value>, c: &str) -> &'a str {
    row.get(c).and_then(Value::as_str).unwrap_or("")
}

fn refs<'a>(row: &'a Map<String, Value>, c: &str) -> Vec<&'a str> {
    set_atoms(row.get(c)).into_iter().filter_map(uuid_of).collect()
}

impl Config {
    /// Reads the configuration from `r`.
    pub fn from_replica(r: &Replica) -> Config {
        let mut cfg = Config::default();
        let Some((root_uuid, root)) = r.table("Open_vSwitch").and_then(|t| t.iter().next()) else {
            return cfg;
        };
        cfg.root = Some(root_uuid.clone());
        cfg.next_cfg = root.get("next_cfg").and_then(Value::as_i64).unwrap_or(0);
        cfg.cur_cfg = root.get("cur_cfg").and_then(Value::as_i64).unwrap_or(0);
        cfg.other_config = string_map(root.get("other_config"));
        cfg.ssl = refs(root, "ssl").first().and_then(|u| r.row("SSL", u)).map(|s| SslCfg {
            private_key: str_col(s, "private_key").to_string(),
            certificate: str_col(s, "certificate").to_string(),
            ca_cert: str_col(s, "ca_cert").to_string(),
        });
        for bu in refs(root, "bridges") {
            let Some(b) = r.row("Bridge", bu) else { continue };
            let name = str_col(b, "name").to_string();
            let dp_type = match str_col(b, "datapath_type") {
                "" | "system" => DatapathType::System,
                "netdev" | "userspace" => DatapathType::Userspace,
                other => {
                    cfg.warnings.push(format!("bridge {name}: unknown datapath_type \"{other}\", using system"));
                    DatapathType::System
                }
            };
            let fail_mode = match opt_str(b.get("fail_mode")) {
                Some("secure") => FailMode::Secure,
                _ => FailMode::Standalone,
            };
            let mut ports = Vec::new();
            for pu in refs(b, "ports") {
                let Some(p) = r.row("Port", pu) else { continue };
                let pname = str_col(p, "name").to_string();
                let trunks: Vec<i64> = set_atoms(p.get("trunks")).iter().filter_map(|a| a.as_i64()).collect();
                let (vlan, vlan_warning) = PortVlan::from_columns(opt_int(p.get("tag")), &trunks, opt_str(p.get("vlan_mode")));
                let mut interfaces = Vec::new();
                for iu in refs(p, "interfaces") {
                    let Some(i) = r.row("Interface", iu) else { continue };
                    interfaces.push(IfaceCfg {
                        uuid: iu.to_string(),
                        name: str_col(i, "name").to_string(),
                        ty: str_col(i, "type").to_string(),
                        ofport_request: opt_int(i.get("ofport_request")).and_then(|o| u32::try_from(o).ok()),
                        ofport_db: opt_int(i.get("ofport")).filter(|o| *o > 0),
                        options: string_map(i.get("options")),
                    });
                }
                interfaces.sort_by(|a, b| a.name.cmp(&b.name));
                ports.push(PortCfg { uuid: pu.to_string(), name: pname, vlan, vlan_warning, interfaces, bond: read_bond(p) });
            }
            ports.sort_by(|a, b| a.name.cmp(&b.name));
            let mut controllers = Vec::new();
            for cu in refs(b, "controller") {
                let Some(c) = r.row("Controller", cu) else { continue };
                let ms = |col: &str, default: u64| opt_int(c.get(col)).map_or(default, |v| u64::try_from(v).unwrap_or(0));
                controllers.push(ControllerCfg {
                    uuid: cu.to_string(),
                    target: str_col(c, "target").to_string(),
                    max_backoff_ms: ms("max_backoff", 8000).max(1000),
                    inactivity_probe_ms: ms("inactivity_probe", 5000),
                    out_of_band: opt_str(c.get("connection_mode")) == Some("out-of-band"),
                    enable_async: set_atoms(c.get("enable_async_messages")).first().and_then(|v| v.as_bool()).unwrap_or(true),
                    local_ip: opt_str(c.get("local_ip")).map(str::to_string),
                    local_netmask: opt_str(c.get("local_netmask")).map(str::to_string),
                    local_gateway: opt_str(c.get("local_gateway")).map(str::to_string),
                });
            }
            controllers.sort_by(|a, b| a.target.cmp(&b.target));
            let protocols = set_atoms(b.get("protocols")).iter().filter_map(|a| a.as_str().map(str::to_string)).collect();
            cfg.bridges.push(BridgeCfg {
                uuid: bu.to_string(),
                name,
                dp_type,
                fail_mode,
                has_controller: !controllers.is_empty(),
                controllers,
                protocols,
                other_config: string_map(b.get("other_config")),
                ports,
                mirrors: read_mirrors(r, b),
            });
        }
        cfg.bridges.sort_by(|a, b| a.name.cmp(&b.name));
        cfg
    }
}

/// The bond columns of Port row `p`.
fn read_bond(p: &Map<String, Value>) -> BondCfg {
    let mut oc = string_map(p.get("other_config"));
    BondCfg {
        mode: opt_str(p.get("bond_mode")).map(str::to_string),
        lacp: opt_str(p.get("lacp")).map(str::to_string),
        detect_mode: oc.remove("bond-detect-mode"),
        lacp_time: oc.remove("lacp-time"),
        lacp_system_id: oc.remove("lacp-system-id"),
        lacp_system_priority: oc.remove("lacp-system-priority"),
    }
}

/// The mirrors Bridge row `b` references.
fn read_mirrors(r: &Replica, b: &Map<String, Value>) -> Vec<MirrorCfg> {
    let mut out = Vec::new();
    for mu in refs(b, "mirrors") {
        let Some(m) = r.row("Mirror", mu) else { continue };
        let uuids = |c: &str| refs(m, c).into_iter().map(str::to_string).collect::<Vec<_>>();
        out.push(MirrorCfg {
            uuid: mu.to_string(),
            name: str_col(m, "name").to_string(),
            select_all: m.get("select_all").and_then(Value::as_bool).unwrap_or(false),
            select_src_port: uuids("select_src_port"),
            select_dst_port: uuids("select_dst_port"),
            select_vlan: set_atoms(m.get("select_vlan")).iter().filter_map(|a| a.as_u64()).filter_map(|v| u16::try_from(v).ok()).collect(),
            output_port: refs(m, "output_port").first().map(|u| u.to_string()),
            output_vlan: opt_int(m.get("output_vlan")).and_then(|v| u16::try_from(v).ok()),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_reachable_rows() {
        let mut r = Replica::default();
        r.apply_update(&json!({
            "Open_vSwitch": {"r1": {"new": {"bridges": ["uuid", "b1"], "next_cfg": 3, "cur_cfg": 2, "other_config": ["map", [["flow-limit", "1000"]]]}}},
            "Bridge": {
                "b1": {"new": {"name": "br0", "datapath_type": "netdev", "ports": ["set", [["uuid", "p1"], ["uuid", "p2"]]],
                               "fail_mode": ["set", []], "controller": ["set", []], "other_config": ["map", [["mac-aging-time", "60"]]]}},
                "b2": {"new": {"name": "orphan", "ports": ["set", []]}}
            },
            "Port": {
                "p1": {"new": {"name": "v1", "tag": 10, "trunks": ["set", []], "vlan_mode": ["set", []], "interfaces": ["uuid", "i1"]}},
                "p2": {"new": {"name": "v2", "tag": ["set", []], "trunks": ["set", [10, 20]], "vlan_mode": ["set", []], "interfaces": ["uuid", "i2"]}}
            },
            "Interface": {
                "i1": {"new": {"name": "v1", "type": "", "ofport_request": ["set", []], "options": ["map", []]}},
                "i2": {"new": {"name": "v2", "type": "internal", "ofport_request": 7, "options": ["map", []]}}
            }
        }));
        let c = Config::from_replica(&r);
        assert_eq!(c.root.as_deref(), Some("r1"));
        assert_eq!((c.next_cfg, c.cur_cfg), (3, 2));
        assert_eq!(c.bridges.len(), 1, "unreferenced bridges are ignored");
        let b = &c.bridges[0];
        assert_eq!(b.dp_type, DatapathType::Userspace);
        assert_eq!(b.other_config.get("mac-aging-time").map(String::as_str), Some("60"));
        assert_eq!(c.other_config.get("flow-limit").map(String::as_str), Some("1000"));
        assert_eq!(b.ports[0].vlan.tag, 10);
        assert_eq!(b.ports[1].vlan.trunks.len(), 2);
        assert_eq!(b.ports[1].interfaces[0].ofport_request, Some(7));
        assert_eq!(b.ports[1].interfaces[0].ty, "internal");
        assert!(b.controllers.is_empty() && !b.has_controller);
        // A delete removes the row.
        r.apply_update(&json!({"Port": {"p2": {"old": {"name": "v2"}}}}));
        assert_eq!(Config::from_replica(&r).bridges[0].ports.len(), 1);
    }

    #[test]
    fn reads_controllers_and_ssl() {
        let mut r = Replica::default();
        r.apply_update(&json!({
            "Open_vSwitch": {"r1": {"new": {"bridges": ["uuid", "b1"], "ssl": ["uuid", "s1"]}}},
            "SSL": {"s1": {"new": {"private_key": "/k.pem", "certificate": "/c.pem", "ca_cert": "/ca.pem"}}},
            "Bridge": {"b1": {"new": {"name": "br0", "ports": ["set", []], "fail_mode": "secure",
                "protocols": ["set", ["OpenFlow13"]], "controller": ["set", [["uuid", "c1"], ["uuid", "c2"]]]}}},
            "Controller": {
                "c1": {"new": {"target": "tcp:127.0.0.1:6653", "max_backoff": 2000, "inactivity_probe": 0,
                               "connection_mode": "out-of-band", "enable_async_messages": false,
                               "local_ip": "10.0.0.100", "local_netmask": "255.255.255.0", "local_gateway": ["set", []]}},
                "c2": {"new": {"target": "ptcp:6634", "max_backoff": ["set", []], "inactivity_probe": ["set", []],
                               "connection_mode": ["set", []], "enable_async_messages": ["set", []]}}
            }
        }));
        let c = Config::from_replica(&r);
        let ssl = c.ssl.as_ref().unwrap();
        assert_eq!((ssl.private_key.as_str(), ssl.ca_cert.as_str()), ("/k.pem", "/ca.pem"));
        let b = &c.bridges[0];
        assert_eq!(b.fail_mode, FailMode::Secure);
        assert_eq!(b.protocols, vec!["OpenFlow13".to_string()]);
        assert!(b.has_controller);
        let (ptcp, tcp) = (&b.controllers[0], &b.controllers[1]);
        assert_eq!((tcp.target.as_str(), tcp.max_backoff_ms, tcp.inactivity_probe_ms), ("tcp:127.0.0.1:6653", 2000, 0));
        assert!(tcp.out_of_band && !tcp.enable_async);
        assert_eq!((ptcp.target.as_str(), ptcp.max_backoff_ms, ptcp.inactivity_probe_ms), ("ptcp:6634", 8000, 5000), "defaults");
        assert!(!ptcp.out_of_band && ptcp.enable_async);
        assert_eq!((tcp.local_ip.as_deref(), tcp.local_netmask.as_deref(), tcp.local_gateway.as_deref()), (Some("10.0.0.100"), Some("255.255.255.0"), None));
        assert_eq!(ptcp.local_ip, None);
    }
}

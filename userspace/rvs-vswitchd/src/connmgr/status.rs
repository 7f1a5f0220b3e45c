//! The columns the connection manager writes back: per `Controller` row `is_connected`,
//! `role` (`master`, `slave`, `other`) and `status` (`state`, `last_error`), and the bridge's
//! `datapath_id` (16 hex digits). Only changed columns are written.

use std::collections::HashMap;

use rvs_openflow::msg::Role;
use serde_json::{json, Map, Value};

use super::shared::CtlStatus;
use crate::config::set_atoms;
use crate::dbsync::Replica;

fn role_name(r: Option<Role>) -> Value {
    match r {
        Some(Role::Master) => json!("master"),
        Some(Role::Slave) => json!("slave"),
        Some(_) => json!("other"),
        None => json!(["set", []]),
    }
}

fn update(table: &str, uuid: &str, row: Map<String, Value>) -> Value {
    json!({"op": "update", "table": table, "where": [["_uuid", "==", ["uuid", uuid]]], "row": row})
}

fn map_datum(m: &[(&str, &str)]) -> Value {
    json!(["map", m.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()])
}

/// The update operations for controller statuses and datapath ids (bridge row UUID → id).
pub fn ops(replica: &Replica, controllers: &HashMap<String, CtlStatus>, dpids: &[(String, u64)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (uuid, st) in controllers {
        let Some(row) = replica.row("Controller", uuid) else { continue };
        let mut status: Vec<(&str, &str)> = Vec::new();
        if let Some(e) = &st.last_error {
            status.push(("last_error", e));
        }
        let state = if st.connected { "ACTIVE" } else { st.state.as_str() };
        if !state.is_empty() {
            status.push(("state", state));
        }
        status.sort();
        let want = [("is_connected", json!(st.connected)), ("role", role_name(st.role)), ("status", map_datum(&status))];
        let mut upd = Map::new();
        for (col, v) in want {
            let cur = row.get(col);
            let same = if col == "status" {
                crate::config::string_map(cur) == crate::config::string_map(Some(&v))
            } else {
                set_atoms(cur) == set_atoms(Some(&v))
            };
            if !same {
                upd.insert(col.to_string(), v);
            }
        }
        if !upd.is_empty() {
            out.push(update("Controller", uuid, upd));
        }
    }
    for (uuid, dpid) in dpids {
        let Some(row) = replica.row("Bridge", uuid) else { continue };
        let v = json!(format!("{dpid:016x}"));
        if set_atoms(row.get("datapath_id")) != set_atoms(Some(&v)) {
            let mut upd = Map::new();
            upd.insert("datapath_id".into(), v);
            out.push(update("Bridge", uuid, upd));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_changes() {
        let mut r = Replica::default();
        r.apply_update(&json!({
            "Controller": {"c1": {"new": {"target": "tcp:1.2.3.4", "is_connected": false, "role": ["set", []], "status": ["map", []]}}},
            "Bridge": {"b1": {"new": {"name": "br0", "datapath_id": "0000000000000001"}}}
        }));
        let st = HashMap::from([("c1".to_string(), CtlStatus { connected: true, role: Some(Role::Master), last_error: None, state: "ACTIVE".into() })]);
        let ops = ops(&r, &st, &[("b1".into(), 1)]);
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert_eq!(ops[0]["row"]["is_connected"], true);
        assert_eq!(ops[0]["row"]["role"], "master");
        assert_eq!(ops[0]["row"]["status"], json!(["map", [["state", "ACTIVE"]]]));
        r.apply_update(&json!({"Controller": {"c1": {"new": {"is_connected": true, "role": "master", "status": ["map", [["state", "ACTIVE"]]]}}}}));
        let again = super::ops(&r, &st, &[("b1".into(), 2)]);
        assert_eq!(again.len(), 1, "only the datapath id: {again:?}");
        assert_eq!(again[0]["row"]["datapath_id"], "0000000000000002");
    }
}

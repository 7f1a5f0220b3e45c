//! `show`: the database as a tree from the `Open_vSwitch` row down through bridges, ports and interfaces.

use std::collections::BTreeSet;

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use crate::cmd::{CmdResult, Ctx};
use crate::model::Db;
use crate::value::datum_to_string;

/// What `show` prints for a table: its name column and the columns shown below each row.
fn show_table(table: &str) -> Option<(Option<&'static str>, &'static [&'static str])> {
    Some(match table {
        "Open_vSwitch" => (None, &["manager_options", "bridges", "ovs_version"]),
        "Bridge" => (Some("name"), &["controller", "fail_mode", "datapath_type", "ports"]),
        "Port" => (Some("name"), &["tag", "trunks", "interfaces"]),
        "Interface" => (Some("name"), &["type", "options", "error", "bfd_status"]),
        "Controller" => (Some("target"), &["is_connected"]),
        "Manager" => (Some("target"), &["is_connected"]),
        _ => return None,
    })
}

fn show_row(db: &Db, table: &str, row: &Uuid, level: usize, shown: &mut BTreeSet<String>, out: &mut String) {
    let show = show_table(table);
    out.push_str(&" ".repeat(level * 4));
    match show {
        Some((Some(nc), _)) if db.table_schema(table).columns.contains_key(nc) => {
            out.push_str(&format!("{table} {}", datum_to_string(&db.get(table, row, nc), db.col_type(table, nc))));
        }
        _ => out.push_str(&row.to_string()),
    }
    out.push('\n');
    let Some((_, columns)) = show else { return };
    if !shown.insert(table.to_owned()) {
        return;
    }
    for col in columns.iter().copied() {
        if !db.table_schema(table).columns.contains_key(col) {
            continue;
        }
        let ty = db.col_type(table, col).clone();
        let d = db.get(table, row, col);
        if ty.value.is_none() {
            if let Some(rt) = ty.key.ref_table.as_deref().filter(|t| show_table(t).is_some()) {
                for u in d.keys().filter_map(Atom::as_uuid) {
                    if db.exists(rt, &u) {
                        show_row(db, rt, &u, level + 1, shown, out);
                    }
                }
                continue;
            }
        } else if let Some(rt) = ty.value.as_ref().and_then(|v| v.ref_table.as_deref()) {
            if let Some((Some(nc), _)) = show_table(rt) {
                out.push_str(&format!("{}{col}:\n", " ".repeat((level + 1) * 4)));
                if let Some(m) = d.as_map() {
                    for (k, v) in m {
                        out.push_str(&" ".repeat((level + 2) * 4));
                        out.push_str(&crate::value::atom_to_string(k));
                        out.push('=');
                        match v.as_uuid().filter(|u| db.exists(rt, u)) {
                            Some(u) => out.push_str(&datum_to_string(&db.get(rt, &u, nc), db.col_type(rt, nc))),
                            None => out.push_str("\"<null>\""),
                        }
                        out.push('\n');
                    }
                }
                continue;
            }
        }
        if d != Datum::default_for(&ty) {
            out.push_str(&format!("{}{col}: {}\n", " ".repeat((level + 1) * 4), datum_to_string(&d, &ty)));
        }
    }
    shown.remove(table);
}

pub(super) fn cmd_show(ctx: &mut Ctx) -> CmdResult {
    let mut shown = BTreeSet::new();
    let mut out = String::new();
    for row in ctx.db.rows("Open_vSwitch") {
        show_row(ctx.db, "Open_vSwitch", &row, 0, &mut shown, &mut out);
    }
    ctx.out.push_str(&out);
    Ok(())
}

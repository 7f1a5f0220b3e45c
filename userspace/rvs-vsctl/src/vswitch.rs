//! The Open vSwitch-specific commands (`utilities/ovs-vsctl.c`): `init`, `show`, bridges (including VLAN "fake"
//! bridges), ports, bonds, interfaces, controllers, fail modes, managers and bridge external-ids, built on a
//! bridge/port/interface view recomputed from the local database before each use.

mod bridge;
mod cache;
mod controller;
mod port;
mod show;

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use crate::cmd::{CmdResult, Ctx, Mode, Syntax};
use crate::model::Db;

/// The vswitch commands.
pub static VS_COMMANDS: &[Syntax] = &[
    Syntax { name: "init", min_args: 0, max_args: 0, options: "", mode: Mode::Rw, run: cmd_init },
    Syntax { name: "show", min_args: 0, max_args: 0, options: "", mode: Mode::Ro, run: show::cmd_show },
    Syntax { name: "add-br", min_args: 1, max_args: 3, options: "--may-exist", mode: Mode::Rw, run: bridge::cmd_add_br },
    Syntax { name: "del-br", min_args: 1, max_args: 1, options: "--if-exists", mode: Mode::Rw, run: bridge::cmd_del_br },
    Syntax { name: "list-br", min_args: 0, max_args: 0, options: "--real,--fake", mode: Mode::Ro, run: bridge::cmd_list_br },
    Syntax { name: "br-exists", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: bridge::cmd_br_exists },
    Syntax { name: "br-to-vlan", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: bridge::cmd_br_to_vlan },
    Syntax { name: "br-to-parent", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: bridge::cmd_br_to_parent },
    Syntax { name: "br-set-external-id", min_args: 2, max_args: 3, options: "", mode: Mode::Rw, run: bridge::cmd_br_set_external_id },
    Syntax { name: "br-get-external-id", min_args: 1, max_args: 2, options: "", mode: Mode::Ro, run: bridge::cmd_br_get_external_id },
    Syntax { name: "list-ports", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: port::cmd_list_ports },
    Syntax { name: "add-port", min_args: 2, max_args: usize::MAX, options: "--may-exist", mode: Mode::Rw, run: port::cmd_add_port },
    Syntax { name: "del-port", min_args: 1, max_args: 2, options: "--if-exists,--with-iface", mode: Mode::Rw, run: port::cmd_del_port },
    Syntax { name: "port-to-br", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: port::cmd_port_to_br },
    Syntax { name: "add-bond", min_args: 4, max_args: usize::MAX, options: "--may-exist,--fake-iface", mode: Mode::Rw, run: port::cmd_add_bond },
    Syntax { name: "add-bond-iface", min_args: 2, max_args: 2, options: "--may-exist", mode: Mode::Rw, run: port::cmd_add_bond_iface },
    Syntax { name: "del-bond-iface", min_args: 1, max_args: 2, options: "--if-exists", mode: Mode::Rw, run: port::cmd_del_bond_iface },
    Syntax { name: "list-ifaces", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: port::cmd_list_ifaces },
    Syntax { name: "iface-to-br", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: port::cmd_iface_to_br },
    Syntax { name: "get-controller", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: controller::cmd_get_controller },
    Syntax { name: "del-controller", min_args: 1, max_args: 1, options: "", mode: Mode::Rw, run: controller::cmd_del_controller },
    Syntax { name: "set-controller", min_args: 1, max_args: usize::MAX, options: "--inactivity-probe=", mode: Mode::Rw, run: controller::cmd_set_controller },
    Syntax { name: "get-fail-mode", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: controller::cmd_get_fail_mode },
    Syntax { name: "del-fail-mode", min_args: 1, max_args: 1, options: "", mode: Mode::Rw, run: controller::cmd_del_fail_mode },
    Syntax { name: "set-fail-mode", min_args: 2, max_args: 2, options: "", mode: Mode::Rw, run: controller::cmd_set_fail_mode },
    Syntax { name: "get-manager", min_args: 0, max_args: 0, options: "", mode: Mode::Ro, run: controller::cmd_get_manager },
    Syntax { name: "del-manager", min_args: 0, max_args: 0, options: "", mode: Mode::Rw, run: controller::cmd_del_manager },
    Syntax { name: "set-manager", min_args: 1, max_args: usize::MAX, options: "--inactivity-probe=", mode: Mode::Rw, run: controller::cmd_set_manager },
];

fn set_uuids(uuids: impl IntoIterator<Item = Uuid>) -> Datum {
    Datum::Set(uuids.into_iter().map(Atom::Uuid).collect())
}

fn add_ref(db: &mut Db, table: &str, row: &Uuid, column: &str, new: Uuid) {
    let mut v = db.get_uuids(table, row, column);
    v.push(new);
    db.write(table, row, column, set_uuids(v));
}

fn del_ref(db: &mut Db, table: &str, row: &Uuid, column: &str, gone: &Uuid) {
    let v: Vec<Uuid> = db.get_uuids(table, row, column).into_iter().filter(|u| u != gone).collect();
    db.write(table, row, column, set_uuids(v));
}

fn s(v: &str) -> Datum {
    Datum::scalar(Atom::String(v.to_owned()))
}

fn new_iface(db: &mut Db, name: &str) -> Uuid {
    let u = Uuid::new_v4();
    db.insert("Interface", u);
    db.write("Interface", &u, "name", s(name));
    u
}

fn new_port(db: &mut Db, name: &str, ifaces: &[Uuid]) -> Uuid {
    let u = Uuid::new_v4();
    db.insert("Port", u);
    db.write("Port", &u, "name", s(name));
    db.write("Port", &u, "interfaces", set_uuids(ifaces.iter().copied()));
    u
}

fn cmd_init(_: &mut Ctx) -> CmdResult {
    Ok(())
}

/// C's `atoi`: leading whitespace, optional sign, digits; 0 when none.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let v = n.parse::<i64>().unwrap_or(0);
    if neg {
        v.saturating_neg()
    } else {
        v
    }
}

fn output_sorted(out: &mut String, mut v: Vec<String>) {
    v.sort();
    for x in v {
        out.push_str(&x);
        out.push('\n');
    }
}

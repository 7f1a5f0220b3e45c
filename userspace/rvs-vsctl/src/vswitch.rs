//! The Open vSwitch-specific commands (`utilities/ovs-vsctl.c`): `init`, `show`, bridges (including VLAN "fake"
//! bridges), ports, bonds, interfaces, controllers, fail modes, managers and bridge external-ids, built on a
//! bridge/port/interface view recomputed from the local database before each use.

use std::collections::{BTreeMap, BTreeSet};

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use crate::cmd::{fail, CmdResult, Ctx, Fail, Mode, Syntax};
use crate::model::Db;
use crate::value::datum_to_string;

/// The vswitch commands.
pub static VS_COMMANDS: &[Syntax] = &[
    Syntax { name: "init", min_args: 0, max_args: 0, options: "", mode: Mode::Rw, run: cmd_init },
    Syntax { name: "show", min_args: 0, max_args: 0, options: "", mode: Mode::Ro, run: cmd_show },
    Syntax { name: "add-br", min_args: 1, max_args: 3, options: "--may-exist", mode: Mode::Rw, run: cmd_add_br },
    Syntax { name: "del-br", min_args: 1, max_args: 1, options: "--if-exists", mode: Mode::Rw, run: cmd_del_br },
    Syntax { name: "list-br", min_args: 0, max_args: 0, options: "--real,--fake", mode: Mode::Ro, run: cmd_list_br },
    Syntax { name: "br-exists", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_br_exists },
    Syntax { name: "br-to-vlan", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_br_to_vlan },
    Syntax { name: "br-to-parent", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_br_to_parent },
    Syntax { name: "br-set-external-id", min_args: 2, max_args: 3, options: "", mode: Mode::Rw, run: cmd_br_set_external_id },
    Syntax { name: "br-get-external-id", min_args: 1, max_args: 2, options: "", mode: Mode::Ro, run: cmd_br_get_external_id },
    Syntax { name: "list-ports", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_list_ports },
    Syntax { name: "add-port", min_args: 2, max_args: usize::MAX, options: "--may-exist", mode: Mode::Rw, run: cmd_add_port },
    Syntax { name: "del-port", min_args: 1, max_args: 2, options: "--if-exists,--with-iface", mode: Mode::Rw, run: cmd_del_port },
    Syntax { name: "port-to-br", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_port_to_br },
    Syntax { name: "add-bond", min_args: 4, max_args: usize::MAX, options: "--may-exist,--fake-iface", mode: Mode::Rw, run: cmd_add_bond },
    Syntax { name: "add-bond-iface", min_args: 2, max_args: 2, options: "--may-exist", mode: Mode::Rw, run: cmd_add_bond_iface },
    Syntax { name: "del-bond-iface", min_args: 1, max_args: 2, options: "--if-exists", mode: Mode::Rw, run: cmd_del_bond_iface },
    Syntax { name: "list-ifaces", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_list_ifaces },
    Syntax { name: "iface-to-br", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_iface_to_br },
    Syntax { name: "get-controller", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_get_controller },
    Syntax { name: "del-controller", min_args: 1, max_args: 1, options: "", mode: Mode::Rw, run: cmd_del_controller },
    Syntax { name: "set-controller", min_args: 1, max_args: usize::MAX, options: "--inactivity-probe=", mode: Mode::Rw, run: cmd_set_controller },
    Syntax { name: "get-fail-mode", min_args: 1, max_args: 1, options: "", mode: Mode::Ro, run: cmd_get_fail_mode },
    Syntax { name: "del-fail-mode", min_args: 1, max_args: 1, options: "", mode: Mode::Rw, run: cmd_del_fail_mode },
    Syntax { name: "set-fail-mode", min_args: 2, max_args: 2, options: "", mode: Mode::Rw, run: cmd_set_fail_mode },
    Syntax { name: "get-manager", min_args: 0, max_args: 0, options: "", mode: Mode::Ro, run: cmd_get_manager },
    Syntax { name: "del-manager", min_args: 0, max_args: 0, options: "", mode: Mode::Rw, run: cmd_del_manager },
    Syntax { name: "set-manager", min_args: 1, max_args: usize::MAX, options: "--inactivity-probe=", mode: Mode::Rw, run: cmd_set_manager },
];

struct VBridge {
    cfg: Option<Uuid>,
    parent: Option<String>,
    vlan: i64,
    ports: Vec<String>,
    children: BTreeMap<i64, String>,
}

struct VPort {
    cfg: Uuid,
    bridge: String,
    ifaces: Vec<String>,
}

struct VIface {
    cfg: Uuid,
    port: String,
}

/// Bridges (real and fake), ports and interfaces by name.
#[derive(Default)]
struct Cache {
    bridges: BTreeMap<String, VBridge>,
    ports: BTreeMap<String, VPort>,
    ifaces: BTreeMap<String, VIface>,
}

fn name_of(db: &Db, table: &str, u: &Uuid) -> String {
    db.get_str(table, u, "name").unwrap_or_default()
}

fn fake_bridge_tag(db: &Db, port: &Uuid) -> Option<i64> {
    let fake = db.get("Port", port, "fake_bridge").as_scalar() == Some(&Atom::Boolean(true));
    let tag = db.get("Port", port, "tag").as_scalar().and_then(Atom::as_integer);
    tag.filter(|t| fake && (0..=4095).contains(t))
}

fn populate(ctx: &mut Ctx) -> Cache {
    let db = &*ctx.db;
    let mut c = Cache::default();
    let bridges = db.get_uuids("Open_vSwitch", &ctx.ovs, "bridges");
    let mut seen_br = BTreeSet::new();
    let mut seen_ports = BTreeSet::new();
    for b in &bridges {
        if !db.exists("Bridge", b) {
            continue;
        }
        let name = name_of(db, "Bridge", b);
        if !seen_br.insert(name.clone()) {
            ctx.warnings.push(format!("{name}: database contains duplicate bridge name"));
            continue;
        }
        c.bridges.insert(name.clone(), VBridge { cfg: Some(*b), parent: None, vlan: 0, ports: vec![], children: BTreeMap::new() });
        for p in db.get_uuids("Bridge", b, "ports") {
            let pname = name_of(db, "Port", &p);
            if !seen_ports.insert(pname.clone()) {
                continue;
            }
            if let Some(tag) = fake_bridge_tag(db, &p) {
                if seen_br.insert(pname.clone()) {
                    let parent = c.bridges.get_mut(&name);
                    if let Some(parent) = parent {
                        if let Some(conflict) = parent.children.get(&tag) {
                            ctx.warnings.push(format!(
                                "{name}: bridge has multiple VLAN bridges ({pname} and {conflict}) for VLAN {tag}, but only one is allowed"
                            ));
                        } else {
                            parent.children.insert(tag, pname.clone());
                        }
                    }
                    c.bridges.insert(
                        pname.clone(),
                        VBridge { cfg: None, parent: Some(name.clone()), vlan: tag, ports: vec![], children: BTreeMap::new() },
                    );
                }
            }
        }
    }
    let mut seen_br2 = BTreeSet::new();
    for b in &bridges {
        if !db.exists("Bridge", b) {
            continue;
        }
        let name = name_of(db, "Bridge", b);
        if !seen_br2.insert(name.clone()) {
            continue;
        }
        for p in db.get_uuids("Bridge", b, "ports") {
            let pname = name_of(db, "Port", &p);
            if let Some(existing) = c.ports.get(&pname) {
                if existing.cfg == p {
                    ctx.warnings.push(format!("{pname}: port is in multiple bridges ({name} and {})", existing.bridge));
                } else {
                    ctx.warnings.push(format!("{pname}: database contains duplicate port name"));
                }
                continue;
            }
            if fake_bridge_tag(db, &p).is_some() && !seen_br2.insert(pname.clone()) {
                continue;
            }
            let mut owner = name.clone();
            if let Some(tag) = db.get("Port", &p, "tag").as_scalar().and_then(Atom::as_integer) {
                if (0..=4095).contains(&tag) {
                    if let Some(child) = c.bridges.get(&name).and_then(|br| br.children.get(&tag)) {
                        owner = child.clone();
                    }
                }
            }
            if let Some(br) = c.bridges.get_mut(&owner) {
                br.ports.push(pname.clone());
            }
            let mut ifaces = Vec::new();
            for i in db.get_uuids("Port", &p, "interfaces") {
                let iname = name_of(db, "Interface", &i);
                if let Some(existing) = c.ifaces.get(&iname) {
                    if existing.cfg == i {
                        ctx.warnings.push(format!("{iname}: interface is in multiple ports ({} and {pname})", existing.port));
                    } else {
                        ctx.warnings.push(format!("{iname}: database contains duplicate interface name"));
                    }
                    continue;
                }
                c.ifaces.insert(iname.clone(), VIface { cfg: i, port: pname.clone() });
                ifaces.push(iname);
            }
            c.ports.insert(pname, VPort { cfg: p, bridge: owner, ifaces });
        }
    }
    c
}

fn verify_bridges(ctx: &mut Ctx) {
    let ovs = ctx.ovs;
    ctx.db.verify("Open_vSwitch", &ovs, "bridges");
}

fn verify_ports(ctx: &mut Ctx) {
    verify_bridges(ctx);
    for b in ctx.db.rows("Bridge") {
        ctx.db.verify("Bridge", &b, "ports");
    }
    for p in ctx.db.rows("Port") {
        ctx.db.verify("Port", &p, "interfaces");
    }
}

fn find_bridge<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VBridge>, Fail> {
    let br = c.bridges.get(name);
    if must_exist && br.is_none() {
        return fail(format!("no bridge named {name}"));
    }
    verify_bridges(ctx);
    Ok(br)
}

fn find_real_bridge<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str) -> Result<&'c VBridge, Fail> {
    let Some(br) = find_bridge(ctx, c, name, true)? else { return fail(format!("no bridge named {name}")) };
    if br.parent.is_some() {
        return fail(format!("{name} is a fake bridge"));
    }
    Ok(br)
}

fn find_port<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VPort>, Fail> {
    let p = c.ports.get(name).filter(|p| p.bridge != name);
    if must_exist && p.is_none() {
        return fail(format!("no port named {name}"));
    }
    verify_ports(ctx);
    Ok(p)
}

fn find_iface<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VIface>, Fail> {
    let i = c.ifaces.get(name).filter(|i| c.ports.get(&i.port).is_none_or(|p| p.bridge != name));
    if must_exist && i.is_none() {
        return fail(format!("no interface named {name}"));
    }
    verify_ports(ctx);
    Ok(i)
}

/// The real bridge row behind bridge `br` (its parent's for a fake bridge).
fn real_cfg(c: &Cache, br: &VBridge) -> Option<Uuid> {
    match &br.parent {
        Some(p) => c.bridges.get(p).and_then(|p| p.cfg),
        None => br.cfg,
    }
}

fn check_conflicts(ctx: &mut Ctx, c: &Cache, name: &str, msg: &str) -> CmdResult {
    verify_ports(ctx);
    if c.bridges.contains_key(name) {
        return fail(format!("{msg} because a bridge named {name} already exists"));
    }
    if let Some(p) = c.ports.get(name) {
        return fail(format!("{msg} because a port named {name} already exists on bridge {}", p.bridge));
    }
    if let Some(i) = c.ifaces.get(name) {
        let br = c.ports.get(&i.port).map(|p| p.bridge.clone()).unwrap_or_default();
        return fail(format!("{msg} because an interface named {name} already exists on bridge {br}"));
    }
    Ok(())
}

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

fn cmd_add_br(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has("--may-exist");
    let br_name = ctx.argv[1].clone();
    if br_name.is_empty() {
        return fail("bridge name must not be empty string");
    }
    let (parent_name, vlan) = match ctx.argv.len() {
        2 => (None, 0),
        4 => {
            let vlan = atoi(&ctx.argv[3]);
            if !(0..=4095).contains(&vlan) {
                return fail(format!("{}: vlan must be between 0 and 4095", ctx.argv[0]));
            }
            (Some(ctx.argv[2].clone()), vlan)
        }
        _ => return fail(format!("'{}' command takes exactly 1 or 3 arguments", ctx.argv[0])),
    };
    let c = populate(ctx);
    if may_exist {
        if let Some(br) = find_bridge(ctx, &c, &br_name, false)? {
            match (&parent_name, &br.parent) {
                (None, Some(_)) => {
                    return fail(format!("\"--may-exist add-br {br_name}\" but {br_name} is a VLAN bridge for VLAN {}", br.vlan));
                }
                (Some(pn), None) => {
                    return fail(format!("\"--may-exist add-br {br_name} {pn} {vlan}\" but {br_name} is not a VLAN bridge"));
                }
                (Some(pn), Some(bp)) if pn != bp => {
                    return fail(format!(
                        "\"--may-exist add-br {br_name} {pn} {vlan}\" but {br_name} has the wrong parent {bp}"
                    ));
                }
                (Some(pn), Some(_)) if br.vlan != vlan => {
                    return fail(format!(
                        "\"--may-exist add-br {br_name} {pn} {vlan}\" but {br_name} is a VLAN bridge for the wrong VLAN {}",
                        br.vlan
                    ));
                }
                _ => return Ok(()),
            }
        }
    }
    check_conflicts(ctx, &c, &br_name, &format!("cannot create a bridge named {br_name}"))?;
    match parent_name {
        None => {
            let iface = new_iface(ctx.db, &br_name);
            ctx.db.write("Interface", &iface, "type", s("internal"));
            let port = new_port(ctx.db, &br_name, &[iface]);
            let br = Uuid::new_v4();
            ctx.db.insert("Bridge", br);
            ctx.db.write("Bridge", &br, "name", s(&br_name));
            ctx.db.write("Bridge", &br, "ports", set_uuids([port]));
            let ovs = ctx.ovs;
            add_ref(ctx.db, "Open_vSwitch", &ovs, "bridges", br);
        }
        Some(pn) => {
            let parent = find_bridge(ctx, &c, &pn, false)?;
            let Some(parent) = parent else { return fail(format!("parent bridge {pn} does not exist")) };
            if parent.parent.is_some() {
                return fail("cannot create bridge with fake bridge as parent");
            }
            if let Some(conflict) = parent.children.get(&vlan) {
                return fail(format!("bridge {pn} already has a child VLAN bridge {conflict} on VLAN {vlan}"));
            }
            let Some(br) = parent.cfg else { return fail(format!("parent bridge {pn} does not exist")) };
            let iface = new_iface(ctx.db, &br_name);
            ctx.db.write("Interface", &iface, "type", s("internal"));
            let port = new_port(ctx.db, &br_name, &[iface]);
            ctx.db.write("Port", &port, "fake_bridge", Datum::scalar(Atom::Boolean(true)));
            ctx.db.write("Port", &port, "tag", Datum::scalar(Atom::Integer(vlan)));
            add_ref(ctx.db, "Bridge", &br, "ports", port);
        }
    }
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

fn del_port(ctx: &mut Ctx, c: &Cache, pname: &str) {
    let Some(port) = c.ports.get(pname) else { return };
    if let Some(br) = c.bridges.get(&port.bridge) {
        if let Some(cfg) = real_cfg(c, br) {
            del_ref(ctx.db, "Bridge", &cfg, "ports", &port.cfg);
        }
    }
    for i in &port.ifaces {
        if let Some(iface) = c.ifaces.get(i) {
            ctx.db.delete("Interface", &iface.cfg);
        }
    }
    ctx.db.delete("Port", &port.cfg);
}

fn del_bridge(ctx: &mut Ctx, c: &Cache, name: &str) {
    let Some(br) = c.bridges.get(name) else { return };
    for child in br.children.values() {
        del_bridge(ctx, c, child);
    }
    for p in &br.ports {
        del_port(ctx, c, p);
    }
    if let Some(cfg) = br.cfg {
        ctx.db.delete("Bridge", &cfg);
        let ovs = ctx.ovs;
        del_ref(ctx.db, "Open_vSwitch", &ovs, "bridges", &cfg);
    }
}

fn cmd_del_br(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if find_bridge(ctx, &c, &name, must_exist)?.is_some() {
        del_bridge(ctx, &c, &name);
    }
    Ok(())
}

fn output_sorted(out: &mut String, mut v: Vec<String>) {
    v.sort();
    for x in v {
        out.push_str(&x);
        out.push('\n');
    }
}

fn cmd_list_br(ctx: &mut Ctx) -> CmdResult {
    let (mut real, mut fake) = (ctx.has("--real"), ctx.has("--fake"));
    if !real && !fake {
        real = true;
        fake = true;
    }
    let c = populate(ctx);
    let v = c.bridges.iter().filter(|(_, b)| if b.parent.is_some() { fake } else { real }).map(|(n, _)| n.clone()).collect();
    output_sorted(&mut ctx.out, v);
    Ok(())
}

fn cmd_br_exists(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if find_bridge(ctx, &c, &name, false)?.is_none() {
        return Err(Fail::Exit(2));
    }
    Ok(())
}

fn cmd_br_to_vlan(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(br) = find_bridge(ctx, &c, &name, true)? {
        ctx.out.push_str(&format!("{}\n", br.vlan));
    }
    Ok(())
}

fn cmd_br_to_parent(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(br) = find_bridge(ctx, &c, &name, true)? {
        let p = br.parent.clone().unwrap_or(name);
        ctx.out.push_str(&format!("{p}\n"));
    }
    Ok(())
}

/// The row holding a bridge's external-ids: its own, or its fake-bridge port's (keys prefixed `fake-bridge-`).
fn external_ids_row(c: &Cache, name: &str, br: &VBridge) -> Option<(&'static str, Uuid, &'static str)> {
    match br.cfg {
        Some(cfg) => Some(("Bridge", cfg, "")),
        None => c.ports.get(name).map(|p| ("Port", p.cfg, "fake-bridge-")),
    }
}

fn cmd_br_set_external_id(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    let Some((table, row, prefix)) = external_ids_row(&c, &name, br) else { return Ok(()) };
    let key = Atom::String(format!("{prefix}{}", ctx.argv[2]));
    let mut d = ctx.db.get(table, &row, "external_ids");
    if let Datum::Map(m) = &mut d {
        match ctx.argv.get(3) {
            Some(v) => {
                m.insert(key, Atom::String(v.clone()));
            }
            None => {
                m.remove(&key);
            }
        }
    }
    ctx.db.verify(table, &row, "external_ids");
    ctx.db.write(table, &row, "external_ids", d);
    Ok(())
}

fn cmd_br_get_external_id(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    let Some((table, row, prefix)) = external_ids_row(&c, &name, br) else { return Ok(()) };
    ctx.db.verify(table, &row, "external_ids");
    let d = ctx.db.get(table, &row, "external_ids");
    let Some(m) = d.as_map() else { return Ok(()) };
    match ctx.argv.get(2) {
        Some(k) => {
            if let Some(v) = m.get(&Atom::String(format!("{prefix}{k}"))).and_then(Atom::as_str) {
                ctx.out.push_str(&format!("{v}\n"));
            }
        }
        None => {
            for (k, v) in m {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    if let Some(k) = k.strip_prefix(prefix) {
                        ctx.out.push_str(&format!("{k}={v}\n"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn cmd_list_ports(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    if let Some(cfg) = real_cfg(&c, br) {
        ctx.db.verify("Bridge", &cfg, "ports");
    }
    let v = br.ports.iter().filter(|p| **p != name).cloned().collect();
    output_sorted(&mut ctx.out, v);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_port(ctx: &mut Ctx, br_name: &str, port_name: &str, may_exist: bool, fake_iface: bool, ifaces: &[String], settings: &[String]) -> CmdResult {
    if port_name.is_empty() {
        return fail("port name must not be empty string");
    }
    if ifaces.iter().any(String::is_empty) {
        return fail("interface name must not be empty string");
    }
    let c = populate(ctx);
    if may_exist {
        if let Some(port) = find_port(ctx, &c, port_name, false)? {
            let mut want: Vec<String> = ifaces.to_vec();
            want.sort();
            let mut have: Vec<String> = ctx
                .db
                .get_uuids("Port", &port.cfg, "interfaces")
                .iter()
                .map(|i| name_of(ctx.db, "Interface", i))
                .collect();
            have.sort();
            let command = ctx.argv.join(" ");
            let command = match ctx.options.keys().next() {
                Some(_) => format!("{} {command}", ctx.options.keys().cloned().collect::<Vec<_>>().join(" ")),
                None => command,
            };
            if port.bridge != br_name {
                return fail(format!("\"{command}\" but {port_name} is actually attached to bridge {}", port.bridge));
            }
            if want != have {
                return fail(format!("\"{command}\" but {port_name} actually has interface(s) {}", have.join(", ")));
            }
            return Ok(());
        }
    }
    check_conflicts(ctx, &c, port_name, &format!("cannot create a port named {port_name}"))?;
    for i in ifaces {
        check_conflicts(ctx, &c, i, &format!("cannot create an interface named {i}"))?;
    }
    let Some(br) = find_bridge(ctx, &c, br_name, true)? else { return Ok(()) };
    let iface_rows: Vec<Uuid> = ifaces.iter().map(|i| new_iface(ctx.db, i)).collect();
    let port = new_port(ctx.db, port_name, &iface_rows);
    ctx.db.write("Port", &port, "bond_fake_iface", Datum::scalar(Atom::Boolean(fake_iface)));
    if br.parent.is_some() {
        ctx.db.write("Port", &port, "tag", Datum::scalar(Atom::Integer(br.vlan)));
    }
    for st in settings {
        crate::cmd::set_column(ctx.db, ctx.symtab, "Port", &port, st)?;
    }
    if let Some(cfg) = real_cfg(&c, br) {
        add_ref(ctx.db, "Bridge", &cfg, "ports", port);
    }
    Ok(())
}

fn cmd_add_port(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has("--may-exist");
    let argv = ctx.argv.to_vec();
    add_port(ctx, &argv[1], &argv[2], may_exist, false, &argv[2..3], &argv[3..])
}

fn cmd_add_bond(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has("--may-exist");
    let fake_iface = ctx.has("--fake-iface");
    let argv = ctx.argv.to_vec();
    let n_ifaces = argv[3..].iter().position(|a| a.contains('=')).unwrap_or(argv.len() - 3);
    if n_ifaces < 2 {
        return fail(format!("add-bond requires at least 2 interfaces, but only {n_ifaces} were specified"));
    }
    add_port(ctx, &argv[1], &argv[2], may_exist, fake_iface, &argv[3..3 + n_ifaces], &argv[3 + n_ifaces..])
}

fn cmd_add_bond_iface(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let may_exist = ctx.has("--may-exist");
    let (pname, iname) = (ctx.argv[1].clone(), ctx.argv[2].clone());
    let Some(port) = find_port(ctx, &c, &pname, true)? else { return Ok(()) };
    if may_exist {
        if let Some(iface) = find_iface(ctx, &c, &iname, false)? {
            if iface.port == pname {
                return Ok(());
            }
            return fail(format!("\"{}\" but {iname} is actually attached to port {}", ctx.argv.join(" "), iface.port));
        }
    }
    check_conflicts(ctx, &c, &iname, &format!("cannot create an interface named {iname}"))?;
    let i = new_iface(ctx.db, &iname);
    add_ref(ctx.db, "Port", &port.cfg, "interfaces", i);
    Ok(())
}

fn cmd_del_bond_iface(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let must_exist = !ctx.has("--if-exists");
    let iname = ctx.argv[ctx.argv.len() - 1].clone();
    let Some(iface) = find_iface(ctx, &c, &iname, must_exist)? else { return Ok(()) };
    if ctx.argv.len() > 2 {
        let pname = ctx.argv[1].clone();
        find_port(ctx, &c, &pname, true)?;
        if iface.port != pname {
            return fail(format!("port {pname} does not have an interface {iname}"));
        }
    }
    let Some(port) = c.ports.get(&iface.port) else { return Ok(()) };
    if port.ifaces.len() <= 1 {
        return fail(format!("cannot delete last interface from port {}", iface.port));
    }
    del_ref(ctx.db, "Port", &port.cfg, "interfaces", &iface.cfg);
    ctx.db.delete("Interface", &iface.cfg);
    Ok(())
}

fn cmd_del_port(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let with_iface = ctx.has("--with-iface");
    let target = ctx.argv[ctx.argv.len() - 1].clone();
    let c = populate(ctx);
    let port_name: Option<String> = if find_bridge(ctx, &c, &target, false)?.is_some() {
        if must_exist {
            return fail(format!(
                "cannot delete port {target} because it is the local port for bridge {target} (deleting this port requires deleting the entire bridge)"
            ));
        }
        None
    } else if !with_iface {
        find_port(ctx, &c, &target, must_exist)?.map(|_| target.clone())
    } else {
        let mut p = find_port(ctx, &c, &target, false)?.map(|_| target.clone());
        if p.is_none() {
            p = find_iface(ctx, &c, &target, false)?.map(|i| i.port.clone());
        }
        if must_exist && p.is_none() {
            return fail(format!("no port or interface named {target}"));
        }
        p
    };
    let Some(pname) = port_name else { return Ok(()) };
    if ctx.argv.len() == 3 {
        let br_name = ctx.argv[1].clone();
        find_bridge(ctx, &c, &br_name, true)?;
        let owner = c.ports.get(&pname).map(|p| p.bridge.clone()).unwrap_or_default();
        if owner != br_name {
            let owner_parent = c.bridges.get(&owner).and_then(|b| b.parent.clone());
            if owner_parent.as_deref() == Some(br_name.as_str()) {
                return fail(format!("bridge {br_name} does not have a port {} (although its child bridge {owner} does)", ctx.argv[2]));
            }
            return fail(format!("bridge {br_name} does not have a port {}", ctx.argv[2]));
        }
    }
    del_port(ctx, &c, &pname);
    Ok(())
}

fn cmd_port_to_br(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(p) = find_port(ctx, &c, &name, true)? {
        ctx.out.push_str(&format!("{}\n", p.bridge));
    }
    Ok(())
}

fn cmd_list_ifaces(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    verify_ports(ctx);
    let mut v = Vec::new();
    for p in &br.ports {
        if let Some(port) = c.ports.get(p) {
            v.extend(port.ifaces.iter().filter(|i| **i != name).cloned());
        }
    }
    output_sorted(&mut ctx.out, v);
    Ok(())
}

fn cmd_iface_to_br(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(i) = find_iface(ctx, &c, &name, true)? {
        let br = c.ports.get(&i.port).map(|p| p.bridge.clone()).unwrap_or_default();
        ctx.out.push_str(&format!("{br}\n"));
    }
    Ok(())
}

fn verify_controllers(ctx: &mut Ctx, br: &Uuid) {
    ctx.db.verify("Bridge", br, "controller");
    for c in ctx.db.get_uuids("Bridge", br, "controller") {
        ctx.db.verify("Controller", &c, "target");
    }
}

fn cmd_get_controller(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    let Some(cfg) = real_cfg(&c, br) else { return Ok(()) };
    verify_controllers(ctx, &cfg);
    let v = ctx.db.get_uuids("Bridge", &cfg, "controller").iter().filter_map(|u| ctx.db.get_str("Controller", u, "target")).collect();
    output_sorted(&mut ctx.out, v);
    Ok(())
}

fn delete_controllers(ctx: &mut Ctx, br: &Uuid) {
    for u in ctx.db.get_uuids("Bridge", br, "controller") {
        ctx.db.delete("Controller", &u);
    }
}

fn cmd_del_controller(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    verify_controllers(ctx, &cfg);
    if !ctx.db.get("Bridge", &cfg, "controller").is_empty() {
        delete_controllers(ctx, &cfg);
        ctx.db.write("Bridge", &cfg, "controller", set_uuids([]));
    }
    Ok(())
}

fn inactivity_probe(ctx: &Ctx) -> Option<i64> {
    ctx.opt("--inactivity-probe").map(atoi)
}

fn cmd_set_controller(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    verify_controllers(ctx, &cfg);
    delete_controllers(ctx, &cfg);
    let probe = inactivity_probe(ctx);
    let mut new = Vec::new();
    for t in ctx.argv[2..].iter() {
        let u = Uuid::new_v4();
        ctx.db.insert("Controller", u);
        ctx.db.write("Controller", &u, "target", s(t));
        if let Some(p) = probe {
            ctx.db.write("Controller", &u, "inactivity_probe", Datum::scalar(Atom::Integer(p)));
        }
        new.push(u);
    }
    ctx.db.write("Bridge", &cfg, "controller", set_uuids(new));
    Ok(())
}

fn cmd_get_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(br) = find_bridge(ctx, &c, &name, true)? else { return Ok(()) };
    let Some(cfg) = real_cfg(&c, br) else { return Ok(()) };
    ctx.db.verify("Bridge", &cfg, "fail_mode");
    if let Some(m) = ctx.db.get_str("Bridge", &cfg, "fail_mode").filter(|m| !m.is_empty()) {
        ctx.out.push_str(&format!("{m}\n"));
    }
    Ok(())
}

fn cmd_del_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    ctx.db.write("Bridge", &cfg, "fail_mode", Datum::Set(BTreeSet::new()));
    Ok(())
}

fn cmd_set_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    let mode = ctx.argv[2].clone();
    if mode != "standalone" && mode != "secure" {
        return fail("fail-mode must be \"standalone\" or \"secure\"");
    }
    ctx.db.write("Bridge", &cfg, "fail_mode", s(&mode));
    Ok(())
}

fn verify_managers(ctx: &mut Ctx) {
    let ovs = ctx.ovs;
    ctx.db.verify("Open_vSwitch", &ovs, "manager_options");
    for m in ctx.db.get_uuids("Open_vSwitch", &ovs, "manager_options") {
        ctx.db.verify("Manager", &m, "target");
    }
}

fn cmd_get_manager(ctx: &mut Ctx) -> CmdResult {
    verify_managers(ctx);
    let ovs = ctx.ovs;
    let v: BTreeSet<String> =
        ctx.db.get_uuids("Open_vSwitch", &ovs, "manager_options").iter().filter_map(|u| ctx.db.get_str("Manager", u, "target")).collect();
    output_sorted(&mut ctx.out, v.into_iter().collect());
    Ok(())
}

fn delete_managers(ctx: &mut Ctx) {
    let ovs = ctx.ovs;
    for u in ctx.db.get_uuids("Open_vSwitch", &ovs, "manager_options") {
        ctx.db.delete("Manager", &u);
    }
    ctx.db.write("Open_vSwitch", &ovs, "manager_options", set_uuids([]));
}

fn cmd_del_manager(ctx: &mut Ctx) -> CmdResult {
    verify_managers(ctx);
    delete_managers(ctx);
    Ok(())
}

fn cmd_set_manager(ctx: &mut Ctx) -> CmdResult {
    verify_managers(ctx);
    delete_managers(ctx);
    let probe = inactivity_probe(ctx);
    let mut new = Vec::new();
    for t in ctx.argv[1..].iter() {
        let u = Uuid::new_v4();
        ctx.db.insert("Manager", u);
        ctx.db.write("Manager", &u, "target", s(t));
        if let Some(p) = probe {
            ctx.db.write("Manager", &u, "inactivity_probe", Datum::scalar(Atom::Integer(p)));
        }
        new.push(u);
    }
    let ovs = ctx.ovs;
    ctx.db.write("Open_vSwitch", &ovs, "manager_options", set_uuids(new));
    Ok(())
}

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

fn cmd_show(ctx: &mut Ctx) -> CmdResult {
    let mut shown = BTreeSet::new();
    let mut out = String::new();
    for row in ctx.db.rows("Open_vSwitch") {
        show_row(ctx.db, "Open_vSwitch", &row, 0, &mut shown, &mut out);
    }
    ctx.out.push_str(&out);
    Ok(())
}

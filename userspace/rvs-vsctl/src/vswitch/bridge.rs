//! Bridge commands: `add-br` (real and VLAN bridges), `del-br`, `list-br`, `br-exists`, `br-to-vlan`,
//! `br-to-parent` and the bridge external-ids.

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use super::cache::{check_conflicts, find_bridge, populate, Cache, VBridge};
use super::port::del_port;
use super::{add_ref, atoi, del_ref, new_iface, new_port, output_sorted, s, set_uuids};
use crate::cmd::{fail, CmdResult, Ctx, Fail};
use crate::model::Db;

/// A bridge's local port: port `name` with its one interface `name` of type `internal`.
fn new_internal_port(db: &mut Db, name: &str) -> Uuid {
    let iface = new_iface(db, name);
    db.write("Interface", &iface, "type", s("internal"));
    new_port(db, name, &[iface])
}

pub(super) fn cmd_add_br(ctx: &mut Ctx) -> CmdResult {
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
            let port = new_internal_port(ctx.db, &br_name);
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
            let port = new_internal_port(ctx.db, &br_name);
            ctx.db.write("Port", &port, "fake_bridge", Datum::scalar(Atom::Boolean(true)));
            ctx.db.write("Port", &port, "tag", Datum::scalar(Atom::Integer(vlan)));
            add_ref(ctx.db, "Bridge", &br, "ports", port);
        }
    }
    Ok(())
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

pub(super) fn cmd_del_br(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if find_bridge(ctx, &c, &name, must_exist)?.is_some() {
        del_bridge(ctx, &c, &name);
    }
    Ok(())
}

pub(super) fn cmd_list_br(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_br_exists(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if find_bridge(ctx, &c, &name, false)?.is_none() {
        return Err(Fail::Exit(2));
    }
    Ok(())
}

pub(super) fn cmd_br_to_vlan(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(br) = find_bridge(ctx, &c, &name, true)? {
        ctx.out.push_str(&format!("{}\n", br.vlan));
    }
    Ok(())
}

pub(super) fn cmd_br_to_parent(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_br_set_external_id(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_br_get_external_id(ctx: &mut Ctx) -> CmdResult {
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

//! The bridge/port/interface view the vswitch commands work on (`struct vsctl_context` in `ovs-vsctl.c`):
//! real and VLAN ("fake") bridges, ports and interfaces by name, recomputed from the local database, with the
//! lookups (`find_bridge`, `find_port`, …) that verify what they read and the name-conflict check.

use std::collections::{BTreeMap, BTreeSet};

use ovsdb::atom::Atom;
use uuid::Uuid;

use crate::cmd::{fail, CmdResult, Ctx, Fail};
use crate::model::Db;

pub(super) struct VBridge {
    pub(super) cfg: Option<Uuid>,
    pub(super) parent: Option<String>,
    pub(super) vlan: i64,
    pub(super) ports: Vec<String>,
    pub(super) children: BTreeMap<i64, String>,
}

pub(super) struct VPort {
    pub(super) cfg: Uuid,
    pub(super) bridge: String,
    pub(super) ifaces: Vec<String>,
}

pub(super) struct VIface {
    pub(super) cfg: Uuid,
    pub(super) port: String,
}

/// Bridges (real and fake), ports and interfaces by name.
#[derive(Default)]
pub(super) struct Cache {
    pub(super) bridges: BTreeMap<String, VBridge>,
    pub(super) ports: BTreeMap<String, VPort>,
    pub(super) ifaces: BTreeMap<String, VIface>,
}

pub(super) fn name_of(db: &Db, table: &str, u: &Uuid) -> String {
    db.get_str(table, u, "name").unwrap_or_default()
}

fn fake_bridge_tag(db: &Db, port: &Uuid) -> Option<i64> {
    let fake = db.get("Port", port, "fake_bridge").as_scalar() == Some(&Atom::Boolean(true));
    let tag = db.get("Port", port, "tag").as_scalar().and_then(Atom::as_integer);
    tag.filter(|t| fake && (0..=4095).contains(t))
}

pub(super) fn populate(ctx: &mut Ctx) -> Cache {
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

pub(super) fn verify_ports(ctx: &mut Ctx) {
    verify_bridges(ctx);
    for b in ctx.db.rows("Bridge") {
        ctx.db.verify("Bridge", &b, "ports");
    }
    for p in ctx.db.rows("Port") {
        ctx.db.verify("Port", &p, "interfaces");
    }
}

pub(super) fn find_bridge<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VBridge>, Fail> {
    let br = c.bridges.get(name);
    if must_exist && br.is_none() {
        return fail(format!("no bridge named {name}"));
    }
    verify_bridges(ctx);
    Ok(br)
}

pub(super) fn find_real_bridge<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str) -> Result<&'c VBridge, Fail> {
    let Some(br) = find_bridge(ctx, c, name, true)? else { return fail(format!("no bridge named {name}")) };
    if br.parent.is_some() {
        return fail(format!("{name} is a fake bridge"));
    }
    Ok(br)
}

pub(super) fn find_port<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VPort>, Fail> {
    let p = c.ports.get(name).filter(|p| p.bridge != name);
    if must_exist && p.is_none() {
        return fail(format!("no port named {name}"));
    }
    verify_ports(ctx);
    Ok(p)
}

pub(super) fn find_iface<'c>(ctx: &mut Ctx, c: &'c Cache, name: &str, must_exist: bool) -> Result<Option<&'c VIface>, Fail> {
    let i = c.ifaces.get(name).filter(|i| c.ports.get(&i.port).is_none_or(|p| p.bridge != name));
    if must_exist && i.is_none() {
        return fail(format!("no interface named {name}"));
    }
    verify_ports(ctx);
    Ok(i)
}

/// The real bridge row behind bridge `br` (its parent's for a fake bridge).
pub(super) fn real_cfg(c: &Cache, br: &VBridge) -> Option<Uuid> {
    match &br.parent {
        Some(p) => c.bridges.get(p).and_then(|p| p.cfg),
        None => br.cfg,
    }
}

pub(super) fn check_conflicts(ctx: &mut Ctx, c: &Cache, name: &str, msg: &str) -> CmdResult {
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

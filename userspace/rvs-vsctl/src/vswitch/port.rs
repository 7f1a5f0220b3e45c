//! Port, bond and interface commands: `list-ports`, `add-port`, `add-bond`, `add-bond-iface`,
//! `del-bond-iface`, `del-port`, `port-to-br`, `list-ifaces`, `iface-to-br`.

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use super::cache::{check_conflicts, find_bridge, find_iface, find_port, name_of, populate, real_cfg, verify_ports, Cache};
use super::{add_ref, del_ref, new_iface, new_port, output_sorted};
use crate::cmd::{fail, CmdResult, Ctx};

pub(super) fn del_port(ctx: &mut Ctx, c: &Cache, pname: &str) {
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

pub(super) fn cmd_list_ports(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_add_port(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has("--may-exist");
    let argv = ctx.argv.to_vec();
    add_port(ctx, &argv[1], &argv[2], may_exist, false, &argv[2..3], &argv[3..])
}

pub(super) fn cmd_add_bond(ctx: &mut Ctx) -> CmdResult {
    let may_exist = ctx.has("--may-exist");
    let fake_iface = ctx.has("--fake-iface");
    let argv = ctx.argv.to_vec();
    let n_ifaces = argv[3..].iter().position(|a| a.contains('=')).unwrap_or(argv.len() - 3);
    if n_ifaces < 2 {
        return fail(format!("add-bond requires at least 2 interfaces, but only {n_ifaces} were specified"));
    }
    add_port(ctx, &argv[1], &argv[2], may_exist, fake_iface, &argv[3..3 + n_ifaces], &argv[3 + n_ifaces..])
}

pub(super) fn cmd_add_bond_iface(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_del_bond_iface(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_del_port(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_port_to_br(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(p) = find_port(ctx, &c, &name, true)? {
        ctx.out.push_str(&format!("{}\n", p.bridge));
    }
    Ok(())
}

pub(super) fn cmd_list_ifaces(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_iface_to_br(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    if let Some(i) = find_iface(ctx, &c, &name, true)? {
        let br = c.ports.get(&i.port).map(|p| p.bridge.clone()).unwrap_or_default();
        ctx.out.push_str(&format!("{br}\n"));
    }
    Ok(())
}

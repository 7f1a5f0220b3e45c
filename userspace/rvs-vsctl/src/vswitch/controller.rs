//! Commands that set where a switch connects and how it behaves without a controller: a bridge's controllers
//! and fail mode, and the database's managers.

use std::collections::BTreeSet;

use ovsdb::atom::Atom;
use ovsdb::datum::Datum;
use uuid::Uuid;

use super::cache::{find_bridge, find_real_bridge, populate, real_cfg};
use super::{atoi, output_sorted, s, set_uuids};
use crate::cmd::{fail, CmdResult, Ctx};

/// Verifies a reference column (`controller`, `manager_options`) and the `target` of each row it names.
fn verify_targets(ctx: &mut Ctx, table: &str, row: &Uuid, column: &str, target_table: &str) {
    ctx.db.verify(table, row, column);
    for u in ctx.db.get_uuids(table, row, column) {
        ctx.db.verify(target_table, &u, "target");
    }
}

/// New `target_table` rows, one per target, with the `--inactivity-probe` option when given.
fn new_targets(ctx: &mut Ctx, target_table: &str, targets: &[String]) -> Vec<Uuid> {
    let probe = inactivity_probe(ctx);
    let mut new = Vec::new();
    for t in targets {
        let u = Uuid::new_v4();
        ctx.db.insert(target_table, u);
        ctx.db.write(target_table, &u, "target", s(t));
        if let Some(p) = probe {
            ctx.db.write(target_table, &u, "inactivity_probe", Datum::scalar(Atom::Integer(p)));
        }
        new.push(u);
    }
    new
}

fn verify_controllers(ctx: &mut Ctx, br: &Uuid) {
    verify_targets(ctx, "Bridge", br, "controller", "Controller");
}

pub(super) fn cmd_get_controller(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_del_controller(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_set_controller(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    verify_controllers(ctx, &cfg);
    delete_controllers(ctx, &cfg);
    let targets = ctx.argv[2..].to_vec();
    let new = new_targets(ctx, "Controller", &targets);
    ctx.db.write("Bridge", &cfg, "controller", set_uuids(new));
    Ok(())
}

pub(super) fn cmd_get_fail_mode(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_del_fail_mode(ctx: &mut Ctx) -> CmdResult {
    let c = populate(ctx);
    let name = ctx.argv[1].clone();
    let Some(cfg) = find_real_bridge(ctx, &c, &name)?.cfg else { return Ok(()) };
    ctx.db.write("Bridge", &cfg, "fail_mode", Datum::Set(BTreeSet::new()));
    Ok(())
}

pub(super) fn cmd_set_fail_mode(ctx: &mut Ctx) -> CmdResult {
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
    verify_targets(ctx, "Open_vSwitch", &ovs, "manager_options", "Manager");
}

pub(super) fn cmd_get_manager(ctx: &mut Ctx) -> CmdResult {
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

pub(super) fn cmd_del_manager(ctx: &mut Ctx) -> CmdResult {
    verify_managers(ctx);
    delete_managers(ctx);
    Ok(())
}

pub(super) fn cmd_set_manager(ctx: &mut Ctx) -> CmdResult {
    verify_managers(ctx);
    delete_managers(ctx);
    let targets = ctx.argv[1..].to_vec();
    let new = new_targets(ctx, "Manager", &targets);
    let ovs = ctx.ovs;
    ctx.db.write("Open_vSwitch", &ovs, "manager_options", set_uuids(new));
    Ok(())
}

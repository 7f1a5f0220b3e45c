//! The daemon's unixctl commands (output shapes follow `ovs-appctl`'s):
//! `version`, `exit [--cleanup]`, `vlog/set SPEC...`, `vlog/list`, `vlog/reopen`,
//! `fdb/show BRIDGE`, `fdb/flush [BRIDGE]`, `dpif/show`, `dpif/dump-flows [-m] BRIDGE`,
//! `ofproto/trace BRIDGE FLOW` (FLOW in the datapath syntax, `in_port` by number or interface
//! name; nothing is learned; each OpenFlow table's rule is shown), `bridge/dump-flows BRIDGE`
//! (the OpenFlow rules with their counters, in `ovs-ofctl dump-flows` form), `upcall/show`;
//! `bond/show [PORT]` lives in [`crate::bond`].

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use rvs_core::key::FlowKey;

use crate::bridge::Vswitchd;
use crate::mac_learning::fmt_mac;
use crate::ofproto::OFPP_LOCAL;
use crate::unixctl::Server;
use crate::{odp, upcall, vlog};

/// The version string.
pub fn version() -> String {
    format!("rvs-vswitchd (rvs) {}", env!("CARGO_PKG_VERSION"))
}

/// Registers every command on `s`.
pub fn register(s: &Server, vs: &Arc<Vswitchd>) {
    s.register("version", "", 0, 0, |_| Ok(version() + "\n"));
    crate::bond::register(s, vs);
    crate::lacp::register(s, vs);
    let v = vs.clone();
    s.register("exit", "[--cleanup]", 0, 1, move |a| {
        match a.first().map(String::as_str) {
            None => {}
            Some("--cleanup") => v.cleanup.store(true, Ordering::Release),
            Some(o) => return Err(format!("unknown option {o}")),
        }
        v.exiting.store(true, Ordering::Release);
        Ok(String::new())
    });
    s.register("vlog/set", "{spec | PATTERN:destination:pattern}", 0, usize::MAX, |a| {
        for spec in a {
            vlog::set(spec)?;
        }
        Ok(String::new())
    });
    s.register("vlog/list", "", 0, 0, |_| Ok(vlog::list()));
    s.register("vlog/reopen", "", 0, 0, |_| vlog::reopen().map(|()| String::new()).map_err(|e| e.to_string()));
    let v = vs.clone();
    s.register("fdb/show", "BRIDGE", 1, 1, move |a| fdb_show(&v, &a[0]));
    let v = vs.clone();
    s.register("fdb/flush", "[BRIDGE]", 0, 1, move |a| {
        for b in v.switch.bridges() {
            if a.first().is_none_or(|n| *n == b.name) {
                b.macs.lock().unwrap_or_else(|p| p.into_inner()).flush();
            }
        }
        Ok("table successfully flushed\n".into())
    });
    let v = vs.clone();
    s.register("dpif/show", "", 0, 0, move |_| dpif_show(&v));
    let v = vs.clone();
    s.register("dpif/dump-flows", "[-m] BRIDGE", 1, 2, move |a| {
        let (verbose, br) = match a {
            [m, b] if m == "-m" => (true, b),
            [b] => (false, b),
            _ => return Err("usage: dpif/dump-flows [-m] BRIDGE".into()),
        };
        dump_flows(&v, br, verbose)
    });
    let v = vs.clone();
    s.register("bridge/dump-flows", "BRIDGE", 1, 1, move |a| bridge_dump_flows(&v, &a[0]));
    let v = vs.clone();
    s.register("ofproto/trace", "BRIDGE FLOW", 2, 2, move |a| trace(&v, &a[0], &a[1]));
    let v = vs.clone();
    s.register("upcall/show", "", 0, 0, move |_| {
        let mut out = String::new();
        for b in v.all_backers() {
            let c = &b.counters;
            let l = |x: &std::sync::atomic::AtomicU64| x.load(Ordering::Relaxed);
            let m = b.inline_miss_counts();
            let _ = writeln!(
                out,
                "{}@{}:\n  flows: {} (flow limit {})\n  upcalls: {}\n  flows installed: {}\n  install errors: {}\n  not installed (flow limit): {}\n  idle flows removed: {}\n  flows revalidated: {}",
                upcall::type_name(b.ty),
                b.name,
                l(&c.n_flows),
                v.switch.flow_limit(),
                l(&c.upcalls),
                l(&c.flows_installed) + m.installed,
                l(&c.put_errors) + m.put_errors,
                l(&c.not_installed) + m.not_installed,
                l(&c.idle_removed),
                l(&c.revalidated)
            );
        }
        Ok(out)
    });
}

fn fdb_show(vs: &Vswitchd, name: &str) -> Result<String, String> {
    let b = vs.switch.bridge(name).ok_or_else(|| format!("no such bridge {name}"))?;
    let mut out = String::from(" port  VLAN  MAC                Age\n");
    let entries = b.macs.lock().unwrap_or_else(|p| p.into_inner()).entries(Instant::now());
    for (port, vlan, mac, age) in entries {
        let p = if port == OFPP_LOCAL { "LOCAL".to_string() } else { port.to_string() };
        let _ = writeln!(out, "{p:>5}  {vlan:>4}  {}  {:>3}", fmt_mac(&mac), age.as_secs());
    }
    Ok(out)
}

fn bridge_dump_flows(vs: &Vswitchd, name: &str) -> Result<String, String> {
    use rvs_openflow::msg::{FlowStatsRequest, MultipartReplyBody, MultipartRequest, MultipartRequestBody};
    let b = vs.switch.bridge(name).ok_or_else(|| format!("no such bridge {name}"))?;
    let req = MultipartRequest { flags: 0, body: MultipartRequestBody::Flow(FlowStatsRequest::default()) };
    let pl = b.pipeline.read().unwrap_or_else(|p| p.into_inner());
    let replies = pl.stats(&req, Instant::now()).map_err(|e| format!("{e:?}"))?;
    let mut out = String::new();
    // Hidden rules (in-band control) first, as Open vSwitch lists them: above every OpenFlow rule.
    for h in pl.hidden_rules().specs() {
        let _ = writeln!(out, "{h}");
    }
    drop(pl);
    for r in replies {
        if let MultipartReplyBody::Flow(v) = r.body {
            for f in v {
                let _ = writeln!(out, "{}", rvs_openflow::text::format_flow_stats(&f, rvs_openflow::Version::OF13));
            }
        }
    }
    Ok(out)
}

fn dpif_show(vs: &Vswitchd) -> Result<String, String> {
    let mut out = String::new();
    for bk in vs.all_backers() {
        let info = bk.dpif.lock().unwrap_or_else(|p| p.into_inner()).info().map_err(|e| e.to_string())?;
        let _ = writeln!(out, "{}@{}: hit:{} missed:{}", upcall::type_name(bk.ty), bk.name, info.stats.n_hit, info.stats.n_missed);
        for b in vs.switch.bridges() {
            let cfg = b.config();
            if cfg.dp_type.0 != bk.ty {
                continue;
            }
            let _ = writeln!(out, "  {}:", cfg.name);
            let mut ports: Vec<_> = cfg.ports.values().collect();
            ports.sort_by(|a, b| a.name.cmp(&b.name));
            for p in ports {
                let ty = if p.iface_type.is_empty() { upcall::type_name(bk.ty) } else { p.iface_type.as_str() };
                let ofp = if p.ofport == OFPP_LOCAL { "65534".to_string() } else { p.ofport.to_string() };
                match cfg.patches.get(&p.ofport) {
                    Some(peer) => {
                        let _ = writeln!(out, "    {} {ofp}/none: (patch: peer={})", p.name, peer.iface);
                    }
                    None => {
                        let _ = writeln!(out, "    {} {ofp}/{}: ({ty})", p.name, p.dp_port);
                    }
                }
            }
        }
    }
    Ok(out)
}

fn dump_flows(vs: &Vswitchd, name: &str, verbose: bool) -> Result<String, String> {
    let b = vs.switch.bridge(name).ok_or_else(|| format!("no such bridge {name}"))?;
    let cfg = b.config();
    let bk = vs.backer(cfg.dp_type.0).ok_or_else(|| format!("bridge {name} has no datapath"))?;
    let flows = bk.dpif.lock().unwrap_or_else(|p| p.into_inner()).flow_dump(Default::default()).map_err(|e| e.to_string())?;
    let now = rvs_dpif::monotonic_ms();
    let mut out = String::new();
    for f in flows {
        let in_port = odp::decode_flow(&f).map(|(k, _)| k.in_port()).ok();
        if in_port.is_some_and(|p| cfg.by_dp.contains_key(&p)) {
            out += &odp::format_flow(&f, verbose, now);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Replaces `in_port(NAME)` by the interface's datapath port number.
fn resolve_in_port(vs: &Vswitchd, bridge: &str, flow: &str) -> Result<String, String> {
    let Some(start) = flow.find("in_port(") else { return Ok(flow.to_string()) };
    let arg_start = start + "in_port(".len();
    let Some(len) = flow[arg_start..].find(')') else { return Ok(flow.to_string()) };
    let arg = &flow[arg_start..arg_start + len];
    if arg.parse::<u32>().is_ok() {
        return Ok(flow.to_string());
    }
    let b = vs.switch.bridge(bridge).ok_or_else(|| format!("no such bridge {bridge}"))?;
    let cfg = b.config();
    let p = cfg.ports.values().find(|p| p.name == arg).ok_or_else(|| format!("{arg} is not an interface of bridge {bridge}"))?;
    Ok(format!("{}{}{}", &flow[..arg_start], p.dp_port, &flow[arg_start + len..]))
}

fn trace(vs: &Vswitchd, bridge: &str, flow: &str) -> Result<String, String> {
    let b = vs.switch.bridge(bridge).ok_or_else(|| format!("no such bridge {bridge}"))?;
    let cfg = b.config();
    let text = resolve_in_port(vs, bridge, flow)?;
    let (key, mask) = rvs_core::text::key::parse_match(&text).map_err(|e| format!("{flow}: {} (at byte {})", e.msg, e.offset))?;
    if !cfg.by_dp.contains_key(&key.in_port()) {
        return Err(format!("in_port {} is not a port of bridge {bridge}", key.in_port()));
    }
    let key: FlowKey = key.masked(&mask);
    let (x, _) = upcall::translate(cfg.dp_type.0, &vs.switch, key, false, true).ok_or("the input port has no bridge")?;
    let mut out = format!("Flow: {}\n", odp::format_match(&key, &mask));
    let lines = x.trace.clone().unwrap_or_default();
    if let Some((first, rest)) = lines.split_first() {
        let _ = writeln!(out, "\n{first}\n{}", "-".repeat(first.len()));
        // As ovs-appctl: each OpenFlow table's line ("N. match, cookie, actions") flush, what
        // happened inside it indented.
        let is_table_line = |l: &str| l.split_once(". ").is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        for l in rest {
            if is_table_line(l) {
                let _ = writeln!(out, " {l}");
            } else {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    let (mkey, wc) = x.megaflow();
    let final_flow = if x.flow == x.orig { "unchanged".to_string() } else { odp::format_match(&x.flow, &mask) };
    let _ = writeln!(out, "\nFinal flow: {final_flow}\nMegaflow: {}\nDatapath actions: {}", odp::format_match(&mkey, &wc), odp::format_actions(x.actions.bytes()));
    Ok(out)
}

//! In-VM probe of the kernel dpif against a real datapath module (run by
//! `tests/dpif/dpctl-openvswitch.sh`, as root, with nothing else using the module).
//!
//! `dpif-probe DP PORT_A PORT_B NETNS DST_IP`: creates datapath DP (negotiating features),
//! checks the port notifier, adds PORT_A/PORT_B (veths whose peers live in netns hosts), sets up
//! upcall handlers with per-CPU dispatch and checks that a ping from NETNS to DST_IP comes up as
//! a miss upcall; then falls back to per-vport dispatch and checks the same; then exercises
//! flow put/get/dump/del/flush, packet execute and meters; finally deletes DP.
//! Prints one `PASS:`/`FAIL:` line per check, exits non-zero on any failure.
//!
//! Flow keys and actions are hand-encoded here until the core's codec lands.

use std::process::{Command, ExitCode};

use rvs_core::nla::Attrs;
use rvs_core::ovs_abi::*;
use rvs_dpif::*;

struct Checks {
    failed: bool,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            println!("PASS: {name}");
        } else {
            println!("FAIL: {name}: {detail}");
            self.failed = true;
        }
    }
}

fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn key_in_port(key: &[u8]) -> Option<u32> {
    Attrs::new(key).filter_map(Result::ok).find(|a| a.kind == OVS_KEY_ATTR_IN_PORT).and_then(|a| a.u32_ne())
}

fn ping(ns: &str, dst: &str) {
    let _ = Command::new("ip").args(["netns", "exec", ns, "ping", "-c", "1", "-W", "1", dst]).output();
}

/// Pings, then drains the handlers; returns the upcalls received.
fn upcalls_after_ping(handlers: &mut [Box<dyn UpcallHandler>], ns: &str, dst: &str) -> Result<Vec<Upcall>> {
    ping(ns, dst);
    let mut got = Vec::new();
    for _ in 0..20 {
        for h in handlers.iter_mut() {
            if h.wait(100)? {
                h.recv_batch(64, &mut got)?;
            }
        }
        if !got.is_empty() {
            break;
        }
    }
    let odd: u64 = handlers.iter().map(|h| h.overflows()).sum();
    if got.is_empty() {
        println!("note: no upcall received ({odd} socket overflows)");
    }
    Ok(got)
}

fn run(c: &mut Checks, dp_name: &str, a: &str, b: &str, ns: &str, dst: &str) -> Result<()> {
    let mut dp = KernelDpif::create(dp_name)?;
    let info = dp.info()?;
    c.check(
        "datapath created with negotiated features",
        info.user_features & FALLBACK_FEATURES == FALLBACK_FEATURES,
        format!("features {:#x}", info.user_features),
    );
    c.check(
        "per-CPU dispatch negotiated (Linux >= 5.15 module)",
        dp.dispatch() == Some(Dispatch::PerCpu),
        format!("{:?}", dp.dispatch()),
    );
    let fam = dp.families();
    c.check("all OVS families resolved", fam.meter.is_some() && fam.vport_mcgroup.is_some(), format!("{fam:?}"));

    let mut notifier = dp.port_notifier()?;
    let pa = dp.port_add(&PortSpec { name: a.into(), port_type: PortType::Netdev, port_no: None, dst_port: None })?;
    let pb = dp.port_add(&PortSpec { name: b.into(), port_type: PortType::Netdev, port_no: None, dst_port: None })?;
    c.check("ports numbered 1 and 2", (pa, pb) == (1, 2), format!("{pa} {pb}"));
    notifier.wait(1000)?;
    let changes = notifier.poll()?;
    c.check(
        "port notifier saw both additions",
        changes.iter().filter(|ch| matches!(ch, PortChange::New(p) if p.name == a || p.name == b)).count() == 2,
        format!("{changes:?}"),
    );

    // Per-CPU dispatch: two handlers, the CPU table points at them.
    let mut handlers = dp.recv_set(2)?;
    let pids: Vec<u32> = handlers.iter().map(|h| h.pid()).collect();
    let info = dp.info()?;
    c.check(
        "OVS_DP_ATTR_PER_CPU_PIDS holds the handler sockets",
        !info.per_cpu_pids.is_empty() && info.per_cpu_pids.iter().all(|p| pids.contains(p)) && info.per_cpu_pids[0] == pids[0],
        format!("dp {:?} handlers {pids:?}", info.per_cpu_pids),
    );
    let ups = upcalls_after_ping(&mut handlers, ns, dst)?;
    c.check(
        "per-CPU dispatch: ping arrives as a miss upcall with in_port",
        ups.iter().any(|u| u.kind == UpcallKind::Miss && key_in_port(&u.key) == Some(pa) && !u.packet.is_empty()),
        format!("{} upcalls: {:?}", ups.len(), ups.iter().map(|u| (u.kind, key_in_port(&u.key))).collect::<Vec<_>>()),
    );
    let st = dp.info()?.stats;
    c.check("misses counted, none lost", st.n_missed >= 1 && st.n_lost == 0, format!("{st:?}"));

    // Fall back to per-vport dispatch: every port lists the handler sockets.
    let f = dp.set_features(FALLBACK_FEATURES)?;
    c.check("fallback features set", f == FALLBACK_FEATURES && dp.dispatch() == Some(Dispatch::PerVport), format!("{f:#x}"));
    drop(handlers);
    let mut handlers = dp.recv_set(1)?;
    let pid = handlers[0].pid();
    let port = dp.port_get(pa)?;
    c.check("per-vport dispatch: port upcall PIDs = handler", port.upcall_pids == vec![pid], format!("{:?} vs {pid}", port.upcall_pids));
    let ups = upcalls_after_ping(&mut handlers, ns, dst)?;
    c.check(
        "per-vport dispatch: ping arrives as a miss upcall",
        ups.iter().any(|u| u.kind == UpcallKind::Miss && key_in_port(&u.key) == Some(pa)),
        format!("{} upcalls", ups.len()),
    );
    let c_port = dp.port_add(&PortSpec { name: "probe-int".into(), port_type: PortType::Internal, port_no: Some(9), dst_port: None })?;
    let p9 = dp.port_get_by_name("probe-int")?;
    c.check(
        "internal port at requested number inherits handler PIDs",
        c_port == 9 && p9.port_type == PortType::Internal && p9.upcall_pids == vec![pid],
        format!("{p9:?}"),
    );
    dp.port_del(9)?;

    // Flows (hand-encoded key: in_port, ethernet, ethertype LLDP; drop actions).
    let mut key = attr(OVS_KEY_ATTR_IN_PORT, &pa.to_ne_bytes());
    key.extend(attr(OVS_KEY_ATTR_ETHERNET, &[0x02, 0, 0, 0, 0, 1, 0x01, 0x80, 0xc2, 0, 0, 0x0e]));
    key.extend(attr(OVS_KEY_ATTR_ETHERTYPE, &0x88ccu16.to_be_bytes()));
    let ufid = [0x5a; 16];
    let put = FlowPut { key: &key, mask: None, actions: &[], ufid: Some(&ufid), flags: PutFlags { create: true, ..Default::default() } };
    dp.flow_put(&put)?;
    let again = dp.flow_put(&put);
    c.check(
        "create-only put of an existing flow fails with EEXIST",
        matches!(&again, Err(e) if e.errno() == Some(libc::EEXIST)),
        format!("{again:?}"),
    );
    let modify = FlowPut { flags: PutFlags { modify: true, ..Default::default() }, ..put };
    dp.flow_put(&modify)?;
    let got = dp.flow_get(FlowId::Ufid(&ufid))?;
    c.check("flow get by UFID returns the key", key_in_port(&got.key) == Some(pa) && got.ufid == Some(ufid), format!("{got:?}"));
    let terse = dp.flow_dump(DumpOptions { terse: true })?;
    c.check(
        "terse dump: one flow, UFID only",
        terse.len() == 1 && terse[0].ufid == Some(ufid) && terse[0].key.is_empty() && terse[0].actions.is_empty(),
        format!("{terse:?}"),
    );
    let full = dp.flow_dump(DumpOptions::default())?;
    c.check("full dump carries keys", full.len() == 1 && !full[0].key.is_empty(), format!("{full:?}"));
    let del = dp.flow_del(FlowId::Ufid(&ufid))?;
    c.check("flow del returns final stats", del.is_some(), format!("{del:?}"));
    dp.flow_put(&put)?;
    dp.flow_flush()?;
    c.check("flush empties the table", dp.flow_dump(DumpOptions::default())?.is_empty(), "flows left");
    let bad = dp.flow_put(&FlowPut { key: &[1, 2, 3], ..put });
    c.check(
        "malformed key rejected with the kernel's errno and extack message",
        matches!(&bad, Err(DpifError::Kernel { errno, extack: Some(m), .. }) if *errno > 0 && !m.is_empty()),
        format!("{bad:?}"),
    );

    // Execute: output one frame to port B; its TX counter moves.
    let before = dp.port_get(pb)?.stats.map_or(0, |s| s.tx_packets);
    let frame: Vec<u8> = [&[0xffu8; 6][..], &[0x02, 0, 0, 0, 0, 1], &[0x88, 0xb5], &[0u8; 46]].concat();
    let ekey = attr(OVS_KEY_ATTR_IN_PORT, &0u32.to_ne_bytes());
    let acts = attr(OVS_ACTION_ATTR_OUTPUT, &pb.to_ne_bytes());
    dp.execute(&Execute { packet: &frame, key: &ekey, actions: &acts, mru: None, probe: false })?;
    let after = dp.port_get(pb)?.stats.map_or(0, |s| s.tx_packets);
    c.check("execute output counted on port B", after == before + 1, format!("{before} -> {after}"));

    // Meters.
    let mf = dp.meter_features()?;
    c.check("meter features", mf.max_bands >= 1 && mf.max_meters >= 1, format!("{mf:?}"));
    dp.meter_set(&MeterConfig { id: 1, kbps: true, bands: vec![MeterBand { rate: 1000, burst: 100 }] })?;
    let ms = dp.meter_get(1)?;
    c.check("meter get", ms.bands.len() == 1, format!("{ms:?}"));
    dp.meter_del(1)?;
    c.check("meter deleted", dp.meter_get(1).is_err(), "still there");

    dp.port_del(pb)?;
    dp.port_del(pa)?;
    dp.destroy()?;
    let gone = KernelDpif::open(dp_name);
    c.check("datapath deleted", matches!(&gone, Err(e) if e.errno() == Some(libc::ENODEV)), format!("{gone:?}"));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dp, a, b, ns, dst] = args.as_slice() else {
        eprintln!("usage: dpif-probe DP PORT_A PORT_B NETNS DST_IP");
        return ExitCode::from(2);
    };
    let mut c = Checks { failed: false };
    if let Err(e) = run(&mut c, dp, a, b, ns, dst) {
        c.check("probe ran to completion", false, e);
        let _ = KernelControl::open().and_then(|mut k| k.delete(dp));
    }
    if c.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

//! Datapath backers and the packet side of the daemon.
//!
//! A [`Backer`] is one datapath shared by every bridge of its type, as in Open vSwitch:
//! `ovs-system` (the kernel datapath: `rvs.ko` or `openvswitch.ko`) and `ovs-netdev` (the
//! userspace datapath, living in this process). The upcall's input port tells which bridge a
//! packet belongs to. One datapath per type keeps port numbers and flows in one place and lets
//! patch ports become plain outputs later.
//!
//! Each backer runs:
//! - handler threads (one per CPU, each with its own upcall socket from `recv_set` and its own
//!   dpif handle): a miss is translated through the bridge's OpenFlow tables
//!   ([`crate::pipeline::xlate_pipeline`]; a bridge without controller reaches NORMAL through
//!   its default flow), its megaflow installed with a UFID derived from the megaflow, and the
//!   packet executed with the same actions; a handler receives up to 64 upcalls at once and
//!   installs their megaflows in one datapath round trip. Translations that send to a controller install
//!   nothing (slow path) and publish packet-ins; the miss packet is credited to the rules;
//! - a revalidator thread: every second (or at once after a configuration or MAC-table change)
//!   it dumps the flows, deletes those idle longer than `max-idle` (default 10 s) or whose
//!   bridge/port is gone, refreshes MAC-table entries of flows that saw traffic, and
//!   re-translates flows when their bridge's generation moved (a MAC-table change moves it only
//!   if some translation looked the changed address up, see [`crate::mac_learning`]) — modifying flows whose actions
//!   changed and deleting those that would now need a different mask; the traffic of active
//!   flows is credited to the OpenFlow rules their translation goes through, and OpenFlow rule
//!   timeouts are enforced (flow-removed events published). Flows found in a
//!   restarted daemon's datapath are revalidated the same way, so established traffic keeps
//!   flowing across a restart.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rvs_core::ovs::key_nl;
use rvs_dpif::{DatapathType, Dpif, DpifError, Execute, FlowId, FlowPut, KernelDpif, PutFlags, Upcall, UpcallHandler, UpcallKind, UserspaceDpif};

use crate::ofproto::Switch;
use crate::odp;
use crate::pipeline::{xlate::publish_packet_ins, xlate_pipeline, OfEvent};
use crate::xlate::Xlate;

/// Default idle time after which datapath flows are removed.
pub const DEFAULT_MAX_IDLE_MS: u64 = 10_000;

/// The datapath name for a type.
pub fn backer_name(ty: DatapathType) -> &'static str {
    match ty {
        DatapathType::System => "ovs-system",
        DatapathType::Userspace => "ovs-netdev",
    }
}

/// The name `dpif/show` gives a type.
pub fn type_name(ty: DatapathType) -> &'static str {
    match ty {
        DatapathType::System => "system",
        DatapathType::Userspace => "netdev",
    }
}

enum HandleSource {
    Kernel(String),
    Userspace(UserspaceDpif),
}

impl HandleSource {
    fn open(&self) -> Result<Box<dyn Dpif>, DpifError> {
        match self {
            HandleSource::Kernel(n) => Ok(Box::new(KernelDpif::open(n)?)),
            HandleSource::Userspace(u) => Ok(Box::new(u.handle())),
        }
    }
}

/// Upcall and revalidation counters of a backer.
#[derive(Debug, Default)]
pub struct Counters {
    /// Miss upcalls handled.
    pub upcalls: AtomicU64,
    /// Flows installed.
    pub flows_installed: AtomicU64,
    /// Flow installs that failed (other than "already exists").
    pub put_errors: AtomicU64,
    /// Flows removed for idleness.
    pub idle_removed: AtomicU64,
    /// Flows modified or removed by revalidation.
    pub revalidated: AtomicU64,
}

/// One datapath and its threads.
pub struct Backer {
    /// Datapath type.
    pub ty: DatapathType,
    /// Datapath name.
    pub name: String,
    /// The main handle: port changes, `recv_set`, dumps for commands.
    pub dpif: Mutex<Box<dyn Dpif>>,
    handles: HandleSource,
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Counters.
    pub counters: Arc<Counters>,
    /// Wakes the revalidator early.
    kick: Arc<AtomicBool>,
}

impl std::fmt::Debug for Backer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backer({}@{})", type_name(self.ty), self.name)
    }
}

impl Backer {
    /// Creates (or, for the kernel, claims an existing) datapath of `ty` and starts
    /// `n_handlers` handler threads and the revalidator.
    pub fn open(ty: DatapathType, switch: Arc<Switch>, n_handlers: usize) -> Result<Arc<Backer>, DpifError> {
        let name = backer_name(ty).to_string();
        let (mut dpif, handles): (Box<dyn Dpif>, HandleSource) = match ty {
            DatapathType::System => {
                let d = match KernelDpif::create(&name) {
                    Ok(d) => d,
                    Err(e) if e.errno() == Some(libc::EEXIST) => {
                        crate::info!("bridge", "reusing the existing datapath {name} (flows are revalidated)");
                        KernelDpif::open_negotiate(&name)?
                    }
                    Err(e) => return Err(e),
                };
                (Box::new(d), HandleSource::Kernel(name.clone()))
            }
            DatapathType::Userspace => {
                let d = UserspaceDpif::create(&name)?;
                let h = d.handle();
                (Box::new(d), HandleSource::Userspace(h))
            }
        };
        let handlers = dpif.recv_set(n_handlers.max(1))?;
        switch.telemetry.set_upcall_pid(ty, handlers.first().map(|h| h.pid()));
        let backer = Arc::new(Backer {
            ty,
            name: name.clone(),
            dpif: Mutex::new(dpif),
            handles,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Mutex::new(Vec::new()),
            counters: Arc::new(Counters::default()),
            kick: Arc::new(AtomicBool::new(false)),
        });
        let mut threads = Vec::new();
        for (i, h) in handlers.into_iter().enumerate() {
            let d = backer.handles.open()?;
            let (sw, stop, c) = (switch.clone(), backer.stop.clone(), backer.counters.clone());
            let t = std::thread::Builder::new()
                .name(format!("handler{i}"))
                .spawn(move || handler_loop(ty, h, d, &sw, &stop, &c))
                .map_err(|e| DpifError::Unsupported(format!("spawning a handler thread: {e}")))?;
            threads.push(t);
        }
        let d = backer.handles.open()?;
        let (stop, c, kick) = (backer.stop.clone(), backer.counters.clone(), backer.kick.clone());
        let t = std::thread::Builder::new()
            .name("revalidator".into())
            .spawn({
                let switch = switch.clone();
                move || revalidator_loop(ty, d, &switch, &stop, &c, &kick)
            })
            .map_err(|e| DpifError::Unsupported(format!("spawning the revalidator: {e}")))?;
        threads.push(t);
        *backer.threads.lock().unwrap_or_else(|p| p.into_inner()) = threads;
        switch.register_backer(ty, &backer);
        crate::info!("bridge", "datapath {}@{name} ready with {n_handlers} upcall handler(s)", type_name(ty));
        Ok(backer)
    }

    /// Asks the revalidator to run now.
    pub fn kick(&self) {
        self.kick.store(true, Ordering::Release);
    }

    /// Stops the threads; with `destroy`, deletes the datapath (a userspace datapath always
    /// goes with its process).
    pub fn shutdown(&self, destroy: bool) {
        self.stop.store(true, Ordering::Release);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        let mut d = self.dpif.lock().unwrap_or_else(|p| p.into_inner());
        if destroy || self.ty == DatapathType::Userspace {
            if let Err(e) = d.destroy() {
                crate::warn!("bridge", "deleting datapath {}: {e}", self.name);
            }
        }
    }
}

fn handler_loop(ty: DatapathType, mut h: Box<dyn UpcallHandler>, mut dpif: Box<dyn Dpif>, sw: &Switch, stop: &AtomicBool, c: &Counters) {
    const BATCH: usize = 64;
    let mut batch = Vec::with_capacity(BATCH);
    // After a full batch more upcalls are likely queued: receive again without polling first.
    let mut full = false;
    while !stop.load(Ordering::Acquire) {
        if !full {
            match h.wait(200) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    crate::warn!("upcall", "waiting for upcalls: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
        }
        batch.clear();
        match h.recv_batch(BATCH, &mut batch) {
            Ok(n) => full = n >= BATCH,
            Err(e) => {
                full = false;
                crate::warn!("upcall", "receiving upcalls: {e}");
                continue;
            }
        }
        handle_batch(ty, dpif.as_mut(), sw, &batch, c);
    }
}

/// Translates `key` through its bridge's OpenFlow tables; `None` if no bridge owns its input
/// port.
pub fn translate(ty: DatapathType, sw: &Switch, key: rvs_core::key::FlowKey, may_learn: bool, trace: bool) -> Option<(Xlate, Arc<crate::ofproto::Bridge>)> {
    let br = crate::tunnel::bridge_for_key(sw, ty, &key)?;
    let cfg = br.config();
    let mut x = Xlate::new(key, may_learn, trace);
    x.note(|| format!("bridge(\"{}\")", cfg.name));
    if crate::lacp::xlate(sw, ty, &cfg, &mut x) {
        return Some((x, br));
    }
    xlate_pipeline(&mut x, &br, &cfg);
    sw.telemetry.xlate_finish(ty, &br, &cfg, &mut x);
    Some((x, br))
}

/// A miss translated into a megaflow, waiting for its batch's put + execute.
struct Install<'a> {
    up: &'a Upcall,
    key: rvs_core::key::FlowKey,
    mkey: rvs_core::key::FlowKey,
    mask: rvs_core::key::FlowKey,
    kb: Vec<u8>,
    mb: Vec<u8>,
    ufid: [u8; 16],
    actions: Vec<u8>,
}

/// Handles a batch of upcalls: each miss is translated in order, then the megaflows of the
/// batch are installed (each with its packet executed) in one datapath round trip.
fn handle_batch(ty: DatapathType, dpif: &mut dyn Dpif, sw: &Switch, ups: &[Upcall], c: &Counters) {
    let installs: Vec<Install<'_>> = ups.iter().filter_map(|up| prepare(ty, dpif, sw, up, c)).collect();
    if installs.is_empty() {
        return;
    }
    let ops: Vec<(FlowPut<'_>, Option<Execute<'_>>)> = installs
        .iter()
        .map(|i| {
            let put = FlowPut { key: &i.kb, mask: Some(&i.mb), actions: &i.actions, ufid: Some(&i.ufid), flags: PutFlags { create: true, ..Default::default() } };
            // The miss's packet runs with the same actions, in the same datapath round trip as the put.
            let exec = (!i.actions.is_empty()).then_some(Execute { packet: &i.up.packet, key: &i.up.key, actions: &i.actions, mru: i.up.mru, probe: false });
            (put, exec)
        })
        .collect();
    let results = dpif.flow_put_execute_batch(&ops);
    for (i, r) in installs.iter().zip(results) {
        match r {
            Ok(()) => {
                c.flows_installed.fetch_add(1, Ordering::Relaxed);
                crate::dbg_log!("upcall", "installed {}, actions:{}", odp::format_match(&i.mkey, &i.mask), odp::format_actions(&i.actions));
            }
            Err(e) if e.errno() == Some(libc::EEXIST) => {}
            Err(e) => {
                c.put_errors.fetch_add(1, Ordering::Relaxed);
                crate::warn!("upcall", "installing {}: {e}", odp::format_match(&i.mkey, &i.mask));
            }
        }
        sw.telemetry.miss_packet(ty, sw, &i.key, &i.ufid, i.up.packet.len());
    }
}

/// Translates one upcall; returns the megaflow to install, if any (slow-path misses are
/// executed here, other upcalls go to telemetry).
fn prepare<'a>(ty: DatapathType, dpif: &mut dyn Dpif, sw: &Switch, up: &'a Upcall, c: &Counters) -> Option<Install<'a>> {
    if up.kind != UpcallKind::Miss {
        if crate::lacp::action_upcall(ty, sw, up) {
            return None;
        }
        sw.telemetry.action_upcall(ty, sw, up);
        return None;
    }
    c.upcalls.fetch_add(1, Ordering::Relaxed);
    let key = match key_nl::decode_key(&up.key) {
        Ok(k) => k,
        Err(e) => {
            crate::warn!("upcall", "undecodable upcall key: {e}");
            return None;
        }
    };
    let Some((x, br)) = translate(ty, sw, key, true, false) else {
        crate::dbg_log!("upcall", "miss on port {} that belongs to no bridge", key.in_port());
        return None;
    };
    if !x.rules.is_empty() {
        let len = u64::try_from(up.packet.len()).unwrap_or(u64::MAX);
        let mut pl = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
        pl.credit(&x.rules, 1, len, Instant::now());
        pl.credit_groups(&x.buckets, 1, len);
    }
    publish_packet_ins(&br, &x, &up.packet);
    if x.slow_path {
        execute_only(dpif, up, x.actions.bytes());
        return None;
    }
    let (mkey, mask) = x.megaflow();
    let (kb, mb) = match (odp::encode_key(&mkey), odp::encode_mask(&mkey, &mask)) {
        (Ok(k), Ok(m)) => (k, m),
        (Err(e), _) | (_, Err(e)) => {
            crate::warn!("upcall", "{e}");
            return None;
        }
    };
    let ufid = odp::ufid(&mkey, &mask);
    Some(Install { up, key, mkey, mask, kb, mb, ufid, actions: x.actions.bytes().to_vec() })
}

/// Executes `actions` on the upcall's packet.
fn execute_only(dpif: &mut dyn Dpif, up: &Upcall, actions: &[u8]) {
    if !actions.is_empty() {
        let e = Execute { packet: &up.packet, key: &up.key, actions, mru: up.mru, probe: false };
        if let Err(e) = dpif.execute(&e) {
            crate::dbg_log!("upcall", "execute: {e}");
        }
    }
}

fn revalidator_loop(ty: DatapathType, mut dpif: Box<dyn Dpif>, sw: &Switch, stop: &AtomicBool, c: &Counters, kick: &AtomicBool) {
    let mut seen_gen: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut last = Instant::now();
    let mut packets: HashMap<Vec<u8>, (u64, u64)> = HashMap::new();
    let mut first_seen: HashMap<Vec<u8>, Instant> = HashMap::new();
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(50));
        let now = Instant::now();
        for b in sw.bridges() {
            let max_idle = match b.config().max_idle_ms {
                0 => DEFAULT_MAX_IDLE_MS,
                n => n,
            };
            let mut m = b.macs.lock().unwrap_or_else(|p| p.into_inner());
            // A flow that looked a MAC up lives at most max-idle without being re-translated
            // (active flows are re-translated every pass, at least once a second).
            m.watch_ttl = Duration::from_millis(max_idle) + Duration::from_secs(5);
            m.expire(now);
        }
        let gens: BTreeMap<String, (u64, u64, u64)> = sw.bridges().iter().map(|b| (b.name.clone(), b.generation())).collect();
        let kicked = kick.swap(false, Ordering::AcqRel);
        if gens == seen_gen && !kicked && last.elapsed() < Duration::from_secs(1) {
            continue;
        }
        // OpenFlow rule timeouts (second granularity, after the last pass credited traffic).
        for b in sw.bridges() {
            if b.config().dp_type.0 == ty {
                let removed = b.pipeline.write().unwrap_or_else(|p| p.into_inner()).expire(now);
                for r in removed {
                    b.events.publish(OfEvent::FlowRemoved(r));
                }
            }
        }
        let changed: Vec<String> = gens.iter().filter(|(n, g)| seen_gen.get(*n) != Some(*g)).map(|(n, _)| n.clone()).collect();
        seen_gen = gens;
        last = now;
        let flows = match dpif.flow_dump(Default::default()) {
            Ok(f) => f,
            Err(e) => {
                crate::warn!("revalidator", "dumping flows: {e}");
                continue;
            }
        };
        let now_ms = rvs_dpif::monotonic_ms();
        let mut live_ids = std::collections::HashSet::new();
        for f in &flows {
            let id_bytes = f.ufid.map_or_else(|| f.key.clone(), |u| u.to_vec());
            live_ids.insert(id_bytes.clone());
            let fid = match &f.ufid {
                Some(u) => FlowId::Ufid(u),
                None => FlowId::Key(&f.key),
            };
            let verdict = revalidate_one(ty, sw, f, &changed, &id_bytes, &mut packets, &mut first_seen, now, now_ms);
            sw.telemetry.flow_dumped(ty, sw, f, matches!(verdict, Verdict::Delete(_)), now_ms);
            match verdict {
                Verdict::Keep => {}
                Verdict::Delete(why) => {
                    crate::dbg_log!("revalidator", "deleting flow ({why}): {}", odp::format_flow(f, false, now_ms));
                    if why == "idle" {
                        c.idle_removed.fetch_add(1, Ordering::Relaxed);
                    } else {
                        c.revalidated.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Err(e) = dpif.flow_del(fid) {
                        crate::dbg_log!("revalidator", "deleting flow: {e}");
                    }
                }
                Verdict::Modify(actions) => {
                    c.revalidated.fetch_add(1, Ordering::Relaxed);
                    let put = FlowPut {
                        key: &f.key,
                        mask: (!f.mask.is_empty()).then_some(f.mask.as_slice()),
                        actions: &actions,
                        ufid: f.ufid.as_ref(),
                        flags: PutFlags { modify: true, ..Default::default() },
                    };
                    if let Err(e) = dpif.flow_put(&put) {
                        crate::dbg_log!("revalidator", "modifying flow: {e}");
                    }
                }
            }
        }
        sw.telemetry.dump_done(ty, sw);
        packets.retain(|k, _| live_ids.contains(k));
        first_seen.retain(|k, _| live_ids.contains(k));
    }
}

/// The mask as the datapath codec reads it back (what a dump returns).
fn canonical_mask(key: &rvs_core::key::FlowKey, mask: &rvs_core::key::FlowKey) -> Option<rvs_core::key::FlowKey> {
    let kb = odp::encode_key(key).ok()?;
    let mb = odp::encode_mask(key, mask).ok()?;
    key_nl::decode_match(&kb, Some(&mb)).ok().map(|m| m.mask)
}

enum Verdict {
    Keep,
    Delete(&'static str),
    Modify(Vec<u8>),
}

#[allow(clippy::too_many_arguments)]
fn revalidate_one(
    ty: DatapathType,
    sw: &Switch,
    f: &rvs_dpif::Flow,
    changed: &[String],
    id: &[u8],
    packets: &mut HashMap<Vec<u8>, (u64, u64)>,
    first_seen: &mut HashMap<Vec<u8>, Instant>,
    now: Instant,
    now_ms: u64,
) -> Verdict {
    let Ok((key, mask)) = odp::decode_flow(f) else { return Verdict::Delete("undecodable") };
    let Some(br) = crate::tunnel::bridge_for_key(sw, ty, &key.masked(&mask)) else { return Verdict::Delete("no bridge") };
    let cfg = br.config();
    let max_idle = if cfg.max_idle_ms == 0 { DEFAULT_MAX_IDLE_MS } else { cfg.max_idle_ms };
    let idle_ms = if f.stats.used_ms == 0 {
        let t = *first_seen.entry(id.to_vec()).or_insert(now);
        u64::try_from(now.saturating_duration_since(t).as_millis()).unwrap_or(u64::MAX)
    } else {
        now_ms.saturating_sub(f.stats.used_ms)
    };
    if idle_ms > max_idle {
        return Verdict::Delete("idle");
    }
    let (prev_p, prev_b) = packets.insert(id.to_vec(), (f.stats.n_packets, f.stats.n_bytes)).unwrap_or((0, 0));
    let active = f.stats.n_packets > prev_p;
    if !active && !changed.contains(&br.name) {
        return Verdict::Keep;
    }
    let mkey = key.masked(&mask);
    // Traffic on the flow refreshes the MAC entries it depends on (may_learn).
    let Some((x, _)) = translate(ty, sw, mkey, active, false) else { return Verdict::Delete("no bridge") };
    if active && !x.rules.is_empty() {
        // The flow's new traffic goes to the rules it (now) goes through.
        let used = now.checked_sub(Duration::from_millis(now_ms.saturating_sub(f.stats.used_ms))).unwrap_or(now);
        let (dp, db) = (f.stats.n_packets.saturating_sub(prev_p), f.stats.n_bytes.saturating_sub(prev_b));
        let mut pl = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
        pl.credit(&x.rules, dp, db, used);
        pl.credit_groups(&x.buckets, dp, db);
    }
    if x.slow_path {
        return Verdict::Delete("slow path");
    }
    let (nkey, nmask) = x.megaflow();
    if canonical_mask(&nkey, &nmask).is_none_or(|m| m != mask) {
        return Verdict::Delete("mask changed");
    }
    if x.actions.bytes() != f.actions.as_slice() {
        return Verdict::Modify(x.actions.bytes().to_vec());
    }
    Verdict::Keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofproto::{BridgeConfig, DatapathTypeEq, OfPort};
    use crate::vlan::PortVlan;
    use rvs_core::key::FlowKey;
    use rvs_openflow::action::Action;
    use rvs_openflow::instruction::Instruction;
    use rvs_openflow::msg::{FlowMod, FlowModCommand};
    use rvs_openflow::oxm::{Field, Match};

    const TY: DatapathType = DatapathType::Userspace;

    fn switch() -> Switch {
        let sw = Switch::new();
        let mut cfg = BridgeConfig { name: "br0".into(), dp_type: DatapathTypeEq(TY), fail_mode: crate::ofproto::FailMode::Secure, ..Default::default() };
        for i in 1..=2u32 {
            let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
            cfg.by_dp.insert(p.dp_port, i);
            cfg.ports.insert(i, p);
        }
        sw.publish(vec![cfg], &|_| (Duration::from_secs(300), 100));
        sw
    }

    fn add(sw: &Switch, port: u32) {
        let fm = FlowMod {
            command: FlowModCommand::Add,
            priority: 5,
            match_: Match::new().with(Field::InPort, 1),
            instructions: vec![Instruction::ApplyActions(vec![Action::Output { port, max_len: 0 }])],
            ..Default::default()
        };
        sw.bridge("br0").unwrap().pipeline.write().unwrap().flow_mod(&fm, Instant::now()).unwrap();
    }

    /// The datapath flow of a packet from port 1, as a dump returns it.
    fn dp_flow(sw: &Switch, n_packets: u64, n_bytes: u64) -> rvs_dpif::Flow {
        let mut k = FlowKey::ZERO;
        k.set_in_port(11);
        k.set_eth_type(0x0800);
        let (x, _) = translate(TY, sw, k, false, false).unwrap();
        let (mk, m) = x.megaflow();
        rvs_dpif::Flow {
            ufid: Some(odp::ufid(&mk, &m)),
            key: odp::encode_key(&mk).unwrap(),
            mask: odp::encode_mask(&mk, &m).unwrap(),
            actions: x.actions.bytes().to_vec(),
            stats: rvs_dpif::FlowStats { n_packets, n_bytes, used_ms: rvs_dpif::monotonic_ms(), ..Default::default() },
        }
    }

    /// A NORMAL bridge: learning a source address nobody looked up leaves its megaflows alone;
    /// learning the destination a flooding megaflow looked up makes the revalidator narrow it.
    #[test]
    fn only_mac_changes_a_flow_looked_up_revalidate_it() {
        let sw = Switch::new();
        let mut cfg = BridgeConfig { name: "br0".into(), dp_type: DatapathTypeEq(TY), fail_mode: crate::ofproto::FailMode::Standalone, ..Default::default() };
        for i in 1..=3u32 {
            let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
            cfg.by_dp.insert(p.dp_port, i);
            cfg.ports.insert(i, p);
        }
        sw.publish(vec![cfg], &|_| (Duration::from_secs(300), 100));
        let br = sw.bridge("br0").unwrap();
        let pkt = |in_dp: u32, src: [u8; 6], dst: [u8; 6]| {
            let mut k = FlowKey::ZERO;
            k.set_in_port(in_dp);
            k.set_eth_src(src);
            k.set_eth_dst(dst);
            k.set_eth_type(0x0800);
            k
        };
        let (h1, h2, h3) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 3]);
        // h2 on p1 sends to the unknown h1: flooded to p2 and p3.
        let (x, _) = translate(TY, &sw, pkt(11, h2, h1), true, false).unwrap();
        assert_eq!(odp::format_actions(x.actions.bytes()), "12,13");
        let (mk, m) = x.megaflow();
        let f = rvs_dpif::Flow {
            ufid: Some(odp::ufid(&mk, &m)),
            key: odp::encode_key(&mk).unwrap(),
            mask: odp::encode_mask(&mk, &m).unwrap(),
            actions: x.actions.bytes().to_vec(),
            stats: rvs_dpif::FlowStats { used_ms: rvs_dpif::monotonic_ms(), ..Default::default() },
        };
        let g = br.generation();
        // h3 appears on p2 (to the broadcast address): nobody looked h3 up.
        translate(TY, &sw, pkt(12, h3, [0xff; 6]), true, false).unwrap();
        assert_eq!(br.generation(), g, "a new source address revalidates nothing");
        // h1 appears on p3: the flooding flow looked h1 up.
        translate(TY, &sw, pkt(13, h1, [0xff; 6]), true, false).unwrap();
        assert_ne!(br.generation(), g);
        let (mut packets, mut first) = (HashMap::new(), HashMap::new());
        let id = f.ufid.unwrap().to_vec();
        let v = revalidate_one(TY, &sw, &f, &["br0".to_string()], &id, &mut packets, &mut first, Instant::now(), rvs_dpif::monotonic_ms());
        assert!(matches!(v, Verdict::Modify(ref a) if odp::format_actions(a) == "13"), "now forwarded to h1's port only");
    }

    /// Datapath traffic reaches the OpenFlow rule; a flow-mod that sends the traffic to the
    /// controller removes the megaflow; one that changes the output modifies it.
    #[test]
    fn revalidation_credits_rules_and_follows_flow_mods() {
        let sw = switch();
        add(&sw, 2);
        let br = sw.bridge("br0").unwrap();
        let (mut packets, mut first) = (HashMap::new(), HashMap::new());
        let now = Instant::now();
        let f = dp_flow(&sw, 5, 500);
        let id = f.ufid.unwrap().to_vec();
        let v = revalidate_one(TY, &sw, &f, &[], &id, &mut packets, &mut first, now, rvs_dpif::monotonic_ms());
        assert!(matches!(v, Verdict::Keep));
        let r = |br: &crate::ofproto::Bridge| br.pipeline.read().unwrap().rules_sorted().iter().map(|r| (r.packets, r.bytes)).next().unwrap();
        assert_eq!(r(&br), (5, 500));
        let f2 = rvs_dpif::Flow { stats: rvs_dpif::FlowStats { n_packets: 7, n_bytes: 700, ..f.stats }, ..f.clone() };
        revalidate_one(TY, &sw, &f2, &[], &id, &mut packets, &mut first, now, rvs_dpif::monotonic_ms());
        assert_eq!(r(&br), (7, 700), "only the delta is credited");
        // Same packets again: idle, no credit, nothing to do.
        let v = revalidate_one(TY, &sw, &f2, &[], &id, &mut packets, &mut first, now, rvs_dpif::monotonic_ms());
        assert!(matches!(v, Verdict::Keep));
        assert_eq!(r(&br), (7, 700));
        // The rule now outputs elsewhere: same mask, new actions.
        add(&sw, 7);
        let changed = vec!["br0".to_string()];
        let v = revalidate_one(TY, &sw, &f2, &changed, &id, &mut packets, &mut first, now, rvs_dpif::monotonic_ms());
        assert!(matches!(v, Verdict::Modify(ref a) if odp::format_actions(a) == "drop"), "output to a port that does not exist");
        add(&sw, rvs_openflow::types::port::CONTROLLER);
        let v = revalidate_one(TY, &sw, &f2, &changed, &id, &mut packets, &mut first, now, rvs_dpif::monotonic_ms());
        assert!(matches!(v, Verdict::Delete("slow path")));
    }
}

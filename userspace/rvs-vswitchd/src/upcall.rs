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
//!   dpif handle): a miss is translated ([`crate::xlate`]), its megaflow installed with a UFID
//!   derived from the megaflow, and the packet executed with the same actions;
//! - a revalidator thread: every second (or at once after a configuration or MAC-table change)
//!   it dumps the flows, deletes those idle longer than `max-idle` (default 10 s) or whose
//!   bridge/port is gone, refreshes MAC-table entries of flows that saw traffic, and
//!   re-translates flows when their bridge's generation moved — modifying flows whose actions
//!   changed and deleting those that would now need a different mask. Flows found in a
//!   restarted daemon's datapath are revalidated the same way, so established traffic keeps
//!   flowing across a restart.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rvs_core::ovs::key_nl;
use rvs_dpif::{DatapathType, Dpif, DpifError, Execute, FlowId, FlowPut, KernelDpif, PutFlags, Upcall, UpcallHandler, UpcallKind, UserspaceDpif};

use crate::ofproto::{FailMode, Switch};
use crate::odp;
use crate::xlate::{normal, Xlate};

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
            .spawn(move || revalidator_loop(ty, d, &switch, &stop, &c, &kick))
            .map_err(|e| DpifError::Unsupported(format!("spawning the revalidator: {e}")))?;
        threads.push(t);
        *backer.threads.lock().unwrap_or_else(|p| p.into_inner()) = threads;
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
    let mut batch = Vec::with_capacity(64);
    while !stop.load(Ordering::Acquire) {
        match h.wait(200) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                crate::warn!("upcall", "waiting for upcalls: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        batch.clear();
        if let Err(e) = h.recv_batch(64, &mut batch) {
            crate::warn!("upcall", "receiving upcalls: {e}");
            continue;
        }
        for up in batch.drain(..) {
            handle_upcall(ty, dpif.as_mut(), sw, &up, c);
        }
    }
}

/// Translates `key` on its bridge (NORMAL in standalone mode, drop in secure mode); `None` if no
/// bridge owns its input port.
pub fn translate(ty: DatapathType, sw: &Switch, key: rvs_core::key::FlowKey, may_learn: bool, trace: bool) -> Option<(Xlate, Arc<crate::ofproto::Bridge>)> {
    let br = sw.bridge_of(ty, key.in_port())?;
    let cfg = br.config();
    let mut x = Xlate::new(key, may_learn, trace);
    x.note(|| format!("bridge(\"{}\")", cfg.name));
    match cfg.fail_mode {
        FailMode::Standalone => normal::xlate_normal(&mut x, &br, &cfg),
        FailMode::Secure => x.note(|| "fail_mode=secure and no OpenFlow flows: drop".into()),
    }
    sw.telemetry.xlate_finish(ty, &br, &cfg, &mut x);
    Some((x, br))
}

fn handle_upcall(ty: DatapathType, dpif: &mut dyn Dpif, sw: &Switch, up: &Upcall, c: &Counters) {
    if up.kind != UpcallKind::Miss {
        sw.telemetry.action_upcall(ty, sw, up);
        return;
    }
    c.upcalls.fetch_add(1, Ordering::Relaxed);
    let key = match key_nl::decode_key(&up.key) {
        Ok(k) => k,
        Err(e) => {
            crate::warn!("upcall", "undecodable upcall key: {e}");
            return;
        }
    };
    let Some((x, _)) = translate(ty, sw, key, true, false) else {
        crate::dbg_log!("upcall", "miss on port {} that belongs to no bridge", key.in_port());
        return;
    };
    let (mkey, mask) = x.megaflow();
    let (kb, mb) = match (odp::encode_key(&mkey), odp::encode_mask(&mkey, &mask)) {
        (Ok(k), Ok(m)) => (k, m),
        (Err(e), _) | (_, Err(e)) => {
            crate::warn!("upcall", "{e}");
            return;
        }
    };
    let ufid = odp::ufid(&mkey, &mask);
    let actions = x.actions.bytes();
    let put = FlowPut { key: &kb, mask: Some(&mb), actions, ufid: Some(&ufid), flags: PutFlags { create: true, ..Default::default() } };
    // The miss's packet runs with the same actions, in the same datapath round trip as the put.
    let exec = (!actions.is_empty()).then_some(Execute { packet: &up.packet, key: &up.key, actions, mru: up.mru, probe: false });
    match dpif.flow_put_execute(&put, exec.as_ref()) {
        Ok(()) => {
            c.flows_installed.fetch_add(1, Ordering::Relaxed);
            crate::dbg_log!("upcall", "installed {}, actions:{}", odp::format_match(&mkey, &mask), odp::format_actions(actions));
        }
        Err(e) if e.errno() == Some(libc::EEXIST) => {}
        Err(e) => {
            c.put_errors.fetch_add(1, Ordering::Relaxed);
            crate::warn!("upcall", "installing {}: {e}", odp::format_match(&mkey, &mask));
        }
    }
    sw.telemetry.miss_packet(ty, sw, &key, &ufid, up.packet.len());
}

fn revalidator_loop(ty: DatapathType, mut dpif: Box<dyn Dpif>, sw: &Switch, stop: &AtomicBool, c: &Counters, kick: &AtomicBool) {
    let mut seen_gen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut last = Instant::now();
    let mut packets: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut first_seen: HashMap<Vec<u8>, Instant> = HashMap::new();
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(50));
        let now = Instant::now();
        for b in sw.bridges() {
            b.macs.lock().unwrap_or_else(|p| p.into_inner()).expire(now);
        }
        let gens: BTreeMap<String, (u64, u64)> = sw.bridges().iter().map(|b| (b.name.clone(), b.generation())).collect();
        let kicked = kick.swap(false, Ordering::AcqRel);
        if gens == seen_gen && !kicked && last.elapsed() < Duration::from_secs(1) {
            continue;
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
    packets: &mut HashMap<Vec<u8>, u64>,
    first_seen: &mut HashMap<Vec<u8>, Instant>,
    now: Instant,
    now_ms: u64,
) -> Verdict {
    let Ok((key, mask)) = odp::decode_flow(f) else { return Verdict::Delete("undecodable") };
    let Some(br) = sw.bridge_of(ty, key.in_port()) else { return Verdict::Delete("no bridge") };
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
    let prev = packets.insert(id.to_vec(), f.stats.n_packets).unwrap_or(0);
    let active = f.stats.n_packets > prev;
    if !active && !changed.contains(&br.name) {
        return Verdict::Keep;
    }
    let mkey = key.masked(&mask);
    // Traffic on the flow refreshes the MAC entries it depends on (may_learn).
    let Some((x, _)) = translate(ty, sw, mkey, active, false) else { return Verdict::Delete("no bridge") };
    let (nkey, nmask) = x.megaflow();
    if canonical_mask(&nkey, &nmask).is_none_or(|m| m != mask) {
        return Verdict::Delete("mask changed");
    }
    if x.actions.bytes() != f.actions.as_slice() {
        return Verdict::Modify(x.actions.bytes().to_vec());
    }
    Verdict::Keep
}

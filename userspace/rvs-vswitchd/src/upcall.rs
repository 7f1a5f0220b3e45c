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
//! - a revalidator thread ([`crate::revalidator`]).
//!
//! A userspace datapath's misses are translated by its own poll threads instead
//! ([`InlineMisses`], [`rvs_dpif::netdev::miss`]); its handler threads then see only
//! `userspace` action upcalls (sFlow/IPFIX samples, LACP).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rvs_core::ovs::key_nl;
use rvs_core::key::FlowKey;
use rvs_dpif::netdev::miss::{Megaflow, MissCounts, MissHandler, MissReply};
use rvs_dpif::{DatapathType, Dpif, DpifError, Execute, FlowPut, KernelDpif, PutFlags, Upcall, UpcallHandler, UpcallKind, UserspaceDpif};

use crate::ofproto::Switch;
use crate::odp;
use crate::pipeline::{xlate::publish_packet_ins, xlate_pipeline};
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
    /// Misses executed without installing a flow because the datapath held `flow-limit` flows.
    pub not_installed: AtomicU64,
    /// Datapath flows at the last revalidator pass, plus installs since.
    pub n_flows: AtomicU64,
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
        let counters = Arc::new(Counters::default());
        if let HandleSource::Userspace(u) = &handles {
            u.set_flow_limit(usize::try_from(switch.flow_limit()).unwrap_or(usize::MAX));
            u.set_miss_handler(Some(Arc::new(InlineMisses { sw: switch.clone(), counters: counters.clone() })));
        }
        let backer = Arc::new(Backer {
            ty,
            name: name.clone(),
            dpif: Mutex::new(dpif),
            handles,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Mutex::new(Vec::new()),
            counters,
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
                move || crate::revalidator::run(ty, d, &switch, &stop, &c, &kick)
            })
            .map_err(|e| DpifError::Unsupported(format!("spawning the revalidator: {e}")))?;
        threads.push(t);
        *backer.threads.lock().unwrap_or_else(|p| p.into_inner()) = threads;
        switch.register_backer(ty, &backer);
        crate::info!("bridge", "datapath {}@{name} ready with {n_handlers} upcall handler(s)", type_name(ty));
        Ok(backer)
    }

    /// Counters of misses the userspace datapath's poll threads handled (zero for the kernel).
    pub fn inline_miss_counts(&self) -> MissCounts {
        match &self.handles {
            HandleSource::Userspace(u) => u.miss_counts(),
            HandleSource::Kernel(_) => MissCounts::default(),
        }
    }

    /// Applies the switch's flow limit to the datapath (the userspace datapath's miss path
    /// checks it itself; handler threads compare with [`Counters::n_flows`]).
    pub fn apply_flow_limit(&self, limit: u64) {
        if let HandleSource::Userspace(u) = &self.handles {
            u.set_flow_limit(usize::try_from(limit).unwrap_or(usize::MAX));
        }
    }

    /// Asks the revalidator to run now.
    pub fn kick(&self) {
        self.kick.store(true, Ordering::Release);
    }

    /// Stops the threads; with `destroy`, deletes the datapath (a userspace datapath always
    /// goes with its process).
    pub fn shutdown(&self, destroy: bool) {
        self.stop.store(true, Ordering::Release);
        if let HandleSource::Userspace(u) = &self.handles {
            u.set_miss_handler(None);
        }
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
    key: FlowKey,
    mkey: FlowKey,
    mask: FlowKey,
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
                c.n_flows.fetch_add(1, Ordering::Relaxed);
                crate::dbg_log!("upcall", "installed {}, actions:{}", odp::format_match(&i.mkey, &i.mask), odp::format_actions(&i.actions));
            }
            Err(e) if e.errno() == Some(libc::EEXIST) => {}
            Err(e) => {
                c.put_errors.fetch_add(1, Ordering::Relaxed);
                crate::warn_rl!("upcall", "installing {}: {e}", odp::format_match(&i.mkey, &i.mask));
            }
        }
        sw.telemetry.miss_packet(ty, sw, &i.key, &i.ufid, i.up.packet.len());
    }
}

/// What translating a miss decided.
// Returned by value once per miss and consumed at once: boxing the large variant would only add
// an allocation.
#[allow(clippy::large_enum_variant)]
enum MissOutcome {
    /// Run these actions on the packet, install nothing (slow path: controller, ...).
    SlowPath(Vec<u8>),
    /// Install this megaflow (key, mask, UFID) and run its actions on the packet.
    Install { mkey: FlowKey, mask: FlowKey, ufid: [u8; 16], actions: Vec<u8> },
}

/// Translates a miss of `packet` (key `key`): credits the OpenFlow rules it went through,
/// publishes its packet-ins; `None` if no bridge owns its input port. The one translation of
/// both miss paths (upcalls from handler threads and the userspace datapath's poll threads).
fn translate_miss(ty: DatapathType, sw: &Switch, key: FlowKey, packet: &[u8], c: &Counters) -> Option<MissOutcome> {
    c.upcalls.fetch_add(1, Ordering::Relaxed);
    let Some((x, br)) = translate(ty, sw, key, true, false) else {
        crate::dbg_log!("upcall", "miss on port {} that belongs to no bridge", key.in_port());
        return None;
    };
    if !x.rules.is_empty() {
        let len = u64::try_from(packet.len()).unwrap_or(u64::MAX);
        let mut pl = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
        pl.credit(&x.rules, 1, len, Instant::now());
        pl.credit_groups(&x.buckets, 1, len);
    }
    publish_packet_ins(&br, &x, packet);
    if x.slow_path {
        return Some(MissOutcome::SlowPath(x.actions.bytes().to_vec()));
    }
    let (mkey, mask) = x.megaflow();
    let ufid = odp::ufid(&mkey, &mask);
    Some(MissOutcome::Install { mkey, mask, ufid, actions: x.actions.bytes().to_vec() })
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
    let key = match key_nl::decode_key(&up.key) {
        Ok(k) => k,
        Err(e) => {
            crate::warn!("upcall", "undecodable upcall key: {e}");
            return None;
        }
    };
    let (mkey, mask, ufid, actions) = match translate_miss(ty, sw, key, &up.packet, c)? {
        MissOutcome::SlowPath(actions) => {
            execute_only(dpif, up, &actions);
            return None;
        }
        MissOutcome::Install { ufid, actions, .. } if c.n_flows.load(Ordering::Relaxed) >= sw.flow_limit() => {
            c.not_installed.fetch_add(1, Ordering::Relaxed);
            execute_only(dpif, up, &actions);
            sw.telemetry.miss_packet(ty, sw, &key, &ufid, up.packet.len());
            return None;
        }
        MissOutcome::Install { mkey, mask, ufid, actions } => (mkey, mask, ufid, actions),
    };
    let (kb, mb) = match (odp::encode_key(&mkey), odp::encode_mask(&mkey, &mask)) {
        (Ok(k), Ok(m)) => (k, m),
        (Err(e), _) | (_, Err(e)) => {
            crate::warn!("upcall", "{e}");
            return None;
        }
    };
    Some(Install { up, key, mkey, mask, kb, mb, ufid, actions })
}

/// The miss handler of a userspace datapath: the poll threads translate their misses with it
/// (see [`rvs_dpif::netdev::miss`]); the megaflow goes to the datapath typed, its mask as the
/// datapath codec reads it back (what dumps return, so revalidation compares like with like).
struct InlineMisses {
    sw: Arc<Switch>,
    counters: Arc<Counters>,
}

impl MissHandler for InlineMisses {
    fn miss(&self, key: &FlowKey, packet: &[u8], reply: &mut MissReply) {
        let ty = DatapathType::Userspace;
        match translate_miss(ty, &self.sw, *key, packet, &self.counters) {
            None => {}
            Some(MissOutcome::SlowPath(actions)) => reply.actions = actions,
            Some(MissOutcome::Install { mkey, mask, ufid, actions }) => {
                reply.actions = actions;
                match crate::revalidator::canonical_match(&mkey, &mask) {
                    Some((key, mask)) => reply.install = Some(Megaflow { key, mask, ufid }),
                    None => crate::warn_rl!("upcall", "megaflow {} cannot be encoded; not installed", odp::format_match(&mkey, &mask)),
                }
                self.sw.telemetry.miss_packet(ty, &self.sw, key, &ufid, packet.len());
            }
        }
    }
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


//! Datapaths (per network namespace) and the `ovs_datapath` generic netlink commands.
//!
//! # Lifetimes
//! A datapath is a leaked `KBox` on the registry list (writer lock). Its local port 0 is an internal device named
//! after it, whose ifindex is the datapath's `dp_ifindex`. Destroying it unlinks it, detaches every port under rtnl,
//! waits for a grace period (packet-path code may still hold its ports or the datapath itself), frees the ports,
//! and frees the datapath last.

use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, Ordering};

use kernel::prelude::*;

use crate::flow_table::FlowTable;
use crate::genl::{self, errno, fam, DumpRequest, Msg, Request};
use crate::glue::{self, blob, Net};
use crate::meter_table::MeterTable;
use crate::nla::Writer;
use crate::ovs::dp_nl::{DpAttrs, DpStats, MegaflowStats};
use crate::ovs::{policy, CodecError};
use crate::ovs_abi::*;
use crate::registry::WriterLock;
use crate::vport::{cmd_u8, Vport, DP_MAX_PORTS};

/// User features rvs accepts (upstream minus `OVS_DP_F_TC_RECIRC_SHARING`, which needs tc).
const FEATURES: u32 = OVS_DP_F_VPORT_PIDS | OVS_DP_F_UNALIGNED | OVS_DP_F_DISPATCH_UPCALL_PER_CPU;

/// One datapath.
///
/// # Invariants
///
/// `ports` is a `kvzalloc` array of `DP_MAX_PORTS` pointers, each null or a published vport of this datapath.
pub(crate) struct Datapath {
    /// Registry list link (written under the writer lock, read under it or RCU).
    pub(crate) next: AtomicPtr<Datapath>,
    net: *mut Net,
    ports: *mut AtomicPtr<Vport>,
    max_port: AtomicU32,
    user_features: AtomicU32,
    cpu_pids: AtomicPtr<u8>,
    /// The flow table.
    pub(crate) table: FlowTable,
    /// The meters.
    pub(crate) meters: MeterTable,
    ifindex: AtomicI32,
}

impl Datapath {
    fn new(net: *mut Net) -> Result<KBox<Self>> {
        let bytes = core::mem::size_of::<AtomicPtr<Vport>>()
            .checked_mul(usize::try_from(DP_MAX_PORTS).unwrap_or(0))
            .ok_or(ENOMEM)?;
        let table = FlowTable::new()?;
        let meters = MeterTable::new()?;
        let ports = glue::kvzalloc(bytes).cast::<AtomicPtr<Vport>>();
        if ports.is_null() {
            return Err(ENOMEM);
        }
        // From here on `Drop` frees `ports` (also when the box allocation fails and the value is dropped).
        let dp = Datapath {
            next: AtomicPtr::new(core::ptr::null_mut()),
            net,
            ports,
            max_port: AtomicU32::new(0),
            user_features: AtomicU32::new(0),
            cpu_pids: AtomicPtr::new(core::ptr::null_mut()),
            table,
            meters,
            ifindex: AtomicI32::new(0),
        };
        Ok(KBox::new(dp, GFP_KERNEL)?)
    }

    /// The namespace.
    pub(crate) fn net(&self) -> *mut Net {
        self.net
    }

    /// Whether the datapath lives in `net`.
    pub(crate) fn in_net(&self, net: *mut Net) -> bool {
        core::ptr::eq(self.net, net)
    }

    /// `dp_ifindex`: the local port's ifindex.
    pub(crate) fn ifindex(&self) -> i32 {
        self.ifindex.load(Ordering::Relaxed)
    }

    /// User features.
    pub(crate) fn features(&self) -> u32 {
        self.user_features.load(Ordering::Relaxed)
    }

    /// Highest port number ever used.
    pub(crate) fn max_port(&self) -> u32 {
        self.max_port.load(Ordering::Relaxed)
    }

    /// Port `n` (caller under RCU or the writer lock).
    pub(crate) fn port(&self, n: u32) -> Option<&Vport> {
        if n >= DP_MAX_PORTS {
            return None;
        }
        // SAFETY: In bounds (type invariant); a published vport stays valid until a grace period after it is
        // unpublished, which outlasts the caller's read-side section or writer lock.
        unsafe {
            let p = (*self.ports.add(usize::try_from(n).unwrap_or(0))).load(Ordering::Acquire);
            p.as_ref()
        }
    }

    /// Every port (writer lock or RCU).
    pub(crate) fn ports(&self) -> impl Iterator<Item = &Vport> + '_ {
        (0..=self.max_port()).filter_map(move |n| self.port(n))
    }

    /// The datapath's name (its local port's device name).
    pub(crate) fn name(&self) -> &str {
        self.port(0).map_or("", |v| v.name())
    }

    /// Publishes vport `v` as port `n` (slot empty).
    pub(crate) fn publish_port(&self, _w: &WriterLock, n: u32, v: *mut Vport) {
        if n >= DP_MAX_PORTS {
            return;
        }
        if n > self.max_port() {
            self.max_port.store(n, Ordering::Relaxed);
        }
        // SAFETY: In bounds; `v` is fully initialised.
        unsafe { (*self.ports.add(usize::try_from(n).unwrap_or(0))).store(v, Ordering::Release) };
    }

    /// Detaches, unpublishes and frees ports `which` (port 0 last if included).
    pub(crate) fn remove_ports(&self, _w: &WriterLock, which: &[u32]) {
        let mut taken = KVec::<*mut Vport>::new();
        {
            let rtnl = glue::RtnlGuard::new();
            for &n in Iterator::chain(which.iter().filter(|&&n| n != 0), which.iter().filter(|&&n| n == 0)) {
                if n >= DP_MAX_PORTS {
                    continue;
                }
                // SAFETY: In bounds.
                let slot = unsafe { &*self.ports.add(usize::try_from(n).unwrap_or(0)) };
                let p = slot.swap(core::ptr::null_mut(), Ordering::AcqRel);
                if p.is_null() {
                    continue;
                }
                // SAFETY: Was published; still alive (we free it below, after a grace period).
                unsafe { (*p).detach(&rtnl) };
                if taken.push(p, GFP_KERNEL).is_err() {
                    // Out of memory for the list: wait here and free at once.
                    glue::synchronize_rcu();
                    // SAFETY: Detached, unpublished, grace period passed.
                    unsafe { Vport::free(p) };
                }
            }
        }
        glue::synchronize_rcu();
        for &p in taken.iter() {
            // SAFETY: Detached, unpublished, a grace period passed since.
            unsafe { Vport::free(p) };
        }
    }

    /// Upstream `ovs_dp_change`.
    fn change(&self, a: &DpAttrs<'_>) -> Result {
        let features = a.user_features.unwrap_or(0);
        if features & !FEATURES != 0 {
            return Err(genl::err(errno::EOPNOTSUPP));
        }
        if let Some(size) = a.masks_cache_size {
            // Upstream accepts 0 (no cache) or a power of two that fits a per-CPU unit; rvs's cache always has
            // MASK_CACHE_ENTRIES entries when enabled.
            if size != 0 && (size & size.wrapping_sub(1) != 0 || size > 4096) {
                return Err(EINVAL);
            }
            self.table.cache_size.store(size, Ordering::Relaxed);
        }
        self.user_features.store(features, Ordering::Relaxed);
        if features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 {
            if let Some(p) = a.per_cpu_pids {
                if p.is_empty() || p.len() % 4 != 0 {
                    return Err(EINVAL);
                }
                let b = blob::new(p, false);
                if b.is_null() {
                    return Err(ENOMEM);
                }
                let old = self.cpu_pids.swap(b, Ordering::AcqRel);
                // SAFETY: Unreachable for new readers.
                unsafe { blob::free_rcu(old) };
            }
        }
        Ok(())
    }

    /// Upstream `ovs_dp_get_upcall_portid` (per-CPU dispatch).
    pub(crate) fn cpu_pid(&self, cpu: usize) -> u32 {
        // SAFETY: Replaced blobs are freed after a grace period; the caller is under RCU.
        let ids = unsafe { blob::data(self.cpu_pids.load(Ordering::Acquire)) };
        let n = ids.len() / 4;
        if n == 0 {
            return 0;
        }
        policy::u32s(ids).nth(cpu % n).unwrap_or(0)
    }

    fn stats(&self) -> (DpStats, MegaflowStats) {
        let cls = self.table.classifier();
        let s = cls.stats(self.table.all_cpus().map(|c| &c.counters));
        let lost = self.table.all_cpus().fold(0u64, |a, c| a.wrapping_add(c.n_lost.load(Ordering::Relaxed)));
        (
            DpStats { n_hit: s.hits, n_missed: s.misses, n_lost: lost, n_flows: u64::from(s.flows) },
            MegaflowStats { n_mask_hit: s.masks_probed, n_masks: s.masks, n_cache_hit: s.cache_hits },
        )
    }

    /// Writes the datapath's attributes (upstream `ovs_dp_cmd_fill_info`).
    fn fill(&self, w: &mut Writer<'_>) -> core::result::Result<(), CodecError> {
        let (stats, mega) = self.stats();
        let features = self.features();
        // SAFETY: Under the writer lock, the blob cannot be freed.
        let pids = unsafe { blob::data(self.cpu_pids.load(Ordering::Acquire)) };
        DpAttrs {
            name: Some(self.name()),
            upcall_pid: None,
            stats: Some(stats),
            megaflow_stats: Some(mega),
            user_features: Some(features),
            masks_cache_size: Some(self.table.cache_size.load(Ordering::Relaxed)),
            per_cpu_pids: (features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 && !pids.is_empty()).then_some(pids),
            ifindex: None,
        }
        .emit(w)
    }

    fn message(&self, cmd: u16, portid: u32, seq: u32) -> Result<Msg> {
        let mut m = Msg::new(1024, fam::DP, cmd_u8(cmd), portid, seq, 0, self.ifindex(), false)?;
        m.fill(|w| self.fill(w))?;
        Ok(m)
    }

    /// Unlinks and destroys datapath `dp`.
    ///
    /// # Safety
    ///
    /// `dp` is on the registry list (a leaked box); nothing else will free it.
    unsafe fn destroy(w: &WriterLock, dp: *mut Datapath) {
        w.unlink(dp);
        // SAFETY: Still valid until freed below.
        let d = unsafe { &*dp };
        let mut all = KVec::<u32>::new();
        for v in d.ports() {
            let _ = all.push(v.port_no, GFP_KERNEL);
        }
        d.remove_ports(w, &all);
        // Internal-port transmitters that were running when the devices went away are finished (unregistration
        // waits for them); packet-path readers of the datapath are done after this grace period.
        glue::synchronize_rcu();
        // SAFETY: Unlinked, portless, no reader left: we own the box; `Drop` frees what it points to.
        drop(unsafe { KBox::from_raw(dp) });
    }
}

/// Frees the datapath's raw allocations. Runs for every datapath that is dropped: one destroyed after its grace
/// period, and one whose creation failed after `Datapath::new` (e.g. a rejected `OVS_DP_CMD_NEW`), which was never
/// published.
impl Drop for Datapath {
    fn drop(&mut self) {
        // SAFETY: A dropped datapath is unreachable for readers (never published, or unlinked and a grace period
        // passed); `ports` is the `kvzalloc` array from `Datapath::new`, `cpu_pids` null or a blob.
        unsafe {
            blob::free(self.cpu_pids.swap(core::ptr::null_mut(), Ordering::AcqRel));
            glue::kvfree(self.ports.cast());
        }
    }
}

/// Upstream `lookup_datapath`: by name (the local port's device name) or by `dp_ifindex`.
fn lookup<'a>(w: &'a WriterLock, req: &Request<'_>, a: &DpAttrs<'_>) -> Result<&'a Datapath> {
    let net = req.net();
    match a.name {
        Some(name) => w.datapaths().find(|d| d.in_net(net) && d.name() == name).ok_or(ENODEV),
        None => w.find(net, req.dp_ifindex).ok_or(ENODEV),
    }
}

/// `ovs_datapath` doit.
pub(crate) fn doit(cmd: u16, req: &Request<'_>) -> Result {
    let a = DpAttrs::parse(req.attrs).map_err(|e| req.codec_err(e))?;
    match cmd {
        OVS_DP_CMD_NEW => new(req, &a),
        OVS_DP_CMD_DEL => {
            let w = WriterLock::lock();
            let dp = lookup(&w, req, &a)?;
            let m = dp.message(OVS_DP_CMD_DEL, req.portid(), req.seq())?;
            let p = (dp as *const Datapath).cast_mut();
            // SAFETY: `p` is on the list; this is the only path freeing it (under the writer lock).
            unsafe { Datapath::destroy(&w, p) };
            drop(w);
            m.notify(fam::DP, req);
            Ok(())
        }
        OVS_DP_CMD_GET => {
            let w = WriterLock::lock();
            let dp = lookup(&w, req, &a)?;
            let m = dp.message(OVS_DP_CMD_GET, req.portid(), req.seq())?;
            drop(w);
            m.reply(req)
        }
        OVS_DP_CMD_SET => {
            let w = WriterLock::lock();
            let dp = lookup(&w, req, &a)?;
            dp.change(&a)?;
            let m = dp.message(OVS_DP_CMD_SET, req.portid(), req.seq())?;
            drop(w);
            m.notify(fam::DP, req);
            Ok(())
        }
        _ => Err(genl::err(errno::EOPNOTSUPP)),
    }
}

fn new(req: &Request<'_>, a: &DpAttrs<'_>) -> Result {
    let (Some(name), Some(pid)) = (a.name, a.upcall_pid) else {
        return Err(EINVAL);
    };
    let w = WriterLock::lock();
    let dp = KBox::into_raw(Datapath::new(req.net())?);
    // SAFETY: Fresh, private datapath.
    let d = unsafe { &*dp };
    let fail = |e: Error| {
        // SAFETY: Not linked, no ports: we own it.
        unsafe { drop(KBox::from_raw(dp)) };
        e
    };
    d.change(a).map_err(fail)?;
    let local = Vport::new_internal(d, 0, name, 0, &pid.to_ne_bytes()).map_err(fail)?;
    d.publish_port(&w, 0, local);
    // SAFETY: Just published.
    d.ifindex.store(unsafe { (*local).ifindex() }, Ordering::Relaxed);
    w.link(dp);
    let m = d.message(OVS_DP_CMD_NEW, req.portid(), req.seq());
    drop(w);
    m?.notify(fam::DP, req);
    Ok(())
}

/// `ovs_datapath` dump: every datapath of the requester's namespace, resumed after `args[0]` of them.
pub(crate) fn dump(d: &mut DumpRequest<'_>) -> Result<i32> {
    let w = WriterLock::lock();
    let skip = usize::try_from(d.args()[0]).unwrap_or(0);
    let net = d.net();
    let mut i = 0usize;
    for dp in w.datapaths().filter(|x| x.in_net(net)) {
        if i >= skip {
            if d.put(fam::DP, cmd_u8(OVS_DP_CMD_GET), dp.ifindex(), |wr| dp.fill(wr)).is_err() {
                break;
            }
        }
        i = i.wrapping_add(1);
    }
    d.args()[0] = core::ffi::c_long::try_from(i).unwrap_or(0);
    Ok(d.result())
}

/// Destroys every datapath of `net` (or all of them for null).
pub(crate) fn destroy_all(net: *mut Net) {
    let w = WriterLock::lock();
    loop {
        let victim = w.datapaths().find(|d| net.is_null() || d.in_net(net)).map(|d| (d as *const Datapath).cast_mut());
        let Some(p) = victim else { break };
        // SAFETY: On the list; freed only here under the writer lock.
        unsafe { Datapath::destroy(&w, p) };
    }
}

/// Pernet exit: the namespace `net` is going away.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_net_exit(net: *mut Net) {
    if !net.is_null() {
        destroy_all(net);
    }
}

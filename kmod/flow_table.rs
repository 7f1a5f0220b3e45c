//! A datapath's flow table: the core [`Classifier`] over `kvzalloc`'ed [`Storage`], plus rvs's per-flow data
//! (actions, statistics, the unmasked key) indexed by [`FlowId`].
//!
//! # Concurrency
//! Readers (the packet path, under RCU) use [`FlowTable::lookup`] and [`FlowTable::flow`]. Every writer call takes
//! a [`WriterLock`] proof (the global ovs lock). Flow actions are an RCU-published blob: replaced with a Release
//! store and freed with `kfree_rcu`. Flow ids are recycled by the classifier only after a grace period: when it
//! reports [`ClsError::Busy`] the writer runs `synchronize_rcu` and retries.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use kernel::prelude::*;

use crate::classifier::{
    Classifier, CpuCounters, Entry, Error as ClsError, FlowId, MaskCache, MaskSlot, Storage, TableKind,
    Ufid, WriterState,
};
use crate::glue::{self, blob};
use crate::key::FlowKey;
use crate::mask::Mask;
use crate::registry::WriterLock;

/// Flow slots per chunk: flow records and rvs's per-flow data are allocated a chunk at a time as the table grows
/// (≈ 1 MiB each) and given back when the flows above them are gone.
pub(crate) const CHUNK: usize = 2048;
/// Chunks per datapath: 33.5 million flows, far beyond what memory or ovs-vswitchd's flow-limit allow (upstream has
/// no hard limit either; this only bounds the directory).
const DIR_LEN: usize = 16384;
/// Distinct masks per datapath.
pub(crate) const MASK_CAPACITY: usize = 256;

/// One chunk of flow slots: the classifier's records and rvs's data for the same ids.
#[repr(C)]
struct Chunk {
    entries: [Entry; CHUNK],
    data: [FlowData; CHUNK],
}

/// Which of the four bucket arrays: `[flow half 0, flow half 1, ufid half 0, ufid half 1]`.
fn bucket_slot(table: TableKind, half: usize) -> usize {
    let base = match table {
        TableKind::Flow => 0,
        TableKind::Ufid => 2,
    };
    base + half.min(1)
}

/// Classifier storage that grows and shrinks: a directory of `kvzalloc`'ed [`Chunk`]s for the flow records, bucket
/// arrays allocated at the size the classifier asks for, and one fixed block for the masks and their order arrays.
///
/// # Invariants
///
/// `masks_mem` is a zeroed `kvzalloc` block owned by this value holding `MASK_CAPACITY` mask slots at `masks` and
/// the two order arrays; `dir` is a zeroed `kvzalloc` array of `DIR_LEN` chunk pointers, each null or a zeroed-then-
/// used `kvzalloc`'ed `Chunk` owned by this value; `buckets[i]` is null or a `kvzalloc` array of `blens[i]` words
/// owned by this value. Chunk and bucket memory is only replaced or freed by the writer (under the writer lock) when
/// the classifier says no reader can reach it, and dumps run under the writer lock.
pub(crate) struct KStorage {
    masks_mem: *mut u8,
    masks: *const MaskSlot,
    order: [*const AtomicU32; 2],
    dir: *const AtomicPtr<Chunk>,
    /// Flow slots backed by chunks (a multiple of `CHUNK`).
    limit: AtomicU32,
    buckets: [AtomicPtr<AtomicU64>; 4],
    blens: [AtomicUsize; 4],
}

fn align8(x: usize) -> usize {
    x.wrapping_add(7) & !7
}

impl KStorage {
    fn new() -> Result<Self> {
        let m = align8(core::mem::size_of::<MaskSlot>().checked_mul(MASK_CAPACITY).ok_or(ENOMEM)?);
        let o = align8(MASK_CAPACITY.checked_mul(4).ok_or(ENOMEM)?);
        let total = m.checked_add(o.checked_mul(2).ok_or(ENOMEM)?).ok_or(ENOMEM)?;
        let masks_mem = glue::kvzalloc(total);
        if masks_mem.is_null() {
            return Err(ENOMEM);
        }
        let dir = glue::kvzalloc(DIR_LEN.checked_mul(core::mem::size_of::<usize>()).ok_or(ENOMEM)?);
        if dir.is_null() {
            // SAFETY: Our fresh allocation.
            unsafe { glue::kvfree(masks_mem) };
            return Err(ENOMEM);
        }
        // SAFETY: All offsets are within the `total`-byte block and 8-byte aligned (kvzalloc memory is at least
        // 8-byte aligned); zeroed memory is the valid empty state of every record type and of the directory.
        unsafe {
            Ok(Self {
                masks_mem,
                masks: masks_mem.cast(),
                order: [masks_mem.add(m).cast(), masks_mem.add(m.wrapping_add(o)).cast()],
                dir: dir.cast(),
                limit: AtomicU32::new(0),
                buckets: Default::default(),
                blens: Default::default(),
            })
        }
    }

    /// The directory.
    fn dir(&self) -> &[AtomicPtr<Chunk>] {
        // SAFETY: By the type invariant.
        unsafe { core::slice::from_raw_parts(self.dir, DIR_LEN) }
    }

    /// The chunk holding flow slot `idx`, if allocated.
    #[inline]
    fn chunk(&self, idx: usize) -> Option<(&Chunk, usize)> {
        let p = self.dir().get(idx / CHUNK)?.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: Non-null directory entries are live chunks (type invariant); a chunk is freed only when no reader
        // can reach its slots, which outlives the caller's read-side section or writer lock.
        Some((unsafe { &*p }, idx % CHUNK))
    }

    /// rvs's data for flow slot `idx`.
    #[inline]
    fn data(&self, idx: usize) -> Option<&FlowData> {
        let (c, i) = self.chunk(idx)?;
        c.data.get(i)
    }

    /// Frees chunk `ci` (writer, no reader can reach it): the per-flow allocations, then the chunk.
    fn free_chunk(&self, ci: usize) {
        let Some(slot) = self.dir().get(ci) else { return };
        let p = slot.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return;
        }
        // SAFETY: `p` was a live chunk, now unreachable (caller's contract).
        unsafe {
            for fd in &(*p).data {
                free_actions_rcu(fd.actions.swap(core::ptr::null_mut(), Ordering::AcqRel));
                fd.free_percpu();
            }
            glue::kvfree(p.cast());
        }
    }
}

impl Drop for KStorage {
    fn drop(&mut self) {
        for ci in 0..DIR_LEN {
            self.free_chunk(ci);
        }
        for p in &self.buckets {
            // SAFETY: Our allocation (type invariant); no reader is left when the table is dropped.
            unsafe { glue::kvfree(p.swap(core::ptr::null_mut(), Ordering::AcqRel).cast()) };
        }
        // SAFETY: Our allocations; no reader is left when the table is dropped (after a grace period).
        unsafe {
            glue::kvfree(self.dir.cast_mut().cast());
            glue::kvfree(self.masks_mem);
        }
    }
}

impl Storage for KStorage {
    #[inline]
    fn entry(&self, idx: u32) -> Option<&Entry> {
        let (c, i) = self.chunk(usize::try_from(idx).ok()?)?;
        c.entries.get(i)
    }
    fn entry_limit(&self) -> u32 {
        self.limit.load(Ordering::Acquire)
    }
    fn provide_entries(&self, want: u32) -> bool {
        loop {
            let limit = self.limit.load(Ordering::Relaxed);
            if limit >= want {
                return true;
            }
            let Ok(l) = usize::try_from(limit) else { return false };
            let Some(slot) = self.dir().get(l / CHUNK) else { return false };
            let p = glue::kvzalloc(core::mem::size_of::<Chunk>()).cast::<Chunk>();
            if p.is_null() {
                return false;
            }
            // Zeroed memory is a free chunk; Release: readers that find an id in it see the zeroes.
            slot.store(p, Ordering::Release);
            self.limit.store(limit.saturating_add(CHUNK as u32), Ordering::Release);
        }
    }
    fn trim_entries(&self, keep: u32) {
        let Ok(keep) = usize::try_from(keep) else { return };
        let first = keep.div_ceil(CHUNK);
        let Ok(limit) = usize::try_from(self.limit.load(Ordering::Relaxed)) else { return };
        if first.saturating_mul(CHUNK) >= limit {
            return;
        }
        self.limit.store(u32::try_from(first.saturating_mul(CHUNK)).unwrap_or(0), Ordering::Release);
        for ci in first..limit.div_ceil(CHUNK) {
            self.free_chunk(ci);
        }
    }
    fn masks(&self) -> &[MaskSlot] {
        // SAFETY: By the type invariant.
        unsafe { core::slice::from_raw_parts(self.masks, MASK_CAPACITY) }
    }
    fn order(&self, half: usize) -> &[AtomicU32] {
        match self.order.get(half) {
            // SAFETY: By the type invariant.
            Some(&p) => unsafe { core::slice::from_raw_parts(p, MASK_CAPACITY) },
            None => &[],
        }
    }
    #[inline]
    fn buckets(&self, table: TableKind, half: usize) -> &[AtomicU64] {
        let i = bucket_slot(table, half);
        let (Some(p), Some(l)) = (self.buckets.get(i), self.blens.get(i)) else { return &[] };
        // Both were stored before the classifier published this half (Release), and readers come here after the
        // Acquire load of the published word.
        let p = p.load(Ordering::Acquire);
        if p.is_null() {
            return &[];
        }
        // SAFETY: By the type invariant: `p` is a live array of `blens[i]` words while this half is reachable.
        unsafe { core::slice::from_raw_parts(p, l.load(Ordering::Acquire)) }
    }
    fn provide_buckets(&self, table: TableKind, half: usize, len: usize) -> bool {
        let i = bucket_slot(table, half);
        let (Some(p), Some(l)) = (self.buckets.get(i), self.blens.get(i)) else { return false };
        if l.load(Ordering::Relaxed) == len && !p.load(Ordering::Relaxed).is_null() {
            return true;
        }
        let Some(bytes) = len.checked_mul(8) else { return false };
        let new = glue::kvzalloc(bytes).cast::<AtomicU64>();
        if new.is_null() {
            return false;
        }
        let old = p.swap(new, Ordering::AcqRel);
        l.store(len, Ordering::Release);
        // SAFETY: The classifier calls this only for an unpublished half no reader can be in (trait contract).
        unsafe { glue::kvfree(old.cast()) };
        true
    }
    fn release_buckets(&self, table: TableKind, half: usize) {
        let i = bucket_slot(table, half);
        let (Some(p), Some(l)) = (self.buckets.get(i), self.blens.get(i)) else { return };
        let old = p.swap(core::ptr::null_mut(), Ordering::AcqRel);
        l.store(0, Ordering::Release);
        // SAFETY: Unpublished and past a grace period (trait contract).
        unsafe { glue::kvfree(old.cast()) };
    }
}

/// One set of flow counters.
#[derive(Default)]
#[repr(C)]
struct Counters {
    packets: AtomicU64,
    bytes: AtomicU64,
    /// `jiffies` of the last hit (0 = never).
    used: AtomicU64,
    tcp_flags: AtomicU32,
}

impl Counters {
    /// Adds a hit with read-modify-write atomics (any CPU may update these counters).
    fn add_shared(&self, len: u64, now: u64, tcp_flags: u16) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len, Ordering::Relaxed);
        self.used.store(now, Ordering::Relaxed);
        if tcp_flags != 0 {
            self.tcp_flags.fetch_or(u32::from(tcp_flags), Ordering::Relaxed);
        }
    }

    /// Adds a hit with plain loads and stores: only the owning CPU (bottom halves disabled) updates these.
    fn add_owned(&self, len: u64, now: u64, tcp_flags: u16) {
        let bump = |c: &AtomicU64, n: u64| c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
        bump(&self.packets, 1);
        bump(&self.bytes, len);
        self.used.store(now, Ordering::Relaxed);
        if tcp_flags != 0 {
            let f = self.tcp_flags.load(Ordering::Relaxed);
            self.tcp_flags.store(f | u32::from(tcp_flags), Ordering::Relaxed);
        }
    }

    fn add_to(&self, s: &mut FlowStats) {
        s.packets = s.packets.wrapping_add(self.packets.load(Ordering::Relaxed));
        s.bytes = s.bytes.wrapping_add(self.bytes.load(Ordering::Relaxed));
        let used = usize::try_from(self.used.load(Ordering::Relaxed)).unwrap_or(0);
        // Jiffies wrap: the later stamp is the one ahead modulo the wrap.
        if s.used == 0 || (used != 0 && used.wrapping_sub(s.used) < usize::MAX / 2) {
            s.used = used;
        }
        s.tcp_flags |= u16::try_from(self.tcp_flags.load(Ordering::Relaxed) & 0xffff).unwrap_or(0);
    }

    fn clear(&self) {
        self.packets.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.used.store(0, Ordering::Relaxed);
        self.tcp_flags.store(0, Ordering::Relaxed);
    }
}

/// The `Counters` in blob `p` (null: none).
fn counters_in<'a>(p: *mut u8) -> Option<&'a Counters> {
    // SAFETY: Non-null slot pointers are zeroed `Counters`-sized blobs that live as long as the flow table (the
    // caller's borrow of the table bounds `'a`); blob payloads are 8-byte aligned.
    let d = unsafe { blob::data(p) };
    if d.len() < core::mem::size_of::<Counters>() {
        return None;
    }
    // SAFETY: As above.
    Some(unsafe { &*d.as_ptr().cast::<Counters>() })
}

/// rvs's data for one flow.
///
/// # Statistics
/// Per-CPU counters are allocated lazily, as upstream's: a CPU's first hit on a flow allocates (`GFP_ATOMIC`) the
/// flow's array of per-CPU pointers if needed and then its own counters, which only that CPU updates, with plain
/// stores (no locked instructions on the packet path). A CPU whose allocation failed counts in `stats0` with atomic
/// read-modify-writes instead (upstream falls back to its CPU-0 stats under a lock). The allocations live as long
/// as the flow slot (they are zeroed when the slot is reused, which happens only a grace period after the previous
/// flow's removal) and are freed with the table.
pub(crate) struct FlowData {
    /// The actions blob (RCU-published; null while the flow is being removed).
    actions: AtomicPtr<u8>,
    /// Pre-decoded actions: `port + 1` when the actions are a single output to `port` (the packet path then skips
    /// the executor), 0 otherwise.
    fast_out: AtomicU32,
    stats0: Counters,
    /// Null, or a blob of `ncpu` pointers (null or a `Counters` blob), published with Release stores.
    percpu: AtomicPtr<u8>,
    /// The key as installed (unmasked): only touched under the writer lock.
    key: UnsafeCell<FlowKey>,
}

/// Flow statistics as reported.
#[derive(Clone, Copy, Default)]
pub(crate) struct FlowStats {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) used: usize,
    pub(crate) tcp_flags: u16,
}

impl FlowData {
    /// The per-CPU pointer slots (empty if not allocated).
    fn cpu_slots(&self) -> &[AtomicPtr<u8>] {
        let arr = self.percpu.load(Ordering::Acquire);
        if arr.is_null() {
            // Not `blob::data(null)`: its empty `&[u8]` is only byte-aligned, and `from_raw_parts` needs a pointer
            // aligned for `AtomicPtr` even for an empty slice.
            return &[];
        }
        // SAFETY: The array blob lives as long as the flow table and holds `ncpu` pointer-sized slots; blob payloads
        // are 8-byte aligned (8-byte header after a kmalloc'ed start).
        unsafe {
            let b = blob::data(arr);
            core::slice::from_raw_parts(b.as_ptr().cast::<AtomicPtr<u8>>(), b.len() / core::mem::size_of::<usize>())
        }
    }

    /// The counters of `cpu`, allocating them if needed; `None` if no memory (count in `stats0`).
    fn cpu_counters(&self, cpu: usize, ncpu: usize) -> Option<&Counters> {
        if self.percpu.load(Ordering::Acquire).is_null() {
            let arr = blob::zeroed(ncpu.checked_mul(core::mem::size_of::<usize>())?, true);
            if arr.is_null() {
                return None;
            }
            if self
                .percpu
                .compare_exchange(core::ptr::null_mut(), arr, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // SAFETY: Never published (another CPU won the race).
                unsafe { blob::free(arr) };
            }
        }
        let slot = self.cpu_slots().get(cpu)?;
        let mut p = slot.load(Ordering::Acquire);
        if p.is_null() {
            p = blob::zeroed(core::mem::size_of::<Counters>(), true);
            if p.is_null() {
                return None;
            }
            // Only this CPU (bottom halves disabled) fills its own slot.
            slot.store(p, Ordering::Release);
        }
        counters_in(p)
    }

    /// Counts one packet of `len` bytes at `jiffies` `now` (packet path: bottom halves disabled, `cpu` is the current
    /// CPU).
    pub(crate) fn hit_at(&self, cpu: usize, ncpu: usize, len: usize, tcp_flags: u16, now: usize) {
        let len = u64::try_from(len).unwrap_or(0);
        let now = u64::try_from(now).unwrap_or(0);
        match self.cpu_counters(cpu, ncpu) {
            Some(c) => c.add_owned(len, now, tcp_flags),
            None => self.stats0.add_shared(len, now, tcp_flags),
        }
    }

    /// The output port, if the actions are a single output (see `fast_out`).
    #[inline]
    pub(crate) fn single_output(&self) -> Option<u32> {
        self.fast_out.load(Ordering::Acquire).checked_sub(1)
    }

    /// Publishes `acts` (a blob) as the actions, with their pre-decoded form. A packet racing this sees the old or the
    /// new actions: the fast form is cleared before the blob is replaced and set after.
    fn publish_actions(&self, acts: *mut u8, actions: &[u8]) -> *mut u8 {
        self.fast_out.store(0, Ordering::Release);
        let old = self.actions.swap(acts, Ordering::AcqRel);
        self.fast_out.store(single_output_of(actions), Ordering::Release);
        old
    }

    /// The actions (caller is in an RCU read-side section or holds the writer lock).
    pub(crate) fn actions(&self) -> &[u8] {
        self.actions_and_tun_dst().0
    }

    /// The actions and their prebuilt `set(tunnel)` dst (null: none), read from one published blob.
    pub(crate) fn actions_and_tun_dst(&self) -> (&[u8], *mut core::ffi::c_void) {
        // SAFETY: The blob is freed only after a grace period following its replacement, so it outlives the
        // caller's read-side section (or the writer lock excludes replacement).
        let payload = unsafe { blob::data(self.actions.load(Ordering::Acquire)) };
        (payload.get(ACTS_PREFIX..).unwrap_or(&[]), blob_tun_dst(payload))
    }

    fn each_counters(&self, mut f: impl FnMut(&Counters)) {
        f(&self.stats0);
        for slot in self.cpu_slots() {
            if let Some(c) = counters_in(slot.load(Ordering::Acquire)) {
                f(c);
            }
        }
    }

    /// Statistics: the sum over every CPU.
    pub(crate) fn stats(&self) -> FlowStats {
        let mut s = FlowStats::default();
        self.each_counters(|c| c.add_to(&mut s));
        s
    }

    /// Zeroes the statistics. A hit racing with this on another CPU may survive it (upstream serialises with a
    /// per-CPU lock; rvs's owners update without one).
    fn clear_stats(&self) {
        self.each_counters(Counters::clear);
    }

    /// Frees the per-CPU counters (table teardown: no user left).
    fn free_percpu(&self) {
        for slot in self.cpu_slots() {
            // SAFETY: No user left.
            unsafe { blob::free(slot.swap(core::ptr::null_mut(), Ordering::AcqRel)) };
        }
        // SAFETY: No user left.
        unsafe { blob::free(self.percpu.swap(core::ptr::null_mut(), Ordering::AcqRel)) };
    }

    /// The unmasked key as installed.
    pub(crate) fn key(&self, _w: &WriterLock) -> FlowKey {
        // SAFETY: Written only under the writer lock, which the caller holds.
        unsafe { *self.key.get() }
    }
}

/// Bytes before the actions in a flow's actions blob: the prebuilt `set(tunnel)` metadata dst pointer (or 0).
const ACTS_PREFIX: usize = 8;

/// The prebuilt metadata dst for `actions` (validated) when they hold exactly one `set(tunnel)` and no nested action
/// list (so that every `set(tunnel)` the executor runs for this flow is that one); null otherwise or without memory.
/// Upstream builds it when the actions are installed, too.
fn tunnel_dst_of(actions: &[u8]) -> *mut core::ffi::c_void {
    use crate::actions::Action;
    let mut found = None;
    for a in crate::actions::ActionList(actions).iter() {
        match a {
            Ok(Action::Set(p)) => {
                let is_tunnel = crate::ovs::key_nl::split_set(p, false)
                    .is_ok_and(|t| t.ty == crate::ovs_abi::OVS_KEY_ATTR_TUNNEL);
                if is_tunnel {
                    if found.is_some() {
                        return core::ptr::null_mut();
                    }
                    found = Some(p);
                }
            }
            Ok(Action::Sample { .. } | Action::Clone(_) | Action::CheckPktLen { .. } | Action::DecTtl(_)) | Err(_) => {
                return core::ptr::null_mut()
            }
            Ok(_) => {}
        }
    }
    let Some(p) = found else { return core::ptr::null_mut() };
    let Ok((value, _)) = crate::ovs::decode_set(p, false) else { return core::ptr::null_mut() };
    let t = crate::skb::tun_meta(&value);
    // SAFETY: `t` is read during the call; process context (flow installation under the writer lock).
    unsafe { glue::ffi::rvs_tun_dst_new(&t) }
}

/// A flow's actions blob: [`ACTS_PREFIX`] bytes naming the prebuilt tunnel dst, then the actions. Null on failure.
fn new_actions_blob(actions: &[u8]) -> *mut u8 {
    let dst = tunnel_dst_of(actions);
    let p = blob::new_prefixed(&(dst as usize as u64).to_ne_bytes(), actions, false);
    if p.is_null() {
        // SAFETY: Never published.
        unsafe { glue::ffi::rvs_tun_dst_release_rcu(dst) };
    }
    p
}

/// The tunnel dst named by an actions blob's payload.
fn blob_tun_dst(payload: &[u8]) -> *mut core::ffi::c_void {
    let raw = payload.get(..ACTS_PREFIX).and_then(|b| b.try_into().ok()).map_or(0, u64::from_ne_bytes);
    usize::try_from(raw).unwrap_or(0) as *mut core::ffi::c_void
}

/// Frees an actions blob and its tunnel dst after a grace period.
///
/// # Safety
///
/// `p` is null or an actions blob no longer reachable by new readers.
unsafe fn free_actions_rcu(p: *mut u8) {
    if p.is_null() {
        return;
    }
    // SAFETY: By the function's safety contract the blob is alive until the grace period ends.
    unsafe {
        glue::ffi::rvs_tun_dst_release_rcu(blob_tun_dst(blob::data(p)));
        blob::free_rcu(p);
    }
}

/// `port + 1` if `actions` (validated) is exactly one `OVS_ACTION_ATTR_OUTPUT`, else 0.
fn single_output_of(actions: &[u8]) -> u32 {
    let mut attrs = crate::nla::Attrs::new(actions);
    match (attrs.next(), attrs.next()) {
        (Some(Ok(a)), None) if a.kind == crate::ovs_abi::OVS_ACTION_ATTR_OUTPUT => {
            a.payload.try_into().map(u32::from_ne_bytes).map_or(0, |p| p.saturating_add(1))
        }
        _ => 0,
    }
}

/// Per-CPU lookup state of a datapath.
#[repr(C)]
pub(crate) struct PerCpu {
    pub(crate) cache: MaskCache,
    pub(crate) counters: CpuCounters<'static>,
    /// Upcalls that could not be queued.
    pub(crate) n_lost: AtomicU64,
    usage: [AtomicU64; MASK_CAPACITY],
}

/// A datapath's flow table.
///
/// # Invariants
///
/// `percpu` is a `kvzalloc` array of `ncpu` `PerCpu` whose
/// `counters.mask_usage` point at their own `usage`. `state` is only used under the writer lock. Per-CPU entries are
/// only used by their CPU with bottom halves disabled.
pub(crate) struct FlowTable {
    cls: Classifier<KStorage>,
    state: UnsafeCell<WriterState>,
    percpu: *mut PerCpu,
    ncpu: usize,
    /// `OVS_DP_ATTR_MASKS_CACHE_SIZE` (0 disables the mask cache).
    pub(crate) cache_size: AtomicU32,
}

impl FlowTable {
    /// An empty table.
    pub(crate) fn new() -> Result<Self> {
        let storage = KStorage::new()?;
        let (cls, state) = Classifier::new(storage).map_err(|_| ENOMEM)?;
        let ncpu = glue::nr_cpu_ids();
        let pbytes = core::mem::size_of::<PerCpu>().checked_mul(ncpu).ok_or(ENOMEM)?;
        let percpu = glue::kvzalloc(pbytes).cast::<PerCpu>();
        if percpu.is_null() {
            return Err(ENOMEM);
        }
        for i in 0..ncpu {
            // SAFETY: `i < ncpu`; the memory is zeroed, which is a valid `MaskCache`, atomics and (after this write)
            // counters; the usage slice lives in the same never-moving allocation as the counters.
            unsafe {
                let pc = percpu.add(i);
                let usage: &'static [AtomicU64] = &(*pc).usage;
                core::ptr::addr_of_mut!((*pc).counters).write(CpuCounters::new(usage));
            }
        }
        Ok(Self {
            cls,
            state: UnsafeCell::new(state),
            percpu,
            ncpu,
            cache_size: AtomicU32::new(crate::classifier::MASK_CACHE_ENTRIES as u32),
        })
    }

    /// The classifier (reader side).
    pub(crate) fn classifier(&self) -> &Classifier<KStorage> {
        &self.cls
    }

    /// The data of flow `id`.
    pub(crate) fn flow(&self, id: FlowId) -> Option<&FlowData> {
        self.cls.storage().data(usize::try_from(id.0).ok()?)
    }

    /// The current CPU's lookup state.
    ///
    /// # Safety
    ///
    /// Bottom halves (or preemption) are disabled, and no other reference to this CPU's entry is live.
    pub(crate) unsafe fn this_cpu(&self) -> &mut PerCpu {
        let i = glue::cpu_id().min(self.ncpu.wrapping_sub(1));
        // SAFETY: By the function's safety contract and the type invariant.
        unsafe { &mut *self.percpu.add(i) }
    }

    /// Number of CPU slots.
    pub(crate) fn ncpu(&self) -> usize {
        self.ncpu
    }

    /// Every CPU's counters (for statistics; racy reads are fine).
    pub(crate) fn all_cpus(&self) -> impl Iterator<Item = &PerCpu> + Clone + '_ {
        // SAFETY: In bounds; shared reads of atomics only.
        (0..self.ncpu).map(move |i| unsafe { &*self.percpu.add(i) })
    }

    /// Looks `key` up for a packet with hash `hash` (packet path, BH disabled, RCU held).
    pub(crate) fn lookup(&self, key: &FlowKey, hash: u32) -> Option<FlowId> {
        // SAFETY: The packet path runs with bottom halves disabled; the per-CPU entry is used only here.
        let pc = unsafe { self.this_cpu() };
        if self.cache_size.load(Ordering::Relaxed) == 0 {
            self.cls.lookup(key, &pc.counters)
        } else {
            self.cls.lookup_cached(key, hash, &mut pc.cache, &pc.counters)
        }
    }

    /// Runs `f` with the classifier writer.
    fn with_writer<R>(&self, _w: &WriterLock, f: impl FnOnce(&mut crate::classifier::Writer<'_, KStorage>) -> R) -> R {
        // SAFETY: The writer state is only used under the writer lock, which `_w` proves is held.
        let st = unsafe { &mut *self.state.get() };
        let mut wr = self.cls.writer(st);
        f(&mut wr)
    }

    /// Waits for a grace period and reclaims what the classifier retired.
    fn reclaim(&self, w: &WriterLock) {
        let token = self.with_writer(w, |wr| wr.grace_start());
        glue::synchronize_rcu();
        self.with_writer(w, |wr| wr.grace_done(token, |_| {}));
    }

    /// Installs a flow with `actions` (validated); `key` is the unmasked key.
    pub(crate) fn insert(
        &self,
        w: &WriterLock,
        key: &FlowKey,
        mask: &Mask,
        ufid: Option<&Ufid>,
        actions: &[u8],
    ) -> core::result::Result<FlowId, ClsError> {
        let acts = new_actions_blob(actions);
        if acts.is_null() {
            return Err(ClsError::NoSpace);
        }
        let mut tries = 0;
        loop {
            let r = self.with_writer(w, |wr| {
                wr.insert_with(key, mask, ufid, |id| {
                    if let Some(fd) = self.flow(id) {
                        fd.clear_stats();
                        // SAFETY: Writer lock held; readers cannot reach `id` before this callback returns.
                        unsafe { *fd.key.get() = *key };
                        // The slot is unreachable by readers here (and its old blob was released at removal).
                        let _ = fd.publish_actions(acts, actions);
                    }
                })
            });
            match r {
                Err(ClsError::Busy) if tries < 2 => {
                    tries += 1;
                    self.reclaim(w);
                }
                Err(e) => {
                    // SAFETY: Never published.
                    unsafe { free_actions_rcu(acts) };
                    return Err(e);
                }
                Ok(id) => return Ok(id),
            }
        }
    }

    /// Replaces the actions of flow `id`.
    pub(crate) fn set_actions(&self, _w: &WriterLock, id: FlowId, actions: &[u8]) -> Result {
        let fd = self.flow(id).ok_or(ENOENT)?;
        let acts = new_actions_blob(actions);
        if acts.is_null() {
            return Err(ENOMEM);
        }
        let old = fd.publish_actions(acts, actions);
        // SAFETY: `old` is unreachable for new readers; freed after a grace period.
        unsafe { free_actions_rcu(old) };
        Ok(())
    }

    /// Clears the statistics of flow `id`.
    pub(crate) fn clear_stats(&self, _w: &WriterLock, id: FlowId) {
        if let Some(fd) = self.flow(id) {
            fd.clear_stats();
        }
    }

    /// Removes flow `id`.
    pub(crate) fn remove(&self, w: &WriterLock, id: FlowId) -> Result {
        self.with_writer(w, |wr| wr.remove(id)).map_err(|_| ENOENT)?;
        self.release(id);
        Ok(())
    }

    fn release(&self, id: FlowId) {
        if let Some(fd) = self.flow(id) {
            fd.fast_out.store(0, Ordering::Release);
            let old = fd.actions.swap(core::ptr::null_mut(), Ordering::AcqRel);
            // SAFETY: Unpublished; freed after a grace period.
            unsafe { free_actions_rcu(old) };
        }
    }

    /// Reorders the mask list by recent hits (upstream `ovs_flow_masks_rebalance`), so that a lookup missing the
    /// mask cache probes the busiest masks first; waits for readers of the old order when it changed.
    pub(crate) fn rebalance(&self, w: &WriterLock) {
        let changed = self.with_writer(w, |wr| wr.rebalance(self.all_cpus().map(|c| &c.counters)));
        // Also reclaim removed flows periodically, so their slots and table memory go back (the classifier shrinks
        // its tables and gives chunks back at the end of a grace period).
        if changed || self.with_writer(w, |wr| wr.needs_grace()) {
            self.reclaim(w);
        }
    }

    /// Removes every flow and, after a grace period, gives their memory back (upstream replaces the table by an
    /// empty minimal one).
    pub(crate) fn flush(&self, w: &WriterLock) {
        self.with_writer(w, |wr| wr.flush(|id| self.release(id)));
        self.reclaim(w);
    }

    /// The non-UFID flow whose unmasked key equals `key` (upstream `ovs_flow_tbl_lookup_exact`: every mask in use
    /// is tried, then the unmasked keys are compared).
    pub(crate) fn lookup_exact(&self, w: &WriterLock, key: &FlowKey) -> Option<FlowId> {
        let masks = self.cls.masks_in_order();
        for m in masks {
            let Some(id) = self.with_writer(w, |wr| wr.find_exact(key, &m)) else { continue };
            let has_ufid = self.cls.flow(id).is_some_and(|f| f.ufid.is_some());
            if !has_ufid && self.flow(id).is_some_and(|fd| fd.key(w) == *key) {
                return Some(id);
            }
        }
        None
    }

    /// The first flow (any mask) matching the unmasked `key`, as a packet lookup would find it.
    pub(crate) fn lookup_any(&self, key: &FlowKey) -> Option<FlowId> {
        let dummy: CpuCounters<'_> = CpuCounters::new(&[]);
        self.cls.lookup(key, &dummy)
    }
}

impl Drop for FlowTable {
    fn drop(&mut self) {
        // The classifier's storage frees the chunks (with every flow's actions and counters) itself.
        // SAFETY: Our allocation (type invariant); no user remains.
        unsafe { glue::kvfree(self.percpu.cast()) };
    }
}

/// The periodic mask rebalance of every datapath (called every 4 s by the C glue's delayed work).
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_rebalance() {
    let w = WriterLock::lock();
    for dp in w.datapaths() {
        dp.table.rebalance(&w);
    }
}

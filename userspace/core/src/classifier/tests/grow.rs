//! Storage that grows and shrinks (as the kernel module's): flow records in chunks added on
//! demand and given back by `trim_entries`, bucket arrays allocated at the exact requested size
//! and poisoned when released, so a reader that used released memory would miss its flow.

use super::super::*;
use super::{grace, mask, pkt, ufid, zeroed};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::vec::Vec;

/// Flow records per chunk.
pub(crate) const CHUNK: u32 = 64;

fn leak<T: Default>(n: usize) -> &'static [T] {
    Vec::leak(zeroed(n))
}

/// Growable test storage (memory is leaked or recycled, never freed: tests only).
pub(crate) struct Grow {
    chunks: Vec<OnceLock<&'static [Entry]>>,
    limit: AtomicU32,
    masks: &'static [MaskSlot],
    order: [&'static [AtomicU32]; 2],
    /// `[flow0, flow1, ufid0, ufid1]`.
    buckets: [Mutex<&'static [AtomicU64]>; 4],
    /// Released arrays by length, for reuse.
    bin: Mutex<Vec<&'static [AtomicU64]>>,
    pub(crate) releases: AtomicUsize,
    pub(crate) trims: AtomicUsize,
    pub(crate) usage: &'static [AtomicU64],
}

impl Grow {
    pub(crate) fn new(max_flows: u32, masks: usize) -> Self {
        Self {
            chunks: (0..max_flows.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            limit: AtomicU32::new(0),
            masks: leak(masks),
            order: [leak(masks), leak(masks)],
            buckets: Default::default(),
            bin: Mutex::new(Vec::new()),
            releases: AtomicUsize::new(0),
            trims: AtomicUsize::new(0),
            usage: leak(masks),
        }
    }

    fn slot(table: TableKind, half: usize) -> usize {
        (match table {
            TableKind::Flow => 0,
            TableKind::Ufid => 2,
        }) + half.min(1)
    }

    /// Current physical lengths of the four bucket arrays.
    pub(crate) fn bucket_lens(&self) -> [usize; 4] {
        core::array::from_fn(|i| self.buckets[i].lock().unwrap().len())
    }
}

impl Storage for &Grow {
    fn entry(&self, idx: u32) -> Option<&Entry> {
        if idx >= self.limit.load(Ordering::Acquire) {
            return None;
        }
        self.chunks.get((idx / CHUNK) as usize)?.get()?.get((idx % CHUNK) as usize)
    }
    fn entry_limit(&self) -> u32 {
        self.limit.load(Ordering::Acquire)
    }
    fn provide_entries(&self, want: u32) -> bool {
        while self.limit.load(Ordering::Relaxed) < want {
            let l = self.limit.load(Ordering::Relaxed);
            let Some(c) = self.chunks.get((l / CHUNK) as usize) else { return false };
            let chunk = c.get_or_init(|| leak(CHUNK as usize));
            for e in chunk.iter() {
                e.state.store(0, Ordering::Relaxed);
            }
            self.limit.store(l + CHUNK, Ordering::Release);
        }
        true
    }
    fn trim_entries(&self, keep: u32) {
        let new = keep.div_ceil(CHUNK) * CHUNK;
        let old = self.limit.load(Ordering::Relaxed);
        if new < old {
            self.limit.store(new, Ordering::Release);
            self.trims.fetch_add(1, Ordering::Relaxed);
            // Poison: a reader still holding one of these would see a dead record.
            for i in new..old {
                if let Some(e) = self.chunks[(i / CHUNK) as usize].get().and_then(|c| c.get((i % CHUNK) as usize)) {
                    assert_ne!(e.state.load(Ordering::Relaxed) & 0xff, 1, "trimmed a live record");
                    e.state.store(2, Ordering::Relaxed);
                }
            }
        }
    }
    fn masks(&self) -> &[MaskSlot] {
        self.masks
    }
    fn order(&self, half: usize) -> &[AtomicU32] {
        self.order.get(half).copied().unwrap_or(&[])
    }
    fn buckets(&self, table: TableKind, half: usize) -> &[AtomicU64] {
        *self.buckets[Grow::slot(table, half)].lock().unwrap()
    }
    fn provide_buckets(&self, table: TableKind, half: usize, len: usize) -> bool {
        let mut cur = self.buckets[Grow::slot(table, half)].lock().unwrap();
        if cur.len() != len {
            let mut bin = self.bin.lock().unwrap();
            let new = match bin.iter().position(|a| a.len() == len) {
                Some(i) => bin.swap_remove(i),
                None => leak(len),
            };
            if !cur.is_empty() {
                bin.push(*cur);
            }
            *cur = new;
        }
        true
    }
    fn release_buckets(&self, table: TableKind, half: usize) {
        let mut cur = self.buckets[Grow::slot(table, half)].lock().unwrap();
        // Poison: tombstones everywhere make any probe of this array miss.
        for b in cur.iter() {
            b.store(u64::MAX, Ordering::Relaxed);
        }
        if !cur.is_empty() {
            self.bin.lock().unwrap().push(*cur);
        }
        *cur = &[];
        self.releases.fetch_add(1, Ordering::Relaxed);
    }
}

/// Inserts, running a grace period and retrying on `Busy` (as the kernel module does).
fn insert(cls: &Classifier<&Grow>, st: &mut WriterState, k: &FlowKey, m: &Mask, u: Option<&Ufid>) -> FlowId {
    loop {
        match cls.writer(st).insert(k, m, u) {
            Err(Error::Busy) => {
                grace(&mut cls.writer(st));
            }
            r => return r.unwrap(),
        }
    }
}

fn twenty_masks() -> Vec<Mask> {
    (0..20u32)
        .map(|i| {
            let mut m = *mask(8 + i, i % 2 == 0).key();
            m.set_in_port(u32::MAX);
            Mask::new(m)
        })
        .collect()
}

#[test]
fn storage_grows_from_nothing_and_shrinks_back() {
    let g = Grow::new(100_000, 32);
    let (cls, mut st) = Classifier::new(&g).unwrap();
    assert_eq!((&g).entry_limit(), 0, "no flow memory before the first flow");
    let c = CpuCounters::new(g.usage);
    let masks = twenty_masks();
    let n = 20_000u32;
    let key = |i: u32| pkt(1 + i, i, 0x0a00_0000 | i, 80);
    for i in 0..n {
        let u = Ufid::new(&i.to_ne_bytes()).unwrap();
        insert(&cls, &mut st, &key(i), &masks[(i % 20) as usize], Some(&u));
    }
    assert_eq!(cls.flow_count(), n);
    assert_eq!(cls.mask_count(), 20);
    assert!((&g).entry_limit() >= n && (&g).entry_limit() < n + 2 * CHUNK, "{}", (&g).entry_limit());
    for i in 0..n {
        let id = cls.lookup(&key(i), &c).unwrap_or_else(|| panic!("flow {i} missing"));
        assert_eq!(cls.lookup_ufid(&Ufid::new(&i.to_ne_bytes()).unwrap()), Some(id));
        assert_eq!(cls.flow(id).unwrap().key.in_port(), 1 + i);
    }
    let mut cursor = DumpCursor::default();
    let mut dumped = 0;
    while cls.dump_next(&mut cursor).is_some() {
        dumped += 1;
    }
    assert_eq!(dumped, n);
    // Exact lookups and duplicate detection reach the records through the storage too.
    for i in [0, 1, n / 2, n - 1] {
        let m = &masks[(i % 20) as usize];
        let id = cls.lookup(&key(i), &c).unwrap();
        assert_eq!(cls.writer(&mut st).find_exact(&key(i), m), Some(id));
        assert_eq!(cls.writer(&mut st).insert(&key(i), m, None), Err(Error::Exists));
        let u = Ufid::new(&i.to_ne_bytes()).unwrap();
        assert_eq!(cls.writer(&mut st).insert(&pkt(99, 0, 0, 0), m, Some(&u)), Err(Error::UfidExists));
    }
    grace(&mut cls.writer(&mut st));
    let lens = g.bucket_lens();
    // Published halves hold 20000 at ≤ 3/4 load; the retired halves were released.
    assert_eq!(lens.iter().filter(|&&l| l == 0).count(), 2, "{lens:?}");
    assert!(lens.iter().all(|&l| l == 0 || l >= 32_768), "{lens:?}");

    // Remove all but the ten lowest-numbered flows (lowest ids): memory goes back.
    for i in 10..n {
        let id = cls.lookup_ufid(&Ufid::new(&i.to_ne_bytes()).unwrap()).unwrap();
        cls.writer(&mut st).remove(id).unwrap();
    }
    assert_eq!(cls.flow_count(), 10);
    grace(&mut cls.writer(&mut st));
    grace(&mut cls.writer(&mut st));
    assert!((&g).entry_limit() <= CHUNK, "records trimmed: {}", (&g).entry_limit());
    assert!(g.trims.load(Ordering::Relaxed) >= 1);
    let lens = g.bucket_lens();
    assert!(lens.iter().all(|&l| l <= 64), "tables shrank: {lens:?}");
    for i in 0..n {
        assert_eq!(cls.lookup(&key(i), &c).is_some(), i < 10, "flow {i}");
    }
    // And grows again.
    for i in n..n + 5000 {
        insert(&cls, &mut st, &key(i), &masks[(i % 20) as usize], None);
    }
    assert_eq!(cls.flow_count(), 5010);
    for i in n..n + 5000 {
        assert!(cls.lookup(&key(i), &c).is_some(), "flow {i}");
    }
}

#[test]
fn a_live_flow_high_up_keeps_the_records_below_it() {
    let g = Grow::new(10_000, 4);
    let (cls, mut st) = Classifier::new(&g).unwrap();
    let m = mask(32, true);
    let ids: Vec<FlowId> = (0..1000u32).map(|i| insert(&cls, &mut st, &pkt(1, 0, i, 1), &m, None)).collect();
    let last = *ids.iter().max().unwrap();
    for &id in &ids {
        if id != last {
            cls.writer(&mut st).remove(id).unwrap();
        }
    }
    grace(&mut cls.writer(&mut st));
    assert!((&g).entry_limit() > last.0, "the live record stays backed");
    assert_eq!(g.trims.load(Ordering::Relaxed), 0);
    let c = CpuCounters::new(g.usage);
    assert_eq!(cls.lookup(&pkt(1, 0, 999, 1), &c), Some(last));
    // Freed low records are reused before the storage grows.
    let before = (&g).entry_limit();
    for i in 0..900u32 {
        let id = insert(&cls, &mut st, &pkt(2, 0, i, 1), &m, None);
        assert!(id.0 < before);
    }
    assert_eq!((&g).entry_limit(), before);
    // A flush frees everything.
    cls.writer(&mut st).flush(|_| {});
    grace(&mut cls.writer(&mut st));
    assert_eq!((&g).entry_limit(), 0);
    assert_eq!(cls.flow_count(), 0);
}

#[test]
fn fixed_storage_still_reports_full_and_busy() {
    // The slice storage cannot grow: the capacity error is unchanged.
    let mem = super::Mem::new(40, 2);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let m = mask(32, false);
    for i in 0..40u32 {
        loop {
            match cls.writer(&mut st).insert(&pkt(1, 0, i, 0), &m, Some(&ufid(i as u8))) {
                Err(Error::Busy) => drop(grace(&mut cls.writer(&mut st))),
                r => {
                    r.unwrap();
                    break;
                }
            }
        }
    }
    assert_eq!(cls.writer(&mut st).insert(&pkt(1, 0, 41, 0), &m, None), Err(Error::NoSpace));
}

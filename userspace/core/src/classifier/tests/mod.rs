//! Classifier tests: every operation and error, a model-based proptest against a linear scan,
//! and concurrent readers racing one writer.

use super::*;
use crate::key::FlowKey;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::vec::Vec;

/// Owned, zeroed storage for tests.
pub(crate) struct Mem {
    entries: Vec<Entry>,
    masks: Vec<MaskSlot>,
    order: [Vec<AtomicU32>; 2],
    flow: [Vec<AtomicU64>; 2],
    ufid: [Vec<AtomicU64>; 2],
    pub usage: Vec<AtomicU64>,
}

mod grow;

fn zeroed<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl Mem {
    pub(crate) fn new(flows: usize, masks: usize) -> Self {
        let s = Sizing::new(flows, masks);
        Self {
            entries: zeroed(s.entries),
            masks: zeroed(s.masks),
            order: [zeroed(s.masks), zeroed(s.masks)],
            flow: [zeroed(s.buckets), zeroed(s.buckets)],
            ufid: [zeroed(s.buckets), zeroed(s.buckets)],
            usage: zeroed(s.masks),
        }
    }

    pub(crate) fn storage(&self) -> SliceStorage<'_> {
        SliceStorage {
            entries: &self.entries,
            masks: &self.masks,
            order: [&self.order[0], &self.order[1]],
            flow_buckets: [&self.flow[0], &self.flow[1]],
            ufid_buckets: [&self.ufid[0], &self.ufid[1]],
        }
    }
}

fn grace<S: Storage>(w: &mut Writer<'_, S>) -> Vec<FlowId> {
    let t = w.grace_start();
    let mut freed = Vec::new();
    w.grace_done(t, |id| freed.push(id));
    freed
}

fn pkt(in_port: u32, src: u32, dst: u32, tp_dst: u16) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(in_port);
    k.set_eth_type(0x0800);
    k.set_ip_proto(6);
    k.set_ipv4_src(src);
    k.set_ipv4_dst(dst);
    k.set_tp_dst(tp_dst);
    k
}

/// Mask: in_port + eth_type + ipv4_dst prefix, optionally tp_dst.
fn mask(dst_prefix: u32, tp: bool) -> Mask {
    let mut m = FlowKey::ZERO;
    m.set_in_port(u32::MAX);
    m.set_eth_type(0xffff);
    m.set_ipv4_dst(if dst_prefix == 0 { 0 } else { u32::MAX << (32 - dst_prefix) });
    if tp {
        m.set_tp_dst(0xffff);
    }
    Mask::new(m)
}

fn ufid(n: u8) -> Ufid {
    Ufid::new(&[n; 16]).unwrap()
}

#[test]
fn insert_lookup_ignores_wildcarded_bits_and_counts() {
    let mem = Mem::new(64, 8);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let c = CpuCounters::new(&mem.usage);
    let m = mask(24, false);
    let id = cls.writer(&mut st).insert(&pkt(1, 9, 0x0a00_0001, 80), &m, None).unwrap();
    assert_eq!(cls.flow_count(), 1);
    assert_eq!(cls.mask_count(), 1);
    // Same /24, other source and port: wildcarded, still matches.
    assert_eq!(cls.lookup(&pkt(1, 7, 0x0a00_00ff, 443), &c), Some(id));
    assert_eq!(cls.lookup(&pkt(1, 7, 0x0a00_0100, 443), &c), None);
    assert_eq!(cls.lookup(&pkt(2, 9, 0x0a00_0001, 80), &c), None);
    let s = cls.stats([&c]);
    assert_eq!((s.hits, s.misses, s.masks_probed, s.masks, s.flows), (1, 2, 3, 1, 1));
    assert_eq!(mem.usage.iter().map(|u| u.load(Ordering::Relaxed)).sum::<u64>(), 1);
    let info = cls.flow(id).unwrap();
    assert_eq!(info.mask, m);
    assert_eq!(info.key, m.apply(&pkt(1, 9, 0x0a00_0001, 80)));
    assert_eq!(info.ufid, None);
}

#[test]
fn identical_masked_flow_is_rejected() {
    let mem = Mem::new(64, 8);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let mut w = cls.writer(&mut st);
    let m = mask(24, false);
    let id = w.insert(&pkt(1, 0, 0x0a00_0001, 0), &m, None).unwrap();
    // Differs only in wildcarded bits: same (masked key, mask).
    assert_eq!(w.insert(&pkt(1, 5, 0x0a00_0002, 9), &m, None), Err(Error::Exists));
    assert_eq!(w.find_exact(&pkt(1, 5, 0x0a00_0002, 9), &m), Some(id));
    // Same key under another mask is a different flow.
    assert!(w.insert(&pkt(1, 0, 0x0a00_0001, 0), &mask(32, false), None).is_ok());
    assert_eq!(cls.flow_count(), 2);
    assert_eq!(cls.mask_count(), 2);
}

#[test]
fn ufid_index_insert_lookup_remove() {
    let mem = Mem::new(64, 8);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let m = mask(32, true);
    let a = cls.writer(&mut st).insert(&pkt(1, 0, 1, 1), &m, Some(&ufid(1))).unwrap();
    assert_eq!(
        cls.writer(&mut st).insert(&pkt(1, 0, 2, 1), &m, Some(&ufid(1))),
        Err(Error::UfidExists)
    );
    assert_eq!(cls.flow_count(), 1, "failed insert changed nothing");
    let short = Ufid::new(&[1; 4]).unwrap();
    let b = cls.writer(&mut st).insert(&pkt(1, 0, 2, 1), &m, Some(&short)).unwrap();
    assert_eq!(cls.lookup_ufid(&ufid(1)), Some(a));
    assert_eq!(cls.lookup_ufid(&short), Some(b));
    assert_eq!(cls.lookup_ufid(&ufid(2)), None);
    assert_eq!(cls.flow(b).unwrap().ufid, Some(short));
    cls.writer(&mut st).remove(a).unwrap();
    assert_eq!(cls.lookup_ufid(&ufid(1)), None);
    assert_eq!(cls.flow(a), None);
    // The UFID is free again.
    assert!(cls.writer(&mut st).insert(&pkt(1, 0, 3, 1), &m, Some(&ufid(1))).is_ok());
}

#[test]
fn remove_errors_and_grace_reuse() {
    let mem = Mem::new(2, 4);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let c = CpuCounters::new(&mem.usage);
    let mut w = cls.writer(&mut st);
    let m = mask(32, false);
    let a = w.insert(&pkt(1, 0, 1, 0), &m, None).unwrap();
    let b = w.insert(&pkt(1, 0, 2, 0), &m, None).unwrap();
    assert_eq!(w.insert(&pkt(1, 0, 3, 0), &m, None), Err(Error::NoSpace));
    assert_eq!(w.remove(FlowId(99)), Err(Error::NotFound));
    w.remove(a).unwrap();
    assert_eq!(w.remove(a), Err(Error::NotFound));
    assert_eq!(cls.lookup(&pkt(1, 0, 1, 0), &c), None);
    assert_eq!(cls.lookup(&pkt(1, 0, 2, 0), &c), Some(b));
    // The only free entry is in limbo.
    assert!(cls.writer(&mut st).needs_grace());
    assert_eq!(cls.writer(&mut st).insert(&pkt(1, 0, 3, 0), &m, None), Err(Error::Busy));
    assert_eq!(grace(&mut cls.writer(&mut st)), [a]);
    let c3 = cls.writer(&mut st).insert(&pkt(1, 0, 3, 0), &m, None).unwrap();
    assert_eq!(c3, a, "id reused after the grace period");
    assert_eq!(cls.lookup(&pkt(1, 0, 3, 0), &c), Some(c3));
    assert_eq!(cls.flow_count(), 2);
}

#[test]
fn masks_are_reference_counted() {
    let mem = Mem::new(16, 4);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let mut w = cls.writer(&mut st);
    let (m1, m2) = (mask(32, false), mask(16, false));
    let a = w.insert(&pkt(1, 0, 1, 0), &m1, None).unwrap();
    let b = w.insert(&pkt(1, 0, 2, 0), &m1, None).unwrap();
    let c = w.insert(&pkt(2, 0, 2, 0), &m2, None).unwrap();
    assert_eq!(cls.masks_in_order().collect::<Vec<_>>(), [m1, m2]);
    let mut w = cls.writer(&mut st);
    w.remove(a).unwrap();
    assert_eq!(cls.mask_count(), 2);
    w.remove(b).unwrap();
    assert_eq!(cls.mask_count(), 1);
    assert_eq!(cls.masks_in_order().collect::<Vec<_>>(), [m2]);
    grace(&mut w);
    // Re-added mask goes to the end of the list.
    w.insert(&pkt(1, 0, 1, 0), &m1, None).unwrap();
    assert_eq!(cls.masks_in_order().collect::<Vec<_>>(), [m2, m1]);
    w.remove(c).unwrap();
    assert_eq!(cls.masks_in_order().collect::<Vec<_>>(), [m1]);
}

#[test]
fn too_many_masks_and_busy_mask_slots() {
    let mem = Mem::new(16, 2);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let mut w = cls.writer(&mut st);
    let a = w.insert(&pkt(1, 0, 1, 0), &mask(32, false), None).unwrap();
    w.insert(&pkt(1, 0, 1, 0), &mask(16, false), None).unwrap();
    assert_eq!(w.insert(&pkt(1, 0, 1, 0), &mask(8, false), None), Err(Error::TooManyMasks));
    assert_eq!(cls.flow_count(), 2);
    let mut w = cls.writer(&mut st);
    w.remove(a).unwrap();
    assert_eq!(w.insert(&pkt(1, 0, 1, 0), &mask(8, false), None), Err(Error::Busy));
    grace(&mut w);
    w.insert(&pkt(1, 0, 1, 0), &mask(8, false), None).unwrap();
    assert_eq!(cls.mask_count(), 2);
}

#[test]
fn first_mask_in_list_order_wins() {
    let mem = Mem::new(16, 4);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let c = CpuCounters::new(&mem.usage);
    let mut w = cls.writer(&mut st);
    // Overlapping flows (the writer's responsibility): /16 first, then /32.
    let wide = w.insert(&pkt(1, 0, 0x0a01_0000, 0), &mask(16, false), None).unwrap();
    let narrow = w.insert(&pkt(1, 0, 0x0a01_0203, 0), &mask(32, false), None).unwrap();
    assert_eq!(cls.lookup(&pkt(1, 0, 0x0a01_0203, 0), &c), Some(wide));
    assert_eq!(cls.lookup(&pkt(1, 0, 0x0a01_0204, 0), &c), Some(wide));
    cls.writer(&mut st).remove(wide).unwrap();
    assert_eq!(cls.lookup(&pkt(1, 0, 0x0a01_0203, 0), &c), Some(narrow));
}

#[test]
fn tables_grow_and_need_grace_to_rebuild() {
    let mem = Mem::new(1000, 4);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let c = CpuCounters::new(&mem.usage);
    let m = mask(32, true);
    // Without grace periods the first rebuilt half stays retired: inserting stops with Busy
    // once the live table is 7/8 full.
    let mut n = 0u32;
    let err = loop {
        match cls.writer(&mut st).insert(&pkt(1, 0, n, 1), &m, Some(&Ufid::new(&n.to_ne_bytes()).unwrap())) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
        assert!(n < 1000);
    };
    assert_eq!(err, Error::Busy);
    assert!((12..64).contains(&n), "{n}");
    grace(&mut cls.writer(&mut st));
    let mut ids = Vec::new();
    for i in 0..1000u32 {
        let r = cls.writer(&mut st).insert(&pkt(1, 0, i, 1), &m, Some(&Ufid::new(&i.to_ne_bytes()).unwrap()));
        match r {
            Ok(id) => ids.push((i, id)),
            Err(Error::Exists) => assert!(i < n),
            Err(e) => panic!("{i}: {e}"),
        }
        grace(&mut cls.writer(&mut st));
    }
    assert_eq!(cls.flow_count(), 1000);
    for i in 0..1000u32 {
        let id = cls.lookup(&pkt(1, 5, i, 1), &c).unwrap();
        assert_eq!(cls.lookup_ufid(&Ufid::new(&i.to_ne_bytes()).unwrap()), Some(id));
        assert_eq!(cls.flow(id).unwrap().key.ipv4_dst(), i);
    }
    assert_eq!(cls.lookup(&pkt(1, 5, 1000, 1), &c), None);
    // Churn: many removals and inserts leave tombstones that rebuilds clear.
    for round in 0..5u32 {
        for i in 0..1000u32 {
            let id = cls.lookup(&pkt(1, 0, i + round * 1000, 1), &c).unwrap();
            cls.writer(&mut st).remove(id).unwrap();
            // The pool is full: the removed entry is the only one, usable after a grace period.
            assert_eq!(cls.writer(&mut st).insert(&pkt(1, 0, 7_000_000, 1), &m, None), Err(Error::Busy));
            grace(&mut cls.writer(&mut st));
            cls.writer(&mut st)
                .insert(&pkt(1, 0, i + (round + 1) * 1000, 1), &m, None)
                .unwrap();
        }
    }
    for i in 0..1000u32 {
        assert!(cls.lookup(&pkt(1, 0, i + 5000, 1), &c).is_some());
        assert!(cls.lookup(&pkt(1, 0, i + 4000, 1), &c).is_none());
    }
}

#[test]
fn dump_resumes_from_cursor_and_flush_removes_all() {
    let mem = Mem::new(32, 4);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let mut w = cls.writer(&mut st);
    let ids: Vec<_> = (0..10).map(|i| w.insert(&pkt(1, 0, i, 0), &mask(32, false), None).unwrap()).collect();
    w.remove(ids[3]).unwrap();
    let mut cursor = DumpCursor::default();
    let mut seen = Vec::new();
    // Three flows per "message".
    loop {
        let mut n = 0;
        while n < 3 {
            match cls.dump_next(&mut cursor) {
                Some(id) => seen.push(id),
                None => break,
            }
            n += 1;
        }
        if n < 3 {
            break;
        }
    }
    let mut want = ids.clone();
    want.remove(3);
    assert_eq!(seen, want);
    let mut flushed = Vec::new();
    cls.writer(&mut st).flush(|id| flushed.push(id));
    assert_eq!(flushed, want);
    assert_eq!(cls.flow_count(), 0);
    assert_eq!(cls.mask_count(), 0);
    assert_eq!(cls.dump_next(&mut DumpCursor::default()), None);
}

/// 20 masks, one flow each, all matching disjoint packets.
fn twenty_masks(cls: &Classifier<SliceStorage<'_>>, st: &mut WriterState) -> Vec<(FlowKey, FlowId)> {
    (0..20u32)
        .map(|i| {
            let k = pkt(i, 0, 0x0a00_0000 + i, i as u16);
            let m = mask(8 + i, i % 2 == 0);
            (k, cls.writer(st).insert(&k, &m, None).unwrap())
        })
        .collect()
}

#[test]
fn mask_cache_skips_the_walk_for_repeated_hashes() {
    let mem = Mem::new(64, 32);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let flows = twenty_masks(&cls, &mut st);
    let mut cache = MaskCache::new();
    let (k, id) = flows[19];
    let c = CpuCounters::new(&mem.usage);
    assert_eq!(cls.lookup_cached(&k, 0x1234_5678, &mut cache, &c), Some(id));
    assert_eq!(c.snapshot().masks_probed, 20);
    assert_eq!(c.snapshot().cache_hits, 0);
    for _ in 0..10 {
        assert_eq!(cls.lookup_cached(&k, 0x1234_5678, &mut cache, &c), Some(id));
    }
    let s = c.snapshot();
    assert_eq!((s.masks_probed, s.cache_hits, s.hits), (30, 10, 11));
    // A stale entry (another flow now under the same hash) costs a walk, then is updated.
    let (k0, id0) = flows[0];
    assert_eq!(cls.lookup_cached(&k0, 0x1234_5678, &mut cache, &c), Some(id0));
    assert_eq!(cls.lookup_cached(&k0, 0x1234_5678, &mut cache, &c), Some(id0));
    // One wasted probe at the cached position, then the walk finds it at position 0.
    assert_eq!(c.snapshot().masks_probed, 30 + 2 + 1);
    // A miss drops the entry; hash 0 bypasses the cache.
    assert_eq!(cls.lookup_cached(&pkt(99, 0, 0, 0), 0x1234_5678, &mut cache, &c), None);
    assert!(cache.find(0x1234_5678).is_err());
    assert_eq!(cls.lookup_cached(&k, 0, &mut cache, &c), Some(id));
    // recirc_id changes the cache key: same packet hash, but a fresh walk (20 probes) first.
    assert_eq!(cls.lookup_cached(&k, 0x1234_5678, &mut cache, &c), Some(id));
    assert_eq!(cls.lookup_cached(&k, 0x1234_5678, &mut cache, &c), Some(id));
    let mut r = k;
    r.set_recirc_id(5);
    let before = c.snapshot().masks_probed;
    assert_eq!(cls.lookup_cached(&r, 0x1234_5678, &mut cache, &c), Some(id));
    assert_eq!(c.snapshot().masks_probed - before, 20);
}

#[test]
fn rebalance_moves_hot_masks_first() {
    let mem = Mem::new(64, 32);
    let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
    let flows = twenty_masks(&cls, &mut st);
    let usage2: Vec<AtomicU64> = zeroed(32);
    let c1 = CpuCounters::new(&mem.usage);
    let c2 = CpuCounters::new(&usage2);
    // Baseline.
    assert!(!cls.writer(&mut st).rebalance([&c1, &c2]));
    for _ in 0..5 {
        cls.lookup(&flows[19].0, &c1);
    }
    for _ in 0..5 {
        cls.lookup(&flows[12].0, &c2);
    }
    cls.lookup(&flows[12].0, &c1);
    assert!(cls.writer(&mut st).rebalance([&c1, &c2]));
    let order: Vec<_> = cls.masks_in_order().collect();
    assert_eq!(order[0], cls.flow(flows[12].1).unwrap().mask, "6 hits");
    assert_eq!(order[1], cls.flow(flows[19].1).unwrap().mask, "5 hits");
    assert_eq!(order[2], cls.flow(flows[0].1).unwrap().mask, "ties keep their order");
    assert_eq!(order.len(), 20);
    let before = c1.snapshot().masks_probed;
    assert_eq!(cls.lookup(&flows[12].0, &c1), Some(flows[12].1));
    assert_eq!(c1.snapshot().masks_probed - before, 1);
    // Needs a grace period before the old array can be rewritten.
    for _ in 0..9 {
        cls.lookup(&flows[5].0, &c1);
    }
    assert!(!cls.writer(&mut st).rebalance([&c1, &c2]));
    grace(&mut cls.writer(&mut st));
    for _ in 0..9 {
        cls.lookup(&flows[5].0, &c1);
    }
    assert!(cls.writer(&mut st).rebalance([&c1, &c2]));
    assert_eq!(cls.masks_in_order().next(), Some(cls.flow(flows[5].1).unwrap().mask));
    // Everything still found.
    for (k, id) in &flows {
        assert_eq!(cls.lookup(k, &c1), Some(*id));
    }
}

#[test]
fn errors_display() {
    use std::string::ToString;
    assert!(Error::Busy.to_string().contains("grace"));
    assert!(Error::Exists.to_string().contains("exists"));
}

mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert { key: FlowKey, mask: usize, ufid: Option<u8> },
        Remove(usize),
        Grace,
        Lookup(FlowKey, u32),
    }

    fn masks() -> Vec<Mask> {
        let mut v = Vec::new();
        for (pre, tp) in [(32, true), (24, false), (16, true), (0, false), (8, true), (32, false)] {
            v.push(mask(pre, tp));
        }
        // An exact mask and the all-wildcard one.
        v.push(Mask::EXACT);
        v.push(Mask::default());
        v
    }

    fn key() -> impl Strategy<Value = FlowKey> {
        (0u32..3, 0u32..2, prop::sample::select(std::vec![0x0a00_0001u32, 0x0a00_0102, 0x0a01_0001, 0x0b00_0001]), 0u16..3)
            .prop_map(|(port, src, dst, tp)| pkt(port, src, dst, tp))
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (key(), 0usize..8, prop::option::of(0u8..6)).prop_map(|(key, mask, ufid)| Op::Insert { key, mask, ufid }),
            2 => (0usize..64).prop_map(Op::Remove),
            1 => Just(Op::Grace),
            4 => (key(), any::<u32>()).prop_map(|(k, h)| Op::Lookup(k, h)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn lookup_equals_linear_scan(ops in prop::collection::vec(op(), 1..80)) {
            let all = masks();
            let mem = Mem::new(24, 8);
            let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
            let c = CpuCounters::new(&mem.usage);
            let mut cache = MaskCache::new();
            // Model: live flows (id, masked key, mask, ufid) and the mask list order.
            let mut flows: Vec<(FlowId, FlowKey, Mask, Option<u8>)> = Vec::new();
            let mut order: Vec<Mask> = Vec::new();
            let mut limbo = 0usize;
            let mut mask_limbo = 0usize;
            for op in ops {
                match op {
                    Op::Insert { key, mask, ufid: u } => {
                        let m = all[mask];
                        let mk = m.apply(&key);
                        let r = cls.writer(&mut st).insert(&key, &m, u.map(ufid).as_ref());
                        if flows.iter().any(|f| f.2 == m && f.1 == mk) {
                            prop_assert_eq!(r, Err(Error::Exists));
                        } else if u.is_some() && flows.iter().any(|f| f.3 == u) {
                            prop_assert_eq!(r, Err(Error::UfidExists));
                        } else if flows.len() + limbo >= 24 {
                            prop_assert!(r == Err(Error::NoSpace) || r == Err(Error::Busy));
                        } else if !order.contains(&m) && order.len() + mask_limbo >= 8 {
                            prop_assert!(r == Err(Error::TooManyMasks) || r == Err(Error::Busy));
                        } else {
                            match r {
                                Ok(id) => {
                                    prop_assert!(flows.iter().all(|f| f.0 != id));
                                    flows.push((id, mk, m, u));
                                    if !order.contains(&m) {
                                        order.push(m);
                                    }
                                }
                                // Table rebuild blocked on a grace period.
                                Err(Error::Busy) => {}
                                Err(e) => prop_assert!(false, "unexpected {:?}", e),
                            }
                        }
                    }
                    Op::Remove(i) => {
                        if flows.is_empty() {
                            prop_assert_eq!(cls.writer(&mut st).remove(FlowId(i as u32)).is_err(), true);
                            continue;
                        }
                        let (id, _, m, _) = flows.remove(i % flows.len());
                        cls.writer(&mut st).remove(id).unwrap();
                        prop_assert_eq!(cls.writer(&mut st).remove(id), Err(Error::NotFound));
                        limbo += 1;
                        if !flows.iter().any(|f| f.2 == m) {
                            order.retain(|x| *x != m);
                            mask_limbo += 1;
                        }
                    }
                    Op::Grace => {
                        let freed = grace(&mut cls.writer(&mut st));
                        prop_assert_eq!(freed.len(), limbo);
                        limbo = 0;
                        mask_limbo = 0;
                    }
                    Op::Lookup(k, h) => {
                        let want = order.iter().find_map(|m| {
                            flows.iter().find(|f| f.2 == *m && m.matches(&k, &f.1)).map(|f| f.0)
                        });
                        prop_assert_eq!(cls.lookup(&k, &c), want);
                        // Cached: some matching flow iff the scan finds one.
                        let got = cls.lookup_cached(&k, h, &mut cache, &c);
                        prop_assert_eq!(got.is_some(), want.is_some());
                        if let Some(id) = got {
                            let f = cls.flow(id).unwrap();
                            prop_assert!(f.mask.matches(&k, &f.key));
                        }
                    }
                }
                prop_assert_eq!(cls.masks_in_order().collect::<Vec<_>>(), order.clone());
                prop_assert_eq!(cls.flow_count() as usize, flows.len());
                prop_assert_eq!(cls.mask_count() as usize, order.len());
                for f in &flows {
                    if let Some(u) = f.3 {
                        prop_assert_eq!(cls.lookup_ufid(&ufid(u)), Some(f.0));
                    }
                    let info = cls.flow(f.0).unwrap();
                    prop_assert_eq!((info.key, info.mask), (f.1, f.2));
                }
            }
        }
    }
}

/// Readers run lookups while the writer churns flows, masks and tables, with grace periods
/// emulated by quiescent-state counters (each lookup is one read-side section).
#[test]
fn concurrent_readers_never_see_torn_entries() {
    let mem = Mem::new(512, 16);
    concurrent_churn(mem.storage(), &mem.usage);
}

/// The same with storage that grows, shrinks and poisons what it releases: the tables are
/// rebuilt larger and smaller and flow records given back and regrown every round.
#[test]
fn concurrent_readers_survive_growth_and_shrinking() {
    let g = grow::Grow::new(4096, 16);
    concurrent_churn(&g, g.usage);
    assert!(g.trims.load(Ordering::Relaxed) > 0, "records were trimmed");
    assert!(g.releases.load(Ordering::Relaxed) > 0, "bucket arrays were released");
}

fn concurrent_churn<S: Storage + Sync>(storage: S, usage: &[AtomicU64]) {
    const READERS: usize = 2;
    const CHURN: u32 = 200;
    let (cls, mut st) = Classifier::new(storage).unwrap();
    // Embedder data per flow id: which packet it was installed for (+1; 0 = none).
    let tags: Vec<AtomicU64> = zeroed(4096);
    let quiescent: Vec<AtomicU64> = zeroed(READERS);
    let stop = AtomicBool::new(false);
    let total_churn_hits = AtomicU64::new(0);
    // Stable flows: in_port 1, three masks; never removed.
    let stable: Vec<FlowKey> = (0..60u32).map(|i| pkt(1, i, 0x0a00_0000 + i, 80)).collect();
    for (i, k) in stable.iter().enumerate() {
        let m = [mask(32, false), mask(32, true), Mask::EXACT][i % 3];
        let id = cls.writer(&mut st).insert(k, &m, None).unwrap();
        tags[id.0 as usize].store(i as u64 + 1, Ordering::Relaxed);
        grace(&mut cls.writer(&mut st));
    }
    // Churned flows: in_port 2, five masks of their own (each includes the full ipv4_dst).
    let churn: Vec<FlowKey> = (0..CHURN).map(|i| pkt(2, i, 0x0b00_0000 + i, (i % 7) as u16)).collect();
    let churn_mask = |i: usize| {
        let mut m = *mask(32, i % 5 >= 2).key();
        if i % 5 % 2 == 1 {
            m.set_ipv4_src(u32::MAX);
        }
        if i % 5 == 4 {
            m.set_ip_proto(0xff);
        }
        Mask::new(m)
    };
    let synchronize = |q: &[AtomicU64], stop: &AtomicBool| {
        core::sync::atomic::fence(Ordering::SeqCst);
        let snap: Vec<u64> = q.iter().map(|c| c.load(Ordering::SeqCst)).collect();
        for (c, s) in q.iter().zip(snap) {
            while c.load(Ordering::SeqCst) == s && !stop.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
        }
    };
    std::thread::scope(|sc| {
        for r in 0..READERS {
            let (cls, tags, quiescent, stop, stable, churn, total_churn_hits) =
                (&cls, &tags, &quiescent, &stop, &stable, &churn, &total_churn_hits);
            let usage: Vec<AtomicU64> = zeroed(16);
            sc.spawn(move || {
                let c = CpuCounters::new(&usage);
                let mut cache = MaskCache::new();
                let mut n = 0u64;
                let mut churn_hits = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let i = (n as usize).wrapping_mul(2_654_435_761) >> 8;
                    // One read-side section: lookup and check the embedder tag of the result.
                    let s = i % stable.len();
                    let got = if n % 2 == 0 {
                        cls.lookup(&stable[s], &c)
                    } else {
                        cls.lookup_cached(&stable[s], (s as u32 + 1) * 0x0101_0101, &mut cache, &c)
                    };
                    let id = got.expect("stable flow missed during concurrent updates");
                    assert_eq!(tags[id.0 as usize].load(Ordering::Relaxed), s as u64 + 1, "wrong flow");
                    let j = i % churn.len();
                    if let Some(id) = cls.lookup_cached(&churn[j], j as u32 + 1, &mut cache, &c) {
                        churn_hits += 1;
                        assert_eq!(tags[id.0 as usize].load(Ordering::Relaxed), 1000 + j as u64, "torn/wrong churn flow");
                    }
                    quiescent[r].fetch_add(1, Ordering::SeqCst);
                }
                assert!(n >= 100, "reader made progress: {n}"); // ≥ 1 section per synchronize
                total_churn_hits.fetch_add(churn_hits, Ordering::Relaxed);
            });
        }
        // The writer.
        let c = CpuCounters::new(usage);
        for round in 0..40 {
            let mut ids = Vec::new();
            for (j, k) in churn.iter().enumerate() {
                let tag = |id: FlowId| tags[id.0 as usize].store(1000 + j as u64, Ordering::Relaxed);
                let r = loop {
                    match cls.writer(&mut st).insert_with(k, &churn_mask(j), None, tag) {
                        Err(Error::Busy) => {
                            let t = cls.writer(&mut st).grace_start();
                            synchronize(&quiescent, &stop);
                            cls.writer(&mut st).grace_done(t, |id| tags[id.0 as usize].store(0, Ordering::Relaxed));
                        }
                        r => break r,
                    }
                };
                let id = r.unwrap();
                ids.push(id);
            }
            if round % 4 == 0 {
                cls.writer(&mut st).rebalance([&c]);
            }
            // Let every reader run at least one full section with all churned flows installed
            // (so each of them must hit one), then remove them while readers keep going.
            synchronize(&quiescent, &stop);
            synchronize(&quiescent, &stop);
            for id in ids {
                cls.writer(&mut st).remove(id).unwrap();
            }
            let t = cls.writer(&mut st).grace_start();
            synchronize(&quiescent, &stop);
            cls.writer(&mut st).grace_done(t, |id| tags[id.0 as usize].store(0, Ordering::Relaxed));
        }
        stop.store(true, Ordering::SeqCst);
    });
    assert_eq!(cls.flow_count(), 60);
    assert!(total_churn_hits.load(Ordering::Relaxed) > 0, "readers saw churned flows");
}

//! Classifier lookup benchmarks: one mask hot, and 20 masks × 100k flows with the mask cache
//! hot and cold. Each iteration is one lookup, so criterion's time is ns/lookup.
//! The `extract_lookup` group is the datapath's per-packet work: flow key extraction from the
//! frame bytes plus the cached megaflow lookup, so its time is ns/packet.
//! Run: `cargo bench -p rvs-core --bench classifier` (or `tools/bench/core.sh` for a summary).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rvs_core::classifier::{
    Classifier, CpuCounters, Entry, FlowId, MaskCache, MaskSlot, SliceStorage, Sizing, WriterState,
};
use rvs_core::key::FlowKey;
use rvs_core::mask::Mask;
use std::sync::atomic::{AtomicU32, AtomicU64};

const FLOWS: usize = 100_000;

struct Mem {
    entries: Vec<Entry>,
    masks: Vec<MaskSlot>,
    order: [Vec<AtomicU32>; 2],
    flow: [Vec<AtomicU64>; 2],
    ufid: [Vec<AtomicU64>; 2],
    usage: Vec<AtomicU64>,
}

fn zeroed<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl Mem {
    fn new(flows: usize, masks: usize) -> Self {
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
    fn storage(&self) -> SliceStorage<'_> {
        SliceStorage {
            entries: &self.entries,
            masks: &self.masks,
            order: [&self.order[0], &self.order[1]],
            flow_buckets: [&self.flow[0], &self.flow[1]],
            ufid_buckets: [&self.ufid[0], &self.ufid[1]],
        }
    }
}

/// A TCP/IPv4 packet key.
fn pkt(in_port: u32, src: u32, dst: u32, sport: u16, dport: u16) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(in_port);
    k.set_eth_src([0, 1, 2, 3, 4, 5]);
    k.set_eth_dst([0, 1, 2, 3, 4, 6]);
    k.set_eth_type(0x0800);
    k.set_ip_proto(6);
    k.set_ip_ttl(64);
    k.set_ipv4_src(src);
    k.set_ipv4_dst(dst);
    k.set_tp_src(sport);
    k.set_tp_dst(dport);
    k
}

/// Mask variant `v` (0..20): all match in_port, eth_type, full ipv4_dst; they differ in the
/// other fields they care about.
fn mask(v: u32) -> Mask {
    let mut m = FlowKey::ZERO;
    m.set_recirc_id(u32::MAX);
    m.set_in_port(u32::MAX);
    m.set_eth_type(0xffff);
    m.set_ipv4_dst(u32::MAX);
    m.set_ipv4_src(if v % 5 == 0 { 0 } else { u32::MAX << (32 - 8 * (v % 5)) });
    if v & 1 != 0 {
        m.set_ip_proto(0xff);
    }
    if v % 4 >= 2 {
        m.set_tp_dst(0xffff);
    }
    if v >= 10 {
        m.set_eth_dst([0xff; 6]);
    }
    if v >= 15 {
        m.set_tp_src(0xffff);
    }
    Mask::new(m)
}

fn five_tuple() -> Mask {
    let mut m = FlowKey::ZERO;
    m.set_recirc_id(u32::MAX);
    m.set_in_port(u32::MAX);
    m.set_eth_type(0xffff);
    m.set_ip_proto(0xff);
    m.set_ipv4_src(u32::MAX);
    m.set_ipv4_dst(u32::MAX);
    m.set_tp_src(0xffff);
    m.set_tp_dst(0xffff);
    Mask::new(m)
}

fn fill(cls: &Classifier<SliceStorage<'_>>, st: &mut WriterState, n_masks: u32) -> Vec<(FlowKey, FlowId)> {
    let per = FLOWS as u32 / n_masks;
    let mut out = Vec::with_capacity(FLOWS);
    for v in 0..n_masks {
        let m = if n_masks == 1 { five_tuple() } else { mask(v) };
        for j in 0..per {
            let k = pkt(1, 0x0a00_0000 + j, 0x0b00_0000 + (v << 16) + j, 1000 + (j % 7) as u16, 80);
            let id = cls.writer(st).insert(&k, &m, None).unwrap();
            let mut w = cls.writer(st);
            let t = w.grace_start();
            w.grace_done(t, |_| {});
            out.push((k, id));
        }
    }
    out
}

/// 64 packets spread over the flows (so over all masks), each with its own packet hash.
fn hot_set(flows: &[(FlowKey, FlowId)]) -> Vec<(FlowKey, FlowId, u32)> {
    (0..64u32)
        .map(|p| {
            let (k, id) = flows[(p as usize * 1571) % flows.len()];
            (k, id, 0x9e37_79b9u32.wrapping_mul(p + 1))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("classifier");

    // One mask, 100k flows.
    {
        let mem = Mem::new(FLOWS, 64);
        let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
        let flows = fill(&cls, &mut st, 1);
        let ctr = CpuCounters::new(&mem.usage);
        let hot = hot_set(&flows);
        for (k, id, _) in &hot {
            assert_eq!(cls.lookup(k, &ctr), Some(*id));
        }
        let (k, _, _) = hot[0];
        g.bench_function("1mask_one_packet", |b| b.iter(|| cls.lookup(black_box(&k), &ctr)));
        let mut i = 0usize;
        g.bench_function("1mask_hot", |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                cls.lookup(black_box(&hot[i].0), &ctr)
            })
        });
        let mut cache = MaskCache::new();
        g.bench_function("1mask_hot_cached", |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                let (k, _, h) = &hot[i];
                cls.lookup_cached(black_box(k), *h, &mut cache, &ctr)
            })
        });
        g.bench_function("1mask_100k_flows_cycling", |b| {
            b.iter(|| {
                i = (i + 7919) % FLOWS;
                cls.lookup(black_box(&flows[i].0), &ctr)
            })
        });
    }

    // 20 masks × 5k flows = 100k flows.
    {
        let mem = Mem::new(FLOWS, 64);
        let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
        let flows = fill(&cls, &mut st, 20);
        let ctr = CpuCounters::new(&mem.usage);
        assert_eq!(cls.mask_count(), 20);
        let hot = hot_set(&flows);
        for (k, id, _) in &hot {
            assert_eq!(cls.lookup(k, &ctr), Some(*id));
        }
        let mut cache = MaskCache::new();
        let mut i = 0usize;
        g.bench_function("20masks_cache_hot", |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                let (k, _, h) = &hot[i];
                cls.lookup_cached(black_box(k), *h, &mut cache, &ctr)
            })
        });
        // Every packet hash new: the cache never hits (walk + cache replacement).
        let mut n = 0u32;
        g.bench_function("20masks_cache_cold", |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                n = n.wrapping_add(1);
                let (k, _, _) = &hot[i];
                cls.lookup_cached(black_box(k), n.wrapping_mul(0x9e37_79b9) | 1, &mut cache, &ctr)
            })
        });
        g.bench_function("20masks_no_cache", |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                cls.lookup(black_box(&hot[i].0), &ctr)
            })
        });
        let s = cls.stats([&ctr]);
        println!(
            "20 masks: {} flows, {} masks, {}.{:03} masks probed per lookup overall",
            s.flows,
            s.masks,
            s.masks_per_lookup_milli() / 1000,
            s.masks_per_lookup_milli() % 1000
        );
    }
    g.finish();
}

/// The Ethernet/IPv4/TCP frame whose extracted key is `k` (as built by [`pkt`]).
fn frame_of(k: &FlowKey) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&k.eth_dst());
    f.extend_from_slice(&k.eth_src());
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, k.ip_ttl(), k.ip_proto(), 0, 0]);
    f.extend_from_slice(&k.ipv4_src().to_be_bytes());
    f.extend_from_slice(&k.ipv4_dst().to_be_bytes());
    f.extend_from_slice(&k.tp_src().to_be_bytes());
    f.extend_from_slice(&k.tp_dst().to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x10, 0, 0, 0, 0, 0]);
    f.resize(60, 0);
    f
}

fn bench_extract_lookup(c: &mut Criterion) {
    use rvs_core::extract::{extract, Metadata};
    let mut g = c.benchmark_group("extract_lookup");
    let md = Metadata { in_port: 1, ..Metadata::default() };
    for n_masks in [1u32, 20] {
        let mem = Mem::new(FLOWS, 64);
        let (cls, mut st) = Classifier::new(mem.storage()).unwrap();
        let flows = fill(&cls, &mut st, n_masks);
        let ctr = CpuCounters::new(&mem.usage);
        let hot: Vec<(Vec<u8>, FlowId, u32)> =
            hot_set(&flows).into_iter().map(|(k, id, h)| (frame_of(&k), id, h)).collect();
        for (f, id, _) in &hot {
            assert_eq!(cls.lookup(&extract(f, &md).0, &ctr), Some(*id), "frames extract to the flows' keys");
        }
        let mut cache = MaskCache::new();
        let mut i = 0usize;
        g.bench_function(format!("{n_masks}mask_cache_hot"), |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                let (f, _, h) = &hot[i];
                let (k, _) = extract(black_box(f), &md);
                cls.lookup_cached(&k, *h, &mut cache, &ctr)
            })
        });
        let mut n = 0u32;
        g.bench_function(format!("{n_masks}mask_cache_cold"), |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                n = n.wrapping_add(1);
                let (k, _) = extract(black_box(&hot[i].0), &md);
                cls.lookup_cached(&k, n.wrapping_mul(0x9e37_79b9) | 1, &mut cache, &ctr)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_extract_lookup);
criterion_main!(benches);

//! The megaflow classifier: tuple-space search over distinct masks, as the upstream datapath's
//! `flow_table.c`, without allocation and without `unsafe`.
//!
//! # Model
//! A flow is a (masked key, mask) pair, optionally with a [`Ufid`]. A lookup walks the mask list
//! in order and, for each mask, hashes `packet_key & mask` over the mask's word range and probes
//! one hash table shared by all masks (the hash is salted with the mask's slot number and each
//! entry records its mask, so flows of different masks never match each other). **The first
//! mask in list order with a matching flow wins**, as upstream. Two flows that can match the same
//! packet under different masks ("overlapping" megaflows) are the writer's (ovs-vswitchd's)
//! responsibility, as upstream: the classifier only refuses an identical (masked key, mask) pair
//! ([`Error::Exists`]). With a [`MaskCache`] the mask that matched last time for the same packet
//! hash is tried first, so with overlapping flows a cached lookup may return a different (also
//! matching) flow, as upstream. The list is reordered by hit count only when the writer calls
//! [`Writer::rebalance`] (upstream: every 4 s), never per packet.
//!
//! The classifier never owns flow objects: a flow is named by its [`FlowId`], a dense index the
//! embedder uses for its own per-flow data (actions, statistics).
//!
//! # Concurrency
//! Any number of readers ([`Classifier::lookup`] and the other `&self` methods; packet lookups
//! under RCU in the kernel) run concurrently with one writer ([`Writer`], obtained with
//! `&mut WriterState`, so exclusivity is the embedder's mutex, as `ovs_mutex` upstream).
//! All memory readers see is atomics in embedder [`Storage`]; the invariants are:
//!
//! 1. **Publish after fill.** A record (flow entry, mask slot) is completely written with Relaxed
//!    stores before the single Release store that makes it reachable (a bucket, an order
//!    position, a published length). Readers reach records only through Acquire loads of those,
//!    so they never see a half-written record.
//! 2. **No reuse before a grace period.** A removed flow entry or mask slot, and an unpublished
//!    bucket or order array, is only *retired*: it keeps its contents and is not written again
//!    until the embedder reports the end of a grace period that started after the retirement
//!    ([`Writer::grace_start`] / [`Writer::grace_done`]; `synchronize_rcu` or
//!    `get_state_synchronize_rcu` + `poll_state_synchronize_rcu` in the kernel). Hence a reader
//!    that reached a record inside one read-side section sees it unchanged for the whole section.
//! 3. **One-word switches.** A removal replaces a bucket by a tombstone or an order position by a
//!    hole, and a rebuilt table or order array is published by storing one word that names the
//!    array and its size; each is a single atomic store, so a reader sees the old or the new state.
//! 4. **The mask cache is only a hint.** It stores list positions; a lookup re-reads the slot at
//!    that position from the list published now, so a stale cache can cost a probe but never
//!    reads a retired mask after its grace period.
//!
//! When the writer needs memory that is still retired (a table must be rebuilt, or a record
//! slot is only free in limbo) it returns [`Error::Busy`]: run a grace period and retry.
//!
//! Both indexes (flows, UFIDs) are open-addressed tables of `u64` buckets (module `table`),
//! rebuilt into the other half of their storage when they fill or collect tombstones. Memory
//! comes from [`Storage`]; [`SliceStorage`] serves plain slices sized with [`Sizing`].

mod cache;
mod mask_list;
mod pool;
mod stats;
mod storage;
mod table;
mod ufid;
mod writer;

#[cfg(test)]
mod tests;

pub use cache::{MaskCache, MASK_CACHE_ENTRIES};
pub use stats::{CpuCounters, Stats};
pub use storage::{Entry, MaskSlot, SliceStorage, Sizing, Storage, TableKind, MIN_BUCKETS};
pub use ufid::{Ufid, MAX_UFID_LEN};
pub use writer::{GraceToken, Writer, WriterState};

use crate::key::{FlowKey, KEY_WORDS};
use crate::mask::{Mask, MaskHasher, NH_KEYS};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use mask_list::{slot_mask, slot_range, OrderPub};
use pool::NIL;
use stats::bump;
use storage::state;
use table::View;

/// A flow's handle: a dense index below the flow capacity, reused only after a grace period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u32);

/// Classifier errors (writer side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A flow with the same mask and masked key exists (`EEXIST`).
    Exists,
    /// A flow with the same UFID exists (`EEXIST`).
    UfidExists,
    /// No such flow (`ENOENT`).
    NotFound,
    /// The flow capacity is exhausted (`E2BIG`/`ENOSPC`).
    NoSpace,
    /// The mask capacity is exhausted (`E2BIG`).
    TooManyMasks,
    /// Memory needed is waiting for a grace period: run one and retry (`EBUSY`/`EAGAIN`).
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exists => "a flow with this mask and masked key already exists",
            Self::UfidExists => "a flow with this UFID already exists",
            Self::NotFound => "no such flow",
            Self::NoSpace => "flow table full",
            Self::TooManyMasks => "too many masks",
            Self::Busy => "classifier memory awaits a grace period",
        })
    }
}

/// A flow as stored: its masked key, mask and UFID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    /// The masked key.
    pub key: FlowKey,
    /// The mask.
    pub mask: Mask,
    /// The UFID, if the flow was installed with one.
    pub ufid: Option<Ufid>,
}

/// Resumable position of a flow dump (a netlink dump arrives in several calls).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpCursor(pub u32);

/// The shared, reader-visible part of a classifier. See the module documentation.
#[derive(Debug)]
pub struct Classifier<S: Storage> {
    storage: S,
    flow_pub: AtomicU32,
    ufid_pub: AtomicU32,
    order_pub: AtomicU32,
    n_flows: AtomicU32,
    n_masks: AtomicU32,
}

/// `u32` → `usize` (lossless on every target the kernel supports).
#[inline]
pub(crate) fn us(x: u32) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

/// Whether a grace period started at `token` covers something retired in `epoch` (wrapping).
#[inline]
pub(crate) fn epoch_reached(token: u32, epoch: u32) -> bool {
    token.wrapping_sub(epoch) < 1 << 31
}

impl<S: Storage> Classifier<S> {
    /// A classifier over `storage`, which must be all zero (freshly zeroed memory), and the state
    /// its single writer keeps. Fails with [`Error::NoSpace`] if the bucket arrays are smaller
    /// than [`MIN_BUCKETS`].
    pub fn new(storage: S) -> Result<(Self, WriterState), Error> {
        let cls = Self {
            storage,
            flow_pub: AtomicU32::new(0),
            ufid_pub: AtomicU32::new(0),
            order_pub: AtomicU32::new(0),
            n_flows: AtomicU32::new(0),
            n_masks: AtomicU32::new(0),
        };
        let mut st = WriterState::new();
        st.init(&cls)?;
        Ok((cls, st))
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The writer, for the holder of the writer state.
    pub fn writer<'a>(&'a self, state: &'a mut WriterState) -> Writer<'a, S> {
        Writer { cls: self, st: state }
    }

    /// Looks `key` up without a mask cache: the first mask in list order with a matching flow.
    #[inline]
    pub fn lookup(&self, key: &FlowKey, counters: &CpuCounters<'_>) -> Option<FlowId> {
        let mut hint = 0u32;
        self.lookup_from(key, &mut hint, false, counters)
    }

    /// Looks `key` up using `cache`, keyed by the packet's hash `skb_hash` (0 = no hash: the
    /// cache is bypassed), as upstream `ovs_flow_tbl_lookup_stats`.
    #[inline]
    pub fn lookup_cached(
        &self,
        key: &FlowKey,
        skb_hash: u32,
        cache: &mut MaskCache,
        counters: &CpuCounters<'_>,
    ) -> Option<FlowId> {
        if skb_hash == 0 {
            return self.lookup(key, counters);
        }
        // Pre- and post-recirculation packets share their hash: mix the recirculation id in.
        let recirc = key.recirc_id();
        let hash = if recirc == 0 {
            skb_hash
        } else {
            let mut h = MaskHasher::new(skb_hash);
            h.write_at(0, u64::from(recirc));
            h.finish().max(1)
        };
        match cache.find(hash) {
            Ok(i) => {
                let mut pos = cache.get_mut(i).map_or(0, |e| e.pos);
                let found = self.lookup_from(key, &mut pos, true, counters);
                if let Some(e) = cache.get_mut(i) {
                    e.pos = pos;
                    if found.is_none() {
                        e.hash = 0;
                    }
                }
                found
            }
            Err(i) => {
                // As upstream: the replacement victim's position is tried first. Under many flows sharing a few
                // masks it is usually right, so a cache miss still costs one probe.
                let mut pos = cache.get_mut(i).map_or(0, |e| e.pos);
                let found = self.lookup_from(key, &mut pos, true, counters);
                if found.is_some() {
                    if let Some(e) = cache.get_mut(i) {
                        *e = cache::CacheEntry { hash, pos };
                    }
                }
                found
            }
        }
    }

    /// Tries position `*pos` first if `hinted`, then every other position in order; on a hit
    /// stores the matching position in `*pos`.
    #[inline]
    fn lookup_from(&self, key: &FlowKey, pos: &mut u32, hinted: bool, counters: &CpuCounters<'_>) -> Option<FlowId> {
        let order = OrderPub::decode(self.order_pub.load(Ordering::Acquire));
        let positions = self.storage.order(order.half);
        let positions = positions.get(..us(order.len)).unwrap_or(positions);
        let table = View::load(&self.storage, TableKind::Flow, &self.flow_pub);
        let mut probed = 0u64;
        let mut result = None;
        let hint = us(*pos);
        if hinted {
            if let Some(slot) = positions.get(hint).map(|p| p.load(Ordering::Acquire)) {
                if slot != NIL {
                    probed = probed.wrapping_add(1);
                    result = self.probe_mask(&table, key, slot);
                    if result.is_some() {
                        bump(&counters.cache_hits, 1);
                    }
                }
            }
        }
        if result.is_none() {
            for (i, p) in positions.iter().enumerate() {
                if hinted && i == hint {
                    continue;
                }
                let slot = p.load(Ordering::Acquire);
                if slot == NIL {
                    continue;
                }
                probed = probed.wrapping_add(1);
                if let Some(id) = self.probe_mask(&table, key, slot) {
                    *pos = u32::try_from(i).unwrap_or(0);
                    result = Some(id);
                    break;
                }
            }
        }
        bump(&counters.masks_probed, probed);
        match result {
            Some((id, slot)) => {
                bump(&counters.hits, 1);
                if let Some(u) = counters.mask_usage.get(us(slot)) {
                    bump(u, 1);
                }
                Some(id)
            }
            None => {
                bump(&counters.misses, 1);
                None
            }
        }
    }

    /// Probes the table for `key` under the mask in `slot`.
    #[inline]
    fn probe_mask(&self, table: &View<'_>, key: &FlowKey, slot: u32) -> Option<(FlowId, u32)> {
        let m = self.storage.masks().get(us(slot))?;
        let (start, end) = slot_range(m);
        let mask_words = m.words.get(start..end)?;
        let key_bytes = key.as_bytes().get(start.wrapping_mul(8)..end.wrapping_mul(8))?;
        let nh_keys = NH_KEYS.get(start..end)?;
        // Mask and hash in one pass, keeping the masked words for the comparison.
        let mut masked = [0u64; KEY_WORDS];
        let masked = masked.get_mut(..end.wrapping_sub(start))?;
        let mut h = MaskHasher::new(slot);
        for (((d, kb), mw), &nk) in masked.iter_mut().zip(key_bytes.chunks_exact(8)).zip(mask_words).zip(nh_keys) {
            let kw = u64::from_ne_bytes(kb.try_into().unwrap_or([0; 8]));
            let v = kw & mw.load(Ordering::Relaxed);
            *d = v;
            h.mix(nk, v);
        }
        let hash = h.finish();
        let masked = &*masked;
        table
            .find(hash, slot, |idx| {
                // The bucket already matched the mask slot: compare the key words only.
                self.storage.entry(idx).and_then(|e| e.key.get(start..end)).is_some_and(|ek| {
                    ek.iter().zip(masked).all(|(ew, &v)| ew.load(Ordering::Relaxed) == v)
                })
            })
            .map(|idx| (FlowId(idx), slot))
    }

    /// The live flow with this UFID.
    pub fn lookup_ufid(&self, ufid: &Ufid) -> Option<FlowId> {
        let table = View::load(&self.storage, TableKind::Ufid, &self.ufid_pub);
        let want = ufid.words();
        let len = u32::from(ufid.len_u8());
        table
            .find(ufid.hash(), 0, |idx| {
                self.storage.entry(idx).is_some_and(|e| {
                    let st = e.state.load(Ordering::Acquire);
                    st & 0xff == state::LIVE
                        && (st >> 8) & 0xff == len
                        && e.ufid.iter().zip(want).all(|(a, b)| a.load(Ordering::Relaxed) == b)
                })
            })
            .map(FlowId)
    }

    /// The flow `id`, if live.
    pub fn flow(&self, id: FlowId) -> Option<FlowInfo> {
        let e = self.storage.entry(id.0)?;
        let st = e.state.load(Ordering::Acquire);
        if st & 0xff != state::LIVE {
            return None;
        }
        let mask = slot_mask(self.storage.masks().get(us(e.mask.load(Ordering::Relaxed)))?);
        let mut key = FlowKey::ZERO;
        for (i, w) in e.key.iter().enumerate() {
            key.set_word(i, w.load(Ordering::Relaxed));
        }
        let mut words = [0u32; 4];
        for (d, s) in words.iter_mut().zip(&e.ufid) {
            *d = s.load(Ordering::Relaxed);
        }
        let ufid = Ufid::from_words(u8::try_from((st >> 8) & 0xff).unwrap_or(0), words);
        Some(FlowInfo { key, mask, ufid })
    }

    /// The next live flow at or after `cursor`, advancing it past that flow. Flows inserted or
    /// removed during a dump may or may not be reported (as upstream).
    ///
    /// With storage that shrinks ([`Storage::trim_entries`]) dumps must be serialised with the
    /// writer.
    pub fn dump_next(&self, cursor: &mut DumpCursor) -> Option<FlowId> {
        let cap = self.storage.entry_limit();
        while cursor.0 < cap {
            let i = cursor.0;
            cursor.0 = cursor.0.wrapping_add(1);
            let live = self
                .storage
                .entry(i)
                .is_some_and(|e| e.state.load(Ordering::Acquire) & 0xff == state::LIVE);
            if live {
                return Some(FlowId(i));
            }
        }
        None
    }

    /// Number of flows installed.
    pub fn flow_count(&self) -> u32 {
        self.n_flows.load(Ordering::Relaxed)
    }

    /// Number of distinct masks in use.
    pub fn mask_count(&self) -> u32 {
        self.n_masks.load(Ordering::Relaxed)
    }

    /// The masks in current probe order.
    pub fn masks_in_order(&self) -> impl Iterator<Item = Mask> + '_ {
        let order = OrderPub::decode(self.order_pub.load(Ordering::Acquire));
        let positions = self.storage.order(order.half);
        let masks = self.storage.masks();
        positions
            .get(..us(order.len))
            .unwrap_or(positions)
            .iter()
            .filter_map(move |p| masks.get(us(p.load(Ordering::Acquire))).map(slot_mask))
    }

    /// Sums `counters` (one per CPU) and adds the flow and mask counts.
    pub fn stats<'c>(&self, counters: impl IntoIterator<Item = &'c CpuCounters<'c>>) -> Stats {
        let mut s = Stats { masks: self.mask_count(), flows: self.flow_count(), ..Stats::default() };
        for c in counters {
            s.accumulate(&c.snapshot());
        }
        s
    }
}

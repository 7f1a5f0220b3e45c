//! The classifier's memory: the record types it keeps in embedder-provided storage, the
//! [`Storage`] trait through which it reaches them, and sizing helpers.
//!
//! Everything readers can see is made of atomics, so sharing it between one writer and any number
//! of readers needs no `unsafe` here; the publication protocol is described in the parent module.
//! The all-zero bit pattern is the valid empty state of every record, so the kernel can back
//! storage with zeroed `kvmalloc` memory.

use crate::key::KEY_WORDS;
use core::sync::atomic::{AtomicU32, AtomicU64};

/// Smallest bucket array the classifier uses (entries).
pub const MIN_BUCKETS: usize = 16;

/// Which of the two hash indexes a bucket array belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// The megaflow table: (mask, masked key) → flow.
    Flow,
    /// The UFID index: UFID → flow.
    Ufid,
}

/// One flow record. Zeroed = free.
#[derive(Debug)]
pub struct Entry {
    /// The masked key (words outside the mask's range are zero).
    pub(crate) key: [AtomicU64; KEY_WORDS],
    /// Slot number of the flow's mask.
    pub(crate) mask: AtomicU32,
    /// `state::*` in the low byte, UFID length in bits 8..16.
    pub(crate) state: AtomicU32,
    /// UFID bytes (native-endian groups of four).
    pub(crate) ufid: [AtomicU32; 4],
    /// The flow's hash in the flow table (salted masked-key hash).
    pub(crate) hash: AtomicU32,
    /// The flow's hash in the UFID index.
    pub(crate) ufid_hash: AtomicU32,
    /// Writer only: next entry on the free or limbo list.
    pub(crate) link: AtomicU32,
    /// Writer only: epoch in which the entry was retired.
    pub(crate) epoch: AtomicU32,
}

/// Values of the low byte of [`Entry::state`].
pub(crate) mod state {
    // 0: never used, or reclaimed.
    /// Published in the tables.
    pub const LIVE: u32 = 1;
    /// Removed, waiting for a grace period.
    pub const DEAD: u32 = 2;
}

impl Entry {
    /// A free entry.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            key: [const { AtomicU64::new(0) }; KEY_WORDS],
            mask: AtomicU32::new(0),
            state: AtomicU32::new(0),
            ufid: [const { AtomicU32::new(0) }; 4],
            hash: AtomicU32::new(0),
            ufid_hash: AtomicU32::new(0),
            link: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
        }
    }
}

impl Default for Entry {
    fn default() -> Self {
        Self::new()
    }
}

/// One mask record. Zeroed = free.
#[derive(Debug)]
pub struct MaskSlot {
    /// The mask bits.
    pub(crate) words: [AtomicU64; KEY_WORDS],
    /// Word range: `start | end << 8`.
    pub(crate) range: AtomicU32,
    /// Writer only: number of flows using the mask.
    pub(crate) refs: AtomicU32,
    /// Writer only: next slot on the free or limbo list.
    pub(crate) link: AtomicU32,
    /// Writer only: epoch in which the slot was retired.
    pub(crate) epoch: AtomicU32,
    /// Writer only: summed usage counters at the last rebalance (`u64::MAX`: no baseline yet).
    pub(crate) last_usage: AtomicU64,
    /// Writer only: rebalance scratch (hits since the previous rebalance).
    pub(crate) delta: AtomicU64,
}

impl MaskSlot {
    /// A free slot.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            words: [const { AtomicU64::new(0) }; KEY_WORDS],
            range: AtomicU32::new(0),
            refs: AtomicU32::new(0),
            link: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
            last_usage: AtomicU64::new(0),
            delta: AtomicU64::new(0),
        }
    }
}

impl Default for MaskSlot {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the classifier's memory lives. Implemented by the embedder: [`SliceStorage`] over plain
/// slices for userspace; the kernel module implements it over chunked `kvmalloc` memory that
/// grows and shrinks with the number of flows.
///
/// Flow records are reached by index ([`Self::entry`]); storage that keeps them in one array
/// only implements [`Self::entries`], chunked storage overrides [`Self::entry`],
/// [`Self::entry_limit`] and [`Self::provide_entries`] instead. Records never move: a record's
/// memory stays where it is while its index is below the limit.
///
/// Two "halves" exist of the mask order array and of each bucket array: one is published and
/// read, the other is either retired (readers may still be inside it until the next grace
/// period) or free for the writer to rebuild into. The classifier never writes to a half that
/// readers may see except through the atomic protocol of the parent module.
pub trait Storage {
    /// All flow records, for storage that keeps them in one array (its length, capped at
    /// `u32::MAX - 2`, is the flow capacity). Chunked storage leaves the default (none) and
    /// overrides the three methods below.
    fn entries(&self) -> &[Entry] {
        &[]
    }
    /// Flow record `idx`, if it is backed by memory (every index below [`Self::entry_limit`] is).
    #[inline]
    fn entry(&self, idx: u32) -> Option<&Entry> {
        self.entries().get(usize::try_from(idx).ok()?)
    }
    /// Number of flow record indices backed now (at most `u32::MAX - 2`).
    #[inline]
    fn entry_limit(&self) -> u32 {
        u32::try_from(self.entries().len()).unwrap_or(u32::MAX).min(u32::MAX - 2)
    }
    /// Writer only: back at least `want` flow records (new ones zeroed), e.g. by adding a chunk.
    /// Returns whether [`Self::entry_limit`] now is at least `want`. The default (one fixed
    /// array) only checks.
    fn provide_entries(&self, want: u32) -> bool {
        self.entry_limit() >= want
    }
    /// Writer only: every record at index `keep` or above is free, and has been since a grace
    /// period (no reader reached through the tables can hold one). The storage may release their
    /// memory and lower [`Self::entry_limit`] (to `keep` or more). [`Classifier::dump_next`]
    /// callers must therefore be serialised with the writer (the kernel dumps under its writer
    /// lock). The default keeps everything.
    ///
    /// [`Classifier::dump_next`]: super::Classifier::dump_next
    fn trim_entries(&self, keep: u32) {
        let _ = keep;
    }
    /// All mask records. Its length (capped at 65536) is the mask capacity.
    fn masks(&self) -> &[MaskSlot];
    /// Mask order array `half` (0 or 1), at least as long as [`Self::masks`] to be fully
    /// usable.
    fn order(&self, half: usize) -> &[AtomicU32];
    /// Bucket array `half` (0 or 1) of `table`. Its length must be a power of two.
    fn buckets(&self, table: TableKind, half: usize) -> &[AtomicU64];
    /// Writer only, called when nobody can be reading bucket array `(table, half)` (it is
    /// unpublished and a grace period has passed since it was retired): make it at least `len`
    /// entries long (`len` is a power of two), e.g. by replacing the memory (growable storage
    /// should then allocate exactly `len`, so the table also shrinks). Returns whether it now is.
    /// The classifier zeroes the first `len` entries itself.
    ///
    /// The default implementation only checks the current length (fixed preallocated storage).
    fn provide_buckets(&self, table: TableKind, half: usize, len: usize) -> bool {
        self.buckets(table, half).len() >= len
    }
    /// Writer only: bucket array `(table, half)` is unpublished and no reader can be in it any
    /// more; the storage may free its memory ([`Self::provide_buckets`] is called before it is
    /// used again). The default keeps it.
    fn release_buckets(&self, table: TableKind, half: usize) {
        let _ = (table, half);
    }
}

/// [`Storage`] over caller-provided slices (fixed capacity, no growth of the underlying memory;
/// tables still grow logically inside it).
#[derive(Clone, Copy, Debug)]
pub struct SliceStorage<'a> {
    /// Flow records.
    pub entries: &'a [Entry],
    /// Mask records.
    pub masks: &'a [MaskSlot],
    /// The two mask order arrays.
    pub order: [&'a [AtomicU32]; 2],
    /// The two flow table bucket arrays (power-of-two lengths).
    pub flow_buckets: [&'a [AtomicU64]; 2],
    /// The two UFID index bucket arrays (power-of-two lengths).
    pub ufid_buckets: [&'a [AtomicU64]; 2],
}

impl Storage for SliceStorage<'_> {
    fn entries(&self) -> &[Entry] {
        self.entries
    }
    fn masks(&self) -> &[MaskSlot] {
        self.masks
    }
    fn order(&self, half: usize) -> &[AtomicU32] {
        self.order.get(half).copied().unwrap_or(&[])
    }
    fn buckets(&self, table: TableKind, half: usize) -> &[AtomicU64] {
        let arr = match table {
            TableKind::Flow => &self.flow_buckets,
            TableKind::Ufid => &self.ufid_buckets,
        };
        arr.get(half).copied().unwrap_or(&[])
    }
}

/// How much memory a classifier for a given capacity needs (with fully preallocated storage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizing {
    /// Number of [`Entry`] records (flow capacity).
    pub entries: usize,
    /// Number of [`MaskSlot`] records and length of each order array.
    pub masks: usize,
    /// Length of each of the four bucket arrays (a power of two, ≥ 2 × flows so a full table
    /// stays at most half loaded).
    pub buckets: usize,
}

impl Sizing {
    /// Sizing for `flows` flows and `masks` distinct masks.
    #[must_use]
    pub fn new(flows: usize, masks: usize) -> Self {
        let buckets = flows
            .saturating_mul(2)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX / 2 + 1)
            .max(MIN_BUCKETS);
        Self { entries: flows, masks, buckets }
    }

    /// Total bytes of all the arrays.
    #[must_use]
    pub fn required_bytes(&self) -> usize {
        let e = self.entries.saturating_mul(core::mem::size_of::<Entry>());
        let m = self.masks.saturating_mul(core::mem::size_of::<MaskSlot>());
        let o = self.masks.saturating_mul(core::mem::size_of::<[AtomicU32; 2]>());
        let b = self.buckets.saturating_mul(core::mem::size_of::<[AtomicU64; 4]>());
        e.saturating_add(m).saturating_add(o).saturating_add(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizing_rounds_buckets_up_and_counts_bytes() {
        let s = Sizing::new(100_000, 64);
        assert_eq!(s.buckets, 262_144);
        assert_eq!(Sizing::new(1, 1).buckets, MIN_BUCKETS);
        let expect = 100_000 * core::mem::size_of::<Entry>()
            + 64 * core::mem::size_of::<MaskSlot>()
            + 64 * 8
            + 262_144 * 32;
        assert_eq!(s.required_bytes(), expect);
        assert_eq!(Sizing::new(usize::MAX, 1).required_bytes(), usize::MAX);
    }

    #[test]
    fn slice_storage_returns_the_right_arrays() {
        let a: [AtomicU64; 16] = Default::default();
        let b: [AtomicU64; 32] = Default::default();
        let o: [AtomicU32; 4] = Default::default();
        let s = SliceStorage {
            entries: &[],
            masks: &[],
            order: [&o, &o[..2]],
            flow_buckets: [&a, &b],
            ufid_buckets: [&b, &a],
        };
        assert_eq!(s.buckets(TableKind::Flow, 1).len(), 32);
        assert_eq!(s.buckets(TableKind::Ufid, 1).len(), 16);
        assert_eq!(s.buckets(TableKind::Ufid, 2).len(), 0);
        assert_eq!(s.order(1).len(), 2);
        assert!(s.provide_buckets(TableKind::Flow, 1, 32));
        assert!(!s.provide_buckets(TableKind::Flow, 0, 32));
    }
}

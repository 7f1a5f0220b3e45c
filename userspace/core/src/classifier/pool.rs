//! Writer-side record allocation: a free list, a never-used high-water mark, and a limbo list
//! of records retired but possibly still seen by readers until a grace period ends.
//!
//! Lists are intrusive (through each record's writer-only `link` field) and FIFO, so the limbo
//! list stays sorted by retirement epoch and reclaiming stops at the first record that is too
//! young.

use super::epoch_reached;
use super::storage::{Entry, MaskSlot, Storage};
use core::sync::atomic::{AtomicU32, Ordering};

/// End of list.
pub(crate) const NIL: u32 = u32::MAX;

/// A record with writer-only list fields.
pub(crate) trait Linked {
    fn link(&self) -> &AtomicU32;
    fn epoch(&self) -> &AtomicU32;
}

impl Linked for Entry {
    fn link(&self) -> &AtomicU32 {
        &self.link
    }
    fn epoch(&self) -> &AtomicU32 {
        &self.epoch
    }
}

impl Linked for MaskSlot {
    fn link(&self) -> &AtomicU32 {
        &self.link
    }
    fn epoch(&self) -> &AtomicU32 {
        &self.epoch
    }
}

/// An indexable array of records: a slice (masks) or the storage's flow records.
pub(crate) trait Recs {
    type Rec: Linked;
    /// Record `idx`, if backed.
    fn rec(&self, idx: u32) -> Option<&Self::Rec>;
    /// Number of indices backed.
    fn limit(&self) -> u32;
}

impl<T: Linked> Recs for [T] {
    type Rec = T;
    fn rec(&self, idx: u32) -> Option<&T> {
        self.get(super::us(idx))
    }
    fn limit(&self) -> u32 {
        Pool::cap(self.len())
    }
}

/// The flow records of a [`Storage`].
pub(crate) struct EntryRecs<'a, S>(pub(crate) &'a S);

impl<S: Storage> Recs for EntryRecs<'_, S> {
    type Rec = Entry;
    fn rec(&self, idx: u32) -> Option<&Entry> {
        self.0.entry(idx)
    }
    fn limit(&self) -> u32 {
        self.0.entry_limit()
    }
}

/// Intrusive FIFO.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: Self = Self { head: NIL, tail: NIL };

    fn push_back<R: Recs + ?Sized>(&mut self, recs: &R, idx: u32) {
        let Some(r) = recs.rec(idx) else { return };
        r.link().store(NIL, Ordering::Relaxed);
        match recs.rec(self.tail) {
            Some(t) if self.head != NIL => t.link().store(idx, Ordering::Relaxed),
            _ => self.head = idx,
        }
        self.tail = idx;
    }

    fn pop_front<R: Recs + ?Sized>(&mut self, recs: &R) -> Option<u32> {
        let idx = self.head;
        let r = recs.rec(idx)?;
        self.head = r.link().load(Ordering::Relaxed);
        if self.head == NIL {
            self.tail = NIL;
        }
        Some(idx)
    }
}

/// Allocation state of one record array.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pool {
    /// Records `fresh..cap` have never been used.
    fresh: u32,
    free: List,
    limbo: List,
    limbo_len: u32,
}

impl Pool {
    pub(crate) const fn new() -> Self {
        Self { fresh: 0, free: List::EMPTY, limbo: List::EMPTY, limbo_len: 0 }
    }

    /// Capacity usable for a record array of `len` (indices must stay below `u32::MAX - 1`).
    pub(crate) fn cap(len: usize) -> u32 {
        u32::try_from(len).unwrap_or(u32::MAX).min(u32::MAX - 2)
    }

    /// Whether [`Self::alloc`] would succeed.
    pub(crate) fn can_alloc<R: Recs + ?Sized>(&self, recs: &R) -> bool {
        self.free.head != NIL || self.fresh < recs.limit()
    }

    /// Takes a free record.
    pub(crate) fn alloc<R: Recs + ?Sized>(&mut self, recs: &R) -> Option<u32> {
        if let Some(i) = self.free.pop_front(recs) {
            return Some(i);
        }
        if self.fresh < recs.limit() {
            let i = self.fresh;
            self.fresh = self.fresh.wrapping_add(1);
            return Some(i);
        }
        None
    }

    /// Returns a record that readers never saw.
    pub(crate) fn free_now<R: Recs + ?Sized>(&mut self, recs: &R, idx: u32) {
        self.free.push_back(recs, idx);
    }

    /// Retires a record in `epoch`: reusable once a grace period started at or after `epoch`
    /// has ended.
    pub(crate) fn retire<R: Recs + ?Sized>(&mut self, recs: &R, idx: u32, epoch: u32) {
        if let Some(r) = recs.rec(idx) {
            r.epoch().store(epoch, Ordering::Relaxed);
            self.limbo.push_back(recs, idx);
            self.limbo_len = self.limbo_len.saturating_add(1);
        }
    }

    /// Moves every record retired at or before `token` to the free list, calling `f` on each.
    pub(crate) fn reclaim<R: Recs + ?Sized>(&mut self, recs: &R, token: u32, mut f: impl FnMut(u32)) {
        while let Some(r) = recs.rec(self.limbo.head) {
            if !epoch_reached(token, r.epoch().load(Ordering::Relaxed)) {
                break;
            }
            let Some(idx) = self.limbo.pop_front(recs) else { break };
            self.limbo_len = self.limbo_len.saturating_sub(1);
            self.free.push_back(recs, idx);
            f(idx);
        }
    }

    /// Number of records waiting in limbo.
    pub(crate) fn limbo_len(&self) -> u32 {
        self.limbo_len
    }

    /// Records `fresh..` have never been used (or were given back by [`Self::shrink_to`]).
    pub(crate) fn fresh(&self) -> u32 {
        self.fresh
    }

    /// Gives back every index at or above `top`, which must all be free (not live, not in
    /// limbo): rebuilds the free list from the free indices below `top` (ascending, so low
    /// indices are reused first) and makes `top` the never-used mark. `is_free` says whether an
    /// index below `top` is free. Returns false (and changes nothing) while records are in
    /// limbo.
    pub(crate) fn shrink_to<R: Recs + ?Sized>(&mut self, recs: &R, top: u32, is_free: impl Fn(u32) -> bool) -> bool {
        if self.limbo_len != 0 || top > self.fresh {
            return false;
        }
        self.free = List::EMPTY;
        for i in 0..top {
            if is_free(i) {
                self.free.push_back(recs, i);
            }
        }
        self.fresh = top;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_retire_reclaim_in_epoch_order() {
        let arr: [MaskSlot; 3] = Default::default();
        let recs: &[MaskSlot] = &arr;
        let mut p = Pool::new();
        assert_eq!(p.alloc(recs), Some(0));
        assert_eq!(p.alloc(recs), Some(1));
        assert_eq!(p.alloc(recs), Some(2));
        assert_eq!(p.alloc(recs), None);
        assert!(!p.can_alloc(recs));
        p.retire(recs, 1, 5);
        p.retire(recs, 0, 6);
        assert_eq!(p.limbo_len(), 2);
        assert_eq!(p.alloc(recs), None, "limbo records are not reusable");
        let mut got = std::vec::Vec::new();
        p.reclaim(recs, 5, |i| got.push(i));
        assert_eq!(got, [1]);
        assert_eq!(p.alloc(recs), Some(1));
        p.reclaim(recs, 7, |i| got.push(i));
        assert_eq!(got, [1, 0]);
        p.free_now(recs, 2);
        assert_eq!(p.alloc(recs), Some(0));
        assert_eq!(p.alloc(recs), Some(2));
        assert_eq!(p.limbo_len(), 0);
    }

    #[test]
    fn epochs_compare_across_wraparound() {
        let arr: [MaskSlot; 1] = Default::default();
        let recs: &[MaskSlot] = &arr;
        let mut p = Pool::new();
        let i = p.alloc(recs).unwrap();
        p.retire(recs, i, u32::MAX);
        p.reclaim(recs, u32::MAX - 1, |_| panic!("too early"));
        let mut n = 0;
        p.reclaim(recs, 3, |_| n += 1);
        assert_eq!(n, 1);
    }

    #[test]
    fn shrink_to_rebuilds_the_free_list_below_the_mark() {
        let arr: [MaskSlot; 8] = Default::default();
        let recs: &[MaskSlot] = &arr;
        let mut p = Pool::new();
        for _ in 0..6 {
            p.alloc(recs).unwrap();
        }
        p.retire(recs, 4, 0);
        assert!(!p.shrink_to(recs, 2, |_| true), "refused while records are in limbo");
        p.reclaim(recs, 0, |_| {});
        // 1 and 3 are live; 0, 2, 4, 5 free.
        assert!(p.shrink_to(recs, 4, |i| i % 2 == 0));
        assert_eq!(p.fresh(), 4);
        assert_eq!(p.alloc(recs), Some(0));
        assert_eq!(p.alloc(recs), Some(2));
        assert_eq!(p.alloc(recs), Some(4), "then the never-used mark again");
        assert!(!p.shrink_to(recs, 7, |_| true), "cannot raise the mark");
    }
}

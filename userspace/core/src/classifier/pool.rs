//! Writer-side record allocation: a free list, a never-used high-water mark, and a limbo list
//! of records retired but possibly still seen by readers until a grace period ends.
//!
//! Lists are intrusive (through each record's writer-only `link` field) and FIFO, so the limbo
//! list stays sorted by retirement epoch and reclaiming stops at the first record that is too
//! young.

use super::epoch_reached;
use super::storage::{Entry, MaskSlot};
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

/// Intrusive FIFO.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: Self = Self { head: NIL, tail: NIL };

    fn push_back<T: Linked>(&mut self, recs: &[T], idx: u32) {
        let Some(r) = recs.get(super::us(idx)) else { return };
        r.link().store(NIL, Ordering::Relaxed);
        match recs.get(super::us(self.tail)) {
            Some(t) if self.head != NIL => t.link().store(idx, Ordering::Relaxed),
            _ => self.head = idx,
        }
        self.tail = idx;
    }

    fn pop_front<T: Linked>(&mut self, recs: &[T]) -> Option<u32> {
        let idx = self.head;
        let r = recs.get(super::us(idx))?;
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
    pub(crate) fn can_alloc<T>(&self, recs: &[T]) -> bool {
        self.free.head != NIL || self.fresh < Self::cap(recs.len())
    }

    /// Takes a free record.
    pub(crate) fn alloc<T: Linked>(&mut self, recs: &[T]) -> Option<u32> {
        if let Some(i) = self.free.pop_front(recs) {
            return Some(i);
        }
        if self.fresh < Self::cap(recs.len()) {
            let i = self.fresh;
            self.fresh = self.fresh.wrapping_add(1);
            return Some(i);
        }
        None
    }

    /// Returns a record that readers never saw.
    pub(crate) fn free_now<T: Linked>(&mut self, recs: &[T], idx: u32) {
        self.free.push_back(recs, idx);
    }

    /// Retires a record in `epoch`: reusable once a grace period started at or after `epoch`
    /// has ended.
    pub(crate) fn retire<T: Linked>(&mut self, recs: &[T], idx: u32, epoch: u32) {
        if let Some(r) = recs.get(super::us(idx)) {
            r.epoch().store(epoch, Ordering::Relaxed);
            self.limbo.push_back(recs, idx);
            self.limbo_len = self.limbo_len.saturating_add(1);
        }
    }

    /// Moves every record retired at or before `token` to the free list, calling `f` on each.
    pub(crate) fn reclaim<T: Linked>(&mut self, recs: &[T], token: u32, mut f: impl FnMut(u32)) {
        while let Some(r) = recs.get(super::us(self.limbo.head)) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_retire_reclaim_in_epoch_order() {
        let recs: [MaskSlot; 3] = Default::default();
        let mut p = Pool::new();
        assert_eq!(p.alloc(&recs), Some(0));
        assert_eq!(p.alloc(&recs), Some(1));
        assert_eq!(p.alloc(&recs), Some(2));
        assert_eq!(p.alloc(&recs), None);
        assert!(!p.can_alloc(&recs));
        p.retire(&recs, 1, 5);
        p.retire(&recs, 0, 6);
        assert_eq!(p.limbo_len(), 2);
        assert_eq!(p.alloc(&recs), None, "limbo records are not reusable");
        let mut got = std::vec::Vec::new();
        p.reclaim(&recs, 5, |i| got.push(i));
        assert_eq!(got, [1]);
        assert_eq!(p.alloc(&recs), Some(1));
        p.reclaim(&recs, 7, |i| got.push(i));
        assert_eq!(got, [1, 0]);
        p.free_now(&recs, 2);
        assert_eq!(p.alloc(&recs), Some(0));
        assert_eq!(p.alloc(&recs), Some(2));
        assert_eq!(p.limbo_len(), 0);
    }

    #[test]
    fn epochs_compare_across_wraparound() {
        let recs: [MaskSlot; 1] = Default::default();
        let mut p = Pool::new();
        let i = p.alloc(&recs).unwrap();
        p.retire(&recs, i, u32::MAX);
        p.reclaim(&recs, u32::MAX - 1, |_| panic!("too early"));
        let mut n = 0;
        p.reclaim(&recs, 3, |_| n += 1);
        assert_eq!(n, 1);
    }
}

//! Open-addressed hash index of `u64` buckets (the flow table and the UFID index share it).
//!
//! A bucket is `0` (empty, ends a probe), [`TOMB`] (removed, probe on), or
//! `tag << 48 | owner << 32 | (entry + 1)`: `tag` is the top 16 bits of the hash and `owner` the
//! flow's mask slot (0 in the UFID index), so a probe only reads an entry whose mask is right
//! and whose hash very probably is; the entry's own mask field is never touched on lookup. Linear probing, power-of-two sizes. The published state of an index
//! is one `u32` (see [`Published`]): which of the two bucket arrays is live and its logical size,
//! so a reader's view is always one consistent array.
//!
//! The writer keeps ([`TableState`]) the live/used counts and the state of the other half. When an
//! insert would push the load (live + tombstones) above 3/4 it rebuilds into the other half —
//! twice as large if live entries alone exceed 3/8, otherwise the same size (which drops the
//! tombstones) — publishes it, and retires the old half until the next grace period. If the other
//! half is still retired the insert goes ahead in place as long as at least 1/8 of the buckets
//! stay empty (so probes always terminate early), and fails with [`Error::Busy`] past that.

use super::storage::{Storage, TableKind, MIN_BUCKETS};
use super::{epoch_reached, us, Error};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Empty bucket.
pub(crate) const EMPTY: u64 = 0;
/// Removed bucket.
pub(crate) const TOMB: u64 = u64::MAX;

/// Largest owner (mask slot) a bucket can name.
pub(crate) const MAX_OWNER: u32 = 0xffff;

/// The high half of a bucket: hash tag and owner.
#[inline]
fn high(hash: u32, owner: u32) -> u64 {
    (u64::from(hash >> 16) << 16) | u64::from(owner & MAX_OWNER)
}

/// The bucket value for entry `idx` (`< u32::MAX - 1`) with hash `hash` under `owner`.
#[inline]
pub(crate) fn bucket(hash: u32, owner: u32, idx: u32) -> u64 {
    (high(hash, owner) << 32) | u64::from(idx).wrapping_add(1)
}

/// The table size for `live` entries: the smallest power of two (at least [`MIN_BUCKETS`])
/// they fill to at most 3/8.
fn fitted(live: usize) -> usize {
    let mut t = MIN_BUCKETS;
    while live.saturating_mul(8) > t.saturating_mul(3) {
        t = t.saturating_mul(2);
    }
    t
}

/// Decoded published word: bit 31 = half, low bits = log2 of the size (0 = unpublished).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Published {
    pub half: usize,
    pub log2: u32,
}

impl Published {
    pub(crate) fn decode(w: u32) -> Self {
        Self { half: usize::from(w >> 31 != 0), log2: w & 0x3f }
    }
    pub(crate) fn encode(self) -> u32 {
        (u32::from(self.half != 0) << 31) | (self.log2 & 0x3f)
    }
    pub(crate) fn size(self) -> usize {
        if self.log2 == 0 {
            0
        } else {
            1usize.checked_shl(self.log2).unwrap_or(0)
        }
    }
}

/// A reader's view of one published bucket array.
#[derive(Clone, Copy)]
pub(crate) struct View<'s> {
    buckets: &'s [AtomicU64],
    size_mask: usize,
}

impl<'s> View<'s> {
    /// Loads the published word (Acquire) and resolves the array.
    #[inline]
    pub(crate) fn load<S: Storage>(storage: &'s S, kind: TableKind, word: &AtomicU32) -> Self {
        let p = Published::decode(word.load(Ordering::Acquire));
        let buckets = storage.buckets(kind, p.half);
        let size = p.size().min(buckets.len());
        Self { buckets: buckets.get(..size).unwrap_or(&[]), size_mask: size.wrapping_sub(1) }
    }

    /// Probes for `hash` under `owner`; returns the first entry for which `is_it` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u32, owner: u32, mut is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        let want = high(hash, owner);
        let mut i = us(hash) & self.size_mask;
        for _ in 0..self.buckets.len() {
            let b = self.buckets.get(i)?.load(Ordering::Acquire);
            if b == EMPTY {
                return None;
            }
            if b != TOMB && (b >> 32) == want {
                let idx = u32::try_from(b & 0xffff_ffff).unwrap_or(0).wrapping_sub(1);
                if is_it(idx) {
                    return Some(idx);
                }
            }
            i = i.wrapping_add(1) & self.size_mask;
        }
        None
    }
}

/// Writer-side state of one index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableState {
    kind: TableKind,
    pub(crate) cur: Published,
    /// Live entries.
    pub(crate) live: usize,
    /// Live entries plus tombstones.
    used: usize,
    /// `Some(epoch)`: the other half was retired in `epoch` and is not yet reusable.
    other_retired: Option<u32>,
}

impl TableState {
    pub(crate) const fn new(kind: TableKind) -> Self {
        Self { kind, cur: Published { half: 0, log2: 0 }, live: 0, used: 0, other_retired: None }
    }

    /// Makes sure one more entry fits, rebuilding into the other half if needed.
    pub(crate) fn reserve<S: Storage>(
        &mut self,
        storage: &S,
        word: &AtomicU32,
        epoch: u32,
    ) -> Result<(), Error> {
        let size = self.cur.size();
        let need = self.used.saturating_add(1);
        if size != 0 && need.saturating_mul(4) <= size.saturating_mul(3) {
            return Ok(());
        }
        let live_after = self.live.saturating_add(1);
        // The rebuilt table is sized for the live entries alone (at most 3/8 loaded), so a
        // rebuild that drops many tombstones also shrinks it; if the storage cannot provide that
        // much, any size down to the smallest where the live entries stay under 3/4 will do.
        let target = fitted(live_after);
        let mut floor = MIN_BUCKETS;
        while live_after.saturating_mul(4) > floor.saturating_mul(3) {
            floor = floor.saturating_mul(2);
        }
        if self.other_retired.is_none() {
            let other = 1usize.wrapping_sub(self.cur.half);
            let mut t = target;
            while t >= floor {
                if storage.provide_buckets(self.kind, other, t) {
                    self.rebuild(storage, word, other, t, epoch);
                    return Ok(());
                }
                t /= 2;
            }
        }
        // Cannot rebuild now: insert in place while 1/8 of the buckets stay empty.
        if size != 0 && need.saturating_mul(8) <= size.saturating_mul(7) {
            Ok(())
        } else if self.other_retired.is_some() {
            Err(Error::Busy)
        } else {
            Err(Error::NoSpace)
        }
    }

    /// Rebuilds the live buckets into `half` with `size` buckets and publishes it.
    fn rebuild<S: Storage>(&mut self, storage: &S, word: &AtomicU32, half: usize, size: usize, epoch: u32) {
        let Some(new) = storage.buckets(self.kind, half).get(..size) else { return };
        for b in new {
            b.store(EMPTY, Ordering::Relaxed);
        }
        let old = View::load(storage, self.kind, word);
        let mask = size.wrapping_sub(1);
        let mut live = 0usize;
        for b in old.buckets {
            let v = b.load(Ordering::Relaxed);
            if v == EMPTY || v == TOMB {
                continue;
            }
            let idx = u32::try_from(v & 0xffff_ffff).unwrap_or(0).wrapping_sub(1);
            let Some(e) = storage.entry(idx) else { continue };
            let hash = match self.kind {
                TableKind::Flow => e.hash.load(Ordering::Relaxed),
                TableKind::Ufid => e.ufid_hash.load(Ordering::Relaxed),
            };
            let mut i = us(hash) & mask;
            for _ in 0..size {
                let Some(slot) = new.get(i) else { break };
                if slot.load(Ordering::Relaxed) == EMPTY {
                    slot.store(v, Ordering::Relaxed);
                    live = live.saturating_add(1);
                    break;
                }
                i = i.wrapping_add(1) & mask;
            }
        }
        let log2 = size.trailing_zeros();
        let was_published = self.cur.log2 != 0;
        self.cur = Published { half, log2 };
        word.store(self.cur.encode(), Ordering::Release);
        self.live = live;
        self.used = live;
        self.other_retired = if was_published { Some(epoch) } else { None };
    }

    /// Inserts a bucket for `(hash, owner, idx)`; [`Self::reserve`] must have succeeded.
    pub(crate) fn insert<S: Storage>(&mut self, storage: &S, hash: u32, owner: u32, idx: u32) -> Result<(), Error> {
        let size = self.cur.size();
        let buckets = storage.buckets(self.kind, self.cur.half);
        let mask = size.wrapping_sub(1);
        let mut i = us(hash) & mask;
        for _ in 0..size {
            let slot = buckets.get(i).ok_or(Error::NoSpace)?;
            let v = slot.load(Ordering::Relaxed);
            if v == EMPTY || v == TOMB {
                // Release: the entry's fields, written before, are visible to whoever sees this.
                slot.store(bucket(hash, owner, idx), Ordering::Release);
                self.live = self.live.saturating_add(1);
                if v == EMPTY {
                    self.used = self.used.saturating_add(1);
                }
                return Ok(());
            }
            i = i.wrapping_add(1) & mask;
        }
        Err(Error::NoSpace)
    }

    /// Replaces the bucket of `(hash, owner, idx)` by a tombstone. Returns whether it was found.
    pub(crate) fn remove<S: Storage>(&mut self, storage: &S, hash: u32, owner: u32, idx: u32) -> bool {
        let size = self.cur.size();
        let buckets = storage.buckets(self.kind, self.cur.half);
        let mask = size.wrapping_sub(1);
        let want = bucket(hash, owner, idx);
        let mut i = us(hash) & mask;
        for _ in 0..size {
            let Some(slot) = buckets.get(i) else { return false };
            let v = slot.load(Ordering::Relaxed);
            if v == EMPTY {
                return false;
            }
            if v == want {
                slot.store(TOMB, Ordering::Release);
                self.live = self.live.saturating_sub(1);
                return true;
            }
            i = i.wrapping_add(1) & mask;
        }
        false
    }

    /// Rebuilds into a smaller table when the live entries use less than 1/16 of it (upstream
    /// only shrinks on flush; rvs also after mass removals), if the other half is available.
    /// Returns whether it did.
    pub(crate) fn maybe_shrink<S: Storage>(&mut self, storage: &S, word: &AtomicU32, epoch: u32) -> bool {
        let size = self.cur.size();
        if size <= MIN_BUCKETS || self.live.saturating_mul(16) >= size || self.other_retired.is_some() {
            return false;
        }
        let target = fitted(self.live);
        let other = 1usize.wrapping_sub(self.cur.half);
        if target >= size || !storage.provide_buckets(self.kind, other, target) {
            return false;
        }
        self.rebuild(storage, word, other, target, epoch);
        true
    }

    /// A grace period that started at `token` has ended: the retired half, if old enough, is
    /// free again and its memory may go back to the storage.
    pub(crate) fn grace_done<S: Storage>(&mut self, storage: &S, token: u32) {
        if let Some(e) = self.other_retired {
            if epoch_reached(token, e) {
                self.other_retired = None;
                storage.release_buckets(self.kind, 1usize.wrapping_sub(self.cur.half));
            }
        }
    }


    /// Whether anything waits for a grace period.
    pub(crate) fn waiting(&self) -> bool {
        self.other_retired.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_encoding_is_never_a_marker_and_names_the_owner() {
        for (h, o, i) in [(0, 0, 0), (u32::MAX, MAX_OWNER, u32::MAX - 2), (0xabcd_0000, 7, 5)] {
            let b = bucket(h, o, i);
            assert_ne!(b, EMPTY);
            assert_ne!(b, TOMB);
            assert_eq!(b & 0xffff_ffff, u64::from(i) + 1);
        }
        assert_ne!(bucket(0xabcd_0000, 7, 5), bucket(0xabcd_0000, 8, 5));
        assert_ne!(bucket(0xabcd_0000, 7, 5), bucket(0xabce_0000, 7, 5));
        assert_eq!(Published::decode(Published { half: 1, log2: 20 }.encode()), Published { half: 1, log2: 20 });
        assert_eq!(Published { half: 0, log2: 0 }.size(), 0);
        assert_eq!(Published { half: 0, log2: 4 }.size(), 16);
    }
}

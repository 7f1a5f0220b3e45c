//! The mask list: distinct masks in probe order, with reference counts, and its rebalancing.
//!
//! Masks live in [`MaskSlot`] records addressed by a stable slot number; the *order* array lists
//! slot numbers in probe order. The published word is `half << 31 | len`: readers probe positions
//! `0..len` of order array `half`, skipping [`NIL`] holes.
//!
//! Writer protocol:
//! - add: fill a free slot, store its number at position `len` of the live order array (Release),
//!   then publish `len + 1` (Release). Positions at or past a published `len` are never read, so
//!   the append cannot be seen half-done.
//! - remove (last flow gone): store [`NIL`] at the mask's position (Release) and retire the slot
//!   until the next grace period. `len` never shrinks in place.
//! - compact / reorder: write the new order into the other array (only when no reader can be in
//!   it: a grace period has passed since it was retired), publish it, retire the old one.

use super::pool::{Pool, NIL};
use super::stats::CpuCounters;
use super::storage::{MaskSlot, Storage};
use super::table::MAX_OWNER;
use super::{epoch_reached, us, Error};
use crate::key::{FlowKey, KEY_WORDS};
use crate::mask::Mask;
use core::sync::atomic::{AtomicU32, Ordering};

/// Decoded published order word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderPub {
    pub half: usize,
    pub len: u32,
}

impl OrderPub {
    pub(crate) fn decode(w: u32) -> Self {
        Self { half: usize::from(w >> 31 != 0), len: w & 0x7fff_ffff }
    }
    fn encode(self) -> u32 {
        (u32::from(self.half != 0) << 31) | (self.len & 0x7fff_ffff)
    }
}

/// The mask records usable as slots (slot numbers must fit a bucket's owner field).
fn mask_recs<S: Storage>(storage: &S) -> &[MaskSlot] {
    let m = storage.masks();
    m.get(..us(MAX_OWNER).saturating_add(1)).unwrap_or(m)
}

/// Reads a slot's word range.
#[inline]
pub(crate) fn slot_range(slot: &MaskSlot) -> (usize, usize) {
    let r = slot.range.load(Ordering::Relaxed);
    let end = us((r >> 8) & 0xff).min(KEY_WORDS);
    let start = us(r & 0xff).min(end);
    (start, end)
}

/// Reads a slot back as a [`Mask`].
pub(crate) fn slot_mask(slot: &MaskSlot) -> Mask {
    let mut k = FlowKey::ZERO;
    for (i, w) in slot.words.iter().enumerate() {
        k.set_word(i, w.load(Ordering::Relaxed));
    }
    Mask::new(k)
}

fn slot_equals(slot: &MaskSlot, mask: &Mask) -> bool {
    slot.words.iter().enumerate().all(|(i, w)| w.load(Ordering::Relaxed) == mask.key().word(i))
}

/// Writer-side state of the mask list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MaskList {
    pub(crate) cur: OrderPub,
    holes: u32,
    other_retired: Option<u32>,
    pub(crate) pool: Pool,
    /// Live masks.
    pub(crate) count: u32,
}

impl MaskList {
    pub(crate) const fn new() -> Self {
        Self { cur: OrderPub { half: 0, len: 0 }, holes: 0, other_retired: None, pool: Pool::new(), count: 0 }
    }

    fn live_order<'s, S: Storage>(&self, storage: &'s S) -> &'s [AtomicU32] {
        let o = storage.order(self.cur.half);
        o.get(..us(self.cur.len)).unwrap_or(o)
    }

    /// The slot holding `mask`, if any.
    pub(crate) fn find<S: Storage>(&self, storage: &S, mask: &Mask) -> Option<u32> {
        let masks = storage.masks();
        self.live_order(storage).iter().map(|p| p.load(Ordering::Relaxed)).find(|&s| {
            s != NIL && masks.get(us(s)).is_some_and(|slot| slot_equals(slot, mask))
        })
    }

    /// Whether a new mask could be added now.
    pub(crate) fn check_add<S: Storage>(&self, storage: &S) -> Result<(), Error> {
        if !self.pool.can_alloc(mask_recs(storage)) {
            return Err(if self.pool.limbo_len() > 0 { Error::Busy } else { Error::TooManyMasks });
        }
        if us(self.cur.len) < storage.order(self.cur.half).len() {
            return Ok(());
        }
        // Appending needs a compaction into the other array.
        if self.holes == 0 || storage.order(1usize.wrapping_sub(self.cur.half)).len() <= us(self.count) {
            Err(Error::TooManyMasks)
        } else if self.other_retired.is_some() {
            Err(Error::Busy)
        } else {
            Ok(())
        }
    }

    /// Adds `mask` (not present; [`Self::check_add`] passed) with no flows; returns its slot.
    pub(crate) fn add<S: Storage>(
        &mut self,
        storage: &S,
        word: &AtomicU32,
        mask: &Mask,
        epoch: u32,
    ) -> Result<u32, Error> {
        self.check_add(storage)?;
        if us(self.cur.len) >= storage.order(self.cur.half).len() {
            self.rewrite(storage, word, epoch, |_| 0);
        }
        let masks = mask_recs(storage);
        let s = self.pool.alloc(masks).ok_or(Error::TooManyMasks)?;
        let slot = masks.get(us(s)).ok_or(Error::TooManyMasks)?;
        for (i, w) in slot.words.iter().enumerate() {
            w.store(mask.key().word(i), Ordering::Relaxed);
        }
        let r = mask.range();
        let (start, end) = (u32::try_from(r.start).unwrap_or(0), u32::try_from(r.end).unwrap_or(0));
        slot.range.store(start | (end << 8), Ordering::Relaxed);
        slot.refs.store(0, Ordering::Relaxed);
        slot.last_usage.store(u64::MAX, Ordering::Relaxed);
        let Some(pos) = storage.order(self.cur.half).get(us(self.cur.len)) else {
            self.pool.free_now(masks, s);
            return Err(Error::TooManyMasks);
        };
        pos.store(s, Ordering::Release);
        self.cur.len = self.cur.len.wrapping_add(1);
        word.store(self.cur.encode(), Ordering::Release);
        self.count = self.count.wrapping_add(1);
        Ok(s)
    }

    /// Removes the mask in `slot` (its last flow is gone).
    pub(crate) fn remove<S: Storage>(&mut self, storage: &S, word: &AtomicU32, slot: u32, epoch: u32) {
        if let Some(p) = self.live_order(storage).iter().find(|p| p.load(Ordering::Relaxed) == slot) {
            p.store(NIL, Ordering::Release);
            self.holes = self.holes.wrapping_add(1);
            self.count = self.count.saturating_sub(1);
            self.pool.retire(mask_recs(storage), slot, epoch);
        }
        // Compact when holes dominate and the other array is available.
        if self.holes > 0 && self.holes.saturating_mul(2) >= self.cur.len && self.other_retired.is_none() {
            self.rewrite(storage, word, epoch, |_| 0);
        }
    }

    /// Writes the live masks into the other order array sorted by `key` descending (stable:
    /// equal keys keep their current order), publishes it and retires the current one.
    fn rewrite<S: Storage>(&mut self, storage: &S, word: &AtomicU32, epoch: u32, key: impl Fn(u32) -> u64) {
        if self.other_retired.is_some() {
            return;
        }
        let other = 1usize.wrapping_sub(self.cur.half);
        let dst = storage.order(other);
        let mut n = 0usize;
        for s in self.live_order(storage).iter().map(|p| p.load(Ordering::Relaxed)) {
            if s == NIL {
                continue;
            }
            // Insertion sort, stable: shift down entries with a smaller key.
            let k = key(s);
            let mut j = n;
            while j > 0 {
                let Some(prev) = dst.get(j.wrapping_sub(1)).map(|p| p.load(Ordering::Relaxed)) else { break };
                if key(prev) >= k {
                    break;
                }
                if let Some(d) = dst.get(j) {
                    d.store(prev, Ordering::Relaxed);
                }
                j = j.wrapping_sub(1);
            }
            match dst.get(j) {
                Some(d) => d.store(s, Ordering::Relaxed),
                None => return, // cannot happen: `dst` holds every live mask (checked by callers)
            }
            n = n.wrapping_add(1);
        }
        let was_published = self.cur.len != 0 || self.holes != 0;
        self.cur = OrderPub { half: other, len: u32::try_from(n).unwrap_or(0) };
        self.holes = 0;
        word.store(self.cur.encode(), Ordering::Release);
        self.other_retired = if was_published { Some(epoch) } else { None };
    }

    /// Reorders the list by hits since the previous rebalance (most first), summing every CPU's
    /// counters. Returns whether the order changed (a new array was published).
    pub(crate) fn rebalance<'c, S: Storage>(
        &mut self,
        storage: &S,
        word: &AtomicU32,
        epoch: u32,
        counters: impl IntoIterator<Item = &'c CpuCounters<'c>> + Clone,
    ) -> bool {
        let masks = storage.masks();
        let mut sorted = true;
        let mut prev = u64::MAX;
        for s in self.live_order(storage).iter().map(|p| p.load(Ordering::Relaxed)) {
            let Some(slot) = masks.get(us(s)) else { continue };
            let total = counters.clone().into_iter().fold(0u64, |a, c| a.wrapping_add(c.usage(s)));
            let last = slot.last_usage.load(Ordering::Relaxed);
            let delta = if last == u64::MAX { 0 } else { total.wrapping_sub(last) };
            slot.last_usage.store(total, Ordering::Relaxed);
            slot.delta.store(delta, Ordering::Relaxed);
            if delta > prev {
                sorted = false;
            }
            prev = delta;
        }
        if sorted && self.holes == 0 || self.other_retired.is_some() {
            return false;
        }
        self.rewrite(storage, word, epoch, |s| {
            masks.get(us(s)).map_or(0, |m| m.delta.load(Ordering::Relaxed))
        });
        true
    }

    pub(crate) fn grace_done(&mut self, storage: &impl Storage, token: u32) {
        if let Some(e) = self.other_retired {
            if epoch_reached(token, e) {
                self.other_retired = None;
            }
        }
        self.pool.reclaim(mask_recs(storage), token, |_| {});
    }

    pub(crate) fn waiting(&self) -> bool {
        self.other_retired.is_some() || self.pool.limbo_len() > 0
    }
}

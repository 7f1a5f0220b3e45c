//! The single writer: insert, remove, flush, rebalance and grace-period bookkeeping.
//!
//! [`WriterState`] is the writer's private bookkeeping (allocation lists, table loads, epochs);
//! the embedder keeps it next to the [`Classifier`] under its writer lock and borrows a
//! [`Writer`] with [`Classifier::writer`] for each operation.

use super::mask_list::MaskList;
use super::pool::{EntryRecs, Pool};
use super::stats::CpuCounters;
use super::storage::{state, Storage, TableKind};
use super::table::TableState;
use super::{us, Classifier, Error, FlowId, Ufid};
use crate::key::FlowKey;
use crate::mask::Mask;
use core::sync::atomic::Ordering;

/// The writer's private state. Must only be used with the classifier it was created with.
#[derive(Debug)]
pub struct WriterState {
    flows: TableState,
    ufids: TableState,
    masks: MaskList,
    entries: Pool,
    /// Current epoch: records retired now are tagged with it.
    epoch: u32,
    /// Live flow count at the last failed attempt to give flow records back (fragmented):
    /// the next attempt waits until the count halves.
    shrink_mark: u32,
}

/// Proof that a grace period was started; pass it to [`Writer::grace_done`] once every reader
/// that was running when it was issued has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct GraceToken(u32);

/// The writer: a classifier plus its writer state, borrowed exclusively.
#[derive(Debug)]
pub struct Writer<'a, S: Storage> {
    pub(crate) cls: &'a Classifier<S>,
    pub(crate) st: &'a mut WriterState,
}

impl WriterState {
    pub(crate) const fn new() -> Self {
        Self {
            flows: TableState::new(TableKind::Flow),
            ufids: TableState::new(TableKind::Ufid),
            masks: MaskList::new(),
            entries: Pool::new(),
            epoch: 0,
            shrink_mark: u32::MAX,
        }
    }

    /// Publishes the initial (empty) tables.
    pub(crate) fn init<S: Storage>(&mut self, cls: &Classifier<S>) -> Result<(), Error> {
        self.flows.reserve(&cls.storage, &cls.flow_pub, self.epoch)?;
        self.ufids.reserve(&cls.storage, &cls.ufid_pub, self.epoch)
    }
}

impl<S: Storage> Writer<'_, S> {
    /// The flow with exactly this mask and masked key (`key` need not be pre-masked).
    pub fn find_exact(&self, key: &FlowKey, mask: &Mask) -> Option<FlowId> {
        let storage = &self.cls.storage;
        let slot = self.st.masks.find(storage, mask)?;
        let view = super::table::View::load(storage, TableKind::Flow, &self.cls.flow_pub);
        let masked = mask.apply(key);
        view.find(mask.hash(key, slot), slot, |idx| {
            storage.entry(idx).is_some_and(|e| {
                e.mask.load(Ordering::Relaxed) == slot
                    && e.key.iter().enumerate().all(|(i, w)| w.load(Ordering::Relaxed) == masked.word(i))
            })
        })
        .map(FlowId)
    }

    /// Installs the flow `(key & mask, mask)` with an optional UFID.
    ///
    /// Errors: [`Error::Exists`] for an identical (masked key, mask) pair, [`Error::UfidExists`],
    /// [`Error::NoSpace`], [`Error::TooManyMasks`], [`Error::Busy`]. On error nothing changed.
    pub fn insert(&mut self, key: &FlowKey, mask: &Mask, ufid: Option<&Ufid>) -> Result<FlowId, Error> {
        self.insert_with(key, mask, ufid, |_| {})
    }

    /// [`Self::insert`], calling `publish` with the new flow's id after every check passed and
    /// *before* readers can find the flow, so the embedder can store its per-flow data (actions)
    /// under that id first. `publish` is not called if the insert fails.
    pub fn insert_with(
        &mut self,
        key: &FlowKey,
        mask: &Mask,
        ufid: Option<&Ufid>,
        publish: impl FnOnce(FlowId),
    ) -> Result<FlowId, Error> {
        let storage = &self.cls.storage;
        let existing_slot = self.st.masks.find(storage, mask);
        if existing_slot.is_some() && self.find_exact(key, mask).is_some() {
            return Err(Error::Exists);
        }
        if let Some(u) = ufid {
            if self.cls.lookup_ufid(u).is_some() {
                return Err(Error::UfidExists);
            }
        }
        let entries = EntryRecs(storage);
        if !self.st.entries.can_alloc(&entries) {
            // Grow the storage, unless a quarter of it only waits for a grace period (then
            // reclaiming is cheaper than growing, and keeps memory bounded under churn).
            let limbo = self.st.entries.limbo_len();
            let fresh = self.st.entries.fresh();
            let grow = limbo == 0 || limbo.saturating_mul(4) < fresh;
            if !(grow && fresh < u32::MAX - 2 && storage.provide_entries(fresh.wrapping_add(1))) {
                return Err(if limbo > 0 { Error::Busy } else { Error::NoSpace });
            }
            self.st.shrink_mark = u32::MAX;
        }
        if existing_slot.is_none() {
            self.st.masks.check_add(storage)?;
        }
        // Table room (may rebuild and publish a larger table; harmless if we fail later).
        let epoch = self.st.epoch;
        self.st.flows.reserve(storage, &self.cls.flow_pub, epoch)?;
        if ufid.is_some() {
            self.st.ufids.reserve(storage, &self.cls.ufid_pub, epoch)?;
        }
        let slot = match existing_slot {
            Some(s) => s,
            None => {
                let s = self.st.masks.add(storage, &self.cls.order_pub, mask, epoch)?;
                self.cls.n_masks.store(self.st.masks.count, Ordering::Relaxed);
                s
            }
        };
        let Some(idx) = self.st.entries.alloc(&entries) else { return Err(Error::NoSpace) };
        let Some(e) = storage.entry(idx) else { return Err(Error::NoSpace) };
        // Fill the entry (Relaxed), publish through the buckets (Release).
        let hash = mask.hash(key, slot);
        let masked = mask.apply(key);
        for (i, w) in e.key.iter().enumerate() {
            w.store(masked.word(i), Ordering::Relaxed);
        }
        e.mask.store(slot, Ordering::Relaxed);
        e.hash.store(hash, Ordering::Relaxed);
        let (ufid_len, words) = ufid.map_or((0, [0; 4]), |u| (u.len_u8(), u.words()));
        for (d, w) in e.ufid.iter().zip(words) {
            d.store(w, Ordering::Relaxed);
        }
        e.ufid_hash.store(ufid.map_or(0, Ufid::hash), Ordering::Relaxed);
        e.state.store(state::LIVE | (u32::from(ufid_len) << 8), Ordering::Release);
        if let Some(m) = storage.masks().get(us(slot)) {
            m.refs.store(m.refs.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
        publish(FlowId(idx));
        let ok = self.st.flows.insert(storage, hash, slot, idx).and_then(|()| match ufid {
            Some(u) => self.st.ufids.insert(storage, u.hash(), 0, idx).inspect_err(|_| {
                self.st.flows.remove(storage, hash, slot, idx);
            }),
            None => Ok(()),
        });
        if let Err(err) = ok {
            // Unreachable after `reserve`, but undo cleanly: readers may have seen the entry.
            self.retire_entry(idx);
            return Err(err);
        }
        self.cls.n_flows.store(u32::try_from(self.st.flows.live).unwrap_or(u32::MAX), Ordering::Relaxed);
        Ok(FlowId(idx))
    }

    /// Marks entry `idx` dead, drops its mask reference and retires it.
    fn retire_entry(&mut self, idx: u32) {
        let storage = &self.cls.storage;
        let Some(e) = storage.entry(idx) else { return };
        let st = e.state.load(Ordering::Relaxed);
        e.state.store((st & !0xff) | state::DEAD, Ordering::Release);
        let epoch = self.st.epoch;
        let slot = e.mask.load(Ordering::Relaxed);
        if let Some(m) = storage.masks().get(us(slot)) {
            let refs = m.refs.load(Ordering::Relaxed).saturating_sub(1);
            m.refs.store(refs, Ordering::Relaxed);
            if refs == 0 {
                self.st.masks.remove(storage, &self.cls.order_pub, slot, epoch);
                self.cls.n_masks.store(self.st.masks.count, Ordering::Relaxed);
            }
        }
        self.st.entries.retire(&EntryRecs(storage), idx, epoch);
    }

    /// Removes flow `id`. Its id (and the embedder's data for it) may be reused only after
    /// the next grace period; [`Writer::grace_done`] reports it.
    pub fn remove(&mut self, id: FlowId) -> Result<(), Error> {
        let storage = &self.cls.storage;
        let e = storage.entry(id.0).ok_or(Error::NotFound)?;
        let st = e.state.load(Ordering::Relaxed);
        if st & 0xff != state::LIVE {
            return Err(Error::NotFound);
        }
        self.st.flows.remove(storage, e.hash.load(Ordering::Relaxed), e.mask.load(Ordering::Relaxed), id.0);
        if (st >> 8) & 0xff != 0 {
            self.st.ufids.remove(storage, e.ufid_hash.load(Ordering::Relaxed), 0, id.0);
        }
        self.retire_entry(id.0);
        self.cls.n_flows.store(u32::try_from(self.st.flows.live).unwrap_or(u32::MAX), Ordering::Relaxed);
        let epoch = self.st.epoch;
        self.st.flows.maybe_shrink(storage, &self.cls.flow_pub, epoch);
        self.st.ufids.maybe_shrink(storage, &self.cls.ufid_pub, epoch);
        Ok(())
    }

    /// Removes every flow (`OVS_FLOW_CMD_DEL` without a key), calling `f` on each id.
    pub fn flush(&mut self, mut f: impl FnMut(FlowId)) {
        let mut cursor = super::DumpCursor::default();
        while let Some(id) = self.cls.dump_next(&mut cursor) {
            if self.remove(id).is_ok() {
                f(id);
            }
        }
    }

    /// Reorders the mask list by hits since the previous call (most first), summing the
    /// per-CPU `counters`. Returns whether the order changed. Does nothing while the other order
    /// array awaits a grace period.
    pub fn rebalance<'c>(
        &mut self,
        counters: impl IntoIterator<Item = &'c CpuCounters<'c>> + Clone,
    ) -> bool {
        let epoch = self.st.epoch;
        self.st.masks.rebalance(&self.cls.storage, &self.cls.order_pub, epoch, counters)
    }

    /// Starts a grace period: everything retired so far becomes reusable once every reader
    /// running now has finished and the token is passed to [`Self::grace_done`].
    pub fn grace_start(&mut self) -> GraceToken {
        let t = GraceToken(self.st.epoch);
        self.st.epoch = self.st.epoch.wrapping_add(1);
        t
    }

    /// Ends the grace period of `token`: reclaims what was retired before it started, calling
    /// `freed` with each flow id that may now be reused (the embedder frees its data for it).
    pub fn grace_done(&mut self, token: GraceToken, freed: impl FnMut(FlowId)) {
        let storage = &self.cls.storage;
        let mut freed = freed;
        self.st.entries.reclaim(&EntryRecs(storage), token.0, |i| freed(FlowId(i)));
        self.st.masks.grace_done(storage, token.0);
        self.st.flows.grace_done(storage, token.0);
        self.st.ufids.grace_done(storage, token.0);
        // Now that retired halves are free, tables left oversized by removals can shrink.
        let epoch = self.st.epoch;
        self.st.flows.maybe_shrink(storage, &self.cls.flow_pub, epoch);
        self.st.ufids.maybe_shrink(storage, &self.cls.ufid_pub, epoch);
        self.shrink_entries();
    }

    /// Gives flow records above the highest live one back to the storage
    /// ([`Storage::trim_entries`]) when at most a quarter of the records ever handed out are
    /// live and nothing is in limbo. Record indices are flow ids and never move, so a live flow
    /// high up keeps everything below it.
    fn shrink_entries(&mut self) {
        let storage = &self.cls.storage;
        let fresh = self.st.entries.fresh();
        let live = u32::try_from(self.st.flows.live).unwrap_or(u32::MAX);
        if self.st.entries.limbo_len() != 0 || live.saturating_mul(4) > fresh || (live != 0 && live >= self.st.shrink_mark) {
            return;
        }
        let is_live = |i: u32| storage.entry(i).is_some_and(|e| e.state.load(Ordering::Relaxed) & 0xff == state::LIVE);
        let top = (0..fresh).rev().find(|&i| is_live(i)).map_or(0, |i| i.wrapping_add(1));
        if top.saturating_mul(2) > fresh {
            self.st.shrink_mark = live / 2;
            return;
        }
        let recs = EntryRecs(storage);
        if self.st.entries.shrink_to(&recs, top, |i| !is_live(i)) {
            // Records at or above `top` are free since a grace period; insert rewrites every
            // field of a record it takes, so storage that keeps the memory needs nothing more.
            storage.trim_entries(top);
            self.st.shrink_mark = u32::MAX;
        }
    }

    /// Whether anything is retired and waiting for a grace period.
    #[must_use]
    pub fn needs_grace(&self) -> bool {
        self.st.entries.limbo_len() > 0
            || self.st.masks.waiting()
            || self.st.flows.waiting()
            || self.st.ufids.waiting()
    }

    /// The classifier (for reader-side calls while writing).
    pub fn classifier(&self) -> &Classifier<S> {
        self.cls
    }
}

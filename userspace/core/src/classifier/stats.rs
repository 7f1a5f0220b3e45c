//! Lookup statistics. Each CPU (or userspace thread) owns one [`CpuCounters`] and passes it to
//! every lookup it makes; the writer sums them for reporting ([`Stats`], upstream
//! `ovs_dp_megaflow_stats` / `n_hit` / `n_missed` / `n_mask_hit`) and for mask rebalancing.
//!
//! Counters are atomics so another thread may read them, but only their owner writes them, with
//! plain load + store (no locked read-modify-write on the packet path). Two lookups racing on the
//! same `CpuCounters` can only lose counts, never corrupt memory.

use core::sync::atomic::{AtomicU64, Ordering};

/// Per-CPU lookup counters.
#[derive(Debug)]
pub struct CpuCounters<'a> {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) masks_probed: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    /// Hits per mask slot (length: the classifier's mask capacity; shorter = not counted).
    pub(crate) mask_usage: &'a [AtomicU64],
}

#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

impl<'a> CpuCounters<'a> {
    /// Counters using `mask_usage` (one zeroed counter per mask slot) for per-mask hit counts.
    #[must_use]
    pub const fn new(mask_usage: &'a [AtomicU64]) -> Self {
        Self {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            masks_probed: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            mask_usage,
        }
    }

    /// A snapshot of these counters alone.
    #[must_use]
    pub fn snapshot(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            masks_probed: self.masks_probed.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            ..Stats::default()
        }
    }

    /// Hits counted for mask slot `slot`.
    pub(crate) fn usage(&self, slot: u32) -> u64 {
        self.mask_usage.get(super::us(slot)).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// Summed statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lookups that found a flow.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// Masks probed over all lookups (`masks_probed / (hits + misses)` = masks per packet).
    pub masks_probed: u64,
    /// Hits found on the mask the cache pointed at.
    pub cache_hits: u64,
    /// Distinct masks in use.
    pub masks: u32,
    /// Flows installed.
    pub flows: u32,
}

impl Stats {
    /// Adds `other`'s lookup counters into `self` (mask and flow counts are not summed).
    pub fn accumulate(&mut self, other: &Stats) {
        self.hits = self.hits.wrapping_add(other.hits);
        self.misses = self.misses.wrapping_add(other.misses);
        self.masks_probed = self.masks_probed.wrapping_add(other.masks_probed);
        self.cache_hits = self.cache_hits.wrapping_add(other.cache_hits);
    }

    /// Masks probed per lookup, in thousandths (integer: the kernel has no floats).
    #[must_use]
    pub fn masks_per_lookup_milli(&self) -> u64 {
        let n = self.hits.wrapping_add(self.misses);
        if n == 0 {
            0
        } else {
            self.masks_probed.saturating_mul(1000).checked_div(n).unwrap_or(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulate_and_ratio() {
        let usage: [AtomicU64; 2] = Default::default();
        let c = CpuCounters::new(&usage);
        bump(&c.hits, 3);
        bump(&c.misses, 1);
        bump(&c.masks_probed, 10);
        let mut s = Stats { masks: 2, flows: 5, ..Stats::default() };
        s.accumulate(&c.snapshot());
        s.accumulate(&c.snapshot());
        assert_eq!((s.hits, s.misses, s.masks_probed, s.masks, s.flows), (6, 2, 20, 2, 5));
        assert_eq!(s.masks_per_lookup_milli(), 2500);
        assert_eq!(Stats::default().masks_per_lookup_milli(), 0);
        bump(&usage[1], 4);
        assert_eq!(c.usage(1), 4);
        assert_eq!(c.usage(7), 0);
    }
}

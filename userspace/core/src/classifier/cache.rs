//! The per-CPU mask cache (upstream `struct mask_cache_entry`): remembers, for a packet hash
//! (`skb_get_hash`), the position in the mask list of the mask that matched last time, so
//! stable traffic probes one mask instead of walking the list.
//!
//! 256 entries of `(packet hash, mask position)`. A hash is looked for in up to four entries,
//! indexed by its four bytes; on a total miss the entry with the smallest stored hash is
//! replaced, as upstream. The cache is only a hint: a stale position just costs one wasted
//! probe, because the lookup reads the mask from the list published at that moment.
//!
//! The embedder owns one cache per CPU and passes it by `&mut` (the kernel from a per-CPU
//! variable with bottom halves disabled).

/// Number of entries (upstream `MC_DEFAULT_HASH_ENTRIES`).
pub const MASK_CACHE_ENTRIES: usize = 256;
/// Entries probed per hash (upstream `MC_HASH_SEGS`).
pub(crate) const SEGMENTS: u32 = 4;

/// One entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    /// Packet hash, 0 = unused.
    pub hash: u32,
    /// Position in the mask list.
    pub pos: u32,
}

/// A per-CPU mask cache.
#[derive(Clone, Debug)]
pub struct MaskCache {
    pub(crate) entries: [CacheEntry; MASK_CACHE_ENTRIES],
}

impl Default for MaskCache {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskCache {
    /// An empty cache.
    #[must_use]
    pub const fn new() -> Self {
        Self { entries: [CacheEntry { hash: 0, pos: 0 }; MASK_CACHE_ENTRIES] }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// Index of the entry holding `hash`, else `Err(index of the entry to replace)`.
    pub(crate) fn find(&self, hash: u32) -> Result<usize, usize> {
        let mut h = hash;
        let mut victim: Option<(usize, u32)> = None;
        for _ in 0..SEGMENTS {
            let i = super::us(h & 0xff);
            let stored = self.entries.get(i).map_or(0, |e| e.hash);
            if stored == hash {
                return Ok(i);
            }
            if victim.is_none_or(|(_, v)| stored < v) {
                victim = Some((i, stored));
            }
            h >>= 8;
        }
        Err(victim.map_or(0, |(i, _)| i))
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut CacheEntry> {
        self.entries.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_in_any_segment_and_replaces_smallest() {
        let mut c = MaskCache::new();
        let h = 0x0403_0201;
        // All four candidates hold 0: the first (index 1) is the victim.
        assert_eq!(c.find(h), Err(1));
        c.entries[1] = CacheEntry { hash: 0xffff_ffff, pos: 0 };
        c.entries[2] = CacheEntry { hash: 0x10, pos: 0 };
        c.entries[3] = CacheEntry { hash: 0x20, pos: 0 };
        // Index 4 still holds 0, the smallest.
        assert_eq!(c.find(h), Err(4));
        c.entries[4] = CacheEntry { hash: h, pos: 7 };
        assert_eq!(c.find(h), Ok(4));
        c.clear();
        assert_eq!(c.entries[4], CacheEntry::default());
    }
}

//! Flow masks: which bits of a [`FlowKey`] a megaflow matches on, and the masked hash and
//! comparison the classifier is built on.
//!
//! A [`Mask`] is a [`FlowKey`] whose set bits are significant, plus its *range*: the half-open
//! interval `[start, end)` of 64-bit words that contain at least one set bit (upstream
//! `sw_flow_mask.range`, kept in words rather than bytes). Masked hashing and comparison only
//! touch the words in the range, which is what keeps a lookup against a narrow mask cheap.
//!
//! The hash ([`MaskHasher`]) is NH over the masked words (each word's two 32-bit halves, offset
//! by fixed per-position keys, multiplied together; the products summed: almost-universal and
//! free of a serial dependency chain, so a 7-word range costs a few cycles) followed by the
//! murmur3 64-bit finaliser, seeded with a caller-chosen salt (the classifier salts with
//! the mask's slot number so that equal masked keys under different masks land in different
//! buckets of its single hash table). It is not keyed and not meant to resist hash flooding
//! (upstream's `jhash2` is not either); it only has to spread real traffic well.

use crate::key::{FlowKey, KEY_WORDS};
use core::ops::Range;

/// Incremental hasher over the 64-bit words of a key (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct MaskHasher {
    acc: u64,
}

/// splitmix64 step, for the compile-time hash keys.
const fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-word-position NH keys (fixed, so kernel and userspace hash alike).
#[allow(clippy::as_conversions, clippy::indexing_slicing)]
pub(crate) const NH_KEYS: [[u32; 2]; KEY_WORDS] = {
    let mut k = [[0u32; 2]; KEY_WORDS];
    let mut i = 0;
    while i < KEY_WORDS {
        let r = splitmix(i as u64);
        k[i] = [r as u32, (r >> 32) as u32];
        i += 1;
    }
    k
};

impl MaskHasher {
    /// A hasher seeded with `salt`.
    #[must_use]
    #[inline]
    pub fn new(salt: u32) -> Self {
        Self { acc: splitmix(u64::from(salt)) }
    }

    /// Mixes in `word`, the key's word number `index` (< `KEY_WORDS`; others are ignored).
    /// Words are independent (NH: one multiply each, no dependency chain), so the order of
    /// calls does not matter.
    #[inline]
    pub fn write_at(&mut self, index: usize, word: u64) {
        if let Some(&k) = NH_KEYS.get(index) {
            self.mix(k, word);
        }
    }

    /// NH step: `(lo + k0) * (hi + k1)` over 32-bit halves, summed.
    #[inline]
    pub(crate) fn mix(&mut self, k: [u32; 2], word: u64) {
        let [a, b, c, d, e, f, g, h] = word.to_le_bytes();
        let lo = u32::from_le_bytes([a, b, c, d]).wrapping_add(k[0]);
        let hi = u32::from_le_bytes([e, f, g, h]).wrapping_add(k[1]);
        self.acc = self.acc.wrapping_add(u64::from(lo).wrapping_mul(u64::from(hi)));
    }

    /// The 32-bit hash of everything written so far.
    #[must_use]
    #[inline]
    pub fn finish(&self) -> u32 {
        let mut h = self.acc;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        // Fold the high half in so both halves of the state matter.
        let [a, b, c, d, e, f, g, i] = h.to_le_bytes();
        u32::from_le_bytes([a, b, c, d]) ^ u32::from_le_bytes([e, f, g, i])
    }
}

/// A flow mask: a key whose set bits are significant, plus its non-zero word range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mask {
    key: FlowKey,
    start: u8,
    end: u8,
}

impl Default for Mask {
    /// The all-wildcard mask (matches every packet).
    fn default() -> Self {
        Self::new(FlowKey::ZERO)
    }
}

/// `KEY_WORDS` as a `u8` (24 always fits, checked at compile time).
#[allow(clippy::as_conversions)]
const KEY_WORDS_U8: u8 = {
    assert!(KEY_WORDS <= u8::MAX as usize);
    KEY_WORDS as u8
};

impl Mask {
    /// The exact-match mask (every bit significant).
    pub const EXACT: Self = Self { key: FlowKey::EXACT, start: 0, end: KEY_WORDS_U8 };

    /// Builds a mask from its bits, computing the word range.
    #[must_use]
    pub fn new(key: FlowKey) -> Self {
        let (start, end) = range_of(|i| key.word(i));
        Self { key, start, end }
    }

    /// The mask bits.
    #[must_use]
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The range of words with at least one significant bit (empty for the all-wildcard mask).
    #[must_use]
    pub fn range(&self) -> Range<usize> {
        usize::from(self.start)..usize::from(self.end)
    }

    /// `key & self`.
    #[must_use]
    pub fn apply(&self, key: &FlowKey) -> FlowKey {
        let mut out = FlowKey::ZERO;
        for i in self.range() {
            out.set_word(i, key.word(i) & self.key.word(i));
        }
        out
    }

    /// The salted hash of `key & self` over the mask's range. Equal for two keys that agree on
    /// every significant bit.
    #[must_use]
    pub fn hash(&self, key: &FlowKey, salt: u32) -> u32 {
        let mut h = MaskHasher::new(salt);
        for i in self.range() {
            h.write_at(i, key.word(i) & self.key.word(i));
        }
        h.finish()
    }

    /// Whether `key & self == masked` on the mask's range (`masked` is an already-masked key;
    /// words outside the range are not compared).
    #[must_use]
    pub fn matches(&self, key: &FlowKey, masked: &FlowKey) -> bool {
        self.range().all(|i| key.word(i) & self.key.word(i) == masked.word(i))
    }
}

/// The `[start, end)` range of words for which `word(i) != 0`; `(0, 0)` when all are zero.
pub(crate) fn range_of(word: impl Fn(usize) -> u64) -> (u8, u8) {
    let mut start = None;
    let mut end = 0u8;
    for (i, b) in (0..KEY_WORDS_U8).enumerate() {
        if word(i) != 0 {
            if start.is_none() {
                start = Some(b);
            }
            end = b.saturating_add(1);
        }
    }
    (start.unwrap_or(0), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_mask() -> Mask {
        let mut m = FlowKey::ZERO;
        m.set_eth_type(0xffff);
        m.set_ipv4_dst(0xffff_ff00);
        Mask::new(m)
    }

    #[test]
    fn range_covers_exactly_the_nonzero_words() {
        let m = ip_mask();
        // ETH_TYPE is bytes 92..94 (word 11), IPV4_DST bytes 116..120 (word 14).
        assert_eq!(m.range(), 11..15);
        assert_eq!(Mask::default().range(), 0..0);
        assert_eq!(Mask::new(FlowKey::EXACT), Mask::EXACT);
        assert_eq!(Mask::EXACT.range(), 0..KEY_WORDS);
        let mut last = FlowKey::ZERO;
        last.as_bytes_mut()[191] = 1;
        assert_eq!(Mask::new(last).range(), 23..24);
    }

    #[test]
    fn hash_and_match_ignore_insignificant_bits() {
        let m = ip_mask();
        let mut a = FlowKey::ZERO;
        a.set_eth_type(0x0800);
        a.set_ipv4_dst(0x0a00_0001);
        a.set_ipv4_src(0x0101_0101);
        let mut b = a;
        b.set_ipv4_dst(0x0a00_00fe); // differs only in masked-out bits
        b.set_ipv4_src(0x0202_0202);
        b.set_tun_id(7); // outside the range entirely
        assert_eq!(m.hash(&a, 3), m.hash(&b, 3));
        assert_ne!(m.hash(&a, 3), m.hash(&a, 4), "salt must matter");
        let masked = m.apply(&a);
        assert_eq!(masked.ipv4_src(), 0);
        assert_eq!(masked.ipv4_dst(), 0x0a00_0000);
        assert!(m.matches(&b, &masked));
        let mut c = a;
        c.set_ipv4_dst(0x0a00_0101);
        assert!(!m.matches(&c, &masked));
        assert_ne!(m.hash(&c, 3), m.hash(&a, 3));
    }

    #[test]
    fn hasher_is_deterministic_and_spreads() {
        // Fixed value guards against accidental changes (kernel and userspace must agree).
        let mut h = MaskHasher::new(0);
        h.write_at(3, 1);
        h.write_at(KEY_WORDS, 1); // ignored
        let v = h.finish();
        let mut h2 = MaskHasher::new(0);
        h2.write_at(3, 1);
        assert_eq!(v, h2.finish());
        assert_eq!(v, 0xb4b3_1d42, "hash function changed");
        let mut h3 = MaskHasher::new(0);
        h3.write_at(4, 1);
        assert_ne!(v, h3.finish(), "word position matters");
        // Sequential keys must spread over the low bits (the classifier indexes buckets by them).
        let mut seen = [0u32; 64];
        for i in 0..64 * 64u64 {
            let mut h = MaskHasher::new(0);
            h.write_at(5, i << 32);
            seen[(h.finish() & 63) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 32 && n < 100), "{seen:?}");
    }
}

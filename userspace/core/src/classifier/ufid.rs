//! Unique flow identifiers (`OVS_FLOW_ATTR_UFID`): 1 to 16 opaque bytes chosen by userspace,
//! compared by length and content as upstream (`struct sw_flow_id`). ovs-vswitchd uses 16-byte
//! UFIDs (a 128-bit UUID), kept here as bytes because the core has no `u128`.

use crate::mask::MaskHasher;

/// Maximum UFID length (upstream `MAX_UFID_LENGTH`).
pub const MAX_UFID_LEN: usize = 16;

/// A UFID.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ufid {
    len: u8,
    bytes: [u8; MAX_UFID_LEN],
}

impl Ufid {
    /// A UFID from its bytes; `None` if empty or longer than [`MAX_UFID_LEN`].
    #[must_use]
    pub fn new(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return None;
        }
        let mut b = [0u8; MAX_UFID_LEN];
        b.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self { len: u8::try_from(bytes.len()).ok()?, bytes: b })
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in bytes (1..=16).
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Always false (a UFID has at least one byte); present for API symmetry with `len`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes as four native-endian words, zero-padded.
    pub(crate) fn words(&self) -> [u32; 4] {
        let b = &self.bytes;
        let w = |i: usize| {
            let mut x = [0u8; 4];
            if let Some(s) = b.get(i..i.saturating_add(4)) {
                x.copy_from_slice(s);
            }
            u32::from_ne_bytes(x)
        };
        [w(0), w(4), w(8), w(12)]
    }

    /// Rebuilds a UFID from [`Self::words`] and its length.
    pub(crate) fn from_words(len: u8, words: [u32; 4]) -> Option<Self> {
        if len == 0 || usize::from(len) > MAX_UFID_LEN {
            return None;
        }
        let mut bytes = [0u8; MAX_UFID_LEN];
        for (chunk, w) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        Some(Self { len, bytes })
    }

    /// The length as stored.
    pub(crate) fn len_u8(&self) -> u8 {
        self.len
    }

    /// Hash for the UFID index.
    pub(crate) fn hash(&self) -> u32 {
        let [a, b, c, d] = self.words();
        let mut h = MaskHasher::new(u32::from(self.len));
        h.write_at(0, u64::from(a) | (u64::from(b) << 32));
        h.write_at(1, u64::from(c) | (u64::from(d) << 32));
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_and_round_trip() {
        assert!(Ufid::new(&[]).is_none());
        assert!(Ufid::new(&[0; 17]).is_none());
        let u = Ufid::new(&[1, 2, 3, 4, 5]).unwrap();
        assert_eq!(u.as_bytes(), &[1, 2, 3, 4, 5]);
        assert_eq!(u.len(), 5);
        assert!(!u.is_empty());
        assert_eq!(Ufid::from_words(u.len_u8(), u.words()), Some(u));
        assert!(Ufid::from_words(0, u.words()).is_none());
        assert!(Ufid::from_words(17, u.words()).is_none());
    }

    #[test]
    fn length_is_part_of_identity() {
        let a = Ufid::new(&[1, 0]).unwrap();
        let b = Ufid::new(&[1]).unwrap();
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        let full = Ufid::new(&[0xab; 16]).unwrap();
        assert_eq!(full.hash(), Ufid::new(&[0xab; 16]).unwrap().hash());
    }
}

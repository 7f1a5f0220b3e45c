//! CRC32c (Castagnoli), the SCTP checksum (RFC 9260 appendix A), table-driven.
//!
//! Owned here because the SCTP port rewrite must recompute it over the whole SCTP packet; the
//! 1 KiB table is built at compile time.

/// Reflected Castagnoli polynomial.
const POLY: u32 = 0x82f6_3b78;

/// Byte-at-a-time lookup table.
static TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i: u32 = 0;
    while i < 256 {
        let mut crc = i;
        let mut bit: u32 = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit = bit.wrapping_add(1);
        }
        #[allow(clippy::indexing_slicing, clippy::as_conversions)]
        {
            // i < 256: in bounds, and the conversion is lossless.
            table[i as usize] = crc;
        }
        i = i.wrapping_add(1);
    }
    table
}

/// Continues a CRC32c over `data`. Start with `!0`; the CRC is the complement of the end state.
#[must_use]
pub fn update(mut state: u32, data: &[u8]) -> u32 {
    for &b in data {
        let idx = usize::from(u8::try_from((state ^ u32::from(b)) & 0xff).unwrap_or(0));
        state = (state >> 8) ^ TABLE.get(idx).copied().unwrap_or(0);
    }
    state
}

/// The CRC32c of `data`.
#[must_use]
pub fn crc32c(data: &[u8]) -> u32 {
    !update(!0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // The standard check value, and RFC 3720 B.4 test vectors.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let inc: std::vec::Vec<u8> = (0u8..32).collect();
        assert_eq!(crc32c(&inc), 0x46dd_794e);
    }

    #[test]
    fn chunked_equals_whole() {
        let data = b"the quick brown fox jumps over the lazy dog";
        let s = update(update(!0, &data[..7]), &data[7..]);
        assert_eq!(!s, crc32c(data));
    }
}

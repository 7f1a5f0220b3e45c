//! Internet checksum (RFC 1071) and incremental update (RFC 1624).
//!
//! Used by header rewrites (`set`/`set_masked` actions) in both datapaths, and by the kernel
//! module's load-time self-test, which is the first proof that this file compiles into `rvs.ko`.

/// Adds `data` as big-endian 16-bit words to a 32-bit partial sum (odd tail padded with zero).
#[must_use]
pub fn partial(data: &[u8], mut sum: u32) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        if let [hi, lo] = *w {
            sum = add32(sum, u32::from(u16::from_be_bytes([hi, lo])));
        }
    }
    if let [last] = *words.remainder() {
        sum = add32(sum, u32::from(u16::from_be_bytes([last, 0])));
    }
    sum
}

/// Adds with end-around carry, so a partial sum never overflows.
#[must_use]
pub fn add32(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s.wrapping_add(u32::from(carry))
}

/// Folds a 32-bit partial sum to 16 bits and complements it: the value stored in a header.
#[must_use]
pub fn finish(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    // `sum` is now at most 0xffff, so the conversion is lossless.
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

/// The Internet checksum of `data`, as stored in a header whose checksum field was zero.
#[must_use]
pub fn checksum(data: &[u8]) -> u16 {
    finish(partial(data, 0))
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit header word changes from `old` to `new`.
#[must_use]
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    let sum = add32(add32(u32::from(!check), u32::from(!old)), u32::from(new));
    finish(sum)
}

/// Like [`update16`] for a 32-bit field (an IPv4 address), both halves at once.
#[must_use]
pub fn update32(check: u16, old: u32, new: u32) -> u16 {
    let [o0, o1, o2, o3] = old.to_be_bytes();
    let [n0, n1, n2, n3] = new.to_be_bytes();
    let mut sum = u32::from(!check);
    sum = add32(sum, u32::from(!u16::from_be_bytes([o0, o1])));
    sum = add32(sum, u32::from(!u16::from_be_bytes([o2, o3])));
    sum = add32(sum, u32::from(u16::from_be_bytes([n0, n1])));
    sum = add32(sum, u32::from(u16::from_be_bytes([n2, n3])));
    finish(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 header from RFC 1071-style worked examples (checksum 0xb861 when the field is zero).
    const IPV4_HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn full_checksum() {
        assert_eq!(checksum(&IPV4_HDR), 0xb861);
        let mut h = IPV4_HDR;
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&h), 0, "a header with its checksum sums to zero");
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0x12]), !0x1200);
        assert_eq!(checksum(&[]), 0xffff);
    }

    #[test]
    fn incremental_equals_recompute() {
        let mut h = IPV4_HDR;
        let c0 = checksum(&h);
        // TTL/proto word 0x4011 -> 0x3f11 (TTL decrement).
        h[8] = 0x3f;
        assert_eq!(update16(c0, 0x4011, 0x3f11), checksum(&h));
        // Destination address rewrite.
        let old = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
        let c1 = checksum(&h);
        h[16..20].copy_from_slice(&[10, 1, 2, 3]);
        assert_eq!(update32(c1, old, 0x0a01_0203), checksum(&h));
    }
}

//! Read-only views of the packet headers the flow key extractor understands.
//!
//! One file per protocol, in the style of smoltcp's `src/wire/`: a `Packet`/`Frame` wrapper over
//! a byte buffer, `new_checked` validating the length once (`check_len`), field offsets as byte
//! ranges in a private `field` module, and big-endian accessors. Higher-level parsing that upstream
//! Open vSwitch does in `net/openvswitch/flow.c` (the IPv6 extension header walk, the LLC/SNAP
//! ethertype resolution, Neighbor Discovery options) lives beside the header it belongs to.
//!
//! Nothing here allocates or panics: accessors read through [`be16`]/[`be32`]/[`bytes`], which
//! return zeros for out-of-range offsets (unreachable after `check_len`, but the lints forbid
//! indexing). Each module has its own error enum.

pub mod arp;
pub mod ethernet;
pub mod icmp;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod vlan;

/// IP protocol numbers (IPv4 `protocol` / IPv6 `next header`) used by the extractor.
pub mod ip_proto {
    /// IPv6 Hop-by-Hop Options.
    pub const HOPOPTS: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 Routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload.
    pub const ESP: u8 = 50;
    /// Authentication Header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 No Next Header.
    pub const NONE: u8 = 59;
    /// IPv6 Destination Options.
    pub const DSTOPTS: u8 = 60;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// Big-endian `u16` at `at`; 0 if `buf` is too short.
#[must_use]
pub fn be16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(bytes::<2>(buf, at))
}

/// Big-endian `u32` at `at`; 0 if `buf` is too short.
#[must_use]
pub fn be32(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes::<4>(buf, at))
}

/// The byte at `at`; 0 if `buf` is too short.
#[must_use]
pub fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

/// `N` bytes starting at `at`; all zero if `buf` is too short.
#[must_use]
pub fn bytes<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| buf.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_big_endian_and_zero_out_of_range() {
        let b = [0x12, 0x34, 0x56, 0x78, 0x9a];
        assert_eq!(be16(&b, 0), 0x1234);
        assert_eq!(be16(&b, 3), 0x789a);
        assert_eq!(be16(&b, 4), 0);
        assert_eq!(be32(&b, 1), 0x3456_789a);
        assert_eq!(be32(&b, 2), 0);
        assert_eq!(byte(&b, 4), 0x9a);
        assert_eq!(byte(&b, 5), 0);
        assert_eq!(bytes::<2>(&b, usize::MAX), [0, 0]);
        assert_eq!(bytes::<3>(&b, 2), [0x56, 0x78, 0x9a]);
    }
}

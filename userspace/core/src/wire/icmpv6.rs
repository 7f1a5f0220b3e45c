//! The ICMPv6 header (RFC 4443) and Neighbor Solicitation/Advertisement (RFC 4861) messages.
//!
//! [`Packet`] covers the 8-byte header (upstream `icmp6hdr_ok`). [`parse_nd`] extracts what the
//! flow key keeps of a Neighbor Solicitation or Advertisement: the target address and the source
//! and target link-layer address options, with upstream `parse_icmpv6` semantics: options are
//! walked while at least 8 bytes remain; a zero-length or overlong option ends the walk keeping
//! what was found; a second non-zero SLL or TLL option makes the whole message invalid, which
//! zeroes all three fields.

use super::{byte, bytes, check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of ICMPv6 parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "icmpv6: header shorter than 8 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    /// ND target address (NS and NA), after the 4 reserved/flag bytes.
    pub const ND_TARGET: Range<usize> = 8..24;
}

/// Length of the ICMPv6 header.
pub const HEADER_LEN: usize = field::REST.end;
/// Length of an NS/NA message without options (`struct nd_msg`).
pub const ND_MSG_LEN: usize = field::ND_TARGET.end;
/// Byte offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// ICMPv6 message types the extractor looks into.
pub mod msg_type {
    /// Neighbor Solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor Advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

/// ND option types the extractor keeps.
pub mod nd_opt {
    /// Source Link-Layer Address.
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target Link-Layer Address.
    pub const TARGET_LL_ADDR: u8 = 2;
}

/// ND option length unit in bytes.
const ND_OPT_UNIT: usize = 8;

header_view! {
    /// A read-only view of an ICMPv6 header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the 8-byte header is present.
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Message type.
        msg_type: u8 = field::TYPE;
        /// Message code.
        msg_code: u8 = field::CODE;
        /// Checksum.
        checksum: u16 = field::CHECKSUM.start;
    }

    /// `true` for a Neighbor Solicitation or Advertisement with code 0, the messages whose
    /// contents go into the flow key.
    #[must_use]
    pub fn is_neighbor_discovery(&self) -> bool {
        self.msg_code() == 0
            && matches!(
                self.msg_type(),
                msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT
            )
    }
}

/// The Neighbor Discovery fields of the flow key. All zero when absent or invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NdRepr {
    /// Target address.
    pub target: [u8; 16],
    /// Source link-layer address option (NS), or zero.
    pub sll: [u8; 6],
    /// Target link-layer address option (NA), or zero.
    pub tll: [u8; 6],
}

/// Parses the NS/NA message `msg` (starting at its ICMPv6 header, running to the end of the
/// frame as upstream uses `skb->len`). The caller checks [`Packet::is_neighbor_discovery`].
/// A message shorter than [`ND_MSG_LEN`] gives all zeros.
#[must_use]
pub fn parse_nd(msg: &[u8]) -> NdRepr {
    let mut nd = NdRepr::default();
    let Some(opts) = msg.get(ND_MSG_LEN..) else {
        return nd;
    };
    nd.target = bytes(msg, field::ND_TARGET.start);
    let mut rest = opts;
    while rest.len() >= ND_OPT_UNIT {
        let opt_type = byte(rest, 0);
        let opt_len = usize::from(byte(rest, 1)).saturating_mul(ND_OPT_UNIT);
        if opt_len == 0 || opt_len > rest.len() {
            return nd;
        }
        if opt_len == ND_OPT_UNIT {
            let addr: [u8; 6] = bytes(rest, 2);
            let slot = match opt_type {
                nd_opt::SOURCE_LL_ADDR => Some(&mut nd.sll),
                nd_opt::TARGET_LL_ADDR => Some(&mut nd.tll),
                _ => None,
            };
            if let Some(slot) = slot {
                if *slot != [0; 6] {
                    return NdRepr::default();
                }
                *slot = addr;
            }
        }
        rest = rest.get(opt_len..).unwrap_or(&[]);
    }
    nd
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const TARGET: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const MAC1: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC2: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn ns(opts: &[&[u8]]) -> Vec<u8> {
        let mut m = std::vec![135, 0, 0x12, 0x34, 0, 0, 0, 0];
        m.extend(TARGET);
        for o in opts {
            m.extend(*o);
        }
        m
    }

    fn nd(target: [u8; 16], sll: [u8; 6], tll: [u8; 6]) -> NdRepr {
        NdRepr { target, sll, tll }
    }

    fn lla(kind: u8, mac: [u8; 6]) -> [u8; 8] {
        let mut o = [kind, 1, 0, 0, 0, 0, 0, 0];
        o[2..].copy_from_slice(&mac);
        o
    }

    #[test]
    fn header() {
        let m = ns(&[]);
        let p = Packet::new_checked(&m[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.checksum()), (135, 0, 0x1234));
        assert!(p.is_neighbor_discovery());
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&m[..n]), Err(Error::Truncated));
        }
        let mut m2 = m.clone();
        m2[1] = 1;
        assert!(!Packet::new_unchecked(&m2[..]).is_neighbor_discovery());
        m2[1] = 0;
        m2[0] = 128;
        assert!(!Packet::new_unchecked(&m2[..]).is_neighbor_discovery());
        m2[0] = 136;
        assert!(Packet::new_unchecked(&m2[..]).is_neighbor_discovery());
        assert!(!std::format!("{}", Error::Truncated).is_empty());
    }

    #[test]
    fn target_and_options() {
        let m = ns(&[&lla(1, MAC1), &lla(2, MAC2)]);
        assert_eq!(parse_nd(&m), nd(TARGET, MAC1, MAC2));
        let m = ns(&[]);
        assert_eq!(parse_nd(&m), NdRepr { target: TARGET, ..NdRepr::default() });
    }

    #[test]
    fn short_message_is_all_zero() {
        let m = ns(&[]);
        for n in 0..ND_MSG_LEN {
            assert_eq!(parse_nd(&m[..n]), NdRepr::default());
        }
    }

    #[test]
    fn unknown_and_long_options_are_skipped() {
        // A 16-byte SLL option (not 8 bytes) is skipped, as is an MTU option.
        let long_sll = [1u8, 2, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0];
        let mtu = [5u8, 1, 0, 0, 0, 0, 5, 0xdc];
        let m = ns(&[&long_sll, &mtu, &lla(2, MAC2)]);
        assert_eq!(parse_nd(&m), nd(TARGET, [0; 6], MAC2));
    }

    #[test]
    fn bad_length_stops_but_keeps() {
        // Zero-length option: walk stops, target and SLL found so far are kept.
        let m = ns(&[&lla(1, MAC1), &[2, 0, 1, 2, 3, 4, 5, 6], &lla(2, MAC2)]);
        assert_eq!(parse_nd(&m), nd(TARGET, MAC1, [0; 6]));
        // Option claiming more than remains.
        let m = ns(&[&lla(1, MAC1), &[2, 2, 1, 2, 3, 4, 5, 6]]);
        assert_eq!(parse_nd(&m), nd(TARGET, MAC1, [0; 6]));
        // Trailing bytes shorter than an option are ignored.
        let m = ns(&[&lla(1, MAC1), &[2, 1, 1]]);
        assert_eq!(parse_nd(&m), nd(TARGET, MAC1, [0; 6]));
    }

    #[test]
    fn duplicate_option_invalidates_everything() {
        let m = ns(&[&lla(1, MAC1), &lla(2, MAC2), &lla(1, MAC2)]);
        assert_eq!(parse_nd(&m), NdRepr::default());
        let m = ns(&[&lla(2, MAC2), &lla(2, MAC2)]);
        assert_eq!(parse_nd(&m), NdRepr::default());
        // As upstream, a duplicate after an all-zero address is accepted.
        let m = ns(&[&lla(1, [0; 6]), &lla(1, MAC1)]);
        assert_eq!(parse_nd(&m), nd(TARGET, MAC1, [0; 6]));
    }
}

//! The IPv6 fixed header (RFC 8200) and the extension header walk of upstream `ipv6_find_hdr`.
//!
//! [`Packet`] covers the 40-byte fixed header. [`walk_extension_headers`] follows the chain of
//! Hop-by-Hop, Routing, Destination Options, Fragment and Authentication headers to the
//! upper-layer protocol exactly as the Linux Open vSwitch datapath does (`ipv6_find_hdr` with no
//! target): it stops at the first protocol that is not one of those (ESP included, which is
//! therefore reported as the upper layer) or at No Next Header, notes whether a Fragment header
//! was seen, and stops at a non-first fragment. [`extension_header_summary`] computes the
//! `OVS_KEY_ATTR_IPV6_EXTHDRS` flags of upstream `get_ipv6_ext_hdrs`, a separate, simpler walk.

use super::ip_proto;
use super::{be16, be32, byte, check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of IPv6 parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "ipv6: fixed header truncated",
        /// An extension header runs past the end of the buffer (upstream `-EBADMSG`).
        ExtTruncated => "ipv6: extension header truncated",
        /// A non-first fragment is followed by another extension header (upstream `-ENOENT`).
        FragmentChain => "ipv6: non-first fragment followed by an extension header",
    }
}

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Length of a Fragment header.
pub const FRAG_HEADER_LEN: usize = 8;
/// Bytes of a Routing header the walk requires before trusting it (`struct ipv6_rt_hdr`).
const ROUTING_MIN_LEN: usize = 4;
/// Offset of the fragment offset/flags field within a Fragment header.
const FRAG_OFF_FIELD: usize = 2;
const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

header_view! {
    /// A read-only view of an IPv6 fixed header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the fixed header is present (the version is not validated, as upstream).
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Payload length field.
        payload_len: u16 = field::LENGTH.start;
        /// Next header of the fixed header.
        next_header: u8 = field::NXT_HDR;
        /// Hop limit.
        hop_limit: u8 = field::HOP_LIMIT;
        /// Source address.
        src_addr: [u8; 16] = field::SRC_ADDR.start;
        /// Destination address.
        dst_addr: [u8; 16] = field::DST_ADDR.start;
    }

    /// Version field.
    #[must_use]
    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), field::VER_TC_FLOW.start) >> 4
    }

    /// Traffic class (DSCP and ECN).
    #[must_use]
    pub fn traffic_class(&self) -> u8 {
        let w = be16(self.buffer.as_ref(), field::VER_TC_FLOW.start);
        let [_, tc] = (w >> 4).to_be_bytes();
        tc
    }

    /// Flow label (20 bits).
    #[must_use]
    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FLOW.start) & FLOW_LABEL_MASK
    }
}

/// `true` for the next-header values the walk treats as extension headers (`ipv6_ext_hdr`;
/// No Next Header included, ESP excluded).
#[must_use]
pub fn is_extension_header(next_header: u8) -> bool {
    matches!(
        next_header,
        ip_proto::HOPOPTS
            | ip_proto::ROUTING
            | ip_proto::FRAGMENT
            | ip_proto::AH
            | ip_proto::NONE
            | ip_proto::DSTOPTS
    )
}

/// Where the extension header chain ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upper {
    /// The upper-layer header (or No Next Header): its protocol number and its offset from the
    /// start of the IPv6 header.
    Found {
        /// Protocol number of the upper layer.
        next_header: u8,
        /// Offset of the upper-layer header from the start of the IPv6 header.
        offset: usize,
    },
    /// A non-first fragment: the walk stops at its Fragment header.
    LaterFragment {
        /// Next header named by the Fragment header.
        next_header: u8,
        /// Fragment offset in bytes (non-zero).
        frag_offset: u16,
    },
}

/// Result of [`walk_extension_headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Where the walk ended, or why it failed.
    pub upper: Result<Upper, Error>,
    /// A Fragment header was reached (set even when the walk then failed, as upstream).
    pub fragment: bool,
}

/// Walks the extension headers of the IPv6 packet in `packet` (starting at its fixed header).
///
/// Mirrors upstream `ipv6_find_hdr(skb, &off, -1, &frag_off, &flags)`: every header's length
/// must fit in `packet`; a first fragment (offset 0) is walked through; a later fragment ends the
/// walk with [`Upper::LaterFragment`] unless its next header is another extension header, which
/// is [`Error::FragmentChain`].
#[must_use]
pub fn walk_extension_headers(packet: &[u8]) -> Chain {
    let mut fragment = false;
    if packet.len() < HEADER_LEN {
        return Chain {
            upper: Err(Error::Truncated),
            fragment,
        };
    }
    let mut next_header = byte(packet, field::NXT_HDR);
    let mut start = HEADER_LEN;
    loop {
        if !is_extension_header(next_header) || next_header == ip_proto::NONE {
            return Chain {
                upper: Ok(Upper::Found {
                    next_header,
                    offset: start,
                }),
                fragment,
            };
        }
        let (hp_next, hp_len) = match packet.get(start..start.saturating_add(2)) {
            Some(&[n, l]) => (n, usize::from(l)),
            _ => {
                return Chain {
                    upper: Err(Error::ExtTruncated),
                    fragment,
                }
            }
        };
        let remaining = packet.len().saturating_sub(start);
        let hdr_len = match next_header {
            ip_proto::FRAGMENT => {
                fragment = true;
                if remaining < FRAG_OFF_FIELD.saturating_add(2) {
                    return Chain {
                        upper: Err(Error::ExtTruncated),
                        fragment,
                    };
                }
                let frag_offset = be16(packet, start.saturating_add(FRAG_OFF_FIELD)) & !0x7;
                if frag_offset != 0 {
                    let upper = if !is_extension_header(hp_next) || hp_next == ip_proto::NONE {
                        Ok(Upper::LaterFragment {
                            next_header: hp_next,
                            frag_offset,
                        })
                    } else {
                        Err(Error::FragmentChain)
                    };
                    return Chain { upper, fragment };
                }
                FRAG_HEADER_LEN
            }
            ip_proto::AH => hp_len.saturating_add(2).saturating_mul(4),
            ip_proto::ROUTING if remaining < ROUTING_MIN_LEN => {
                return Chain {
                    upper: Err(Error::ExtTruncated),
                    fragment,
                };
            }
            _ => hp_len.saturating_add(1).saturating_mul(8),
        };
        if remaining < hdr_len {
            return Chain {
                upper: Err(Error::ExtTruncated),
                fragment,
            };
        }
        next_header = hp_next;
        start = start.saturating_add(hdr_len);
    }
}

/// The extension header summary of the IPv6 packet in `packet` (starting at its fixed header):
/// upstream `get_ipv6_ext_hdrs` (`net/openvswitch/flow.c`), bit for bit. Bits are
/// [`crate::key::ipv6_exthdrs`]; 0 if the fixed header is truncated.
///
/// As upstream, the walk follows [`is_extension_header`] (so ESP, not being one, ends it: its bit
/// is never set, though it still counts as allowed before a second Destination Options header),
/// sizes every header as `(hdrlen + 1) * 8` (Authentication headers and
/// Fragment headers included), and stops quietly when the next 2-byte header does not fit.
#[must_use]
pub fn extension_header_summary(packet: &[u8]) -> u16 {
    use crate::key::ipv6_exthdrs::*;
    if packet.len() < HEADER_LEN {
        return 0;
    }
    let mut flags = 0u16;
    let mut next = byte(packet, field::NXT_HDR);
    let mut start = HEADER_LEN;
    let mut dest_count = 0u8;
    // Bits that may precede a header without making the sequence unexpected.
    let unseq = |flags: u16, allowed: u16| flags & !allowed != 0;
    while is_extension_header(next) {
        match next {
            ip_proto::NONE => return flags | NONEXT,
            ip_proto::AH => {
                if flags & AUTH != 0 {
                    flags |= UNREP;
                }
                if unseq(flags, HOP | DEST | ROUTER | FRAG | UNREP) || dest_count >= 2 {
                    flags |= UNSEQ;
                }
                flags |= AUTH;
            }
            ip_proto::DSTOPTS => {
                match dest_count {
                    0 => {
                        if unseq(flags, HOP | UNREP) {
                            flags |= UNSEQ;
                        }
                        flags |= DEST;
                    }
                    1 => {
                        if unseq(flags, HOP | DEST | ROUTER | FRAG | AUTH | ESP | UNREP) {
                            flags |= UNSEQ;
                        }
                    }
                    _ => flags |= UNREP,
                }
                dest_count = dest_count.saturating_add(1);
            }
            ip_proto::FRAGMENT => {
                if flags & FRAG != 0 {
                    flags |= UNREP;
                }
                if unseq(flags, HOP | DEST | ROUTER | UNREP) || dest_count >= 2 {
                    flags |= UNSEQ;
                }
                flags |= FRAG;
            }
            ip_proto::ROUTING => {
                if flags & ROUTER != 0 {
                    flags |= UNREP;
                }
                if unseq(flags, HOP | DEST | UNREP) || dest_count >= 2 {
                    flags |= UNSEQ;
                }
                flags |= ROUTER;
            }
            ip_proto::HOPOPTS => {
                if flags & HOP != 0 {
                    flags |= UNREP;
                }
                // Only a Hop-by-Hop header that comes first counts as such.
                if flags == 0 {
                    flags |= HOP;
                } else {
                    flags |= UNSEQ;
                }
            }
            _ => return flags,
        }
        match packet.get(start..start.saturating_add(2)) {
            Some(&[n, len]) => {
                next = n;
                start = start.saturating_add(usize::from(len).saturating_add(1).saturating_mul(8));
            }
            _ => break,
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn fixed(next: u8) -> Vec<u8> {
        let mut h = std::vec![0x6a, 0xb1, 0x23, 0x45, 0, 0, next, 255];
        h.extend((1..=16).map(|i| 0x20 + i));
        h.extend((1..=16).map(|i| 0x40 + i));
        h
    }

    fn found(next_header: u8, offset: usize) -> Result<Upper, Error> {
        Ok(Upper::Found { next_header, offset })
    }

    #[test]
    fn fields() {
        let h = fixed(ip_proto::TCP);
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xab);
        assert_eq!(p.flow_label(), 0x1_2345);
        assert_eq!(p.payload_len(), 0);
        assert_eq!(p.next_header(), 6);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(p.src_addr()[0], 0x21);
        assert_eq!(p.dst_addr()[15], 0x50);
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&h[..n]), Err(Error::Truncated));
        }
    }

    #[test]
    fn no_extension_headers() {
        let h = fixed(ip_proto::UDP);
        let c = walk_extension_headers(&h);
        assert_eq!(c, Chain { upper: found(17, 40), fragment: false });
        assert_eq!(walk_extension_headers(&h[..39]).upper, Err(Error::Truncated));
    }

    #[test]
    fn hop_routing_dest_ah_chain() {
        let mut h = fixed(ip_proto::HOPOPTS);
        h.extend([ip_proto::ROUTING, 0, 0, 0, 0, 0, 0, 0]); // 8 bytes
        h.extend([ip_proto::DSTOPTS, 1, 0, 0, 0, 0, 0, 0]); // 16 bytes
        h.extend([0; 8]);
        h.extend([ip_proto::AH, 0, 0, 0, 0, 0, 0, 0]); // 8 bytes
        h.extend([ip_proto::TCP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // AH: (1+2)*4 = 12 bytes
        let c = walk_extension_headers(&h);
        assert_eq!(c.upper, found(6, 40 + 8 + 16 + 8 + 12));
        assert!(!c.fragment);
        // Truncating inside any extension header is an error.
        for n in 40..h.len() {
            assert_eq!(walk_extension_headers(&h[..n]).upper, Err(Error::ExtTruncated), "len {n}");
        }
    }

    #[test]
    fn esp_and_no_next_header_stop_the_walk() {
        let mut h = fixed(ip_proto::DSTOPTS);
        h.extend([ip_proto::ESP, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(walk_extension_headers(&h).upper, found(50, 48));
        let h = fixed(ip_proto::NONE);
        assert_eq!(walk_extension_headers(&h).upper, found(59, 40));
    }

    #[test]
    fn first_fragment_is_walked_through() {
        let mut h = fixed(ip_proto::FRAGMENT);
        h.extend([ip_proto::UDP, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]); // offset 0, M=1
        let c = walk_extension_headers(&h);
        assert_eq!(c, Chain { upper: found(17, 48), fragment: true });
        // A first fragment needs its whole 8-byte header.
        let c = walk_extension_headers(&h[..47]);
        assert_eq!(c, Chain { upper: Err(Error::ExtTruncated), fragment: true });
        let c = walk_extension_headers(&h[..43]);
        assert_eq!(c, Chain { upper: Err(Error::ExtTruncated), fragment: true });
    }

    #[test]
    fn later_fragment_stops_the_walk() {
        let mut h = fixed(ip_proto::FRAGMENT);
        h.extend([ip_proto::UDP, 0, 0x05, 0xa8, 0, 0, 0, 1]); // offset 1448
        let c = walk_extension_headers(&h);
        assert_eq!(
            c,
            Chain {
                upper: Ok(Upper::LaterFragment {
                    next_header: 17,
                    frag_offset: 1448
                }),
                fragment: true
            }
        );
        // Only the first four bytes of the fragment header are needed.
        assert_eq!(walk_extension_headers(&h[..44]), c);
        // Followed by another extension header: upstream -ENOENT.
        h[40] = ip_proto::DSTOPTS;
        assert_eq!(
            walk_extension_headers(&h),
            Chain {
                upper: Err(Error::FragmentChain),
                fragment: true
            }
        );
    }

    #[test]
    fn routing_header_needs_four_bytes() {
        let mut h = fixed(ip_proto::ROUTING);
        h.extend([ip_proto::TCP, 0, 0]);
        assert_eq!(walk_extension_headers(&h).upper, Err(Error::ExtTruncated));
        assert!(!std::format!("{}", Error::FragmentChain).is_empty());
    }

    #[test]
    fn classification() {
        for p in [0u8, 43, 44, 51, 59, 60] {
            assert!(is_extension_header(p));
        }
        for p in [6u8, 17, 50, 58, 132, 135] {
            assert!(!is_extension_header(p));
        }
    }

    /// Appends an extension header of `len` bytes (a multiple of 8) naming `next`.
    fn ext(h: &mut Vec<u8>, next: u8, len: usize) {
        h.push(next);
        h.push(u8::try_from(len / 8 - 1).unwrap());
        h.extend(std::iter::repeat_n(0, len - 2));
    }

    /// A packet whose chain is `hdrs` (each 8 bytes) then TCP.
    fn chain(hdrs: &[u8]) -> Vec<u8> {
        let mut h = fixed(hdrs.first().copied().unwrap_or(ip_proto::TCP));
        for (i, _) in hdrs.iter().enumerate() {
            ext(&mut h, hdrs.get(i + 1).copied().unwrap_or(ip_proto::TCP), 8);
        }
        h.extend([0; 20]);
        h
    }

    #[test]
    fn exthdrs_summary_of_the_recommended_order() {
        use crate::key::ipv6_exthdrs::*;
        use ip_proto::*;
        assert_eq!(extension_header_summary(&chain(&[])), 0);
        assert_eq!(extension_header_summary(&chain(&[HOPOPTS])), HOP);
        assert_eq!(
            extension_header_summary(&chain(&[HOPOPTS, DSTOPTS, ROUTING, FRAGMENT, AH, DSTOPTS])),
            HOP | DEST | ROUTER | FRAG | AUTH
        );
        assert_eq!(extension_header_summary(&chain(&[DSTOPTS, NONE])), DEST | NONEXT);
        assert_eq!(extension_header_summary(&fixed(NONE)), NONEXT);
        assert_eq!(extension_header_summary(&[0; 39]), 0);
    }

    #[test]
    fn exthdrs_summary_flags_repeats_and_disorder() {
        use crate::key::ipv6_exthdrs::*;
        use ip_proto::*;
        // Hop-by-Hop not first: sequencing, and HOP itself is not set.
        assert_eq!(extension_header_summary(&chain(&[DSTOPTS, HOPOPTS])), DEST | UNSEQ);
        // A repeat is also out of sequence: no header lists itself as allowed before it.
        assert_eq!(extension_header_summary(&chain(&[FRAGMENT, FRAGMENT])), FRAG | UNREP | UNSEQ);
        assert_eq!(extension_header_summary(&chain(&[ROUTING, ROUTING])), ROUTER | UNREP | UNSEQ);
        assert_eq!(extension_header_summary(&chain(&[AH, AH])), AUTH | UNREP | UNSEQ);
        assert_eq!(extension_header_summary(&chain(&[HOPOPTS, HOPOPTS])), HOP | UNREP | UNSEQ);
        // Two Destination Options headers are expected; a third is a repeat.
        assert_eq!(extension_header_summary(&chain(&[DSTOPTS, DSTOPTS])), DEST);
        assert_eq!(extension_header_summary(&chain(&[DSTOPTS, DSTOPTS, DSTOPTS])), DEST | UNREP);
        // After two Destination Options headers, anything else is out of sequence.
        assert_eq!(extension_header_summary(&chain(&[DSTOPTS, DSTOPTS, FRAGMENT])), DEST | FRAG | UNSEQ);
        // Routing after Fragment, Fragment after Authentication, Dest after Routing then Dest.
        assert_eq!(extension_header_summary(&chain(&[FRAGMENT, ROUTING])), FRAG | ROUTER | UNSEQ);
        assert_eq!(extension_header_summary(&chain(&[AH, FRAGMENT])), AUTH | FRAG | UNSEQ);
        assert_eq!(extension_header_summary(&chain(&[ROUTING, DSTOPTS])), ROUTER | DEST | UNSEQ);
    }

    #[test]
    fn exthdrs_summary_walk_quirks() {
        use crate::key::ipv6_exthdrs::*;
        use ip_proto::*;
        // A truncated chain keeps what was seen so far.
        let h = chain(&[HOPOPTS, ROUTING]);
        assert_eq!(extension_header_summary(&h[..HEADER_LEN + 8]), HOP | ROUTER);
        assert_eq!(extension_header_summary(&h[..HEADER_LEN + 1]), HOP);
        // An Authentication header is sized as (hdrlen + 1) * 8, not (hdrlen + 2) * 4: with
        // hdrlen 1 the walk reads the Routing header at offset 56 (not 52) and so sees the
        // Destination Options header after it.
        let mut h = fixed(AH);
        h.extend([ROUTING, 1]);
        h.extend([0; 10]);
        h.extend([TCP, 0, 0, 0]); // at 52: where a correctly sized walk would look
        h.extend([DSTOPTS, 0, 0, 0, 0, 0, 0, 0]); // at 56
        h.extend([TCP, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(extension_header_summary(&h), AUTH | ROUTER | DEST | UNSEQ);
        // ESP ends the walk (not an extension header for it): no ESP bit.
        let mut h = fixed(HOPOPTS);
        ext(&mut h, ip_proto::ESP, 8);
        h.extend([0; 16]);
        assert_eq!(extension_header_summary(&h), HOP);
    }
}

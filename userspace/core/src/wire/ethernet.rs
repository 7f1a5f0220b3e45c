//! Ethernet II header and the 802.3/LLC/SNAP ethertype resolution of upstream `parse_ethertype`.
//!
//! [`Frame`] covers the 14-byte header (destination, source, type/length). Frames whose
//! type/length field is below [`ether_type::MIN_802_3`] are 802.3 frames with an LLC header;
//! [`resolve_llc`] finds the real ethertype behind an LLC/SNAP header with a zero OUI, and
//! otherwise reports [`ether_type::LLC_802_2`] (`ETH_P_802_2`, 0x0004) exactly as the Linux
//! Open vSwitch datapath stores it in the flow key.

use super::{check_min_len, getters, header_view, wire_error};

/// Ethertypes the extractor knows (`ETH_P_*`).
pub mod ether_type {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// Reverse ARP.
    pub const RARP: u16 = 0x8035;
    /// IEEE 802.1Q VLAN tag.
    pub const VLAN_8021Q: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const VLAN_8021AD: u16 = 0x88a8;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// MPLS unicast.
    pub const MPLS_UC: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x8848;
    /// Network Service Header.
    pub const NSH: u16 = 0x894f;
    /// `ETH_P_802_2`: the key's ethertype for 802.2 LLC frames without a usable SNAP ethertype.
    pub const LLC_802_2: u16 = 0x0004;
    /// Smallest value of the type/length field that is an ethertype (`ETH_P_802_3_MIN`).
    pub const MIN_802_3: u16 = 0x0600;
}

wire_error! {
    /// Errors of Ethernet parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "ethernet: frame shorter than 14 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = field::ETHERTYPE.end;
/// Offset of the first type/length (or VLAN TPID) field.
pub const TYPE_OFFSET: usize = field::ETHERTYPE.start;
/// Length of an LLC + SNAP header (DSAP, SSAP, control, OUI, ethertype).
pub const LLC_SNAP_LEN: usize = 8;

const LLC_SAP_SNAP: u8 = 0xaa;

header_view! {
    /// A read-only view of an Ethernet II frame.
    pub struct Frame;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Fails unless the buffer holds a whole Ethernet header.
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Destination MAC address.
        dst_addr: [u8; 6] = field::DESTINATION.start;
        /// Source MAC address.
        src_addr: [u8; 6] = field::SOURCE.start;
        /// The type/length field (a VLAN TPID on tagged frames).
        ethertype: u16 = field::ETHERTYPE.start;
    }
}

/// `true` if a type/length value is an ethertype rather than an 802.3 length.
#[must_use]
pub fn is_ethertype(v: u16) -> bool {
    v >= ether_type::MIN_802_3
}

/// Resolves the ethertype of an 802.3 frame from `llc`, the bytes after its length field.
///
/// Returns the key's ethertype and the number of bytes of `llc` that belong to the link layer
/// (so the network header starts that far into `llc`). As upstream `parse_ethertype`: an
/// LLC/SNAP header (DSAP = SSAP = 0xaa, zero OUI) is consumed and its ethertype used if it is
/// one (else [`ether_type::LLC_802_2`]); anything else is [`ether_type::LLC_802_2`] with nothing
/// consumed.
#[must_use]
pub fn resolve_llc(llc: &[u8]) -> (u16, usize) {
    match llc.get(..LLC_SNAP_LEN) {
        Some(&[dsap, ssap, _ctrl, o0, o1, o2, t0, t1])
            if dsap == LLC_SAP_SNAP && ssap == LLC_SAP_SNAP && (o0 | o1 | o2) == 0 =>
        {
            let t = u16::from_be_bytes([t0, t1]);
            let t = if is_ethertype(t) {
                t
            } else {
                ether_type::LLC_802_2
            };
            (t, LLC_SNAP_LEN)
        }
        _ => (ether_type::LLC_802_2, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 14] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
    ];

    #[test]
    fn fields() {
        let f = Frame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst_addr(), [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(f.src_addr(), [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]);
        assert_eq!(f.ethertype(), ether_type::IPV4);
    }

    #[test]
    fn truncated() {
        for n in 0..HEADER_LEN {
            assert_eq!(Frame::new_checked(&FRAME[..n]), Err(Error::Truncated));
        }
        assert!(std::format!("{}", Error::Truncated).contains("14"));
    }

    #[test]
    fn ethertype_boundary() {
        assert!(!is_ethertype(0x05ff));
        assert!(is_ethertype(0x0600));
    }

    #[test]
    fn llc_snap_with_ethertype_is_consumed() {
        let llc = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, 0xff];
        assert_eq!(resolve_llc(&llc), (ether_type::ARP, 8));
    }

    #[test]
    fn llc_snap_with_length_is_consumed_but_802_2() {
        let llc = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x05, 0xff];
        assert_eq!(resolve_llc(&llc), (ether_type::LLC_802_2, 8));
    }

    #[test]
    fn plain_llc_nonzero_oui_and_short_are_802_2() {
        // STP BPDU: DSAP = SSAP = 0x42.
        assert_eq!(
            resolve_llc(&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]),
            (ether_type::LLC_802_2, 0)
        );
        assert_eq!(
            resolve_llc(&[0xaa, 0xaa, 0x03, 0, 0, 1, 0x08, 0]),
            (ether_type::LLC_802_2, 0)
        );
        assert_eq!(
            resolve_llc(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08]),
            (ether_type::LLC_802_2, 0)
        );
        assert_eq!(resolve_llc(&[]), (ether_type::LLC_802_2, 0));
    }
}

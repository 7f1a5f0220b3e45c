//! IEEE 802.1Q / 802.1ad VLAN tags as they appear inside a frame.
//!
//! A [`Tag`] view starts at the tag's TPID (where an untagged frame has its ethertype) and, as
//! upstream `parse_vlan_tag`, is only accepted when the 4-byte tag *and* the following 2-byte
//! type field are present ([`CHECK_LEN`]); otherwise the TPID is taken as the frame's ethertype.

use super::ethernet::ether_type;
use super::{be16, check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of VLAN tag parsing.
    pub enum Error {
        /// The TPID is not 0x8100 or 0x88a8.
        NotVlan => "vlan: TPID is not 802.1Q/802.1ad",
        /// Fewer than [`CHECK_LEN`] bytes.
        Truncated => "vlan: tag or following type field truncated",
    }
}

mod field {
    use core::ops::Range;
    pub const TPID: Range<usize> = 0..2;
    pub const TCI: Range<usize> = 2..4;
    pub const NEXT_TYPE: Range<usize> = 4..6;
}

/// Length of one tag (TPID + TCI).
pub const TAG_LEN: usize = field::TCI.end;
/// Bytes required to accept a tag: the tag plus the next type field.
pub const CHECK_LEN: usize = field::NEXT_TYPE.end;

/// `true` for the TPIDs upstream treats as VLAN tags (`eth_type_vlan`).
#[must_use]
pub fn is_vlan_tpid(tpid: u16) -> bool {
    tpid == ether_type::VLAN_8021Q || tpid == ether_type::VLAN_8021AD
}

header_view! {
    /// A read-only view of a VLAN tag (starting at its TPID) followed by the next type field.
    pub struct Tag;
    check: check -> Error;
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Fails unless the TPID is a VLAN TPID and [`CHECK_LEN`] bytes are present.
    pub fn check(&self) -> Result<(), Error> {
        let buf = self.buffer.as_ref();
        // Upstream looks at the TPID before the length: a short frame with another
        // type is simply "not a VLAN".
        if !is_vlan_tpid(be16(buf, field::TPID.start)) {
            return Err(Error::NotVlan);
        }
        check_min_len(buf, CHECK_LEN, Error::Truncated)
    }

    getters! {
        /// Tag protocol identifier.
        tpid: u16 = field::TPID.start;
        /// Tag control information as on the wire (PCP, DEI, VID).
        tci: u16 = field::TCI.start;
        /// The type field after the tag.
        next_type: u16 = field::NEXT_TYPE.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let b = [0x81, 0x00, 0xa0, 0x64, 0x08, 0x00];
        let t = Tag::new_checked(&b[..]).unwrap();
        assert_eq!(t.tpid(), 0x8100);
        assert_eq!(t.tci(), 0xa064);
        assert_eq!(t.next_type(), 0x0800);
        let b = [0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00];
        assert_eq!(Tag::new_checked(&b[..]).unwrap().tpid(), 0x88a8);
    }

    #[test]
    fn errors() {
        assert_eq!(
            Tag::new_checked(&[0x08, 0x00, 0, 0, 0, 0][..]),
            Err(Error::NotVlan)
        );
        assert_eq!(
            Tag::new_checked(&[0x81, 0x00, 0, 1, 0x08][..]),
            Err(Error::Truncated)
        );
        assert_eq!(Tag::new_checked(&[0x81][..]), Err(Error::NotVlan));
        assert!(!std::format!("{}", Error::Truncated).is_empty());
    }

    #[test]
    fn tpids() {
        assert!(is_vlan_tpid(0x8100));
        assert!(is_vlan_tpid(0x88a8));
        assert!(!is_vlan_tpid(0x9100));
        assert!(!is_vlan_tpid(0x0800));
    }
}

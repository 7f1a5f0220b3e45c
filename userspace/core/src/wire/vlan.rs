//! IEEE 802.1Q / 802.1ad VLAN tags as they appear inside a frame.
//!
//! A [`Tag`] view starts at the tag's TPID (where an untagged frame has its ethertype) and, as
//! upstream `parse_vlan_tag`, is only accepted when the 4-byte tag *and* the following 2-byte
//! type field are present ([`CHECK_LEN`]); otherwise the TPID is taken as the frame's ethertype.

use core::fmt;

use super::be16;
use super::ethernet::ether_type;

/// Errors of VLAN tag parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The TPID is not 0x8100 or 0x88a8.
    NotVlan,
    /// Fewer than [`CHECK_LEN`] bytes.
    Truncated,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotVlan => f.write_str("vlan: TPID is not 802.1Q/802.1ad"),
            Error::Truncated => f.write_str("vlan: tag or following type field truncated"),
        }
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

/// A read-only view of a VLAN tag followed by the next type field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Wraps `buffer` (starting at the TPID) without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`Self::check`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let t = Self::new_unchecked(buffer);
        t.check()?;
        Ok(t)
    }

    /// Fails unless the TPID is a VLAN TPID and [`CHECK_LEN`] bytes are present.
    pub fn check(&self) -> Result<(), Error> {
        let buf = self.buffer.as_ref();
        // Upstream looks at the TPID before the length: a short frame with another
        // type is simply "not a VLAN".
        if !is_vlan_tpid(be16(buf, field::TPID.start)) {
            return Err(Error::NotVlan);
        }
        if buf.len() < CHECK_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Tag protocol identifier.
    #[must_use]
    pub fn tpid(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TPID.start)
    }

    /// Tag control information as on the wire (PCP, DEI, VID).
    #[must_use]
    pub fn tci(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TCI.start)
    }

    /// The type field after the tag.
    #[must_use]
    pub fn next_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::NEXT_TYPE.start)
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

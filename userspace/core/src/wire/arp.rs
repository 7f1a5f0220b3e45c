//! ARP / RARP packets for Ethernet hardware and IPv4 protocol addresses (RFC 826).
//!
//! Only the Ethernet/IPv4 form (28 bytes) is understood, as upstream `arphdr_ok` plus the
//! hardware/protocol checks in `key_extract_l3l4`; [`Packet::check`] rejects anything else.

use core::fmt;

use super::ethernet::ether_type;
use super::{be16, byte, bytes};

/// Errors of ARP parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer than [`PACKET_LEN`] bytes.
    Truncated,
    /// Not Ethernet hardware with 6-byte addresses and IPv4 with 4-byte addresses.
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("arp: packet shorter than 28 bytes"),
            Error::Unsupported => f.write_str("arp: not an Ethernet/IPv4 ARP packet"),
        }
    }
}

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;
/// `ARPHRD_ETHER`.
pub const HTYPE_ETHERNET: u16 = 1;

/// A read-only view of an ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`Self::check`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Self::new_unchecked(buffer);
        p.check()?;
        Ok(p)
    }

    /// Fails unless the buffer holds a whole Ethernet/IPv4 ARP packet.
    pub fn check(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        if self.hardware_type() != HTYPE_ETHERNET
            || self.protocol_type() != ether_type::IPV4
            || self.hardware_len() != 6
            || self.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(())
    }

    /// Hardware type.
    #[must_use]
    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE.start)
    }

    /// Protocol type.
    #[must_use]
    pub fn protocol_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PTYPE.start)
    }

    /// Hardware address length.
    #[must_use]
    pub fn hardware_len(&self) -> u8 {
        byte(self.buffer.as_ref(), field::HLEN)
    }

    /// Protocol address length.
    #[must_use]
    pub fn protocol_len(&self) -> u8 {
        byte(self.buffer.as_ref(), field::PLEN)
    }

    /// Operation (1 request, 2 reply, ...).
    #[must_use]
    pub fn operation(&self) -> u16 {
        be16(self.buffer.as_ref(), field::OPER.start)
    }

    /// Sender hardware address.
    #[must_use]
    pub fn sender_hw_addr(&self) -> [u8; 6] {
        bytes(self.buffer.as_ref(), field::SHA.start)
    }

    /// Sender protocol address.
    #[must_use]
    pub fn sender_proto_addr(&self) -> [u8; 4] {
        bytes(self.buffer.as_ref(), field::SPA.start)
    }

    /// Target hardware address.
    #[must_use]
    pub fn target_hw_addr(&self) -> [u8; 6] {
        bytes(self.buffer.as_ref(), field::THA.start)
    }

    /// Target protocol address.
    #[must_use]
    pub fn target_proto_addr(&self) -> [u8; 4] {
        bytes(self.buffer.as_ref(), field::TPA.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // htype ptype hlen plen oper
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, // sha spa
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // tha tpa
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&REQ[..]).unwrap();
        assert_eq!(p.operation(), 1);
        assert_eq!(p.sender_hw_addr(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(p.sender_proto_addr(), [10, 0, 0, 1]);
        assert_eq!(p.target_hw_addr(), [0; 6]);
        assert_eq!(p.target_proto_addr(), [10, 0, 0, 2]);
    }

    #[test]
    fn rejects_short_and_foreign() {
        for n in 0..PACKET_LEN {
            assert_eq!(Packet::new_checked(&REQ[..n]), Err(Error::Truncated));
        }
        for (i, v) in [(1, 0x06), (3, 0x01), (4, 8), (5, 16)] {
            let mut b = REQ;
            b[i] = v;
            assert_eq!(
                Packet::new_checked(&b[..]),
                Err(Error::Unsupported),
                "byte {i}"
            );
        }
        assert!(!std::format!("{}", Error::Unsupported).is_empty());
    }
}

//! ARP / RARP packets for Ethernet hardware and IPv4 protocol addresses (RFC 826).
//!
//! Only the Ethernet/IPv4 form (28 bytes) is understood, as upstream `arphdr_ok` plus the
//! hardware/protocol checks in `key_extract_l3l4`; [`Packet::check`] rejects anything else.

use super::ethernet::ether_type;
use super::{check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of ARP parsing.
    pub enum Error {
        /// Fewer than [`PACKET_LEN`] bytes.
        Truncated => "arp: packet shorter than 28 bytes",
        /// Not Ethernet hardware with 6-byte addresses and IPv4 with 4-byte addresses.
        Unsupported => "arp: not an Ethernet/IPv4 ARP packet",
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

header_view! {
    /// A read-only view of an ARP packet.
    pub struct Packet;
    check: check -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the buffer holds a whole Ethernet/IPv4 ARP packet.
    pub fn check(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), PACKET_LEN, Error::Truncated)?;
        if self.hardware_type() != HTYPE_ETHERNET
            || self.protocol_type() != ether_type::IPV4
            || self.hardware_len() != 6
            || self.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(())
    }

    getters! {
        /// Hardware type.
        hardware_type: u16 = field::HTYPE.start;
        /// Protocol type.
        protocol_type: u16 = field::PTYPE.start;
        /// Hardware address length.
        hardware_len: u8 = field::HLEN;
        /// Protocol address length.
        protocol_len: u8 = field::PLEN;
        /// Operation (1 request, 2 reply, ...).
        operation: u16 = field::OPER.start;
        /// Sender hardware address.
        sender_hw_addr: [u8; 6] = field::SHA.start;
        /// Sender protocol address.
        sender_proto_addr: [u8; 4] = field::SPA.start;
        /// Target hardware address.
        target_hw_addr: [u8; 6] = field::THA.start;
        /// Target protocol address.
        target_proto_addr: [u8; 4] = field::TPA.start;
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

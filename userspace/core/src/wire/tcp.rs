//! The TCP header (RFC 9293).
//!
//! [`Packet::check_len`] applies upstream `tcphdr_ok`: the 20-byte fixed header must be present,
//! the data offset must be at least 5 and the options it announces must fit in the buffer.
//! [`Packet::flags`] is the 12-bit flags field the flow key stores (`TCP_FLAGS_BE16`).

use super::{be16, byte, check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of TCP parsing.
    pub enum Error {
        /// Fewer bytes than the fixed header or than the data offset claims.
        Truncated => "tcp: header truncated",
        /// Data offset below 5.
        BadHeaderLen => "tcp: data offset below 20 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    pub const FLAGS: Range<usize> = 12..14;
    pub const WIN_SIZE: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::URGENT.end;
/// Byte offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// TCP flag bits as stored in the flow key.
pub mod flags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE.
    pub const ECE: u16 = 0x040;
    /// CWR.
    pub const CWR: u16 = 0x080;
    /// NS (historic, RFC 3540).
    pub const NS: u16 = 0x100;
    /// The 12 bits the key keeps (`TCP_FLAGS_BE16`: everything but the data offset).
    pub const MASK: u16 = 0x0fff;
}

header_view! {
    /// A read-only view of a TCP header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the fixed header and the options announced by the data offset are present.
    pub fn check_len(&self) -> Result<(), Error> {
        let buf = self.buffer.as_ref();
        check_min_len(buf, HEADER_LEN, Error::Truncated)?;
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::BadHeaderLen);
        }
        check_min_len(buf, hl, Error::Truncated)
    }

    getters! {
        /// Source port.
        src_port: u16 = field::SRC_PORT.start;
        /// Destination port.
        dst_port: u16 = field::DST_PORT.start;
        /// Sequence number.
        seq_number: u32 = field::SEQ_NUM.start;
        /// Acknowledgment number.
        ack_number: u32 = field::ACK_NUM.start;
        /// Window size.
        window_len: u16 = field::WIN_SIZE.start;
        /// Checksum.
        checksum: u16 = field::CHECKSUM.start;
    }

    /// Header length in bytes (data offset * 4).
    #[must_use]
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), field::FLAGS.start) >> 4).saturating_mul(4)
    }

    /// The 12 flag bits ([`flags`]), reserved bits included as upstream.
    #[must_use]
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS.start) & flags::MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 40000 -> 80, seq 1, SYN, data offset 5.
    const HDR: [u8; 20] = [
        0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0x12, 0x34, 0, 0,
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (40000, 80));
        assert_eq!((p.seq_number(), p.ack_number()), (1, 0));
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.flags(), flags::SYN);
        assert_eq!(p.window_len(), 0xffff);
        assert_eq!(p.checksum(), 0x1234);
    }

    #[test]
    fn flags_keep_12_bits() {
        let mut h = HDR;
        h[12] = 0x5f; // data offset 5, reserved bits 111, NS
        h[13] = 0xff;
        assert_eq!(Packet::new_checked(&h[..]).unwrap().flags(), 0x0fff);
    }

    #[test]
    fn header_length_checks() {
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&HDR[..n]), Err(Error::Truncated));
        }
        for doff in 0..5u8 {
            let mut h = HDR;
            h[12] = doff << 4;
            assert_eq!(Packet::new_checked(&h[..]), Err(Error::BadHeaderLen));
        }
        let mut h = [0u8; 24];
        h[..20].copy_from_slice(&HDR);
        h[12] = 0x60;
        assert_eq!(Packet::new_checked(&h[..23]), Err(Error::Truncated));
        assert_eq!(Packet::new_checked(&h[..]).unwrap().header_len(), 24);
        assert!(!std::format!("{}", Error::BadHeaderLen).is_empty());
    }
}

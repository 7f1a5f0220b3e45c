//! The IPv4 header (RFC 791).
//!
//! [`Packet::check_len`] applies upstream `check_iphdr`: the 20-byte fixed header must be present,
//! the IHL must be at least 5 and the whole header (options included) must fit in the buffer.
//! As upstream, neither the version nor the total length field is validated.

use super::{be16, byte, check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of IPv4 parsing.
    pub enum Error {
        /// Fewer bytes than the fixed header or than the IHL claims.
        Truncated => "ipv4: header truncated",
        /// IHL below 5.
        BadHeaderLen => "ipv4: header length below 20 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Byte offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

const FLAG_MF: u16 = 0x2000;
const FLAG_DF: u16 = 0x4000;
const OFFSET_MASK: u16 = 0x1fff;

header_view! {
    /// A read-only view of an IPv4 header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the fixed header and the options announced by the IHL are present.
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
        /// The ToS byte (DSCP and ECN).
        tos: u8 = field::DSCP_ECN;
        /// Total length field.
        total_len: u16 = field::LENGTH.start;
        /// Identification field.
        ident: u16 = field::IDENT.start;
        /// Time to live.
        ttl: u8 = field::TTL;
        /// Protocol of the payload.
        protocol: u8 = field::PROTOCOL;
        /// Header checksum.
        checksum: u16 = field::CHECKSUM.start;
        /// Source address.
        src_addr: u32 = field::SRC_ADDR.start;
        /// Destination address.
        dst_addr: u32 = field::DST_ADDR.start;
    }

    /// Version field.
    #[must_use]
    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), field::VER_IHL) >> 4
    }

    /// Header length in bytes (IHL * 4).
    #[must_use]
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), field::VER_IHL) & 0x0f).saturating_mul(4)
    }

    /// Don't Fragment flag.
    #[must_use]
    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF.start) & FLAG_DF != 0
    }

    /// More Fragments flag.
    #[must_use]
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF.start) & FLAG_MF != 0
    }

    /// Fragment offset in 8-byte units.
    #[must_use]
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLG_OFF.start) & OFFSET_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 10.0.0.1 -> 10.0.0.2, TCP, DF, ttl 64, tos 0x2e, with a valid checksum.
    const HDR: [u8; 20] = [
        0x45, 0x2e, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
        0, 2,
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.tos(), 0x2e);
        assert_eq!(p.total_len(), 40);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 6);
        assert_eq!(p.checksum(), 0);
        assert_eq!(p.src_addr(), 0x0a00_0001);
        assert_eq!(p.dst_addr(), 0x0a00_0002);
    }

    #[test]
    fn fragment_fields() {
        let mut h = HDR;
        h[6] = 0x20 | 0x01;
        h[7] = 0x02;
        let p = Packet::new_checked(&h[..]).unwrap();
        assert!(p.more_frags());
        assert!(!p.dont_frag());
        assert_eq!(p.frag_offset(), 0x102);
    }

    #[test]
    fn header_length_checks() {
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&HDR[..n]), Err(Error::Truncated));
        }
        for ihl in 0..5u8 {
            let mut h = HDR;
            h[0] = 0x40 | ihl;
            assert_eq!(Packet::new_checked(&h[..]), Err(Error::BadHeaderLen));
        }
        let mut h = [0u8; 24];
        h[..20].copy_from_slice(&HDR);
        h[0] = 0x46;
        assert_eq!(Packet::new_checked(&h[..23]), Err(Error::Truncated));
        assert_eq!(Packet::new_checked(&h[..]).unwrap().header_len(), 24);
        // Version and total length are not validated (as upstream).
        h[0] = 0x05;
        h[2] = 0xff;
        assert!(Packet::new_checked(&h[..20]).is_ok());
        assert!(!std::format!("{}", Error::BadHeaderLen).is_empty());
    }
}

//! The SCTP common header (RFC 9260): ports, verification tag, CRC32c checksum.

use super::{check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of SCTP parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "sctp: common header shorter than 12 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const VTAG: Range<usize> = 4..8;
    pub const CHECKSUM: Range<usize> = 8..12;
}

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// Byte offset of the CRC32c field.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

header_view! {
    /// A read-only view of an SCTP common header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the 12-byte common header is present.
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Source port.
        src_port: u16 = field::SRC_PORT.start;
        /// Destination port.
        dst_port: u16 = field::DST_PORT.start;
        /// Verification tag.
        verification_tag: u32 = field::VTAG.start;
        /// CRC32c checksum as stored (little-endian on the wire; returned as read big-endian).
        checksum: u32 = field::CHECKSUM.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_length() {
        let b = [0x0b, 0x59, 0x0b, 0x5a, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (2905, 2906));
        assert_eq!(p.verification_tag(), 0xdead_beef);
        assert_eq!(p.checksum(), 0x0102_0304);
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&b[..n]), Err(Error::Truncated));
        }
        assert!(!std::format!("{}", Error::Truncated).is_empty());
    }
}

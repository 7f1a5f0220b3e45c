//! The UDP header (RFC 768): ports, length, checksum.

use super::{check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of UDP parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "udp: header shorter than 8 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// Byte offset of the checksum field.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

header_view! {
    /// A read-only view of a UDP header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the 8-byte header is present (the length field is not validated, as upstream).
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Source port.
        src_port: u16 = field::SRC_PORT.start;
        /// Destination port.
        dst_port: u16 = field::DST_PORT.start;
        /// Length field (header + payload).
        length: u16 = field::LENGTH.start;
        /// Checksum (0 = none, over IPv4).
        checksum: u16 = field::CHECKSUM.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_length() {
        let b = [0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0xab, 0xcd];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.length(), p.checksum()),
            (12345, 53, 12, 0xabcd)
        );
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&b[..n]), Err(Error::Truncated));
        }
        assert!(!std::format!("{}", Error::Truncated).is_empty());
    }
}

//! The ICMP (for IPv4) header: type, code, checksum and the 4-byte rest of header.
//!
//! Upstream `icmphdr_ok` requires the whole 8-byte `struct icmphdr`, so [`Packet::check_len`]
//! does too, although the flow key only uses the type and code.

use super::{check_min_len, getters, header_view, wire_error};

wire_error! {
    /// Errors of ICMP parsing.
    pub enum Error {
        /// Fewer than [`HEADER_LEN`] bytes.
        Truncated => "icmp: header shorter than 8 bytes",
    }
}

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
}

/// Length of the ICMP header.
pub const HEADER_LEN: usize = field::REST.end;

header_view! {
    /// A read-only view of an ICMP header.
    pub struct Packet;
    check: check_len -> Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Fails unless the 8-byte header is present.
    pub fn check_len(&self) -> Result<(), Error> {
        check_min_len(self.buffer.as_ref(), HEADER_LEN, Error::Truncated)
    }

    getters! {
        /// Message type.
        msg_type: u8 = field::TYPE;
        /// Message code.
        msg_code: u8 = field::CODE;
        /// Checksum.
        checksum: u16 = field::CHECKSUM.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_length() {
        let b = [8, 0, 0xf7, 0xfe, 0, 1, 0, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.checksum()), (8, 0, 0xf7fe));
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&b[..n]), Err(Error::Truncated));
        }
        assert!(!std::format!("{}", Error::Truncated).is_empty());
    }
}

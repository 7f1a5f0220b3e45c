//! The ICMP (for IPv4) header: type, code, checksum and the 4-byte rest of header.
//!
//! Upstream `icmphdr_ok` requires the whole 8-byte `struct icmphdr`, so [`Packet::check_len`]
//! does too, although the flow key only uses the type and code.

use core::fmt;

use super::{be16, byte};

/// Errors of ICMP parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer than [`HEADER_LEN`] bytes.
    Truncated,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("icmp: header shorter than 8 bytes"),
        }
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

/// A read-only view of an ICMP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Fails unless the 8-byte header is present.
    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Message type.
    #[must_use]
    pub fn msg_type(&self) -> u8 {
        byte(self.buffer.as_ref(), field::TYPE)
    }

    /// Message code.
    #[must_use]
    pub fn msg_code(&self) -> u8 {
        byte(self.buffer.as_ref(), field::CODE)
    }

    /// Checksum.
    #[must_use]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
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

//! The SCTP common header (RFC 9260): ports, verification tag, CRC32c checksum.

use core::fmt;

use super::{be16, be32};

/// Errors of SCTP parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer than [`HEADER_LEN`] bytes.
    Truncated,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("sctp: common header shorter than 12 bytes"),
        }
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

/// A read-only view of an SCTP common header.
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

    /// Fails unless the 12-byte common header is present.
    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Source port.
    #[must_use]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// Destination port.
    #[must_use]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// Verification tag.
    #[must_use]
    pub fn verification_tag(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VTAG.start)
    }

    /// CRC32c checksum as stored (little-endian on the wire; returned as read big-endian).
    #[must_use]
    pub fn checksum(&self) -> u32 {
        be32(self.buffer.as_ref(), field::CHECKSUM.start)
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

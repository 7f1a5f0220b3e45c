//! Big-endian cursor helpers for the wire codecs: a bounds-checked [`Reader`] whose truncation
//! error is chosen by the caller (a short action is `OFPBAC_BAD_LEN`, a short message
//! `OFPBRC_BAD_LEN`...), and [`Put`], an append-only writer on `Vec<u8>` with length patching.

use crate::error::{DecodeError, DecodeResult, OfpError};

/// A bounds-checked big-endian reader over one structure.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    short: OfpError,
}

impl<'a> Reader<'a> {
    /// A reader over `buf` that reports truncation as `short`.
    pub fn new(buf: &'a [u8], short: impl Into<OfpError>) -> Self {
        Reader { buf, short: short.into() }
    }

    fn truncated(&self, what: &str) -> DecodeError {
        DecodeError::new(self.short, format!("truncated {what}"))
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if n > self.buf.len() {
            return Err(self.truncated("structure"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    /// Takes a sub-reader over the next `n` bytes, reporting its truncation as `short`.
    pub fn sub(&mut self, n: usize, short: impl Into<OfpError>) -> DecodeResult<Reader<'a>> {
        Ok(Reader::new(self.bytes(n)?, short))
    }

    /// Takes everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Looks at the next `n` bytes without consuming them.
    pub fn peek(&self, n: usize) -> DecodeResult<&'a [u8]> {
        self.buf.get(..n).ok_or_else(|| self.truncated("structure"))
    }

    /// Skips `n` bytes (padding).
    pub fn skip(&mut self, n: usize) -> DecodeResult<()> {
        self.bytes(n).map(|_| ())
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        let b = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// Reads a `u8`.
    pub fn u8(&mut self) -> DecodeResult<u8> {
        Ok(u8::from_be_bytes(self.array()?))
    }
    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> DecodeResult<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> DecodeResult<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> DecodeResult<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// Reads a NUL-terminated fixed-length string field: at most `n - 1` bytes count (the
    /// last byte is the terminator even if the sender forgot it), and bytes that are not
    /// printable ASCII become `?` (names and descriptions are ASCII; this keeps the length).
    pub fn string(&mut self, n: usize) -> DecodeResult<String> {
        let b = self.bytes(n)?;
        let b = b.get(..n.saturating_sub(1)).unwrap_or_default();
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Ok(b.get(..end)
            .unwrap_or_default()
            .iter()
            .map(|&c| if (0x20..0x7f).contains(&c) { char::from(c) } else { '?' })
            .collect())
    }
}

/// Append-only big-endian writer.
pub trait Put {
    /// Appends a `u8`.
    fn put_u8(&mut self, v: u8);
    /// Appends a big-endian `u16`.
    fn put_u16(&mut self, v: u16);
    /// Appends a big-endian `u32`.
    fn put_u32(&mut self, v: u32);
    /// Appends a big-endian `u64`.
    fn put_u64(&mut self, v: u64);
    /// Appends `n` zero bytes.
    fn put_zeros(&mut self, n: usize);
    /// Appends `s` NUL-padded (or truncated, keeping a final NUL) to `n` bytes.
    fn put_string(&mut self, s: &str, n: usize);
    /// Zero-pads to a multiple of 8 bytes counted from `start`.
    fn pad8_from(&mut self, start: usize);
    /// Writes `len` as a big-endian u16 at `at`; fails if it does not fit.
    fn patch_u16(&mut self, at: usize, len: usize) -> Result<(), crate::error::EncodeError>;
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len().saturating_add(n), 0);
    }
    fn put_string(&mut self, s: &str, n: usize) {
        let b = s.as_bytes();
        let take = b.len().min(n.saturating_sub(1));
        self.extend_from_slice(b.get(..take).unwrap_or_default());
        self.put_zeros(n.saturating_sub(take));
    }
    fn pad8_from(&mut self, start: usize) {
        let len = self.len().saturating_sub(start);
        self.put_zeros(pad8(len).saturating_sub(len));
    }
    fn patch_u16(&mut self, at: usize, len: usize) -> Result<(), crate::error::EncodeError> {
        let v = u16::try_from(len)
            .map_err(|_| crate::error::EncodeError::TooLong(format!("length {len}")))?;
        if let Some(s) = self.get_mut(at..at.saturating_add(2)) {
            s.copy_from_slice(&v.to_be_bytes());
        }
        Ok(())
    }
}

/// `n` rounded up to a multiple of 8.
pub fn pad8(n: usize) -> usize {
    n.saturating_add(7) & !7
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BadRequest;

    #[test]
    fn reader_reports_its_error() {
        let mut r = Reader::new(&[1, 2, 3], BadRequest::BadLen);
        assert_eq!(r.u16().unwrap(), 0x0102);
        let e = r.u16().unwrap_err();
        assert_eq!(e.error, OfpError::BadRequest(BadRequest::BadLen));
        assert_eq!(r.remaining(), 1);
    }

    #[test]
    fn writer_pads_and_patches() {
        let mut v = Vec::new();
        v.put_u16(0);
        v.put_string("abc", 6);
        v.pad8_from(0);
        assert_eq!(v.len(), 8);
        v.patch_u16(0, 8).unwrap();
        assert_eq!(v, [0, 8, b'a', b'b', b'c', 0, 0, 0]);
        assert!(v.patch_u16(0, 70000).is_err());
        let mut s = Vec::new();
        s.put_string("abcdefgh", 4);
        assert_eq!(s, b"abc\0");
        let mut r = Reader::new(b"ab\xffdefgh", BadRequest::BadLen);
        assert_eq!(r.string(8).unwrap(), "ab?defg");
    }
}

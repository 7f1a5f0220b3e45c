//! Stream framing: collects bytes read from a stream and splits them into whole OpenFlow
//! messages using the header's length ([`rvs_openflow::codec::frame_len`]).

use std::io::{self, Read};

use rvs_openflow::codec::{frame_len, HEADER_LEN};

/// Largest read done at once.
const CHUNK: usize = 64 * 1024;

/// A receive buffer that yields whole messages. Messages are taken from a read offset, so
/// taking one costs its own length, not the rest of the buffer's; the consumed prefix is
/// dropped when the buffer empties or before the next read.
#[derive(Debug, Default)]
pub struct FrameBuf {
    buf: Vec<u8>,
    /// Start of the bytes not yet taken.
    start: usize,
}

/// The stream carried a header whose length is shorter than a header: it cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("corrupt OpenFlow stream: message length {0} < 8")]
pub struct FrameError(pub usize);

impl FrameBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        FrameBuf::default()
    }

    /// Appends bytes received.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// Drops the bytes already taken.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// Reads once from `r` into the buffer; returns the byte count (0: end of stream).
    pub fn fill(&mut self, r: &mut impl Read) -> io::Result<usize> {
        self.compact();
        let old = self.buf.len();
        self.buf.resize(old.saturating_add(CHUNK), 0);
        let res = r.read(self.buf.get_mut(old..).unwrap_or_default());
        let n = *res.as_ref().unwrap_or(&0);
        self.buf.truncate(old.saturating_add(n));
        res
    }

    /// Takes the next complete message out of the buffer, if one has fully arrived.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        self.next_frame_with(<[u8]>::to_vec)
    }

    /// Takes the next complete message out of the buffer, if one has fully arrived, handing
    /// it to `f` in place (no copy: decoding straight from the receive buffer).
    pub fn next_frame_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, FrameError> {
        let avail = self.buf.get(self.start..).unwrap_or_default();
        let Some(len) = frame_len(avail) else { return Ok(None) };
        if len < HEADER_LEN {
            return Err(FrameError(len));
        }
        let Some(frame) = avail.get(..len) else { return Ok(None) };
        let r = f(frame);
        self.start = self.start.saturating_add(len);
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(r))
    }

    /// Like [`FrameBuf::next_frame_with`], but the message is taken out of the buffer only
    /// when `f` returns `Some` (otherwise it stays for the next call).
    pub fn next_frame_if<R>(&mut self, f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
        let avail = self.buf.get(self.start..).unwrap_or_default();
        let len = frame_len(avail).filter(|&l| l >= HEADER_LEN)?;
        let r = f(avail.get(..len)?)?;
        self.start = self.start.saturating_add(len);
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Some(r)
    }

    /// Bytes buffered that do not yet form a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins_messages() {
        let mut f = FrameBuf::new();
        let a = [4u8, 2, 0, 10, 0, 0, 0, 1, 0xaa, 0xbb];
        let b = [4u8, 3, 0, 8, 0, 0, 0, 2];
        let mut all = a.to_vec();
        all.extend_from_slice(&b);
        // Byte by byte: nothing until the first message is complete.
        for (i, byte) in all.iter().enumerate() {
            f.extend(&[*byte]);
            let got = f.next_frame().unwrap();
            if i == a.len() - 1 {
                assert_eq!(got.as_deref(), Some(&a[..]));
            } else if i == all.len() - 1 {
                assert_eq!(got.as_deref(), Some(&b[..]));
            } else {
                assert_eq!(got, None, "at byte {i}");
            }
        }
        assert_eq!(f.pending(), 0);
        // Two at once, read through fill().
        let mut r = &all[..];
        assert_eq!(f.fill(&mut r).unwrap(), all.len());
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&a[..]));
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&b[..]));
        assert_eq!(f.next_frame().unwrap(), None);
        assert_eq!(f.fill(&mut r).unwrap(), 0);
    }

    #[test]
    fn message_split_after_a_taken_one() {
        let a = [4u8, 2, 0, 10, 0, 0, 0, 1, 0xaa, 0xbb];
        let b = [4u8, 14, 0, 12, 0, 0, 0, 2, 1, 2, 3, 4];
        let mut f = FrameBuf::new();
        let mut first = a.to_vec();
        first.extend_from_slice(&b[..5]);
        let mut r = &first[..];
        f.fill(&mut r).unwrap();
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&a[..]));
        assert_eq!(f.next_frame().unwrap(), None);
        assert_eq!(f.pending(), 5, "only the start of the second message is left");
        let mut r = &b[5..];
        assert_eq!(f.fill(&mut r).unwrap(), 7);
        assert_eq!(f.pending(), b.len());
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&b[..]));
        assert_eq!(f.pending(), 0);
        assert_eq!(f.next_frame().unwrap(), None);
    }

    #[test]
    fn conditional_take_leaves_refused_messages() {
        let a = [4u8, 2, 0, 10, 0, 0, 0, 1, 0xaa, 0xbb];
        let b = [4u8, 3, 0, 8, 0, 0, 0, 2];
        let mut f = FrameBuf::new();
        f.extend(&a);
        f.extend(&b[..4]);
        assert_eq!(f.next_frame_if(|m| (m[1] == 3).then_some(())), None, "refused: stays");
        assert_eq!(f.next_frame_if(|m| (m[1] == 2).then_some(m.len())), Some(a.len()));
        assert_eq!(f.next_frame_if(|_| Some(())), None, "incomplete");
        f.extend(&b[4..]);
        assert_eq!(f.next_frame_with(<[u8]>::to_vec).unwrap().as_deref(), Some(&b[..]));
        assert_eq!(f.pending(), 0);
        f.extend(&[4, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(f.next_frame_if(|_| Some(())), None, "corrupt: left for next_frame to report");
        assert_eq!(f.next_frame(), Err(FrameError(4)));
    }

    #[test]
    fn corrupt_length_is_an_error() {
        let mut f = FrameBuf::new();
        f.extend(&[4, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(f.next_frame(), Err(FrameError(4)));
    }
}

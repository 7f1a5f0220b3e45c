//! Netlink attribute (`struct nlattr`) primitives: a bounds-checked reader and a writer into a
//! caller-provided buffer. The OVS attribute sets (`OVS_KEY_ATTR_*`, `OVS_ACTION_ATTR_*`, ...) are
//! built on these.
//!
//! Wire format: a 4-byte header `{ u16 nla_len; u16 nla_type }` in host byte order, `nla_len`
//! counting header + payload, each attribute padded to a multiple of 4 bytes. The top two bits of
//! `nla_type` are the `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER` flags.

/// Size of `struct nlattr`.
pub const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED`.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// Mask of `nla_type` without the flag bits.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Rounds `len` up to the netlink alignment (4), saturating.
#[must_use]
pub const fn align(len: usize) -> usize {
    match len.checked_add(3) {
        Some(l) => l & !3,
        None => usize::MAX & !3,
    }
}

/// Errors of the primitive layer; higher layers wrap them with the attribute's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NlaError {
    /// An attribute header or its declared length runs past the buffer, or `nla_len` < 4.
    Truncated,
    /// The output buffer is too small.
    NoSpace,
}

/// One attribute: its type (flags stripped) and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// `nla_type & NLA_TYPE_MASK`.
    pub kind: u16,
    /// Whether `NLA_F_NESTED` was set.
    pub nested: bool,
    /// The payload (without header or padding).
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The payload as a native-endian `u32`, if it is exactly 4 bytes.
    #[must_use]
    pub fn u32_ne(&self) -> Option<u32> {
        self.payload.try_into().ok().map(u32::from_ne_bytes)
    }

    /// The payload as a fixed-size array, if the length matches exactly.
    #[must_use]
    pub fn array<const N: usize>(&self) -> Option<[u8; N]> {
        self.payload.try_into().ok()
    }

    /// Iterator over the attributes nested in this one's payload.
    #[must_use]
    pub fn nested_attrs(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// Iterator over a sequence of attributes; yields `Err(Truncated)` once and stops on bad framing.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// Iterates over `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, NlaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let hdr: [u8; 4] = self.rest.get(..NLA_HDRLEN)?.try_into().ok()?;
            let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
            let ty = u16::from_ne_bytes([hdr[2], hdr[3]]);
            if len < NLA_HDRLEN {
                return None;
            }
            let payload = self.rest.get(NLA_HDRLEN..len)?;
            // The final attribute's padding may be absent.
            let next = self.rest.get(align(len)..).unwrap_or(&[]);
            Some((Attr { kind: ty & NLA_TYPE_MASK, nested: ty & NLA_F_NESTED != 0, payload }, next))
        })();
        match parsed {
            Some((attr, next)) => {
                self.rest = next;
                Some(Ok(attr))
            }
            None => {
                self.rest = &[];
                Some(Err(NlaError::Truncated))
            }
        }
    }
}

/// Writes attributes into a caller-provided buffer.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

/// Marks an open nest; pass it back to [`Writer::end_nest`].
#[derive(Debug)]
#[must_use]
pub struct Nest(usize);

impl<'b> Writer<'b> {
    /// A writer that fills `buf` from the start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn header(&mut self, kind: u16, total: usize) -> Result<(), NlaError> {
        let nla_len = u16::try_from(total).map_err(|_| NlaError::NoSpace)?;
        let end = self.len.checked_add(align(total)).ok_or(NlaError::NoSpace)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(NlaError::NoSpace)?;
        dst.fill(0);
        let (h, _) = dst.split_at_mut(NLA_HDRLEN.min(dst.len()));
        let mut bytes = [0u8; 4];
        bytes[..2].copy_from_slice(&nla_len.to_ne_bytes());
        bytes[2..].copy_from_slice(&kind.to_ne_bytes());
        if h.len() != NLA_HDRLEN {
            return Err(NlaError::NoSpace);
        }
        h.copy_from_slice(&bytes);
        Ok(())
    }

    /// Appends one attribute with `payload`.
    pub fn put(&mut self, kind: u16, payload: &[u8]) -> Result<(), NlaError> {
        let total = NLA_HDRLEN.checked_add(payload.len()).ok_or(NlaError::NoSpace)?;
        self.header(kind, total)?;
        let start = self.len.saturating_add(NLA_HDRLEN);
        let dst = self
            .buf
            .get_mut(start..start.saturating_add(payload.len()))
            .ok_or(NlaError::NoSpace)?;
        dst.copy_from_slice(payload);
        self.len = self.len.saturating_add(align(total));
        Ok(())
    }

    /// Appends a native-endian `u32` attribute.
    pub fn put_u32(&mut self, kind: u16, v: u32) -> Result<(), NlaError> {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Appends a flag (empty) attribute.
    pub fn put_flag(&mut self, kind: u16) -> Result<(), NlaError> {
        self.put(kind, &[])
    }

    /// Opens a nested attribute; attributes written until [`Self::end_nest`] go inside it.
    pub fn begin_nest(&mut self, kind: u16) -> Result<Nest, NlaError> {
        let start = self.len;
        self.header(kind | NLA_F_NESTED, NLA_HDRLEN)?;
        self.len = self.len.saturating_add(NLA_HDRLEN);
        Ok(Nest(start))
    }

    /// Opens a nested attribute without `NLA_F_NESTED` in its type, as upstream Open vSwitch
    /// emits nests (the kernel's `nla_nest_start_noflag`, ovs-vswitchd's `nl_msg_start_nested`).
    pub fn begin_nest_noflag(&mut self, kind: u16) -> Result<Nest, NlaError> {
        let start = self.len;
        self.header(kind, NLA_HDRLEN)?;
        self.len = self.len.saturating_add(NLA_HDRLEN);
        Ok(Nest(start))
    }

    /// Closes a nest, fixing up its length.
    pub fn end_nest(&mut self, nest: Nest) -> Result<(), NlaError> {
        let total = self.len.checked_sub(nest.0).ok_or(NlaError::NoSpace)?;
        let nla_len = u16::try_from(total).map_err(|_| NlaError::NoSpace)?;
        let dst = self.buf.get_mut(nest.0..nest.0.saturating_add(2)).ok_or(NlaError::NoSpace)?;
        dst.copy_from_slice(&nla_len.to_ne_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trip() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.put_u32(1, 7).unwrap();
        w.put(2, &[0xaa, 0xbb, 0xcc]).unwrap();
        let n = w.begin_nest(3).unwrap();
        w.put_flag(4).unwrap();
        w.end_nest(n).unwrap();
        let len = w.len();
        assert_eq!(len, 8 + 8 + 8);
        let attrs: std::vec::Vec<_> = Attrs::new(&buf[..len]).collect::<Result<_, _>>().unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0].u32_ne(), Some(7));
        assert_eq!(attrs[1].payload, &[0xaa, 0xbb, 0xcc]);
        assert!(attrs[2].nested && attrs[2].kind == 3);
        let inner: std::vec::Vec<_> = attrs[2].nested_attrs().collect();
        assert_eq!(inner, [Ok(Attr { kind: 4, nested: false, payload: &[] })]);
    }

    #[test]
    fn truncated_inputs_error_without_panic() {
        // Length past the end, length below the header size, a lone partial header.
        for bad in [&[8u8, 0, 1, 0, 0][..], &[2, 0, 1, 0], &[4, 0]] {
            let mut it = Attrs::new(bad);
            assert_eq!(it.next(), Some(Err(NlaError::Truncated)));
            assert_eq!(it.next(), None);
        }
        // The last attribute's padding may be missing.
        let ok = [5u8, 0, 1, 0, 9];
        assert_eq!(Attrs::new(&ok).count(), 1);
    }

    #[test]
    fn writer_reports_no_space() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.put_u32(1, 1), Err(NlaError::NoSpace));
        assert!(w.is_empty());
    }
}

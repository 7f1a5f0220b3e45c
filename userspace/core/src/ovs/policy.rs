//! Table-driven attribute validation, the counterpart of the kernel's `struct nla_policy`.
//!
//! Each attribute set (`OVS_FLOW_ATTR_*`, `OVS_VPORT_ATTR_*`, ...) is described by a table indexed
//! by type number: the attribute's upstream name, its expected payload length and whether rvs
//! implements it. [`parse`] walks a buffer once, rejecting bad framing, unknown types, duplicates
//! and bad lengths with an error that names the attribute, and returns the payloads by type.

use crate::nla::{Attr, Attrs};

use super::error::{CodecError, ErrorKind};

/// Expected payload shape of one attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    /// Not a member of the set (reserved or `*_UNSPEC`): rejected as unknown.
    Invalid,
    /// Exactly this many bytes.
    Exact(usize),
    /// A flag: no payload.
    Flag,
    /// At least this many bytes.
    Min(usize),
    /// Between `.0` and `.1` bytes inclusive.
    Range(usize, usize),
    /// A nested attribute set (any length; the caller validates the contents).
    Nested,
    /// Any payload.
    Any,
    /// A NUL-terminated string of at most this many characters (excluding the NUL).
    NulString(usize),
    /// A non-empty array of native-endian `u32`s.
    U32Array,
    /// Padding (`*_ATTR_PAD`): accepted and ignored.
    Pad,
}

/// Policy for one attribute type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrPolicy {
    /// Upstream name, used in errors.
    pub name: &'static str,
    /// Expected payload.
    pub len: Len,
    /// Whether rvs implements it; `false` gives [`ErrorKind::Unsupported`] after the length check.
    pub supported: bool,
}

impl AttrPolicy {
    /// A supported attribute.
    #[must_use]
    pub const fn new(name: &'static str, len: Len) -> Self {
        Self { name, len, supported: true }
    }

    /// An attribute known upstream but not implemented by rvs.
    #[must_use]
    pub const fn unsupported(name: &'static str, len: Len) -> Self {
        Self { name, len, supported: false }
    }

    /// A type number that is not part of the set.
    #[must_use]
    pub const fn invalid(name: &'static str) -> Self {
        Self { name, len: Len::Invalid, supported: false }
    }

    /// Checks a payload against this policy (length and, for strings, termination).
    pub fn check(&self, ty: u16, payload: &[u8]) -> Result<(), CodecError> {
        let got = payload.len();
        let err = |kind| Err(CodecError::new(self.name, kind));
        match self.len {
            Len::Invalid => return err(ErrorKind::Unknown { ty }),
            Len::Exact(want) if got != want => return err(ErrorKind::BadLength { got, want }),
            Len::Flag if got != 0 => return err(ErrorKind::BadLength { got, want: 0 }),
            Len::Min(min) if got < min => return err(ErrorKind::TooShort { got, min }),
            Len::Range(min, _) if got < min => return err(ErrorKind::TooShort { got, min }),
            Len::Range(_, max) if got > max => return err(ErrorKind::TooLong { got, max }),
            Len::U32Array if got == 0 => return err(ErrorKind::TooShort { got, min: 4 }),
            Len::U32Array if got % 4 != 0 => {
                return err(ErrorKind::BadLength { got, want: got.saturating_add(3) & !3 })
            }
            Len::NulString(max) => {
                let n = payload.iter().position(|&b| b == 0).ok_or(CodecError::new(
                    self.name,
                    ErrorKind::BadString,
                ))?;
                if n > max {
                    return err(ErrorKind::TooLong { got: n, max });
                }
            }
            _ => {}
        }
        if self.supported || self.len == Len::Pad {
            Ok(())
        } else {
            err(ErrorKind::Unsupported)
        }
    }
}

/// The payloads of a parsed attribute set, indexed by type number.
#[derive(Clone, Copy, Debug)]
pub struct Parsed<'a, const N: usize> {
    slots: [Option<&'a [u8]>; N],
}

impl<'a, const N: usize> Parsed<'a, N> {
    /// The payload of attribute `ty`, if present.
    #[must_use]
    pub fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.slots.get(usize::from(ty)).copied().flatten()
    }

    /// Whether attribute `ty` is present.
    #[must_use]
    pub fn has(&self, ty: u16) -> bool {
        self.get(ty).is_some()
    }

    /// Attribute `ty` as a native-endian `u32` (policy guarantees the length).
    #[must_use]
    pub fn u32(&self, ty: u16) -> Option<u32> {
        self.get(ty).and_then(|p| p.try_into().ok()).map(u32::from_ne_bytes)
    }

    /// Attribute `ty` as a native-endian `u16`.
    #[must_use]
    pub fn u16(&self, ty: u16) -> Option<u16> {
        self.get(ty).and_then(|p| p.try_into().ok()).map(u16::from_ne_bytes)
    }

    /// Attribute `ty` as a native-endian `u64`.
    #[must_use]
    pub fn u64(&self, ty: u16) -> Option<u64> {
        self.get(ty).and_then(|p| p.try_into().ok()).map(u64::from_ne_bytes)
    }

    /// Attribute `ty` as a native-endian `i32`.
    #[must_use]
    pub fn i32(&self, ty: u16) -> Option<i32> {
        self.get(ty).and_then(|p| p.try_into().ok()).map(i32::from_ne_bytes)
    }

    /// Attribute `ty` as a NUL-terminated string (up to the first NUL), if valid UTF-8.
    #[must_use]
    pub fn str(&self, ty: u16) -> Option<&'a str> {
        let p = self.get(ty)?;
        let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
        core::str::from_utf8(p.get(..end)?).ok()
    }
}

/// The policy entry for `ty`, or an "unknown" entry named after the set.
#[must_use]
pub fn lookup(set: &'static str, table: &[AttrPolicy], ty: u16) -> AttrPolicy {
    table.get(usize::from(ty)).copied().unwrap_or(AttrPolicy::invalid(set))
}

/// Validates every attribute of `buf` against `table` and collects the payloads by type.
/// `set` names the attribute set (e.g. `"OVS_FLOW_ATTR"`) in framing errors.
pub fn parse<'a, const N: usize>(
    buf: &'a [u8],
    set: &'static str,
    table: &[AttrPolicy; N],
) -> Result<Parsed<'a, N>, CodecError> {
    let mut out = Parsed { slots: [None; N] };
    for attr in Attrs::new(buf) {
        let Attr { kind, payload, .. } = attr.map_err(|e| CodecError::from_nla(set, e))?;
        let pol = lookup(set, table, kind);
        pol.check(kind, payload)?;
        if pol.len == Len::Pad {
            continue;
        }
        let slot = out
            .slots
            .get_mut(usize::from(kind))
            .ok_or(CodecError::new(set, ErrorKind::Unknown { ty: kind }))?;
        if slot.is_some() {
            return Err(CodecError::new(pol.name, ErrorKind::Duplicate));
        }
        *slot = Some(payload);
    }
    Ok(out)
}

/// Iterates over the native-endian `u32`s of a [`Len::U32Array`] payload.
pub fn u32s(payload: &[u8]) -> impl Iterator<Item = u32> + '_ {
    payload.chunks_exact(4).filter_map(|c| c.try_into().ok()).map(u32::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::Writer;

    const T: [AttrPolicy; 6] = [
        AttrPolicy::invalid("T_UNSPEC"),
        AttrPolicy::new("T_U32", Len::Exact(4)),
        AttrPolicy::new("T_FLAG", Len::Flag),
        AttrPolicy::new("T_NAME", Len::NulString(3)),
        AttrPolicy::unsupported("T_OLD", Len::Exact(2)),
        AttrPolicy::new("T_PAD", Len::Pad),
    ];

    fn build(f: impl FnOnce(&mut Writer<'_>)) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        f(&mut w);
        let n = w.len();
        buf[..n].to_vec()
    }

    #[test]
    fn accepts_valid_set() {
        let b = build(|w| {
            w.put_u32(1, 9).unwrap();
            w.put_flag(2).unwrap();
            w.put(3, b"ab\0").unwrap();
            w.put(5, &[0; 4]).unwrap();
        });
        let p = parse(&b, "T", &T).unwrap();
        assert_eq!(p.u32(1), Some(9));
        assert!(p.has(2));
        assert_eq!(p.str(3), Some("ab"));
        assert!(!p.has(4));
        assert!(!p.has(5));
    }

    #[test]
    fn rejections_name_the_attribute() {
        let cases: [(std::vec::Vec<u8>, CodecError); 7] = [
            (build(|w| w.put(1, &[0; 3]).unwrap()), CodecError::new("T_U32", ErrorKind::BadLength { got: 3, want: 4 })),
            (build(|w| w.put(2, &[0]).unwrap()), CodecError::new("T_FLAG", ErrorKind::BadLength { got: 1, want: 0 })),
            (build(|w| { w.put_u32(1, 1).unwrap(); w.put_u32(1, 2).unwrap(); }), CodecError::new("T_U32", ErrorKind::Duplicate)),
            (build(|w| w.put(9, &[]).unwrap()), CodecError::new("T", ErrorKind::Unknown { ty: 9 })),
            (build(|w| w.put(0, &[]).unwrap()), CodecError::new("T_UNSPEC", ErrorKind::Unknown { ty: 0 })),
            (build(|w| w.put(4, &[0, 0]).unwrap()), CodecError::new("T_OLD", ErrorKind::Unsupported)),
            (build(|w| w.put(3, b"abcd\0").unwrap()), CodecError::new("T_NAME", ErrorKind::TooLong { got: 4, max: 3 })),
        ];
        for (buf, want) in cases {
            assert_eq!(parse(&buf, "T", &T).unwrap_err(), want);
        }
        let unterminated = build(|w| w.put(3, b"ab").unwrap());
        assert_eq!(parse(&unterminated, "T", &T).unwrap_err().kind, ErrorKind::BadString);
        assert_eq!(parse(&[8, 0, 1, 0], "T", &T).unwrap_err(), CodecError::new("T", ErrorKind::Truncated));
    }
}

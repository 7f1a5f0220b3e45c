//! The codec's error type: every failure names the netlink attribute it concerns and maps to the
//! errno the upstream datapath would return for it (almost always `EINVAL`).

use core::fmt;

use crate::nla::NlaError;

/// `EINVAL`.
pub const EINVAL: i32 = 22;
/// `EOVERFLOW` (upstream's answer to action lists nested too deeply).
pub const EOVERFLOW: i32 = 75;
/// `EMSGSIZE` (output buffer too small).
pub const EMSGSIZE: i32 = 90;

/// What went wrong with an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The attribute framing (header or declared length) runs past its container.
    Truncated,
    /// Payload length differs from the fixed size the policy requires.
    BadLength {
        /// Payload length received.
        got: usize,
        /// Payload length required.
        want: usize,
    },
    /// Payload shorter than the policy's minimum.
    TooShort {
        /// Payload length received.
        got: usize,
        /// Minimum payload length.
        min: usize,
    },
    /// Payload longer than the policy's maximum.
    TooLong {
        /// Payload length received.
        got: usize,
        /// Maximum payload length.
        max: usize,
    },
    /// The attribute appears twice in one set.
    Duplicate,
    /// The attribute type number is not part of the set.
    Unknown {
        /// The type number received.
        ty: u16,
    },
    /// A known attribute the rvs datapath does not implement (upstream semantics: `EINVAL`, so
    /// that ovs-vswitchd's feature probes see it as unsupported).
    Unsupported,
    /// A required attribute is absent.
    Missing,
    /// The payload value is out of range or inconsistent with the rest of the message.
    BadValue,
    /// The attribute is well formed but not allowed here (e.g. a mask attribute whose key
    /// prerequisites are not exact-matched, or a `set` target the flow cannot support).
    NotAllowed,
    /// Nested action lists are deeper than upstream's limit.
    TooDeep,
    /// A string attribute is not NUL-terminated (or not valid text).
    BadString,
    /// The output buffer is too small.
    NoSpace,
}

/// A codec error: the attribute (upstream name, e.g. `"OVS_KEY_ATTR_IPV4"`) and what is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecError {
    /// Upstream name of the attribute concerned.
    pub attr: &'static str,
    /// What is wrong with it.
    pub kind: ErrorKind,
}

impl CodecError {
    /// An error about `attr`.
    #[must_use]
    pub const fn new(attr: &'static str, kind: ErrorKind) -> Self {
        Self { attr, kind }
    }

    /// Wraps a primitive-layer error with the name of the attribute set being read or written.
    #[must_use]
    pub const fn from_nla(attr: &'static str, e: NlaError) -> Self {
        match e {
            NlaError::Truncated => Self::new(attr, ErrorKind::Truncated),
            NlaError::NoSpace => Self::new(attr, ErrorKind::NoSpace),
        }
    }

    /// The (positive) errno the upstream datapath returns for this error.
    #[must_use]
    pub fn errno(&self) -> i32 {
        match self.kind {
            ErrorKind::TooDeep => EOVERFLOW,
            ErrorKind::NoSpace => EMSGSIZE,
            _ => EINVAL,
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.attr)?;
        match self.kind {
            ErrorKind::Truncated => f.write_str("truncated attribute"),
            ErrorKind::BadLength { got, want } => {
                write!(f, "bad length {got}, expected {want}")
            }
            ErrorKind::TooShort { got, min } => write!(f, "length {got} below minimum {min}"),
            ErrorKind::TooLong { got, max } => write!(f, "length {got} above maximum {max}"),
            ErrorKind::Duplicate => f.write_str("duplicate attribute"),
            ErrorKind::Unknown { ty } => write!(f, "unknown attribute type {ty}"),
            ErrorKind::Unsupported => f.write_str("not supported by this datapath"),
            ErrorKind::Missing => f.write_str("required attribute missing"),
            ErrorKind::BadValue => f.write_str("invalid value"),
            ErrorKind::NotAllowed => f.write_str("not allowed here"),
            ErrorKind::TooDeep => f.write_str("action lists nested too deeply"),
            ErrorKind::BadString => f.write_str("not a NUL-terminated string"),
            ErrorKind::NoSpace => f.write_str("output buffer too small"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_names_the_attribute() {
        let e = CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadLength { got: 7, want: 12 });
        assert_eq!(e.to_string(), "OVS_KEY_ATTR_IPV4: bad length 7, expected 12");
        assert_eq!(e.errno(), EINVAL);
    }

    #[test]
    fn errno_mapping() {
        assert_eq!(CodecError::new("x", ErrorKind::TooDeep).errno(), EOVERFLOW);
        assert_eq!(CodecError::new("x", ErrorKind::NoSpace).errno(), EMSGSIZE);
        assert_eq!(CodecError::new("x", ErrorKind::Unsupported).errno(), EINVAL);
        assert_eq!(
            CodecError::from_nla("OVS_FLOW_ATTR_KEY", NlaError::Truncated),
            CodecError::new("OVS_FLOW_ATTR_KEY", ErrorKind::Truncated)
        );
    }
}

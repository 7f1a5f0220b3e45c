//! Read-only views of the packet headers the flow key extractor understands.
//!
//! One file per protocol, in the style of smoltcp's `src/wire/`: a `Packet`/`Frame` wrapper over
//! a byte buffer, `new_checked` validating the length once (`check_len`), field offsets as byte
//! ranges in a private `field` module, and big-endian accessors. Higher-level parsing that upstream
//! Open vSwitch does in `net/openvswitch/flow.c` (the IPv6 extension header walk, the LLC/SNAP
//! ethertype resolution, Neighbor Discovery options) lives beside the header it belongs to.
//!
//! Nothing here allocates or panics: accessors read through [`be16`]/[`be32`]/[`bytes`], which
//! return zeros for out-of-range offsets (unreachable after `check_len`, but the lints forbid
//! indexing). Each module has its own error enum.
//!
//! The parts every view shares are written once, here: `header_view!` declares the view type
//! with `new_unchecked`/`new_checked`/`into_inner`, `getters!` turns a list of fields into
//! big-endian accessors, `wire_error!` declares an error enum with its `Display`, and
//! [`check_min_len`] is the "enough bytes" test every `check_len` starts with. Each protocol
//! file keeps its `field` ranges, its `check_len` (or `check`) and the accessors that are more
//! than a plain read.

pub mod arp;
pub mod ethernet;
pub mod icmp;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod vlan;

/// IP protocol numbers (IPv4 `protocol` / IPv6 `next header`) used by the extractor.
pub mod ip_proto {
    /// IPv6 Hop-by-Hop Options.
    pub const HOPOPTS: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 Routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload.
    pub const ESP: u8 = 50;
    /// Authentication Header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 No Next Header.
    pub const NONE: u8 = 59;
    /// IPv6 Destination Options.
    pub const DSTOPTS: u8 = 60;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// Declares a read-only header view `$name<T: AsRef<[u8]>>` over a byte buffer, smoltcp style:
/// `new_unchecked`, `new_checked` (which runs the named check method, written by the protocol
/// file) and `into_inner`. The view's field is `buffer`.
macro_rules! header_view {
    ($(#[$attr:meta])* pub struct $name:ident; check: $check:ident -> $err:ty;) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checks.
            pub const fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            #[doc = concat!("Wraps `buffer` after [`Self::", stringify!($check), "`].")]
            pub fn new_checked(buffer: T) -> Result<Self, $err> {
                let view = Self::new_unchecked(buffer);
                view.$check()?;
                Ok(view)
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}
pub(crate) use header_view;

/// Accessors of a `header_view!` type, one per line: `name: Type = offset;` reads a `Type`
/// ([`FieldValue`]: `u8`, big-endian `u16`/`u32`, or a byte array) at byte `offset` of the
/// buffer. Used inside the view's `impl` block.
macro_rules! getters {
    ($($(#[$attr:meta])* $name:ident: $ty:ty = $at:expr;)*) => {
        $(
            $(#[$attr])*
            #[must_use]
            pub fn $name(&self) -> $ty {
                <$ty as $crate::wire::FieldValue>::read(self.buffer.as_ref(), $at)
            }
        )*
    };
}
pub(crate) use getters;

/// Declares a protocol's error enum, `Copy` and comparable, with a `Display` giving each
/// variant's message: `Variant => "message",` (doc comments allowed on each variant).
macro_rules! wire_error {
    ($(#[$attr:meta])* pub enum $name:ident { $($(#[$vattr:meta])* $variant:ident => $msg:literal,)+ }) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vattr])* $variant,)+
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => $msg,)+
                })
            }
        }
    };
}
pub(crate) use wire_error;

/// `Err(err)` unless `buf` holds at least `len` bytes: the `check_len` of fixed-size headers.
///
/// # Errors
/// `err` when `buf` is shorter than `len`.
pub fn check_min_len<E>(buf: &[u8], len: usize, err: E) -> Result<(), E> {
    if buf.len() < len {
        Err(err)
    } else {
        Ok(())
    }
}

/// A value a header field holds: read big-endian at a byte offset, zero when out of range.
pub trait FieldValue: Sized {
    /// The value at `at` in `buf`, or zero if `buf` is too short.
    fn read(buf: &[u8], at: usize) -> Self;
}

impl FieldValue for u8 {
    fn read(buf: &[u8], at: usize) -> Self {
        byte(buf, at)
    }
}

impl FieldValue for u16 {
    fn read(buf: &[u8], at: usize) -> Self {
        be16(buf, at)
    }
}

impl FieldValue for u32 {
    fn read(buf: &[u8], at: usize) -> Self {
        be32(buf, at)
    }
}

impl<const N: usize> FieldValue for [u8; N] {
    fn read(buf: &[u8], at: usize) -> Self {
        bytes(buf, at)
    }
}

/// Big-endian `u16` at `at`; 0 if `buf` is too short.
#[must_use]
pub fn be16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(bytes::<2>(buf, at))
}

/// Big-endian `u32` at `at`; 0 if `buf` is too short.
#[must_use]
pub fn be32(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes::<4>(buf, at))
}

/// The byte at `at`; 0 if `buf` is too short.
#[must_use]
pub fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

/// `N` bytes starting at `at`; all zero if `buf` is too short.
#[must_use]
pub fn bytes<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| buf.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_big_endian_and_zero_out_of_range() {
        let b = [0x12, 0x34, 0x56, 0x78, 0x9a];
        assert_eq!(be16(&b, 0), 0x1234);
        assert_eq!(be16(&b, 3), 0x789a);
        assert_eq!(be16(&b, 4), 0);
        assert_eq!(be32(&b, 1), 0x3456_789a);
        assert_eq!(be32(&b, 2), 0);
        assert_eq!(byte(&b, 4), 0x9a);
        assert_eq!(byte(&b, 5), 0);
        assert_eq!(bytes::<2>(&b, usize::MAX), [0, 0]);
        assert_eq!(bytes::<3>(&b, 2), [0x56, 0x78, 0x9a]);
        assert_eq!(<u16 as FieldValue>::read(&b, 3), 0x789a);
        assert_eq!(<[u8; 2] as FieldValue>::read(&b, 4), [0, 0]);
    }

    #[test]
    fn min_len_check() {
        assert_eq!(check_min_len(&[0u8; 3], 4, 7), Err(7));
        assert_eq!(check_min_len(&[0u8; 4], 4, 7), Ok(()));
    }
}

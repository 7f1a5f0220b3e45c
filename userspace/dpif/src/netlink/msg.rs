//! The payload of one Open vSwitch generic netlink message: `struct genlmsghdr` (command,
//! version), `struct ovs_header` (the datapath's ifindex) and the attributes.
//!
//! The netlink header around it (`struct nlmsghdr`) belongs to the transport
//! ([`super::transport`]); the attributes are built and read with the core's
//! [`rvs_core::nla`] writer and reader, so the kernel module and userspace frame attributes
//! identically.

use rvs_core::nla::{Attr, Attrs, NlaError, Writer};

/// Size of `struct genlmsghdr`.
pub const GENL_HDRLEN: usize = 4;
/// Size of `struct ovs_header`.
pub const OVS_HDRLEN: usize = 4;

/// Errors decoding or encoding an OVS message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsgError {
    /// The payload is shorter than the generic netlink and OVS headers.
    #[error("OVS netlink message too short ({0} bytes)")]
    Short(usize),
    /// An attribute's framing is broken.
    #[error("malformed netlink attributes in {0}")]
    BadAttrs(&'static str),
    /// A required attribute is missing from a reply.
    #[error("reply lacks attribute {0}")]
    Missing(&'static str),
    /// An attribute has the wrong size or content.
    #[error("attribute {0} has a bad payload")]
    BadPayload(&'static str),
    /// The request does not fit in a netlink message (64 KiB attribute limit).
    #[error("request too large for a netlink attribute")]
    TooLarge,
}

/// One decoded OVS message, borrowing its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OvsMsg<'a> {
    /// `genlmsghdr.cmd`.
    pub cmd: u8,
    /// `genlmsghdr.version`.
    pub version: u8,
    /// `ovs_header.dp_ifindex`.
    pub dp_ifindex: i32,
    /// The attribute bytes after the headers.
    pub attrs: &'a [u8],
}

impl<'a> OvsMsg<'a> {
    /// Splits a generic netlink payload into headers and attributes.
    pub fn parse(payload: &'a [u8]) -> Result<Self, MsgError> {
        let hdr = payload
            .get(..GENL_HDRLEN + OVS_HDRLEN)
            .ok_or(MsgError::Short(payload.len()))?;
        Ok(Self {
            cmd: hdr[0],
            version: hdr[1],
            dp_ifindex: i32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]),
            attrs: &payload[GENL_HDRLEN + OVS_HDRLEN..],
        })
    }

    /// Iterates over the top-level attributes, failing on broken framing.
    pub fn attrs(&self, what: &'static str) -> Result<Vec<Attr<'a>>, MsgError> {
        collect_attrs(self.attrs, what)
    }
}

/// Collects a run of attributes, mapping broken framing to [`MsgError::BadAttrs`].
pub fn collect_attrs<'a>(buf: &'a [u8], what: &'static str) -> Result<Vec<Attr<'a>>, MsgError> {
    Attrs::new(buf).collect::<Result<Vec<_>, _>>().map_err(|_| MsgError::BadAttrs(what))
}

/// Builds the generic netlink payload of a request: headers, then the attributes that `fill`
/// writes with the core's [`Writer`]. The buffer grows until the attributes fit.
pub fn build(
    cmd: u8,
    version: u8,
    dp_ifindex: i32,
    size_hint: usize,
    fill: impl Fn(&mut Writer<'_>) -> Result<(), NlaError>,
) -> Result<Vec<u8>, MsgError> {
    let mut cap = size_hint.max(64);
    loop {
        let mut attrs = vec![0u8; cap];
        let mut w = Writer::new(&mut attrs);
        match fill(&mut w) {
            Ok(()) => {
                let len = w.len();
                attrs.truncate(len);
                let mut out = Vec::with_capacity(GENL_HDRLEN + OVS_HDRLEN + len);
                out.extend_from_slice(&[cmd, version, 0, 0]);
                out.extend_from_slice(&dp_ifindex.to_ne_bytes());
                out.extend_from_slice(&attrs);
                return Ok(out);
            }
            // A netlink message is bounded by u32, an attribute by u16; past 1 MiB give up.
            Err(NlaError::NoSpace) if cap < (1 << 20) => cap *= 2,
            Err(_) => return Err(MsgError::TooLarge),
        }
    }
}

/// A NUL-terminated string attribute payload (as `NLA_NUL_STRING` wants).
pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// Reads a string attribute, dropping the trailing NUL(s).
pub fn attr_str(a: &Attr<'_>, what: &'static str) -> Result<String, MsgError> {
    let bytes = a.payload.split(|&b| b == 0).next().unwrap_or(&[]);
    String::from_utf8(bytes.to_vec()).map_err(|_| MsgError::BadPayload(what))
}

/// Reads a native-endian `u32` attribute.
pub fn attr_u32(a: &Attr<'_>, what: &'static str) -> Result<u32, MsgError> {
    a.u32_ne().ok_or(MsgError::BadPayload(what))
}

/// Reads a native-endian `u64` attribute.
pub fn attr_u64(a: &Attr<'_>, what: &'static str) -> Result<u64, MsgError> {
    a.array::<8>().map(u64::from_ne_bytes).ok_or(MsgError::BadPayload(what))
}

/// Reads `N` consecutive native-endian `u64`s from the start of a payload (struct of u64s).
pub fn u64s<const N: usize>(payload: &[u8], what: &'static str) -> Result<[u64; N], MsgError> {
    let mut out = [0u64; N];
    for (i, v) in out.iter_mut().enumerate() {
        let b = payload.get(i * 8..i * 8 + 8).ok_or(MsgError::BadPayload(what))?;
        *v = u64::from_ne_bytes(b.try_into().map_err(|_| MsgError::BadPayload(what))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse_round_trip() {
        let payload = build(3, 2, 17, 8, |w| {
            w.put(1, &cstr("dp0"))?;
            w.put_u32(5, 0xb)
        })
        .unwrap();
        // genlmsghdr + ovs_header + NAME(4+4) + u32(4+4)
        assert_eq!(payload.len(), 8 + 8 + 8);
        assert_eq!(&payload[..4], &[3, 2, 0, 0]);
        let msg = OvsMsg::parse(&payload).unwrap();
        assert_eq!((msg.cmd, msg.version, msg.dp_ifindex), (3, 2, 17));
        let attrs = msg.attrs("test").unwrap();
        assert_eq!(attr_str(&attrs[0], "name").unwrap(), "dp0");
        assert_eq!(attr_u32(&attrs[1], "u32").unwrap(), 0xb);
    }

    #[test]
    fn build_grows_past_the_hint() {
        let big = vec![0xaau8; 5000];
        let payload = build(1, 1, 0, 16, |w| w.put(1, &big)).unwrap();
        assert_eq!(payload.len(), 8 + 4 + 5000);
        let attrs = OvsMsg::parse(&payload).unwrap().attrs("big").unwrap();
        assert_eq!(attrs[0].payload, &big[..]);
    }

    #[test]
    fn attribute_over_64k_is_rejected() {
        let huge = vec![0u8; 70_000];
        assert_eq!(build(1, 1, 0, 16, |w| w.put(1, &huge)), Err(MsgError::TooLarge));
    }

    #[test]
    fn short_and_malformed_inputs_are_errors() {
        assert_eq!(OvsMsg::parse(&[1, 2, 0]), Err(MsgError::Short(3)));
        let mut p = vec![1, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[9, 0, 1, 0, 0]); // claims 9 bytes, has 5
        let msg = OvsMsg::parse(&p).unwrap();
        assert_eq!(msg.attrs("x"), Err(MsgError::BadAttrs("x")));
    }

    #[test]
    fn u64_struct_reader() {
        let mut b = Vec::new();
        for v in [1u64, 2, 3] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(u64s::<3>(&b, "s").unwrap(), [1, 2, 3]);
        assert_eq!(u64s::<4>(&b, "s"), Err(MsgError::BadPayload("s")));
    }
}

//! Message framing and the version dispatch: the `ofp_header`, [`encode`] / [`decode`] of a
//! whole message (delegating bodies to [`crate::of10`] and [`crate::of13`]), the bodies that are
//! the same in every version (hello, error, echo, switch config, experimenter), version
//! negotiation and error replies.
//!
//! Adding OpenFlow 1.4 means adding a module like `of13` (reusing its functions for the
//! messages that did not change) and one arm in [`encode`] and [`decode`].

use crate::error::{
    BadRequest, DecodeError, DecodeResult, EncodeError, EncodeResult, HelloFailed, OfpError,
    WireError, NXET_VENDOR, OFPET_EXPERIMENTER,
};
use crate::msg::{ErrorCode, ErrorMsg, Experimenter, Hello, Message, OfMessage, SwitchConfig};
use crate::types::Version;
use crate::wire::{pad8, Put, Reader};

/// Length of `ofp_header`.
pub const HEADER_LEN: usize = 8;
/// `OFPT_HELLO`.
pub const OFPT_HELLO: u8 = 0;
/// `OFPHET_VERSIONBITMAP`.
const OFPHET_VERSIONBITMAP: u16 = 1;

/// The fixed OpenFlow header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Version byte.
    pub version: Version,
    /// Message type number (version specific).
    pub msg_type: u8,
    /// Total message length including the header.
    pub length: u16,
    /// Transaction id.
    pub xid: u32,
}

impl Header {
    /// Parses the header at the start of `buf` (no length validation).
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let mut r = Reader::new(buf.get(..HEADER_LEN)?, BadRequest::BadLen);
        Some(Header {
            version: Version(r.u8().ok()?),
            msg_type: r.u8().ok()?,
            length: r.u16().ok()?,
            xid: r.u32().ok()?,
        })
    }
}

/// For stream framing: the length of the message starting at `buf`, once its header has
/// arrived. `Some(n)` with `n < 8` means the stream is corrupt.
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    Header::parse(buf).map(|h| usize::from(h.length))
}

/// Encodes a message.
pub fn encode(m: &OfMessage) -> EncodeResult<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.put_u8(m.version.0);
    out.put_u8(0);
    out.put_u16(0);
    out.put_u32(m.xid);
    let t = match &m.msg {
        Message::Hello(h) => {
            encode_hello(h, &mut out);
            OFPT_HELLO
        }
        _ if m.version == Version::OF10 => crate::of10::encode_body(&m.msg, &mut out)?,
        _ if m.version == Version::OF13 => crate::of13::encode_body(&m.msg, &mut out)?,
        _ => {
            return Err(EncodeError::Unsupported {
                what: "this protocol version".into(),
                version: m.version,
            })
        }
    };
    if let Some(b) = out.get_mut(1) {
        *b = t;
    }
    let len = out.len();
    out.patch_u16(2, len)?;
    Ok(out)
}

/// Decodes one complete message (`buf` must be exactly the message).
///
/// A hello is accepted in any version (for negotiation); any other message of a version this
/// codec does not speak is `OFPBRC_BAD_VERSION`.
pub fn decode(buf: &[u8]) -> DecodeResult<OfMessage> {
    let h = Header::parse(buf)
        .ok_or_else(|| DecodeError::new(BadRequest::BadLen, "shorter than ofp_header"))?;
    if usize::from(h.length) != buf.len() {
        return Err(DecodeError::new(
            BadRequest::BadLen,
            format!("header length {} but {} bytes", h.length, buf.len()),
        ));
    }
    let body = buf.get(HEADER_LEN..).unwrap_or_default();
    let mut r = Reader::new(body, BadRequest::BadLen);
    let msg = if h.msg_type == OFPT_HELLO {
        if h.version.0 == 0 {
            return Err(DecodeError::new(HelloFailed::Incompatible, "hello version 0"));
        }
        Message::Hello(decode_hello(h.version, &mut r)?)
    } else if h.version == Version::OF10 {
        crate::of10::decode_body(h.msg_type, &mut r)?
    } else if h.version == Version::OF13 {
        crate::of13::decode_body(h.msg_type, &mut r)?
    } else {
        return Err(DecodeError::new(BadRequest::BadVersion, format!("version {}", h.version)));
    };
    Ok(OfMessage { version: h.version, xid: h.xid, msg })
}

fn encode_hello(h: &Hello, out: &mut Vec<u8>) {
    if let Some(words) = &h.version_bitmap {
        let start = out.len();
        out.put_u16(OFPHET_VERSIONBITMAP);
        out.put_u16(u16::try_from(words.len().saturating_mul(4).saturating_add(4)).unwrap_or(0));
        for w in words {
            out.put_u32(*w);
        }
        out.pad8_from(start);
    }
}

fn decode_hello(version: Version, r: &mut Reader<'_>) -> DecodeResult<Hello> {
    let mut hello = Hello::default();
    if version == Version::OF10 {
        // OpenFlow 1.0 defines no hello body; later peers may still send elements.
        if r.remaining() < 4 {
            r.rest();
            return Ok(hello);
        }
    }
    while !r.is_empty() {
        let mut h = Reader::new(r.peek(4)?, BadRequest::BadLen);
        let etype = h.u16()?;
        let len = usize::from(h.u16()?);
        if len < 4 || len > r.remaining() {
            return Err(DecodeError::new(BadRequest::BadLen, format!("hello element length {len}")));
        }
        let mut e = r.sub(len, BadRequest::BadLen)?;
        e.skip(4)?;
        r.skip(pad8(len).saturating_sub(len).min(r.remaining()))?;
        if etype == OFPHET_VERSIONBITMAP {
            if e.remaining() % 4 != 0 {
                return Err(DecodeError::new(BadRequest::BadLen, "version bitmap not in words"));
            }
            let mut words = Vec::new();
            while !e.is_empty() {
                words.push(e.u32()?);
            }
            hello.version_bitmap = Some(words);
        }
    }
    Ok(hello)
}

/// Chooses the version to speak given the versions we support and the peer's hello
/// (OpenFlow 1.3.1 §6.3.1): the highest common bitmap version if both sides sent bitmaps, else
/// the smaller of the two header versions if we support it.
pub fn negotiate(ours: &[Version], peer: &OfMessage) -> Option<Version> {
    let Message::Hello(h) = &peer.msg else { return None };
    if h.version_bitmap.is_some() {
        return ours.iter().copied().filter(|v| h.bitmap_has(*v)).max();
    }
    let our_max = ours.iter().copied().max()?;
    let v = our_max.min(peer.version);
    ours.contains(&v).then_some(v)
}

/// The error reply for a failed request (`data` = the request's first 64 bytes), in `version`
/// and with the request's xid.
pub fn error_reply(version: Version, request: &[u8], error: OfpError) -> OfMessage {
    let xid = Header::parse(request).map_or(0, |h| h.xid);
    let data = request.get(..request.len().min(64)).unwrap_or_default().to_vec();
    OfMessage { version, xid, msg: Message::Error(ErrorMsg { code: ErrorCode::Known(error), data }) }
}

/// Encodes an error body.
pub(crate) fn encode_error(version: Version, e: &ErrorMsg, out: &mut Vec<u8>) {
    let w = match e.code {
        ErrorCode::Known(k) => k.wire(version),
        ErrorCode::Raw(w) => w,
    };
    if w.vendor == 0 {
        out.put_u16(w.etype);
        out.put_u16(w.code);
    } else if version == Version::OF10 {
        out.put_u16(NXET_VENDOR);
        out.put_u16(0);
        out.put_u32(w.vendor);
        out.put_u16(w.etype);
        out.put_u16(w.code);
    } else {
        out.put_u16(OFPET_EXPERIMENTER);
        out.put_u16(w.etype);
        out.put_u32(w.vendor);
    }
    out.extend_from_slice(&e.data);
}

/// Decodes an error body.
pub(crate) fn decode_error(version: Version, r: &mut Reader<'_>) -> DecodeResult<ErrorMsg> {
    let etype = r.u16()?;
    let code = r.u16()?;
    // A vendor/experimenter id of 0 would read back as a standard error: keep those standard.
    let vendor_next = r.peek(4).ok().is_some_and(|b| b.iter().any(|&x| x != 0));
    let w = if version == Version::OF10 && etype == NXET_VENDOR && code == 0 && r.remaining() >= 8 && vendor_next {
        WireError { vendor: r.u32()?, etype: r.u16()?, code: r.u16()? }
    } else if version != Version::OF10 && etype == OFPET_EXPERIMENTER && vendor_next {
        WireError { vendor: r.u32()?, etype: code, code: 0 }
    } else {
        WireError { vendor: 0, etype, code }
    };
    let code = OfpError::from_wire(version, w).map_or(ErrorCode::Raw(w), ErrorCode::Known);
    Ok(ErrorMsg { code, data: r.rest().to_vec() })
}

/// Decodes `ofp_switch_config`.
pub(crate) fn decode_switch_config(r: &mut Reader<'_>) -> DecodeResult<SwitchConfig> {
    let c = SwitchConfig { flags: r.u16()?, miss_send_len: r.u16()? };
    expect_end(r)?;
    Ok(c)
}

/// Encodes `ofp_switch_config`.
pub(crate) fn encode_switch_config(c: &SwitchConfig, out: &mut Vec<u8>) {
    out.put_u16(c.flags);
    out.put_u16(c.miss_send_len);
}

/// Decodes an experimenter message body (1.1+ has `exp_type`).
pub(crate) fn decode_experimenter(version: Version, r: &mut Reader<'_>) -> DecodeResult<Experimenter> {
    let experimenter = r.u32()?;
    let exp_type = if version == Version::OF10 { 0 } else { r.u32()? };
    Ok(Experimenter { experimenter, exp_type, data: r.rest().to_vec() })
}

/// Encodes an experimenter message body.
pub(crate) fn encode_experimenter(version: Version, e: &Experimenter, out: &mut Vec<u8>) {
    out.put_u32(e.experimenter);
    if version != Version::OF10 {
        out.put_u32(e.exp_type);
    }
    out.extend_from_slice(&e.data);
}

/// Fails with `OFPBRC_BAD_LEN` if anything is left.
pub(crate) fn expect_end(r: &Reader<'_>) -> DecodeResult<()> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::new(BadRequest::BadLen, format!("{} trailing bytes", r.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_bitmap_roundtrip_and_negotiation() {
        let m = OfMessage {
            version: Version::OF13,
            xid: 1,
            msg: Message::Hello(Hello::with_versions(&[Version::OF10, Version::OF13])),
        };
        let b = encode(&m).unwrap();
        assert_eq!(b, [4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x12]);
        let d = decode(&b).unwrap();
        assert_eq!(d, m);
        assert_eq!(negotiate(&[Version::OF10], &d), Some(Version::OF10));
        assert_eq!(negotiate(&Version::SUPPORTED, &d), Some(Version::OF13));
        // A 1.5 peer without bitmap: we answer with our highest.
        let h15 = decode(&[6, 0, 0, 8, 0, 0, 0, 2]).unwrap();
        assert_eq!(negotiate(&Version::SUPPORTED, &h15), Some(Version::OF13));
        // A 1.1 peer without bitmap: 1.1 is not spoken.
        let h11 = decode(&[2, 0, 0, 8, 0, 0, 0, 2]).unwrap();
        assert_eq!(negotiate(&Version::SUPPORTED, &h11), None);
        let h10 = decode(&[1, 0, 0, 8, 0, 0, 0, 2]).unwrap();
        assert_eq!(negotiate(&Version::SUPPORTED, &h10), Some(Version::OF10));
    }

    #[test]
    fn header_errors() {
        assert_eq!(decode(&[4, 0, 0]).unwrap_err().error, BadRequest::BadLen.into());
        assert_eq!(decode(&[4, 2, 0, 9, 0, 0, 0, 0]).unwrap_err().error, BadRequest::BadLen.into());
        assert_eq!(
            decode(&[3, 2, 0, 8, 0, 0, 0, 0]).unwrap_err().error,
            BadRequest::BadVersion.into()
        );
        assert_eq!(
            decode(&[4, 200, 0, 8, 0, 0, 0, 0]).unwrap_err().error,
            BadRequest::BadType.into()
        );
        assert_eq!(
            decode(&[1, 24, 0, 8, 0, 0, 0, 0]).unwrap_err().error,
            BadRequest::BadType.into()
        );
        assert_eq!(frame_len(&[4, 0, 0x01, 0x00, 0, 0, 0, 0, 9]), Some(256));
        assert_eq!(frame_len(&[4, 0, 0x01]), None);
    }

    #[test]
    fn error_reply_encodings_match_ovs() {
        // ovs-ofctl encode-error-reply OFPBMC_BAD_FIELD 0100000800000005
        let req = [1, 0, 0, 8, 0, 0, 0, 5];
        let e = error_reply(Version::OF10, &req, crate::error::BadMatch::BadField.into());
        assert_eq!(
            encode(&e).unwrap(),
            [
                1, 1, 0, 0x1c, 0, 0, 0, 5, 0xb0, 0xc2, 0, 0, 0, 0, 0x23, 0x20, 0, 0, 1, 7, 1, 0,
                0, 8, 0, 0, 0, 5
            ]
        );
        // ovs-ofctl encode-error-reply OFPBIC_DUP_INST 0400000800000005
        let req = [4, 0, 0, 8, 0, 0, 0, 5];
        let e = error_reply(Version::OF13, &req, crate::error::BadInstruction::DupInst.into());
        let b = encode(&e).unwrap();
        assert_eq!(
            b,
            [
                4, 1, 0, 0x18, 0, 0, 0, 5, 0xff, 0xff, 0x0a, 0x28, 0x4f, 0x4e, 0x46, 0, 4, 0, 0,
                8, 0, 0, 0, 5
            ]
        );
        assert_eq!(decode(&b).unwrap(), e);
    }
}

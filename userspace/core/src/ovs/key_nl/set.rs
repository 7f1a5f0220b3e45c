//! The key attribute inside a `set`/`set_masked` action: [`split_set`] checks its framing and
//! target as upstream `validate_set` does without flow context, [`decode_set`] turns it into the
//! (value, mask) pair of [`FlowKey`]s the executor applies.

use crate::key::{field, FlowKey};
use crate::nla::Attrs;
use crate::ovs_abi::*;

use super::super::error::{CodecError, ErrorKind};
use super::super::policy::{lookup, Len};
use super::super::tunnel_nl;
use super::{apply_leaf, err, KEY_ATTR_MAX, KEY_POLICY, ONES, SET};

/// Key attribute types a `set`/`set_masked` action may target in rvs.
fn set_target_ok(ty: u16, masked: bool) -> Result<(), CodecError> {
    match ty {
        OVS_KEY_ATTR_PRIORITY
        | OVS_KEY_ATTR_SKB_MARK
        | OVS_KEY_ATTR_ETHERNET
        | OVS_KEY_ATTR_IPV4
        | OVS_KEY_ATTR_IPV6
        | OVS_KEY_ATTR_TCP
        | OVS_KEY_ATTR_UDP
        | OVS_KEY_ATTR_SCTP => Ok(()),
        OVS_KEY_ATTR_TUNNEL if !masked => Ok(()),
        OVS_KEY_ATTR_CT_MARK | OVS_KEY_ATTR_CT_LABELS | OVS_KEY_ATTR_MPLS => {
            Err(err(ty, ErrorKind::Unsupported))
        }
        _ if ty > KEY_ATTR_MAX => Err(CodecError::new(SET, ErrorKind::Unknown { ty })),
        _ => Err(err(ty, ErrorKind::NotAllowed)),
    }
}

/// The single key attribute of a `set`/`set_masked` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetTarget<'a> {
    /// `OVS_KEY_ATTR_*` type.
    pub ty: u16,
    /// The value bytes (the attribute payload, or its first half when masked).
    pub value: &'a [u8],
    /// The mask bytes (second half) of a `set_masked`.
    pub mask: Option<&'a [u8]>,
}

/// Splits a `set`/`set_masked` payload into its [`SetTarget`].
/// Checks what upstream `validate_set` checks without flow context: exactly one attribute filling
/// the payload, an allowed target, the length (twice the size when masked) and, when masked, no
/// value bits outside the mask.
pub fn split_set(payload: &[u8], masked: bool) -> Result<SetTarget<'_>, CodecError> {
    let name = if masked { "OVS_ACTION_ATTR_SET_MASKED" } else { "OVS_ACTION_ATTR_SET" };
    let mut it = Attrs::new(payload);
    let a = match it.next() {
        Some(a) => a.map_err(|e| CodecError::from_nla(name, e))?,
        None => return Err(CodecError::new(name, ErrorKind::Missing)),
    };
    if crate::nla::align(crate::nla::NLA_HDRLEN.saturating_add(a.payload.len())) != payload.len() {
        return Err(CodecError::new(name, ErrorKind::BadLength {
            got: payload.len(),
            want: crate::nla::align(crate::nla::NLA_HDRLEN.saturating_add(a.payload.len())),
        }));
    }
    set_target_ok(a.kind, masked)?;
    let pol = lookup(SET, &KEY_POLICY, a.kind);
    if !masked {
        pol.check(a.kind, a.payload)?;
        return Ok(SetTarget { ty: a.kind, value: a.payload, mask: None });
    }
    let want = match pol.len {
        Len::Exact(n) => n,
        _ => return Err(err(a.kind, ErrorKind::NotAllowed)),
    };
    if a.payload.len() != want.saturating_mul(2) {
        return Err(err(a.kind, ErrorKind::BadLength { got: a.payload.len(), want: want.saturating_mul(2) }));
    }
    let (v, m) = a.payload.split_at(want);
    if v.iter().zip(m).any(|(v, m)| v & !m != 0) {
        return Err(err(a.kind, ErrorKind::BadValue));
    }
    Ok(SetTarget { ty: a.kind, value: v, mask: Some(m) })
}

/// Decodes the nested key attribute of a `set` (`masked == false`) or `set_masked` action into
/// (value, mask) keys. For `set` the mask covers every writable field of the attribute. Fields
/// upstream never writes (IP protocol and fragment type of `ipv4`/`ipv6`, the top 12 bits of the
/// IPv6 label) are cleared from the mask; a `set(tunnel(...))` value is a full tunnel key and its
/// mask covers the whole tunnel metadata.
pub fn decode_set(payload: &[u8], masked: bool) -> Result<(FlowKey, FlowKey), CodecError> {
    let SetTarget { ty, value, mask } = split_set(payload, masked)?;
    let mut v = FlowKey::ZERO;
    let mut m = FlowKey::ZERO;
    if ty == OVS_KEY_ATTR_TUNNEL {
        tunnel_nl::decode(value, &mut v, false)?;
        for i in 0..field::TUN_IPV6_DST.end {
            if let Some(b) = m.as_bytes_mut().get_mut(i) {
                *b = 0xff;
            }
        }
        return Ok((v, m));
    }
    apply_leaf(ty, value, &mut v);
    match mask {
        Some(mb) => apply_leaf(ty, mb, &mut m),
        None => apply_leaf(ty, ONES.get(..value.len()).unwrap_or(&[]), &mut m),
    };
    if ty == OVS_KEY_ATTR_IPV4 || ty == OVS_KEY_ATTR_IPV6 {
        if masked && (m.ip_proto() != 0 || m.ip_frag() != 0) {
            return Err(err(ty, ErrorKind::NotAllowed));
        }
        if ty == OVS_KEY_ATTR_IPV6 {
            if v.ipv6_label() & 0xfff0_0000 != 0 || (masked && m.ipv6_label() & 0xfff0_0000 != 0) {
                return Err(err(ty, ErrorKind::BadValue));
            }
            m.set_ipv6_label(m.ipv6_label() & 0x000f_ffff);
        }
        m.set_ip_proto(0);
        m.set_ip_frag(0);
        v = v.masked(&m);
    }
    Ok((v, m))
}

//! `OVS_KEY_ATTR_TUNNEL` contents (nested `OVS_TUNNEL_KEY_ATTR_*`) ↔ the tunnel words of a
//! [`FlowKey`], following upstream `ip_tun_from_nlattr` / `__ip_tun_to_nlattr`.
//!
//! Payload byte order: the ID, addresses and ports are network order (as stored in the key), TOS
//! and TTL are single bytes, DONT_FRAGMENT/CSUM/OAM are flags (bits of the key's `TUN_FLAGS`).
//! Tunnel options (Geneve, VXLAN-GBP, ERSPAN) and bridge-mode tunnel info are not supported.
//! The family of a tunnel key is implied by which destination is set: upstream rejects keys with
//! a zero destination, so a key with neither destination set has no tunnel.

use crate::key::{field, tun_flags, FlowKey};
use crate::nla::{Attrs, Writer};
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::policy::{lookup, AttrPolicy, Len};

/// Name of the nesting attribute, used in framing errors.
const SET: &str = "OVS_TUNNEL_KEY_ATTR";

/// Policy of `OVS_TUNNEL_KEY_ATTR_*` (upstream `ovs_tunnel_key_lens`).
pub static TUNNEL_POLICY: [AttrPolicy; 17] = [
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_ID", Len::Exact(8)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_IPV4_SRC", Len::Exact(4)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_IPV4_DST", Len::Exact(4)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_TOS", Len::Exact(1)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_TTL", Len::Exact(1)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT", Len::Flag),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_CSUM", Len::Flag),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_OAM", Len::Flag),
    AttrPolicy::unsupported("OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS", Len::Any),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_TP_SRC", Len::Exact(2)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_TP_DST", Len::Exact(2)),
    AttrPolicy::unsupported("OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS", Len::Nested),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_IPV6_SRC", Len::Exact(16)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_IPV6_DST", Len::Exact(16)),
    AttrPolicy::new("OVS_TUNNEL_KEY_ATTR_PAD", Len::Pad),
    AttrPolicy::unsupported("OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS", Len::Any),
    AttrPolicy::unsupported("OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE", Len::Flag),
];

/// Address family of a key's tunnel metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelFamily {
    /// IPv4 outer header.
    V4,
    /// IPv6 outer header.
    V6,
}

/// The tunnel family of `key`, or `None` if it carries no tunnel metadata.
#[must_use]
pub fn family(key: &FlowKey) -> Option<TunnelFamily> {
    if key.tun_ipv4_dst() != 0 {
        Some(TunnelFamily::V4)
    } else if key.tun_ipv6_dst() != [0; 16] {
        Some(TunnelFamily::V6)
    } else {
        None
    }
}

/// Sets every tunnel field of `key`'s family in `mask` (upstream memsets the whole tunnel key
/// when a flow with a tunnel comes without a mask). Nothing for a key without tunnel.
pub fn exact_mask(key: &FlowKey, mask: &mut FlowKey) {
    let Some(fam) = family(key) else { return };
    mask.set_tun_id(u64::MAX);
    mask.set_tun_flags(tun_flags::KEY | tun_flags::DONT_FRAGMENT | tun_flags::CSUM | tun_flags::OAM);
    mask.set_tun_tos(0xff);
    mask.set_tun_ttl(0xff);
    mask.set_tun_tp_src(u16::MAX);
    mask.set_tun_tp_dst(u16::MAX);
    match fam {
        TunnelFamily::V4 => {
            mask.set_tun_ipv4_src(u32::MAX);
            mask.set_tun_ipv4_dst(u32::MAX);
        }
        TunnelFamily::V6 => {
            mask.set_tun_ipv6_src([0xff; 16]);
            mask.set_tun_ipv6_dst([0xff; 16]);
        }
    }
}

fn arr<const N: usize>(p: &[u8]) -> [u8; N] {
    p.try_into().unwrap_or([0; N])
}

/// Decodes nested `OVS_TUNNEL_KEY_ATTR_*` into the tunnel fields of `out`.
///
/// For a key (`is_mask == false`) the upstream requirements apply: one family only, a non-zero
/// destination and a TTL. For a mask, flag attributes set the corresponding mask bits and an ID
/// attribute sets the mask's [`tun_flags::KEY`] bit, as upstream.
pub fn decode(payload: &[u8], out: &mut FlowKey, is_mask: bool) -> Result<(), CodecError> {
    let (mut ipv4, mut ipv6, mut ttl) = (false, false, false);
    let mut seen: u32 = 0;
    let mut flags: u16 = 0;
    for a in Attrs::new(payload) {
        let a = a.map_err(|e| CodecError::from_nla(SET, e))?;
        let pol = lookup(SET, &TUNNEL_POLICY, a.kind);
        pol.check(a.kind, a.payload)?;
        let bit = 1u32.checked_shl(u32::from(a.kind)).unwrap_or(0);
        if seen & bit != 0 {
            return Err(CodecError::new(pol.name, ErrorKind::Duplicate));
        }
        seen |= bit;
        let p = a.payload;
        match a.kind {
            OVS_TUNNEL_KEY_ATTR_ID => {
                out.set_bytes(field::TUN_ID, p);
                flags |= tun_flags::KEY;
            }
            OVS_TUNNEL_KEY_ATTR_IPV4_SRC => {
                out.set_bytes(field::TUN_IPV4_SRC, p);
                ipv4 = true;
            }
            OVS_TUNNEL_KEY_ATTR_IPV4_DST => {
                out.set_bytes(field::TUN_IPV4_DST, p);
                ipv4 = true;
            }
            OVS_TUNNEL_KEY_ATTR_IPV6_SRC => {
                out.set_tun_ipv6_src(arr(p));
                ipv6 = true;
            }
            OVS_TUNNEL_KEY_ATTR_IPV6_DST => {
                out.set_tun_ipv6_dst(arr(p));
                ipv6 = true;
            }
            OVS_TUNNEL_KEY_ATTR_TOS => out.set_tun_tos(p.first().copied().unwrap_or(0)),
            OVS_TUNNEL_KEY_ATTR_TTL => {
                out.set_tun_ttl(p.first().copied().unwrap_or(0));
                ttl = true;
            }
            OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT => flags |= tun_flags::DONT_FRAGMENT,
            OVS_TUNNEL_KEY_ATTR_CSUM => flags |= tun_flags::CSUM,
            OVS_TUNNEL_KEY_ATTR_OAM => flags |= tun_flags::OAM,
            OVS_TUNNEL_KEY_ATTR_TP_SRC => out.set_bytes(field::TUN_TP_SRC, p),
            OVS_TUNNEL_KEY_ATTR_TP_DST => out.set_bytes(field::TUN_TP_DST, p),
            // PAD; everything else was rejected by the policy check.
            _ => {}
        }
    }
    out.set_tun_flags(flags);
    if ipv4 && ipv6 {
        return Err(CodecError::new("OVS_TUNNEL_KEY_ATTR_IPV6_DST", ErrorKind::NotAllowed));
    }
    if !is_mask {
        if !ipv4 && !ipv6 {
            return Err(CodecError::new("OVS_TUNNEL_KEY_ATTR_IPV4_DST", ErrorKind::Missing));
        }
        if ipv4 && out.tun_ipv4_dst() == 0 {
            return Err(CodecError::new("OVS_TUNNEL_KEY_ATTR_IPV4_DST", ErrorKind::BadValue));
        }
        if ipv6 && out.tun_ipv6_dst() == [0; 16] {
            return Err(CodecError::new("OVS_TUNNEL_KEY_ATTR_IPV6_DST", ErrorKind::BadValue));
        }
        if !ttl {
            return Err(CodecError::new("OVS_TUNNEL_KEY_ATTR_TTL", ErrorKind::Missing));
        }
    }
    Ok(())
}

/// Decodes a tunnel key on its own (e.g. `OVS_PACKET_ATTR_EGRESS_TUN_KEY` or `set(tunnel(...))`).
pub fn decode_key(payload: &[u8]) -> Result<FlowKey, CodecError> {
    let mut k = FlowKey::ZERO;
    decode(payload, &mut k, false)?;
    Ok(k)
}

/// Emits the `OVS_TUNNEL_KEY_ATTR_*` attributes (without the enclosing nest) of `output`, the
/// family taken from `key` (for a key both are the same; for a mask `output` is the mask), as
/// upstream `__ip_tun_to_nlattr`.
pub fn put_attrs(w: &mut Writer<'_>, key: &FlowKey, output: &FlowKey) -> Result<(), CodecError> {
    let e = |e| CodecError::from_nla("OVS_KEY_ATTR_TUNNEL", e);
    let bytes = output.as_bytes();
    let get = |r: core::ops::Range<usize>| bytes.get(r).unwrap_or(&[]);
    let flags = output.tun_flags();
    if flags & tun_flags::KEY != 0 {
        w.put(OVS_TUNNEL_KEY_ATTR_ID, get(field::TUN_ID)).map_err(e)?;
    }
    match family(key) {
        Some(TunnelFamily::V4) => {
            if output.tun_ipv4_src() != 0 {
                w.put(OVS_TUNNEL_KEY_ATTR_IPV4_SRC, get(field::TUN_IPV4_SRC)).map_err(e)?;
            }
            if output.tun_ipv4_dst() != 0 {
                w.put(OVS_TUNNEL_KEY_ATTR_IPV4_DST, get(field::TUN_IPV4_DST)).map_err(e)?;
            }
        }
        Some(TunnelFamily::V6) => {
            if output.tun_ipv6_src() != [0; 16] {
                w.put(OVS_TUNNEL_KEY_ATTR_IPV6_SRC, get(field::TUN_IPV6_SRC)).map_err(e)?;
            }
            if output.tun_ipv6_dst() != [0; 16] {
                w.put(OVS_TUNNEL_KEY_ATTR_IPV6_DST, get(field::TUN_IPV6_DST)).map_err(e)?;
            }
        }
        None => {}
    }
    if output.tun_tos() != 0 {
        w.put(OVS_TUNNEL_KEY_ATTR_TOS, &[output.tun_tos()]).map_err(e)?;
    }
    w.put(OVS_TUNNEL_KEY_ATTR_TTL, &[output.tun_ttl()]).map_err(e)?;
    if flags & tun_flags::DONT_FRAGMENT != 0 {
        w.put_flag(OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT).map_err(e)?;
    }
    if flags & tun_flags::CSUM != 0 {
        w.put_flag(OVS_TUNNEL_KEY_ATTR_CSUM).map_err(e)?;
    }
    if output.tun_tp_src() != 0 {
        w.put(OVS_TUNNEL_KEY_ATTR_TP_SRC, get(field::TUN_TP_SRC)).map_err(e)?;
    }
    if output.tun_tp_dst() != 0 {
        w.put(OVS_TUNNEL_KEY_ATTR_TP_DST, get(field::TUN_TP_DST)).map_err(e)?;
    }
    if flags & tun_flags::OAM != 0 {
        w.put_flag(OVS_TUNNEL_KEY_ATTR_OAM).map_err(e)?;
    }
    Ok(())
}

/// Emits `OVS_KEY_ATTR_TUNNEL` (nest of [`put_attrs`]).
pub fn put(w: &mut Writer<'_>, key: &FlowKey, output: &FlowKey) -> Result<(), CodecError> {
    let e = |e| CodecError::from_nla("OVS_KEY_ATTR_TUNNEL", e);
    let nest = w.begin_nest_noflag(OVS_KEY_ATTR_TUNNEL).map_err(e)?;
    put_attrs(w, key, output)?;
    w.end_nest(nest).map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(f: impl FnOnce(&mut Writer<'_>)) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 256];
        let mut w = Writer::new(&mut buf);
        f(&mut w);
        let n = w.len();
        buf[..n].to_vec()
    }

    #[test]
    fn ipv4_tunnel_round_trip_byte_exact() {
        // Hand-built like upstream: ID(be64), IPV4_SRC, IPV4_DST, TOS, TTL, DF, CSUM, TP_SRC, TP_DST, OAM.
        let wire = attrs(|w| {
            w.put(0, &5u64.to_be_bytes()).unwrap();
            w.put(1, &[10, 0, 0, 1]).unwrap();
            w.put(2, &[10, 0, 0, 2]).unwrap();
            w.put(3, &[0x10]).unwrap();
            w.put(4, &[64]).unwrap();
            w.put_flag(5).unwrap();
            w.put_flag(6).unwrap();
            w.put(9, &1234u16.to_be_bytes()).unwrap();
            w.put(10, &4789u16.to_be_bytes()).unwrap();
            w.put_flag(7).unwrap();
        });
        let k = decode_key(&wire).unwrap();
        assert_eq!(k.tun_id(), 5);
        assert_eq!(k.tun_ipv4_src(), 0x0a00_0001);
        assert_eq!(k.tun_ipv4_dst(), 0x0a00_0002);
        assert_eq!((k.tun_tos(), k.tun_ttl()), (0x10, 64));
        assert_eq!(k.tun_tp_src(), 1234);
        assert_eq!(k.tun_tp_dst(), 4789);
        assert_eq!(
            k.tun_flags(),
            tun_flags::KEY | tun_flags::DONT_FRAGMENT | tun_flags::CSUM | tun_flags::OAM
        );
        let back = attrs(|w| put_attrs(w, &k, &k).unwrap());
        assert_eq!(back, wire);
    }

    #[test]
    fn ipv6_tunnel() {
        let mut dst = [0u8; 16];
        dst[15] = 2;
        let wire = attrs(|w| {
            w.put(13, &dst).unwrap();
            w.put(4, &[1]).unwrap();
        });
        let k = decode_key(&wire).unwrap();
        assert_eq!(family(&k), Some(TunnelFamily::V6));
        assert_eq!(k.tun_ipv6_dst(), dst);
        assert_eq!(k.tun_flags(), 0);
        assert_eq!(attrs(|w| put_attrs(w, &k, &k).unwrap()), wire);
    }

    #[test]
    fn key_requirements() {
        let no_dst = attrs(|w| w.put(4, &[1]).unwrap());
        assert_eq!(
            decode_key(&no_dst).unwrap_err(),
            CodecError::new("OVS_TUNNEL_KEY_ATTR_IPV4_DST", ErrorKind::Missing)
        );
        let zero_dst = attrs(|w| {
            w.put(2, &[0; 4]).unwrap();
            w.put(4, &[1]).unwrap();
        });
        assert_eq!(decode_key(&zero_dst).unwrap_err().kind, ErrorKind::BadValue);
        let no_ttl = attrs(|w| w.put(2, &[1, 1, 1, 1]).unwrap());
        assert_eq!(
            decode_key(&no_ttl).unwrap_err(),
            CodecError::new("OVS_TUNNEL_KEY_ATTR_TTL", ErrorKind::Missing)
        );
        let mixed = attrs(|w| {
            w.put(2, &[1, 1, 1, 1]).unwrap();
            w.put(13, &[1; 16]).unwrap();
            w.put(4, &[1]).unwrap();
        });
        assert_eq!(decode_key(&mixed).unwrap_err().kind, ErrorKind::NotAllowed);
        // Masks need none of that.
        let mut m = FlowKey::ZERO;
        decode(&no_ttl, &mut m, true).unwrap();
        assert_eq!(m.tun_ipv4_dst(), 0x0101_0101);
    }

    #[test]
    fn unsupported_bad_len_duplicate_unknown() {
        let geneve = attrs(|w| {
            w.put(2, &[1, 1, 1, 1]).unwrap();
            w.put(8, &[0; 8]).unwrap();
        });
        assert_eq!(
            decode_key(&geneve).unwrap_err(),
            CodecError::new("OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS", ErrorKind::Unsupported)
        );
        let bad = attrs(|w| w.put(0, &[0; 4]).unwrap());
        assert_eq!(
            decode_key(&bad).unwrap_err(),
            CodecError::new("OVS_TUNNEL_KEY_ATTR_ID", ErrorKind::BadLength { got: 4, want: 8 })
        );
        let dup = attrs(|w| {
            w.put(4, &[1]).unwrap();
            w.put(4, &[1]).unwrap();
        });
        assert_eq!(decode_key(&dup).unwrap_err().kind, ErrorKind::Duplicate);
        let unknown = attrs(|w| w.put(40, &[]).unwrap());
        assert_eq!(decode_key(&unknown).unwrap_err().kind, ErrorKind::Unknown { ty: 40 });
    }

    #[test]
    fn mask_emission_always_has_ttl() {
        let out = attrs(|w| put(w, &FlowKey::ZERO, &FlowKey::ZERO).unwrap());
        // TUNNEL nest (no NLA_F_NESTED) holding TTL=0.
        assert_eq!(out, [12, 0, 16, 0, 5, 0, 4, 0, 0, 0, 0, 0]);
    }
}

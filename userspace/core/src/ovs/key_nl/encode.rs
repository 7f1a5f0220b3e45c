//! Encoding a [`FlowKey`] (or its mask) as `OVS_KEY_ATTR_*` attributes, as upstream
//! `__ovs_nla_put_key`: the VLAN/`ENCAP` structure and which L3/L4 attributes appear follow the
//! key, the values come from the key or the mask being emitted.

use crate::key::{field, FlowKey};
use crate::nla::Writer;
use crate::ovs_abi::*;

use super::super::error::CodecError;
use super::super::tunnel_nl;
use super::{
    eth_type_vlan, ipproto, key_attr_name, DP_MAX_PORTS, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_RARP,
    ETH_TYPE_802_2, NDISC_NEIGHBOUR_ADVERTISEMENT, NDISC_NEIGHBOUR_SOLICITATION,
};

fn put_be16(w: &mut Writer<'_>, ty: u16, v: u16) -> Result<(), CodecError> {
    w.put(ty, &v.to_be_bytes()).map_err(|e| CodecError::from_nla(key_attr_name(ty), e))
}

fn put_u32(w: &mut Writer<'_>, ty: u16, v: u32) -> Result<(), CodecError> {
    w.put_u32(ty, v).map_err(|e| CodecError::from_nla(key_attr_name(ty), e))
}

fn put_raw(w: &mut Writer<'_>, ty: u16, parts: &[&[u8]]) -> Result<(), CodecError> {
    let mut buf = [0u8; 40];
    let mut n = 0usize;
    for p in parts {
        let end = n.saturating_add(p.len());
        if let Some(dst) = buf.get_mut(n..end) {
            dst.copy_from_slice(p);
        }
        n = end;
    }
    w.put(ty, buf.get(..n).unwrap_or(&[])).map_err(|e| CodecError::from_nla(key_attr_name(ty), e))
}

/// Emits the attributes of `output` (the key itself, or a mask) with the structure dictated by
/// `key`, exactly as upstream `__ovs_nla_put_key` (without the enclosing nest).
pub fn put_key_attrs(w: &mut Writer<'_>, key: &FlowKey, output: &FlowKey, is_mask: bool) -> Result<(), CodecError> {
    let o = output.as_bytes();
    let g = |r: core::ops::Range<usize>| o.get(r).unwrap_or(&[]);
    put_u32(w, OVS_KEY_ATTR_RECIRC_ID, output.recirc_id())?;
    put_u32(w, OVS_KEY_ATTR_DP_HASH, output.dp_hash())?;
    put_u32(w, OVS_KEY_ATTR_PRIORITY, output.priority())?;
    if is_mask || tunnel_nl::family(key).is_some() {
        tunnel_nl::put(w, key, output)?;
    }
    if key.in_port() == DP_MAX_PORTS {
        if is_mask && output.in_port() & 0xffff == 0xffff {
            put_u32(w, OVS_KEY_ATTR_IN_PORT, u32::MAX)?;
        }
    } else {
        let upper = if is_mask { 0xffff_0000 } else { 0 };
        put_u32(w, OVS_KEY_ATTR_IN_PORT, upper | (output.in_port() & 0xffff))?;
    }
    put_u32(w, OVS_KEY_ATTR_SKB_MARK, output.skb_mark())?;
    put_raw(w, OVS_KEY_ATTR_ETHERNET, &[g(field::ETH_SRC), g(field::ETH_DST)])?;
    let nest_err = |e| CodecError::from_nla("OVS_KEY_ATTR_ENCAP", e);
    let mut encap = None;
    let mut in_encap = None;
    let body = (|| {
        if key.vlan_tci() != 0 || eth_type_vlan(key.eth_type()) {
            put_be16(w, OVS_KEY_ATTR_ETHERTYPE, if is_mask { 0xffff } else { output.vlan_tpid() })?;
            put_be16(w, OVS_KEY_ATTR_VLAN, output.vlan_tci())?;
            encap = Some(w.begin_nest_noflag(OVS_KEY_ATTR_ENCAP).map_err(nest_err)?);
            if key.vlan_tci() == 0 {
                return Ok(());
            }
            if key.cvlan_tci() != 0 || eth_type_vlan(key.eth_type()) {
                put_be16(w, OVS_KEY_ATTR_ETHERTYPE, if is_mask { 0xffff } else { output.cvlan_tpid() })?;
                put_be16(w, OVS_KEY_ATTR_VLAN, output.cvlan_tci())?;
                in_encap = Some(w.begin_nest_noflag(OVS_KEY_ATTR_ENCAP).map_err(nest_err)?);
                if key.cvlan_tci() == 0 {
                    return Ok(());
                }
            }
        }
        if key.eth_type() == ETH_TYPE_802_2 {
            if is_mask && output.eth_type() != 0 {
                put_be16(w, OVS_KEY_ATTR_ETHERTYPE, output.eth_type())?;
            }
            return Ok(());
        }
        put_be16(w, OVS_KEY_ATTR_ETHERTYPE, output.eth_type())?;
        put_l3_l4(w, key, output)
    })();
    body?;
    if let Some(n) = in_encap {
        w.end_nest(n).map_err(nest_err)?;
    }
    if let Some(n) = encap {
        w.end_nest(n).map_err(nest_err)?;
    }
    Ok(())
}

fn put_l3_l4(w: &mut Writer<'_>, key: &FlowKey, output: &FlowKey) -> Result<(), CodecError> {
    let o = output.as_bytes();
    let g = |r: core::ops::Range<usize>| o.get(r).unwrap_or(&[]);
    let et = key.eth_type();
    if eth_type_vlan(et) {
        return Ok(());
    }
    let ip = [output.ip_proto(), output.ip_tos(), output.ip_ttl(), output.ip_frag()];
    if et == ETH_P_IP {
        put_raw(w, OVS_KEY_ATTR_IPV4, &[g(field::IPV4_SRC), g(field::IPV4_DST), &ip])?;
    } else if et == ETH_P_IPV6 {
        put_raw(w, OVS_KEY_ATTR_IPV6, &[g(field::IPV6_SRC), g(field::IPV6_DST), g(field::IPV6_LABEL), &ip])?;
        let hdrs = output.ipv6_exthdrs().to_ne_bytes();
        put_raw(w, OVS_KEY_ATTR_IPV6_EXTHDRS, &[&hdrs])?;
    } else if et == ETH_P_ARP || et == ETH_P_RARP {
        let op = u16::from(output.ip_proto()).to_be_bytes();
        put_raw(
            w,
            OVS_KEY_ATTR_ARP,
            &[g(field::IPV4_SRC), g(field::IPV4_DST), &op, g(field::ARP_SHA), g(field::ARP_THA), &[0, 0]],
        )?;
    }
    if (et == ETH_P_IP || et == ETH_P_IPV6) && key.ip_frag() != crate::key::frag::LATER {
        let ports = [g(field::TP_SRC), g(field::TP_DST)];
        // ICMP type/code are the low bytes of the 16-bit port fields.
        let icmp = [output.tp_src().to_be_bytes()[1], output.tp_dst().to_be_bytes()[1]];
        match key.ip_proto() {
            ipproto::TCP => {
                put_raw(w, OVS_KEY_ATTR_TCP, &ports)?;
                put_raw(w, OVS_KEY_ATTR_TCP_FLAGS, &[g(field::TCP_FLAGS)])?;
            }
            ipproto::UDP => put_raw(w, OVS_KEY_ATTR_UDP, &ports)?,
            ipproto::SCTP => put_raw(w, OVS_KEY_ATTR_SCTP, &ports)?,
            ipproto::ICMP if et == ETH_P_IP => put_raw(w, OVS_KEY_ATTR_ICMP, &[&icmp])?,
            ipproto::ICMPV6 if et == ETH_P_IPV6 => {
                put_raw(w, OVS_KEY_ATTR_ICMPV6, &[&icmp])?;
                let t = key.tp_src();
                if t == NDISC_NEIGHBOUR_SOLICITATION || t == NDISC_NEIGHBOUR_ADVERTISEMENT {
                    put_raw(w, OVS_KEY_ATTR_ND, &[g(field::ND_TARGET), g(field::ARP_SHA), g(field::ARP_THA)])?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Emits `key` as a nested attribute of type `attr` (e.g. `OVS_FLOW_ATTR_KEY`).
pub fn put_key(w: &mut Writer<'_>, attr: u16, key: &FlowKey) -> Result<(), CodecError> {
    let e = |e| CodecError::from_nla(key_attr_name(0), e);
    let n = w.begin_nest_noflag(attr).map_err(e)?;
    put_key_attrs(w, key, key, false)?;
    w.end_nest(n).map_err(e)
}

/// Emits `mask` (of `key`) as a nested attribute of type `attr` (e.g. `OVS_FLOW_ATTR_MASK`).
pub fn put_mask(w: &mut Writer<'_>, attr: u16, key: &FlowKey, mask: &FlowKey) -> Result<(), CodecError> {
    let e = |e| CodecError::from_nla(key_attr_name(0), e);
    let n = w.begin_nest_noflag(attr).map_err(e)?;
    put_key_attrs(w, key, mask, true)?;
    w.end_nest(n).map_err(e)
}

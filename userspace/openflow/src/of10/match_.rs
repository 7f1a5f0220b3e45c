//! The 40-byte OpenFlow 1.0 `ofp_match` (`OFPFW10_*` wildcards) and its conversion to and from
//! the version-neutral [`Match`].

use super::*;

/// `OFPFW10_*` wildcard bits.
#[allow(missing_docs)]
pub mod fw {
    pub const IN_PORT: u32 = 1 << 0;
    pub const DL_VLAN: u32 = 1 << 1;
    pub const DL_SRC: u32 = 1 << 2;
    pub const DL_DST: u32 = 1 << 3;
    pub const DL_TYPE: u32 = 1 << 4;
    pub const NW_PROTO: u32 = 1 << 5;
    pub const TP_SRC: u32 = 1 << 6;
    pub const TP_DST: u32 = 1 << 7;
    pub const NW_SRC_SHIFT: u32 = 8;
    pub const NW_DST_SHIFT: u32 = 14;
    pub const DL_VLAN_PCP: u32 = 1 << 20;
    pub const NW_TOS: u32 = 1 << 21;
    pub const ALL: u32 = (1 << 22) - 1;
    /// "Everything wildcarded" as Open vSwitch writes it (32 wildcarded address bits).
    pub const ALL_CANONICAL: u32 =
        (ALL & !(0xfff << NW_SRC_SHIFT)) | (32 << NW_SRC_SHIFT) | (32 << NW_DST_SHIFT);
}

/// `OFP_VLAN_NONE`: matches packets without a VLAN tag.
pub(super) const VLAN_NONE: u16 = 0xffff;

pub(super) fn prefix_mask(wild_bits: u32) -> Option<u32> {
    if wild_bits >= 32 {
        None
    } else {
        Some(u32::MAX.checked_shl(wild_bits).unwrap_or(0))
    }
}

/// Decodes a 40-byte `ofp_match` into the model.
pub fn decode_match(r: &mut Reader<'_>) -> DecodeResult<Match> {
    let w = r.u32()?;
    let in_port = r.u16()?;
    let dl_src: [u8; 6] = r.array()?;
    let dl_dst: [u8; 6] = r.array()?;
    let dl_vlan = r.u16()?;
    let dl_vlan_pcp = r.u8()?;
    r.skip(1)?;
    let dl_type = r.u16()?;
    let nw_tos = r.u8()?;
    let nw_proto = r.u8()?;
    r.skip(2)?;
    let nw_src = r.u32()?;
    let nw_dst = r.u32()?;
    let tp_src = r.u16()?;
    let tp_dst = r.u16()?;

    let mut m = Match::new();
    let has = |bit: u32| w & bit == 0;
    if has(fw::IN_PORT) {
        m.set(Field::InPort, u128::from(port::from_of10(in_port)));
    }
    if has(fw::DL_SRC) {
        m.set(Field::EthSrc, u128::from(MacAddr(dl_src).to_u64()));
    }
    if has(fw::DL_DST) {
        m.set(Field::EthDst, u128::from(MacAddr(dl_dst).to_u64()));
    }
    let mut tagged = false;
    if has(fw::DL_VLAN) {
        if dl_vlan == VLAN_NONE {
            m.set(Field::VlanVid, 0);
        } else {
            tagged = true;
            m.set(Field::VlanVid, u128::from((dl_vlan & 0xfff) | VID_PRESENT));
        }
    }
    if has(fw::DL_VLAN_PCP) && !(has(fw::DL_VLAN) && dl_vlan == VLAN_NONE) {
        if !tagged {
            let p = u128::from(VID_PRESENT);
            m.set_masked(Field::VlanVid, p, p);
        }
        m.set(Field::VlanPcp, u128::from(dl_vlan_pcp & 7));
    }
    if !has(fw::DL_TYPE) {
        return Ok(m);
    }
    m.set(Field::EthType, u128::from(dl_type));
    let (src_f, dst_f) = match dl_type {
        0x0800 => (Field::Ipv4Src, Field::Ipv4Dst),
        0x0806 | 0x8035 => (Field::ArpSpa, Field::ArpTpa),
        _ => return Ok(m),
    };
    if let Some(mask) = prefix_mask((w >> fw::NW_SRC_SHIFT) & 0x3f) {
        m.set_masked(src_f, u128::from(nw_src), u128::from(mask));
    }
    if let Some(mask) = prefix_mask((w >> fw::NW_DST_SHIFT) & 0x3f) {
        m.set_masked(dst_f, u128::from(nw_dst), u128::from(mask));
    }
    if dl_type != 0x0800 {
        if has(fw::NW_PROTO) {
            m.set(Field::ArpOp, u128::from(nw_proto));
        }
        return Ok(m);
    }
    if has(fw::NW_TOS) {
        m.set(Field::IpDscp, u128::from(nw_tos >> 2));
    }
    if !has(fw::NW_PROTO) {
        return Ok(m);
    }
    m.set(Field::IpProto, u128::from(nw_proto));
    let (sf, df) = match nw_proto {
        6 => (Field::TcpSrc, Field::TcpDst),
        17 => (Field::UdpSrc, Field::UdpDst),
        132 => (Field::SctpSrc, Field::SctpDst),
        1 => (Field::Icmpv4Type, Field::Icmpv4Code),
        _ => return Ok(m),
    };
    if has(fw::TP_SRC) {
        m.set(
            sf,
            u128::from(if nw_proto == 1 { tp_src & 0xff } else { tp_src }),
        );
    }
    if has(fw::TP_DST) {
        m.set(
            df,
            u128::from(if nw_proto == 1 { tp_dst & 0xff } else { tp_dst }),
        );
    }
    Ok(m)
}

pub(super) fn prefix_len(mask: u32) -> Option<u32> {
    let n = mask.leading_ones();
    (mask.checked_shl(n).unwrap_or(0) == 0).then_some(n)
}

/// Encodes the model as a 40-byte `ofp_match`; fails if 1.0 cannot express it.
pub fn encode_match(m: &Match, out: &mut Vec<u8>) -> EncodeResult<()> {
    let mut w = fw::ALL_CANONICAL;
    let mut in_port = 0u16;
    let mut dl_src = [0u8; 6];
    let mut dl_dst = [0u8; 6];
    let (mut dl_vlan, mut pcp, mut dl_type, mut tos, mut proto) = (0u16, 0u8, 0u16, 0u8, 0u8);
    let (mut nw_src, mut nw_dst, mut tp_src, mut tp_dst) = (0u32, 0u32, 0u16, 0u16);
    let small = |v: u128| u16::try_from(v).unwrap_or(0);
    for (f, fm) in m.iter() {
        let v = fm.value;
        let name = f.info().name;
        match (f, fm.mask) {
            (Field::InPort, None) => {
                in_port = port::to_of10(u32::try_from(v).unwrap_or(0))
                    .ok_or_else(|| unsupported(format!("in_port {v}")))?;
                w &= !fw::IN_PORT;
            }
            (Field::EthSrc, None) => {
                dl_src = MacAddr::from_u64(u64::try_from(v).unwrap_or(0)).0;
                w &= !fw::DL_SRC;
            }
            (Field::EthDst, None) => {
                dl_dst = MacAddr::from_u64(u64::try_from(v).unwrap_or(0)).0;
                w &= !fw::DL_DST;
            }
            (Field::VlanVid, None) => {
                dl_vlan = if v == 0 { VLAN_NONE } else { small(v) & 0xfff };
                w &= !fw::DL_VLAN;
                if v == 0 {
                    // OVS writes "no tag" with an exact (zero) priority.
                    w &= !fw::DL_VLAN_PCP;
                }
            }
            (Field::VlanVid, Some(mk)) if mk == u128::from(VID_PRESENT) && v == mk => {
                if m.get(Field::VlanPcp).is_none() {
                    return Err(unsupported(
                        "vlan_vid present-bit-only match without dl_vlan_pcp",
                    ));
                }
            }
            (Field::VlanPcp, None) => {
                pcp = u8::try_from(v).unwrap_or(0);
                w &= !fw::DL_VLAN_PCP;
            }
            (Field::EthType, None) => {
                dl_type = small(v);
                w &= !fw::DL_TYPE;
            }
            (Field::IpDscp, None) => {
                tos = u8::try_from(v).unwrap_or(0) << 2;
                w &= !fw::NW_TOS;
            }
            (Field::IpProto | Field::ArpOp, None) => {
                proto = u8::try_from(v & 0xff).unwrap_or(0);
                w &= !fw::NW_PROTO;
            }
            (Field::Ipv4Src | Field::ArpSpa | Field::Ipv4Dst | Field::ArpTpa, mask) => {
                let mask = u32::try_from(mask.unwrap_or(u128::from(u32::MAX))).unwrap_or(0);
                let n =
                    prefix_len(mask).ok_or_else(|| unsupported(format!("{name} non-CIDR mask")))?;
                let wild = 32u32.saturating_sub(n);
                let ip = u32::try_from(v).unwrap_or(0);
                if matches!(f, Field::Ipv4Src | Field::ArpSpa) {
                    nw_src = ip;
                    w = (w & !(0x3f << fw::NW_SRC_SHIFT)) | (wild << fw::NW_SRC_SHIFT);
                } else {
                    nw_dst = ip;
                    w = (w & !(0x3f << fw::NW_DST_SHIFT)) | (wild << fw::NW_DST_SHIFT);
                }
            }
            (Field::TcpSrc | Field::UdpSrc | Field::SctpSrc | Field::Icmpv4Type, None) => {
                tp_src = small(v);
                w &= !fw::TP_SRC;
            }
            (Field::TcpDst | Field::UdpDst | Field::SctpDst | Field::Icmpv4Code, None) => {
                tp_dst = small(v);
                w &= !fw::TP_DST;
            }
            _ => {
                return Err(unsupported(format!(
                    "match on {name}{}",
                    if fm.mask.is_some() { " (masked)" } else { "" }
                )))
            }
        }
    }
    out.put_u32(w);
    out.put_u16(in_port);
    out.extend_from_slice(&dl_src);
    out.extend_from_slice(&dl_dst);
    out.put_u16(dl_vlan);
    out.put_u8(pcp);
    out.put_u8(0);
    out.put_u16(dl_type);
    out.put_u8(tos);
    out.put_u8(proto);
    out.put_zeros(2);
    out.put_u32(nw_src);
    out.put_u32(nw_dst);
    out.put_u16(tp_src);
    out.put_u16(tp_dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(m: &Match) -> Match {
        let mut b = Vec::new();
        encode_match(m, &mut b).unwrap();
        assert_eq!(b.len(), 40);
        decode_match(&mut Reader::new(&b, BadRequest::BadLen)).unwrap()
    }

    #[test]
    fn match_roundtrip() {
        let m = Match::new()
            .with(Field::InPort, 1)
            .with(Field::EthType, 0x0800)
            .with(Field::IpProto, 6)
            .with_masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000)
            .with(Field::Ipv4Dst, 0x0a00_0001)
            .with(Field::IpDscp, 46)
            .with(Field::TcpDst, 80)
            .with(Field::VlanVid, 0x1000 | 10)
            .with(Field::VlanPcp, 5);
        assert_eq!(rt(&m), m);
        let arp = Match::new()
            .with(Field::EthType, 0x0806)
            .with(Field::ArpOp, 1)
            .with(Field::ArpTpa, 0x0a000001);
        assert_eq!(rt(&arp), arp);
        let notag = Match::new().with(Field::VlanVid, 0);
        assert_eq!(rt(&notag), notag);
        let pcp_only = Match::new()
            .with_masked(Field::VlanVid, 0x1000, 0x1000)
            .with(Field::VlanPcp, 2);
        assert_eq!(rt(&pcp_only), pcp_only);
        let icmp = Match::new()
            .with(Field::EthType, 0x0800)
            .with(Field::IpProto, 1)
            .with(Field::Icmpv4Type, 8)
            .with(Field::Icmpv4Code, 0);
        assert_eq!(rt(&icmp), icmp);
    }

    #[test]
    fn unexpressible_matches_are_refused() {
        let mut b = Vec::new();
        let v6 = Match::new()
            .with(Field::EthType, 0x86dd)
            .with(Field::Ipv6Src, 1);
        assert!(encode_match(&v6, &mut b).is_err());
        let noncidr =
            Match::new()
                .with(Field::EthType, 0x0800)
                .with_masked(Field::Ipv4Src, 1, 0xff00ff01);
        assert!(encode_match(&noncidr, &mut b).is_err());
    }

    #[test]
    fn fields_without_prerequisites_are_ignored() {
        // nw_src given but dl_type wildcarded: OVS ignores it.
        let mut b = vec![0u8; 40];
        b[0..4].copy_from_slice(&(fw::ALL & !(0x3f << fw::NW_SRC_SHIFT)).to_be_bytes());
        b[28..32].copy_from_slice(&[10, 0, 0, 1]);
        let m = decode_match(&mut Reader::new(&b, BadRequest::BadLen)).unwrap();
        assert!(m.is_empty());
    }

    #[test]
    fn port_features_remap() {
        // 1.0 OFPPF_COPPER (1<<7) is 1.3 OFPPF_COPPER (1<<11).
        assert_eq!(features_from_of10(1 << 7), 1 << 11);
        assert_eq!(features_to_of10(1 << 11 | 1 << 6), 1 << 7 | 1 << 6);
    }
}

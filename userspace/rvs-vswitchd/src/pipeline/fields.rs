//! Where each OpenFlow (OXM) field lives in a classifier key: a big-endian byte range of the
//! datapath [`FlowKey`] layout (or of the two pipeline words), and a bit shift within it. This
//! one table serves matches (OXM match → [`ClsMatch`]), set-field (writing a field of the
//! packet's flow) and reading fields back.
//!
//! Fields the datapath key does not carry (MPLS, PBB, `in_phy_port`) are refused with
//! `OFPBMC_BAD_FIELD` / `OFPBAC_BAD_SET_TYPE`.

use std::ops::Range;

use rvs_core::key::FlowKey;
use rvs_openflow::error::{BadAction, BadMatch, OfpError};
use rvs_openflow::oxm::{Field, Match};

use super::classifier::{ClsKey, ClsMatch, WORDS};

/// A field's place: bytes of the classifier key (big-endian number) and the shift of the
/// field's value within that number.
#[derive(Debug, Clone)]
pub struct Loc {
    /// Byte range.
    pub bytes: Range<usize>,
    /// Left shift of the value.
    pub shift: u32,
}

const fn loc(bytes: Range<usize>, shift: u32) -> Option<Loc> {
    Some(Loc { bytes, shift })
}

/// Metadata register bytes in a [`ClsKey`].
pub const METADATA_BYTES: Range<usize> = 192..200;
/// OpenFlow input port bytes in a [`ClsKey`].
pub const OFPORT_BYTES: Range<usize> = 204..208;

/// Where `f` lives, `None` if the datapath key does not carry it.
pub fn location(f: Field) -> Option<Loc> {
    use Field::*;
    match f {
        InPort => loc(OFPORT_BYTES, 0),
        Metadata => loc(METADATA_BYTES, 0),
        TunnelId => loc(0..8, 0),
        EthSrc => loc(80..86, 0),
        EthDst => loc(86..92, 0),
        EthType => loc(92..94, 0),
        // The TCI's CFI bit is OpenFlow's OFPVID_PRESENT (0x1000), as in Open vSwitch.
        VlanVid => loc(94..96, 0),
        VlanPcp => loc(94..96, 13),
        IpProto | ArpOp => loc(102..103, 0),
        IpDscp => loc(103..104, 2),
        IpEcn => loc(103..104, 0),
        TcpSrc | UdpSrc | SctpSrc | Icmpv4Type | Icmpv6Type => loc(106..108, 0),
        TcpDst | UdpDst | SctpDst | Icmpv4Code | Icmpv6Code => loc(108..110, 0),
        Ipv4Src | ArpSpa => loc(112..116, 0),
        Ipv4Dst | ArpTpa => loc(116..120, 0),
        ArpSha | Ipv6NdSll => loc(120..126, 0),
        ArpTha | Ipv6NdTll => loc(126..132, 0),
        Ipv6Src => loc(132..148, 0),
        Ipv6Dst => loc(148..164, 0),
        Ipv6Flabel => loc(164..168, 0),
        Ipv6NdTarget => loc(168..184, 0),
        Ipv6Exthdr => loc(184..186, 0),
        InPhyPort | MplsLabel | MplsTc | MplsBos | PbbIsid => None,
    }
}

fn read_be(b: &[u8], r: &Range<usize>) -> u128 {
    b.get(r.clone()).unwrap_or_default().iter().fold(0u128, |a, &x| (a << 8) | u128::from(x))
}

fn write_be(b: &mut [u8], r: &Range<usize>, v: u128) {
    if let Some(dst) = b.get_mut(r.clone()) {
        let n = dst.len();
        let all = v.to_be_bytes();
        if let Some(src) = all.get(16 - n..) {
            dst.copy_from_slice(src);
        }
    }
}

/// Writes `value` under `mask` (both unshifted field numbers) into key bytes `b`.
fn put(b: &mut [u8], l: &Loc, value: u128, mask: u128) {
    let cur = read_be(b, &l.bytes);
    let m = mask << l.shift;
    write_be(b, &l.bytes, (cur & !m) | ((value << l.shift) & m));
}

/// The field's value in key bytes `b`.
fn get(b: &[u8], l: &Loc, f: Field) -> u128 {
    (read_be(b, &l.bytes) >> l.shift) & f.max_value()
}

/// The classifier form of an OpenFlow match (`OFPBMC_BAD_FIELD` for fields the datapath
/// does not carry, `OFPBMC_BAD_VALUE` for values it cannot hold).
pub fn match_to_cls(m: &Match) -> Result<ClsMatch, OfpError> {
    let mut v = [0u8; WORDS * 8];
    let mut k = [0u8; WORDS * 8];
    for (f, fm) in m.iter() {
        let l = location(f).ok_or(OfpError::BadMatch(BadMatch::BadField))?;
        if f == Field::ArpOp && fm.value > 0xff {
            // The datapath keeps the low byte of the ARP opcode only.
            return Err(OfpError::BadMatch(BadMatch::BadValue));
        }
        let mask = fm.mask_or_exact(f);
        put(&mut v, &l, fm.value, mask);
        put(&mut k, &l, mask, mask);
    }
    Ok(ClsMatch::new(ClsKey::from_bytes(&v), ClsKey::from_bytes(&k)))
}

/// Reads field `f` of `flow` (`None` for the pipeline-only and unsupported fields).
pub fn flow_get(flow: &FlowKey, f: Field) -> Option<u128> {
    let l = location(f).filter(|l| l.bytes.end <= 192)?;
    Some(get(flow.as_bytes(), &l, f))
}

/// Sets field `f` of `flow` to `value` (truncated to the field's width);
/// `OFPBAC_BAD_SET_TYPE` for a field that is not part of the datapath key.
pub fn flow_set(flow: &mut FlowKey, f: Field, value: u128) -> Result<(), OfpError> {
    let l = location(f).filter(|l| l.bytes.end <= 192).ok_or(OfpError::BadAction(BadAction::BadSetType))?;
    put(flow.as_bytes_mut(), &l, value & f.max_value(), f.max_value());
    Ok(())
}

/// Whether `f` can be set on a packet by set-field: the fields translation commits to the
/// datapath (Ethernet, VLAN, IP addresses/DSCP/ECN/label, L4 ports) and metadata. ARP, ND,
/// ICMP, IP protocol and tunnel fields are refused rather than silently not applied.
pub fn settable(f: Field) -> bool {
    use Field::*;
    matches!(
        f,
        Metadata | EthSrc | EthDst | VlanVid | VlanPcp | IpDscp | IpEcn | Ipv4Src | Ipv4Dst | TcpSrc | TcpDst | UdpSrc | UdpDst | SctpSrc
            | SctpDst | Ipv6Src | Ipv6Dst | Ipv6Flabel
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_fields_land_on_the_datapath_key() {
        let m = Match::new()
            .with(Field::InPort, 3)
            .with(Field::EthType, 0x0800)
            .with_masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000)
            .with(Field::IpProto, 6)
            .with(Field::TcpDst, 80)
            .with(Field::VlanVid, 0x1000 | 10)
            .with(Field::Metadata, 0x1234);
        let c = match_to_cls(&m).unwrap();
        let (v, k) = (c.value.flow_part(), c.mask.flow_part());
        assert_eq!((v.eth_type(), k.eth_type()), (0x0800, 0xffff));
        assert_eq!((v.ipv4_src(), k.ipv4_src()), (0x0a00_0000, 0xff00_0000));
        assert_eq!((v.tp_dst(), k.tp_dst()), (80, 0xffff));
        assert_eq!((v.vlan_tci(), k.vlan_tci()), (0x1000 | 10, 0x1fff));
        assert_eq!(k.in_port(), 0, "OpenFlow port is not the datapath port");
        let pkt = ClsKey::from_flow(&{
            let mut f = FlowKey::ZERO;
            f.set_eth_type(0x0800);
            f.set_ipv4_src(0x0a01_0203);
            f.set_ip_proto(6);
            f.set_tp_dst(80);
            f.set_vlan_tci(0x1000 | 10 | 0xa000);
            f
        }, 0x1234, 3);
        assert!(c.value.matches(&pkt, &c.mask));
        let ow = super::super::classifier::OFPORT_WORD;
        let mut other_port = pkt;
        other_port.0[ow] = ClsKey::from_flow(&FlowKey::ZERO, 0, 4).0[ow];
        assert!(!c.value.matches(&other_port, &c.mask));
        let pcp = match_to_cls(&Match::new().with(Field::VlanPcp, 5)).unwrap();
        assert_eq!(pcp.mask.flow_part().vlan_tci(), 0xe000);
        assert_eq!(pcp.value.flow_part().vlan_tci(), 0xa000);
        assert_eq!(match_to_cls(&Match::new().with(Field::MplsLabel, 5)), Err(OfpError::BadMatch(BadMatch::BadField)));
        assert_eq!(match_to_cls(&Match::new().with(Field::ArpOp, 300)), Err(OfpError::BadMatch(BadMatch::BadValue)));
    }

    #[test]
    fn set_and_get() {
        let mut f = FlowKey::ZERO;
        f.set_ip_tos(0xff);
        flow_set(&mut f, Field::IpDscp, 10).unwrap();
        assert_eq!(f.ip_tos(), (10 << 2) | 3, "ECN bits kept");
        assert_eq!(flow_get(&f, Field::IpDscp), Some(10));
        flow_set(&mut f, Field::EthDst, 0x0200_0000_0001).unwrap();
        assert_eq!(f.eth_dst(), [2, 0, 0, 0, 0, 1]);
        assert!(flow_set(&mut f, Field::InPort, 1).is_err());
        assert!(!settable(Field::MplsTc));
        assert!(!settable(Field::ArpSpa), "not committed to the datapath: refused");
        assert!(settable(Field::Ipv6Flabel));
    }
}

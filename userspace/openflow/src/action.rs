//! Actions: the version-neutral [`Action`] model and its OpenFlow 1.0 (`ofp_action_*`,
//! `OFPAT10_*`) and OpenFlow 1.1+ (`OFPAT11_*`, set-field as OXM) wire codecs.
//!
//! The model keeps OpenFlow 1.0's own rewrite actions (`SetVlanVid`, `SetDlSrc`, ...) because
//! their semantics differ from 1.3's set-field (1.0 `set_vlan_vid` pushes a tag when there is
//! none); encoders translate between the two where the meaning is the same, like OVS does.

use crate::error::{BadAction, DecodeError, DecodeResult, EncodeError, EncodeResult};
use crate::oxm::{self, Field, OxmUse, VID_PRESENT};
use crate::types::{port, MacAddr, Version};
use crate::wire::{Put, Reader};

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Output to a port; `max_len` bytes go to the controller for `port::CONTROLLER`.
    Output {
        /// Output port (model numbering).
        port: u32,
        /// Bytes to send to the controller.
        max_len: u16,
    },
    /// Set a header field (OpenFlow 1.2+).
    SetField {
        /// The field.
        field: Field,
        /// The new value.
        value: u128,
    },
    /// Push a VLAN header with this ethertype (0x8100 or 0x88a8).
    PushVlan(u16),
    /// Pop the outermost VLAN header (1.0: `strip_vlan`).
    PopVlan,
    /// Push an MPLS header with this ethertype.
    PushMpls(u16),
    /// Pop the outermost MPLS header; the payload has this ethertype.
    PopMpls(u16),
    /// Apply a group.
    Group(u32),
    /// Set the output queue.
    SetQueue(u32),
    /// Decrement the IP TTL.
    DecNwTtl,
    /// Set the IP TTL.
    SetNwTtl(u8),
    /// Copy TTL "outwards".
    CopyTtlOut,
    /// Copy TTL "inwards".
    CopyTtlIn,
    /// Set the MPLS TTL.
    SetMplsTtl(u8),
    /// Decrement the MPLS TTL.
    DecMplsTtl,
    /// OpenFlow 1.0: set the 802.1Q VLAN id, pushing a tag if there is none.
    SetVlanVid(u16),
    /// OpenFlow 1.0: set the 802.1Q priority, pushing a tag if there is none.
    SetVlanPcp(u8),
    /// OpenFlow 1.0: set the Ethernet source.
    SetDlSrc(MacAddr),
    /// OpenFlow 1.0: set the Ethernet destination.
    SetDlDst(MacAddr),
    /// OpenFlow 1.0: set the IPv4 source.
    SetNwSrc(u32),
    /// OpenFlow 1.0: set the IPv4 destination.
    SetNwDst(u32),
    /// OpenFlow 1.0: set the IP ToS (DSCP bits; low two bits zero).
    SetNwTos(u8),
    /// OpenFlow 1.0: set the TCP/UDP source port.
    SetTpSrc(u16),
    /// OpenFlow 1.0: set the TCP/UDP destination port.
    SetTpDst(u16),
    /// OpenFlow 1.0: output to a queue of a port.
    Enqueue {
        /// Port.
        port: u32,
        /// Queue.
        queue_id: u32,
    },
    /// An experimenter (vendor) action, kept opaque.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Bytes after the experimenter id.
        data: Vec<u8>,
    },
}

impl Action {
    /// Nicira's `pop_queue` (`NXAST_POP_QUEUE`), an experimenter action.
    pub fn pop_queue() -> Action {
        Action::Experimenter { experimenter: crate::error::NX_VENDOR_ID, data: vec![0, 5, 0, 0, 0, 0, 0, 0] }
    }
}

/// OpenFlow 1.0 action type numbers.
mod at10 {
    pub const OUTPUT: u16 = 0;
    pub const SET_VLAN_VID: u16 = 1;
    pub const SET_VLAN_PCP: u16 = 2;
    pub const STRIP_VLAN: u16 = 3;
    pub const SET_DL_SRC: u16 = 4;
    pub const SET_DL_DST: u16 = 5;
    pub const SET_NW_SRC: u16 = 6;
    pub const SET_NW_DST: u16 = 7;
    pub const SET_NW_TOS: u16 = 8;
    pub const SET_TP_SRC: u16 = 9;
    pub const SET_TP_DST: u16 = 10;
    pub const ENQUEUE: u16 = 11;
    pub const VENDOR: u16 = 0xffff;
}

/// OpenFlow 1.1+ action type numbers.
pub mod at13 {
    /// Output.
    pub const OUTPUT: u16 = 0;
    /// Copy TTL out.
    pub const COPY_TTL_OUT: u16 = 11;
    /// Copy TTL in.
    pub const COPY_TTL_IN: u16 = 12;
    /// Set MPLS TTL.
    pub const SET_MPLS_TTL: u16 = 15;
    /// Decrement MPLS TTL.
    pub const DEC_MPLS_TTL: u16 = 16;
    /// Push VLAN.
    pub const PUSH_VLAN: u16 = 17;
    /// Pop VLAN.
    pub const POP_VLAN: u16 = 18;
    /// Push MPLS.
    pub const PUSH_MPLS: u16 = 19;
    /// Pop MPLS.
    pub const POP_MPLS: u16 = 20;
    /// Set queue.
    pub const SET_QUEUE: u16 = 21;
    /// Group.
    pub const GROUP: u16 = 22;
    /// Set IP TTL.
    pub const SET_NW_TTL: u16 = 23;
    /// Decrement IP TTL.
    pub const DEC_NW_TTL: u16 = 24;
    /// Set field.
    pub const SET_FIELD: u16 = 25;
    /// Experimenter.
    pub const EXPERIMENTER: u16 = 0xffff;
}

fn bad(code: BadAction, detail: impl Into<String>) -> DecodeError {
    DecodeError::new(code, detail)
}

fn unsupported(what: impl Into<String>, version: Version) -> EncodeError {
    EncodeError::Unsupported { what: what.into(), version }
}

/// Validates an output port for the given version (`OFPBAC_BAD_OUT_PORT`).
fn check_out_port(p: u32) -> DecodeResult<()> {
    if p == 0 || p == port::ANY || (p > port::MAX && port::name(p).is_none()) {
        return Err(bad(BadAction::BadOutPort, format!("output to port {p:#x}")));
    }
    Ok(())
}

/// Decodes an action list of `version`.
pub fn decode_actions(version: Version, buf: &[u8]) -> DecodeResult<Vec<Action>> {
    let mut r = Reader::new(buf, BadAction::BadLen);
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut h = Reader::new(r.peek(4)?, BadAction::BadLen);
        let atype = h.u16()?;
        let len = usize::from(h.u16()?);
        if len < 8 || len % 8 != 0 || len > r.remaining() {
            return Err(bad(BadAction::BadLen, format!("action type {atype} length {len}")));
        }
        let mut a = r.sub(len, BadAction::BadLen)?;
        a.skip(4)?;
        let act = if version == Version::OF10 {
            decode_of10(atype, len, &mut a)?
        } else {
            decode_of13(atype, len, &mut a)?
        };
        out.push(act);
    }
    // Flow tables keep decoded action lists: no spare capacity.
    out.shrink_to_fit();
    Ok(out)
}

fn expect_len(atype: u16, len: usize, want: usize) -> DecodeResult<()> {
    if len != want {
        return Err(bad(BadAction::BadLen, format!("action type {atype} length {len} != {want}")));
    }
    Ok(())
}

fn decode_of10(atype: u16, len: usize, a: &mut Reader<'_>) -> DecodeResult<Action> {
    use at10::*;
    let fixed = match atype {
        SET_DL_SRC | SET_DL_DST | ENQUEUE => 16,
        VENDOR => len,
        OUTPUT..=SET_TP_DST => 8,
        _ => return Err(bad(BadAction::BadType, format!("OpenFlow 1.0 action type {atype}"))),
    };
    expect_len(atype, len, fixed)?;
    Ok(match atype {
        OUTPUT => {
            let p = port::from_of10(a.u16()?);
            check_out_port(p)?;
            Action::Output { port: p, max_len: a.u16()? }
        }
        SET_VLAN_VID => {
            let vid = a.u16()?;
            if vid > 0xfff {
                return Err(bad(BadAction::BadArgument, format!("vlan id {vid}")));
            }
            Action::SetVlanVid(vid)
        }
        SET_VLAN_PCP => {
            let pcp = a.u8()?;
            if pcp > 7 {
                return Err(bad(BadAction::BadArgument, format!("vlan pcp {pcp}")));
            }
            Action::SetVlanPcp(pcp)
        }
        STRIP_VLAN => Action::PopVlan,
        SET_DL_SRC => Action::SetDlSrc(MacAddr(a.array()?)),
        SET_DL_DST => Action::SetDlDst(MacAddr(a.array()?)),
        SET_NW_SRC => Action::SetNwSrc(a.u32()?),
        SET_NW_DST => Action::SetNwDst(a.u32()?),
        SET_NW_TOS => {
            let tos = a.u8()?;
            if tos & 3 != 0 {
                return Err(bad(BadAction::BadArgument, format!("nw_tos {tos:#x} has ECN bits")));
            }
            Action::SetNwTos(tos)
        }
        SET_TP_SRC => Action::SetTpSrc(a.u16()?),
        SET_TP_DST => Action::SetTpDst(a.u16()?),
        ENQUEUE => {
            let p = port::from_of10(a.u16()?);
            if p == port::ANY || p == 0 || (p > port::MAX && p != port::IN_PORT && p != port::LOCAL)
            {
                return Err(bad(BadAction::BadOutPort, format!("enqueue on port {p:#x}")));
            }
            a.skip(6)?;
            Action::Enqueue { port: p, queue_id: a.u32()? }
        }
        _ => {
            let experimenter = a.u32()?;
            Action::Experimenter { experimenter, data: a.rest().to_vec() }
        }
    })
}

fn decode_of13(atype: u16, len: usize, a: &mut Reader<'_>) -> DecodeResult<Action> {
    use at13::*;
    let fixed = match atype {
        OUTPUT => 16,
        SET_FIELD | EXPERIMENTER => len,
        COPY_TTL_OUT | COPY_TTL_IN | SET_MPLS_TTL | DEC_MPLS_TTL | PUSH_VLAN | POP_VLAN
        | PUSH_MPLS | POP_MPLS | SET_QUEUE | GROUP | SET_NW_TTL | DEC_NW_TTL => 8,
        _ => return Err(bad(BadAction::BadType, format!("OpenFlow 1.3 action type {atype}"))),
    };
    expect_len(atype, len, fixed)?;
    Ok(match atype {
        OUTPUT => {
            let p = a.u32()?;
            check_out_port(p)?;
            Action::Output { port: p, max_len: a.u16()? }
        }
        COPY_TTL_OUT => Action::CopyTtlOut,
        COPY_TTL_IN => Action::CopyTtlIn,
        SET_MPLS_TTL => Action::SetMplsTtl(a.u8()?),
        DEC_MPLS_TTL => Action::DecMplsTtl,
        PUSH_VLAN => {
            let et = a.u16()?;
            if et != 0x8100 && et != 0x88a8 {
                return Err(bad(BadAction::BadArgument, format!("push_vlan ethertype {et:#x}")));
            }
            Action::PushVlan(et)
        }
        POP_VLAN => Action::PopVlan,
        PUSH_MPLS => {
            let et = a.u16()?;
            if et != 0x8847 && et != 0x8848 {
                return Err(bad(BadAction::BadArgument, format!("push_mpls ethertype {et:#x}")));
            }
            Action::PushMpls(et)
        }
        POP_MPLS => Action::PopMpls(a.u16()?),
        SET_QUEUE => Action::SetQueue(a.u32()?),
        GROUP => {
            let g = a.u32()?;
            if g > crate::types::group::MAX {
                return Err(bad(BadAction::BadOutGroup, format!("group {g:#x}")));
            }
            Action::Group(g)
        }
        SET_NW_TTL => Action::SetNwTtl(a.u8()?),
        DEC_NW_TTL => Action::DecNwTtl,
        SET_FIELD => {
            let (field, fm) = oxm::decode_oxm(a, OxmUse::SetField)?;
            if !field.is_settable() {
                return Err(bad(BadAction::BadSetType, format!("{} is read-only", field.info().name)));
            }
            if field == Field::VlanVid && fm.value & u128::from(VID_PRESENT) == 0 {
                return Err(bad(BadAction::BadSetArgument, "set_field vlan_vid without OFPVID_PRESENT"));
            }
            if a.rest().iter().any(|&b| b != 0) {
                return Err(bad(BadAction::BadSetArgument, "set_field padding not zero"));
            }
            Action::SetField { field, value: fm.value }
        }
        _ => {
            let experimenter = a.u32()?;
            Action::Experimenter { experimenter, data: a.rest().to_vec() }
        }
    })
}

/// Appends `actions` in `version`'s encoding.
pub fn encode_actions(version: Version, actions: &[Action], out: &mut Vec<u8>) -> EncodeResult<()> {
    for a in actions {
        if version == Version::OF10 {
            encode_of10(a, out)?;
        } else {
            encode_of13(a, out)?;
        }
    }
    Ok(())
}

fn hdr(out: &mut Vec<u8>, atype: u16, len: u16) {
    out.put_u16(atype);
    out.put_u16(len);
}

fn field_u16(v: u128) -> u16 {
    u16::try_from(v).unwrap_or(0)
}

fn encode_of10(a: &Action, out: &mut Vec<u8>) -> EncodeResult<()> {
    use at10::*;
    let v = Version::OF10;
    let p10 = |p: u32| port::to_of10(p).ok_or_else(|| unsupported(format!("port {p}"), v));
    match a {
        Action::Output { port: p, max_len } => {
            hdr(out, OUTPUT, 8);
            out.put_u16(p10(*p)?);
            out.put_u16(*max_len);
        }
        Action::SetVlanVid(vid) => {
            hdr(out, SET_VLAN_VID, 8);
            out.put_u16(*vid & 0xfff);
            out.put_zeros(2);
        }
        Action::SetField { field: Field::VlanVid, value } => {
            hdr(out, SET_VLAN_VID, 8);
            out.put_u16(field_u16(*value) & 0xfff);
            out.put_zeros(2);
        }
        Action::SetVlanPcp(pcp) => {
            hdr(out, SET_VLAN_PCP, 8);
            out.put_u8(*pcp);
            out.put_zeros(3);
        }
        Action::SetField { field: Field::VlanPcp, value } => {
            hdr(out, SET_VLAN_PCP, 8);
            out.put_u8(u8::try_from(*value).unwrap_or(0));
            out.put_zeros(3);
        }
        Action::PopVlan => {
            hdr(out, STRIP_VLAN, 8);
            out.put_zeros(4);
        }
        Action::SetDlSrc(m) | Action::SetDlDst(m) => {
            hdr(out, if matches!(a, Action::SetDlSrc(_)) { SET_DL_SRC } else { SET_DL_DST }, 16);
            out.extend_from_slice(&m.0);
            out.put_zeros(6);
        }
        Action::SetField { field: f @ (Field::EthSrc | Field::EthDst), value } => {
            hdr(out, if *f == Field::EthSrc { SET_DL_SRC } else { SET_DL_DST }, 16);
            out.extend_from_slice(&MacAddr::from_u64(u64::try_from(*value).unwrap_or(0)).0);
            out.put_zeros(6);
        }
        Action::SetNwSrc(ip) | Action::SetNwDst(ip) => {
            hdr(out, if matches!(a, Action::SetNwSrc(_)) { SET_NW_SRC } else { SET_NW_DST }, 8);
            out.put_u32(*ip);
        }
        Action::SetField { field: f @ (Field::Ipv4Src | Field::Ipv4Dst), value } => {
            hdr(out, if *f == Field::Ipv4Src { SET_NW_SRC } else { SET_NW_DST }, 8);
            out.put_u32(u32::try_from(*value).unwrap_or(0));
        }
        Action::SetNwTos(tos) => {
            hdr(out, SET_NW_TOS, 8);
            out.put_u8(*tos & 0xfc);
            out.put_zeros(3);
        }
        Action::SetField { field: Field::IpDscp, value } => {
            hdr(out, SET_NW_TOS, 8);
            out.put_u8(u8::try_from(*value & 0x3f).unwrap_or(0) << 2);
            out.put_zeros(3);
        }
        Action::SetTpSrc(p) | Action::SetTpDst(p) => {
            hdr(out, if matches!(a, Action::SetTpSrc(_)) { SET_TP_SRC } else { SET_TP_DST }, 8);
            out.put_u16(*p);
            out.put_zeros(2);
        }
        Action::SetField {
            field: f @ (Field::TcpSrc | Field::UdpSrc | Field::TcpDst | Field::UdpDst),
            value,
        } => {
            let src = matches!(f, Field::TcpSrc | Field::UdpSrc);
            hdr(out, if src { SET_TP_SRC } else { SET_TP_DST }, 8);
            out.put_u16(field_u16(*value));
            out.put_zeros(2);
        }
        Action::Enqueue { port: p, queue_id } => {
            hdr(out, ENQUEUE, 16);
            out.put_u16(p10(*p)?);
            out.put_zeros(6);
            out.put_u32(*queue_id);
        }
        Action::Experimenter { experimenter, data } => put_experimenter(out, VENDOR, *experimenter, data)?,
        other => return Err(unsupported(format!("action {other:?}"), v)),
    }
    Ok(())
}

fn put_experimenter(out: &mut Vec<u8>, t: u16, experimenter: u32, data: &[u8]) -> EncodeResult<()> {
    let start = out.len();
    hdr(out, t, 0);
    out.put_u32(experimenter);
    out.extend_from_slice(data);
    out.pad8_from(start);
    out.patch_u16(start.saturating_add(2), out.len().saturating_sub(start))
}

fn encode_of13(a: &Action, out: &mut Vec<u8>) -> EncodeResult<()> {
    use at13::*;
    let simple = |out: &mut Vec<u8>, t: u16| {
        hdr(out, t, 8);
        out.put_zeros(4);
    };
    let u8arg = |out: &mut Vec<u8>, t: u16, v: u8| {
        hdr(out, t, 8);
        out.put_u8(v);
        out.put_zeros(3);
    };
    let u16arg = |out: &mut Vec<u8>, t: u16, v: u16| {
        hdr(out, t, 8);
        out.put_u16(v);
        out.put_zeros(2);
    };
    let u32arg = |out: &mut Vec<u8>, t: u16, v: u32| {
        hdr(out, t, 8);
        out.put_u32(v);
    };
    match a {
        Action::Output { port: p, max_len } => {
            hdr(out, OUTPUT, 16);
            out.put_u32(*p);
            out.put_u16(*max_len);
            out.put_zeros(6);
        }
        Action::SetField { field, value } => put_set_field(out, *field, *value)?,
        Action::PushVlan(et) => u16arg(out, PUSH_VLAN, *et),
        Action::PopVlan => simple(out, POP_VLAN),
        Action::PushMpls(et) => u16arg(out, PUSH_MPLS, *et),
        Action::PopMpls(et) => u16arg(out, POP_MPLS, *et),
        Action::Group(g) => u32arg(out, GROUP, *g),
        Action::SetQueue(q) => u32arg(out, SET_QUEUE, *q),
        Action::DecNwTtl => simple(out, DEC_NW_TTL),
        Action::SetNwTtl(t) => u8arg(out, SET_NW_TTL, *t),
        Action::CopyTtlOut => simple(out, COPY_TTL_OUT),
        Action::CopyTtlIn => simple(out, COPY_TTL_IN),
        Action::SetMplsTtl(t) => u8arg(out, SET_MPLS_TTL, *t),
        Action::DecMplsTtl => simple(out, DEC_MPLS_TTL),
        Action::SetVlanVid(vid) => {
            put_set_field(out, Field::VlanVid, u128::from((*vid & 0xfff) | VID_PRESENT))?
        }
        Action::SetVlanPcp(p) => put_set_field(out, Field::VlanPcp, u128::from(*p))?,
        Action::SetDlSrc(m) => put_set_field(out, Field::EthSrc, u128::from(m.to_u64()))?,
        Action::SetDlDst(m) => put_set_field(out, Field::EthDst, u128::from(m.to_u64()))?,
        Action::SetNwSrc(ip) => put_set_field(out, Field::Ipv4Src, u128::from(*ip))?,
        Action::SetNwDst(ip) => put_set_field(out, Field::Ipv4Dst, u128::from(*ip))?,
        Action::SetNwTos(tos) => put_set_field(out, Field::IpDscp, u128::from(*tos >> 2))?,
        Action::Enqueue { port: p, queue_id } => {
            // As Open vSwitch: set_queue, output, Nicira pop_queue.
            u32arg(out, SET_QUEUE, *queue_id);
            encode_of13(&Action::Output { port: *p, max_len: u16::MAX }, out)?;
            encode_of13(&Action::pop_queue(), out)?;
        }
        Action::SetTpSrc(_) | Action::SetTpDst(_) => {
            return Err(unsupported(
                "OpenFlow 1.0 set_tp_src/dst (use set_field tcp_/udp_src/dst)",
                Version::OF13,
            ))
        }
        Action::Experimenter { experimenter, data } => {
            put_experimenter(out, EXPERIMENTER, *experimenter, data)?
        }
    }
    Ok(())
}

fn put_set_field(out: &mut Vec<u8>, field: Field, value: u128) -> EncodeResult<()> {
    oxm::check_value(field, value)?;
    let start = out.len();
    hdr(out, at13::SET_FIELD, 0);
    oxm::put_oxm(out, field, value);
    out.pad8_from(start);
    out.patch_u16(start.saturating_add(2), out.len().saturating_sub(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OfpError;

    fn rt(v: Version, acts: &[Action]) -> Vec<u8> {
        let mut b = Vec::new();
        encode_actions(v, acts, &mut b).unwrap();
        assert_eq!(decode_actions(v, &b).unwrap(), acts, "{v}");
        b
    }

    #[test]
    fn of13_roundtrip_and_bytes() {
        let b = rt(Version::OF13, &[Action::Output { port: 2, max_len: 0 }]);
        assert_eq!(b, [0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
        rt(
            Version::OF13,
            &[
                Action::PushVlan(0x8100),
                Action::SetField { field: Field::VlanVid, value: 0x1005 },
                Action::SetField { field: Field::Ipv6Src, value: 1 },
                Action::SetField { field: Field::EthDst, value: 0x0000_0102_0304 },
                Action::Group(7),
                Action::SetQueue(3),
                Action::DecNwTtl,
                Action::SetNwTtl(9),
                Action::CopyTtlIn,
                Action::CopyTtlOut,
                Action::PopVlan,
                Action::PushMpls(0x8847),
                Action::PopMpls(0x0800),
                Action::SetMplsTtl(3),
                Action::DecMplsTtl,
                Action::Output { port: port::CONTROLLER, max_len: 0xffff },
                Action::Experimenter { experimenter: 0x2320, data: vec![0, 1, 2, 3, 4, 5, 6, 7] },
            ],
        );
    }

    #[test]
    fn of10_roundtrip_and_bytes() {
        let b = rt(Version::OF10, &[Action::Output { port: port::LOCAL, max_len: 0 }]);
        assert_eq!(b, [0, 0, 0, 8, 0xff, 0xfe, 0, 0]);
        rt(
            Version::OF10,
            &[
                Action::SetVlanVid(10),
                Action::SetVlanPcp(3),
                Action::PopVlan,
                Action::SetDlSrc(MacAddr([1, 2, 3, 4, 5, 6])),
                Action::SetDlDst(MacAddr([1, 2, 3, 4, 5, 7])),
                Action::SetNwSrc(0x0a000001),
                Action::SetNwDst(0x0a000002),
                Action::SetNwTos(0x10),
                Action::SetTpSrc(1),
                Action::SetTpDst(2),
                Action::Enqueue { port: 1, queue_id: 5 },
                Action::Output { port: port::FLOOD, max_len: 0 },
            ],
        );
    }

    #[test]
    fn set_field_translates_to_of10() {
        let mut b = Vec::new();
        encode_actions(
            Version::OF10,
            &[Action::SetField { field: Field::EthSrc, value: 0x0102_0304_0506 }],
            &mut b,
        )
        .unwrap();
        assert_eq!(
            decode_actions(Version::OF10, &b).unwrap(),
            [Action::SetDlSrc(MacAddr([1, 2, 3, 4, 5, 6]))]
        );
        let mut c = Vec::new();
        let e = encode_actions(Version::OF10, &[Action::Group(1)], &mut c);
        assert!(matches!(e, Err(EncodeError::Unsupported { .. })));
    }

    fn err(v: Version, b: &[u8]) -> OfpError {
        decode_actions(v, b).unwrap_err().error
    }

    #[test]
    fn malformed_actions() {
        let o13 = Version::OF13;
        // Length not a multiple of 8.
        assert_eq!(err(o13, &[0, 24, 0, 4, 0, 0, 0, 0]), BadAction::BadLen.into());
        // Output with length 8.
        assert_eq!(err(o13, &[0, 0, 0, 8, 0, 0, 0, 1]), BadAction::BadLen.into());
        // Unknown type.
        assert_eq!(err(o13, &[0, 99, 0, 8, 0, 0, 0, 0]), BadAction::BadType.into());
        // Output to port 0 / ANY.
        let out0 = [0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(err(o13, &out0), BadAction::BadOutPort.into());
        // push_vlan with a bad ethertype.
        assert_eq!(err(o13, &[0, 17, 0, 8, 0x08, 0, 0, 0]), BadAction::BadArgument.into());
        // set_field on an unknown field.
        assert_eq!(
            err(o13, &[0, 25, 0, 16, 0x80, 0, 0xc8, 4, 0, 0, 0, 1, 0, 0, 0, 0]),
            BadAction::BadSetType.into()
        );
        // set_field with a mask.
        assert_eq!(
            err(o13, &[0, 25, 0, 16, 0x80, 0, 0x17, 8, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0]),
            BadAction::BadSetArgument.into()
        );
        // set_field with a short OXM length.
        assert_eq!(
            err(o13, &[0, 25, 0, 16, 0x80, 0, 0x16, 2, 1, 2, 0, 0, 0, 0, 0, 0]),
            BadAction::BadSetLen.into()
        );
        // set_field vlan_pcp 8.
        assert_eq!(
            err(o13, &[0, 25, 0, 16, 0x80, 0, 0x0e, 1, 8, 0, 0, 0, 0, 0, 0, 0]),
            BadAction::BadSetArgument.into()
        );
        // Truncated header.
        assert_eq!(err(o13, &[0, 0]), BadAction::BadLen.into());
        let o10 = Version::OF10;
        assert_eq!(err(o10, &[0, 1, 0, 8, 0x10, 0, 0, 0]), BadAction::BadArgument.into());
        assert_eq!(err(o10, &[0, 12, 0, 8, 0, 0, 0, 0]), BadAction::BadType.into());
        assert_eq!(err(o10, &[0, 0, 0, 8, 0xff, 0xff, 0, 0]), BadAction::BadOutPort.into());
        assert_eq!(err(o10, &[0, 8, 0, 8, 0x03, 0, 0, 0]), BadAction::BadArgument.into());
    }
}

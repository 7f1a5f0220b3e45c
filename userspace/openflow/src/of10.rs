//! OpenFlow 1.0 (wire version 0x01) message bodies, and the conversion between the 40-byte
//! `ofp_match` (with `OFPFW10_*` wildcards) and the version-neutral [`Match`].
//!
//! Decoding follows Open vSwitch: fields whose prerequisites the 1.0 match does not establish
//! are ignored (1.0 has no "bad prerequisite" error), ARP opcode and addresses live in
//! `nw_proto`/`nw_src`/`nw_dst`, ICMP type/code in `tp_src`/`tp_dst`.

use crate::action::{decode_actions, encode_actions, Action};
use crate::codec::{
    decode_error, decode_experimenter, decode_switch_config, encode_error, encode_experimenter,
    encode_switch_config, expect_end,
};
use crate::error::{
    BadRequest, DecodeError, DecodeResult, EncodeError, EncodeResult, FlowModFailed, PortModFailed,
};
use crate::instruction::Instruction;
use crate::msg::*;
use crate::oxm::{Field, Match, VID_PRESENT};
use crate::types::{port, MacAddr, Version, NO_BUFFER};
use crate::wire::{Put, Reader};

const V: Version = Version::OF10;

/// OpenFlow 1.0 message type numbers.
#[allow(missing_docs)]
pub mod t {
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const VENDOR: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const FEATURES_REPLY: u8 = 6;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
    pub const PACKET_IN: u8 = 10;
    pub const FLOW_REMOVED: u8 = 11;
    pub const PORT_STATUS: u8 = 12;
    pub const PACKET_OUT: u8 = 13;
    pub const FLOW_MOD: u8 = 14;
    pub const PORT_MOD: u8 = 15;
    pub const STATS_REQUEST: u8 = 16;
    pub const STATS_REPLY: u8 = 17;
    pub const BARRIER_REQUEST: u8 = 18;
    pub const BARRIER_REPLY: u8 = 19;
}

/// OpenFlow 1.0 stats types (13 is Open vSwitch's port-desc extension numbering, as in 1.3).
#[allow(missing_docs)]
pub mod st {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const PORT_DESC: u16 = 13;
    pub const VENDOR: u16 = 0xffff;
}

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
    pub const ALL_CANONICAL: u32 = (ALL & !(0xfff << NW_SRC_SHIFT)) | (32 << NW_SRC_SHIFT) | (32 << NW_DST_SHIFT);
}

/// `OFP_VLAN_NONE`: matches packets without a VLAN tag.
const VLAN_NONE: u16 = 0xffff;

fn unsupported(what: impl Into<String>) -> EncodeError {
    EncodeError::Unsupported { what: what.into(), version: V }
}

fn prefix_mask(wild_bits: u32) -> Option<u32> {
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
        m.set(sf, u128::from(if nw_proto == 1 { tp_src & 0xff } else { tp_src }));
    }
    if has(fw::TP_DST) {
        m.set(df, u128::from(if nw_proto == 1 { tp_dst & 0xff } else { tp_dst }));
    }
    Ok(m)
}

fn prefix_len(mask: u32) -> Option<u32> {
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
                    return Err(unsupported("vlan_vid present-bit-only match without dl_vlan_pcp"));
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
                let n = prefix_len(mask).ok_or_else(|| unsupported(format!("{name} non-CIDR mask")))?;
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
            _ => return Err(unsupported(format!("match on {name}{}", if fm.mask.is_some() { " (masked)" } else { "" }))),
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

fn p10(p: u32) -> EncodeResult<u16> {
    port::to_of10(p).ok_or_else(|| unsupported(format!("port {p:#x}")))
}

fn buffer_in(b: u32) -> Option<u32> {
    (b != NO_BUFFER).then_some(b)
}

/// The action list of 1.0-expressible instructions.
fn actions_of(ins: &[Instruction]) -> EncodeResult<&[Action]> {
    match ins {
        [] => Ok(&[]),
        [Instruction::ApplyActions(a)] => Ok(a),
        _ => Err(unsupported("instructions other than a single apply_actions")),
    }
}

fn apply(actions: Vec<Action>) -> Vec<Instruction> {
    if actions.is_empty() {
        Vec::new()
    } else {
        vec![Instruction::ApplyActions(actions)]
    }
}

/// OpenFlow 1.0 port feature bits are 1.3's with bits 7..=11 moved up to 11..=15.
fn features_from_of10(f: u32) -> u32 {
    (f & 0x7f) | ((f & 0xf80) << 4)
}
fn features_to_of10(f: u32) -> u32 {
    (f & 0x7f) | ((f >> 4) & 0xf80)
}

/// Decodes a 48-byte `ofp_phy_port`.
pub(crate) fn get_port(r: &mut Reader<'_>) -> DecodeResult<Port> {
    Ok(Port {
        port_no: port::from_of10(r.u16()?),
        hw_addr: MacAddr(r.array()?),
        name: r.string(16)?,
        config: r.u32()?,
        state: r.u32()?,
        curr: features_from_of10(r.u32()?),
        advertised: features_from_of10(r.u32()?),
        supported: features_from_of10(r.u32()?),
        peer: features_from_of10(r.u32()?),
        curr_speed: 0,
        max_speed: 0,
    })
}

fn put_port(p: &Port, out: &mut Vec<u8>) -> EncodeResult<()> {
    out.put_u16(p10(p.port_no)?);
    out.extend_from_slice(&p.hw_addr.0);
    out.put_string(&p.name, 16);
    out.put_u32(p.config);
    out.put_u32(p.state);
    for f in [p.curr, p.advertised, p.supported, p.peer] {
        out.put_u32(features_to_of10(f));
    }
    Ok(())
}

/// Decodes `ofp_desc_stats` (same in every version).
pub(crate) fn get_desc(r: &mut Reader<'_>) -> DecodeResult<Desc> {
    Ok(Desc {
        mfr_desc: r.string(256)?,
        hw_desc: r.string(256)?,
        sw_desc: r.string(256)?,
        serial_num: r.string(32)?,
        dp_desc: r.string(256)?,
    })
}

/// Encodes `ofp_desc_stats`.
pub(crate) fn put_desc(d: &Desc, out: &mut Vec<u8>) {
    out.put_string(&d.mfr_desc, 256);
    out.put_string(&d.hw_desc, 256);
    out.put_string(&d.sw_desc, 256);
    out.put_string(&d.serial_num, 32);
    out.put_string(&d.dp_desc, 256);
}

fn flags_to_wire(f: &FlowModFlags) -> EncodeResult<u16> {
    if f.reset_counts || f.no_pkt_counts || f.no_byt_counts {
        return Err(unsupported("reset_counts/no_*_counts flow-mod flags"));
    }
    Ok(u16::from(f.send_flow_rem) | u16::from(f.check_overlap) << 1 | u16::from(f.emerg) << 2)
}

/// Encodes a 1.0 message body; returns the message type.
pub fn encode_body(m: &Message, out: &mut Vec<u8>) -> EncodeResult<u8> {
    Ok(match m {
        Message::Hello(_) => 0,
        Message::Error(e) => {
            encode_error(V, e, out);
            t::ERROR
        }
        Message::EchoRequest(d) => {
            out.extend_from_slice(d);
            t::ECHO_REQUEST
        }
        Message::EchoReply(d) => {
            out.extend_from_slice(d);
            t::ECHO_REPLY
        }
        Message::Experimenter(e) => {
            encode_experimenter(V, e, out);
            t::VENDOR
        }
        Message::FeaturesRequest => t::FEATURES_REQUEST,
        Message::FeaturesReply(f) => {
            out.put_u64(f.datapath_id);
            out.put_u32(f.n_buffers);
            out.put_u8(f.n_tables);
            out.put_zeros(3);
            out.put_u32(f.capabilities);
            out.put_u32(f.actions);
            for p in &f.ports {
                put_port(p, out)?;
            }
            t::FEATURES_REPLY
        }
        Message::GetConfigRequest => t::GET_CONFIG_REQUEST,
        Message::GetConfigReply(c) => {
            encode_switch_config(c, out);
            t::GET_CONFIG_REPLY
        }
        Message::SetConfig(c) => {
            encode_switch_config(c, out);
            t::SET_CONFIG
        }
        Message::PacketIn(p) => {
            let in_port = p
                .match_
                .exact(Field::InPort)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(port::ANY);
            out.put_u32(p.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u16(p.total_len);
            out.put_u16(p10(in_port)?);
            out.put_u8(p.reason.number());
            out.put_u8(0);
            out.extend_from_slice(&p.data);
            t::PACKET_IN
        }
        Message::FlowRemoved(f) => {
            encode_match(&f.match_, out)?;
            out.put_u64(f.cookie);
            out.put_u16(f.priority);
            out.put_u8(f.reason.number());
            out.put_u8(0);
            out.put_u32(f.duration_sec);
            out.put_u32(f.duration_nsec);
            out.put_u16(f.idle_timeout);
            out.put_zeros(2);
            out.put_u64(f.packet_count);
            out.put_u64(f.byte_count);
            t::FLOW_REMOVED
        }
        Message::PortStatus(s) => {
            out.put_u8(s.reason.number());
            out.put_zeros(7);
            put_port(&s.port, out)?;
            t::PORT_STATUS
        }
        Message::PacketOut(p) => {
            out.put_u32(p.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u16(p10(p.in_port)?);
            let at = out.len();
            out.put_u16(0);
            let start = out.len();
            encode_actions(V, &p.actions, out)?;
            out.patch_u16(at, out.len().saturating_sub(start))?;
            out.extend_from_slice(&p.data);
            t::PACKET_OUT
        }
        Message::FlowMod(f) => {
            if f.cookie_mask != 0 && f.command != FlowModCommand::Add {
                return Err(unsupported("cookie_mask"));
            }
            if f.out_group != crate::types::group::ANY {
                return Err(unsupported("out_group"));
            }
            encode_match(&f.match_, out)?;
            out.put_u64(f.cookie);
            out.put_u16(u16::from(f.command.number()));
            out.put_u16(f.idle_timeout);
            out.put_u16(f.hard_timeout);
            out.put_u16(f.priority);
            out.put_u32(f.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u16(p10(f.out_port)?);
            out.put_u16(flags_to_wire(&f.flags)?);
            encode_actions(V, actions_of(&f.instructions)?, out)?;
            t::FLOW_MOD
        }
        Message::PortMod(p) => {
            out.put_u16(p10(p.port_no)?);
            out.extend_from_slice(&p.hw_addr.0);
            out.put_u32(p.config);
            out.put_u32(p.mask);
            out.put_u32(features_to_of10(p.advertise));
            out.put_zeros(4);
            t::PORT_MOD
        }
        Message::MultipartRequest(r) => {
            encode_stats_request(r, out)?;
            t::STATS_REQUEST
        }
        Message::MultipartReply(r) => {
            encode_stats_reply(r, out)?;
            t::STATS_REPLY
        }
        Message::BarrierRequest => t::BARRIER_REQUEST,
        Message::BarrierReply => t::BARRIER_REPLY,
        other => return Err(unsupported(other.name())),
    })
}

/// Decodes a 1.0 message body of type `msg_type`.
pub fn decode_body(msg_type: u8, r: &mut Reader<'_>) -> DecodeResult<Message> {
    let msg = match msg_type {
        t::ERROR => Message::Error(decode_error(V, r)?),
        t::ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
        t::ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
        t::VENDOR => Message::Experimenter(decode_experimenter(V, r)?),
        t::FEATURES_REQUEST => Message::FeaturesRequest,
        t::FEATURES_REPLY => {
            let mut f = FeaturesReply {
                datapath_id: r.u64()?,
                n_buffers: r.u32()?,
                n_tables: r.u8()?,
                ..FeaturesReply::default()
            };
            r.skip(3)?;
            f.capabilities = r.u32()?;
            f.actions = r.u32()?;
            if r.remaining() % 48 != 0 {
                return Err(DecodeError::new(BadRequest::BadLen, "features reply port list"));
            }
            while !r.is_empty() {
                f.ports.push(get_port(r)?);
            }
            Message::FeaturesReply(f)
        }
        t::GET_CONFIG_REQUEST => Message::GetConfigRequest,
        t::GET_CONFIG_REPLY => Message::GetConfigReply(decode_switch_config(r)?),
        t::SET_CONFIG => Message::SetConfig(decode_switch_config(r)?),
        t::PACKET_IN => {
            let buffer_id = buffer_in(r.u32()?);
            let total_len = r.u16()?;
            let in_port = port::from_of10(r.u16()?);
            let reason = PacketInReason::from_number(r.u8()?);
            r.skip(1)?;
            Message::PacketIn(PacketIn {
                buffer_id,
                total_len,
                reason,
                table_id: 0,
                cookie: u64::MAX,
                match_: Match::new().with(Field::InPort, u128::from(in_port)),
                data: r.rest().to_vec(),
            })
        }
        t::FLOW_REMOVED => {
            let match_ = decode_match(r)?;
            let cookie = r.u64()?;
            let priority = r.u16()?;
            let reason = FlowRemovedReason::from_number(r.u8()?);
            r.skip(1)?;
            let duration_sec = r.u32()?;
            let duration_nsec = r.u32()?;
            let idle_timeout = r.u16()?;
            r.skip(2)?;
            Message::FlowRemoved(FlowRemoved {
                cookie,
                priority,
                reason,
                table_id: 0,
                duration_sec,
                duration_nsec,
                idle_timeout,
                hard_timeout: 0,
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                match_,
            })
        }
        t::PORT_STATUS => {
            let reason = PortReason::from_number(r.u8()?);
            r.skip(7)?;
            Message::PortStatus(PortStatus { reason, port: get_port(r)? })
        }
        t::PACKET_OUT => {
            let buffer_id = buffer_in(r.u32()?);
            let in_port = port::from_of10(r.u16()?);
            crate::of13::check_in_port(in_port)?;
            let alen = usize::from(r.u16()?);
            let actions = decode_actions(V, r.bytes(alen)?)?;
            Message::PacketOut(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
        }
        t::FLOW_MOD => {
            let match_ = decode_match(r)?;
            let cookie = r.u64()?;
            let cmd = r.u16()?;
            let idle_timeout = r.u16()?;
            let hard_timeout = r.u16()?;
            let priority = r.u16()?;
            let buffer_id = buffer_in(r.u32()?);
            let out_port = port::from_of10(r.u16()?);
            let wflags = r.u16()?;
            let actions = decode_actions(V, r.rest())?;
            let command = FlowModCommand::from_number(cmd)
                .ok_or_else(|| DecodeError::new(FlowModFailed::BadCommand, format!("command {cmd}")))?;
            if wflags & !7 != 0 {
                return Err(DecodeError::new(FlowModFailed::BadFlags, format!("flags {wflags:#x}")));
            }
            Message::FlowMod(FlowMod {
                cookie,
                cookie_mask: 0,
                table_id: 0,
                command,
                idle_timeout,
                hard_timeout,
                priority,
                buffer_id,
                out_port,
                out_group: crate::types::group::ANY,
                flags: FlowModFlags {
                    send_flow_rem: wflags & 1 != 0,
                    check_overlap: wflags & 2 != 0,
                    emerg: wflags & 4 != 0,
                    ..FlowModFlags::default()
                },
                importance: 0,
                match_,
                instructions: apply(actions),
            })
        }
        t::PORT_MOD => {
            let port_no = port::from_of10(r.u16()?);
            let pm = PortMod {
                port_no,
                hw_addr: MacAddr(r.array()?),
                config: r.u32()?,
                mask: r.u32()?,
                advertise: features_from_of10(r.u32()?),
            };
            r.skip(4)?;
            if port_no == 0 || (port_no > port::MAX && port_no != port::LOCAL) {
                return Err(DecodeError::new(PortModFailed::BadPort, format!("port {port_no:#x}")));
            }
            Message::PortMod(pm)
        }
        t::STATS_REQUEST => Message::MultipartRequest(decode_stats_request(r)?),
        t::STATS_REPLY => Message::MultipartReply(decode_stats_reply(r)?),
        t::BARRIER_REQUEST => Message::BarrierRequest,
        t::BARRIER_REPLY => Message::BarrierReply,
        _ => {
            return Err(DecodeError::new(BadRequest::BadType, format!("OpenFlow 1.0 type {msg_type}")))
        }
    };
    expect_end(r)?;
    Ok(msg)
}

fn decode_flow_stats_request(r: &mut Reader<'_>) -> DecodeResult<FlowStatsRequest> {
    let match_ = decode_match(r)?;
    let table_id = r.u8()?;
    r.skip(1)?;
    Ok(FlowStatsRequest {
        table_id,
        out_port: port::from_of10(r.u16()?),
        match_,
        ..FlowStatsRequest::default()
    })
}

fn decode_stats_request(r: &mut Reader<'_>) -> DecodeResult<MultipartRequest> {
    let stype = r.u16()?;
    let flags = r.u16()?;
    use MultipartRequestBody as B;
    let body = match stype {
        st::DESC => B::Desc,
        st::FLOW => B::Flow(decode_flow_stats_request(r)?),
        st::AGGREGATE => B::Aggregate(decode_flow_stats_request(r)?),
        st::TABLE => B::Table,
        st::PORT => {
            let port_no = port::from_of10(r.u16()?);
            r.skip(6)?;
            B::PortStats { port_no }
        }
        st::QUEUE => {
            let port_no = port::from_of10(r.u16()?);
            r.skip(2)?;
            B::Queue { port_no, queue_id: r.u32()? }
        }
        st::PORT_DESC => B::PortDesc,
        st::VENDOR => B::Experimenter(decode_experimenter(V, r)?),
        _ => return Err(DecodeError::new(BadRequest::BadMultipart, format!("stats type {stype}"))),
    };
    Ok(MultipartRequest { flags, body })
}

fn encode_stats_request(m: &MultipartRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartRequestBody as B;
    let stype = match &m.body {
        B::Desc => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table => st::TABLE,
        B::PortStats { .. } => st::PORT,
        B::Queue { .. } => st::QUEUE,
        B::PortDesc => st::PORT_DESC,
        B::Experimenter(_) => st::VENDOR,
        _ => return Err(unsupported("this multipart request")),
    };
    out.put_u16(stype);
    out.put_u16(m.flags);
    match &m.body {
        B::Flow(f) | B::Aggregate(f) => {
            if f.cookie_mask != 0 || f.out_group != crate::types::group::ANY {
                return Err(unsupported("cookie or out_group filter"));
            }
            encode_match(&f.match_, out)?;
            out.put_u8(f.table_id);
            out.put_u8(0);
            out.put_u16(p10(f.out_port)?);
        }
        B::PortStats { port_no } => {
            out.put_u16(p10(*port_no)?);
            out.put_zeros(6);
        }
        B::Queue { port_no, queue_id } => {
            out.put_u16(p10(*port_no)?);
            out.put_zeros(2);
            out.put_u32(*queue_id);
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
        _ => {}
    }
    Ok(())
}

fn decode_stats_reply(r: &mut Reader<'_>) -> DecodeResult<MultipartReply> {
    let stype = r.u16()?;
    let flags = r.u16()?;
    use MultipartReplyBody as B;
    let body = match stype {
        st::DESC => B::Desc(get_desc(r)?),
        st::FLOW => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let len = usize::from(Reader::new(r.peek(2)?, BadRequest::BadLen).u16()?);
                if len < 88 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("flow stats length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                e.skip(2)?;
                let table_id = e.u8()?;
                e.skip(1)?;
                let match_ = decode_match(&mut e)?;
                let duration_sec = e.u32()?;
                let duration_nsec = e.u32()?;
                let priority = e.u16()?;
                let idle_timeout = e.u16()?;
                let hard_timeout = e.u16()?;
                e.skip(6)?;
                v.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags: FlowModFlags::default(),
                    importance: 0,
                    cookie: e.u64()?,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    match_,
                    instructions: apply(decode_actions(V, e.rest())?),
                });
            }
            B::Flow(v)
        }
        st::AGGREGATE => {
            let a = AggregateStats { packet_count: r.u64()?, byte_count: r.u64()?, flow_count: r.u32()? };
            r.skip(4)?;
            B::Aggregate(a)
        }
        st::TABLE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                v.push(TableStats {
                    table_id,
                    name: r.string(32)?,
                    wildcards: r.u32()?,
                    max_entries: r.u32()?,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                });
            }
            B::Table(v)
        }
        st::PORT => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = port::from_of10(r.u16()?);
                r.skip(6)?;
                let mut c = [0u64; 12];
                for x in c.iter_mut() {
                    *x = r.u64()?;
                }
                v.push(crate::of13::port_stats_from(port_no, c, 0, 0));
            }
            B::PortStats(v)
        }
        st::QUEUE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = port::from_of10(r.u16()?);
                r.skip(2)?;
                v.push(QueueStats {
                    port_no,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                });
            }
            B::Queue(v)
        }
        st::PORT_DESC => {
            let mut v = Vec::new();
            while !r.is_empty() {
                v.push(get_port(r)?);
            }
            B::PortDesc(v)
        }
        st::VENDOR => B::Experimenter(decode_experimenter(V, r)?),
        _ => return Err(DecodeError::new(BadRequest::BadMultipart, format!("stats type {stype}"))),
    };
    Ok(MultipartReply { flags, body })
}

fn encode_stats_reply(m: &MultipartReply, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartReplyBody as B;
    let stype = match &m.body {
        B::Desc(_) => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table(_) => st::TABLE,
        B::PortStats(_) => st::PORT,
        B::Queue(_) => st::QUEUE,
        B::PortDesc(_) => st::PORT_DESC,
        B::Experimenter(_) => st::VENDOR,
        _ => return Err(unsupported("this multipart reply")),
    };
    out.put_u16(stype);
    out.put_u16(m.flags);
    match &m.body {
        B::Desc(d) => put_desc(d, out),
        B::Flow(v) => {
            for f in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(f.table_id);
                out.put_u8(0);
                encode_match(&f.match_, out)?;
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.priority);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_zeros(6);
                out.put_u64(f.cookie);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
                encode_actions(V, actions_of(&f.instructions)?, out)?;
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::Aggregate(a) => {
            out.put_u64(a.packet_count);
            out.put_u64(a.byte_count);
            out.put_u32(a.flow_count);
            out.put_zeros(4);
        }
        B::Table(v) => {
            for t in v {
                out.put_u8(t.table_id);
                out.put_zeros(3);
                out.put_string(&t.name, 32);
                out.put_u32(t.wildcards);
                out.put_u32(t.max_entries);
                out.put_u32(t.active_count);
                out.put_u64(t.lookup_count);
                out.put_u64(t.matched_count);
            }
        }
        B::PortStats(v) => {
            for p in v {
                out.put_u16(p10(p.port_no)?);
                out.put_zeros(6);
                for c in crate::of13::port_counters(p) {
                    out.put_u64(c);
                }
            }
        }
        B::Queue(v) => {
            for q in v {
                out.put_u16(p10(q.port_no)?);
                out.put_zeros(2);
                out.put_u32(q.queue_id);
                out.put_u64(q.tx_bytes);
                out.put_u64(q.tx_packets);
                out.put_u64(q.tx_errors);
            }
        }
        B::PortDesc(v) => {
            for p in v {
                put_port(p, out)?;
            }
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
        _ => {}
    }
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
        let v6 = Match::new().with(Field::EthType, 0x86dd).with(Field::Ipv6Src, 1);
        assert!(encode_match(&v6, &mut b).is_err());
        let noncidr = Match::new().with(Field::EthType, 0x0800).with_masked(Field::Ipv4Src, 1, 0xff00ff01);
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

//! OpenFlow 1.0 (wire version 0x01) message bodies, and the conversion between the 40-byte
//! `ofp_match` (with `OFPFW10_*` wildcards) and the version-neutral [`Match`].
//!
//! Decoding follows Open vSwitch: fields whose prerequisites the 1.0 match does not establish
//! are ignored (1.0 has no "bad prerequisite" error), ARP opcode and addresses live in
//! `nw_proto`/`nw_src`/`nw_dst`, ICMP type/code in `tp_src`/`tp_dst`.

use crate::action::{decode_actions, encode_actions, Action};
use crate::codec::{decode_experimenter, decode_switch_config, encode_experimenter, expect_end};
use crate::common::*;
use crate::error::{
    BadRequest, DecodeError, DecodeResult, EncodeError, EncodeResult, FlowModFailed,
};
use crate::instruction::Instruction;
use crate::msg::*;
use crate::oxm::{Field, Match, VID_PRESENT};
use crate::types::{port, MacAddr, Version, NO_BUFFER};
use crate::wire::{Put, Reader};

mod match_;
mod stats;

pub use self::match_::{decode_match, encode_match, fw};
use self::stats::*;

const V: Version = Version::OF10;

fn unsupported(what: impl Into<String>) -> EncodeError {
    crate::common::unsupported(V, what)
}

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

fn p10(p: u32) -> EncodeResult<u16> {
    port::to_of10(p).ok_or_else(|| unsupported(format!("port {p:#x}")))
}

/// The action list of 1.0-expressible instructions.
fn actions_of(ins: &[Instruction]) -> EncodeResult<&[Action]> {
    match ins {
        [] => Ok(&[]),
        [Instruction::ApplyActions(a)] => Ok(a),
        _ => Err(unsupported(
            "instructions other than a single apply_actions",
        )),
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

fn flags_to_wire(f: &FlowModFlags) -> EncodeResult<u16> {
    if f.reset_counts || f.no_pkt_counts || f.no_byt_counts {
        return Err(unsupported("reset_counts/no_*_counts flow-mod flags"));
    }
    Ok(u16::from(f.send_flow_rem) | u16::from(f.check_overlap) << 1 | u16::from(f.emerg) << 2)
}

/// Encodes a 1.0 message body; returns the message type.
pub fn encode_body(m: &Message, out: &mut Vec<u8>) -> EncodeResult<u8> {
    if let Some(ty) = encode_shared(V, m, out) {
        return Ok(ty);
    }
    Ok(match m {
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
    if let Some(shared) = decode_shared(V, msg_type, r) {
        let msg = shared?;
        expect_end(r)?;
        return Ok(msg);
    }
    let msg = match msg_type {
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
                return Err(DecodeError::new(
                    BadRequest::BadLen,
                    "features reply port list",
                ));
            }
            while !r.is_empty() {
                f.ports.push(get_port(r)?);
            }
            Message::FeaturesReply(f)
        }
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
            Message::PortStatus(PortStatus {
                reason,
                port: get_port(r)?,
            })
        }
        t::PACKET_OUT => {
            let buffer_id = buffer_in(r.u32()?);
            let in_port = port::from_of10(r.u16()?);
            check_in_port(in_port)?;
            let alen = usize::from(r.u16()?);
            let actions = decode_actions(V, r.bytes(alen)?)?;
            Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data: r.rest().to_vec(),
            })
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
            let command = FlowModCommand::from_number(cmd).ok_or_else(|| {
                DecodeError::new(FlowModFailed::BadCommand, format!("command {cmd}"))
            })?;
            if wflags & !7 != 0 {
                return Err(DecodeError::new(
                    FlowModFailed::BadFlags,
                    format!("flags {wflags:#x}"),
                ));
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
            check_port_mod_port(port_no)?;
            Message::PortMod(pm)
        }
        t::STATS_REQUEST => Message::MultipartRequest(decode_stats_request(r)?),
        t::STATS_REPLY => Message::MultipartReply(decode_stats_reply(r)?),
        t::BARRIER_REQUEST => Message::BarrierRequest,
        t::BARRIER_REPLY => Message::BarrierReply,
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadType,
                format!("OpenFlow 1.0 type {msg_type}"),
            ))
        }
    };
    expect_end(r)?;
    Ok(msg)
}

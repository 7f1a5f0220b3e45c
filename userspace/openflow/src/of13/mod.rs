//! OpenFlow 1.3 (wire version 0x04) message bodies: encoder and decoder for every message of
//! [`Message`] in the 1.3 layouts. Structures that 1.4/1.5 keep unchanged are `pub(crate)`
//! functions here so later versions reuse them.

use crate::action::{decode_actions, encode_actions};
use crate::codec::{decode_experimenter, decode_switch_config, encode_experimenter, expect_end};
use crate::common::*;
use crate::error::{
    BadInstruction, BadRequest, DecodeError, DecodeResult, EncodeError, EncodeResult,
    FlowModFailed, GroupModFailed, MeterModFailed, RoleRequestFailed, SwitchConfigFailed,
    TableFeaturesFailed,
};
use crate::instruction::{decode_instructions, encode_instructions, Instruction};
use crate::msg::*;
use crate::oxm::Match;
use crate::types::{group, meter, port, table, MacAddr, Version, NO_BUFFER};
use crate::wire::{pad8, Put, Reader};

mod mods;
mod multipart;
mod table_features;

pub(crate) use self::mods::*;
use self::multipart::*;
pub(crate) use self::table_features::*;

const V: Version = Version::OF13;

/// OpenFlow 1.3 message type numbers.
#[allow(missing_docs)]
pub mod t {
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
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
    pub const GROUP_MOD: u8 = 15;
    pub const PORT_MOD: u8 = 16;
    pub const TABLE_MOD: u8 = 17;
    pub const MULTIPART_REQUEST: u8 = 18;
    pub const MULTIPART_REPLY: u8 = 19;
    pub const BARRIER_REQUEST: u8 = 20;
    pub const BARRIER_REPLY: u8 = 21;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 23;
    pub const ROLE_REQUEST: u8 = 24;
    pub const ROLE_REPLY: u8 = 25;
    pub const GET_ASYNC_REQUEST: u8 = 26;
    pub const GET_ASYNC_REPLY: u8 = 27;
    pub const SET_ASYNC: u8 = 28;
    pub const METER_MOD: u8 = 29;
}

/// OpenFlow 1.3 multipart type numbers.
#[allow(missing_docs)]
pub mod mp {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT_STATS: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const GROUP: u16 = 6;
    pub const GROUP_DESC: u16 = 7;
    pub const GROUP_FEATURES: u16 = 8;
    pub const METER: u16 = 9;
    pub const METER_CONFIG: u16 = 10;
    pub const METER_FEATURES: u16 = 11;
    pub const TABLE_FEATURES: u16 = 12;
    pub const PORT_DESC: u16 = 13;
    pub const EXPERIMENTER: u16 = 0xffff;
}

fn unsupported(what: &str) -> EncodeError {
    crate::common::unsupported(V, what)
}

/// Encodes a 1.3 message body; returns the message type.
pub fn encode_body(m: &Message, out: &mut Vec<u8>) -> EncodeResult<u8> {
    if let Some(ty) = encode_shared(V, m, out) {
        return Ok(ty);
    }
    Ok(match m {
        Message::FeaturesReply(f) => {
            if !f.ports.is_empty() {
                return Err(unsupported("ports in features reply (use port-desc)"));
            }
            out.put_u64(f.datapath_id);
            out.put_u32(f.n_buffers);
            out.put_u8(f.n_tables);
            out.put_u8(f.auxiliary_id);
            out.put_zeros(2);
            out.put_u32(f.capabilities);
            out.put_u32(0);
            t::FEATURES_REPLY
        }
        Message::PacketIn(p) => {
            out.put_u32(p.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u16(p.total_len);
            out.put_u8(p.reason.number());
            out.put_u8(p.table_id);
            out.put_u64(p.cookie);
            p.match_.put_ofp13(out)?;
            out.put_zeros(2);
            out.extend_from_slice(&p.data);
            t::PACKET_IN
        }
        Message::FlowRemoved(f) => {
            out.put_u64(f.cookie);
            out.put_u16(f.priority);
            out.put_u8(f.reason.number());
            out.put_u8(f.table_id);
            out.put_u32(f.duration_sec);
            out.put_u32(f.duration_nsec);
            out.put_u16(f.idle_timeout);
            out.put_u16(f.hard_timeout);
            out.put_u64(f.packet_count);
            out.put_u64(f.byte_count);
            f.match_.put_ofp13(out)?;
            t::FLOW_REMOVED
        }
        Message::PortStatus(s) => {
            out.put_u8(s.reason.number());
            out.put_zeros(7);
            put_port(&s.port, out);
            t::PORT_STATUS
        }
        Message::PacketOut(p) => {
            out.put_u32(p.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u32(p.in_port);
            let at = out.len();
            out.put_u16(0);
            out.put_zeros(6);
            let start = out.len();
            encode_actions(V, &p.actions, out)?;
            out.patch_u16(at, out.len().saturating_sub(start))?;
            out.extend_from_slice(&p.data);
            t::PACKET_OUT
        }
        Message::FlowMod(f) => {
            out.put_u64(f.cookie);
            out.put_u64(f.cookie_mask);
            out.put_u8(f.table_id);
            out.put_u8(f.command.number());
            out.put_u16(f.idle_timeout);
            out.put_u16(f.hard_timeout);
            out.put_u16(f.priority);
            out.put_u32(f.buffer_id.unwrap_or(NO_BUFFER));
            out.put_u32(f.out_port);
            out.put_u32(f.out_group);
            if f.flags.emerg {
                return Err(unsupported("OFPFF_EMERG"));
            }
            out.put_u16(flags_to_wire(&f.flags));
            out.put_zeros(2);
            f.match_.put_ofp13(out)?;
            encode_instructions(V, &resolve_tp_actions(&f.instructions, &f.match_), out)?;
            t::FLOW_MOD
        }
        Message::GroupMod(g) => {
            out.put_u16(match g.command {
                GroupModCommand::Add => 0,
                GroupModCommand::Modify => 1,
                GroupModCommand::Delete => 2,
            });
            out.put_u8(g.group_type.number());
            out.put_u8(0);
            out.put_u32(g.group_id);
            put_buckets(&g.buckets, out)?;
            t::GROUP_MOD
        }
        Message::PortMod(p) => {
            out.put_u32(p.port_no);
            out.put_zeros(4);
            out.extend_from_slice(&p.hw_addr.0);
            out.put_zeros(2);
            out.put_u32(p.config);
            out.put_u32(p.mask);
            out.put_u32(p.advertise);
            out.put_zeros(4);
            t::PORT_MOD
        }
        Message::TableMod(m) => {
            out.put_u8(m.table_id);
            out.put_zeros(3);
            out.put_u32(m.config);
            t::TABLE_MOD
        }
        Message::MultipartRequest(r) => {
            encode_mp_request(r, out)?;
            t::MULTIPART_REQUEST
        }
        Message::MultipartReply(r) => {
            encode_mp_reply(r, out)?;
            t::MULTIPART_REPLY
        }
        Message::BarrierRequest => t::BARRIER_REQUEST,
        Message::BarrierReply => t::BARRIER_REPLY,
        Message::RoleRequest(r) | Message::RoleReply(r) => {
            out.put_u32(r.role.number());
            out.put_zeros(4);
            out.put_u64(r.generation_id);
            if matches!(m, Message::RoleRequest(_)) {
                t::ROLE_REQUEST
            } else {
                t::ROLE_REPLY
            }
        }
        Message::GetAsyncRequest => t::GET_ASYNC_REQUEST,
        Message::GetAsyncReply(a) | Message::SetAsync(a) => {
            for w in a
                .packet_in_mask
                .iter()
                .chain(&a.port_status_mask)
                .chain(&a.flow_removed_mask)
            {
                out.put_u32(*w);
            }
            if matches!(m, Message::SetAsync(_)) {
                t::SET_ASYNC
            } else {
                t::GET_ASYNC_REPLY
            }
        }
        Message::MeterMod(mm) => {
            out.put_u16(match mm.command {
                MeterModCommand::Add => 0,
                MeterModCommand::Modify => 1,
                MeterModCommand::Delete => 2,
            });
            out.put_u16(mm.flags);
            out.put_u32(mm.meter_id);
            put_bands(&mm.bands, out);
            t::METER_MOD
        }
        // Handled by `encode_shared` above.
        other => return Err(unsupported(other.name())),
    })
}

/// Decodes a 1.3 message body of type `msg_type`.
pub fn decode_body(msg_type: u8, r: &mut Reader<'_>) -> DecodeResult<Message> {
    if let Some(shared) = decode_shared(V, msg_type, r) {
        let msg = shared?;
        expect_end(r)?;
        return Ok(msg);
    }
    let msg = match msg_type {
        t::FEATURES_REPLY => {
            let f = FeaturesReply {
                datapath_id: r.u64()?,
                n_buffers: r.u32()?,
                n_tables: r.u8()?,
                auxiliary_id: r.u8()?,
                capabilities: {
                    r.skip(2)?;
                    r.u32()?
                },
                actions: {
                    r.skip(4)?;
                    0
                },
                ports: Vec::new(),
            };
            Message::FeaturesReply(f)
        }
        t::SET_CONFIG => {
            let c = decode_switch_config(r)?;
            if c.flags & !3 != 0 {
                return Err(DecodeError::new(
                    SwitchConfigFailed::BadFlags,
                    format!("config flags {:#x}", c.flags),
                ));
            }
            Message::SetConfig(c)
        }
        t::PACKET_IN => {
            let buffer_id = buffer_in(r.u32()?);
            let total_len = r.u16()?;
            let reason = PacketInReason::from_number(r.u8()?);
            let table_id = r.u8()?;
            let cookie = r.u64()?;
            let match_ = Match::decode_ofp13(r)?;
            r.skip(2)?;
            let data = r.rest().to_vec();
            Message::PacketIn(PacketIn {
                buffer_id,
                total_len,
                reason,
                table_id,
                cookie,
                match_,
                data,
            })
        }
        t::FLOW_REMOVED => Message::FlowRemoved(FlowRemoved {
            cookie: r.u64()?,
            priority: r.u16()?,
            reason: FlowRemovedReason::from_number(r.u8()?),
            table_id: r.u8()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            match_: Match::decode_ofp13(r)?,
        }),
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
            let in_port = r.u32()?;
            check_in_port(in_port)?;
            let alen = usize::from(r.u16()?);
            r.skip(6)?;
            let actions = decode_actions(V, r.bytes(alen)?)?;
            Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data: r.rest().to_vec(),
            })
        }
        t::FLOW_MOD => Message::FlowMod(decode_flow_mod(r)?),
        t::GROUP_MOD => Message::GroupMod(decode_group_mod(r)?),
        t::PORT_MOD => {
            let port_no = r.u32()?;
            r.skip(4)?;
            let hw_addr = MacAddr(r.array()?);
            r.skip(2)?;
            let pm = PortMod {
                port_no,
                hw_addr,
                config: r.u32()?,
                mask: r.u32()?,
                advertise: r.u32()?,
            };
            r.skip(4)?;
            check_port_mod_port(port_no)?;
            Message::PortMod(pm)
        }
        t::TABLE_MOD => {
            let table_id = r.u8()?;
            r.skip(3)?;
            Message::TableMod(TableMod {
                table_id,
                config: r.u32()?,
            })
        }
        t::MULTIPART_REQUEST => Message::MultipartRequest(decode_mp_request(r)?),
        t::MULTIPART_REPLY => Message::MultipartReply(decode_mp_reply(r)?),
        t::BARRIER_REQUEST => Message::BarrierRequest,
        t::BARRIER_REPLY => Message::BarrierReply,
        t::ROLE_REQUEST | t::ROLE_REPLY => {
            let n = r.u32()?;
            let role = Role::from_number(n)
                .ok_or_else(|| DecodeError::new(RoleRequestFailed::BadRole, format!("role {n}")))?;
            r.skip(4)?;
            let rm = RoleMsg {
                role,
                generation_id: r.u64()?,
            };
            if msg_type == t::ROLE_REQUEST {
                Message::RoleRequest(rm)
            } else {
                Message::RoleReply(rm)
            }
        }
        t::GET_ASYNC_REQUEST => Message::GetAsyncRequest,
        t::GET_ASYNC_REPLY | t::SET_ASYNC => {
            let mut w = [0u32; 6];
            for x in w.iter_mut() {
                *x = r.u32()?;
            }
            let [a, b, c, d, e, f] = w;
            let ac = AsyncConfig {
                packet_in_mask: [a, b],
                port_status_mask: [c, d],
                flow_removed_mask: [e, f],
            };
            if msg_type == t::SET_ASYNC {
                Message::SetAsync(ac)
            } else {
                Message::GetAsyncReply(ac)
            }
        }
        t::METER_MOD => Message::MeterMod(decode_meter_mod(r)?),
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadType,
                format!("OpenFlow 1.3 type {msg_type}"),
            ))
        }
    };
    expect_end(r)?;
    Ok(msg)
}

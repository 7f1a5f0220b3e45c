//! OpenFlow 1.3 (wire version 0x04) message bodies: encoder and decoder for every message of
//! [`Message`] in the 1.3 layouts. Structures that 1.4/1.5 keep unchanged are `pub(crate)`
//! functions here so later versions reuse them.

use crate::action::{decode_actions, encode_actions};
use crate::codec::{
    decode_error, decode_experimenter, decode_switch_config, encode_error, encode_experimenter,
    encode_switch_config, expect_end,
};
use crate::error::{
    BadInstruction, BadRequest, DecodeError, DecodeResult, EncodeError, EncodeResult,
    FlowModFailed, GroupModFailed, MeterModFailed, PortModFailed, RoleRequestFailed,
    SwitchConfigFailed, TableFeaturesFailed,
};
use crate::instruction::{decode_instructions, encode_instructions, Instruction};
use crate::msg::*;
use crate::oxm::Match;
use crate::types::{group, meter, port, table, MacAddr, Version, NO_BUFFER};
use crate::wire::{pad8, Put, Reader};

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

fn buffer_in(b: u32) -> Option<u32> {
    (b != NO_BUFFER).then_some(b)
}

fn unsupported(what: &str) -> EncodeError {
    EncodeError::Unsupported { what: what.into(), version: V }
}

/// Encodes a 1.3 message body; returns the message type.
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
            t::EXPERIMENTER
        }
        Message::FeaturesRequest => t::FEATURES_REQUEST,
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
            for w in a.packet_in_mask.iter().chain(&a.port_status_mask).chain(&a.flow_removed_mask) {
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
    })
}

/// Decodes a 1.3 message body of type `msg_type`.
pub fn decode_body(msg_type: u8, r: &mut Reader<'_>) -> DecodeResult<Message> {
    let msg = match msg_type {
        t::ERROR => Message::Error(decode_error(V, r)?),
        t::ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
        t::ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
        t::EXPERIMENTER => Message::Experimenter(decode_experimenter(V, r)?),
        t::FEATURES_REQUEST => Message::FeaturesRequest,
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
        t::GET_CONFIG_REQUEST => Message::GetConfigRequest,
        t::GET_CONFIG_REPLY => Message::GetConfigReply(decode_switch_config(r)?),
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
            Message::PacketIn(PacketIn { buffer_id, total_len, reason, table_id, cookie, match_, data })
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
            Message::PortStatus(PortStatus { reason, port: get_port(r)? })
        }
        t::PACKET_OUT => {
            let buffer_id = buffer_in(r.u32()?);
            let in_port = r.u32()?;
            check_in_port(in_port)?;
            let alen = usize::from(r.u16()?);
            r.skip(6)?;
            let actions = decode_actions(V, r.bytes(alen)?)?;
            Message::PacketOut(PacketOut { buffer_id, in_port, actions, data: r.rest().to_vec() })
        }
        t::FLOW_MOD => Message::FlowMod(decode_flow_mod(r)?),
        t::GROUP_MOD => Message::GroupMod(decode_group_mod(r)?),
        t::PORT_MOD => {
            let port_no = r.u32()?;
            r.skip(4)?;
            let hw_addr = MacAddr(r.array()?);
            r.skip(2)?;
            let pm = PortMod { port_no, hw_addr, config: r.u32()?, mask: r.u32()?, advertise: r.u32()? };
            r.skip(4)?;
            if port_no == 0 || (port_no > port::MAX && port_no != port::LOCAL) {
                return Err(DecodeError::new(PortModFailed::BadPort, format!("port {port_no:#x}")));
            }
            Message::PortMod(pm)
        }
        t::TABLE_MOD => {
            let table_id = r.u8()?;
            r.skip(3)?;
            Message::TableMod(TableMod { table_id, config: r.u32()? })
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
            let rm = RoleMsg { role, generation_id: r.u64()? };
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
            return Err(DecodeError::new(BadRequest::BadType, format!("OpenFlow 1.3 type {msg_type}")))
        }
    };
    expect_end(r)?;
    Ok(msg)
}

/// Translations that depend on the flow's match, as Open vSwitch does them: OpenFlow 1.0's
/// protocol-agnostic `mod_tp_src/dst` become `set_field` on the L4 protocol the match pins
/// down (without one they stay and fail to encode), and `mod_vlan_vid/pcp` on a flow that
/// matches untagged packets first push a tag.
fn resolve_tp_actions(ins: &[Instruction], m: &Match) -> Vec<Instruction> {
    use crate::action::Action;
    use crate::oxm::Field;
    let fields = match m.exact(Field::IpProto) {
        Some(6) => Some((Field::TcpSrc, Field::TcpDst)),
        Some(17) => Some((Field::UdpSrc, Field::UdpDst)),
        Some(132) => Some((Field::SctpSrc, Field::SctpDst)),
        _ => None,
    };
    let untagged = m.is_exact(Field::VlanVid, 0);
    let map = |acts: &[Action]| -> Vec<Action> {
        let mut tagged = !untagged;
        let mut out = Vec::with_capacity(acts.len());
        for a in acts {
            match (a, fields) {
                (Action::SetTpSrc(p), Some((s, _))) => out.push(Action::SetField { field: s, value: u128::from(*p) }),
                (Action::SetTpDst(p), Some((_, d))) => out.push(Action::SetField { field: d, value: u128::from(*p) }),
                (Action::SetVlanVid(_) | Action::SetVlanPcp(_), _) if !tagged => {
                    tagged = true;
                    out.push(Action::PushVlan(0x8100));
                    out.push(a.clone());
                }
                (Action::PushVlan(_), _) => {
                    tagged = true;
                    out.push(a.clone());
                }
                (Action::PopVlan, _) => {
                    tagged = false;
                    out.push(a.clone());
                }
                _ => out.push(a.clone()),
            }
        }
        out
    };
    ins.iter()
        .map(|i| match i {
            Instruction::ApplyActions(a) => Instruction::ApplyActions(map(a)),
            Instruction::WriteActions(a) => Instruction::WriteActions(map(a)),
            other => other.clone(),
        })
        .collect()
}

/// Checks a packet-out input port (`OFPBRC_BAD_PORT`).
pub(crate) fn check_in_port(p: u32) -> DecodeResult<()> {
    if p > port::MAX && !matches!(p, port::CONTROLLER | port::LOCAL | port::ANY) {
        return Err(DecodeError::new(BadRequest::BadPort, format!("packet-out in_port {p:#x}")));
    }
    Ok(())
}

/// Flow-mod flags to the 1.3 wire bits.
pub(crate) fn flags_to_wire(f: &FlowModFlags) -> u16 {
    u16::from(f.send_flow_rem)
        | u16::from(f.check_overlap) << 1
        | u16::from(f.reset_counts) << 2
        | u16::from(f.no_pkt_counts) << 3
        | u16::from(f.no_byt_counts) << 4
}

/// 1.3 wire flags to the model (no validation).
pub(crate) fn flags_from_wire(w: u16) -> FlowModFlags {
    FlowModFlags {
        send_flow_rem: w & 1 != 0,
        check_overlap: w & 2 != 0,
        reset_counts: w & 4 != 0,
        no_pkt_counts: w & 8 != 0,
        no_byt_counts: w & 16 != 0,
        emerg: false,
    }
}

fn decode_flow_mod(r: &mut Reader<'_>) -> DecodeResult<FlowMod> {
    let cookie = r.u64()?;
    let cookie_mask = r.u64()?;
    let table_id = r.u8()?;
    let cmd = r.u8()?;
    let idle_timeout = r.u16()?;
    let hard_timeout = r.u16()?;
    let priority = r.u16()?;
    let buffer_id = buffer_in(r.u32()?);
    let out_port = r.u32()?;
    let out_group = r.u32()?;
    let wflags = r.u16()?;
    r.skip(2)?;
    let match_ = Match::decode_ofp13(r)?;
    let instructions = decode_instructions(V, r.rest())?;
    let command = FlowModCommand::from_number(u16::from(cmd))
        .ok_or_else(|| DecodeError::new(FlowModFailed::BadCommand, format!("command {cmd}")))?;
    if wflags & !0x1f != 0 {
        return Err(DecodeError::new(FlowModFailed::BadFlags, format!("flags {wflags:#x}")));
    }
    let adds = matches!(command, FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict);
    if adds && table_id == table::ALL {
        return Err(DecodeError::new(FlowModFailed::BadTableId, "table 255 for add/modify"));
    }
    for i in &instructions {
        if let Instruction::GotoTable(g) = i {
            if table_id != table::ALL && *g <= table_id {
                return Err(DecodeError::new(
                    BadInstruction::BadTableId,
                    format!("goto_table:{g} from table {table_id}"),
                ));
            }
        }
    }
    Ok(FlowMod {
        cookie,
        cookie_mask,
        table_id,
        command,
        idle_timeout,
        hard_timeout,
        priority,
        buffer_id,
        out_port,
        out_group,
        flags: flags_from_wire(wflags),
        importance: 0,
        match_,
        instructions,
    })
}

fn decode_group_mod(r: &mut Reader<'_>) -> DecodeResult<GroupMod> {
    let cmd = r.u16()?;
    let gtype = r.u8()?;
    r.skip(1)?;
    let group_id = r.u32()?;
    let buckets = get_buckets(r.rest())?;
    let command = match cmd {
        0 => GroupModCommand::Add,
        1 => GroupModCommand::Modify,
        2 => GroupModCommand::Delete,
        _ => return Err(DecodeError::new(GroupModFailed::BadCommand, format!("command {cmd}"))),
    };
    let group_type = GroupType::from_number(gtype)
        .ok_or_else(|| DecodeError::new(GroupModFailed::BadType, format!("group type {gtype}")))?;
    let id_ok = group_id <= group::MAX || (command == GroupModCommand::Delete && group_id == group::ALL);
    if !id_ok {
        return Err(DecodeError::new(GroupModFailed::InvalidGroup, format!("group {group_id:#x}")));
    }
    if command != GroupModCommand::Delete {
        check_buckets(group_type, &buckets)?;
    }
    Ok(GroupMod { command, group_type, group_id, buckets })
}

/// Type-specific bucket rules of a group (`OFPGMFC_*`).
pub(crate) fn check_buckets(gt: GroupType, buckets: &[Bucket]) -> DecodeResult<()> {
    match gt {
        GroupType::Indirect if buckets.len() > 1 => Err(DecodeError::new(
            GroupModFailed::InvalidGroup,
            "indirect group with more than one bucket",
        )),
        GroupType::FastFailover => {
            for b in buckets {
                if b.watch_port == port::ANY && b.watch_group == group::ANY {
                    return Err(DecodeError::new(GroupModFailed::BadWatch, "bucket watches nothing"));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Decodes `ofp_bucket`s.
pub(crate) fn get_buckets(buf: &[u8]) -> DecodeResult<Vec<Bucket>> {
    let mut r = Reader::new(buf, GroupModFailed::BadBucket);
    let mut out = Vec::new();
    while !r.is_empty() {
        let len = usize::from(Reader::new(r.peek(2)?, GroupModFailed::BadBucket).u16()?);
        if len < 16 || len % 8 != 0 || len > r.remaining() {
            return Err(DecodeError::new(GroupModFailed::BadBucket, format!("bucket length {len}")));
        }
        let mut b = r.sub(len, GroupModFailed::BadBucket)?;
        b.skip(2)?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        let actions = decode_actions(V, b.rest())?;
        out.push(Bucket { weight, watch_port, watch_group, actions });
    }
    Ok(out)
}

/// Encodes `ofp_bucket`s.
pub(crate) fn put_buckets(buckets: &[Bucket], out: &mut Vec<u8>) -> EncodeResult<()> {
    for b in buckets {
        let start = out.len();
        out.put_u16(0);
        out.put_u16(b.weight);
        out.put_u32(b.watch_port);
        out.put_u32(b.watch_group);
        out.put_zeros(4);
        encode_actions(V, &b.actions, out)?;
        out.patch_u16(start, out.len().saturating_sub(start))?;
    }
    Ok(())
}

fn decode_meter_mod(r: &mut Reader<'_>) -> DecodeResult<MeterMod> {
    let cmd = r.u16()?;
    let flags = r.u16()?;
    let meter_id = r.u32()?;
    let bands = get_bands(r.rest())?;
    let command = match cmd {
        0 => MeterModCommand::Add,
        1 => MeterModCommand::Modify,
        2 => MeterModCommand::Delete,
        _ => return Err(DecodeError::new(MeterModFailed::BadCommand, format!("command {cmd}"))),
    };
    let rate_bits = flags & (meter_flags::KBPS | meter_flags::PKTPS);
    if flags & !0xf != 0 || rate_bits == (meter_flags::KBPS | meter_flags::PKTPS) {
        return Err(DecodeError::new(MeterModFailed::BadFlags, format!("flags {flags:#x}")));
    }
    let special = matches!(meter_id, meter::SLOWPATH | meter::CONTROLLER)
        || (meter_id == meter::ALL && command == MeterModCommand::Delete);
    if meter_id == 0 || (meter_id > meter::MAX && !special) {
        return Err(DecodeError::new(MeterModFailed::InvalidMeter, format!("meter {meter_id:#x}")));
    }
    if command != MeterModCommand::Delete {
        for b in &bands {
            if b.rate == 0 {
                return Err(DecodeError::new(MeterModFailed::BadRate, "band rate 0"));
            }
        }
    }
    Ok(MeterMod { command, flags, meter_id, bands })
}

/// Decodes `ofp_meter_band_*`s.
pub(crate) fn get_bands(buf: &[u8]) -> DecodeResult<Vec<MeterBand>> {
    let mut r = Reader::new(buf, BadRequest::BadLen);
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut b = r.sub(16, BadRequest::BadLen)?;
        let btype = b.u16()?;
        let len = b.u16()?;
        if len != 16 {
            return Err(DecodeError::new(BadRequest::BadLen, format!("meter band length {len}")));
        }
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        let kind = match btype {
            1 => MeterBandKind::Drop,
            2 => MeterBandKind::DscpRemark { prec_level: b.u8()? },
            0xffff => MeterBandKind::Experimenter { experimenter: b.u32()? },
            _ => return Err(DecodeError::new(MeterModFailed::BadBand, format!("band type {btype}"))),
        };
        out.push(MeterBand { kind, rate, burst_size });
    }
    Ok(out)
}

/// Encodes `ofp_meter_band_*`s.
pub(crate) fn put_bands(bands: &[MeterBand], out: &mut Vec<u8>) {
    for b in bands {
        out.put_u16(match b.kind {
            MeterBandKind::Drop => 1,
            MeterBandKind::DscpRemark { .. } => 2,
            MeterBandKind::Experimenter { .. } => 0xffff,
        });
        out.put_u16(16);
        out.put_u32(b.rate);
        out.put_u32(b.burst_size);
        match b.kind {
            MeterBandKind::Drop => out.put_zeros(4),
            MeterBandKind::DscpRemark { prec_level } => {
                out.put_u8(prec_level);
                out.put_zeros(3);
            }
            MeterBandKind::Experimenter { experimenter } => out.put_u32(experimenter),
        }
    }
}

/// Decodes a 64-byte `ofp_port`.
pub(crate) fn get_port(r: &mut Reader<'_>) -> DecodeResult<Port> {
    let port_no = r.u32()?;
    r.skip(4)?;
    let hw_addr = MacAddr(r.array()?);
    r.skip(2)?;
    Ok(Port {
        port_no,
        hw_addr,
        name: r.string(16)?,
        config: r.u32()?,
        state: r.u32()?,
        curr: r.u32()?,
        advertised: r.u32()?,
        supported: r.u32()?,
        peer: r.u32()?,
        curr_speed: r.u32()?,
        max_speed: r.u32()?,
    })
}

/// Encodes a 64-byte `ofp_port`.
pub(crate) fn put_port(p: &Port, out: &mut Vec<u8>) {
    out.put_u32(p.port_no);
    out.put_zeros(4);
    out.extend_from_slice(&p.hw_addr.0);
    out.put_zeros(2);
    out.put_string(&p.name, 16);
    for w in [p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.curr_speed, p.max_speed] {
        out.put_u32(w);
    }
}

fn decode_flow_stats_request(r: &mut Reader<'_>) -> DecodeResult<FlowStatsRequest> {
    let table_id = r.u8()?;
    r.skip(3)?;
    let out_port = r.u32()?;
    let out_group = r.u32()?;
    r.skip(4)?;
    Ok(FlowStatsRequest {
        table_id,
        out_port,
        out_group,
        cookie: r.u64()?,
        cookie_mask: r.u64()?,
        match_: Match::decode_ofp13(r)?,
    })
}

fn put_flow_stats_request(f: &FlowStatsRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    out.put_u8(f.table_id);
    out.put_zeros(3);
    out.put_u32(f.out_port);
    out.put_u32(f.out_group);
    out.put_zeros(4);
    out.put_u64(f.cookie);
    out.put_u64(f.cookie_mask);
    f.match_.put_ofp13(out)
}

fn id_and_pad(r: &mut Reader<'_>) -> DecodeResult<u32> {
    let id = r.u32()?;
    r.skip(4)?;
    Ok(id)
}

fn decode_mp_request(r: &mut Reader<'_>) -> DecodeResult<MultipartRequest> {
    let mtype = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartRequestBody as B;
    let body = match mtype {
        mp::DESC => B::Desc,
        mp::FLOW => B::Flow(decode_flow_stats_request(r)?),
        mp::AGGREGATE => B::Aggregate(decode_flow_stats_request(r)?),
        mp::TABLE => B::Table,
        mp::PORT_STATS => B::PortStats { port_no: id_and_pad(r)? },
        mp::QUEUE => B::Queue { port_no: r.u32()?, queue_id: r.u32()? },
        mp::GROUP => B::Group { group_id: id_and_pad(r)? },
        mp::GROUP_DESC => B::GroupDesc,
        mp::GROUP_FEATURES => B::GroupFeatures,
        mp::METER => B::Meter { meter_id: id_and_pad(r)? },
        mp::METER_CONFIG => B::MeterConfig { meter_id: id_and_pad(r)? },
        mp::METER_FEATURES => B::MeterFeatures,
        mp::TABLE_FEATURES => B::TableFeatures(get_table_features(r.rest())?),
        mp::PORT_DESC => B::PortDesc,
        mp::EXPERIMENTER => B::Experimenter(decode_experimenter(V, r)?),
        _ => return Err(DecodeError::new(BadRequest::BadMultipart, format!("multipart type {mtype}"))),
    };
    Ok(MultipartRequest { flags, body })
}

fn encode_mp_request(m: &MultipartRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartRequestBody as B;
    let mtype = match &m.body {
        B::Desc => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table => mp::TABLE,
        B::PortStats { .. } => mp::PORT_STATS,
        B::Queue { .. } => mp::QUEUE,
        B::Group { .. } => mp::GROUP,
        B::GroupDesc => mp::GROUP_DESC,
        B::GroupFeatures => mp::GROUP_FEATURES,
        B::Meter { .. } => mp::METER,
        B::MeterConfig { .. } => mp::METER_CONFIG,
        B::MeterFeatures => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc => mp::PORT_DESC,
        B::Experimenter(_) => mp::EXPERIMENTER,
    };
    out.put_u16(mtype);
    out.put_u16(m.flags);
    out.put_zeros(4);
    match &m.body {
        B::Flow(f) | B::Aggregate(f) => put_flow_stats_request(f, out)?,
        B::PortStats { port_no: id } | B::Group { group_id: id } | B::Meter { meter_id: id }
        | B::MeterConfig { meter_id: id } => {
            out.put_u32(*id);
            out.put_zeros(4);
        }
        B::Queue { port_no, queue_id } => {
            out.put_u32(*port_no);
            out.put_u32(*queue_id);
        }
        B::TableFeatures(t) => put_table_features(t, out)?,
        B::Experimenter(e) => encode_experimenter(V, e, out),
        B::Desc | B::Table | B::GroupDesc | B::GroupFeatures | B::MeterFeatures | B::PortDesc => {}
    }
    Ok(())
}

fn decode_mp_reply(r: &mut Reader<'_>) -> DecodeResult<MultipartReply> {
    let mtype = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartReplyBody as B;
    let body = match mtype {
        mp::DESC => B::Desc(crate::of10::get_desc(r)?),
        mp::FLOW => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let len = usize::from(Reader::new(r.peek(2)?, BadRequest::BadLen).u16()?);
                if len < 56 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("flow stats length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                e.skip(2)?;
                let table_id = e.u8()?;
                e.skip(1)?;
                let duration_sec = e.u32()?;
                let duration_nsec = e.u32()?;
                let priority = e.u16()?;
                let idle_timeout = e.u16()?;
                let hard_timeout = e.u16()?;
                let flags = flags_from_wire(e.u16()?);
                e.skip(4)?;
                v.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags,
                    importance: 0,
                    cookie: e.u64()?,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    match_: Match::decode_ofp13(&mut e)?,
                    instructions: decode_instructions(V, e.rest())?,
                });
            }
            B::Flow(v)
        }
        mp::AGGREGATE => {
            let a = AggregateStats { packet_count: r.u64()?, byte_count: r.u64()?, flow_count: r.u32()? };
            r.skip(4)?;
            B::Aggregate(a)
        }
        mp::TABLE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                v.push(TableStats {
                    table_id,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                    ..TableStats::default()
                });
            }
            B::Table(v)
        }
        mp::PORT_STATS => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = id_and_pad(r)?;
                let mut c = [0u64; 12];
                for x in c.iter_mut() {
                    *x = r.u64()?;
                }
                v.push(port_stats_from(port_no, c, r.u32()?, r.u32()?));
            }
            B::PortStats(v)
        }
        mp::QUEUE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                v.push(QueueStats {
                    port_no: r.u32()?,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: r.u32()?,
                    duration_nsec: r.u32()?,
                });
            }
            B::Queue(v)
        }
        mp::GROUP => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let len = usize::from(Reader::new(r.peek(2)?, BadRequest::BadLen).u16()?);
                if len < 40 || (len - 40) % 16 != 0 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("group stats length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                e.skip(4)?;
                let group_id = e.u32()?;
                let ref_count = e.u32()?;
                e.skip(4)?;
                let mut g = GroupStats {
                    group_id,
                    ref_count,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    duration_sec: e.u32()?,
                    duration_nsec: e.u32()?,
                    bucket_stats: Vec::new(),
                };
                while !e.is_empty() {
                    g.bucket_stats.push((e.u64()?, e.u64()?));
                }
                v.push(g);
            }
            B::Group(v)
        }
        mp::GROUP_DESC => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let len = usize::from(Reader::new(r.peek(2)?, BadRequest::BadLen).u16()?);
                if len < 8 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("group desc length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                e.skip(2)?;
                let gt = e.u8()?;
                e.skip(1)?;
                let group_type = GroupType::from_number(gt)
                    .ok_or_else(|| DecodeError::new(GroupModFailed::BadType, format!("group type {gt}")))?;
                v.push(GroupDesc { group_type, group_id: e.u32()?, buckets: get_buckets(e.rest())? });
            }
            B::GroupDesc(v)
        }
        mp::GROUP_FEATURES => {
            let mut g = GroupFeatures { types: r.u32()?, capabilities: r.u32()?, ..Default::default() };
            for x in g.max_groups.iter_mut().chain(g.actions.iter_mut()) {
                *x = r.u32()?;
            }
            B::GroupFeatures(g)
        }
        mp::METER => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut h = Reader::new(r.peek(6)?, BadRequest::BadLen);
                h.skip(4)?;
                let len = usize::from(h.u16()?);
                if len < 40 || (len - 40) % 16 != 0 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("meter stats length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                let meter_id = e.u32()?;
                e.skip(8)?;
                let mut m = MeterStats {
                    meter_id,
                    flow_count: e.u32()?,
                    packet_in_count: e.u64()?,
                    byte_in_count: e.u64()?,
                    duration_sec: e.u32()?,
                    duration_nsec: e.u32()?,
                    band_stats: Vec::new(),
                };
                while !e.is_empty() {
                    m.band_stats.push((e.u64()?, e.u64()?));
                }
                v.push(m);
            }
            B::Meter(v)
        }
        mp::METER_CONFIG => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let len = usize::from(Reader::new(r.peek(2)?, BadRequest::BadLen).u16()?);
                if len < 8 || len > r.remaining() {
                    return Err(DecodeError::new(BadRequest::BadLen, format!("meter config length {len}")));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                e.skip(2)?;
                v.push(MeterConfig { flags: e.u16()?, meter_id: e.u32()?, bands: get_bands(e.rest())? });
            }
            B::MeterConfig(v)
        }
        mp::METER_FEATURES => {
            let m = MeterFeatures {
                max_meter: r.u32()?,
                band_types: r.u32()?,
                capabilities: r.u32()?,
                max_bands: r.u8()?,
                max_color: r.u8()?,
            };
            r.skip(2)?;
            B::MeterFeatures(m)
        }
        mp::TABLE_FEATURES => B::TableFeatures(get_table_features(r.rest())?),
        mp::PORT_DESC => {
            let mut v = Vec::new();
            while !r.is_empty() {
                v.push(get_port(r)?);
            }
            B::PortDesc(v)
        }
        mp::EXPERIMENTER => B::Experimenter(decode_experimenter(V, r)?),
        _ => return Err(DecodeError::new(BadRequest::BadMultipart, format!("multipart type {mtype}"))),
    };
    Ok(MultipartReply { flags, body })
}

/// Builds a [`PortStats`] from the 12 counters in wire order.
pub(crate) fn port_stats_from(port_no: u32, c: [u64; 12], duration_sec: u32, duration_nsec: u32) -> PortStats {
    let [rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped, rx_errors, tx_errors, rx_frame_err, rx_over_err, rx_crc_err, collisions] =
        c;
    PortStats {
        port_no,
        rx_packets,
        tx_packets,
        rx_bytes,
        tx_bytes,
        rx_dropped,
        tx_dropped,
        rx_errors,
        tx_errors,
        rx_frame_err,
        rx_over_err,
        rx_crc_err,
        collisions,
        duration_sec,
        duration_nsec,
    }
}

/// The 12 counters of a [`PortStats`] in wire order.
pub(crate) fn port_counters(p: &PortStats) -> [u64; 12] {
    [
        p.rx_packets,
        p.tx_packets,
        p.rx_bytes,
        p.tx_bytes,
        p.rx_dropped,
        p.tx_dropped,
        p.rx_errors,
        p.tx_errors,
        p.rx_frame_err,
        p.rx_over_err,
        p.rx_crc_err,
        p.collisions,
    ]
}

fn encode_mp_reply(m: &MultipartReply, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartReplyBody as B;
    let mtype = match &m.body {
        B::Desc(_) => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table(_) => mp::TABLE,
        B::PortStats(_) => mp::PORT_STATS,
        B::Queue(_) => mp::QUEUE,
        B::Group(_) => mp::GROUP,
        B::GroupDesc(_) => mp::GROUP_DESC,
        B::GroupFeatures(_) => mp::GROUP_FEATURES,
        B::Meter(_) => mp::METER,
        B::MeterConfig(_) => mp::METER_CONFIG,
        B::MeterFeatures(_) => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc(_) => mp::PORT_DESC,
        B::Experimenter(_) => mp::EXPERIMENTER,
    };
    out.put_u16(mtype);
    out.put_u16(m.flags);
    out.put_zeros(4);
    match &m.body {
        B::Desc(d) => crate::of10::put_desc(d, out),
        B::Flow(v) => {
            for f in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(f.table_id);
                out.put_u8(0);
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.priority);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_u16(flags_to_wire(&f.flags));
                out.put_zeros(4);
                out.put_u64(f.cookie);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
                f.match_.put_ofp13(out)?;
                encode_instructions(V, &f.instructions, out)?;
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
                out.put_u32(t.active_count);
                out.put_u64(t.lookup_count);
                out.put_u64(t.matched_count);
            }
        }
        B::PortStats(v) => {
            for p in v {
                out.put_u32(p.port_no);
                out.put_zeros(4);
                for c in port_counters(p) {
                    out.put_u64(c);
                }
                out.put_u32(p.duration_sec);
                out.put_u32(p.duration_nsec);
            }
        }
        B::Queue(v) => {
            for q in v {
                out.put_u32(q.port_no);
                out.put_u32(q.queue_id);
                out.put_u64(q.tx_bytes);
                out.put_u64(q.tx_packets);
                out.put_u64(q.tx_errors);
                out.put_u32(q.duration_sec);
                out.put_u32(q.duration_nsec);
            }
        }
        B::Group(v) => {
            for g in v {
                let start = out.len();
                out.put_u16(0);
                out.put_zeros(2);
                out.put_u32(g.group_id);
                out.put_u32(g.ref_count);
                out.put_zeros(4);
                out.put_u64(g.packet_count);
                out.put_u64(g.byte_count);
                out.put_u32(g.duration_sec);
                out.put_u32(g.duration_nsec);
                for (p, b) in &g.bucket_stats {
                    out.put_u64(*p);
                    out.put_u64(*b);
                }
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::GroupDesc(v) => {
            for g in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(g.group_type.number());
                out.put_u8(0);
                out.put_u32(g.group_id);
                put_buckets(&g.buckets, out)?;
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::GroupFeatures(g) => {
            out.put_u32(g.types);
            out.put_u32(g.capabilities);
            for x in g.max_groups.iter().chain(&g.actions) {
                out.put_u32(*x);
            }
        }
        B::Meter(v) => {
            for m in v {
                let start = out.len();
                out.put_u32(m.meter_id);
                out.put_u16(0);
                out.put_zeros(6);
                out.put_u32(m.flow_count);
                out.put_u64(m.packet_in_count);
                out.put_u64(m.byte_in_count);
                out.put_u32(m.duration_sec);
                out.put_u32(m.duration_nsec);
                for (p, b) in &m.band_stats {
                    out.put_u64(*p);
                    out.put_u64(*b);
                }
                out.patch_u16(start.saturating_add(4), out.len().saturating_sub(start))?;
            }
        }
        B::MeterConfig(v) => {
            for m in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u16(m.flags);
                out.put_u32(m.meter_id);
                put_bands(&m.bands, out);
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::MeterFeatures(m) => {
            out.put_u32(m.max_meter);
            out.put_u32(m.band_types);
            out.put_u32(m.capabilities);
            out.put_u8(m.max_bands);
            out.put_u8(m.max_color);
            out.put_zeros(2);
        }
        B::TableFeatures(t) => put_table_features(t, out)?,
        B::PortDesc(v) => {
            for p in v {
                put_port(p, out);
            }
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
    }
    Ok(())
}

/// Table-feature property type numbers.
mod tfpt {
    pub const INSTRUCTIONS: u16 = 0;
    pub const NEXT_TABLES: u16 = 2;
    pub const WRITE_ACTIONS: u16 = 4;
    pub const APPLY_ACTIONS: u16 = 6;
    pub const MATCH: u16 = 8;
    pub const WILDCARDS: u16 = 10;
    pub const WRITE_SETFIELD: u16 = 12;
    pub const APPLY_SETFIELD: u16 = 14;
    pub const EXPERIMENTER: u16 = 0xfffe;
}

/// Decodes a list of `ofp_table_features`.
pub(crate) fn get_table_features(buf: &[u8]) -> DecodeResult<Vec<TableFeatures>> {
    let bad_len = TableFeaturesFailed::BadLen;
    let mut r = Reader::new(buf, bad_len);
    let mut out = Vec::new();
    while !r.is_empty() {
        let len = usize::from(Reader::new(r.peek(2)?, bad_len).u16()?);
        if len < 64 || len % 8 != 0 || len > r.remaining() {
            return Err(DecodeError::new(bad_len, format!("table features length {len}")));
        }
        let mut e = r.sub(len, bad_len)?;
        e.skip(2)?;
        let table_id = e.u8()?;
        e.skip(5)?;
        let mut tf = TableFeatures {
            table_id,
            name: e.string(32)?,
            metadata_match: e.u64()?,
            metadata_write: e.u64()?,
            config: e.u32()?,
            max_entries: e.u32()?,
            properties: Vec::new(),
        };
        while !e.is_empty() {
            let mut h = Reader::new(e.peek(4)?, bad_len);
            let ptype = h.u16()?;
            let plen = usize::from(h.u16()?);
            if plen < 4 || pad8(plen) > e.remaining() {
                return Err(DecodeError::new(bad_len, format!("table feature property length {plen}")));
            }
            let mut p = e.sub(plen, bad_len)?;
            e.skip(pad8(plen).saturating_sub(plen))?;
            p.skip(4)?;
            let miss = ptype & 1 == 1 && ptype != tfpt::EXPERIMENTER;
            let ids = |p: &mut Reader<'_>| -> DecodeResult<Vec<u16>> {
                let mut v = Vec::new();
                while !p.is_empty() {
                    let id = p.u16()?;
                    let l = usize::from(p.u16()?);
                    if l < 4 {
                        return Err(DecodeError::new(bad_len, "feature id length"));
                    }
                    p.skip(l.saturating_sub(4))?;
                    v.push(id);
                }
                Ok(v)
            };
            let oxms = |p: &mut Reader<'_>| -> DecodeResult<Vec<u32>> {
                let mut v = Vec::new();
                while !p.is_empty() {
                    v.push(p.u32()?);
                }
                Ok(v)
            };
            let prop = match ptype & !1 {
                _ if ptype >= tfpt::EXPERIMENTER => TableFeatureProp::Experimenter {
                    miss: ptype == 0xffff,
                    experimenter: p.u32()?,
                    exp_type: p.u32()?,
                    data: p.rest().to_vec(),
                },
                tfpt::INSTRUCTIONS => TableFeatureProp::Instructions { miss, ids: ids(&mut p)? },
                tfpt::NEXT_TABLES => TableFeatureProp::NextTables { miss, tables: p.rest().to_vec() },
                tfpt::WRITE_ACTIONS => TableFeatureProp::WriteActions { miss, ids: ids(&mut p)? },
                tfpt::APPLY_ACTIONS => TableFeatureProp::ApplyActions { miss, ids: ids(&mut p)? },
                tfpt::MATCH if !miss => TableFeatureProp::Match(oxms(&mut p)?),
                tfpt::WILDCARDS if !miss => TableFeatureProp::Wildcards(oxms(&mut p)?),
                tfpt::WRITE_SETFIELD => TableFeatureProp::WriteSetfield { miss, oxms: oxms(&mut p)? },
                tfpt::APPLY_SETFIELD => TableFeatureProp::ApplySetfield { miss, oxms: oxms(&mut p)? },
                _ => {
                    return Err(DecodeError::new(
                        TableFeaturesFailed::BadType,
                        format!("table feature property {ptype}"),
                    ))
                }
            };
            tf.properties.push(prop);
        }
        out.push(tf);
    }
    Ok(out)
}

/// Encodes a list of `ofp_table_features`.
pub(crate) fn put_table_features(v: &[TableFeatures], out: &mut Vec<u8>) -> EncodeResult<()> {
    for tf in v {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(tf.table_id);
        out.put_zeros(5);
        out.put_string(&tf.name, 32);
        out.put_u64(tf.metadata_match);
        out.put_u64(tf.metadata_write);
        out.put_u32(tf.config);
        out.put_u32(tf.max_entries);
        for p in &tf.properties {
            let ps = out.len();
            let m = |miss: bool, t: u16| t | u16::from(miss);
            let ptype = match p {
                TableFeatureProp::Instructions { miss, .. } => m(*miss, tfpt::INSTRUCTIONS),
                TableFeatureProp::NextTables { miss, .. } => m(*miss, tfpt::NEXT_TABLES),
                TableFeatureProp::WriteActions { miss, .. } => m(*miss, tfpt::WRITE_ACTIONS),
                TableFeatureProp::ApplyActions { miss, .. } => m(*miss, tfpt::APPLY_ACTIONS),
                TableFeatureProp::Match(_) => tfpt::MATCH,
                TableFeatureProp::Wildcards(_) => tfpt::WILDCARDS,
                TableFeatureProp::WriteSetfield { miss, .. } => m(*miss, tfpt::WRITE_SETFIELD),
                TableFeatureProp::ApplySetfield { miss, .. } => m(*miss, tfpt::APPLY_SETFIELD),
                TableFeatureProp::Experimenter { miss, .. } => m(*miss, tfpt::EXPERIMENTER),
            };
            out.put_u16(ptype);
            out.put_u16(0);
            match p {
                TableFeatureProp::Instructions { ids, .. }
                | TableFeatureProp::WriteActions { ids, .. }
                | TableFeatureProp::ApplyActions { ids, .. } => {
                    for id in ids {
                        out.put_u16(*id);
                        out.put_u16(4);
                    }
                }
                TableFeatureProp::NextTables { tables, .. } => out.extend_from_slice(tables),
                TableFeatureProp::Match(o)
                | TableFeatureProp::Wildcards(o)
                | TableFeatureProp::WriteSetfield { oxms: o, .. }
                | TableFeatureProp::ApplySetfield { oxms: o, .. } => {
                    for h in o {
                        out.put_u32(*h);
                    }
                }
                TableFeatureProp::Experimenter { experimenter, exp_type, data, .. } => {
                    out.put_u32(*experimenter);
                    out.put_u32(*exp_type);
                    out.extend_from_slice(data);
                }
            }
            out.patch_u16(ps.saturating_add(2), out.len().saturating_sub(ps))?;
            out.pad8_from(ps);
        }
        out.patch_u16(start, out.len().saturating_sub(start))?;
    }
    Ok(())
}

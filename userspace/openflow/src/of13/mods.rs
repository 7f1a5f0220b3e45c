//! OpenFlow 1.3 flow/group/meter/port modifications and the structures they carry
//! (buckets, meter bands, `ofp_port`, flow-mod flags), with their validation.

use super::*;

/// Translations that depend on the flow's match, as Open vSwitch does them: OpenFlow 1.0's
/// protocol-agnostic `mod_tp_src/dst` become `set_field` on the L4 protocol the match pins
/// down (without one they stay and fail to encode), and `mod_vlan_vid/pcp` on a flow that
/// matches untagged packets first push a tag.
pub(super) fn resolve_tp_actions(ins: &[Instruction], m: &Match) -> Vec<Instruction> {
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
                (Action::SetTpSrc(p), Some((s, _))) => out.push(Action::SetField {
                    field: s,
                    value: u128::from(*p),
                }),
                (Action::SetTpDst(p), Some((_, d))) => out.push(Action::SetField {
                    field: d,
                    value: u128::from(*p),
                }),
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

pub(super) fn decode_flow_mod(r: &mut Reader<'_>) -> DecodeResult<FlowMod> {
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
        return Err(DecodeError::new(
            FlowModFailed::BadFlags,
            format!("flags {wflags:#x}"),
        ));
    }
    let adds = matches!(
        command,
        FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict
    );
    if adds && table_id == table::ALL {
        return Err(DecodeError::new(
            FlowModFailed::BadTableId,
            "table 255 for add/modify",
        ));
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

pub(super) fn decode_group_mod(r: &mut Reader<'_>) -> DecodeResult<GroupMod> {
    let cmd = r.u16()?;
    let gtype = r.u8()?;
    r.skip(1)?;
    let group_id = r.u32()?;
    let buckets = get_buckets(r.rest())?;
    let command = match cmd {
        0 => GroupModCommand::Add,
        1 => GroupModCommand::Modify,
        2 => GroupModCommand::Delete,
        _ => {
            return Err(DecodeError::new(
                GroupModFailed::BadCommand,
                format!("command {cmd}"),
            ))
        }
    };
    let group_type = GroupType::from_number(gtype)
        .ok_or_else(|| DecodeError::new(GroupModFailed::BadType, format!("group type {gtype}")))?;
    let id_ok =
        group_id <= group::MAX || (command == GroupModCommand::Delete && group_id == group::ALL);
    if !id_ok {
        return Err(DecodeError::new(
            GroupModFailed::InvalidGroup,
            format!("group {group_id:#x}"),
        ));
    }
    if command != GroupModCommand::Delete {
        check_buckets(group_type, &buckets)?;
    }
    Ok(GroupMod {
        command,
        group_type,
        group_id,
        buckets,
    })
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
                    return Err(DecodeError::new(
                        GroupModFailed::BadWatch,
                        "bucket watches nothing",
                    ));
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
        let mut b = take_entry(&mut r, GroupModFailed::BadBucket, "bucket", |len| {
            len >= 16 && len % 8 == 0
        })?;
        b.skip(2)?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        let actions = decode_actions(V, b.rest())?;
        out.push(Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        });
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

pub(super) fn decode_meter_mod(r: &mut Reader<'_>) -> DecodeResult<MeterMod> {
    let cmd = r.u16()?;
    let flags = r.u16()?;
    let meter_id = r.u32()?;
    let bands = get_bands(r.rest())?;
    let command = match cmd {
        0 => MeterModCommand::Add,
        1 => MeterModCommand::Modify,
        2 => MeterModCommand::Delete,
        _ => {
            return Err(DecodeError::new(
                MeterModFailed::BadCommand,
                format!("command {cmd}"),
            ))
        }
    };
    let rate_bits = flags & (meter_flags::KBPS | meter_flags::PKTPS);
    if flags & !0xf != 0 || rate_bits == (meter_flags::KBPS | meter_flags::PKTPS) {
        return Err(DecodeError::new(
            MeterModFailed::BadFlags,
            format!("flags {flags:#x}"),
        ));
    }
    let special = matches!(meter_id, meter::SLOWPATH | meter::CONTROLLER)
        || (meter_id == meter::ALL && command == MeterModCommand::Delete);
    if meter_id == 0 || (meter_id > meter::MAX && !special) {
        return Err(DecodeError::new(
            MeterModFailed::InvalidMeter,
            format!("meter {meter_id:#x}"),
        ));
    }
    if command != MeterModCommand::Delete {
        for b in &bands {
            if b.rate == 0 {
                return Err(DecodeError::new(MeterModFailed::BadRate, "band rate 0"));
            }
        }
    }
    Ok(MeterMod {
        command,
        flags,
        meter_id,
        bands,
    })
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
            return Err(DecodeError::new(
                BadRequest::BadLen,
                format!("meter band length {len}"),
            ));
        }
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        let kind = match btype {
            1 => MeterBandKind::Drop,
            2 => MeterBandKind::DscpRemark {
                prec_level: b.u8()?,
            },
            0xffff => MeterBandKind::Experimenter {
                experimenter: b.u32()?,
            },
            _ => {
                return Err(DecodeError::new(
                    MeterModFailed::BadBand,
                    format!("band type {btype}"),
                ))
            }
        };
        out.push(MeterBand {
            kind,
            rate,
            burst_size,
        });
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
    for w in [
        p.config,
        p.state,
        p.curr,
        p.advertised,
        p.supported,
        p.peer,
        p.curr_speed,
        p.max_speed,
    ] {
        out.put_u32(w);
    }
}

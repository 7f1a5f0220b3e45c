//! The `ovs-ofctl` flow parser: `add-flow`-style text to [`FlowMod`], matches, instructions
//! and actions.

use super::*;

/// Parses a decimal or `0x` hexadecimal number.
pub fn parse_u64(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

pub(super) fn parse_u128(s: &str) -> Option<u128> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

pub(super) fn num<T: TryFrom<u64>>(s: &str, what: &str) -> Result<T, TextError> {
    parse_u64(s)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| TextError(format!("{what}: bad number {s:?}")))
}

/// Parses one field value (no mask) in the field's text format.
pub fn parse_field_value(f: Field, s: &str) -> Result<u128, TextError> {
    let info = f.info();
    let v = match info.format {
        Format::Port => port::parse(s).map(u128::from),
        Format::Mac => MacAddr::parse(s).map(|m| u128::from(m.to_u64())),
        Format::Ipv4 => s.parse::<Ipv4Addr>().ok().map(|a| u128::from(u32::from(a))),
        Format::Ipv6 => s.parse::<Ipv6Addr>().ok().map(u128::from),
        Format::Decimal | Format::Hex => parse_u128(s),
    };
    let v = v.ok_or_else(|| TextError(format!("{}: bad value {s:?}", info.name)))?;
    if v & !f.max_value() != 0 {
        return err(format!("{}: value {s} out of range", info.name));
    }
    Ok(v)
}

/// Parses `value[/mask]` for a field (IPv4/IPv6 also accept `/prefix-length`).
pub fn parse_field_masked(f: Field, s: &str) -> Result<(u128, Option<u128>), TextError> {
    let Some((v, m)) = s.split_once('/') else { return Ok((parse_field_value(f, s)?, None)) };
    let value = parse_field_value(f, v)?;
    let bits = u32::from(f.info().bits);
    let prefix = matches!(f.info().format, Format::Ipv4 | Format::Ipv6) && !m.contains(['.', ':']);
    let mask = if prefix {
        let n: u32 = num(m, f.info().name)?;
        if n > bits {
            return err(format!("{}: prefix /{n} too long", f.info().name));
        }
        let host = bits.saturating_sub(n);
        f.max_value() & !(1u128.checked_shl(host).map_or(u128::MAX, |x| x.wrapping_sub(1)))
    } else if f.info().format == Format::Port {
        return err("port fields take no mask");
    } else {
        parse_field_value(f, m)?
    };
    Ok((value & mask, Some(mask)))
}

/// The Open vSwitch field names accepted in matches (besides `Field::info().name`).
pub(super) fn field_by_name(name: &str) -> Option<Field> {
    Some(match name {
        "eth_src" => Field::EthSrc,
        "eth_dst" => Field::EthDst,
        "eth_type" => Field::EthType,
        "vlan_pcp" => Field::VlanPcp,
        "ip_src" => Field::Ipv4Src,
        "ip_dst" => Field::Ipv4Dst,
        "ip_proto" => Field::IpProto,
        "ip_ecn" => Field::IpEcn,
        "tunnel_id" => Field::TunnelId,
        "icmpv4_type" => Field::Icmpv4Type,
        "icmpv4_code" => Field::Icmpv4Code,
        "ipv6_flabel" => Field::Ipv6Flabel,
        "ipv6_nd_target" => Field::Ipv6NdTarget,
        "ipv6_nd_sll" => Field::Ipv6NdSll,
        "ipv6_nd_tll" => Field::Ipv6NdTll,
        _ => return Field::ALL.iter().copied().find(|f| f.info().name == name),
    })
}

/// Splits at top-level commas/spaces (not inside parentheses).
pub(super) fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' => depth = depth.saturating_sub(1),
            ',' | ' ' | '\t' if depth == 0 => {
                if let Some(t) = s.get(start..i) {
                    if !t.is_empty() {
                        out.push(t);
                    }
                }
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    if let Some(t) = s.get(start..) {
        if !t.is_empty() {
            out.push(t);
        }
    }
    out
}

/// Protocol shorthand keywords: (eth_type, ip_proto).
pub(super) fn protocol(kw: &str) -> Option<(u16, Option<u8>)> {
    Some(match kw {
        "ip" | "ipv4" => (0x0800, None),
        "ipv6" => (0x86dd, None),
        "icmp" => (0x0800, Some(1)),
        "tcp" => (0x0800, Some(6)),
        "udp" => (0x0800, Some(17)),
        "sctp" => (0x0800, Some(132)),
        "icmp6" => (0x86dd, Some(58)),
        "tcp6" => (0x86dd, Some(6)),
        "udp6" => (0x86dd, Some(17)),
        "sctp6" => (0x86dd, Some(132)),
        "arp" => (0x0806, None),
        "rarp" => (0x8035, None),
        "mpls" => (0x8847, None),
        "mplsm" => (0x8848, None),
        _ => return None,
    })
}

/// Parses an `ovs-ofctl` flow (match, flow parameters and `actions=`) for `command`.
pub fn parse_flow_mod(s: &str, command: FlowModCommand) -> Result<FlowMod, TextError> {
    let (head, actions) = match s.find("actions=") {
        Some(i) => (s.get(..i).unwrap_or_default(), Some(s.get(i.saturating_add(8)..).unwrap_or_default())),
        None => (s, None),
    };
    let mut fm = FlowMod { command, ..FlowMod::default() };
    if matches!(command, FlowModCommand::Delete | FlowModCommand::DeleteStrict) {
        fm.table_id = crate::types::table::ALL;
    }
    let toks = split_top(head);
    // Pass 1: protocol keywords and dl_type decide what nw_src/tp_src/icmp_type mean.
    let mut m = Match::new();
    for t in &toks {
        if let Some((et, proto)) = protocol(t) {
            m.set(Field::EthType, u128::from(et));
            if let Some(p) = proto {
                m.set(Field::IpProto, u128::from(p));
            }
        } else if let Some(("dl_type" | "eth_type", v)) = t.split_once('=') {
            m.set(Field::EthType, parse_field_value(Field::EthType, v)?);
        } else if let Some(("nw_proto" | "ip_proto", v)) = t.split_once('=') {
            if !m.is_exact(Field::EthType, 0x0806) && !m.is_exact(Field::EthType, 0x8035) {
                m.set(Field::IpProto, parse_field_value(Field::IpProto, v)?);
            }
        }
    }
    let et = m.exact(Field::EthType);
    let is_arp = et == Some(0x0806) || et == Some(0x8035);
    let is_v6 = et == Some(0x86dd);
    let proto = m.exact(Field::IpProto);
    for t in toks {
        if protocol(t).is_some() {
            continue;
        }
        let flag = |f: &mut FlowModFlags| -> bool {
            match t {
                "send_flow_rem" => f.send_flow_rem = true,
                "check_overlap" => f.check_overlap = true,
                "reset_counts" => f.reset_counts = true,
                "no_packet_counts" => f.no_pkt_counts = true,
                "no_byte_counts" => f.no_byt_counts = true,
                "emerg" => f.emerg = true,
                _ => return false,
            }
            true
        };
        if flag(&mut fm.flags) {
            continue;
        }
        let Some((k, v)) = t.split_once('=') else { return err(format!("unknown keyword {t:?}")) };
        match k {
            "table" => fm.table_id = num(v, k)?,
            "priority" => fm.priority = num(v, k)?,
            "idle_timeout" => fm.idle_timeout = num(v, k)?,
            "hard_timeout" => fm.hard_timeout = num(v, k)?,
            "importance" => fm.importance = num(v, k)?,
            "out_port" => fm.out_port = port::parse(v).ok_or_else(|| TextError(format!("bad port {v}")))?,
            "out_group" => fm.out_group = num(v, k)?,
            "cookie" => match v.split_once('/') {
                Some((c, mk)) => {
                    fm.cookie = num(c, k)?;
                    fm.cookie_mask = if mk == "-1" { u64::MAX } else { num(mk, k)? };
                }
                None => fm.cookie = num(v, k)?,
            },
            "dl_type" | "eth_type" | "nw_proto" | "ip_proto" if !is_arp || k.starts_with("dl") || k.starts_with("eth") => {}
            "nw_proto" | "ip_proto" => {
                m.set(Field::ArpOp, parse_field_value(Field::ArpOp, v)?);
            }
            "dl_vlan" => {
                let vid: u16 = num(v, k)?;
                if vid == 0xffff {
                    m.set(Field::VlanVid, 0);
                } else if vid > 0xfff {
                    return err(format!("dl_vlan {vid} out of range"));
                } else {
                    m.set(Field::VlanVid, u128::from(vid | VID_PRESENT));
                }
            }
            "dl_vlan_pcp" | "vlan_pcp" => {
                if m.get(Field::VlanVid).is_none() {
                    let p = u128::from(VID_PRESENT);
                    m.set_masked(Field::VlanVid, p, p);
                }
                m.set(Field::VlanPcp, parse_field_value(Field::VlanPcp, v)?);
            }
            "vlan_tci" => {
                let (tv, tm) = match v.split_once('/') {
                    Some((a, b)) => (num::<u16>(a, k)?, num::<u16>(b, k)?),
                    None => (num::<u16>(v, k)?, 0xffff),
                };
                let vid_m = tm & 0x1fff;
                if vid_m != 0 {
                    m.set_masked(Field::VlanVid, u128::from(tv & 0x1fff), u128::from(vid_m));
                }
                if tm & 0xe000 == 0xe000 && tv & VID_PRESENT != 0 {
                    m.set(Field::VlanPcp, u128::from(tv >> 13));
                }
            }
            "nw_tos" => {
                let tos: u8 = num(v, k)?;
                m.set(Field::IpDscp, u128::from(tos >> 2));
            }
            "nw_src" | "nw_dst" | "ip_src" | "ip_dst" => {
                let src = k.ends_with("src");
                let f = match (is_arp, src) {
                    (true, true) => Field::ArpSpa,
                    (true, false) => Field::ArpTpa,
                    (false, true) => Field::Ipv4Src,
                    (false, false) => Field::Ipv4Dst,
                };
                set(&mut m, f, v)?;
            }
            "tp_src" | "tp_dst" => {
                let src = k == "tp_src";
                let f = match proto {
                    Some(6) => if src { Field::TcpSrc } else { Field::TcpDst },
                    Some(17) => if src { Field::UdpSrc } else { Field::UdpDst },
                    Some(132) => if src { Field::SctpSrc } else { Field::SctpDst },
                    _ => return err(format!("{k} needs tcp, udp or sctp")),
                };
                set(&mut m, f, v)?;
            }
            "icmp_type" | "icmp_code" => {
                let ty = k == "icmp_type";
                let f = match (is_v6, ty) {
                    (true, true) => Field::Icmpv6Type,
                    (true, false) => Field::Icmpv6Code,
                    (false, true) => Field::Icmpv4Type,
                    (false, false) => Field::Icmpv4Code,
                };
                set(&mut m, f, v)?;
            }
            _ => match field_by_name(k) {
                Some(f) => set(&mut m, f, v)?,
                None => return err(format!("unknown field {k:?}")),
            },
        }
    }
    m.check_prereqs().map_err(|e| TextError(e.detail))?;
    fm.match_ = m;
    match actions {
        Some(a) => fm.instructions = parse_instructions(a)?,
        None if matches!(command, FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict) => {
            return err("must specify actions");
        }
        None => {}
    }
    Ok(fm)
}

pub(super) fn set(m: &mut Match, f: Field, v: &str) -> Result<(), TextError> {
    let (value, mask) = parse_field_masked(f, v)?;
    match mask {
        Some(_) if !f.info().maskable => return err(format!("{} may not be masked", f.info().name)),
        Some(mk) => m.set_masked(f, value, mk),
        None => m.set(f, value),
    };
    Ok(())
}

/// The `set_field` name of a field (Open vSwitch's `mf` names).
pub(super) fn set_field_name(f: Field) -> &'static str {
    match f {
        Field::EthSrc => "eth_src",
        Field::EthDst => "eth_dst",
        Field::EthType => "eth_type",
        Field::VlanPcp => "vlan_pcp",
        Field::Ipv4Src => "ip_src",
        Field::Ipv4Dst => "ip_dst",
        Field::Icmpv4Type => "icmp_type",
        Field::Icmpv4Code => "icmp_code",
        f => f.info().name,
    }
}

pub(super) fn set_field_by_name(name: &str) -> Option<Field> {
    match name {
        "nw_src" => Some(Field::Ipv4Src),
        "nw_dst" => Some(Field::Ipv4Dst),
        "dl_src" => Some(Field::EthSrc),
        "dl_dst" => Some(Field::EthDst),
        "nw_tos" => None,
        n => field_by_name(n),
    }
}

/// Parses an action list / instruction list (`output:1,write_actions(...),goto_table:2`).
pub fn parse_instructions(s: &str) -> Result<Vec<Instruction>, TextError> {
    let mut apply = Vec::new();
    let (mut meter, mut clear, mut write, mut meta, mut goto) = (None, false, None, None, None);
    for t in split_top(s) {
        let (k, v) = match t.split_once([':', '(']) {
            Some((k, v)) => (k, v.strip_suffix(')').unwrap_or(v)),
            None => (t, ""),
        };
        match k {
            "meter" => meter = Some(num(v, k)?),
            "clear_actions" => clear = true,
            "write_actions" => {
                let mut acts = Vec::new();
                for a in split_top(v) {
                    parse_action(a, &mut acts)?;
                }
                write = Some(acts);
            }
            "write_metadata" => {
                let (val, mask) = match v.split_once('/') {
                    Some((a, b)) => (num(a, k)?, num(b, k)?),
                    None => (num(v, k)?, u64::MAX),
                };
                meta = Some(Instruction::WriteMetadata { metadata: val, mask });
            }
            "goto_table" => goto = Some(num(v, k)?),
            "drop" => {}
            _ => parse_action(t, &mut apply)?,
        }
    }
    let mut out = Vec::new();
    if let Some(m) = meter {
        out.push(Instruction::Meter(m));
    }
    if !apply.is_empty() {
        out.push(Instruction::ApplyActions(apply));
    }
    if clear {
        out.push(Instruction::ClearActions);
    }
    if let Some(w) = write {
        out.push(Instruction::WriteActions(w));
    }
    if let Some(m) = meta {
        out.push(m);
    }
    if let Some(g) = goto {
        out.push(Instruction::GotoTable(g));
    }
    Ok(out)
}

pub(super) fn parse_action(t: &str, out: &mut Vec<Action>) -> Result<(), TextError> {
    let (k, v) = match t.split_once([':', '(']) {
        Some((k, v)) => (k, v.strip_suffix(')').unwrap_or(v)),
        None => (t, ""),
    };
    let mac = |v: &str| MacAddr::parse(v).ok_or_else(|| TextError(format!("bad MAC {v}")));
    let ip = |v: &str| v.parse::<Ipv4Addr>().map(u32::from).map_err(|_| TextError(format!("bad IP {v}")));
    let a = match k.to_ascii_lowercase().as_str() {
        "output" => Action::Output {
            port: port::parse(v).ok_or_else(|| TextError(format!("bad port {v}")))?,
            max_len: 0,
        },
        "controller" => Action::Output {
            port: port::CONTROLLER,
            max_len: if v.is_empty() {
                u16::MAX
            } else {
                num(v.trim_start_matches("max_len="), "controller")?
            },
        },
        "in_port" | "table" | "normal" | "flood" | "all" | "local" if v.is_empty() => Action::Output {
            port: port::parse(k).ok_or_else(|| TextError(format!("bad port {k}")))?,
            max_len: 0,
        },
        "drop" => return Ok(()),
        "mod_vlan_vid" => Action::SetVlanVid(num(v, k)?),
        "mod_vlan_pcp" => Action::SetVlanPcp(num(v, k)?),
        "strip_vlan" | "pop_vlan" => Action::PopVlan,
        "push_vlan" => Action::PushVlan(num(v, k)?),
        "mod_dl_src" => Action::SetDlSrc(mac(v)?),
        "mod_dl_dst" => Action::SetDlDst(mac(v)?),
        "mod_nw_src" => Action::SetNwSrc(ip(v)?),
        "mod_nw_dst" => Action::SetNwDst(ip(v)?),
        "mod_nw_tos" => Action::SetNwTos(num(v, k)?),
        "mod_tp_src" => Action::SetTpSrc(num(v, k)?),
        "mod_tp_dst" => Action::SetTpDst(num(v, k)?),
        "mod_nw_ttl" => Action::SetNwTtl(num(v, k)?),
        "dec_ttl" => Action::DecNwTtl,
        "set_mpls_ttl" => Action::SetMplsTtl(num(v, k)?),
        "dec_mpls_ttl" => Action::DecMplsTtl,
        "push_mpls" => Action::PushMpls(num(v, k)?),
        "pop_mpls" => Action::PopMpls(num(v, k)?),
        "set_queue" => Action::SetQueue(num(v, k)?),
        "group" => Action::Group(num(v, k)?),
        "pop_queue" => Action::pop_queue(),
        "copy_ttl_in" => Action::CopyTtlIn,
        "copy_ttl_out" => Action::CopyTtlOut,
        "enqueue" => {
            let (p, q) = v
                .split_once([':', ','])
                .ok_or_else(|| TextError(format!("enqueue needs port:queue, got {v}")))?;
            Action::Enqueue {
                port: port::parse(p).ok_or_else(|| TextError(format!("bad port {p}")))?,
                queue_id: num(q, k)?,
            }
        }
        "set_field" => {
            let (val, name) = v
                .split_once("->")
                .ok_or_else(|| TextError(format!("set_field needs VALUE->FIELD, got {v}")))?;
            let field = set_field_by_name(name).ok_or_else(|| TextError(format!("unknown field {name}")))?;
            if !field.is_settable() {
                return err(format!("{name} is not settable"));
            }
            let value = parse_field_value(field, val)?;
            if field == Field::VlanVid && value & u128::from(VID_PRESENT) == 0 {
                return err("set_field vlan_vid needs the 0x1000 present bit");
            }
            Action::SetField { field, value }
        }
        _ => match port::parse(t) {
            Some(p) if p != port::ANY => Action::Output { port: p, max_len: 0 },
            _ => return err(format!("unknown action {t:?}")),
        },
    };
    out.push(a);
    Ok(())
}

//! The `ovs-ofctl` flow text syntax: [`parse_flow_mod`] turns an `add-flow`/`mod-flows`/
//! `del-flows` argument (`table=0,priority=10,tcp,nw_dst=10.0.0.0/8,actions=output:2`) into a
//! [`FlowMod`]; [`format_match`], [`format_instructions`], [`format_flow_mod`] and
//! [`format_flow_stats`] print in the shapes `ovs-ofctl` uses (`dump-flows` lines).
//!
//! Field order and number formats follow Open vSwitch's `match_format()` so that rvs-ofctl's
//! output can be compared with ovs-ofctl's line by line.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::action::Action;
use crate::instruction::Instruction;
use crate::msg::{FlowMod, FlowModCommand, FlowModFlags, FlowStats};
use crate::oxm::{Field, Format, Match, VID_PRESENT};
use crate::types::{port, MacAddr, Version, DEFAULT_PRIORITY};

/// A flow text that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TextError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, TextError> {
    Err(TextError(s.into()))
}

/// Parses a decimal or `0x` hexadecimal number.
pub fn parse_u64(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn parse_u128(s: &str) -> Option<u128> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn num<T: TryFrom<u64>>(s: &str, what: &str) -> Result<T, TextError> {
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
fn field_by_name(name: &str) -> Option<Field> {
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
fn split_top(s: &str) -> Vec<&str> {
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
fn protocol(kw: &str) -> Option<(u16, Option<u8>)> {
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

fn set(m: &mut Match, f: Field, v: &str) -> Result<(), TextError> {
    let (value, mask) = parse_field_masked(f, v)?;
    match mask {
        Some(_) if !f.info().maskable => return err(format!("{} may not be masked", f.info().name)),
        Some(mk) => m.set_masked(f, value, mk),
        None => m.set(f, value),
    };
    Ok(())
}

/// The `set_field` name of a field (Open vSwitch's `mf` names).
fn set_field_name(f: Field) -> &'static str {
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

fn set_field_by_name(name: &str) -> Option<Field> {
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

fn parse_action(t: &str, out: &mut Vec<Action>) -> Result<(), TextError> {
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

fn format_port(p: u32) -> String {
    match port::name(p) {
        Some(n) => n.to_string(),
        None => p.to_string(),
    }
}

fn mask_of(f: Field, fm: &crate::oxm::FieldMatch) -> u128 {
    fm.mask_or_exact(f)
}

fn fmt_value(f: Field, v: u128) -> String {
    match f.info().format {
        Format::Port => format_port(u32::try_from(v).unwrap_or(0)),
        Format::Mac => MacAddr::from_u64(u64::try_from(v).unwrap_or(0)).to_string(),
        Format::Ipv4 => Ipv4Addr::from(u32::try_from(v).unwrap_or(0)).to_string(),
        Format::Ipv6 => Ipv6Addr::from(v).to_string(),
        Format::Decimal => v.to_string(),
        Format::Hex if f == Field::Ipv6Flabel => format!("{v:#07x}"),
        Format::Hex => format!("{v:#x}"),
    }
}

/// Formats one matched field's value (and mask) as Open vSwitch does.
fn fmt_masked(f: Field, fm: &crate::oxm::FieldMatch) -> String {
    let Some(mask) = fm.mask else { return fmt_value(f, fm.value) };
    match f.info().format {
        Format::Ipv4 | Format::Ipv6 => {
            let bits = u32::from(f.info().bits);
            let n = mask.count_ones();
            let host = bits.saturating_sub(n);
            let low = 1u128.checked_shl(host).map_or(u128::MAX, |x| x.wrapping_sub(1));
            let is_prefix = mask == f.max_value() & !low;
            if is_prefix {
                format!("{}/{n}", fmt_value(f, fm.value))
            } else {
                format!("{}/{}", fmt_value(f, fm.value), fmt_value(f, mask))
            }
        }
        Format::Mac => format!("{}/{}", fmt_value(f, fm.value), fmt_value(f, mask)),
        Format::Hex if f == Field::Ipv6Flabel => format!("{:#07x}/{:#07x}", fm.value, mask),
        _ => format!("{:#x}/{:#x}", fm.value, mask),
    }
}

fn put(parts: &mut Vec<String>, m: &Match, f: Field, name: &str) {
    if let Some(fm) = m.get(f) {
        parts.push(format!("{name}={}", fmt_masked(f, &fm)));
    }
}

/// Formats a match (with `priority` unless it is the default) in `ovs-ofctl` order.
pub fn format_match(m: &Match, priority: u16) -> String {
    let mut parts: Vec<String> = Vec::new();
    if priority != DEFAULT_PRIORITY {
        parts.push(format!("priority={priority}"));
    }
    let et = m.exact(Field::EthType);
    let proto = m.exact(Field::IpProto);
    let mut skip_type = false;
    let mut skip_proto = false;
    if let Some(t) = et {
        skip_type = true;
        let kw = match (t, proto) {
            (0x0800, Some(1)) => "icmp",
            (0x0800, Some(6)) => "tcp",
            (0x0800, Some(17)) => "udp",
            (0x0800, Some(132)) => "sctp",
            (0x0800, _) => "ip",
            (0x86dd, Some(58)) => "icmp6",
            (0x86dd, Some(6)) => "tcp6",
            (0x86dd, Some(17)) => "udp6",
            (0x86dd, Some(132)) => "sctp6",
            (0x86dd, _) => "ipv6",
            (0x8035, _) => "rarp",
            (0x0806, _) => "arp",
            (0x8847, _) => "mpls",
            (0x8848, _) => "mplsm",
            _ => "",
        };
        if kw.is_empty() {
            skip_type = false;
        } else {
            parts.push(kw.into());
            skip_proto = proto.is_some() && !matches!(kw, "ip" | "ipv6");
        }
    }
    for (f, name) in [
        (Field::TunnelId, "tun_id"),
        (Field::Metadata, "metadata"),
        (Field::InPort, "in_port"),
        (Field::InPhyPort, "in_phy_port"),
    ] {
        if let Some(fm) = m.get(f) {
            parts.push(format!("{name}={}", fmt_masked(f, &fm)));
        }
    }
    // VLAN, as a TCI.
    if m.get(Field::VlanVid).is_some() || m.get(Field::VlanPcp).is_some() {
        let vid = m.get(Field::VlanVid);
        let (vv, vm) = vid.map_or((0, 0), |fm| (fm.value, mask_of(Field::VlanVid, &fm)));
        let pcp = m.exact(Field::VlanPcp);
        let tci = u16::try_from(vv & 0x1fff).unwrap_or(0) | (u16::try_from(pcp.unwrap_or(0)).unwrap_or(0) << 13);
        let tmask = u16::try_from(vm & 0x1fff).unwrap_or(0) | if pcp.is_some() { 0xe000 } else { 0 };
        let (vid_mask, pcp_mask, cfi) = (tmask & 0x0fff, tmask & 0xe000, tmask & VID_PRESENT);
        if cfi != 0
            && tci & VID_PRESENT != 0
            && (vid_mask == 0 || vid_mask == 0x0fff)
            && (pcp_mask == 0 || pcp_mask == 0xe000)
            && (vid_mask != 0 || pcp_mask != 0)
        {
            if vid_mask != 0 {
                parts.push(format!("dl_vlan={}", tci & 0xfff));
            }
            if pcp_mask != 0 {
                parts.push(format!("dl_vlan_pcp={}", tci >> 13));
            }
        } else if tmask == 0xffff || (tci == 0 && tmask == 0x1fff) {
            parts.push(format!("vlan_tci={tci:#06x}"));
        } else {
            parts.push(format!("vlan_tci={tci:#06x}/{tmask:#06x}"));
        }
    }
    put(&mut parts, m, Field::EthSrc, "dl_src");
    put(&mut parts, m, Field::EthDst, "dl_dst");
    if !skip_type {
        put(&mut parts, m, Field::EthType, "dl_type");
    }
    let is_arp = matches!(et, Some(0x0806 | 0x8035));
    if et == Some(0x86dd) {
        put(&mut parts, m, Field::Ipv6Src, "ipv6_src");
        put(&mut parts, m, Field::Ipv6Dst, "ipv6_dst");
        put(&mut parts, m, Field::Ipv6Flabel, "ipv6_label");
    } else if is_arp {
        put(&mut parts, m, Field::ArpSpa, "arp_spa");
        put(&mut parts, m, Field::ArpTpa, "arp_tpa");
    } else {
        put(&mut parts, m, Field::Ipv4Src, "nw_src");
        put(&mut parts, m, Field::Ipv4Dst, "nw_dst");
    }
    if is_arp {
        put(&mut parts, m, Field::ArpOp, "arp_op");
        put(&mut parts, m, Field::ArpSha, "arp_sha");
        put(&mut parts, m, Field::ArpTha, "arp_tha");
    } else if !skip_proto {
        put(&mut parts, m, Field::IpProto, "nw_proto");
    }
    if let Some(d) = m.exact(Field::IpDscp) {
        parts.push(format!("nw_tos={}", d << 2));
    }
    put(&mut parts, m, Field::IpEcn, "nw_ecn");
    put(&mut parts, m, Field::MplsLabel, "mpls_label");
    put(&mut parts, m, Field::MplsTc, "mpls_tc");
    put(&mut parts, m, Field::MplsBos, "mpls_bos");
    put(&mut parts, m, Field::PbbIsid, "pbb_isid");
    put(&mut parts, m, Field::Ipv6Exthdr, "ipv6_exthdr");
    match proto {
        Some(1) if et == Some(0x0800) => {
            put(&mut parts, m, Field::Icmpv4Type, "icmp_type");
            put(&mut parts, m, Field::Icmpv4Code, "icmp_code");
        }
        Some(58) if et == Some(0x86dd) => {
            put(&mut parts, m, Field::Icmpv6Type, "icmp_type");
            put(&mut parts, m, Field::Icmpv6Code, "icmp_code");
            put(&mut parts, m, Field::Ipv6NdTarget, "nd_target");
            put(&mut parts, m, Field::Ipv6NdSll, "nd_sll");
            put(&mut parts, m, Field::Ipv6NdTll, "nd_tll");
        }
        _ => {
            for (s, d) in [
                (Field::TcpSrc, Field::TcpDst),
                (Field::UdpSrc, Field::UdpDst),
                (Field::SctpSrc, Field::SctpDst),
            ] {
                put(&mut parts, m, s, "tp_src");
                put(&mut parts, m, d, "tp_dst");
            }
        }
    }
    parts.join(",")
}

/// Formats one action as `ovs-ofctl` does in `version`'s flows.
pub fn format_action(a: &Action, version: Version) -> String {
    match a {
        Action::Output { port: port::CONTROLLER, max_len } => format!("CONTROLLER:{max_len}"),
        Action::Output { port: p, .. } => match port::name(*p) {
            Some(n) => n.to_string(),
            None => format!("output:{p}"),
        },
        Action::SetField { field, value } => {
            format!("set_field:{}->{}", fmt_value(*field, *value), set_field_name(*field))
        }
        Action::PushVlan(t) => format!("push_vlan:{t:#06x}"),
        Action::PopVlan if version == Version::OF10 => "strip_vlan".into(),
        Action::PopVlan => "pop_vlan".into(),
        Action::PushMpls(t) => format!("push_mpls:{t:#06x}"),
        Action::PopMpls(t) => format!("pop_mpls:{t:#06x}"),
        Action::Group(g) => format!("group:{g}"),
        Action::SetQueue(q) => format!("set_queue:{q}"),
        Action::DecNwTtl => "dec_ttl".into(),
        Action::SetNwTtl(t) => format!("mod_nw_ttl:{t}"),
        Action::CopyTtlOut => "copy_ttl_out".into(),
        Action::CopyTtlIn => "copy_ttl_in".into(),
        Action::SetMplsTtl(t) => format!("set_mpls_ttl({t})"),
        Action::DecMplsTtl => "dec_mpls_ttl".into(),
        Action::SetVlanVid(v) => format!("mod_vlan_vid:{v}"),
        Action::SetVlanPcp(v) => format!("mod_vlan_pcp:{v}"),
        Action::SetDlSrc(m) => format!("mod_dl_src:{m}"),
        Action::SetDlDst(m) => format!("mod_dl_dst:{m}"),
        Action::SetNwSrc(ip) => format!("mod_nw_src:{}", Ipv4Addr::from(*ip)),
        Action::SetNwDst(ip) => format!("mod_nw_dst:{}", Ipv4Addr::from(*ip)),
        Action::SetNwTos(t) => format!("mod_nw_tos:{t}"),
        Action::SetTpSrc(p) => format!("mod_tp_src:{p}"),
        Action::SetTpDst(p) => format!("mod_tp_dst:{p}"),
        Action::Enqueue { port: p, queue_id } => format!("enqueue:{}:{queue_id}", format_port(*p)),
        a if *a == Action::pop_queue() => "pop_queue".into(),
        Action::Experimenter { experimenter, data } => {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            format!("experimenter({experimenter:#x},{hex})")
        }
    }
}

fn format_actions(acts: &[Action], version: Version) -> String {
    acts.iter().map(|a| format_action(a, version)).collect::<Vec<_>>().join(",")
}

/// Formats instructions as the text after `actions=` (`drop` when empty).
pub fn format_instructions(ins: &[Instruction], version: Version) -> String {
    let parts: Vec<String> = ins
        .iter()
        .filter(|i| !matches!(i, Instruction::ApplyActions(a) if a.is_empty()))
        .map(|i| match i {
            Instruction::GotoTable(t) => format!("goto_table:{t}"),
            Instruction::WriteMetadata { metadata, mask } if *mask == u64::MAX => {
                format!("write_metadata:{metadata:#x}")
            }
            Instruction::WriteMetadata { metadata, mask } => format!("write_metadata:{metadata:#x}/{mask:#x}"),
            Instruction::WriteActions(a) => format!("write_actions({})", format_actions(a, version)),
            Instruction::ApplyActions(a) => format_actions(a, version),
            Instruction::ClearActions => "clear_actions".into(),
            Instruction::Meter(m) => format!("meter:{m}"),
            Instruction::Experimenter { experimenter, .. } => format!("experimenter({experimenter:#x})"),
        })
        .collect();
    if parts.is_empty() {
        "drop".into()
    } else {
        parts.join(",")
    }
}

fn format_flags(f: &FlowModFlags, sep: &str) -> String {
    let mut s = String::new();
    for (on, name) in [
        (f.send_flow_rem, "send_flow_rem"),
        (f.check_overlap, "check_overlap"),
        (f.reset_counts, "reset_counts"),
        (f.no_pkt_counts, "no_packet_counts"),
        (f.no_byt_counts, "no_byte_counts"),
        (f.emerg, "emerg"),
    ] {
        if on {
            s.push_str(name);
            s.push_str(sep);
        }
    }
    s
}

/// Formats a flow-mod in `add-flow` syntax (parseable by [`parse_flow_mod`]).
pub fn format_flow_mod(fm: &FlowMod) -> String {
    let mut s = String::new();
    let adds = matches!(fm.command, FlowModCommand::Add);
    let default_table = if matches!(fm.command, FlowModCommand::Delete | FlowModCommand::DeleteStrict) {
        crate::types::table::ALL
    } else {
        0
    };
    if fm.table_id != default_table {
        let _ = write!(s, "table={},", fm.table_id);
    }
    if fm.cookie != 0 || fm.cookie_mask != 0 {
        if adds || fm.cookie_mask == 0 {
            let _ = write!(s, "cookie={:#x},", fm.cookie);
        } else {
            let _ = write!(s, "cookie={:#x}/{:#x},", fm.cookie, fm.cookie_mask);
        }
    }
    if fm.idle_timeout != 0 {
        let _ = write!(s, "idle_timeout={},", fm.idle_timeout);
    }
    if fm.hard_timeout != 0 {
        let _ = write!(s, "hard_timeout={},", fm.hard_timeout);
    }
    if fm.importance != 0 {
        let _ = write!(s, "importance={},", fm.importance);
    }
    if fm.out_port != port::ANY {
        let _ = write!(s, "out_port={},", format_port(fm.out_port));
    }
    if fm.out_group != crate::types::group::ANY {
        let _ = write!(s, "out_group={},", fm.out_group);
    }
    s.push_str(&format_flags(&fm.flags, ","));
    s.push_str(&format_match(&fm.match_, fm.priority));
    if s.ends_with(',') {
        s.pop();
    }
    if !matches!(fm.command, FlowModCommand::Delete | FlowModCommand::DeleteStrict) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str("actions=");
        s.push_str(&format_instructions(&fm.instructions, Version::OF13));
    }
    s
}

/// `ovs-ofctl`'s duration format: `5s`, `5.500s`, `60.000001s`.
pub fn format_duration(sec: u32, nsec: u32) -> String {
    let mut s = sec.to_string();
    if nsec > 0 {
        let msec = nsec / 1_000_000;
        if msec.saturating_mul(1_000_000) == nsec {
            let _ = write!(s, ".{msec:03}");
        } else {
            let frac = format!("{nsec:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
    }
    s.push('s');
    s
}

/// Formats one flow as a `dump-flows` line (leading space included, like ovs-ofctl).
pub fn format_flow_stats(fs: &FlowStats, version: Version) -> String {
    let mut s = format!(
        " cookie={:#x}, duration={}, table={}, n_packets={}, n_bytes={}, ",
        fs.cookie,
        format_duration(fs.duration_sec, fs.duration_nsec),
        fs.table_id,
        fs.packet_count,
        fs.byte_count
    );
    if fs.idle_timeout != 0 {
        let _ = write!(s, "idle_timeout={}, ", fs.idle_timeout);
    }
    if fs.hard_timeout != 0 {
        let _ = write!(s, "hard_timeout={}, ", fs.hard_timeout);
    }
    s.push_str(&format_flags(&fs.flags, " "));
    if fs.importance != 0 {
        let _ = write!(s, "importance={}, ", fs.importance);
    }
    s.push_str(&format_match(&fs.match_, fs.priority));
    if !s.ends_with(' ') {
        s.push(' ');
    }
    s.push_str("actions=");
    s.push_str(&format_instructions(&fs.instructions, version));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &str) -> FlowMod {
        parse_flow_mod(s, FlowModCommand::Add).unwrap()
    }

    #[test]
    fn parse_basic_flow() {
        let fm = add("table=1,priority=200,cookie=0x10,idle_timeout=5,hard_timeout=7,tcp,in_port=3,nw_src=10.0.0.0/8,tp_dst=80,actions=mod_vlan_vid:10,output:2,goto_table:3");
        assert_eq!((fm.table_id, fm.priority, fm.cookie, fm.idle_timeout, fm.hard_timeout), (1, 200, 0x10, 5, 7));
        assert!(fm.match_.is_exact(Field::TcpDst, 80));
        assert_eq!(fm.match_.get(Field::Ipv4Src).unwrap().mask, Some(0xff00_0000));
        assert_eq!(
            fm.instructions,
            vec![
                Instruction::ApplyActions(vec![Action::SetVlanVid(10), Action::Output { port: 2, max_len: 0 }]),
                Instruction::GotoTable(3)
            ]
        );
    }

    #[test]
    fn arp_nw_fields_and_errors() {
        let fm = add("arp,nw_src=10.0.0.1,nw_proto=2,actions=drop");
        assert!(fm.match_.is_exact(Field::ArpSpa, 0x0a00_0001));
        assert!(fm.match_.is_exact(Field::ArpOp, 2));
        assert!(fm.instructions.is_empty());
        assert!(parse_flow_mod("tp_dst=80,actions=drop", FlowModCommand::Add).is_err());
        assert!(parse_flow_mod("tcp,tp_dst=80", FlowModCommand::Add).is_err());
        assert!(parse_flow_mod("tcp,tp_dst=80", FlowModCommand::Delete).is_ok());
        assert!(parse_flow_mod("in_port=1/1,actions=drop", FlowModCommand::Add).is_err());
        assert!(parse_flow_mod("foo=1,actions=drop", FlowModCommand::Add).is_err());
        assert!(parse_flow_mod("actions=frobnicate", FlowModCommand::Add).is_err());
    }

    #[test]
    fn print_then_parse_is_stable() {
        for s in [
            "priority=5,tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80 actions=output:2",
            "table=2,cookie=0x5,send_flow_rem,icmp6,icmp_type=135,nd_target=fe80::1 actions=CONTROLLER:65535",
            "dl_vlan=5,dl_vlan_pcp=3 actions=pop_vlan,LOCAL",
            "vlan_tci=0x0000 actions=meter:1,clear_actions,write_actions(output:3),write_metadata:0x1/0xff,goto_table:4",
            "ip,nw_dst=10.1.0.0/255.255.0.255,nw_tos=40 actions=set_field:10.0.0.1->ip_dst,set_field:4196->vlan_vid,enqueue:1:2",
        ] {
            let fm = add(s);
            let p = format_flow_mod(&fm);
            assert_eq!(p, s, "printing {s}");
            assert_eq!(add(&p), fm);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(5, 0), "5s");
        assert_eq!(format_duration(5, 500_000_000), "5.500s");
        assert_eq!(format_duration(60, 1000), "60.000001s");
    }
}

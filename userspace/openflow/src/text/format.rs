//! The `ovs-ofctl` flow printer: matches, actions, instructions, flow-mods and flow stats in
//! the shapes of `dump-flows`.

use super::*;

pub(super) fn format_port(p: u32) -> String {
    match port::name(p) {
        Some(n) => n.to_string(),
        None => p.to_string(),
    }
}

pub(super) fn mask_of(f: Field, fm: &crate::oxm::FieldMatch) -> u128 {
    fm.mask_or_exact(f)
}

pub(super) fn fmt_value(f: Field, v: u128) -> String {
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
pub(super) fn fmt_masked(f: Field, fm: &crate::oxm::FieldMatch) -> String {
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

pub(super) fn put(parts: &mut Vec<String>, m: &Match, f: Field, name: &str) {
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

pub(super) fn format_actions(acts: &[Action], version: Version) -> String {
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

pub(super) fn format_flags(f: &FlowModFlags, sep: &str) -> String {
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

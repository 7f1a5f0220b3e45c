//! Output in the shapes `ovs-ofctl` prints (Open vSwitch's `ofp-print`): message headers,
//! switch features, ports, port statistics, table statistics, groups, switch config,
//! asynchronous messages.

use std::fmt::Write as _;

use rvs_openflow::msg::{
    FeaturesReply, GroupDesc, GroupType, Port, PortStats, SwitchConfig, TableStats,
};
use rvs_openflow::text::{format_duration, format_instructions};
use rvs_openflow::types::port;
use rvs_openflow::{Instruction, Message, OfMessage, Version};

/// `NAME (OF1.3) (xid=0x5):` — the version is shown for everything but OpenFlow 1.0.
pub fn header(name: &str, version: Version, xid: u32) -> String {
    if version == Version::OF10 {
        format!("{name} (xid={xid:#x}):")
    } else {
        format!("{name} (OF{version}) (xid={xid:#x}):")
    }
}

/// The ofp-print name of a multipart reply (`OFPST_FLOW reply`).
pub fn multipart_reply_name(m: &Message) -> &'static str {
    use rvs_openflow::msg::MultipartReplyBody as B;
    let Message::MultipartReply(r) = m else { return m.name() };
    match r.body {
        B::Desc(_) => "OFPST_DESC reply",
        B::Flow(_) => "OFPST_FLOW reply",
        B::Aggregate(_) => "OFPST_AGGREGATE reply",
        B::Table(_) => "OFPST_TABLE reply",
        B::PortStats(_) => "OFPST_PORT reply",
        B::Queue(_) => "OFPST_QUEUE reply",
        B::Group(_) => "OFPST_GROUP reply",
        B::GroupDesc(_) => "OFPST_GROUP_DESC reply",
        B::GroupFeatures(_) => "OFPST_GROUP_FEATURES reply",
        B::Meter(_) => "OFPST_METER reply",
        B::MeterConfig(_) => "OFPST_METER_CONFIG reply",
        B::MeterFeatures(_) => "OFPST_METER_FEATURES reply",
        B::TableFeatures(_) => "OFPST_TABLE_FEATURES reply",
        B::PortDesc(_) => "OFPST_PORT_DESC reply",
        B::Experimenter(_) => "OFPST_EXPERIMENTER reply",
    }
}

/// Formats a port number as OVS does (`LOCAL`, `3`).
pub fn port_name(p: u32) -> String {
    port::name(p).map_or_else(|| p.to_string(), str::to_string)
}

/// Names of set bits, OVS's `ofp_print_bit_names`: `0` for none, unknown bits as hex.
fn bit_names(bits: u32, name: impl Fn(u32) -> Option<&'static str>) -> String {
    if bits == 0 {
        return "0".into();
    }
    let mut rest = bits;
    let mut parts = Vec::new();
    for i in 0..32 {
        let bit = 1u32 << i;
        if bits & bit != 0 {
            if let Some(n) = name(bit) {
                parts.push(n.to_string());
                rest &= !bit;
            }
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join(" ")
}

fn feature_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x1 => "10MB-HD",
        0x2 => "10MB-FD",
        0x4 => "100MB-HD",
        0x8 => "100MB-FD",
        0x10 => "1GB-HD",
        0x20 => "1GB-FD",
        0x40 => "10GB-FD",
        0x80 => "40GB-FD",
        0x100 => "100GB-FD",
        0x200 => "1TB-FD",
        0x400 => "OTHER",
        0x800 => "COPPER",
        0x1000 => "FIBER",
        0x2000 => "AUTO_NEG",
        0x4000 => "AUTO_PAUSE",
        0x8000 => "AUTO_PAUSE_ASYM",
        _ => return None,
    })
}

/// The speed (kb/s) OVS derives from an OpenFlow 1.0 feature set (which has no speed fields).
fn features_kbps(f: u32) -> u32 {
    if f & 0x200 != 0 {
        1_000_000_000
    } else if f & 0x100 != 0 {
        100_000_000
    } else if f & 0x80 != 0 {
        40_000_000
    } else if f & 0x40 != 0 {
        10_000_000
    } else if f & 0x30 != 0 {
        1_000_000
    } else if f & 0xc != 0 {
        100_000
    } else if f & 0x3 != 0 {
        10_000
    } else {
        0
    }
}

fn config_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x1 => "PORT_DOWN",
        0x2 => "NO_STP",
        0x4 => "NO_RECV",
        0x8 => "NO_RECV_STP",
        0x10 => "NO_FLOOD",
        0x20 => "NO_FWD",
        0x40 => "NO_PACKET_IN",
        _ => return None,
    })
}

fn state_text(state: u32) -> String {
    let name = |bit: u32| match bit {
        0x1 => Some("LINK_DOWN"),
        0x2 => Some("BLOCKED"),
        0x4 => Some("LIVE"),
        _ => None,
    };
    let stp = state & 0x300;
    if stp == 0 {
        return bit_names(state, name);
    }
    let mut s = match stp {
        0x100 => "STP_LEARN",
        0x200 => "STP_FORWARD",
        _ => "STP_BLOCK",
    }
    .to_string();
    let rest = state & !0x300;
    if rest != 0 {
        s.push_str(&bit_names(rest, name));
    }
    s
}

/// One port as `show`/`dump-ports-desc` print it (several lines, each ending in `\n`).
pub fn format_port(p: &Port, version: Version) -> String {
    let mut s = String::new();
    let name: String = p.name.chars().take_while(|c| c.is_ascii_graphic() || *c == ' ').collect();
    let _ = writeln!(s, " {}({name}): addr:{}", port_name(p.port_no), p.hw_addr);
    let _ = writeln!(s, "     config:     {}", bit_names(p.config, config_name));
    let _ = writeln!(s, "     state:      {}", state_text(p.state));
    for (f, label) in [
        (p.curr, "current:    "),
        (p.advertised, "advertised: "),
        (p.supported, "supported:  "),
        (p.peer, "peer:       "),
    ] {
        if f != 0 {
            let _ = writeln!(s, "     {label}{}", bit_names(f, feature_name));
        }
    }
    let (now, max) = if version == Version::OF10 {
        (features_kbps(p.curr), features_kbps(p.supported))
    } else {
        (p.curr_speed, p.max_speed)
    };
    let _ = writeln!(s, "     speed: {} Mbps now, {} Mbps max", now / 1000, max / 1000);
    s
}

/// Ports sorted as OVS prints them (by 16-bit port number, so LOCAL comes last).
pub fn format_ports(ports: &[Port], version: Version) -> String {
    let mut v: Vec<&Port> = ports.iter().collect();
    v.sort_by_key(|p| port::to_of10(p.port_no).unwrap_or(u16::MAX));
    v.iter().map(|p| format_port(p, version)).collect()
}

/// Switch capabilities in OVS's order (its `OFPUTIL_C_*` bit positions).
fn capabilities(raw: u32, version: Version) -> String {
    // OpenFlow 1.1+ has GROUP_STATS at bit 3, where 1.0 had STP; OVS keeps both apart.
    let bits = if version == Version::OF10 {
        raw
    } else {
        (raw & !0x8) | if raw & 0x8 != 0 { 0x10 } else { 0 }
    };
    bit_names(bits, |b| {
        Some(match b {
            0x1 => "FLOW_STATS",
            0x2 => "TABLE_STATS",
            0x4 => "PORT_STATS",
            0x8 => "STP",
            0x10 => "GROUP_STATS",
            0x20 => "IP_REASM",
            0x40 => "QUEUE_STATS",
            0x80 => "ARP_MATCH_IP",
            0x100 => "PORT_BLOCKED",
            0x200 => "BUNDLES",
            0x400 => "FLOW_MONITORING",
            _ => return None,
        })
    })
}

/// OpenFlow 1.0 action bitmap in OVS's order.
fn of10_actions(bits: u32) -> String {
    const ORDER: [(u32, &str); 12] = [
        (0, "output"),
        (11, "enqueue"),
        (1, "set_vlan_vid"),
        (2, "set_vlan_pcp"),
        (3, "strip_vlan"),
        (4, "mod_dl_src"),
        (5, "mod_dl_dst"),
        (6, "mod_nw_src"),
        (7, "mod_nw_dst"),
        (8, "mod_nw_tos"),
        (9, "mod_tp_src"),
        (10, "mod_tp_dst"),
    ];
    ORDER.iter().filter(|(b, _)| bits & (1 << b) != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
}

/// The body of a features reply (after the header), ports included for OpenFlow 1.0.
pub fn format_features(f: &FeaturesReply, version: Version) -> String {
    let mut s = format!(" dpid:{:016x}\n", f.datapath_id);
    let _ = write!(s, "n_tables:{}, n_buffers:{}", f.n_tables, f.n_buffers);
    if f.auxiliary_id != 0 {
        let _ = write!(s, ", auxiliary_id:{}", f.auxiliary_id);
    }
    s.push('\n');
    let _ = writeln!(s, "capabilities: {}", capabilities(f.capabilities, version));
    if version == Version::OF10 {
        let _ = writeln!(s, "actions: {}", of10_actions(f.actions));
        s.push_str(&format_ports(&f.ports, version));
    }
    s
}

/// The body of a get-config reply.
pub fn format_switch_config(c: &SwitchConfig) -> String {
    let frags = match c.flags & 3 {
        0 => "normal",
        1 => "drop",
        2 => "reassemble",
        _ => "nx-match",
    };
    let ttl = if c.flags & 4 != 0 { " invalid_ttl_to_controller" } else { "" };
    format!(" frags={frags}{ttl} miss_send_len={}", c.miss_send_len)
}

fn stat(v: u64) -> String {
    if v == u64::MAX {
        "?".into()
    } else {
        v.to_string()
    }
}

/// One port's statistics (`dump-ports`).
pub fn format_port_stats(p: &PortStats, version: Version) -> String {
    let mut s = String::from("  port ");
    if port::to_of10(p.port_no).unwrap_or(u16::MAX) < 10 {
        s.push(' ');
    }
    s.push_str(&port_name(p.port_no));
    let _ = writeln!(
        s,
        ": rx pkts={}, bytes={}, drop={}, errs={}, frame={}, over={}, crc={}",
        stat(p.rx_packets),
        stat(p.rx_bytes),
        stat(p.rx_dropped),
        stat(p.rx_errors),
        stat(p.rx_frame_err),
        stat(p.rx_over_err),
        stat(p.rx_crc_err)
    );
    let _ = writeln!(
        s,
        "           tx pkts={}, bytes={}, drop={}, errs={}, coll={}",
        stat(p.tx_packets),
        stat(p.tx_bytes),
        stat(p.tx_dropped),
        stat(p.tx_errors),
        stat(p.collisions)
    );
    if version != Version::OF10 && p.duration_sec != u32::MAX {
        let _ = writeln!(s, "           duration={}", format_duration(p.duration_sec, p.duration_nsec));
    }
    s
}

/// The OVS field names an OpenFlow 1.0 table-stats wildcard bitmap stands for, in OVS's field
/// order.
fn of10_wildcard_fields(w: u32) -> Vec<&'static str> {
    const MAP: [(u32, &str); 12] = [
        (1 << 0, "in_port"),
        (1 << 2, "eth_src"),
        (1 << 3, "eth_dst"),
        (1 << 4, "eth_type"),
        (1 << 1, "vlan_vid"),
        (1 << 20, "vlan_pcp"),
        (0x3f << 8, "ip_src"),
        (0x3f << 14, "ip_dst"),
        (1 << 5, "nw_proto"),
        (1 << 21, "nw_tos"),
        (1 << 6, "tcp_src"),
        (1 << 7, "tcp_dst"),
    ];
    MAP.iter().filter(|(b, _)| w & b != 0).map(|(_, n)| *n).collect()
}

/// OVS's compact name list: `eth_{src,dst,type} vlan_{vid,pcp}` (common `prefix_` runs are
/// grouped in braces).
fn compress_names(names: &[&str]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(first) = names.get(i) {
        let prefix = first.split_once('_').map(|(p, _)| p);
        let run = names
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|n| prefix.is_some() && n.split_once('_').map(|(p, _)| p) == prefix)
            .count();
        if run > 1 {
            let tails: Vec<&str> = names
                .get(i..i.saturating_add(run))
                .unwrap_or_default()
                .iter()
                .filter_map(|n| n.split_once('_').map(|(_, t)| t))
                .collect();
            out.push(format!("{}_{{{}}}", prefix.unwrap_or_default(), tails.join(",")));
            i = i.saturating_add(run);
        } else {
            out.push((*first).to_string());
            i = i.saturating_add(1);
        }
    }
    out.join(" ")
}

/// A table-stats reply as `dump-tables` prints it (with OVS's "ditto" compression of
/// identical tables).
pub fn format_table_stats(tables: &[TableStats], version: Version) -> String {
    let mut s = String::new();
    let key = |t: &TableStats| (t.active_count, t.lookup_count, t.matched_count);
    let features = |t: &TableStats| (t.wildcards, t.max_entries);
    let mut ditto: Option<(u8, u8)> = None;
    let finish = |s: &mut String, d: &mut Option<(u8, u8)>| {
        if let Some((a, b)) = d.take() {
            if a == b {
                let _ = writeln!(s, "\n  table {a}: ditto");
            } else {
                let _ = writeln!(s, "\n  tables {a}...{b}: ditto");
            }
        }
    };
    let mut prev: Option<&TableStats> = None;
    for t in tables {
        let same_stats = prev.is_some_and(|p| key(p) == key(t));
        let same_features = prev.is_some_and(|p| features(p) == features(t));
        if same_stats && same_features && t.name.is_empty() {
            ditto = Some(ditto.map_or((t.table_id, t.table_id), |(a, _)| (a, t.table_id)));
            prev = Some(t);
            continue;
        }
        finish(&mut s, &mut ditto);
        let _ = write!(s, "\n  table {}", t.table_id);
        if !t.name.is_empty() {
            let _ = write!(s, " (\"{}\")", t.name);
        }
        s.push(':');
        if same_stats && same_features {
            s.push_str(" ditto");
            prev = Some(t);
            continue;
        }
        s.push('\n');
        let _ = writeln!(s, "    active={}, lookup={}, matched={}", t.active_count, t.lookup_count, t.matched_count);
        let empty = version != Version::OF10 || (t.max_entries == 0 && t.wildcards == 0);
        if same_features {
            if !empty {
                s.push_str("    (same features)\n");
            }
        } else if version == Version::OF10 {
            if t.max_entries != 0 {
                let _ = writeln!(s, "    max_entries={}", t.max_entries);
            }
            let names = of10_wildcard_fields(t.wildcards);
            if !names.is_empty() {
                let _ = writeln!(s, "    matching:\n      exact match or wildcard: {}", compress_names(&names));
            }
        }
        prev = Some(t);
    }
    finish(&mut s, &mut ditto);
    s
}

/// One group as `dump-groups` prints it (without the leading space).
pub fn format_group(g: &GroupDesc, version: Version) -> String {
    let ty = match g.group_type {
        GroupType::All => "all",
        GroupType::Select => "select",
        GroupType::Indirect => "indirect",
        GroupType::FastFailover => "ff",
    };
    let mut s = format!("group_id={},type={ty}", g.group_id);
    for b in &g.buckets {
        s.push_str(",bucket=");
        let default_weight = u16::from(g.group_type == GroupType::Select);
        if b.weight != default_weight {
            let _ = write!(s, "weight:{},", b.weight);
        }
        if b.watch_port != port::ANY {
            let _ = write!(s, "watch_port:{},", port_name(b.watch_port));
        }
        if b.watch_group != rvs_openflow::types::group::ANY {
            let _ = write!(s, "watch_group:{},", b.watch_group);
        }
        s.push_str("actions=");
        s.push_str(&format_instructions(&[Instruction::ApplyActions(b.actions.clone())], version));
    }
    s
}

/// A one-line-per-message rendering of asynchronous messages for `monitor`.
pub fn format_async(m: &OfMessage) -> String {
    let mut s = header(m.msg.name(), m.version, m.xid);
    match &m.msg {
        Message::PacketIn(p) => {
            if m.version != Version::OF10 {
                let _ = write!(s, " table_id={} cookie={:#x}", p.table_id, p.cookie);
            }
            let _ = write!(s, " total_len={} ", p.total_len);
            let fields = rvs_openflow::text::format_match(&p.match_, rvs_openflow::types::DEFAULT_PRIORITY);
            s.push_str(&fields);
            let reason = match p.reason {
                rvs_openflow::msg::PacketInReason::NoMatch => "no_match".to_string(),
                rvs_openflow::msg::PacketInReason::Action => "action".to_string(),
                rvs_openflow::msg::PacketInReason::InvalidTtl => "invalid_ttl".to_string(),
                rvs_openflow::msg::PacketInReason::Other(n) => n.to_string(),
            };
            let _ = write!(s, " (via {reason}) data_len={}", p.data.len());
            match p.buffer_id {
                None => s.push_str(" (unbuffered)"),
                Some(b) => {
                    let _ = write!(s, " buffer={b:#010x}");
                }
            }
            let hex: String = p.data.iter().map(|b| format!("{b:02x}")).collect();
            let _ = write!(s, "\n{hex}");
        }
        Message::PortStatus(ps) => {
            let r = match ps.reason {
                rvs_openflow::msg::PortReason::Add => "ADD",
                rvs_openflow::msg::PortReason::Delete => "DELETE",
                rvs_openflow::msg::PortReason::Modify => "MOD",
                rvs_openflow::msg::PortReason::Other(_) => "UNKNOWN",
            };
            let _ = write!(s, " {r}:");
            s.push_str(format_port(&ps.port, m.version).trim_end());
        }
        Message::FlowRemoved(fr) => {
            let _ = write!(
                s,
                " {} reason={:?} table_id={} duration{} idle{} hard{} pkts{} bytes{}",
                rvs_openflow::text::format_match(&fr.match_, fr.priority),
                fr.reason,
                fr.table_id,
                format_duration(fr.duration_sec, fr.duration_nsec),
                fr.idle_timeout,
                fr.hard_timeout,
                fr.packet_count,
                fr.byte_count
            );
        }
        other => {
            let _ = write!(s, " {other:?}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_openflow::types::MacAddr;

    #[test]
    fn port_like_ovs() {
        let p = Port {
            port_no: port::LOCAL,
            hw_addr: MacAddr([0x56, 0x21, 0x2c, 0x31, 0x0c, 0x48]),
            name: "br0".into(),
            config: 1,
            state: 1,
            curr: 0x840,
            curr_speed: 10_000_000,
            ..Port::default()
        };
        assert_eq!(
            format_port(&p, Version::OF13),
            " LOCAL(br0): addr:56:21:2c:31:0c:48\n     config:     PORT_DOWN\n     state:      LINK_DOWN\n     current:    10GB-FD COPPER\n     speed: 10000 Mbps now, 0 Mbps max\n"
        );
        // OpenFlow 1.0 derives the speed from the features.
        let p10 = Port { curr_speed: 0, state: 0, ..p };
        assert!(format_port(&p10, Version::OF10).contains("     state:      0\n     current:    10GB-FD COPPER\n     speed: 10000 Mbps now"));
    }

    #[test]
    fn names_and_headers() {
        assert_eq!(header("OFPST_FLOW reply", Version::OF13, 2), "OFPST_FLOW reply (OF1.3) (xid=0x2):");
        assert_eq!(header("OFPST_FLOW reply", Version::OF10, 2), "OFPST_FLOW reply (xid=0x2):");
        assert_eq!(capabilities(0xc7, Version::OF10), "FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP");
        assert_eq!(capabilities(0x4f, Version::OF13), "FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS");
        assert_eq!(
            of10_actions(0xfff),
            "output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst"
        );
        assert_eq!(
            compress_names(&of10_wildcard_fields(0x3f_ffff)),
            "in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} tcp_{src,dst}"
        );
    }

    #[test]
    fn table_ditto() {
        let t = |id, active| TableStats { table_id: id, active_count: active, ..TableStats::default() };
        let s = format_table_stats(&[t(0, 3), t(1, 0), t(2, 0), t(3, 0)], Version::OF13);
        assert_eq!(
            s,
            "\n  table 0:\n    active=3, lookup=0, matched=0\n\n  table 1:\n    active=0, lookup=0, matched=0\n\n  tables 2...3: ditto\n"
        );
    }
}

//! Shared test material: hex helpers and the sample messages of the oracle vectors.
#![allow(dead_code, clippy::unwrap_used)]

use rvs_openflow::action::Action;
use rvs_openflow::msg::*;
use rvs_openflow::types::{group, meter, port, MacAddr, Version};
use rvs_openflow::{Field, Instruction, Match, OfMessage};

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn om(version: Version, xid: u32, msg: Message) -> OfMessage {
    OfMessage { version, xid, msg }
}

fn tcp_match() -> Match {
    Match::new()
        .with(Field::InPort, 1)
        .with(Field::EthType, 0x0800)
        .with(Field::IpProto, 6)
        .with_masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000)
        .with(Field::Ipv4Dst, 0xc0a8_0101)
        .with(Field::TcpDst, 80)
}

fn port(n: u32, name: &str) -> Port {
    Port {
        port_no: n,
        hw_addr: MacAddr([0, 0x11, 0x22, 0x33, 0x44, u8::try_from(n & 0xff).unwrap()]),
        name: name.into(),
        config: 0,
        state: 0,
        curr: (1 << 6) | (1 << 11), // 10GB_FD, COPPER (1.3 positions)
        advertised: 0,
        supported: (1 << 6) | (1 << 11) | (1 << 13),
        peer: 0,
        curr_speed: 10_000_000,
        max_speed: 10_000_000,
    }
}

fn out(p: u32) -> Action {
    Action::Output { port: p, max_len: 0 }
}

fn flow_mod_add(v: Version) -> FlowMod {
    FlowMod {
        cookie: 0x1234,
        idle_timeout: 10,
        hard_timeout: 20,
        priority: 100,
        flags: FlowModFlags { send_flow_rem: true, check_overlap: true, ..Default::default() },
        match_: tcp_match(),
        instructions: vec![Instruction::ApplyActions(vec![
            if v == Version::OF10 {
                Action::SetDlDst(MacAddr([0, 0, 0, 0, 0, 2]))
            } else {
                Action::SetField { field: Field::EthDst, value: 0x0000_0000_0002 }
            },
            out(2),
        ])],
        ..FlowMod::default()
    }
}

fn mp_req(body: MultipartRequestBody) -> Message {
    Message::MultipartRequest(MultipartRequest { flags: 0, body })
}

fn mp_rep(body: MultipartReplyBody) -> Message {
    Message::MultipartReply(MultipartReply { flags: 0, body })
}

fn flow_stats(version: Version) -> FlowStats {
    FlowStats {
        table_id: 0,
        duration_sec: 5,
        duration_nsec: 500_000_000,
        priority: 100,
        idle_timeout: 10,
        hard_timeout: 0,
        flags: if version == Version::OF13 {
            FlowModFlags { send_flow_rem: true, ..Default::default() }
        } else {
            FlowModFlags::default()
        },
        importance: 0,
        cookie: 0xabc,
        packet_count: 7,
        byte_count: 700,
        match_: tcp_match(),
        instructions: vec![Instruction::ApplyActions(vec![out(2)])],
    }
}

/// Messages valid in both versions.
fn common(v: Version) -> Vec<(&'static str, Message)> {
    let is13 = v == Version::OF13;
    let mut s = vec![
        ("hello", Message::Hello(Hello::default())),
        ("echo-request", Message::EchoRequest(b"ping".to_vec())),
        ("echo-reply", Message::EchoReply(b"pong".to_vec())),
        ("features-request", Message::FeaturesRequest),
        ("get-config-request", Message::GetConfigRequest),
        ("get-config-reply", Message::GetConfigReply(SwitchConfig { flags: 1, miss_send_len: 128 })),
        ("set-config", Message::SetConfig(SwitchConfig { flags: 0, miss_send_len: 0xffff })),
        ("barrier-request", Message::BarrierRequest),
        ("barrier-reply", Message::BarrierReply),
        (
            "error-bad-len",
            Message::Error(ErrorMsg {
                code: ErrorCode::Known(rvs_openflow::error::BadRequest::BadLen.into()),
                data: vec![v.0, 2, 0, 8, 0, 0, 0, 9],
            }),
        ),
        (
            "error-bad-match-prereq",
            Message::Error(ErrorMsg {
                code: ErrorCode::Known(rvs_openflow::error::BadMatch::BadPrereq.into()),
                data: vec![v.0, 2, 0, 8, 0, 0, 0, 9],
            }),
        ),
        (
            "packet-in",
            Message::PacketIn(PacketIn {
                buffer_id: None,
                total_len: 14,
                reason: PacketInReason::NoMatch,
                table_id: 0,
                cookie: u64::MAX,
                match_: Match::new().with(Field::InPort, 3),
                data: vec![0xff; 14],
            }),
        ),
        (
            "packet-in-action-buffered",
            Message::PacketIn(PacketIn {
                buffer_id: Some(77),
                total_len: 14,
                reason: PacketInReason::Action,
                table_id: if is13 { 2 } else { 0 },
                cookie: if is13 { 0x55 } else { u64::MAX },
                match_: Match::new().with(Field::InPort, 1),
                data: vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0],
            }),
        ),
        (
            "flow-removed",
            Message::FlowRemoved(FlowRemoved {
                cookie: 9,
                priority: 100,
                reason: FlowRemovedReason::IdleTimeout,
                table_id: 0,
                duration_sec: 60,
                duration_nsec: 1000,
                idle_timeout: 10,
                hard_timeout: if is13 { 30 } else { 0 },
                packet_count: 5,
                byte_count: 500,
                match_: tcp_match(),
            }),
        ),
        (
            "port-status",
            Message::PortStatus(PortStatus {
                reason: PortReason::Modify,
                port: Port {
                    curr_speed: if is13 { 10_000_000 } else { 0 },
                    max_speed: if is13 { 10_000_000 } else { 0 },
                    config: 1,
                    state: 1,
                    ..port(1, "eth1")
                },
            }),
        ),
        (
            "packet-out",
            Message::PacketOut(PacketOut {
                buffer_id: None,
                in_port: port::CONTROLLER,
                actions: vec![out(port::FLOOD)],
                data: vec![0xff; 6].into_iter().chain([0, 1, 2, 3, 4, 5, 8, 6]).collect(),
            }),
        ),
        (
            "packet-out-buffered",
            Message::PacketOut(PacketOut {
                buffer_id: Some(5),
                in_port: 1,
                actions: vec![out(port::IN_PORT), out(port::TABLE)],
                data: vec![],
            }),
        ),
        ("flow-mod-add", Message::FlowMod(flow_mod_add(v))),
        (
            "flow-mod-modify",
            Message::FlowMod(FlowMod {
                command: FlowModCommand::Modify,
                match_: Match::new().with(Field::EthType, 0x0806).with(Field::ArpOp, 1),
                instructions: vec![Instruction::ApplyActions(vec![out(port::NORMAL)])],
                ..FlowMod::default()
            }),
        ),
        (
            "flow-mod-modify-strict",
            Message::FlowMod(FlowMod {
                command: FlowModCommand::ModifyStrict,
                priority: 7,
                match_: Match::new().with(Field::VlanVid, 0x1000 | 5).with(Field::VlanPcp, 3),
                instructions: vec![Instruction::ApplyActions(vec![
                    Action::PopVlan,
                    out(port::LOCAL),
                    Action::Output { port: port::CONTROLLER, max_len: 128 },
                ])],
                ..FlowMod::default()
            }),
        ),
        (
            "flow-mod-delete",
            Message::FlowMod(FlowMod {
                command: FlowModCommand::Delete,
                table_id: if is13 { 0xff } else { 0 },
                out_port: 2,
                ..FlowMod::default()
            }),
        ),
        (
            "flow-mod-delete-strict",
            Message::FlowMod(FlowMod {
                command: FlowModCommand::DeleteStrict,
                priority: 100,
                match_: tcp_match(),
                ..FlowMod::default()
            }),
        ),
        (
            "flow-mod-icmp-no-vlan",
            Message::FlowMod(FlowMod {
                match_: Match::new()
                    .with(Field::VlanVid, 0)
                    .with(Field::EthType, 0x0800)
                    .with(Field::IpProto, 1)
                    .with(Field::IpDscp, 10)
                    .with(Field::Icmpv4Type, 8)
                    .with(Field::Icmpv4Code, 0),
                instructions: vec![Instruction::ApplyActions(vec![out(port::ALL)])],
                ..FlowMod::default()
            }),
        ),
        (
            "port-mod",
            Message::PortMod(PortMod {
                port_no: 1,
                hw_addr: MacAddr([0, 0x11, 0x22, 0x33, 0x44, 1]),
                config: 1,
                mask: 1 | (1 << 6),
                advertise: (1 << 6) | (1 << 11),
            }),
        ),
        ("desc-request", mp_req(MultipartRequestBody::Desc)),
        (
            "desc-reply",
            mp_rep(MultipartReplyBody::Desc(Desc {
                mfr_desc: "rvs project".into(),
                hw_desc: "rvs".into(),
                sw_desc: "0.1.0".into(),
                serial_num: "None".into(),
                dp_desc: "br0".into(),
            })),
        ),
        (
            "flow-stats-request",
            mp_req(MultipartRequestBody::Flow(FlowStatsRequest {
                match_: Match::new().with(Field::EthType, 0x0800),
                ..FlowStatsRequest::default()
            })),
        ),
        ("flow-stats-reply", mp_rep(MultipartReplyBody::Flow(vec![flow_stats(v), flow_stats(v)]))),
        (
            "aggregate-request",
            mp_req(MultipartRequestBody::Aggregate(FlowStatsRequest {
                table_id: 0,
                out_port: 3,
                ..FlowStatsRequest::default()
            })),
        ),
        (
            "aggregate-reply",
            mp_rep(MultipartReplyBody::Aggregate(AggregateStats {
                packet_count: 10,
                byte_count: 1000,
                flow_count: 3,
            })),
        ),
        ("table-stats-request", mp_req(MultipartRequestBody::Table)),
        (
            "table-stats-reply",
            mp_rep(MultipartReplyBody::Table(vec![TableStats {
                table_id: 0,
                name: if is13 { String::new() } else { "classifier".into() },
                wildcards: if is13 { 0 } else { 0x3f_ffff },
                max_entries: if is13 { 0 } else { 1_000_000 },
                active_count: 4,
                lookup_count: 100,
                matched_count: 90,
            }])),
        ),
        ("port-stats-request", mp_req(MultipartRequestBody::PortStats { port_no: port::ANY })),
        (
            "port-stats-reply",
            mp_rep(MultipartReplyBody::PortStats(vec![PortStats {
                port_no: 1,
                rx_packets: 1,
                tx_packets: 2,
                rx_bytes: 3,
                tx_bytes: 4,
                rx_dropped: 5,
                tx_dropped: 6,
                rx_errors: 7,
                tx_errors: 8,
                rx_frame_err: 9,
                rx_over_err: 10,
                rx_crc_err: 11,
                collisions: 12,
                duration_sec: if is13 { 13 } else { 0 },
                duration_nsec: if is13 { 14 } else { 0 },
            }])),
        ),
        ("queue-stats-request", mp_req(MultipartRequestBody::Queue { port_no: port::ANY, queue_id: 0xffff_ffff })),
        (
            "queue-stats-reply",
            mp_rep(MultipartReplyBody::Queue(vec![QueueStats {
                port_no: 1,
                queue_id: 2,
                tx_bytes: 300,
                tx_packets: 3,
                tx_errors: 0,
                duration_sec: if is13 { 1 } else { 0 },
                duration_nsec: 0,
            }])),
        ),
        ("port-desc-request", mp_req(MultipartRequestBody::PortDesc)),
    ];
    if is13 {
        s.push(("port-desc-reply", mp_rep(MultipartReplyBody::PortDesc(vec![port(1, "eth1"), port(port::LOCAL, "br0")]))));
        s.push(("features-reply", Message::FeaturesReply(FeaturesReply {
            datapath_id: 0x0000_0011_2233_4455,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0x4f,
            actions: 0,
            ports: vec![],
        })));
    } else {
        let p = |n, name| Port { curr_speed: 0, max_speed: 0, ..port(n, name) };
        s.push(("port-desc-reply", mp_rep(MultipartReplyBody::PortDesc(vec![p(1, "eth1")]))));
        s.push(("features-reply", Message::FeaturesReply(FeaturesReply {
            datapath_id: 0x0000_0011_2233_4455,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0xc7,
            actions: 0xfff,
            ports: vec![p(1, "eth1"), p(port::LOCAL, "br0")],
        })));
    }
    s
}

fn of10_only() -> Vec<(&'static str, Message)> {
    vec![(
        "flow-mod-of10-actions",
        Message::FlowMod(FlowMod {
            match_: Match::new().with(Field::InPort, 1).with(Field::EthSrc, 0x0011_2233_4455),
            instructions: vec![Instruction::ApplyActions(vec![
                Action::SetVlanVid(10),
                Action::SetVlanPcp(3),
                Action::SetDlSrc(MacAddr([0, 0, 0, 0, 0, 1])),
                Action::SetDlDst(MacAddr([0, 0, 0, 0, 0, 2])),
                Action::SetNwSrc(0x0102_0304),
                Action::SetNwDst(0x0403_0201),
                Action::SetNwTos(0x20),
                Action::SetTpSrc(1),
                Action::SetTpDst(2),
                Action::Enqueue { port: 2, queue_id: 1 },
            ])],
            ..FlowMod::default()
        }),
    )]
}

fn bucket(weight: u16, watch_port: u32, actions: Vec<Action>) -> Bucket {
    Bucket { weight, watch_port, watch_group: group::ANY, actions }
}

fn of13_only() -> Vec<(&'static str, Message)> {
    let v6 = Match::new()
        .with(Field::EthType, 0x86dd)
        .with_masked(Field::Ipv6Src, 0x2001_0db8 << 96, u128::MAX << 96)
        .with(Field::Ipv6Dst, (0x2001_0db8 << 96) | 1)
        .with(Field::Ipv6Flabel, 0x12345)
        .with(Field::IpProto, 17)
        .with(Field::UdpDst, 53);
    let nd = Match::new()
        .with(Field::InPort, 2)
        .with(Field::EthType, 0x86dd)
        .with(Field::IpProto, 58)
        .with(Field::Icmpv6Type, 135)
        .with(Field::Icmpv6Code, 0)
        .with(Field::Ipv6NdTarget, (0xfe80 << 112) | 1)
        .with(Field::Ipv6NdSll, 0x0011_2233_4455);
    let arp = Match::new()
        .with(Field::EthType, 0x0806)
        .with(Field::ArpOp, 2)
        .with(Field::ArpSpa, 0x0a00_0001)
        .with_masked(Field::ArpTpa, 0x0a00_0000, 0xffff_ff00)
        .with(Field::ArpSha, 0x0011_2233_4455)
        .with_masked(Field::ArpTha, 0, 0x0100_0000_0000);
    let meta = Match::new()
        .with_masked(Field::Metadata, 5, 0xff)
        .with_masked(Field::TunnelId, 0x1234, 0xffff)
        .with_masked(Field::EthDst, 0x0100_0000_0000, 0x0100_0000_0000)
        .with_masked(Field::VlanVid, 0x1000, 0x1000)
        .with(Field::EthType, 0x0800)
        .with(Field::IpEcn, 1)
        .with(Field::IpProto, 132)
        .with(Field::SctpSrc, 1)
        .with(Field::SctpDst, 2);
    let fm = |name, table_id, match_, instructions| {
        (name, Message::FlowMod(FlowMod { table_id, match_, instructions, ..FlowMod::default() }))
    };
    vec![
        ("hello-bitmap", Message::Hello(Hello::with_versions(&[Version::OF10, Version::OF13]))),
        (
            "experimenter",
            Message::Experimenter(Experimenter { experimenter: 0x2320, exp_type: 16, data: vec![0, 0, 0, 1] }),
        ),
        (
            "error-dup-inst",
            Message::Error(ErrorMsg {
                code: ErrorCode::Known(rvs_openflow::error::BadInstruction::DupInst.into()),
                data: vec![4, 2, 0, 8, 0, 0, 0, 9],
            }),
        ),
        (
            "packet-in-invalid-ttl",
            Message::PacketIn(PacketIn {
                buffer_id: None,
                total_len: 14,
                reason: PacketInReason::InvalidTtl,
                table_id: 1,
                cookie: 3,
                match_: Match::new().with(Field::InPort, 7).with_masked(Field::TunnelId, 5, 0xff),
                data: vec![0; 14],
            }),
        ),
        fm("flow-mod-ipv6", 0, v6, vec![Instruction::ApplyActions(vec![
            Action::PushVlan(0x8100),
            Action::SetField { field: Field::VlanVid, value: 0x1000 | 100 },
            out(3),
        ])]),
        fm("flow-mod-nd", 0, nd, vec![Instruction::ApplyActions(vec![Action::Output {
            port: port::CONTROLLER,
            max_len: 0xffff,
        }])]),
        fm("flow-mod-arp", 0, arp, vec![Instruction::ApplyActions(vec![
            Action::SetField { field: Field::ArpTpa, value: 0x0a00_0002 },
            Action::Group(1),
        ])]),
        fm("flow-mod-instructions", 1, meta, vec![
            Instruction::Meter(1),
            Instruction::ApplyActions(vec![Action::DecNwTtl, Action::SetNwTtl(9), Action::SetQueue(2)]),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![Action::SetField { field: Field::IpDscp, value: 46 }, out(4)]),
            Instruction::WriteMetadata { metadata: 0x10, mask: 0xff },
            Instruction::GotoTable(2),
        ]),
        fm("flow-mod-mpls", 0, Match::new().with(Field::EthType, 0x8847).with(Field::MplsLabel, 10).with(Field::MplsTc, 1).with(Field::MplsBos, 1), vec![
            Instruction::ApplyActions(vec![Action::DecMplsTtl, Action::PopMpls(0x0800), out(1)]),
        ]),
        fm("flow-mod-push-mpls", 0, Match::new().with(Field::EthType, 0x0800), vec![Instruction::ApplyActions(vec![
            Action::PushMpls(0x8847),
            Action::SetField { field: Field::MplsLabel, value: 10 },
            Action::SetMplsTtl(9),
            out(1),
        ])]),
        fm("flow-mod-table-miss", 3, Match::new(), vec![Instruction::ApplyActions(vec![out(port::CONTROLLER)])]),
        (
            "flow-mod-delete-cookie",
            Message::FlowMod(FlowMod {
                command: FlowModCommand::Delete,
                cookie: 0x10,
                cookie_mask: 0xff,
                table_id: 0xff,
                out_group: 5,
                ..FlowMod::default()
            }),
        ),
        (
            "flow-mod-reset-counts",
            Message::FlowMod(FlowMod {
                flags: FlowModFlags { reset_counts: true, no_pkt_counts: true, no_byt_counts: true, ..Default::default() },
                buffer_id: Some(12),
                match_: Match::new().with(Field::InPort, 3),
                instructions: vec![Instruction::ApplyActions(vec![out(1)])],
                ..FlowMod::default()
            }),
        ),
        (
            "group-mod-all",
            Message::GroupMod(GroupMod {
                command: GroupModCommand::Add,
                group_type: GroupType::All,
                group_id: 1,
                buckets: vec![bucket(0, port::ANY, vec![out(1)]), bucket(0, port::ANY, vec![out(2)])],
            }),
        ),
        (
            "group-mod-select",
            Message::GroupMod(GroupMod {
                command: GroupModCommand::Modify,
                group_type: GroupType::Select,
                group_id: 2,
                buckets: vec![bucket(100, port::ANY, vec![out(1)]), bucket(50, port::ANY, vec![out(2)])],
            }),
        ),
        (
            "group-mod-indirect",
            Message::GroupMod(GroupMod {
                command: GroupModCommand::Add,
                group_type: GroupType::Indirect,
                group_id: 3,
                buckets: vec![bucket(0, port::ANY, vec![
                    Action::SetField { field: Field::EthDst, value: 1 },
                    out(1),
                ])],
            }),
        ),
        (
            "group-mod-ff",
            Message::GroupMod(GroupMod {
                command: GroupModCommand::Add,
                group_type: GroupType::FastFailover,
                group_id: 4,
                buckets: vec![bucket(0, 1, vec![out(1)]), bucket(0, 2, vec![out(2)])],
            }),
        ),
        (
            "group-mod-delete-all",
            Message::GroupMod(GroupMod {
                command: GroupModCommand::Delete,
                group_type: GroupType::All,
                group_id: group::ALL,
                buckets: vec![],
            }),
        ),
        (
            "meter-mod-drop",
            Message::MeterMod(MeterMod {
                command: MeterModCommand::Add,
                flags: meter_flags::KBPS | meter_flags::BURST | meter_flags::STATS,
                meter_id: 1,
                bands: vec![MeterBand { kind: MeterBandKind::Drop, rate: 1000, burst_size: 100 }],
            }),
        ),
        (
            "meter-mod-dscp",
            Message::MeterMod(MeterMod {
                command: MeterModCommand::Modify,
                flags: meter_flags::PKTPS,
                meter_id: 2,
                bands: vec![MeterBand { kind: MeterBandKind::DscpRemark { prec_level: 1 }, rate: 100, burst_size: 0 }],
            }),
        ),
        (
            "meter-mod-delete",
            Message::MeterMod(MeterMod { command: MeterModCommand::Delete, flags: 0, meter_id: meter::ALL, bands: vec![] }),
        ),
        ("table-mod", Message::TableMod(TableMod { table_id: 1, config: 0 })),
        ("role-request", Message::RoleRequest(RoleMsg { role: Role::Master, generation_id: 7 })),
        ("role-reply", Message::RoleReply(RoleMsg { role: Role::Slave, generation_id: 8 })),
        ("get-async-request", Message::GetAsyncRequest),
        (
            "get-async-reply",
            Message::GetAsyncReply(AsyncConfig {
                packet_in_mask: [0x3, 0],
                port_status_mask: [0x7, 0x7],
                flow_removed_mask: [0xf, 0],
            }),
        ),
        ("set-async", Message::SetAsync(AsyncConfig { packet_in_mask: [1, 1], port_status_mask: [7, 0], flow_removed_mask: [3, 0] })),
        ("group-stats-request", mp_req(MultipartRequestBody::Group { group_id: group::ALL })),
        (
            "group-stats-reply",
            mp_rep(MultipartReplyBody::Group(vec![GroupStats {
                group_id: 1,
                ref_count: 2,
                packet_count: 3,
                byte_count: 4,
                duration_sec: 5,
                duration_nsec: 6,
                bucket_stats: vec![(1, 2), (2, 2)],
            }])),
        ),
        ("group-desc-request", mp_req(MultipartRequestBody::GroupDesc)),
        (
            "group-desc-reply",
            mp_rep(MultipartReplyBody::GroupDesc(vec![GroupDesc {
                group_type: GroupType::Select,
                group_id: 2,
                buckets: vec![bucket(100, port::ANY, vec![out(1)])],
            }])),
        ),
        ("group-features-request", mp_req(MultipartRequestBody::GroupFeatures)),
        (
            "group-features-reply",
            mp_rep(MultipartReplyBody::GroupFeatures(GroupFeatures {
                types: 0xf,
                capabilities: 0x5,
                max_groups: [100, 100, 100, 100],
                actions: [1, 1 << 22, 1, 1],
            })),
        ),
        ("meter-stats-request", mp_req(MultipartRequestBody::Meter { meter_id: meter::ALL })),
        (
            "meter-stats-reply",
            mp_rep(MultipartReplyBody::Meter(vec![MeterStats {
                meter_id: 1,
                flow_count: 2,
                packet_in_count: 3,
                byte_in_count: 4,
                duration_sec: 5,
                duration_nsec: 6,
                band_stats: vec![(7, 8)],
            }])),
        ),
        ("meter-config-request", mp_req(MultipartRequestBody::MeterConfig { meter_id: 1 })),
        (
            "meter-config-reply",
            mp_rep(MultipartReplyBody::MeterConfig(vec![MeterConfig {
                flags: meter_flags::KBPS,
                meter_id: 1,
                bands: vec![MeterBand { kind: MeterBandKind::Drop, rate: 1000, burst_size: 0 }],
            }])),
        ),
        ("meter-features-request", mp_req(MultipartRequestBody::MeterFeatures)),
        (
            "meter-features-reply",
            mp_rep(MultipartReplyBody::MeterFeatures(MeterFeatures {
                max_meter: 1000,
                band_types: 0x6,
                capabilities: 0xf,
                max_bands: 4,
                max_color: 0,
            })),
        ),
        ("table-features-request", mp_req(MultipartRequestBody::TableFeatures(vec![]))),
        ("table-features-reply", mp_rep(MultipartReplyBody::TableFeatures(vec![table_features()]))),
    ]
}

pub fn table_features() -> TableFeatures {
    let oxms: Vec<u32> = [Field::InPort, Field::EthDst, Field::EthSrc, Field::EthType, Field::Ipv4Src]
        .iter()
        .map(|f| f.oxm_header(false))
        .collect();
    let acts = vec![0, 17, 18, 22, 25];
    TableFeatures {
        table_id: 0,
        name: "table0".into(),
        metadata_match: u64::MAX,
        metadata_write: u64::MAX,
        config: 0,
        max_entries: 1_000_000,
        properties: vec![
            TableFeatureProp::Instructions { miss: false, ids: vec![1, 2, 3, 4, 5, 6] },
            TableFeatureProp::Instructions { miss: true, ids: vec![1, 4] },
            TableFeatureProp::NextTables { miss: false, tables: (1..=10).collect() },
            TableFeatureProp::NextTables { miss: true, tables: vec![1] },
            TableFeatureProp::WriteActions { miss: false, ids: acts.clone() },
            TableFeatureProp::WriteActions { miss: true, ids: acts.clone() },
            TableFeatureProp::ApplyActions { miss: false, ids: acts.clone() },
            TableFeatureProp::ApplyActions { miss: true, ids: acts },
            TableFeatureProp::Match(oxms.clone()),
            TableFeatureProp::Wildcards(oxms.clone()),
            TableFeatureProp::WriteSetfield { miss: false, oxms: oxms.clone() },
            TableFeatureProp::WriteSetfield { miss: true, oxms: oxms.clone() },
            TableFeatureProp::ApplySetfield { miss: false, oxms: oxms.clone() },
            TableFeatureProp::ApplySetfield { miss: true, oxms },
        ],
    }
}

/// Every sample message, named `of10-...` / `of13-...`.
pub fn samples() -> Vec<(String, OfMessage)> {
    let mut out = Vec::new();
    for v in [Version::OF10, Version::OF13] {
        let tag = if v == Version::OF10 { "of10" } else { "of13" };
        let mut list = common(v);
        list.extend(if v == Version::OF10 { of10_only() } else { of13_only() });
        for (i, (name, msg)) in list.into_iter().enumerate() {
            out.push((format!("{tag}-{name}"), om(v, u32::try_from(i).unwrap() + 1, msg)));
        }
    }
    out
}

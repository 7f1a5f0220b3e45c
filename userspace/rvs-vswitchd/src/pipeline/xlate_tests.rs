//! Translation through the tables: outputs, goto/metadata, set-field commits, VLANs,
//! controller and TTL packet-ins, groups, and wildcard soundness on random packets.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rvs_core::key::FlowKey;
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{Bucket, FlowMod, FlowModCommand, GroupMod, GroupModCommand};
use rvs_openflow::oxm::Match;

use super::*;
use crate::mac_learning::MacTable;
use crate::odp::format_actions;
use crate::ofproto::{FailMode, OfPort};
use crate::pipeline::OfEvent;
use crate::vlan::PortVlan;

/// Ports 1..=4 on datapath ports 11..=14, all trunks; fail_mode as given.
fn bridge(fail: FailMode) -> (Bridge, BridgeConfig) {
    let mut cfg = BridgeConfig { name: "br0".into(), max_idle_ms: 10_000, fail_mode: fail, ..Default::default() };
    for i in 1..=4u32 {
        let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
        cfg.by_dp.insert(p.dp_port, i);
        cfg.ports.insert(i, p);
    }
    (Bridge::new(cfg.clone(), MacTable::default()), cfg)
}

fn add(br: &Bridge, table: u8, prio: u16, m: Match, insts: Vec<Instruction>) {
    let f = FlowMod { command: FlowModCommand::Add, table_id: table, priority: prio, match_: m, instructions: insts, ..Default::default() };
    br.pipeline.write().unwrap().flow_mod(&f, Instant::now()).unwrap();
}

fn apply(a: Vec<Action>) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(a)]
}

fn out(p: u32) -> Action {
    Action::Output { port: p, max_len: 0 }
}

fn pkt(in_dp: u32) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(in_dp);
    k.set_eth_src([2, 0, 0, 0, 0, 1]);
    k.set_eth_dst([2, 0, 0, 0, 0, 2]);
    k.set_eth_type(0x0800);
    k.set_ip_proto(6);
    k.set_ip_ttl(64);
    k.set_ipv4_src(0x0a00_0001);
    k.set_ipv4_dst(0x0a00_0002);
    k.set_tp_src(1000);
    k.set_tp_dst(80);
    k
}

fn run(br: &Bridge, cfg: &BridgeConfig, k: FlowKey) -> (String, Xlate) {
    let mut x = Xlate::new(k, true, true);
    xlate_pipeline(&mut x, br, cfg);
    (format_actions(x.actions.bytes()), x)
}

#[test]
fn default_flow_is_normal_and_secure_drops() {
    let (br, cfg) = bridge(FailMode::Standalone);
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "12,13,14", "NORMAL floods an unknown destination");
    assert_eq!(x.rules.len(), 1);
    assert_eq!(x.wc.ipv4_src(), 0, "the empty default match adds no wildcards");
    let (br, cfg) = bridge(FailMode::Secure);
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "drop");
    assert!(x.rules.is_empty());
}

#[test]
fn outputs_goto_metadata_and_wildcards() {
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 10, Match::new().with(Field::InPort, 1), vec![
        Instruction::WriteMetadata { metadata: 0xab, mask: 0xff },
        Instruction::ApplyActions(vec![out(2)]),
        Instruction::GotoTable(3),
    ]);
    add(&br, 3, 5, Match::new().with(Field::Metadata, 0xab).with(Field::EthType, 0x0800).with(Field::IpProto, 6).with(Field::TcpDst, 80), vec![
        Instruction::WriteActions(vec![out(port::IN_PORT)]),
        Instruction::ApplyActions(vec![out(port::LOCAL), out(3)]),
    ]);
    add(&br, 3, 1, Match::new(), apply(vec![out(port::ALL)]));
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "12,13,11", "apply in table 0, apply then the action set in table 3 (no LOCAL port here)");
    assert_eq!(x.rules.len(), 2);
    assert_eq!(x.wc.tp_dst(), 0xffff);
    assert_eq!(x.wc.ipv4_src(), 0);
    assert_eq!(x.wc.eth_src(), [0; 6]);
    let mut k = pkt(11);
    k.set_tp_dst(81);
    assert_eq!(run(&br, &cfg, k).0, "12,12,13,14", "miss of the port-80 rule: ALL but the input");
    assert_eq!(run(&br, &cfg, pkt(12)).0, "drop", "table 0 miss");
    let lookups: u64 = (0..4).map(|t| br.pipeline.read().unwrap().table(t).unwrap().lookups.load(std::sync::atomic::Ordering::Relaxed)).sum();
    assert_eq!(lookups, 5);
}

#[test]
fn set_field_vlan_and_ttl_commit_as_datapath_sets() {
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 10, Match::new().with(Field::EthType, 0x0800), apply(vec![
        Action::SetField { field: Field::EthDst, value: 0x0200_0000_00ff },
        Action::SetField { field: Field::Ipv4Dst, value: 0x0a00_0063 },
        Action::DecNwTtl,
        out(2),
        Action::PushVlan(0x8100),
        Action::SetField { field: Field::VlanVid, value: 0x1000 | 7 },
        out(3),
        Action::PopVlan,
        out(4),
    ]));
    let (a, x) = run(&br, &cfg, pkt(11));
    assert!(a.starts_with("set(eth(dst=02:00:00:00:00:ff)),set(ipv4(dst=10.0.0.99,ttl=63)),12,push_vlan(vid=7,pcp=0),13,pop_vlan,14"), "{a}");
    assert_eq!(x.wc.eth_dst(), [0xff; 6], "a written field is consulted");
    assert_eq!(x.wc.ip_ttl(), 0xff, "dec_ttl reads the TTL");
    // TTL 1: to the controller, nothing else.
    let mut k = pkt(11);
    k.set_ip_ttl(1);
    let (a, x) = run(&br, &cfg, k);
    assert_eq!(a, "set(eth(dst=02:00:00:00:00:ff)),set(ipv4(dst=10.0.0.99))", "no output: the sets only shape the packet-in");
    assert!(x.slow_path);
    assert_eq!(x.controller[0].reason, PacketInReason::InvalidTtl);
}

#[test]
fn controller_output_publishes_truncated_packet_in() {
    let (br, cfg) = bridge(FailMode::Secure);
    let mut f = FlowMod {
        command: FlowModCommand::Add,
        priority: 7,
        match_: Match::new().with(Field::InPort, 2),
        instructions: apply(vec![Action::Output { port: port::CONTROLLER, max_len: 20 }, out(1)]),
        ..Default::default()
    };
    f.cookie = 0x55;
    br.pipeline.write().unwrap().flow_mod(&f, Instant::now()).unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    br.events.subscribe(Box::new(move |e| g.lock().unwrap().push(e.clone())));
    let (a, x) = run(&br, &cfg, pkt(12));
    assert_eq!(a, "11");
    assert!(x.slow_path, "no megaflow for controller-bound packets");
    publish_packet_ins(&br, &x, &[0xaa; 60]);
    let ev = got.lock().unwrap();
    let OfEvent::PacketIn(pi) = &ev[0] else { panic!("{ev:?}") };
    assert_eq!((pi.reason, pi.cookie, pi.table_id, pi.total_len, pi.data.len()), (PacketInReason::Action, 0x55, 0, 60, 20));
    assert_eq!(pi.match_.exact(Field::InPort), Some(2));
    // A table miss goes to the controller only when asked (OpenFlow 1.0 controllers).
    let (_, x) = run(&br, &cfg, pkt(13));
    assert!(x.controller.is_empty());
    br.pipeline.write().unwrap().set_miss_to_controller(true);
    let (_, x) = run(&br, &cfg, pkt(13));
    assert_eq!((x.controller[0].reason, x.controller[0].cookie), (PacketInReason::NoMatch, u64::MAX));
}

/// Found with ovs-testcontroller over OpenFlow 1.3 (it ignores packet-ins with reason action): a table-miss flow
/// entry (priority 0, empty match) sending to the controller reports no_match, as OpenFlow 1.3 §5.4 says; any other
/// rule's controller output reports action.
#[test]
fn table_miss_entry_packet_ins_say_no_match() {
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 0, Match::new(), apply(vec![Action::Output { port: port::CONTROLLER, max_len: 0xffff }]));
    add(&br, 0, 5, Match::new().with(Field::InPort, 2), apply(vec![Action::Output { port: port::CONTROLLER, max_len: 0xffff }]));
    add(&br, 0, 0, Match::new().with(Field::InPort, 3), apply(vec![Action::Output { port: port::CONTROLLER, max_len: 0xffff }]));
    let (_, x) = run(&br, &cfg, pkt(11));
    assert_eq!(x.controller[0].reason, PacketInReason::NoMatch);
    let (_, x) = run(&br, &cfg, pkt(12));
    assert_eq!(x.controller[0].reason, PacketInReason::Action);
    let (_, x) = run(&br, &cfg, pkt(13));
    assert_eq!(x.controller[0].reason, PacketInReason::Action, "priority 0 with a match is not a table-miss entry");
}

#[test]
fn groups_translate() {
    let (br, cfg) = bridge(FailMode::Secure);
    let b = |actions: Vec<Action>, watch_port: u32| Bucket { weight: 1, watch_port, watch_group: group::ANY, actions };
    let gm = |group_type, group_id, buckets| GroupMod { command: GroupModCommand::Add, group_type, group_id, buckets };
    {
        let mut p = br.pipeline.write().unwrap();
        p.group_mod(&gm(GroupType::All, 1, vec![b(vec![Action::SetField { field: Field::EthSrc, value: 0x0200_0000_0077 }, out(2)], port::ANY), b(vec![out(3)], port::ANY)])).unwrap();
        p.group_mod(&gm(GroupType::FastFailover, 2, vec![b(vec![out(9)], 9), b(vec![out(4)], 4)])).unwrap();
        p.group_mod(&gm(GroupType::Select, 3, vec![b(vec![out(2)], port::ANY), b(vec![out(4)], port::ANY)])).unwrap();
    }
    add(&br, 0, 3, Match::new().with(Field::InPort, 1), apply(vec![Action::Group(1)]));
    add(&br, 0, 3, Match::new().with(Field::InPort, 2), apply(vec![Action::Group(2)]));
    add(&br, 0, 3, Match::new().with(Field::InPort, 3), apply(vec![Action::Group(3)]));
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "set(eth(src=02:00:00:00:00:77)),12,set(eth(src=02:00:00:00:00:01)),13", "each bucket gets its own copy");
    assert_eq!(x.buckets, vec![(1, 0), (1, 1)], "buckets recorded for the group counters");
    assert_eq!(run(&br, &cfg, pkt(12)).0, "14", "port 9 does not exist: the next live bucket");
    let (a, x) = run(&br, &cfg, pkt(13));
    assert!(a == "12" || a == "14", "{a}");
    assert_eq!(x.wc.tp_src(), 0xffff, "select hashes (and consults) the L4 ports");
    let mut outs = std::collections::BTreeSet::new();
    for p in 0..64u16 {
        let mut k = pkt(13);
        k.set_tp_src(p);
        outs.insert(run(&br, &cfg, k).0);
    }
    assert_eq!(outs.len(), 2, "both buckets get traffic");
}

/// xorshift64*: deterministic pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A packet differing only in bits the translation did not consult gets the same actions.
#[test]
fn wildcards_are_sound_on_random_packets() {
    let (br, cfg) = bridge(FailMode::Secure);
    let ip = || Match::new().with(Field::EthType, 0x0800);
    add(&br, 0, 50, ip().with_masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000).with(Field::IpProto, 6).with(Field::TcpDst, 80), vec![Instruction::GotoTable(1)]);
    add(&br, 0, 40, ip().with(Field::Ipv4Dst, 0x0a00_0002), apply(vec![Action::SetField { field: Field::Ipv4Dst, value: 9 }, out(2)]));
    add(&br, 0, 30, Match::new().with(Field::EthDst, 0x0200_0000_0002), apply(vec![out(3)]));
    add(&br, 0, 1, Match::new(), apply(vec![out(port::FLOOD)]));
    add(&br, 1, 10, Match::new().with(Field::InPort, 1), apply(vec![out(4)]));
    add(&br, 1, 5, ip().with(Field::IpProto, 6).with(Field::TcpSrc, 1000), apply(vec![Action::DecNwTtl, out(1)]));
    let mut r = Rng(7);
    let rand_pkt = |r: &mut Rng| {
        let v = r.next();
        let mut k = pkt(11 + (v % 4) as u32);
        k.set_ipv4_src(if v & 16 != 0 { 0x0a00_0001 } else { 0x0b00_0001 });
        k.set_ipv4_dst(if v & 32 != 0 { 0x0a00_0002 } else { 0x0a00_0003 });
        k.set_tp_dst(if v & 64 != 0 { 80 } else { 81 });
        k.set_tp_src(if v & 128 != 0 { 1000 } else { 1001 });
        k.set_eth_dst([2, 0, 0, 0, 0, if v & 256 != 0 { 2 } else { 3 }]);
        k.set_ip_ttl(if v & 512 != 0 { 1 } else { 64 });
        k
    };
    for _ in 0..300 {
        let k = rand_pkt(&mut r);
        let (a, x) = run(&br, &cfg, k);
        for _ in 0..4 {
            let o = rand_pkt(&mut r);
            let mut k2 = FlowKey::ZERO;
            for i in 0..k2.as_bytes().len() {
                k2.as_bytes_mut()[i] = (k.as_bytes()[i] & x.wc.as_bytes()[i]) | (o.as_bytes()[i] & !x.wc.as_bytes()[i]);
            }
            assert_eq!(run(&br, &cfg, k2).0, a, "unconsulted bits changed the actions");
        }
    }
}

/// The packet-in carries the packet as the actions before `output:CONTROLLER` made it.
#[test]
fn packet_in_data_has_the_modifications() {
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 1, Match::new().with(Field::EthType, 0x0800), apply(vec![
        Action::SetField { field: Field::EthDst, value: 0x0200_0000_00ee },
        Action::PushVlan(0x8100),
        Action::SetField { field: Field::VlanVid, value: 0x1000 | 5 },
        Action::DecNwTtl,
        Action::Output { port: port::CONTROLLER, max_len: 0xffff },
        out(1),
    ]));
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    frame.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&[0x03, 0xe8, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    let (key, _) = rvs_core::extract::extract(&frame, &rvs_core::extract::Metadata { in_port: 12, ..Default::default() });
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    br.events.subscribe(Box::new(move |e| g.lock().unwrap().push(e.clone())));
    let (a, x) = run(&br, &cfg, key);
    assert!(a.ends_with(",11"), "{a}");
    publish_packet_ins(&br, &x, &frame);
    let ev = got.lock().unwrap();
    let OfEvent::PacketIn(pi) = &ev[0] else { panic!() };
    assert_eq!(pi.data.len(), frame.len() + 4, "tagged");
    assert_eq!(&pi.data[..6], &[2, 0, 0, 0, 0, 0xee]);
    assert_eq!(&pi.data[12..16], &[0x81, 0x00, 0x00, 0x05]);
    assert_eq!(pi.data[18 + 8], 63, "TTL decremented");
    assert_eq!(pi.total_len as usize, pi.data.len());
}

#[test]
fn meter_instruction_becomes_the_datapath_meter_first() {
    use rvs_openflow::msg::{meter_flags, MeterBand, MeterBandKind, MeterMod, MeterModCommand};
    let (br, cfg) = bridge(FailMode::Secure);
    let band = MeterBand { kind: MeterBandKind::Drop, rate: 2000, burst_size: 0 };
    let mm = MeterMod { command: MeterModCommand::Add, flags: meter_flags::KBPS, meter_id: 1, bands: vec![band] };
    br.pipeline.write().unwrap().meter_mod(&mm).unwrap();
    add(&br, 0, 10, Match::new().with(Field::InPort, 1), vec![Instruction::ApplyActions(vec![out(2)]), Instruction::Meter(1)]);
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "12", "no datapath meter installed: nothing to emit");
    assert!(x.trace.iter().flatten().any(|t| t.contains("no datapath meter")), "{:?}", x.trace);
    br.pipeline.write().unwrap().set_meter_dp_id(1, Some(5));
    let (a, _) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "meter(5),12", "the meter runs before the apply-actions");
    let mm2 = MeterMod { command: MeterModCommand::Modify, bands: vec![MeterBand { rate: 10, ..band }], ..mm };
    br.pipeline.write().unwrap().meter_mod(&mm2).unwrap();
    assert_eq!(br.pipeline.read().unwrap().meter(1).unwrap().dp_id, Some(5), "modify keeps the datapath meter");
}

#[test]
fn port_mod_bits_recv_fwd_flood() {
    use rvs_openflow::msg::port_config as pc;
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 10, Match::new().with(Field::InPort, 1), apply(vec![out(port::FLOOD)]));
    add(&br, 0, 9, Match::new().with(Field::InPort, 2), apply(vec![out(port::ALL)]));
    add(&br, 0, 8, Match::new().with(Field::InPort, 3), apply(vec![out(1), out(4)]));
    assert_eq!(run(&br, &cfg, pkt(11)).0, "12,13,14");
    let gen = br.generation();
    // NO_FLOOD: FLOOD leaves the port out, ALL does not.
    br.port_config.modify(3, pc::NO_FLOOD, pc::NO_FLOOD);
    assert_eq!(run(&br, &cfg, pkt(11)).0, "12,14", "FLOOD skips the NO_FLOOD port");
    assert_eq!(run(&br, &cfg, pkt(12)).0, "11,13,14", "ALL includes it");
    // NO_FWD: every output to it is skipped, ALL included.
    br.port_config.modify(4, pc::NO_FWD, pc::NO_FWD);
    assert_eq!(run(&br, &cfg, pkt(12)).0, "11,13");
    let (a, x) = run(&br, &cfg, pkt(13));
    assert_eq!(a, "11");
    assert!(x.trace.iter().flatten().any(|t| t.contains("OFPPC_NO_FWD")), "{:?}", x.trace);
    // NO_RECV: the table-0 lookup counts (rule credited), then drop.
    br.port_config.modify(1, pc::NO_RECV, pc::NO_RECV);
    let (a, x) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "drop");
    assert_eq!(x.rules.len(), 1, "the matched rule still gets the packet counted, as in Open vSwitch");
    assert_eq!(x.wc.eth_dst(), [0xff; 6], "whether it is a BPDU was consulted");
    assert_eq!(run(&br, &cfg, pkt(12)).0, "11,13", "output to a NO_RECV port is fine");
    // A packet-out from that port is dropped too.
    let mut x = Xlate::new(pkt(11), false, false);
    xlate_actions(&mut x, &br, &cfg, 1, &[out(2)]);
    assert_eq!(format_actions(x.actions.bytes()), "drop");
    // Clearing the bits restores forwarding.
    for p in 1..=4 {
        br.port_config.modify(p, 0, u32::MAX);
    }
    assert_eq!(run(&br, &cfg, pkt(11)).0, "12,13,14");
    assert_eq!(br.generation(), gen, "the table itself does not move the generation: port-mod does (connmgr)");
}

#[test]
fn port_mod_bits_in_normal_and_packet_in() {
    use rvs_openflow::msg::port_config as pc;
    let (br, cfg) = bridge(FailMode::Standalone);
    assert_eq!(run(&br, &cfg, pkt(11)).0, "12,13,14");
    br.port_config.modify(2, pc::NO_FLOOD, pc::NO_FLOOD);
    br.port_config.modify(3, pc::NO_FWD, pc::NO_FWD);
    assert_eq!(run(&br, &cfg, pkt(11)).0, "14", "NORMAL: no flood to 2, no output to 3");
    // Learned destination on a NO_FLOOD port: unicast still goes there (only flooding skips it).
    let mut k = pkt(12);
    k.set_eth_src([2, 0, 0, 0, 0, 2]);
    k.set_eth_dst([2, 0, 0, 0, 0, 9]);
    run(&br, &cfg, k);
    assert_eq!(run(&br, &cfg, pkt(11)).0, "12", "learned port 2 gets unicast");
    // NO_PACKET_IN: misses from the port send nothing to the controller.
    let (br, cfg) = bridge(FailMode::Secure);
    br.pipeline.write().unwrap().set_miss_to_controller(true);
    assert_eq!(run(&br, &cfg, pkt(11)).1.controller.len(), 1);
    br.port_config.modify(1, pc::NO_PACKET_IN, pc::NO_PACKET_IN);
    let (_, x) = run(&br, &cfg, pkt(11));
    assert!(x.controller.is_empty() && !x.slow_path, "miss from a NO_PACKET_IN port: dropped");
    assert_eq!(run(&br, &cfg, pkt(12)).1.controller.len(), 1, "other ports still send packet-ins");
    // A rule's explicit output:CONTROLLER is not a miss.
    add(&br, 0, 10, Match::new().with(Field::InPort, 1), apply(vec![out(port::CONTROLLER)]));
    assert_eq!(run(&br, &cfg, pkt(11)).1.controller.len(), 1);
    // An OpenFlow 1.3 table-miss entry is one.
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 0, Match::new(), apply(vec![out(port::CONTROLLER)]));
    br.port_config.modify(1, pc::NO_PACKET_IN, pc::NO_PACKET_IN);
    assert!(run(&br, &cfg, pkt(11)).1.controller.is_empty());
    assert_eq!(run(&br, &cfg, pkt(12)).1.controller.len(), 1);
}

#[test]
fn queues_are_skb_priorities() {
    let (br, cfg) = bridge(FailMode::Secure);
    add(&br, 0, 10, Match::new().with(Field::InPort, 1), apply(vec![Action::SetQueue(5), out(2), Action::Enqueue { port: 3, queue_id: 1 }, out(4)]));
    let (a, _) = run(&br, &cfg, pkt(11));
    assert_eq!(a, "set(skb_priority(0x10006)),12,set(skb_priority(0x10002)),13,set(skb_priority(0x10006)),14", "enqueue holds for its output only");
    // Nicira pop_queue (flow-mods refuse experimenter actions today; an action list can carry it).
    let mut x = Xlate::new(pkt(11), false, false);
    xlate_actions(&mut x, &br, &cfg, 1, &[Action::SetQueue(2), out(2), Action::pop_queue(), out(3)]);
    assert_eq!(format_actions(x.actions.bytes()), "set(skb_priority(0x10003)),12,set(skb_priority(0)),13", "pop_queue restores the packet's own priority");
    add(&br, 0, 10, Match::new().with(Field::InPort, 2), apply(vec![Action::SetQueue(0xf000), out(1), Action::Enqueue { port: 3, queue_id: 0xffff_fff0 }]));
    let (a, x) = run(&br, &cfg, pkt(12));
    assert_eq!(a, "11,13", "queues without a tc class are ignored, the outputs happen");
    assert!(x.trace.iter().flatten().any(|t| t.contains("ignored")), "{:?}", x.trace);
}

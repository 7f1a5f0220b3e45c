//! Pipeline tests: flow-mod semantics (table-driven), timeouts and crediting, groups, meters,
//! statistics, the default NORMAL flow.

use std::time::{Duration, Instant};

use rvs_openflow::error::{BadAction, BadInstruction, BadMatch, FlowModFailed, GroupModFailed, MeterModFailed, OfpError};
use rvs_openflow::msg::{
    FlowMod, FlowModCommand, FlowModFlags, FlowStatsRequest, GroupMod, GroupModCommand, MeterBandKind, MeterMod, MeterModCommand,
    MultipartReplyBody, MultipartRequest, MultipartRequestBody, MULTIPART_MORE,
};
use rvs_openflow::oxm::Field;
use rvs_openflow::types::{group, port, table};

use super::*;

fn out(p: u32) -> Action {
    Action::Output { port: p, max_len: 0 }
}

fn ip() -> Match {
    Match::new().with(Field::EthType, 0x0800)
}

fn fm(command: FlowModCommand, table_id: u8, priority: u16, match_: Match, insts: Vec<Instruction>) -> FlowMod {
    FlowMod { command, table_id, priority, match_, instructions: insts, ..Default::default() }
}

fn apply(a: Vec<Action>) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(a)]
}

/// (table, priority, cookie) of every rule, sorted.
fn summary(p: &Pipeline) -> Vec<(u8, u16, u64)> {
    p.rules_sorted().iter().map(|r| (r.table_id, r.priority, r.cookie)).collect()
}

#[test]
fn flow_mod_semantics() {
    use FlowModCommand::*;
    let now = Instant::now();
    let mut p = Pipeline::new();
    let src1 = ip().with(Field::Ipv4Src, 0x0a00_0001);
    let with = |mut f: FlowMod, cookie: u64, flags: FlowModFlags| {
        f.cookie = cookie;
        f.flags = flags;
        f
    };
    let rem = FlowModFlags { send_flow_rem: true, ..Default::default() };
    let overlap = FlowModFlags { check_overlap: true, ..Default::default() };
    // (flow-mod, expected outcome: Ok(number of flow-removed) or the error, rules afterwards)
    #[allow(clippy::type_complexity)]
    let steps: Vec<(&str, FlowMod, Result<usize, OfpError>, Vec<(u8, u16, u64)>)> = vec![
        ("add", with(fm(Add, 0, 100, src1.clone(), apply(vec![out(1)])), 1, rem), Ok(0), vec![(0, 100, 1)]),
        ("identical add replaces", with(fm(Add, 0, 100, src1.clone(), apply(vec![out(2)])), 2, rem), Ok(0), vec![(0, 100, 2)]),
        ("overlap at same priority", with(fm(Add, 0, 100, ip(), apply(vec![])), 3, overlap), Err(FlowModFailed::Overlap.into()), vec![(0, 100, 2)]),
        ("no overlap at another priority", with(fm(Add, 0, 99, ip(), apply(vec![out(3)])), 3, overlap), Ok(0), vec![(0, 100, 2), (0, 99, 3)]),
        ("table 255", fm(Add, 255, 1, ip(), vec![]), Err(FlowModFailed::BadTableId.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("table 254 is internal", fm(Add, 254, 1, ip(), vec![]), Err(FlowModFailed::BadTableId.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("goto 254", fm(Add, 0, 1, ip(), vec![Instruction::GotoTable(254)]), Err(BadInstruction::BadTableId.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("goto backwards", fm(Add, 1, 1, ip(), vec![Instruction::GotoTable(1)]), Err(BadInstruction::BadTableId.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("unknown group", fm(Add, 0, 1, ip(), apply(vec![Action::Group(7)])), Err(BadAction::BadOutGroup.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("missing prerequisite", fm(Add, 0, 1, Match::new().with(Field::TcpDst, 80), vec![]), Err(BadMatch::BadPrereq.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("unknown meter", fm(Add, 0, 1, ip(), vec![Instruction::Meter(5)]), Err(MeterModFailed::UnknownMeter.into()), vec![(0, 100, 2), (0, 99, 3)]),
        (
            "set-field without its prerequisite",
            fm(Add, 0, 1, Match::new(), apply(vec![Action::SetField { field: Field::Ipv4Src, value: 1 }])),
            Err(BadAction::MatchInconsistent.into()),
            vec![(0, 100, 2), (0, 99, 3)],
        ),
        ("reserved output port", fm(Add, 0, 1, ip(), apply(vec![out(port::TABLE)])), Err(BadAction::BadOutPort.into()), vec![(0, 100, 2), (0, 99, 3)]),
        ("MPLS unsupported", fm(Add, 0, 1, ip(), apply(vec![Action::PushMpls(0x8847)])), Err(BadAction::BadType.into()), vec![(0, 100, 2), (0, 99, 3)]),
        (
            "unknown experimenter action",
            fm(Add, 0, 1, ip(), apply(vec![Action::Experimenter { experimenter: 0x2320, data: vec![0, 99, 0, 0, 0, 0, 0, 0] }])),
            Err(BadAction::BadExperimenter.into()),
            vec![(0, 100, 2), (0, 99, 3)],
        ),
        (
            "duplicate instruction",
            fm(Add, 0, 1, ip(), vec![Instruction::ClearActions, Instruction::ClearActions]),
            Err(BadInstruction::DupInst.into()),
            vec![(0, 100, 2), (0, 99, 3)],
        ),
        ("add in table 1", with(fm(Add, 1, 5, Match::new(), apply(vec![out(4)])), 9, rem), Ok(0), vec![(0, 100, 2), (0, 99, 3), (1, 5, 9)]),
        // Loose modify of everything IP in table 0 (cookie_mask 0 sets the cookie too).
        ("modify loose", with(fm(Modify, 0, 0, ip(), apply(vec![out(5)])), 7, FlowModFlags::default()), Ok(0), vec![(0, 100, 7), (0, 99, 7), (1, 5, 9)]),
        (
            "modify strict selects one",
            with(fm(ModifyStrict, 0, 99, ip(), apply(vec![out(6)])), 8, FlowModFlags::default()),
            Ok(0),
            vec![(0, 100, 7), (0, 99, 8), (1, 5, 9)],
        ),
        (
            "modify matching nothing with cookie_mask 0 adds",
            fm(Modify, 2, 3, Match::new(), apply(vec![out(1)])),
            Ok(0),
            vec![(0, 100, 7), (0, 99, 8), (1, 5, 9), (2, 3, 0x0)],
        ),
        ("delete strict of a missing flow", fm(DeleteStrict, 0, 98, ip(), vec![]), Ok(0), vec![(0, 100, 7), (0, 99, 8), (1, 5, 9), (2, 3, 0)]),
        (
            "delete by out_port (only rules outputting to 6)",
            FlowMod { out_port: 6, ..fm(Delete, table::ALL, 0, Match::new(), vec![]) },
            Ok(0),
            vec![(0, 100, 7), (1, 5, 9), (2, 3, 0)],
        ),
        (
            "delete by cookie across tables, flow-removed for send_flow_rem",
            FlowMod { cookie: 9, cookie_mask: u64::MAX, ..fm(Delete, table::ALL, 0, Match::new(), vec![]) },
            Ok(1),
            vec![(0, 100, 7), (2, 3, 0)],
        ),
        ("delete a more specific filter selects nothing", fm(Delete, 0, 0, src1.clone().with(Field::IpProto, 6), vec![]), Ok(0), vec![(0, 100, 7), (2, 3, 0)]),
        ("delete loose under ip", fm(Delete, 0, 0, ip(), vec![]), Ok(1), vec![(2, 3, 0)]),
        ("delete all", fm(Delete, table::ALL, 0, Match::new(), vec![]), Ok(0), vec![]),
    ];
    let mut version = p.version();
    for (name, m, want, rules) in steps {
        let got = p.flow_mod(&m, now).map(|v| v.len());
        assert_eq!(got, want, "{name}");
        assert_eq!(summary(&p), rules, "{name}");
        if want.is_err() {
            assert_eq!(p.version(), version, "{name}: an error changes nothing");
        }
        version = p.version();
    }
}

#[test]
fn replace_keeps_counters_unless_reset() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    p.flow_mod(&fm(FlowModCommand::Add, 0, 10, ip(), apply(vec![out(1)])), now).unwrap();
    let id = p.rules_sorted()[0].id;
    p.credit(&[id], 3, 300, now);
    p.flow_mod(&fm(FlowModCommand::Add, 0, 10, ip(), apply(vec![out(2)])), now).unwrap();
    assert_eq!(p.rules_sorted()[0].packets, 3);
    let mut f = fm(FlowModCommand::Add, 0, 10, ip(), apply(vec![out(2)]));
    f.flags.reset_counts = true;
    p.flow_mod(&f, now).unwrap();
    assert_eq!((p.rules_sorted()[0].packets, p.rules_sorted()[0].bytes), (0, 0));
}

#[test]
fn timeouts_and_credit() {
    let t0 = Instant::now();
    let mut p = Pipeline::new();
    let mut a = fm(FlowModCommand::Add, 0, 1, ip(), apply(vec![out(1)]));
    a.idle_timeout = 10;
    a.flags.send_flow_rem = true;
    let mut b = fm(FlowModCommand::Add, 0, 2, Match::new(), apply(vec![out(1)]));
    b.hard_timeout = 5;
    b.idle_timeout = 1;
    b.flags.send_flow_rem = true;
    p.flow_mod(&a, t0).unwrap();
    p.flow_mod(&b, t0).unwrap();
    let ida = p.rules_sorted().iter().find(|r| r.priority == 1).unwrap().id;
    let idb = p.rules_sorted().iter().find(|r| r.priority == 2).unwrap().id;
    // Traffic keeps both alive; b's hard timeout still ends it.
    for s in 1..=4 {
        p.credit(&[ida, idb], 1, 100, t0 + Duration::from_secs(s));
        assert!(p.expire(t0 + Duration::from_secs(s)).is_empty());
    }
    let gone = p.expire(t0 + Duration::from_secs(5));
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].priority, gone[0].reason, gone[0].packet_count, gone[0].duration_sec), (2, FlowRemovedReason::HardTimeout, 4, 5));
    // a was last used at 4 s: idle 10 s expires at 14 s.
    assert!(p.expire(t0 + Duration::from_secs(13)).is_empty());
    let gone = p.expire(t0 + Duration::from_secs(14));
    assert_eq!((gone.len(), gone[0].reason, gone[0].byte_count), (1, FlowRemovedReason::IdleTimeout, 400));
    assert_eq!(p.n_rules(), 0);
}

fn gm(command: GroupModCommand, group_type: GroupType, id: u32, buckets: Vec<Vec<Action>>) -> GroupMod {
    GroupMod {
        command,
        group_type,
        group_id: id,
        buckets: buckets.into_iter().map(|actions| Bucket { weight: 1, watch_port: port::ANY, watch_group: group::ANY, actions }).collect(),
    }
}

#[test]
fn groups() {
    use GroupModCommand::*;
    let now = Instant::now();
    let mut p = Pipeline::new();
    p.group_mod(&gm(Add, GroupType::All, 1, vec![vec![out(1)], vec![out(2)]])).unwrap();
    assert_eq!(p.group_mod(&gm(Add, GroupType::All, 1, vec![])), Err(GroupModFailed::GroupExists.into()));
    assert_eq!(p.group_mod(&gm(Modify, GroupType::All, 9, vec![])), Err(GroupModFailed::UnknownGroup.into()));
    assert_eq!(p.group_mod(&gm(Add, GroupType::Indirect, 2, vec![vec![out(1)], vec![out(2)]])), Err(GroupModFailed::InvalidGroup.into()));
    assert_eq!(p.group_mod(&gm(Add, GroupType::All, 3, vec![vec![Action::Group(8)]])), Err(GroupModFailed::InvalidGroup.into()));
    assert_eq!(p.group_mod(&gm(Add, GroupType::All, group::ALL, vec![])), Err(GroupModFailed::InvalidGroup.into()));
    // Chaining 2 → 1, then making 1 point at 2 is a loop.
    p.group_mod(&gm(Add, GroupType::Indirect, 2, vec![vec![Action::Group(1)]])).unwrap();
    assert_eq!(p.group_mod(&gm(Modify, GroupType::All, 1, vec![vec![Action::Group(2)]])), Err(GroupModFailed::Loop.into()));
    assert_eq!(p.group_mod(&gm(Delete, GroupType::All, 1, vec![])), Err(GroupModFailed::ChainedGroup.into()));
    let mut f = fm(FlowModCommand::Add, 0, 1, ip(), apply(vec![Action::Group(2)]));
    f.flags.send_flow_rem = true;
    p.flow_mod(&f, now).unwrap();
    let req = MultipartRequest { flags: 0, body: MultipartRequestBody::Group { group_id: group::ALL } };
    let MultipartReplyBody::Group(st) = &p.stats(&req, now).unwrap()[0].body else { panic!() };
    assert_eq!(st.iter().map(|g| (g.group_id, g.ref_count)).collect::<Vec<_>>(), vec![(1, 0), (2, 1)]);
    p.credit_groups(&[(2, 0), (1, 1), (1, 0)], 2, 200);
    let MultipartReplyBody::Group(st) = &p.stats(&req, now).unwrap()[0].body else { panic!() };
    assert_eq!((st[0].packet_count, st[0].bucket_stats.clone()), (2, vec![(2, 200), (2, 200)]), "a group counts a packet once");
    assert_eq!((st[1].byte_count, st[1].bucket_stats.clone()), (200, vec![(2, 200)]));
    // Deleting every group removes the flow that used one.
    p.group_mod(&gm(Delete, GroupType::All, group::ALL, vec![])).unwrap();
    assert_eq!(p.n_rules(), 0);
    let rem = p.take_removed();
    assert_eq!((rem.len(), rem[0].reason), (1, FlowRemovedReason::GroupDelete));
    let req = MultipartRequest { flags: 0, body: MultipartRequestBody::GroupDesc };
    assert_eq!(p.stats(&req, now).unwrap()[0].body, MultipartReplyBody::GroupDesc(vec![]));
}

#[test]
fn meters() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    let band = MeterBand { kind: MeterBandKind::Drop, rate: 1000, burst_size: 0 };
    let mm = |command, meter_id, flags, bands: Vec<MeterBand>| MeterMod { command, flags, meter_id, bands };
    assert_eq!(p.meter_mod(&mm(MeterModCommand::Add, 0, 1, vec![band])), Err(MeterModFailed::InvalidMeter.into()));
    assert_eq!(p.meter_mod(&mm(MeterModCommand::Add, 1, 3, vec![band])), Err(MeterModFailed::BadFlags.into()));
    assert_eq!(p.meter_mod(&mm(MeterModCommand::Add, 1, 1, vec![MeterBand { rate: 0, ..band }])), Err(MeterModFailed::BadRate.into()));
    p.meter_mod(&mm(MeterModCommand::Add, 1, 1, vec![band])).unwrap();
    assert_eq!(p.meter_mod(&mm(MeterModCommand::Add, 1, 1, vec![band])), Err(MeterModFailed::MeterExists.into()));
    assert_eq!(p.meter_mod(&mm(MeterModCommand::Modify, 2, 1, vec![band])), Err(MeterModFailed::UnknownMeter.into()));
    p.flow_mod(&fm(FlowModCommand::Add, 0, 1, ip(), vec![Instruction::Meter(1), Instruction::ApplyActions(vec![out(1)])]), now).unwrap();
    let req = MultipartRequest { flags: 0, body: MultipartRequestBody::Meter { meter_id: rvs_openflow::types::meter::ALL } };
    let MultipartReplyBody::Meter(st) = &p.stats(&req, now).unwrap()[0].body else { panic!() };
    assert_eq!((st.len(), st[0].flow_count), (1, 1));
    p.meter_mod(&mm(MeterModCommand::Delete, 1, 0, vec![])).unwrap();
    assert_eq!(p.n_rules(), 0, "flows using a deleted meter go");
}

#[test]
fn statistics() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    for (t, prio, cookie) in [(0u8, 10u16, 1u64), (0, 20, 2), (3, 5, 3)] {
        let mut f = fm(FlowModCommand::Add, t, prio, ip().with(Field::IpProto, u128::from(prio)), apply(vec![out(u32::from(t) + 1)]));
        f.cookie = cookie;
        p.flow_mod(&f, now).unwrap();
    }
    let flows = |r: FlowStatsRequest| {
        let replies = p.stats(&MultipartRequest { flags: 0, body: MultipartRequestBody::Flow(r) }, now).unwrap();
        replies.into_iter().flat_map(|r| match r.body {
            MultipartReplyBody::Flow(v) => v,
            _ => vec![],
        }).map(|f| (f.table_id, f.priority)).collect::<Vec<_>>()
    };
    assert_eq!(flows(FlowStatsRequest::default()), vec![(0, 20), (0, 10), (3, 5)]);
    assert_eq!(flows(FlowStatsRequest { table_id: 3, ..Default::default() }), vec![(3, 5)]);
    assert_eq!(flows(FlowStatsRequest { out_port: 1, ..Default::default() }), vec![(0, 20), (0, 10)]);
    assert_eq!(flows(FlowStatsRequest { cookie: 2, cookie_mask: 0xff, ..Default::default() }), vec![(0, 20)]);
    assert_eq!(flows(FlowStatsRequest { match_: ip().with(Field::IpProto, 5), ..Default::default() }), vec![(3, 5)]);
    let agg = p.stats(&MultipartRequest { flags: 0, body: MultipartRequestBody::Aggregate(FlowStatsRequest::default()) }, now).unwrap();
    assert!(matches!(agg[0].body, MultipartReplyBody::Aggregate(a) if a.flow_count == 3));
    let tables = p.stats(&MultipartRequest { flags: 0, body: MultipartRequestBody::Table }, now).unwrap();
    let MultipartReplyBody::Table(ts) = &tables[0].body else { panic!() };
    assert_eq!((ts.len(), ts[0].active_count, ts[3].active_count), (N_TABLES, 2, 1));
    let tf = p.stats(&MultipartRequest { flags: 0, body: MultipartRequestBody::TableFeatures(vec![]) }, now).unwrap();
    assert!(tf.len() > 1);
    assert!(tf[..tf.len() - 1].iter().all(|r| r.flags & MULTIPART_MORE != 0) && tf.last().unwrap().flags == 0);
    let n: usize = tf.iter().map(|r| match &r.body {
        MultipartReplyBody::TableFeatures(v) => v.len(),
        _ => 0,
    }).sum();
    assert_eq!(n, N_TABLES);
    let bad = MultipartRequest { flags: 0, body: MultipartRequestBody::PortDesc };
    assert!(p.stats(&bad, now).is_err());
    // Every flow-stats reply fits: 200 flows come in several messages.
    for i in 0..200u16 {
        p.flow_mod(&fm(FlowModCommand::Add, 5, i, Match::new(), apply(vec![out(1)])), now).unwrap();
    }
    let r = p.stats(&MultipartRequest { flags: 0, body: MultipartRequestBody::Flow(FlowStatsRequest::default()) }, now).unwrap();
    assert_eq!(r.len(), 4);
}

#[test]
fn default_normal_flow() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    p.set_default_normal(true);
    assert_eq!(summary(&p), vec![(0, 0, 0)]);
    assert!(p.rules_sorted()[0].outputs_to(port::NORMAL));
    p.set_default_normal(true);
    assert_eq!(p.n_rules(), 1, "idempotent");
    p.set_default_normal(false);
    assert_eq!(p.n_rules(), 0);
    p.set_default_normal(true);
    // A controller deleting it removes it for good.
    p.flow_mod(&fm(FlowModCommand::Delete, table::ALL, 0, Match::new(), vec![]), now).unwrap();
    assert!(!p.has_default_normal());
}

#[test]
fn table_full_and_eviction() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    p.set_table_limit(0, 2, false);
    let rule = |prio: u16, importance: u16, hard: u16| {
        let mut f = fm(FlowModCommand::Add, 0, prio, ip(), apply(vec![out(1)]));
        f.importance = importance;
        f.hard_timeout = hard;
        f.flags.send_flow_rem = true;
        f
    };
    p.flow_mod(&rule(1, 5, 100), now).unwrap();
    p.flow_mod(&rule(2, 1, 200), now).unwrap();
    assert_eq!(p.flow_mod(&rule(3, 0, 0), now), Err(FlowModFailed::TableFull.into()));
    p.flow_mod(&rule(2, 9, 0), now).expect("replacing an existing rule needs no room");
    p.set_table_limit(0, 2, true);
    // Rule 2 now has no timeout: never evicted; rule 1 goes.
    p.flow_mod(&rule(3, 0, 0), now).unwrap();
    assert_eq!(summary(&p), vec![(0, 3, 0), (0, 2, 0)]);
    assert_eq!(p.take_removed().len(), 1);
    assert_eq!(p.flow_mod(&rule(4, 0, 0), now), Err(FlowModFailed::TableFull.into()), "nothing evictable");
}

#[test]
fn set_field_of_an_uncommittable_field_is_refused() {
    let mut p = Pipeline::new();
    let arp = Match::new().with(Field::EthType, 0x0806);
    let f = fm(FlowModCommand::Add, 0, 1, arp, apply(vec![Action::SetField { field: Field::ArpSpa, value: 1 }]));
    assert_eq!(p.flow_mod(&f, Instant::now()), Err(BadAction::BadSetType.into()));
}

#[test]
fn owned_flow_mods_move_on_success_only() {
    let now = Instant::now();
    let mut p = Pipeline::new();
    // Refused (goto a table not after this one): the flow-mod is left as it was.
    let bad = fm(FlowModCommand::Add, 1, 10, ip(), vec![Instruction::GotoTable(1)]);
    let mut f = bad.clone();
    assert_eq!(p.flow_mod_owned(&mut f, now), Err(BadInstruction::BadTableId.into()));
    assert_eq!(f, bad);
    let full = |p: &mut Pipeline| {
        p.set_table_limit(0, 1, false);
    };
    let good = fm(FlowModCommand::Add, 0, 10, ip().with(Field::IpProto, 6), apply(vec![out(2)]));
    let mut f = good.clone();
    p.flow_mod_owned(&mut f, now).unwrap();
    let r = p.rules_sorted()[0].clone();
    assert_eq!((r.match_, r.instructions), (good.match_.clone(), good.instructions.clone()), "moved into the rule");
    // Refused at the last check (table full): still unchanged.
    full(&mut p);
    let other = fm(FlowModCommand::Add, 0, 11, ip(), apply(vec![out(3)]));
    let mut f = other.clone();
    assert_eq!(p.flow_mod_owned(&mut f, now), Err(FlowModFailed::TableFull.into()));
    assert_eq!(f, other);
    assert_eq!(p.n_rules(), 1);
}

#[test]
fn expiry_follows_replaced_and_removed_timed_rules() {
    let t0 = Instant::now();
    let mut p = Pipeline::new();
    let timed = |prio: u16, hard: u16| FlowMod { hard_timeout: hard, ..fm(FlowModCommand::Add, 0, prio, ip(), apply(vec![out(1)])) };
    // A timed rule replaced by an untimed one with the same match: nothing left to expire.
    p.flow_mod(&timed(5, 2), t0).unwrap();
    p.flow_mod(&timed(5, 0), t0).unwrap();
    assert!(p.expire(t0 + Duration::from_secs(10)).is_empty());
    assert_eq!(p.n_rules(), 1);
    // A timed rule deleted before it expires, then another that does expire.
    p.flow_mod(&timed(6, 2), t0).unwrap();
    p.flow_mod(&fm(FlowModCommand::DeleteStrict, 0, 6, ip(), vec![]), t0).unwrap();
    p.flow_mod(&timed(7, 3), t0).unwrap();
    assert_eq!(p.n_rules(), 2);
    p.expire(t0 + Duration::from_secs(2));
    assert_eq!(p.n_rules(), 2);
    p.expire(t0 + Duration::from_secs(3));
    assert_eq!(summary(&p), vec![(0, 5, 0)], "the priority-7 rule hit its hard timeout");
}

/// ovs-ofctl sends OpenFlow 1.3 `enqueue` as set_queue, output, Nicira pop_queue: accepted.
#[test]
fn enqueue_with_pop_queue_is_accepted() {
    let mut p = Pipeline::new();
    let f = fm(FlowModCommand::Add, 0, 1, ip(), apply(vec![Action::SetQueue(1), out(1), Action::pop_queue()]));
    p.flow_mod(&f, Instant::now()).unwrap();
    assert_eq!(p.rules_sorted().len(), 1);
}

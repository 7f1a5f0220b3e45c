//! Malformed whole messages get the OpenFlow error the specification names, and no input
//! panics the decoder (every vector truncated at every length).
#![allow(clippy::unwrap_used)]

mod common;

use rvs_openflow::error::*;
use rvs_openflow::msg::*;
use rvs_openflow::types::Version;
use rvs_openflow::{decode, encode, Field, Instruction, Match, OfMessage};

fn enc(v: Version, msg: Message) -> Vec<u8> {
    encode(&OfMessage { version: v, xid: 1, msg }).unwrap()
}

/// Decodes `b` after fixing its header length, returning the error.
fn err_of(mut b: Vec<u8>) -> OfpError {
    let len = u16::try_from(b.len()).unwrap();
    b[2..4].copy_from_slice(&len.to_be_bytes());
    decode(&b).map(|m| panic!("decoded {m:?}")).unwrap_err().error
}

fn flow_mod() -> FlowMod {
    FlowMod {
        match_: Match::new().with(Field::InPort, 1),
        instructions: vec![Instruction::ApplyActions(vec![rvs_openflow::Action::Output { port: 2, max_len: 0 }])],
        ..FlowMod::default()
    }
}

const V13: Version = Version::OF13;
const V10: Version = Version::OF10;

#[test]
fn flow_mod_errors_13() {
    let good = enc(V13, Message::FlowMod(flow_mod()));
    assert!(decode(&good).is_ok());
    // Offsets in ofp_flow_mod (after the 8-byte header): table 24, command 25, flags 44.
    let mut b = good.clone();
    b[25] = 9;
    assert_eq!(err_of(b), FlowModFailed::BadCommand.into());
    let mut b = good.clone();
    b[44..46].copy_from_slice(&0x0100u16.to_be_bytes());
    assert_eq!(err_of(b), FlowModFailed::BadFlags.into());
    let mut b = good.clone();
    b[24] = 0xff;
    assert_eq!(err_of(b), FlowModFailed::BadTableId.into());
    // goto_table to an earlier table.
    let fm = FlowMod { table_id: 3, instructions: vec![Instruction::GotoTable(2)], ..flow_mod() };
    assert_eq!(err_of(enc(V13, Message::FlowMod(fm))), BadInstruction::BadTableId.into());
    // Match prerequisites.
    let fm = FlowMod { match_: Match::new().with(Field::Ipv4Src, 1), ..flow_mod() };
    let mut m = Vec::new();
    fm.match_.put_ofp13(&mut m).unwrap();
    let mut b = enc(V13, Message::FlowMod(FlowMod { match_: Match::new(), ..fm.clone() }));
    b.splice(48..56, m);
    assert_eq!(err_of(b), BadMatch::BadPrereq.into());
    // Truncated fixed part.
    assert_eq!(err_of(good[..40].to_vec()), BadRequest::BadLen.into());
    // Instruction list that does not end on an instruction boundary.
    let mut b = good.clone();
    b.extend_from_slice(&[0, 5, 0, 8]);
    assert_eq!(err_of(b), BadInstruction::BadLen.into());
}

#[test]
fn flow_mod_errors_10() {
    let good = enc(V10, Message::FlowMod(flow_mod()));
    assert!(decode(&good).is_ok());
    // ofp_flow_mod 1.0: match 8..48, cookie 48, command 56, flags 70.
    let mut b = good.clone();
    b[57] = 7;
    assert_eq!(err_of(b), FlowModFailed::BadCommand.into());
    let mut b = good.clone();
    b[70..72].copy_from_slice(&0x0010u16.to_be_bytes());
    assert_eq!(err_of(b), FlowModFailed::BadFlags.into());
    let mut b = good.clone();
    b.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xff, 0, 0]);
    assert_eq!(err_of(b), BadAction::BadOutPort.into());
    // Wire numbers of that error in 1.0 as Open vSwitch encodes them.
    assert_eq!(OfpError::from(FlowModFailed::BadFlags).wire(V10), WireError { vendor: NX_VENDOR_ID, etype: 3, code: 258 });
}

fn group(group_type: GroupType, buckets: Vec<Bucket>) -> Vec<u8> {
    enc(V13, Message::GroupMod(GroupMod { command: GroupModCommand::Add, group_type, group_id: 1, buckets }))
}

fn bucket(watch_port: u32) -> Bucket {
    Bucket {
        weight: 0,
        watch_port,
        watch_group: rvs_openflow::types::group::ANY,
        actions: vec![rvs_openflow::Action::Output { port: 1, max_len: 0 }],
    }
}

#[test]
fn group_mod_errors() {
    let any = rvs_openflow::types::port::ANY;
    let mut b = group(GroupType::All, vec![bucket(any)]);
    b[9] = 7;
    assert_eq!(err_of(b), GroupModFailed::BadCommand.into());
    let mut b = group(GroupType::All, vec![bucket(any)]);
    b[10] = 9;
    assert_eq!(err_of(b), GroupModFailed::BadType.into());
    assert_eq!(err_of(group(GroupType::Indirect, vec![bucket(any), bucket(any)])), GroupModFailed::InvalidGroup.into());
    assert_eq!(err_of(group(GroupType::FastFailover, vec![bucket(any)])), GroupModFailed::BadWatch.into());
    assert!(decode(&group(GroupType::FastFailover, vec![bucket(1)])).is_ok());
    let mut b = group(GroupType::All, vec![bucket(any)]);
    b[12..16].copy_from_slice(&0xffff_ff01u32.to_be_bytes());
    assert_eq!(err_of(b), GroupModFailed::InvalidGroup.into());
    let mut b = group(GroupType::All, vec![bucket(any)]);
    b[16..18].copy_from_slice(&8u16.to_be_bytes());
    assert_eq!(err_of(b), GroupModFailed::BadBucket.into());
}

fn meter(flags: u16, meter_id: u32, bands: Vec<MeterBand>) -> Vec<u8> {
    enc(V13, Message::MeterMod(MeterMod { command: MeterModCommand::Add, flags, meter_id, bands }))
}

#[test]
fn meter_mod_errors() {
    let drop = |rate| MeterBand { kind: MeterBandKind::Drop, rate, burst_size: 0 };
    assert!(decode(&meter(meter_flags::KBPS, 1, vec![drop(5)])).is_ok());
    assert_eq!(err_of(meter(meter_flags::KBPS | meter_flags::PKTPS, 1, vec![drop(5)])), MeterModFailed::BadFlags.into());
    assert_eq!(err_of(meter(0x10, 1, vec![drop(5)])), MeterModFailed::BadFlags.into());
    assert_eq!(err_of(meter(1, 0, vec![drop(5)])), MeterModFailed::InvalidMeter.into());
    assert_eq!(err_of(meter(1, 0xffff_fff0, vec![drop(5)])), MeterModFailed::InvalidMeter.into());
    assert_eq!(err_of(meter(1, 1, vec![drop(0)])), MeterModFailed::BadRate.into());
    let mut b = meter(1, 1, vec![drop(5)]);
    b[16..18].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(err_of(b), MeterModFailed::BadBand.into());
    let mut b = meter(1, 1, vec![drop(5)]);
    b[8..10].copy_from_slice(&3u16.to_be_bytes());
    assert_eq!(err_of(b), MeterModFailed::BadCommand.into());
}

#[test]
fn other_message_errors() {
    // Unknown multipart type.
    let mut b = enc(V13, Message::MultipartRequest(MultipartRequest { flags: 0, body: MultipartRequestBody::Desc }));
    b[8..10].copy_from_slice(&99u16.to_be_bytes());
    assert_eq!(err_of(b), BadRequest::BadMultipart.into());
    let mut b = enc(V10, Message::MultipartRequest(MultipartRequest { flags: 0, body: MultipartRequestBody::Desc }));
    b[8..10].copy_from_slice(&12u16.to_be_bytes());
    assert_eq!(err_of(b), BadRequest::BadMultipart.into());
    // Bad role.
    let mut b = enc(V13, Message::RoleRequest(RoleMsg { role: Role::Master, generation_id: 0 }));
    b[11] = 9;
    assert_eq!(err_of(b), RoleRequestFailed::BadRole.into());
    // Bad config flags.
    assert_eq!(
        err_of(enc(V13, Message::SetConfig(SwitchConfig { flags: 8, miss_send_len: 0 }))),
        SwitchConfigFailed::BadFlags.into()
    );
    // Packet-out from a reserved port that is not an input port.
    let po = PacketOut { buffer_id: None, in_port: rvs_openflow::types::port::FLOOD, actions: vec![], data: vec![] };
    assert_eq!(err_of(enc(V13, Message::PacketOut(po))), BadRequest::BadPort.into());
    // Port-mod on port 0.
    let pm = PortMod { port_no: 0, hw_addr: Default::default(), config: 0, mask: 0, advertise: 0 };
    assert_eq!(err_of(enc(V13, Message::PortMod(pm.clone()))), PortModFailed::BadPort.into());
    assert_eq!(err_of(enc(V10, Message::PortMod(pm))), PortModFailed::BadPort.into());
    // Trailing bytes after a fixed-size message.
    let mut b = enc(V13, Message::BarrierRequest);
    b.extend_from_slice(&[0; 8]);
    assert_eq!(err_of(b), BadRequest::BadLen.into());
    // 1.3-only messages do not exist in 1.0.
    let mut b = enc(V13, Message::GetAsyncRequest);
    b[0] = 1;
    assert_eq!(err_of(b), BadRequest::BadType.into());
    // Table features with an unknown property type.
    let mut tf = Vec::new();
    let body = MultipartRequestBody::TableFeatures(vec![TableFeatures {
        properties: vec![TableFeatureProp::Match(vec![])],
        ..Default::default()
    }]);
    tf.extend(enc(V13, Message::MultipartRequest(MultipartRequest { flags: 0, body })));
    tf[80..82].copy_from_slice(&9u16.to_be_bytes());
    assert_eq!(err_of(tf), TableFeaturesFailed::BadType.into());
}

#[test]
fn no_truncation_or_corruption_panics() {
    for (name, m) in common::samples() {
        let b = encode(&m).unwrap();
        for cut in 0..b.len() {
            let mut t = b[..cut].to_vec();
            if t.len() >= 4 {
                let len = u16::try_from(t.len()).unwrap();
                t[2..4].copy_from_slice(&len.to_be_bytes());
            }
            if let Ok(d) = decode(&t) {
                // What still decodes must re-encode to a fixed point.
                let again = encode(&d).unwrap_or_else(|e| panic!("{name} cut {cut}: {e}"));
                assert_eq!(decode(&again).unwrap(), d, "{name} cut {cut}");
            }
        }
        for i in 8..b.len() {
            for x in [0x00, 0xff, 0x80] {
                let mut t = b.clone();
                t[i] = x;
                let _ = decode(&t);
            }
        }
    }
}

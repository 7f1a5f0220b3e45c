//! Tests of the action codec, with payloads hand-built from the upstream structs.
//! TODO(captured vectors): add action lists captured from ovs-vswitchd once the test kernel boots.
use super::*;
use crate::ovs::test_util::{attr, be16a, nest, u32a, written};
use proptest::prelude::*;
use std::vec::Vec;

fn tcp_flow() -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_eth_type(ETH_P_IP);
    k.set_ip_proto(ipproto::TCP);
    k
}

fn collect(list: &[u8]) -> Vec<Action<'_>> {
    ActionList(list).iter().collect::<Result<Vec<_>, _>>().unwrap()
}

fn encode(actions: &[Action<'_>]) -> Vec<u8> {
    written(|w| {
        for a in actions {
            encode_action(w, a).unwrap();
        }
    })
}

fn ipv4_set() -> Vec<u8> {
    attr(OVS_KEY_ATTR_IPV4, &[1, 2, 3, 4, 5, 6, 7, 8, 6, 0, 63, 0])
}

#[test]
fn every_action_decodes_and_reencodes_byte_exact() {
    let userspace = nest(
        OVS_ACTION_ATTR_USERSPACE,
        &[u32a(OVS_USERSPACE_ATTR_PID, 77), attr(OVS_USERSPACE_ATTR_USERDATA, &[1, 2, 3]), u32a(OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, 4), attr(OVS_USERSPACE_ATTR_ACTIONS, &[])],
    );
    let inner = u32a(OVS_ACTION_ATTR_OUTPUT, 3);
    let sample = nest(OVS_ACTION_ATTR_SAMPLE, &[u32a(OVS_SAMPLE_ATTR_PROBABILITY, u32::MAX / 2), nest(OVS_SAMPLE_ATTR_ACTIONS, core::slice::from_ref(&inner))]);
    let mut hash = Vec::new();
    hash.extend_from_slice(&1u32.to_ne_bytes());
    hash.extend_from_slice(&0xabcdu32.to_ne_bytes());
    let mut masked = [0u8; 24];
    masked[10] = 63;
    masked[22] = 0xff;
    let wire = [
        u32a(OVS_ACTION_ATTR_OUTPUT, 2),
        userspace,
        nest(OVS_ACTION_ATTR_SET, &[ipv4_set()]),
        nest(OVS_ACTION_ATTR_SET_MASKED, &[attr(OVS_KEY_ATTR_IPV4, &masked)]),
        attr(OVS_ACTION_ATTR_PUSH_VLAN, &[0x81, 0x00, 0x10, 0x0a]),
        attr(OVS_ACTION_ATTR_POP_VLAN, &[]),
        sample,
        nest(OVS_ACTION_ATTR_CLONE, core::slice::from_ref(&inner)),
        u32a(OVS_ACTION_ATTR_RECIRC, 9),
        attr(OVS_ACTION_ATTR_HASH, &hash),
        u32a(OVS_ACTION_ATTR_METER, 5),
        u32a(OVS_ACTION_ATTR_TRUNC, 100),
    ]
    .concat();
    validate_actions(&wire, &tcp_flow()).unwrap();
    let acts = collect(&wire);
    assert_eq!(acts.len(), 12);
    assert_eq!(acts[0], Action::Output(2));
    assert_eq!(
        acts[1],
        Action::Userspace(Userspace { pid: 77, userdata: Some(&[1, 2, 3]), egress_tun_port: Some(4), include_actions: true })
    );
    assert_eq!(acts[2], Action::Set(&ipv4_set()));
    assert_eq!(acts[4], Action::PushVlan { tpid: 0x8100, tci: 0x100a });
    assert_eq!(acts[5], Action::PopVlan);
    match acts[6] {
        Action::Sample { probability, actions } => {
            assert_eq!(probability, u32::MAX / 2);
            assert_eq!(collect(actions.0), [Action::Output(3)]);
        }
        ref a => panic!("{a:?}"),
    }
    assert_eq!(acts[7], Action::Clone(ActionList(&inner)));
    assert_eq!(acts[8], Action::Recirc(9));
    assert_eq!(acts[9], Action::Hash { alg: 1, basis: 0xabcd });
    assert_eq!(acts[10], Action::Meter(5));
    assert_eq!(acts[11], Action::Trunc(100));
    assert_eq!(encode(&acts), wire);
}

#[test]
fn structural_errors() {
    let k = tcp_flow();
    let cases: Vec<(Vec<u8>, CodecError)> = std::vec![
        (attr(OVS_ACTION_ATTR_OUTPUT, &[0; 2]), CodecError::new("OVS_ACTION_ATTR_OUTPUT", ErrorKind::BadLength { got: 2, want: 4 })),
        (attr(OVS_ACTION_ATTR_POP_VLAN, &[0; 4]), CodecError::new("OVS_ACTION_ATTR_POP_VLAN", ErrorKind::BadLength { got: 4, want: 0 })),
        (attr(OVS_ACTION_ATTR_HASH, &[0; 4]), CodecError::new("OVS_ACTION_ATTR_HASH", ErrorKind::BadLength { got: 4, want: 8 })),
        (attr(60, &[]), CodecError::new("OVS_ACTION_ATTR", ErrorKind::Unknown { ty: 60 })),
        (attr(0, &[]), CodecError::new("OVS_ACTION_ATTR_UNSPEC", ErrorKind::Unknown { ty: 0 })),
        (attr(OVS_ACTION_ATTR_CT, &[]), CodecError::new("OVS_ACTION_ATTR_CT", ErrorKind::Unsupported)),
        (attr(OVS_ACTION_ATTR_ADD_MPLS, &[0; 8]), CodecError::new("OVS_ACTION_ATTR_ADD_MPLS", ErrorKind::Unsupported)),
        (attr(OVS_ACTION_ATTR_PUSH_MPLS, &[0; 8]), CodecError::new("OVS_ACTION_ATTR_PUSH_MPLS", ErrorKind::Unsupported)),
        (nest(OVS_ACTION_ATTR_USERSPACE, &[]), CodecError::new("OVS_USERSPACE_ATTR_PID", ErrorKind::Missing)),
        (nest(OVS_ACTION_ATTR_USERSPACE, &[u32a(1, 0)]), CodecError::new("OVS_USERSPACE_ATTR_PID", ErrorKind::BadValue)),
        (nest(OVS_ACTION_ATTR_USERSPACE, &[u32a(1, 1), u32a(1, 1)]), CodecError::new("OVS_USERSPACE_ATTR_PID", ErrorKind::Duplicate)),
        (nest(OVS_ACTION_ATTR_USERSPACE, &[u32a(1, 1), u32a(9, 1)]), CodecError::new("OVS_USERSPACE_ATTR", ErrorKind::Unknown { ty: 9 })),
        (nest(OVS_ACTION_ATTR_SAMPLE, &[nest(2, &[])]), CodecError::new("OVS_SAMPLE_ATTR_PROBABILITY", ErrorKind::Missing)),
        (nest(OVS_ACTION_ATTR_SAMPLE, &[u32a(1, 1)]), CodecError::new("OVS_SAMPLE_ATTR_ACTIONS", ErrorKind::Missing)),
        (nest(OVS_ACTION_ATTR_SAMPLE, &[u32a(1, 1), attr(2, &[1, 2])]), CodecError::new("OVS_SAMPLE_ATTR_ACTIONS", ErrorKind::Truncated)),
        (nest(OVS_ACTION_ATTR_SAMPLE, &[u32a(1, 1), nest(2, &[]), attr(0, &[])]), CodecError::new("OVS_SAMPLE_ATTR_UNSPEC", ErrorKind::Unknown { ty: 0 })),
        (attr(OVS_ACTION_ATTR_CLONE, &[1]), CodecError::new("OVS_ACTION_ATTR_CLONE", ErrorKind::Truncated)),
        (nest(OVS_ACTION_ATTR_CLONE, &[attr(77, &[])]), CodecError::new("OVS_ACTION_ATTR", ErrorKind::Unknown { ty: 77 })),
        (std::vec![12, 0, 1, 0, 0, 0, 0, 0], CodecError::new("OVS_ACTION_ATTR", ErrorKind::Truncated)),
    ];
    for (wire, want) in cases {
        assert_eq!(validate_actions(&wire, &k).unwrap_err(), want, "{want}");
    }
}

#[test]
fn value_errors() {
    let k = tcp_flow();
    let cases: Vec<(Vec<u8>, CodecError)> = std::vec![
        (u32a(OVS_ACTION_ATTR_OUTPUT, 65535), CodecError::new("OVS_ACTION_ATTR_OUTPUT", ErrorKind::BadValue)),
        (u32a(OVS_ACTION_ATTR_TRUNC, 13), CodecError::new("OVS_ACTION_ATTR_TRUNC", ErrorKind::BadValue)),
        (attr(OVS_ACTION_ATTR_HASH, &[[2u8, 0, 0, 0], [0; 4]].concat()), CodecError::new("OVS_ACTION_ATTR_HASH", ErrorKind::BadValue)),
        (attr(OVS_ACTION_ATTR_PUSH_VLAN, &[0x08, 0x00, 0x10, 0x01]), CodecError::new("OVS_ACTION_ATTR_PUSH_VLAN", ErrorKind::BadValue)),
        (attr(OVS_ACTION_ATTR_PUSH_VLAN, &[0x81, 0x00, 0x00, 0x01]), CodecError::new("OVS_ACTION_ATTR_PUSH_VLAN", ErrorKind::BadValue)),
    ];
    for (wire, want) in cases {
        assert_eq!(validate_actions(&wire, &k).unwrap_err(), want, "{want}");
    }
    // 802.1ad push is fine.
    validate_actions(&attr(OVS_ACTION_ATTR_PUSH_VLAN, &[0x88, 0xa8, 0x10, 0x01]), &k).unwrap();
}

#[test]
fn set_targets_checked_against_the_flow() {
    let tcp = tcp_flow();
    // set(tcp) on a TCP flow, not on a UDP flow; set(udp) never on TCP.
    let set_tcp = nest(OVS_ACTION_ATTR_SET, &[attr(OVS_KEY_ATTR_TCP, &[0, 1, 0, 2])]);
    validate_actions(&set_tcp, &tcp).unwrap();
    let mut udp = tcp;
    udp.set_ip_proto(ipproto::UDP);
    assert_eq!(validate_actions(&set_tcp, &udp).unwrap_err(), CodecError::new("OVS_KEY_ATTR_TCP", ErrorKind::NotAllowed));
    let set_udp = nest(OVS_ACTION_ATTR_SET, &[attr(OVS_KEY_ATTR_UDP, &[0, 1, 0, 2])]);
    assert_eq!(validate_actions(&set_udp, &tcp).unwrap_err().kind, ErrorKind::NotAllowed);
    // set(ipv4) needs an IPv4 flow, and the unmasked form must keep proto/frag.
    let set_v4 = nest(OVS_ACTION_ATTR_SET, &[ipv4_set()]);
    validate_actions(&set_v4, &tcp).unwrap();
    let mut v6 = tcp;
    v6.set_eth_type(ETH_P_IPV6);
    assert_eq!(validate_actions(&set_v4, &v6).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::NotAllowed));
    let wrong_proto = nest(OVS_ACTION_ATTR_SET, &[attr(OVS_KEY_ATTR_IPV4, &[1, 2, 3, 4, 5, 6, 7, 8, 17, 0, 63, 0])]);
    assert_eq!(validate_actions(&wrong_proto, &tcp).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadValue));
    // Not a settable field; masked tunnel; bad mask.
    let in_port = nest(OVS_ACTION_ATTR_SET, &[u32a(OVS_KEY_ATTR_IN_PORT, 1)]);
    assert_eq!(validate_actions(&in_port, &tcp).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IN_PORT", ErrorKind::NotAllowed));
    let mut bad_mask = [0u8; 24];
    bad_mask[0] = 1;
    let bad = nest(OVS_ACTION_ATTR_SET_MASKED, &[attr(OVS_KEY_ATTR_IPV4, &bad_mask)]);
    assert_eq!(validate_actions(&bad, &tcp).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadValue));
    // set(skb_mark), set(priority), set(eth), set(tunnel) are flow-independent.
    let meta = [
        nest(OVS_ACTION_ATTR_SET, &[u32a(OVS_KEY_ATTR_SKB_MARK, 1)]),
        nest(OVS_ACTION_ATTR_SET, &[u32a(OVS_KEY_ATTR_PRIORITY, 1)]),
        nest(OVS_ACTION_ATTR_SET, &[attr(OVS_KEY_ATTR_ETHERNET, &[1; 12])]),
        nest(OVS_ACTION_ATTR_SET, &[nest(OVS_KEY_ATTR_TUNNEL, &[attr(2, &[1, 1, 1, 1]), attr(4, &[64])])]),
    ]
    .concat();
    validate_actions(&meta, &FlowKey::ZERO).unwrap();
    // A tunnel set without TTL is rejected with the tunnel attribute's name.
    let no_ttl = nest(OVS_ACTION_ATTR_SET, &[nest(OVS_KEY_ATTR_TUNNEL, &[attr(2, &[1, 1, 1, 1])])]);
    assert_eq!(validate_actions(&no_ttl, &tcp).unwrap_err(), CodecError::new("OVS_TUNNEL_KEY_ATTR_TTL", ErrorKind::Missing));
    // Nested lists are validated too.
    let nested_bad = nest(OVS_ACTION_ATTR_CLONE, &[in_port]);
    assert_eq!(validate_actions(&nested_bad, &tcp).unwrap_err().kind, ErrorKind::NotAllowed);
}

#[test]
fn nesting_depth_limit() {
    let mut list = u32a(OVS_ACTION_ATTR_OUTPUT, 1);
    for _ in 0..MAX_DEPTH {
        list = attr(OVS_ACTION_ATTR_CLONE, &list);
    }
    validate_actions(&list, &tcp_flow()).unwrap();
    let deeper = attr(OVS_ACTION_ATTR_CLONE, &list);
    let e = validate_actions(&deeper, &tcp_flow()).unwrap_err();
    assert_eq!(e, CodecError::new("OVS_ACTION_ATTR", ErrorKind::TooDeep));
    assert_eq!(e.errno(), crate::ovs::error::EOVERFLOW);
}

#[test]
fn iterator_stops_after_error_and_empty_is_drop() {
    let wire = [u32a(OVS_ACTION_ATTR_OUTPUT, 1), attr(99, &[]), u32a(OVS_ACTION_ATTR_OUTPUT, 2)].concat();
    let items: Vec<_> = ActionList(&wire).iter().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], Ok(Action::Output(1)));
    assert!(items[1].is_err());
    assert!(ActionList(&[]).is_empty());
    assert_eq!(ActionList(&[]).iter().count(), 0);
    validate_actions(&[], &FlowKey::ZERO).unwrap();
}

#[test]
fn encode_reports_no_space() {
    let mut buf = [0u8; 6];
    let mut w = Writer::new(&mut buf);
    assert_eq!(encode_action(&mut w, &Action::Output(1)).unwrap_err(), CodecError::new("OVS_ACTION_ATTR_OUTPUT", ErrorKind::NoSpace));
}

fn arb_action() -> impl Strategy<Value = Action<'static>> {
    prop_oneof![
        (0u32..65535).prop_map(Action::Output),
        (1u32.., any::<bool>(), any::<Option<u32>>()).prop_map(|(pid, inc, egress)| Action::Userspace(Userspace {
            pid,
            userdata: if inc { Some(&b"cookie"[..]) } else { None },
            egress_tun_port: egress,
            include_actions: inc,
        })),
        (any::<bool>(), any::<u16>()).prop_map(|(ad, tci)| Action::PushVlan { tpid: if ad { 0x88a8 } else { 0x8100 }, tci: tci | VLAN_CFI }),
        Just(Action::PopVlan),
        any::<u32>().prop_map(|p| Action::Sample { probability: p, actions: ActionList(&[8, 0, 1, 0, 1, 0, 0, 0]) }),
        Just(Action::Clone(ActionList(&[]))),
        any::<u32>().prop_map(Action::Recirc),
        (0u32..2, any::<u32>()).prop_map(|(alg, basis)| Action::Hash { alg, basis }),
        any::<u32>().prop_map(Action::Meter),
        (14u32..).prop_map(Action::Trunc),
    ]
}

proptest! {
    #[test]
    fn prop_actions_round_trip(acts in proptest::collection::vec(arb_action(), 0..8)) {
        let wire = encode(&acts);
        validate_actions(&wire, &FlowKey::ZERO).unwrap();
        let back = collect(&wire);
        prop_assert_eq!(&back, &acts);
        prop_assert_eq!(encode(&back), wire);
    }

    #[test]
    fn prop_validate_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = validate_actions(&bytes, &tcp_flow());
        for _ in ActionList(&bytes).iter() {}
    }
}

#[test]
fn be16_helper_used_for_push_vlan() {
    // Guard the byte order of struct ovs_action_push_vlan: network order.
    let wire = be16a(OVS_ACTION_ATTR_PUSH_VLAN, 0).split_off(0);
    assert_eq!(wire.len(), 8);
    let a = [attr(OVS_ACTION_ATTR_PUSH_VLAN, &[0x88, 0xa8, 0x20, 0x05])].concat();
    assert_eq!(collect(&a), [Action::PushVlan { tpid: 0x88a8, tci: 0x2005 }]);
}

#[test]
fn check_pkt_len_dec_ttl_and_drop_codec() {
    let out = |p| u32a(OVS_ACTION_ATTR_OUTPUT, p);
    let cpl = nest(
        OVS_ACTION_ATTR_CHECK_PKT_LEN,
        &[
            attr(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &1500u16.to_ne_bytes()),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[out(2)]),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, &[out(3), out(4)]),
        ],
    );
    let dec = nest(OVS_ACTION_ATTR_DEC_TTL, &[nest(OVS_DEC_TTL_ATTR_ACTION, &[out(9)])]);
    let wire = [cpl, dec, u32a(OVS_ACTION_ATTR_DROP, 0)].concat();
    validate_actions(&wire, &tcp_flow()).unwrap();
    let acts = collect(&wire);
    let Action::CheckPktLen { pkt_len, greater, less_equal } = acts[0] else { panic!("{:?}", acts[0]) };
    assert_eq!(pkt_len, 1500);
    assert_eq!(collect(greater.0), [Action::Output(3), Action::Output(4)]);
    assert_eq!(collect(less_equal.0), [Action::Output(2)]);
    let Action::DecTtl(exc) = acts[1] else { panic!("{:?}", acts[1]) };
    assert_eq!(collect(exc.0), [Action::Output(9)]);
    assert_eq!(acts[2], Action::Drop(0));
    // Byte-exact re-encoding (upstream's dump order for check_pkt_len).
    assert_eq!(encode(&acts), wire);
    // An empty exception list and empty branches are fine.
    let empty = [
        nest(OVS_ACTION_ATTR_DEC_TTL, &[nest(OVS_DEC_TTL_ATTR_ACTION, &[])]),
        nest(
            OVS_ACTION_ATTR_CHECK_PKT_LEN,
            &[
                attr(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &64u16.to_ne_bytes()),
                nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, &[]),
                nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[]),
            ],
        ),
    ]
    .concat();
    validate_actions(&empty, &tcp_flow()).unwrap();
}

#[test]
fn check_pkt_len_dec_ttl_and_drop_errors() {
    let flow = tcp_flow();
    let out = |p| u32a(OVS_ACTION_ATTR_OUTPUT, p);
    let err = |wire: &[u8]| validate_actions(wire, &flow).unwrap_err();
    // drop must be the last action.
    let e = err(&[u32a(OVS_ACTION_ATTR_DROP, 0), out(1)].concat());
    assert_eq!(e.attr, "OVS_ACTION_ATTR_DROP");
    // ... also inside a nested list.
    let e = err(&nest(OVS_ACTION_ATTR_CLONE, &[u32a(OVS_ACTION_ATTR_DROP, 1), out(1)]));
    assert_eq!(e.attr, "OVS_ACTION_ATTR_DROP");
    assert_eq!(err(&attr(OVS_ACTION_ATTR_DROP, &[0, 0])).attr, "OVS_ACTION_ATTR_DROP");
    // check_pkt_len needs all three attributes.
    let no_len = nest(
        OVS_ACTION_ATTR_CHECK_PKT_LEN,
        &[nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, &[]), nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[])],
    );
    assert_eq!(err(&no_len).attr, "OVS_CHECK_PKT_LEN_ATTR_PKT_LEN");
    let no_gt = nest(
        OVS_ACTION_ATTR_CHECK_PKT_LEN,
        &[attr(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &[1, 0]), nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[])],
    );
    assert_eq!(err(&no_gt).attr, "OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER");
    let bad_len = nest(
        OVS_ACTION_ATTR_CHECK_PKT_LEN,
        &[
            u32a(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 1),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, &[]),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[]),
        ],
    );
    assert_eq!(err(&bad_len).attr, "OVS_CHECK_PKT_LEN_ATTR_PKT_LEN");
    // Nested lists are validated (a bad output port inside a branch).
    let bad_inner = nest(
        OVS_ACTION_ATTR_CHECK_PKT_LEN,
        &[
            attr(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &[1, 0]),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, &[out(u32::MAX)]),
            nest(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, &[]),
        ],
    );
    assert_eq!(err(&bad_inner).attr, "OVS_ACTION_ATTR_OUTPUT");
    // dec_ttl needs its action list.
    assert_eq!(err(&nest(OVS_ACTION_ATTR_DEC_TTL, &[])).attr, "OVS_DEC_TTL_ATTR_ACTION");
    let bad_dec = nest(OVS_ACTION_ATTR_DEC_TTL, &[nest(OVS_DEC_TTL_ATTR_ACTION, &[out(u32::MAX)])]);
    assert_eq!(err(&bad_dec).attr, "OVS_ACTION_ATTR_OUTPUT");
}

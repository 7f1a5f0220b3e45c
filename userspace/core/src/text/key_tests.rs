use super::*;
use crate::ovs::key_nl::{decode_match, put_key_attrs};
use crate::ovs::test_util::written;
use std::string::String;

fn show(k: &FlowKey, m: &FlowKey) -> String {
    let mut s = String::new();
    write_match(&mut s, k, m).unwrap();
    s
}

/// text → (key, mask) → netlink → (key, mask) → text.
fn via_netlink(text: &str) -> String {
    let (k, m) = parse_match(text).unwrap();
    let kw = written(|w| put_key_attrs(w, &k, &k, false).unwrap());
    let mw = written(|w| put_key_attrs(w, &k, &m, true).unwrap());
    let back = decode_match(&kw, Some(&mw)).unwrap();
    show(&back.key, &back.mask)
}

#[test]
fn ipv4_tcp_text_round_trip() {
    let t = "recirc_id(0),in_port(1),eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,proto=6,frag=no),tcp(dst=80)";
    let (k, m) = parse_match(t).unwrap();
    assert_eq!(k.in_port(), 1);
    assert_eq!(k.ipv4_src(), 0x0a00_0000);
    assert_eq!(m.ipv4_src(), 0xffff_ff00);
    assert_eq!((m.tp_dst(), m.tp_src()), (0xffff, 0));
    // recirc_id(0) with full mask prints, value 0 as "0".
    assert_eq!(show(&k, &m), t);
    assert_eq!(via_netlink(t), t);
}

#[test]
fn vlan_ipv6_arp_nd_tunnel_round_trips() {
    for t in [
        "in_port(2),eth(src=00:00:00:00:00:01),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(dst=1.2.3.4,proto=17),udp(src=53))",
        "in_port(2),eth_type(0x88a8),vlan(vid=100,pcp=0),encap(eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x0806),arp(sip=10.0.0.1,op=1,sha=00:01:02:03:04:05)))",
        "eth(dst=33:33:00:00:00:00/ff:ff:00:00:00:00),eth_type(0x86dd),ipv6(src=fe80::1,label=0x12345,proto=58,hlimit=255,frag=no),key32(00 00/00 00),icmpv6(type=135,code=0),nd(target=fe80::2,sll=00:01:02:03:04:05)",
        "skb_priority(0x7),skb_mark(0x10/0xff),tunnel(tun_id=0x5,dst=192.168.0.1,ttl=64,flags=0x3),in_port(4),eth_type(0x0800),ipv4(proto=1,ttl=3),icmp(type=8,code=0)",
        "dp_hash(0xf/0xff),eth_type(0x86dd),ipv6(dst=2001:db8::/ffff:ffff::,proto=6,frag=first),key32(00 00/00 00),tcp(src=1),tcp_flags(0x2/0x12)",
    ] {
        let (k, m) = parse_match(t).unwrap();
        assert_eq!(show(&k, &m), t, "print of parse");
        assert_eq!(via_netlink(t), t, "through netlink");
    }
}

/// `OVS_KEY_ATTR_IPV6_EXTHDRS` as `ovs-dpctl` 3.1 prints it: the raw host-order payload bytes
/// and mask, after `ipv6(...)`, present in every IPv6 match.
#[test]
fn ipv6_exthdrs_print_as_ovs_dpctl_and_round_trip() {
    use crate::key::ipv6_exthdrs::{DEST, FRAG, HOP};
    let [v0, v1] = (HOP | DEST).to_ne_bytes();
    let t = std::format!("in_port(1),eth_type(0x86dd),ipv6(proto=17,frag=no),key32({v0:02x} {v1:02x}/ff ff),udp(dst=53)");
    let (k, m) = parse_match(&t).unwrap();
    assert_eq!((k.ipv6_exthdrs(), m.ipv6_exthdrs()), (HOP | DEST, 0xffff));
    assert_eq!(show(&k, &m), t);
    assert_eq!(via_netlink(&t), t);
    // Without a mask: exact. Partially masked: value masked.
    let [f0, f1] = FRAG.to_ne_bytes();
    let (k, m) = parse_match(&std::format!("eth_type(0x86dd),key32({v0:02x} {v1:02x})")).unwrap();
    assert_eq!((k.ipv6_exthdrs(), m.ipv6_exthdrs()), (HOP | DEST, 0xffff));
    let (k, m) = parse_match(&std::format!("eth_type(0x86dd),key32(ff ff/{f0:02x} {f1:02x})")).unwrap();
    assert_eq!((k.ipv6_exthdrs(), m.ipv6_exthdrs()), (FRAG, FRAG));
    // What ovs-dpctl 3.1 printed for a flow it installed without the attribute.
    let dpctl = "in_port(1),eth(),eth_type(0x86dd),ipv6(src=fd00::1,proto=58,frag=no),key32(00 00/00 00)";
    let (k, m) = parse_match(dpctl).unwrap();
    assert_eq!(m.ipv6_exthdrs(), 0);
    assert_eq!(show(&k, &m), dpctl.replace("eth(),", ""));
    // Not printed for other ethertypes.
    assert!(!show(&parse_match("eth_type(0x0800),ipv4(proto=6)").unwrap().0, &FlowKey::EXACT).contains("key32"));
    for bad in ["key32(1 00)", "key32(00)", "key32(00 zz)"] {
        assert!(parse_match(bad).is_err(), "{bad}");
    }
}

#[test]
fn tunnel_flag_names_parse() {
    let (k, m) = parse_match("tunnel(dst=1.1.1.1,ttl=1,flags(df|key))").unwrap();
    assert_eq!(k.tun_flags(), tun_flags::DONT_FRAGMENT | tun_flags::KEY);
    assert_eq!(m.tun_flags(), 0xf);
}

#[test]
fn wildcards_are_omitted() {
    let k = FlowKey::ZERO;
    let m = FlowKey::ZERO;
    assert_eq!(show(&k, &m), "eth_type(0x0000)/0x0000".get(..0).unwrap());
}

#[test]
fn parse_errors_carry_offsets() {
    let cases = [
        ("in_port(1),bogus(2)", 11, "unknown key field"),
        ("in_port(x)", 8, "bad number"),
        ("ipv4(src=1.2.3)", 9, "bad IPv4 address"),
        ("ipv4(foo=1)", 5, "unknown field"),
        ("eth(src=00:01)", 8, "bad MAC address"),
        ("in_port(1", 9, "expected )"),
        ("in_port(1) x", 11, "unexpected text"),
        ("ipv4(ttl=256)", 9, "number out of range"),
        ("vlan(vid=4096)", 9, "number out of range"),
        ("tunnel(flags(zz))", 13, "unknown tunnel flag"),
    ];
    for (t, off, msg) in cases {
        assert_eq!(parse_match(t).unwrap_err(), ParseError { offset: off, msg }, "{t}");
    }
}

#[test]
fn text_to_attrs_encodes_key_and_mask() {
    let mut buf = [0u8; 512];
    let mut w = crate::nla::Writer::new(&mut buf);
    text_to_attrs("in_port(1),eth(),eth_type(0x0800),ipv4(proto=17),udp(dst=53)", &mut w).unwrap();
    let n = w.len();
    let f = crate::ovs::flow_nl::FlowAttrs::parse(&buf[..n]).unwrap();
    let m = decode_match(f.key.unwrap(), f.mask).unwrap();
    assert_eq!((m.key.tp_dst(), m.mask.tp_dst(), m.mask.tp_src()), (53, 0xffff, 0));
    let mut small = [0u8; 16];
    let mut w = crate::nla::Writer::new(&mut small);
    assert!(matches!(text_to_attrs("in_port(1)", &mut w), Err(TextError::Codec(_))));
}

/// Found by `make fuzz-smoke`: a partially masked ethertype printed its mask outside the parentheses
/// (`eth_type(0x0000)/0x0002`), which did not parse back.
#[test]
fn partially_masked_eth_type_prints_inside_parentheses_and_parses_back() {
    let (k, m) = parse_match("in_port(4),eth_type(0x80/2)").unwrap();
    let printed = show(&k, &m);
    assert_eq!(printed, "in_port(4),eth_type(0x0000/0x0002)");
    let (k2, m2) = parse_match(&printed).unwrap();
    assert_eq!(show(&k2, &m2), printed);
}

/// Found by `make fuzz-smoke`: `eth_type(0x88a8)` with no vlan(...) parsed, then printed as
/// `eth_type(0x0000),vlan(),encap()`, which means something else. Such text is now refused.
#[test]
fn vlan_ethertype_without_a_tag_is_refused() {
    let e = parse_match("in_port(4),eth_type(0x88a8)").unwrap_err();
    assert!(e.msg.contains("vlan(...)"), "{e:?}");
    assert!(parse_match("in_port(4),eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800))").is_ok());
}

/// Found by `make fuzz-smoke` (issue 3 follow-up): `in_port(1),vlan()` parsed with a zero TPID and printed as
/// `eth_type(0x0000),vlan(),encap()`; `eth_type(0x8100),vlan(vid=1)` (no encap) printed an inner tag that was never
/// there. A tag now needs its exact TPID before it (and an outer tag, inside encap), the TPID moves into the tag,
/// and the text prints back to itself.
#[test]
fn vlan_text_is_stable() {
    for bad in ["in_port(1),vlan()", "eth_type(0x8100/0xff00),vlan(vid=1)", "encap(eth_type(0x8100),vlan(vid=1))", "eth_type(0x8100),vlan(vid=1),encap(eth_type(0x8100))"] {
        assert!(parse_match(bad).is_err(), "{bad}");
    }
    for t in [
        "in_port(1),eth_type(0x8100),vlan(vid=1),encap()",
        "eth_type(0x8100),vlan(vid=7/0xf,pcp=1),encap(eth_type(0x86dd))",
        "eth_type(0x88a8),vlan(vid=1),encap(eth_type(0x8100),vlan(pcp=2),encap(eth_type(0x8100)))",
    ] {
        let (k, m) = parse_match(t).unwrap();
        let once = show(&k, &m);
        let (k2, m2) = parse_match(&once).unwrap();
        assert_eq!((k2, m2), (k, m), "{t} -> {once}");
        assert_eq!(show(&k2, &m2), once);
    }
    let (k, _) = parse_match("eth_type(0x8100),vlan(vid=1),encap(eth_type(0x0800))").unwrap();
    assert_eq!((k.vlan_tpid(), k.eth_type()), (0x8100, 0x0800));
}

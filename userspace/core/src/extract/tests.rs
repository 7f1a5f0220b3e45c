//! Tests of flow key extraction on real frames, their truncations and mutations.

use super::*;
use crate::key::{field, ipv6_exthdrs, tun_flags};
use std::vec::Vec;

// Real frames (built with scapy, checked with tcpdump), shared with the fuzz seed corpus.
/// A named sample frame.
type Sample = (&'static [u8], &'static str);

macro_rules! sample {
    ($name:literal) => {
        (
            include_bytes!(concat!("../../../fuzz/corpus/extract/", $name)) as &[u8],
            $name,
        )
    };
}
const ARP_REQUEST: Sample = sample!("arp_request");
const IPV4_TCP_SYN: Sample = sample!("ipv4_tcp_syn");
const IPV4_UDP_DNS: Sample = sample!("ipv4_udp_dns");
const IPV4_ICMP_ECHO: Sample = sample!("ipv4_icmp_echo");
const IPV4_OPTIONS_TCP: Sample = sample!("ipv4_options_tcp");
const IPV4_SCTP_INIT: Sample = sample!("ipv4_sctp_init");
const IPV4_FRAG_FIRST: Sample = sample!("ipv4_frag_first");
const IPV4_FRAG_LATER: Sample = sample!("ipv4_frag_later");
const IPV6_TCP_SYNACK: Sample = sample!("ipv6_tcp_synack");
const IPV6_EXT_UDP: Sample = sample!("ipv6_ext_udp");
const IPV6_ND_NS: Sample = sample!("ipv6_nd_ns");
const IPV6_ND_NA: Sample = sample!("ipv6_nd_na");
const IPV6_FRAG_FIRST: Sample = sample!("ipv6_frag_first");
const IPV6_FRAG_LATER: Sample = sample!("ipv6_frag_later");
const VLAN_IPV4_UDP: Sample = sample!("vlan_ipv4_udp");
const QINQ_IPV4_TCP: Sample = sample!("qinq_ipv4_tcp");
const LLC_STP_BPDU: Sample = sample!("llc_stp_bpdu");
const SNAP_IPV4_UDP: Sample = sample!("snap_ipv4_udp");

const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const MD: Metadata = Metadata {
    in_port: 3,
    priority: 7,
    skb_mark: 0x55,
    recirc_id: 0,
    dp_hash: 0,
    tunnel: None,
    hw_vlan: None,
};

fn ip4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

fn ip6(prefix: [u8; 4], last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&prefix);
    a[15] = last;
    a
}
const DOC: [u8; 4] = [0x20, 0x01, 0x0d, 0xb8];
const LL: [u8; 4] = [0xfe, 0x80, 0, 0];

/// Key with metadata and Ethernet fields set, as every full sample starts.
fn base(src: [u8; 6], dst: [u8; 6], eth_type: u16) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(3);
    k.set_priority(7);
    k.set_skb_mark(0x55);
    k.set_eth_src(src);
    k.set_eth_dst(dst);
    k.set_eth_type(eth_type);
    k
}

fn l3v4(k: &mut FlowKey, src: u32, dst: u32, proto: u8, tos: u8, ttl: u8, frag: u8) {
    k.set_ipv4_src(src);
    k.set_ipv4_dst(dst);
    k.set_ip_proto(proto);
    k.set_ip_tos(tos);
    k.set_ip_ttl(ttl);
    k.set_ip_frag(frag);
}

fn l4(k: &mut FlowKey, src: u16, dst: u16, flags: u16) {
    k.set_tp_src(src);
    k.set_tp_dst(dst);
    k.set_tcp_flags(flags);
}

fn run(frame: &[u8]) -> (FlowKey, Offsets) {
    extract(frame, &MD)
}

fn offs(n: u16, t: Option<u16>) -> Offsets {
    Offsets {
        network: Some(n),
        transport: t,
    }
}

#[test]
fn arp_request() {
    let mut k = base(A, [0xff; 6], 0x0806);
    k.set_ip_proto(1);
    k.set_ipv4_src(ip4(10, 0, 0, 1));
    k.set_ipv4_dst(ip4(10, 0, 0, 2));
    k.set_arp_sha(A);
    assert_eq!(run(ARP_REQUEST.0), (k, offs(14, None)));
}

#[test]
fn arp_opcode_above_255_is_zero_and_rarp_is_parsed() {
    let mut f = ARP_REQUEST.0.to_vec();
    f[20] = 0x01; // opcode 0x0101
    let (k, _) = run(&f);
    assert_eq!(k.ip_proto(), 0);
    assert_eq!(k.ipv4_src(), ip4(10, 0, 0, 1));
    assert_eq!(k.arp_sha(), A);
    let mut f = ARP_REQUEST.0.to_vec();
    f[12..14].copy_from_slice(&[0x80, 0x35]);
    f[21] = 3;
    let (k, _) = run(&f);
    assert_eq!((k.eth_type(), k.ip_proto(), k.ipv4_dst()), (0x8035, 3, ip4(10, 0, 0, 2)));
}

#[test]
fn arp_for_other_hardware_or_protocol_is_zero() {
    for (i, v) in [(15, 6u8), (16, 0x86), (18, 8), (19, 16)] {
        let mut f = ARP_REQUEST.0.to_vec();
        f[i] = v;
        assert_eq!(run(&f).0, base(A, [0xff; 6], 0x0806), "byte {i}");
    }
}

#[test]
fn ipv4_tcp_syn() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 6, 0x2e, 64, frag::NONE);
    l4(&mut k, 40000, 80, tcp::flags::SYN);
    assert_eq!(run(IPV4_TCP_SYN.0), (k, offs(14, Some(34))));
}

#[test]
fn ipv4_udp_dns() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 53), 17, 0, 63, frag::NONE);
    l4(&mut k, 53000, 53, 0);
    assert_eq!(run(IPV4_UDP_DNS.0), (k, offs(14, Some(34))));
}

#[test]
fn ipv4_icmp_echo() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 1, 0, 64, frag::NONE);
    l4(&mut k, 8, 0, 0);
    assert_eq!(run(IPV4_ICMP_ECHO.0), (k, offs(14, Some(34))));
}

#[test]
fn ipv4_options_are_skipped() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 6, 0, 64, frag::NONE);
    l4(&mut k, 1234, 22, tcp::flags::PSH | tcp::flags::ACK);
    assert_eq!(run(IPV4_OPTIONS_TCP.0), (k, offs(14, Some(42))));
}

#[test]
fn ipv4_sctp() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 132, 0, 64, frag::NONE);
    l4(&mut k, 2905, 2906, 0);
    assert_eq!(run(IPV4_SCTP_INIT.0), (k, offs(14, Some(34))));
}

#[test]
fn ipv4_fragments() {
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 17, 0, 64, frag::FIRST);
    l4(&mut k, 5353, 5353, 0);
    assert_eq!(run(IPV4_FRAG_FIRST.0), (k, offs(14, Some(34))));
    // Later fragment: no L4 even though the payload looks like ports.
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), 17, 0, 64, frag::LATER);
    assert_eq!(run(IPV4_FRAG_LATER.0), (k, offs(14, Some(34))));
    // Last fragment (MF clear, offset set) is LATER too; DF alone is not a fragment.
    let mut f = IPV4_FRAG_LATER.0.to_vec();
    f[20] &= !0x20;
    assert_eq!(run(&f).0.ip_frag(), frag::LATER);
    let (k, _) = run(IPV4_TCP_SYN.0);
    assert_eq!(k.ip_frag(), frag::NONE);
}

#[test]
fn ipv4_bad_header_length_zeroes_l3() {
    for ihl in [0u8, 4, 15] {
        let mut f = IPV4_TCP_SYN.0.to_vec();
        f[14] = 0x40 | ihl;
        // ihl 15 (60 bytes) runs past the 58-byte frame.
        assert_eq!(run(&f), (base(A, B, 0x0800), offs(14, None)), "ihl {ihl}");
    }
}

#[test]
fn tcp_bad_data_offset_zeroes_l4_only() {
    for doff in [0u8, 4, 7] {
        let mut f = IPV4_TCP_SYN.0.to_vec();
        f[46] = doff << 4; // frame has 24 bytes of TCP
        let (k, o) = run(&f);
        assert_eq!((k.tp_src(), k.tp_dst(), k.tcp_flags()), (0, 0, 0), "doff {doff}");
        assert_eq!((k.ip_proto(), k.ipv4_src(), k.ip_ttl()), (6, ip4(10, 0, 0, 1), 64));
        assert_eq!(o, offs(14, Some(34)));
    }
}

#[test]
fn tcp_flags_keep_twelve_bits() {
    let mut f = IPV4_TCP_SYN.0.to_vec();
    f[46] = 0x6f;
    f[47] = 0xff;
    assert_eq!(run(&f).0.tcp_flags(), 0x0fff);
}

#[test]
fn unknown_ip_protocol_has_no_ports() {
    let mut f = IPV4_UDP_DNS.0.to_vec();
    f[23] = 47; // GRE
    let (k, o) = run(&f);
    assert_eq!((k.ip_proto(), k.tp_src(), k.tp_dst()), (47, 0, 0));
    assert_eq!(o.transport, Some(34));
}

#[test]
fn ipv6_tcp() {
    let mut k = base(A, B, 0x86dd);
    k.set_ipv6_src(ip6(DOC, 1));
    k.set_ipv6_dst(ip6(DOC, 2));
    k.set_ipv6_label(0x1_2345);
    k.set_ip_proto(6);
    k.set_ip_tos(0xb8);
    k.set_ip_ttl(64);
    l4(&mut k, 443, 50000, tcp::flags::SYN | tcp::flags::ACK);
    assert_eq!(run(IPV6_TCP_SYNACK.0), (k, offs(14, Some(54))));
}

fn v6_base(src: [u8; 16], dst: [u8; 16], proto: u8, ttl: u8, frag: u8) -> FlowKey {
    let mut k = base(A, B, 0x86dd);
    k.set_ipv6_src(src);
    k.set_ipv6_dst(dst);
    k.set_ip_proto(proto);
    k.set_ip_ttl(ttl);
    k.set_ip_frag(frag);
    k
}

#[test]
fn ipv6_extension_headers() {
    let mut k = v6_base(ip6(DOC, 1), ip6(DOC, 2), 17, 64, frag::NONE);
    // Hop-by-Hop then Destination Options: the recommended order.
    k.set_ipv6_exthdrs(ipv6_exthdrs::HOP | ipv6_exthdrs::DEST);
    l4(&mut k, 1000, 2000, 0);
    assert_eq!(run(IPV6_EXT_UDP.0), (k, offs(14, Some(70))));
}

#[test]
fn ipv6_fragments() {
    let mut k = v6_base(ip6(DOC, 1), ip6(DOC, 2), 17, 64, frag::FIRST);
    k.set_ipv6_exthdrs(ipv6_exthdrs::FRAG);
    l4(&mut k, 5353, 5353, 0);
    assert_eq!(run(IPV6_FRAG_FIRST.0), (k, offs(14, Some(62))));
    let mut k = v6_base(ip6(DOC, 1), ip6(DOC, 2), 44, 64, frag::LATER);
    k.set_ipv6_exthdrs(ipv6_exthdrs::FRAG);
    assert_eq!(run(IPV6_FRAG_LATER.0), (k, offs(14, None)));
}

#[test]
fn ipv6_later_fragment_before_extension_header_is_first_and_59() {
    // Upstream quirk: ipv6_find_hdr returns -ENOENT without reporting the offset.
    let mut f = IPV6_FRAG_LATER.0.to_vec();
    f[54] = ip_proto::DSTOPTS;
    let mut k = v6_base(ip6(DOC, 1), ip6(DOC, 2), 59, 64, frag::FIRST);
    // The summary walk does not care about fragment offsets: Destination Options after a
    // Fragment header is out of the recommended order.
    k.set_ipv6_exthdrs(ipv6_exthdrs::FRAG | ipv6_exthdrs::DEST | ipv6_exthdrs::UNSEQ);
    assert_eq!(run(&f), (k, offs(14, None)));
}

#[test]
fn ipv6_esp_and_no_next_header() {
    let mut f = IPV6_TCP_SYNACK.0.to_vec();
    f[20] = ip_proto::ESP;
    let (k, o) = run(&f);
    assert_eq!((k.ip_proto(), k.tp_src(), o.transport), (50, 0, Some(54)));
    f[20] = ip_proto::NONE;
    let (k, o) = run(&f);
    assert_eq!((k.ip_proto(), k.tp_src(), o.transport), (59, 0, Some(54)));
    // ICMP (for IPv4) inside IPv6 is not looked into.
    f[20] = ip_proto::ICMP;
    assert_eq!(run(&f).0.tp_src(), 0);
}

#[test]
fn ipv6_truncated_extension_header_keeps_l3_with_proto_59() {
    let mut f = IPV6_EXT_UDP.0.to_vec();
    f[63] = 9; // Destination Options claims 80 bytes
    let mut k = v6_base(ip6(DOC, 1), ip6(DOC, 2), 59, 64, frag::NONE);
    k.set_ipv6_label(0);
    // The summary walk only needs each header's first two bytes.
    k.set_ipv6_exthdrs(ipv6_exthdrs::HOP | ipv6_exthdrs::DEST);
    assert_eq!(run(&f), (k, offs(14, None)));
}

#[test]
fn nd_solicitation_and_advertisement() {
    let ns_dst = [0x33, 0x33, 0xff, 0, 0, 2];
    let mut k = base(A, ns_dst, 0x86dd);
    k.set_ipv6_src(ip6(LL, 1));
    let mut snm = ip6([0xff, 0x02, 0, 0], 2);
    snm[11] = 1;
    snm[12] = 0xff;
    k.set_ipv6_dst(snm);
    k.set_ip_proto(58);
    k.set_ip_ttl(255);
    l4(&mut k, 135, 0, 0);
    k.set_nd_target(ip6(LL, 2));
    k.set_arp_sha(A);
    assert_eq!(run(IPV6_ND_NS.0), (k, offs(14, Some(54))));

    let mut k = base(B, A, 0x86dd);
    k.set_ipv6_src(ip6(LL, 2));
    k.set_ipv6_dst(ip6(LL, 1));
    k.set_ip_proto(58);
    k.set_ip_ttl(255);
    l4(&mut k, 136, 0, 0);
    k.set_nd_target(ip6(LL, 2));
    k.set_arp_tha(B);
    assert_eq!(run(IPV6_ND_NA.0), (k, offs(14, Some(54))));
}

#[test]
fn nd_malformed_options_zero_nd_fields_only() {
    // Duplicate SLL option: replace the 8 trailing bytes... append a second SLL.
    let mut f = IPV6_ND_NS.0.to_vec();
    f.extend([1, 1, 9, 9, 9, 9, 9, 9]);
    let (k, _) = run(&f);
    assert_eq!((k.nd_target(), k.arp_sha(), k.arp_tha()), ([0; 16], [0; 6], [0; 6]));
    assert_eq!((k.tp_src(), k.ip_proto(), k.ipv6_src()), (135, 58, ip6(LL, 1)));
    // Non-zero code: type/code only.
    let mut f = IPV6_ND_NS.0.to_vec();
    f[55] = 1;
    let (k, _) = run(&f);
    assert_eq!((k.tp_src(), k.tp_dst(), k.nd_target(), k.arp_sha()), (135, 1, [0; 16], [0; 6]));
    // Other ICMPv6 types do not look at ND fields.
    let mut f = IPV6_ND_NS.0.to_vec();
    f[54] = 128;
    let (k, _) = run(&f);
    assert_eq!((k.tp_src(), k.nd_target()), (128, [0; 16]));
}

#[test]
fn vlan_8021q() {
    let mut k = base(A, B, 0x0800);
    k.set_vlan_tpid(0x8100);
    k.set_vlan_tci(0xa064 | VLAN_CFI);
    l3v4(&mut k, ip4(10, 1, 0, 1), ip4(10, 1, 0, 2), 17, 0, 64, frag::NONE);
    l4(&mut k, 5000, 6000, 0);
    assert_eq!(run(VLAN_IPV4_UDP.0), (k, offs(18, Some(38))));
}

#[test]
fn qinq() {
    let mut k = base(A, B, 0x0800);
    k.set_vlan_tpid(0x88a8);
    k.set_vlan_tci(0x600a | VLAN_CFI);
    k.set_cvlan_tpid(0x8100);
    k.set_cvlan_tci(200 | VLAN_CFI);
    l3v4(&mut k, ip4(10, 2, 0, 1), ip4(10, 2, 0, 2), 6, 0, 64, frag::NONE);
    l4(&mut k, 3000, 4000, tcp::flags::ACK);
    assert_eq!(run(QINQ_IPV4_TCP.0), (k, offs(22, Some(42))));
}

/// `frame` with a tag `[tpid, tci]` inserted after the MACs.
fn push_tag(frame: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend(tpid.to_be_bytes());
    f.extend(tci.to_be_bytes());
    f.extend(&frame[12..]);
    f
}

#[test]
fn third_tag_is_not_parsed() {
    let f = push_tag(QINQ_IPV4_TCP.0, 0x8100, 7);
    let (k, o) = run(&f);
    assert_eq!((k.vlan_tpid(), k.vlan_tci()), (0x8100, 7 | VLAN_CFI));
    assert_eq!((k.cvlan_tpid(), k.cvlan_tci()), (0x88a8, 0x600a | VLAN_CFI));
    assert_eq!(k.eth_type(), 0x8100);
    assert_eq!((k.ip_proto(), k.ipv4_src()), (0, 0));
    assert_eq!(o, offs(22, None));
}

#[test]
fn tag_with_cfi_and_vid_zero() {
    let f = push_tag(IPV4_TCP_SYN.0, 0x8100, 0x1000 | 0xe000);
    let (k, _) = run(&f);
    assert_eq!(k.vlan_tci(), 0xf000);
    let f = push_tag(IPV4_TCP_SYN.0, 0x8100, 0);
    let (k, _) = run(&f);
    assert_eq!((k.vlan_tci(), k.cvlan_tci(), k.tp_dst()), (VLAN_CFI, 0, 80));
}

#[test]
fn tag_without_following_type_is_the_ethertype() {
    let f = &VLAN_IPV4_UDP.0[..17];
    let (k, o) = run(f);
    assert_eq!((k.eth_type(), k.vlan_tci(), k.vlan_tpid()), (0x8100, 0, 0));
    assert_eq!(o, offs(14, None));
    // Outer tag complete, inner tag lacks its type field.
    let (k, o) = run(&QINQ_IPV4_TCP.0[..21]);
    assert_eq!((k.vlan_tpid(), k.cvlan_tci(), k.eth_type()), (0x88a8, 0, 0x8100));
    assert_eq!(o, offs(18, None));
}

#[test]
fn hw_vlan_is_the_outer_tag() {
    let md = Metadata {
        hw_vlan: Some((0x88a8, 0x2005)),
        ..MD
    };
    // Untagged frame: only the offloaded tag.
    let (k, o) = extract(IPV4_TCP_SYN.0, &md);
    assert_eq!((k.vlan_tpid(), k.vlan_tci()), (0x88a8, 0x3005));
    assert_eq!((k.cvlan_tpid(), k.cvlan_tci()), (0, 0));
    assert_eq!((k.eth_type(), k.tp_dst()), (0x0800, 80));
    assert_eq!(o, offs(14, Some(34)));
    // One in-frame tag becomes the inner tag.
    let (k, o) = extract(VLAN_IPV4_UDP.0, &md);
    assert_eq!((k.vlan_tpid(), k.vlan_tci()), (0x88a8, 0x3005));
    assert_eq!((k.cvlan_tpid(), k.cvlan_tci()), (0x8100, 0xb064));
    assert_eq!((k.eth_type(), k.tp_src()), (0x0800, 5000));
    assert_eq!(o, offs(18, Some(38)));
    // Two in-frame tags: the second is left as the ethertype.
    let (k, o) = extract(QINQ_IPV4_TCP.0, &md);
    assert_eq!((k.cvlan_tpid(), k.cvlan_tci()), (0x88a8, 0x700a));
    assert_eq!((k.eth_type(), k.ip_proto()), (0x8100, 0));
    assert_eq!(o, offs(18, None));
    // CFI is set even if the caller passes it.
    let md = Metadata {
        hw_vlan: Some((0x8100, 0x1001)),
        ..MD
    };
    assert_eq!(extract(IPV4_TCP_SYN.0, &md).0.vlan_tci(), 0x1001);
}

#[test]
fn llc_and_snap() {
    let k = base(A, [0x01, 0x80, 0xc2, 0, 0, 0], 0x0004);
    assert_eq!(run(LLC_STP_BPDU.0), (k, offs(14, None)));
    let mut k = base(A, B, 0x0800);
    l3v4(&mut k, ip4(10, 3, 0, 1), ip4(10, 3, 0, 2), 17, 0, 64, frag::NONE);
    l4(&mut k, 7, 7, 0);
    assert_eq!(run(SNAP_IPV4_UDP.0), (k, offs(22, Some(42))));
    // SNAP carrying a length, not an ethertype: 802.2, but the SNAP header is consumed.
    let mut f = SNAP_IPV4_UDP.0.to_vec();
    f[20..22].copy_from_slice(&[0x05, 0xdc]);
    assert_eq!(run(&f), (base(A, B, 0x0004), offs(22, None)));
}

#[test]
fn non_ip_ethertypes_stop_at_l2() {
    let mut f = IPV4_TCP_SYN.0.to_vec();
    f[12..14].copy_from_slice(&[0x88, 0x47]); // MPLS: no key fields yet
    assert_eq!(run(&f), (base(A, B, 0x8847), offs(14, None)));
}

#[test]
fn runt_frame_has_metadata_only() {
    let mut only_md = FlowKey::ZERO;
    only_md.set_in_port(3);
    only_md.set_priority(7);
    only_md.set_skb_mark(0x55);
    for n in 0..14 {
        assert_eq!(run(&IPV4_TCP_SYN.0[..n]), (only_md, Offsets::default()));
    }
}

#[test]
fn metadata_and_tunnel_go_into_the_key() {
    let tun = TunnelMeta {
        id: 0x0102_0304_0506_0708,
        ipv4_src: ip4(192, 0, 2, 1),
        ipv4_dst: ip4(192, 0, 2, 2),
        ipv6_src: ip6(DOC, 9),
        ipv6_dst: ip6(DOC, 10),
        flags: tun_flags::KEY | tun_flags::CSUM,
        tos: 0x10,
        ttl: 33,
        tp_src: 49152,
        tp_dst: 4789,
    };
    let md = Metadata {
        in_port: 9,
        priority: 0x1_0002,
        skb_mark: 0xdead_beef,
        recirc_id: 42,
        dp_hash: 0x1234_5678,
        tunnel: Some(tun),
        hw_vlan: None,
    };
    let (k, _) = extract(IPV4_TCP_SYN.0, &md);
    assert_eq!((k.in_port(), k.priority(), k.skb_mark()), (9, 0x1_0002, 0xdead_beef));
    assert_eq!((k.recirc_id(), k.dp_hash()), (42, 0x1234_5678));
    assert_eq!(k.tun_id(), 0x0102_0304_0506_0708);
    assert_eq!((k.tun_ipv4_src(), k.tun_ipv4_dst()), (ip4(192, 0, 2, 1), ip4(192, 0, 2, 2)));
    assert_eq!((k.tun_ipv6_src(), k.tun_ipv6_dst()), (ip6(DOC, 9), ip6(DOC, 10)));
    assert_eq!(k.tun_flags(), tun_flags::KEY | tun_flags::CSUM);
    assert_eq!((k.tun_tos(), k.tun_ttl(), k.tun_tp_src(), k.tun_tp_dst()), (0x10, 33, 49152, 4789));
    // Packet fields are unaffected by the metadata.
    let (plain, _) = run(IPV4_TCP_SYN.0);
    assert_eq!(k.tp_src(), plain.tp_src());
    assert_eq!(&k.as_bytes()[field::ETH_SRC.start..], &plain.as_bytes()[field::ETH_SRC.start..]);
    // No tunnel: tunnel words are zero.
    assert!(plain.as_bytes()[..field::PRIORITY.start]
        .iter()
        .all(|&b| b == 0));
}

/// Every key field above L2 (L3 and L4).
fn l3_fields_zero(k: &FlowKey) -> bool {
    k.as_bytes()[field::IP_PROTO..field::IPV6_EXTHDRS.end]
        .iter()
        .all(|&b| b == 0)
}

fn l4_fields_zero(k: &FlowKey) -> bool {
    k.tp_src() == 0 && k.tp_dst() == 0 && k.tcp_flags() == 0 && k.nd_target() == [0; 16]
}

/// (frame, minimum bytes of its L3 header, minimum bytes of its L4 header).
const TRUNCATION_CASES: [(Sample, usize, usize); 18] = [
    (ARP_REQUEST, 28, 0),
    (IPV4_TCP_SYN, 20, 24),
    (IPV4_UDP_DNS, 20, 8),
    (IPV4_ICMP_ECHO, 20, 8),
    (IPV4_OPTIONS_TCP, 28, 20),
    (IPV4_SCTP_INIT, 20, 12),
    (IPV4_FRAG_FIRST, 20, 8),
    (IPV4_FRAG_LATER, 20, 0),
    (IPV6_TCP_SYNACK, 40, 20),
    (IPV6_EXT_UDP, 40, 8),
    (IPV6_ND_NS, 40, 8),
    (IPV6_ND_NA, 40, 8),
    (IPV6_FRAG_FIRST, 40, 8),
    (IPV6_FRAG_LATER, 40, 0),
    (VLAN_IPV4_UDP, 20, 8),
    (QINQ_IPV4_TCP, 20, 20),
    (LLC_STP_BPDU, 0, 0),
    (SNAP_IPV4_UDP, 20, 8),
];

#[test]
fn truncation_at_every_length() {
    for ((frame, name), l3_min, l4_min) in TRUNCATION_CASES {
        let (full, full_off) = run(frame);
        let nh = usize::from(full_off.network.unwrap());
        let th = full_off.transport.map(usize::from);
        for cut in 0..=frame.len() {
            let f = &frame[..cut];
            let (k, o) = run(f);
            assert_eq!(run(f), (k, o), "{name}: not deterministic at {cut}");
            if cut < 14 {
                assert_eq!(o, Offsets::default(), "{name} at {cut}");
                assert!(k.as_bytes()[field::ETH_SRC.start..].iter().all(|&b| b == 0));
                continue;
            }
            assert_eq!((k.eth_src(), k.eth_dst()), (full.eth_src(), full.eth_dst()));
            if cut >= nh {
                // Everything up to the network header is decided.
                assert_eq!(o.network, full_off.network, "{name} at {cut}");
                assert_eq!(
                    &k.as_bytes()[field::ETH_TYPE.start..field::IP_PROTO],
                    &full.as_bytes()[field::ETH_TYPE.start..field::IP_PROTO],
                    "{name}: L2 at {cut}"
                );
            }
            if cut < nh + l3_min {
                assert!(l3_fields_zero(&k), "{name}: L3 not zero at {cut}: {k:?}");
                assert_eq!(o.transport, None, "{name} at {cut}");
            }
            match th {
                Some(th) if l4_min > 0 && cut < th + l4_min => {
                    assert!(l4_fields_zero(&k), "{name}: L4 not zero at {cut}: {k:?}");
                }
                Some(th) if cut >= th + l4_min && !name.starts_with("ipv6_nd") => {
                    assert_eq!((k, o), (full, full_off), "{name}: at {cut}");
                }
                _ => {}
            }
            if th.is_none() && cut >= nh + l3_min + 4 {
                // Non-IP, ARP and IPv6 later fragments (which need 4 bytes of their
                // fragment header) are complete once their L3 header is.
                assert_eq!((k, o), (full, full_off), "{name}: at {cut}");
            }
        }
    }
}

#[test]
fn nd_truncation() {
    let frame = IPV6_ND_NS.0;
    for cut in 54..frame.len() {
        let (k, _) = run(&frame[..cut]);
        assert_eq!(k.tp_src(), if cut >= 62 { 135 } else { 0 }, "cut {cut}");
        let target = if cut >= 78 { ip6(LL, 2) } else { [0; 16] };
        assert_eq!(k.nd_target(), target, "cut {cut}");
        // The SLL option needs all of its 8 bytes.
        assert_eq!(k.arp_sha(), [0; 6], "cut {cut}");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    const SAMPLES: [&[u8]; 18] = [
        ARP_REQUEST.0,
        IPV4_TCP_SYN.0,
        IPV4_UDP_DNS.0,
        IPV4_ICMP_ECHO.0,
        IPV4_OPTIONS_TCP.0,
        IPV4_SCTP_INIT.0,
        IPV4_FRAG_FIRST.0,
        IPV4_FRAG_LATER.0,
        IPV6_TCP_SYNACK.0,
        IPV6_EXT_UDP.0,
        IPV6_ND_NS.0,
        IPV6_ND_NA.0,
        IPV6_FRAG_FIRST.0,
        IPV6_FRAG_LATER.0,
        VLAN_IPV4_UDP.0,
        QINQ_IPV4_TCP.0,
        LLC_STP_BPDU.0,
        SNAP_IPV4_UDP.0,
    ];

    fn md_strategy() -> impl Strategy<Value = Metadata> {
        (
            any::<u32>(),
            proptest::option::of((any::<u16>(), any::<u16>())),
        )
            .prop_map(|(in_port, hw_vlan)| Metadata {
                in_port,
                hw_vlan,
                ..Metadata::default()
            })
    }

    fn check(frame: &[u8], md: &Metadata) {
        let (k, o) = extract(frame, md);
        assert_eq!(extract(frame, md), (k, o));
        assert_eq!(k.in_port(), md.in_port);
        for off in [o.network, o.transport].into_iter().flatten() {
            assert!(usize::from(off) <= frame.len());
        }
        if let (Some(n), Some(t)) = (o.network, o.transport) {
            assert!(n < t);
        }
    }

    proptest! {
        #[test]
        fn random_bytes(frame in proptest::collection::vec(any::<u8>(), 0..300), md in md_strategy()) {
            check(&frame, &md);
        }

        #[test]
        fn mutated_samples(
            which in 0..SAMPLES.len(),
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<proptest::sample::Index>(),
            md in md_strategy(),
        ) {
            let mut f = SAMPLES[which].to_vec();
            for (at, v) in edits {
                let i = at.index(f.len());
                f[i] = v;
            }
            let len = cut.index(f.len() + 1);
            check(&f[..len], &md);
        }
    }
}

//! Tests of the key/mask codec. Vectors are hand-built from the upstream structs
//! (`struct ovs_key_ipv4` etc.) in the order upstream `__ovs_nla_put_key` emits them.
//! TODO(captured vectors): add byte vectors captured from ovs-vswitchd against the test kernel
//! to `userspace/core/tests/vectors/` once it boots, and check them here.
use super::*;
use crate::key::frag;
use crate::ovs::test_util::{attr, be16a, nest, u32a, written};
use proptest::prelude::*;
use std::vec::Vec;

const SRC: [u8; 6] = [0, 1, 2, 3, 4, 5];
const DST: [u8; 6] = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15];

fn eth() -> Vec<u8> {
    attr(OVS_KEY_ATTR_ETHERNET, &[SRC, DST].concat())
}

fn meta(in_port: u32) -> Vec<u8> {
    [
        u32a(OVS_KEY_ATTR_RECIRC_ID, 0),
        u32a(OVS_KEY_ATTR_DP_HASH, 0),
        u32a(OVS_KEY_ATTR_PRIORITY, 0),
        u32a(OVS_KEY_ATTR_IN_PORT, in_port),
        u32a(OVS_KEY_ATTR_SKB_MARK, 0),
    ]
    .concat()
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, tos: u8, ttl: u8, frag: u8) -> Vec<u8> {
    attr(OVS_KEY_ATTR_IPV4, &[&src[..], &dst[..], &[proto, tos, ttl, frag]].concat())
}

/// in_port(1),eth(..),eth_type(0x0800),ipv4(10.0.0.1->10.0.0.2,tcp,ttl 64),tcp(1234->80),flags
fn tcp_key() -> Vec<u8> {
    [
        meta(1),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800),
        ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, 0, 64, 0),
        attr(OVS_KEY_ATTR_TCP, &[0x04, 0xd2, 0, 80]),
        be16a(OVS_KEY_ATTR_TCP_FLAGS, 0x0002),
    ]
    .concat()
}

fn emit_key(k: &FlowKey) -> Vec<u8> {
    written(|w| put_key_attrs(w, k, k, false).unwrap())
}

fn emit_mask(k: &FlowKey, m: &FlowKey) -> Vec<u8> {
    written(|w| put_key_attrs(w, k, m, true).unwrap())
}

#[test]
fn ipv4_tcp_key_decodes_and_reemits_byte_exact() {
    let wire = tcp_key();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.in_port(), 1);
    assert_eq!(k.eth_src(), SRC);
    assert_eq!(k.eth_dst(), DST);
    assert_eq!(k.eth_type(), 0x0800);
    assert_eq!(k.ipv4_src(), 0x0a00_0001);
    assert_eq!(k.ipv4_dst(), 0x0a00_0002);
    assert_eq!((k.ip_proto(), k.ip_ttl(), k.ip_frag()), (6, 64, frag::NONE));
    assert_eq!((k.tp_src(), k.tp_dst()), (1234, 80));
    assert_eq!(k.tcp_flags(), 2);
    assert_eq!(k.vlan_tci(), 0);
    assert_eq!(emit_key(&k), wire);
}

#[test]
fn host_order_metadata() {
    let wire = [
        u32a(OVS_KEY_ATTR_RECIRC_ID, 0x11223344),
        u32a(OVS_KEY_ATTR_DP_HASH, 7),
        u32a(OVS_KEY_ATTR_PRIORITY, 0x10002),
        u32a(OVS_KEY_ATTR_IN_PORT, 300),
        u32a(OVS_KEY_ATTR_SKB_MARK, 0xdead),
        eth(),
    ]
    .concat();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.recirc_id(), 0x11223344);
    assert_eq!(&k.as_bytes()[field::RECIRC_ID], &[0x11, 0x22, 0x33, 0x44]);
    assert_eq!(k.dp_hash(), 7);
    assert_eq!(k.priority(), 0x10002);
    assert_eq!(k.in_port(), 300);
    assert_eq!(k.skb_mark(), 0xdead);
    // No ETHERTYPE: 802.2 frame.
    assert_eq!(k.eth_type(), ETH_TYPE_802_2);
    assert_eq!(emit_key(&k), wire);
}

#[test]
fn missing_in_port_is_dp_max_ports_and_not_emitted() {
    let wire = [
        u32a(OVS_KEY_ATTR_RECIRC_ID, 0),
        u32a(OVS_KEY_ATTR_DP_HASH, 0),
        u32a(OVS_KEY_ATTR_PRIORITY, 0),
        u32a(OVS_KEY_ATTR_SKB_MARK, 0),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x1234),
    ]
    .concat();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.in_port(), DP_MAX_PORTS);
    assert_eq!(emit_key(&k), wire);
}

fn double_vlan_key() -> Vec<u8> {
    [
        meta(2),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021AD),
        be16a(OVS_KEY_ATTR_VLAN, 0x1000 | 100),
        nest(
            OVS_KEY_ATTR_ENCAP,
            &[
                be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q),
                be16a(OVS_KEY_ATTR_VLAN, 0x1000 | 0x2000 | 10),
                nest(
                    OVS_KEY_ATTR_ENCAP,
                    &[
                        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800),
                        ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, 0, 1, 0),
                        attr(OVS_KEY_ATTR_UDP, &[0, 53, 0, 54]),
                    ],
                ),
            ],
        ),
    ]
    .concat()
}

#[test]
fn double_vlan_round_trip() {
    let wire = double_vlan_key();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.vlan_tpid(), ETH_P_8021AD);
    assert_eq!(k.vlan_tci(), 0x1000 | 100);
    assert_eq!(k.cvlan_tpid(), ETH_P_8021Q);
    assert_eq!(k.cvlan_tci(), 0x3000 | 10);
    assert_eq!(k.eth_type(), 0x0800);
    assert_eq!((k.tp_src(), k.tp_dst()), (53, 54));
    assert_eq!(emit_key(&k), wire);
    // Exact mask: TCI/TPID exact at both levels, and it re-emits with 0xffff ethertypes.
    let m = exact_mask(&wire).unwrap();
    assert_eq!((m.vlan_tci(), m.vlan_tpid(), m.cvlan_tci(), m.cvlan_tpid()), (0xffff, 0xffff, 0xffff, 0xffff));
    let mw = emit_mask(&k, &m);
    let back = decode_match(&wire, Some(&mw)).unwrap();
    assert_eq!(back.mask, m);
}

#[test]
fn single_vlan_and_truncated_vlan() {
    let wire = [
        meta(2),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q),
        be16a(OVS_KEY_ATTR_VLAN, 0x1000 | 5),
        nest(OVS_KEY_ATTR_ENCAP, &[be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0806), attr(OVS_KEY_ATTR_ARP, &[0; 24])]),
    ]
    .concat();
    let wire_arp = wire.clone();
    let k = decode_key(&wire_arp).unwrap();
    assert_eq!(k.vlan_tci(), 0x1005);
    assert_eq!(k.cvlan_tci(), 0);
    assert_eq!(k.eth_type(), ETH_P_ARP);
    assert_eq!(emit_key(&k), wire);
    let trunc = [
        meta(2),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q),
        be16a(OVS_KEY_ATTR_VLAN, 0),
        nest(OVS_KEY_ATTR_ENCAP, &[]),
    ]
    .concat();
    let k = decode_key(&trunc).unwrap();
    assert_eq!((k.vlan_tci(), k.vlan_tpid(), k.eth_type()), (0, ETH_P_8021Q, ETH_P_8021Q));
    assert_eq!(emit_key(&k), trunc);
}

#[test]
fn vlan_errors() {
    let no_cfi = [
        meta(2),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q),
        be16a(OVS_KEY_ATTR_VLAN, 5),
        nest(OVS_KEY_ATTR_ENCAP, &[]),
    ]
    .concat();
    assert_eq!(decode_key(&no_cfi).unwrap_err(), CodecError::new("OVS_KEY_ATTR_VLAN", ErrorKind::BadValue));
    let no_encap =
        [meta(2), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q), be16a(OVS_KEY_ATTR_VLAN, 0x1005)].concat();
    assert_eq!(decode_key(&no_encap).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ENCAP", ErrorKind::Missing));
    let no_vlan = [meta(2), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q), nest(OVS_KEY_ATTR_ENCAP, &[])].concat();
    assert_eq!(decode_key(&no_vlan).unwrap_err(), CodecError::new("OVS_KEY_ATTR_VLAN", ErrorKind::Missing));
    let trunc_nonempty = [
        meta(2),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_8021Q),
        be16a(OVS_KEY_ATTR_VLAN, 0),
        nest(OVS_KEY_ATTR_ENCAP, &[be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800)]),
    ]
    .concat();
    assert_eq!(decode_key(&trunc_nonempty).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ENCAP", ErrorKind::BadValue));
    let stray_vlan = [meta(2), eth(), be16a(OVS_KEY_ATTR_VLAN, 0x1005)].concat();
    assert_eq!(decode_key(&stray_vlan).unwrap_err(), CodecError::new("OVS_KEY_ATTR_VLAN", ErrorKind::NotAllowed));
    // Encap in a mask for an untagged key.
    let key = tcp_key();
    let mask = [eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff), be16a(OVS_KEY_ATTR_VLAN, 0xffff), nest(OVS_KEY_ATTR_ENCAP, &[be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff)])].concat();
    assert_eq!(decode_match(&key, Some(&mask)).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ENCAP", ErrorKind::NotAllowed));
    // Mask VLAN level must match TPID and CFI exactly.
    let vk = double_vlan_key();
    let bad_tpid = [be16a(OVS_KEY_ATTR_ETHERTYPE, 0xff00), be16a(OVS_KEY_ATTR_VLAN, 0xffff), nest(OVS_KEY_ATTR_ENCAP, &[u32a(OVS_KEY_ATTR_SKB_MARK, 1)])].concat();
    assert_eq!(decode_match(&vk, Some(&bad_tpid)).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ETHERTYPE", ErrorKind::BadValue));
    let bad_cfi = [be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff), be16a(OVS_KEY_ATTR_VLAN, 0x0fff), nest(OVS_KEY_ATTR_ENCAP, &[u32a(OVS_KEY_ATTR_SKB_MARK, 1)])].concat();
    assert_eq!(decode_match(&vk, Some(&bad_cfi)).unwrap_err(), CodecError::new("OVS_KEY_ATTR_VLAN", ErrorKind::BadValue));
}

#[test]
fn ipv6_icmpv6_nd_round_trip() {
    let mut v6 = Vec::new();
    v6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v6.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2]);
    v6.extend_from_slice(&0x12345u32.to_be_bytes());
    v6.extend_from_slice(&[58, 0, 255, 0]);
    let mut nd = [7u8; 28];
    nd[16..22].copy_from_slice(&SRC);
    nd[22..28].copy_from_slice(&[0; 6]);
    let wire = [
        meta(3),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_IPV6),
        attr(OVS_KEY_ATTR_IPV6, &v6),
        attr(OVS_KEY_ATTR_IPV6_EXTHDRS, &0x0148u16.to_ne_bytes()),
        attr(OVS_KEY_ATTR_ICMPV6, &[135, 0]),
        attr(OVS_KEY_ATTR_ND, &nd),
    ]
    .concat();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.ipv6_label(), 0x12345);
    assert_eq!((k.ip_proto(), k.ip_ttl()), (58, 255));
    assert_eq!((k.tp_src(), k.tp_dst()), (135, 0));
    assert_eq!(k.nd_target(), [7; 16]);
    assert_eq!(k.arp_sha(), SRC);
    // Host order on the wire, big-endian in the key.
    assert_eq!(k.ipv6_exthdrs(), 0x0148);
    assert_eq!(&k.as_bytes()[crate::key::field::IPV6_EXTHDRS], &[0x01, 0x48]);
    assert_eq!(emit_key(&k), wire);
    // Older userspace omits the attribute: extension headers 0, and the kernel (and rvs) then
    // emit it with 0, right after OVS_KEY_ATTR_IPV6.
    let without = [
        meta(3),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_IPV6),
        attr(OVS_KEY_ATTR_IPV6, &v6),
        attr(OVS_KEY_ATTR_ICMPV6, &[135, 0]),
        attr(OVS_KEY_ATTR_ND, &nd),
    ]
    .concat();
    let mut k0 = k;
    k0.set_ipv6_exthdrs(0);
    assert_eq!(decode_key(&without).unwrap(), k0);
    let reemitted = [
        meta(3),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_IPV6),
        attr(OVS_KEY_ATTR_IPV6, &v6),
        attr(OVS_KEY_ATTR_IPV6_EXTHDRS, &[0, 0]),
        attr(OVS_KEY_ATTR_ICMPV6, &[135, 0]),
        attr(OVS_KEY_ATTR_ND, &nd),
    ]
    .concat();
    assert_eq!(emit_key(&k0), reemitted);
    // Its mask: exact by default, wildcardable, and never a `set` target.
    let m = exact_mask(&wire).unwrap();
    assert_eq!(m.ipv6_exthdrs(), 0xffff);
    let mut partial = m;
    partial.set_ipv6_exthdrs(0x0010);
    assert_eq!(decode_match(&wire, Some(&emit_mask(&k, &partial))).unwrap().mask, partial);
    let set = attr(OVS_KEY_ATTR_IPV6_EXTHDRS, &[0, 0]);
    assert_eq!(decode_set(&set, false).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV6_EXTHDRS", ErrorKind::NotAllowed));
    // ND is required for a neighbour solicitation.
    let no_nd = [
        meta(3),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_IPV6),
        attr(OVS_KEY_ATTR_IPV6, &v6),
        attr(OVS_KEY_ATTR_ICMPV6, &[135, 0]),
    ]
    .concat();
    assert_eq!(decode_key(&no_nd).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ND", ErrorKind::Missing));
    // Flow label beyond 20 bits.
    let mut bad = v6.clone();
    bad[32] = 0x10;
    let bad_label = [meta(3), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_IPV6), attr(OVS_KEY_ATTR_IPV6, &bad)].concat();
    assert_eq!(decode_key(&bad_label).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV6", ErrorKind::BadValue));
}

#[test]
fn arp_and_icmp_and_sctp() {
    let mut arp = Vec::new();
    arp.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 2]);
    arp.extend_from_slice(&SRC);
    arp.extend_from_slice(&DST);
    arp.extend_from_slice(&[0, 0]);
    let wire = [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_ARP), attr(OVS_KEY_ATTR_ARP, &arp)].concat();
    let k = decode_key(&wire).unwrap();
    assert_eq!((k.ipv4_src(), k.ipv4_dst(), k.ip_proto()), (0x0a00_0001, 0x0a00_0002, 2));
    assert_eq!((k.arp_sha(), k.arp_tha()), (SRC, DST));
    assert_eq!(emit_key(&k), wire);
    let mut bad = arp.clone();
    bad[8] = 1;
    let bad_op = [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, ETH_P_ARP), attr(OVS_KEY_ATTR_ARP, &bad)].concat();
    assert_eq!(decode_key(&bad_op).unwrap_err(), CodecError::new("OVS_KEY_ATTR_ARP", ErrorKind::BadValue));

    let icmp = [
        meta(1),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800),
        ipv4([1, 2, 3, 4], [5, 6, 7, 8], 1, 0, 9, 0),
        attr(OVS_KEY_ATTR_ICMP, &[8, 0]),
    ]
    .concat();
    let k = decode_key(&icmp).unwrap();
    assert_eq!((k.tp_src(), k.tp_dst()), (8, 0));
    assert_eq!(emit_key(&k), icmp);

    let sctp = [
        meta(1),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800),
        ipv4([1, 2, 3, 4], [5, 6, 7, 8], 132, 0, 9, 0),
        attr(OVS_KEY_ATTR_SCTP, &[0, 1, 0, 2]),
    ]
    .concat();
    assert_eq!(emit_key(&decode_key(&sctp).unwrap()), sctp);

    // A later fragment carries no L4 attribute.
    let later = [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800), ipv4([1, 2, 3, 4], [5, 6, 7, 8], 6, 0, 9, 2)].concat();
    let k = decode_key(&later).unwrap();
    assert_eq!(k.ip_frag(), frag::LATER);
    assert_eq!(emit_key(&k), later);
}

#[test]
fn tunnel_in_key() {
    let tun = nest(
        OVS_KEY_ATTR_TUNNEL,
        &[attr(0, &9u64.to_be_bytes()), attr(2, &[192, 168, 0, 1]), attr(4, &[64]), attr(5, &[])],
    );
    let wire = [
        u32a(OVS_KEY_ATTR_RECIRC_ID, 0),
        u32a(OVS_KEY_ATTR_DP_HASH, 0),
        u32a(OVS_KEY_ATTR_PRIORITY, 0),
        tun,
        u32a(OVS_KEY_ATTR_IN_PORT, 4),
        u32a(OVS_KEY_ATTR_SKB_MARK, 0),
        eth(),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0x88cc),
    ]
    .concat();
    let k = decode_key(&wire).unwrap();
    assert_eq!(k.tun_id(), 9);
    assert_eq!(k.tun_ipv4_dst(), 0xc0a8_0001);
    assert_eq!(emit_key(&k), wire);
    // No mask: the whole tunnel is exact.
    let m = exact_mask(&wire).unwrap();
    assert_eq!(m.tun_ipv4_src(), u32::MAX);
    assert_eq!(m.tun_tp_dst(), u16::MAX);
    assert_eq!(m.tun_ipv6_dst(), [0; 16], "only the key's family");
}

#[test]
fn exact_mask_covers_given_fields_only() {
    let m = exact_mask(&tcp_key()).unwrap();
    assert_eq!(m.in_port(), u32::MAX);
    assert_eq!(m.recirc_id(), u32::MAX);
    assert_eq!(m.eth_src(), [0xff; 6]);
    assert_eq!(m.eth_type(), 0xffff);
    assert_eq!((m.vlan_tci(), m.cvlan_tci()), (0xffff, 0xffff));
    assert_eq!(m.vlan_tpid(), 0);
    assert_eq!((m.ipv4_src(), m.ip_proto(), m.ip_frag()), (u32::MAX, 0xff, 0xff));
    assert_eq!((m.tp_src(), m.tcp_flags()), (0xffff, 0xffff));
    assert_eq!(m.ipv6_src(), [0; 16]);
    assert_eq!(m.tun_ipv4_dst(), 0);
    assert_eq!(m.arp_sha(), [0; 6]);
}

#[test]
fn wildcarded_mask_decodes_and_reemits() {
    let key = tcp_key();
    // ipv4(src=10.0.0.0/255.255.255.0, proto=6 exact, rest wildcarded), tcp(dst=80)
    let mask = [
        u32a(OVS_KEY_ATTR_RECIRC_ID, u32::MAX),
        u32a(OVS_KEY_ATTR_IN_PORT, u32::MAX),
        attr(OVS_KEY_ATTR_ETHERNET, &[0; 12]),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff),
        ipv4([255, 255, 255, 0], [0; 4], 0xff, 0, 0, 0),
        attr(OVS_KEY_ATTR_TCP, &[0, 0, 0xff, 0xff]),
    ]
    .concat();
    let m = decode_match(&key, Some(&mask)).unwrap();
    assert_eq!(m.mask.ipv4_src(), 0xffff_ff00);
    assert_eq!(m.mask.ipv4_dst(), 0);
    assert_eq!(m.mask.tp_dst(), 0xffff);
    assert_eq!(m.mask.eth_src(), [0; 6]);
    assert_eq!(m.mask.vlan_tci(), 0xffff, "TCI always matched");
    assert_eq!(m.mask.priority(), 0);
    // Re-emission lists every attribute of the key's shape, zeros included.
    let out = emit_mask(&m.key, &m.mask);
    let again = decode_match(&key, Some(&out)).unwrap();
    assert_eq!(again.mask, m.mask);
    let expected = [
        u32a(OVS_KEY_ATTR_RECIRC_ID, u32::MAX),
        u32a(OVS_KEY_ATTR_DP_HASH, 0),
        u32a(OVS_KEY_ATTR_PRIORITY, 0),
        nest(OVS_KEY_ATTR_TUNNEL, &[attr(4, &[0])]),
        u32a(OVS_KEY_ATTR_IN_PORT, u32::MAX),
        u32a(OVS_KEY_ATTR_SKB_MARK, 0),
        attr(OVS_KEY_ATTR_ETHERNET, &[0; 12]),
        be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff),
        ipv4([255, 255, 255, 0], [0; 4], 0xff, 0, 0, 0),
        attr(OVS_KEY_ATTR_TCP, &[0, 0, 0xff, 0xff]),
        be16a(OVS_KEY_ATTR_TCP_FLAGS, 0),
    ]
    .concat();
    assert_eq!(out, expected);
}

#[test]
fn mask_prerequisites_enforced() {
    let key = tcp_key();
    // IPv4 mask without an exact ethertype.
    let m1 = [ipv4([255; 4], [0; 4], 0, 0, 0, 0)].concat();
    assert_eq!(decode_match(&key, Some(&m1)).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::NotAllowed));
    // TCP mask without an exact protocol.
    let m2 = [be16a(OVS_KEY_ATTR_ETHERTYPE, 0xffff), attr(OVS_KEY_ATTR_TCP, &[0, 0, 0xff, 0xff])].concat();
    assert_eq!(decode_match(&key, Some(&m2)).unwrap_err(), CodecError::new("OVS_KEY_ATTR_TCP", ErrorKind::NotAllowed));
    // A mask attribute the key does not have.
    let m3 = [u32a(OVS_KEY_ATTR_SKB_MARK, 0), attr(OVS_KEY_ATTR_UDP, &[0, 0, 0xff, 0xff])].concat();
    assert_eq!(decode_match(&key, Some(&m3)).unwrap_err().kind, ErrorKind::NotAllowed);
    // All-zero mask attributes are ignored.
    let m4 = [attr(OVS_KEY_ATTR_UDP, &[0; 4]), u32a(OVS_KEY_ATTR_CT_STATE, 0)].concat();
    let m = decode_match(&key, Some(&m4)).unwrap();
    assert_eq!(m.mask.tp_src(), 0);
    // in_port / ethertype in a mask mean exact, whatever the value.
    let m5 = [u32a(OVS_KEY_ATTR_IN_PORT, 1), be16a(OVS_KEY_ATTR_ETHERTYPE, 1)].concat();
    let m = decode_match(&key, Some(&m5)).unwrap();
    assert_eq!((m.mask.in_port(), m.mask.eth_type()), (u32::MAX, 0xffff));
}

#[test]
fn key_errors_name_the_attribute() {
    let cases: Vec<(Vec<u8>, CodecError)> = std::vec![
        (
            [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800), attr(OVS_KEY_ATTR_IPV4, &[0; 7])].concat(),
            CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadLength { got: 7, want: 12 }),
        ),
        ([meta(1), u32a(OVS_KEY_ATTR_IN_PORT, 2)].concat(), CodecError::new("OVS_KEY_ATTR_IN_PORT", ErrorKind::Duplicate)),
        ([meta(1), attr(40, &[])].concat(), CodecError::new("OVS_KEY_ATTR", ErrorKind::Unknown { ty: 40 })),
        ([meta(1), u32a(OVS_KEY_ATTR_CT_STATE, 1)].concat(), CodecError::new("OVS_KEY_ATTR_CT_STATE", ErrorKind::Unsupported)),
        ([meta(1), attr(OVS_KEY_ATTR_MPLS, &[0; 4])].concat(), CodecError::new("OVS_KEY_ATTR_MPLS", ErrorKind::Unsupported)),
        ([meta(1), u32a(OVS_KEY_ATTR_PACKET_TYPE, 0)].concat(), CodecError::new("OVS_KEY_ATTR_PACKET_TYPE", ErrorKind::Unsupported)),
        // The conntrack original-tuple structs are padded: sizeof 16 and 40 (what ovs-vswitchd's probes send).
        ([meta(1), attr(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, &[0; 16])].concat(), CodecError::new("OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4", ErrorKind::Unsupported)),
        ([meta(1), attr(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6, &[0; 40])].concat(), CodecError::new("OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6", ErrorKind::Unsupported)),
        (
            [meta(1), attr(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, &[0; 13])].concat(),
            CodecError::new("OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4", ErrorKind::BadLength { got: 13, want: 16 }),
        ),
        (
            [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x86dd), attr(OVS_KEY_ATTR_IPV6_EXTHDRS, &[0; 4])].concat(),
            CodecError::new("OVS_KEY_ATTR_IPV6_EXTHDRS", ErrorKind::BadLength { got: 4, want: 2 }),
        ),
        ([meta(1), attr(OVS_KEY_ATTR_UNSPEC, &[])].concat(), CodecError::new("OVS_KEY_ATTR_UNSPEC", ErrorKind::Unknown { ty: 0 })),
        ([meta(65535), eth()].concat(), CodecError::new("OVS_KEY_ATTR_IN_PORT", ErrorKind::BadValue)),
        ([meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x05ff)].concat(), CodecError::new("OVS_KEY_ATTR_ETHERTYPE", ErrorKind::BadValue)),
        ([meta(1), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800)].concat(), CodecError::new("OVS_KEY_ATTR_ETHERNET", ErrorKind::Missing)),
        (meta(1), CodecError::new("OVS_KEY_ATTR_ETHERNET", ErrorKind::Missing)),
        (
            [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800), ipv4([0; 4], [0; 4], 17, 0, 0, 3)].concat(),
            CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadValue),
        ),
        (
            [meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800), ipv4([0; 4], [0; 4], 6, 0, 0, 0), attr(OVS_KEY_ATTR_TCP, &[0; 4])].concat(),
            CodecError::new("OVS_KEY_ATTR_TCP_FLAGS", ErrorKind::Missing),
        ),
        ([meta(1), eth(), be16a(OVS_KEY_ATTR_ETHERTYPE, 0x0800)].concat(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::Missing)),
        ([meta(1), eth(), nest(OVS_KEY_ATTR_ENCAP, &[])].concat(), CodecError::new("OVS_KEY_ATTR_ENCAP", ErrorKind::NotAllowed)),
        ([meta(1), std::vec![8, 0, 2, 0]].concat(), CodecError::new("OVS_KEY_ATTR", ErrorKind::Truncated)),
    ];
    for (wire, want) in cases {
        assert_eq!(decode_key(&wire).unwrap_err(), want, "{want}");
    }
}

#[test]
fn metadata_only() {
    let wire = [meta(7), eth()].concat();
    let k = decode_metadata(&wire).unwrap();
    assert_eq!(k.in_port(), 7);
    assert_eq!(k.eth_src(), [0; 6], "non-metadata fields come from the packet");
    let none = decode_metadata(&[]).unwrap();
    assert_eq!(none.in_port(), DP_MAX_PORTS);
    assert_eq!(decode_metadata(&[meta(1), u32a(OVS_KEY_ATTR_PRIORITY, 1)].concat()).unwrap_err().kind, ErrorKind::Duplicate);
}

#[test]
fn decode_set_unmasked_and_masked() {
    // set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=63,frag=no))
    let p = ipv4([1, 2, 3, 4], [5, 6, 7, 8], 6, 0, 63, 0);
    let (v, m) = decode_set(&p, false).unwrap();
    assert_eq!((v.ipv4_src(), v.ip_ttl()), (0x0102_0304, 63));
    assert_eq!((m.ipv4_src(), m.ip_ttl(), m.ip_tos()), (u32::MAX, 0xff, 0xff));
    assert_eq!((m.ip_proto(), m.ip_frag(), v.ip_proto()), (0, 0, 0), "non-writable fields dropped");
    // set_masked(ipv4(ttl=63/0xff))
    let mut pm = [0u8; 24];
    pm[10] = 63;
    pm[22] = 0xff;
    let (v, m) = decode_set(&attr(OVS_KEY_ATTR_IPV4, &pm), true).unwrap();
    assert_eq!((v.ip_ttl(), m.ip_ttl(), m.ipv4_src()), (63, 0xff, 0));
    // Value bit outside the mask.
    pm[9] = 1;
    assert_eq!(decode_set(&attr(OVS_KEY_ATTR_IPV4, &pm), true).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadValue));
    // Masked proto is not writable.
    let mut pp = [0u8; 24];
    pp[20] = 0xff;
    assert_eq!(decode_set(&attr(OVS_KEY_ATTR_IPV4, &pp), true).unwrap_err().kind, ErrorKind::NotAllowed);
    // Masked wrong length.
    assert_eq!(
        decode_set(&attr(OVS_KEY_ATTR_IPV4, &[0; 12]), true).unwrap_err(),
        CodecError::new("OVS_KEY_ATTR_IPV4", ErrorKind::BadLength { got: 12, want: 24 })
    );
    // Priority/skb_mark are host order.
    let (v, m) = decode_set(&u32a(OVS_KEY_ATTR_SKB_MARK, 0x1234), false).unwrap();
    assert_eq!((v.skb_mark(), m.skb_mark()), (0x1234, u32::MAX));
    // Ethernet masked.
    let mut em = [0u8; 24];
    em[6..12].copy_from_slice(&DST);
    em[18..24].copy_from_slice(&[0xff; 6]);
    let (v, m) = decode_set(&attr(OVS_KEY_ATTR_ETHERNET, &em), true).unwrap();
    assert_eq!((v.eth_dst(), m.eth_dst(), m.eth_src()), (DST, [0xff; 6], [0; 6]));
    // IPv6 label mask keeps 20 bits.
    let (_, m) = decode_set(&attr(OVS_KEY_ATTR_IPV6, &[0; 40]), false).unwrap();
    assert_eq!(m.ipv6_label(), 0x000f_ffff);
    // Tunnel: full tunnel metadata.
    let t = nest(OVS_KEY_ATTR_TUNNEL, &[attr(2, &[1, 1, 1, 1]), attr(4, &[5])]);
    let (v, m) = decode_set(&t, false).unwrap();
    assert_eq!((v.tun_ipv4_dst(), v.tun_ttl()), (0x0101_0101, 5));
    assert_eq!(m.tun_ipv6_dst(), [0xff; 16]);
    assert_eq!(m.in_port(), 0);
    assert_eq!(decode_set(&t, true).unwrap_err(), CodecError::new("OVS_KEY_ATTR_TUNNEL", ErrorKind::NotAllowed));
}

#[test]
fn decode_set_rejections() {
    assert_eq!(decode_set(&u32a(OVS_KEY_ATTR_IN_PORT, 1), false).unwrap_err(), CodecError::new("OVS_KEY_ATTR_IN_PORT", ErrorKind::NotAllowed));
    assert_eq!(decode_set(&u32a(OVS_KEY_ATTR_CT_MARK, 1), false).unwrap_err(), CodecError::new("OVS_KEY_ATTR_CT_MARK", ErrorKind::Unsupported));
    assert_eq!(decode_set(&attr(OVS_KEY_ATTR_ICMP, &[0, 0]), false).unwrap_err().kind, ErrorKind::NotAllowed);
    assert_eq!(decode_set(&[], false).unwrap_err(), CodecError::new("OVS_ACTION_ATTR_SET", ErrorKind::Missing));
    let two = [u32a(OVS_KEY_ATTR_PRIORITY, 1), u32a(OVS_KEY_ATTR_SKB_MARK, 1)].concat();
    assert_eq!(decode_set(&two, false).unwrap_err().kind, ErrorKind::BadLength { got: 16, want: 8 });
    assert_eq!(
        decode_set(&attr(OVS_KEY_ATTR_TCP, &[0; 3]), false).unwrap_err(),
        CodecError::new("OVS_KEY_ATTR_TCP", ErrorKind::BadLength { got: 3, want: 4 })
    );
    assert_eq!(decode_set(&attr(50, &[0; 4]), false).unwrap_err().kind, ErrorKind::Unknown { ty: 50 });
    assert_eq!(decode_set(&[8, 0, 2, 0], false).unwrap_err().kind, ErrorKind::Truncated);
}

#[test]
fn put_key_reports_no_space() {
    let k = decode_key(&tcp_key()).unwrap();
    let mut buf = [0u8; 40];
    let mut w = crate::nla::Writer::new(&mut buf);
    assert_eq!(put_key(&mut w, 1, &k).unwrap_err().kind, ErrorKind::NoSpace);
}

/// Strategy: a structurally valid key (what the packet parser could produce).
fn arb_key() -> impl Strategy<Value = FlowKey> {
    (
        (any::<u32>(), any::<u32>(), any::<u32>(), 0u32..65536, any::<u32>()),
        (any::<[u8; 6]>(), any::<[u8; 6]>()),
        0usize..4,
        (any::<u16>(), any::<u16>()),
        0usize..6,
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<[u8; 4]>(), 0u8..3),
        (any::<u16>(), any::<u16>(), any::<u16>()),
        (any::<bool>(), any::<u64>(), 1u32.., any::<u8>(), 0u16..16),
    )
        .prop_map(|(meta, (src, dst), vlans, (t1, t2), l3, (a6, b6, ip, fr), (sp, dp, fl), (tun, tid, tdst, ttl, tfl))| {
            let mut k = FlowKey::ZERO;
            k.set_recirc_id(meta.0);
            k.set_dp_hash(meta.1);
            k.set_priority(meta.2);
            k.set_in_port(meta.3);
            k.set_skb_mark(meta.4);
            k.set_eth_src(src);
            k.set_eth_dst(dst);
            if tun {
                k.set_tun_id(if tfl & crate::key::tun_flags::KEY != 0 { tid } else { 0 });
                k.set_tun_ipv4_dst(tdst);
                k.set_tun_ttl(ttl);
                k.set_tun_flags(tfl);
            }
            if vlans == 1 || vlans == 2 {
                k.set_vlan_tpid(ETH_P_8021AD);
                k.set_vlan_tci((t1 & 0xefff) | VLAN_CFI);
            }
            if vlans == 2 {
                k.set_cvlan_tpid(ETH_P_8021Q);
                k.set_cvlan_tci((t2 & 0xefff) | VLAN_CFI);
            }
            if vlans == 3 {
                // Truncated VLAN header.
                k.set_vlan_tpid(ETH_P_8021Q);
                k.set_eth_type(ETH_P_8021Q);
                return k;
            }
            match l3 {
                0 => k.set_eth_type(ETH_TYPE_802_2),
                1 => k.set_eth_type(0x88cc),
                2 | 3 => {
                    let v6 = l3 == 3;
                    k.set_eth_type(if v6 { ETH_P_IPV6 } else { ETH_P_IP });
                    if v6 {
                        k.set_ipv6_src(a6);
                        k.set_ipv6_dst(b6);
                        k.set_ipv6_label(u32::from_be_bytes(ip) & 0xfffff);
                        k.set_ipv6_exthdrs(u16::from_be_bytes([b6[6], b6[7]]) & 0x01ff);
                    } else {
                        k.set_ipv4_src(u32::from_be_bytes(ip));
                        k.set_ipv4_dst(u32::from_be_bytes([a6[0], a6[1], a6[2], a6[3]]));
                    }
                    let protos = [6u8, 17, 132, if v6 { 58 } else { 1 }, 47];
                    let proto = protos[usize::from(sp) % protos.len()];
                    k.set_ip_proto(proto);
                    k.set_ip_tos(b6[4]);
                    k.set_ip_ttl(b6[5]);
                    k.set_ip_frag(fr);
                    if fr != frag::LATER {
                        match proto {
                            6 | 17 | 132 => {
                                k.set_tp_src(sp);
                                k.set_tp_dst(dp);
                                if proto == 6 {
                                    k.set_tcp_flags(fl & 0x0fff);
                                }
                            }
                            1 | 58 => {
                                let ty = if v6 && sp % 2 == 0 { 135 + (sp / 2) % 2 } else { sp & 0xff };
                                k.set_tp_src(ty);
                                k.set_tp_dst(dp & 0xff);
                                if v6 && (ty == 135 || ty == 136) {
                                    k.set_nd_target(a6);
                                    k.set_arp_sha(src);
                                    k.set_arp_tha(dst);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {
                    k.set_eth_type(ETH_P_ARP);
                    k.set_ipv4_src(u32::from_be_bytes(ip));
                    k.set_ip_proto(b6[0]);
                    k.set_arp_sha(src);
                    k.set_arp_tha(dst);
                }
            }
            k
        })
}

proptest! {
    #[test]
    fn prop_key_round_trip(k in arb_key()) {
        let wire = emit_key(&k);
        let back = decode_key(&wire).unwrap();
        prop_assert_eq!(back, k);
        prop_assert_eq!(emit_key(&back), wire.clone());
        // The exact mask re-emitted and decoded again is stable.
        let m = exact_mask(&wire).unwrap();
        let mw = emit_mask(&k, &m);
        let again = decode_match(&wire, Some(&mw)).unwrap();
        prop_assert_eq!(again.mask, m);
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn prop_partial_mask_round_trip(k in arb_key(), bits in any::<[u8; 192]>()) {
        let wire = emit_key(&k);
        let exact = exact_mask(&wire).unwrap();
        // Wildcard random bits of L3/L4 fields only (upstream forces in_port/eth_type/TCI).
        let mut m = exact;
        for i in field::IP_PROTO..field::IPV6_EXTHDRS.end {
            // Prerequisites of deeper layers (protocol, ICMPv6 type for ND) stay exact.
            if i == field::IP_FRAG || i == field::IP_PROTO || field::TP_SRC.contains(&i) { continue; }
            m.as_bytes_mut()[i] &= bits[i];
        }
        let mw = emit_mask(&k, &m);
        match decode_match(&wire, Some(&mw)) {
            Ok(back) => prop_assert_eq!(back.mask, m),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn prop_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_key(&bytes);
        let _ = decode_match(&bytes, Some(&bytes));
        let _ = decode_set(&bytes, true);
        let _ = decode_set(&bytes, false);
        let _ = decode_metadata(&bytes);
    }
}

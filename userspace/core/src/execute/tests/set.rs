//! The set actions: metadata, Ethernet, IPv4, IPv6 and transport ports, checksums kept valid.

use super::*;

// ---------------------------------------------------------------------------------------------
// Set: metadata and Ethernet.

#[test]
fn priority_and_mark_are_masked() {
    let frame = tcp4();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    pkt.set_priority(0x1111_1111);
    pkt.set_mark(0xaaaa_0000);
    let (v, m) = masked_key(|v, m| {
        v.set_priority(0x0000_2200);
        m.set_priority(0x0000_ff00);
        v.set_skb_mark(0x0000_00bb);
        m.set_skb_mark(0x0000_00ff);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(pkt.priority(), 0x1111_2211);
    assert_eq!(pkt.mark(), 0xaaaa_00bb);
    assert_eq!((key.priority(), key.skb_mark()), (0x1111_2211, 0xaaaa_00bb));
}

#[test]
fn mac_rewrite_full_and_masked() {
    let frame = tcp4();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    pkt.set_csum_complete();
    let (v, m) = masked_key(|v, m| {
        v.set_eth_dst([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
        m.set_eth_dst([0xff; 6]);
        v.set_eth_src([0, 0, 0, 0, 0xab, 0xcd]);
        m.set_eth_src([0, 0, 0, 0, 0xff, 0xf0]);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(&pkt.data()[0..6], &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert_eq!(&pkt.data()[6..12], &[0x02, 0, 0, 0, 0xab, 0xc2]);
    assert_eq!(&pkt.data()[12..], &frame[12..]);
    assert_eq!(key, key_of(pkt.data()));
    assert_eq!(pkt.csum_complete_ok(), Some(true));
}

// ---------------------------------------------------------------------------------------------
// Set: IPv4.

fn v4_set(src: u32, dst: u32, tos: u8, ttl: u8) -> (FlowKey, FlowKey) {
    masked_key(|v, m| {
        v.set_ipv4_src(src);
        m.set_ipv4_src(!0);
        v.set_ipv4_dst(dst);
        m.set_ipv4_dst(!0);
        v.set_ip_tos(tos);
        m.set_ip_tos(0xff);
        v.set_ip_ttl(ttl);
        m.set_ip_ttl(0xff);
    })
}

#[test]
fn ipv4_rewrite_keeps_ip_and_tcp_udp_checksums_valid() {
    for l4 in [tcp(1234, 80, b"abcdefg"), udp(5353, 53, b"query!")] {
        let proto = if l4.len() == 27 { TCP } else { UDP };
        let frame = ipv4(proto, 0xc0a8_0101, 0xc0a8_0102, 0, 64, 0, &l4);
        assert!(ipv4_ok(&frame, 14) && l4_ok(&frame, 14, 34, proto, false));
        let mut mem = [0u8; 512];
        let (mut pkt, mut key) = packet(&mut mem, &frame);
        pkt.set_csum_complete();
        pkt.set_hash(99);
        let (v, m) = v4_set(0x0a01_0203, 0x0a04_0506, 0xb8, 3);
        apply_set(&mut pkt, &mut key, &v, &m).unwrap();
        let out = pkt.data();
        assert_eq!(&out[26..30], &[10, 1, 2, 3]);
        assert_eq!(&out[30..34], &[10, 4, 5, 6]);
        assert_eq!(out[15], 0xb8);
        assert_eq!(out[22], 3);
        assert!(ipv4_ok(out, 14), "IPv4 header checksum");
        assert!(l4_ok(out, 14, 34, proto, false), "L4 checksum (proto {proto})");
        assert_eq!(key, key_of(out));
        assert_eq!(pkt.csum_complete_ok(), Some(true));
        assert_eq!(pkt.hash(), None, "5-tuple change clears the cached hash");
    }
}

#[test]
fn ipv4_masked_rewrite_touches_only_masked_bits() {
    let frame = tcp4();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let (v, m) = masked_key(|v, m| {
        v.set_ipv4_src(0xc0a8_0000);
        m.set_ipv4_src(0xffff_0000);
        v.set_ip_tos(0x03);
        m.set_ip_tos(0x03);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    let out = pkt.data();
    assert_eq!(&out[26..30], &[192, 168, 0, 1]);
    assert_eq!(out[15], 0x13);
    assert!(ipv4_ok(out, 14) && l4_ok(out, 14, 34, TCP, false));
    assert_eq!(key.ipv4_src(), 0xc0a8_0001);
    assert_eq!(key.ip_tos(), 0x13);
}

#[test]
fn ipv4_udp_zero_checksum_stays_zero() {
    let mut frame = ipv4(UDP, 0x0a00_0001, 0x0a00_0002, 0, 64, 0, &udp(1, 2, b"no checksum"));
    frame[40..42].fill(0);
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let (v, m) = v4_set(0x0b00_0001, 0x0b00_0002, 0, 1);
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    let (pv, pm) = masked_key(|v, m| {
        v.set_tp_src(1000);
        m.set_tp_src(!0);
    });
    apply_set(&mut pkt, &mut key, &pv, &pm).unwrap();
    let out = pkt.data();
    assert_eq!(&out[40..42], &[0, 0]);
    assert_eq!(&out[34..36], &1000u16.to_be_bytes());
    assert!(ipv4_ok(out, 14));
}

#[test]
fn ipv4_udp_computed_zero_is_sent_as_ffff() {
    let frame = ipv4(UDP, 0x0a00_0001, 0x0a00_0002, 0, 64, 0, &udp(1, 2, b"x"));
    // Find a source address for which the correct checksum computes to zero.
    let new_src = (0..=0xffffu32)
        .map(|x| 0x0a00_0000 | x)
        .find(|&s| {
            let mut f = frame.clone();
            f[26..30].copy_from_slice(&s.to_be_bytes());
            f[40..42].fill(0);
            csum::finish(csum::partial(&f[34..], pseudo_sum(&f, 14, 34, UDP, false))) == 0
        })
        .unwrap();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let (v, m) = masked_key(|v, m| {
        v.set_ipv4_src(new_src);
        m.set_ipv4_src(!0);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(&pkt.data()[40..42], &[0xff, 0xff]);
    assert!(l4_ok(pkt.data(), 14, 34, UDP, false));
}

#[test]
fn ipv4_partial_checksum_gets_pseudo_header_updates_only() {
    let mut frame = tcp4();
    let pseudo = !csum::finish(pseudo_sum(&frame, 14, 34, TCP, false));
    frame[50..52].copy_from_slice(&pseudo.to_be_bytes());
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    pkt.set_csum_partial();
    let (v, m) = masked_key(|v, m| {
        v.set_ipv4_dst(0x0808_0808);
        m.set_ipv4_dst(!0);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    let expect = !csum::finish(pseudo_sum(pkt.data(), 14, 34, TCP, false));
    assert_eq!(&pkt.data()[50..52], &expect.to_be_bytes());
    let (v, m) = masked_key(|v, m| {
        v.set_tp_dst(8080);
        m.set_tp_dst(!0);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(&pkt.data()[50..52], &expect.to_be_bytes(), "ports are not in the pseudo-header");
    assert!(ipv4_ok(pkt.data(), 14));
}

#[test]
fn ipv4_later_fragment_rewrite_leaves_payload_alone() {
    let payload = tcp(1, 2, b"this is not a header");
    let frame = ipv4(TCP, 0x0a00_0001, 0x0a00_0002, 0, 64, 0x0010, &payload);
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let (v, m) = v4_set(0x0a00_0009, 0x0a00_0002, 0, 64);
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(&pkt.data()[34..], &payload[..]);
    assert!(ipv4_ok(pkt.data(), 14));
    // And an L4 rewrite of a later fragment is refused.
    let (v, m) = masked_key(|v, m| {
        v.set_tp_src(5);
        m.set_tp_src(!0);
    });
    assert_eq!(apply_set(&mut pkt, &mut key, &v, &m), Err(ExecError::Unsupported));
}

#[test]
fn truncated_headers_are_errors_not_panics() {
    let frame = tcp4();
    let (v4, m4) = v4_set(1, 2, 3, 4);
    let (vp, mp) = masked_key(|v, m| {
        v.set_tp_src(5);
        m.set_tp_src(!0);
    });
    let (ve, me) = masked_key(|v, m| {
        v.set_eth_src([1; 6]);
        m.set_eth_src([0xff; 6]);
    });
    let key = key_of(&frame);
    for cut in 0..frame.len() {
        for (v, m) in [(&v4, &m4), (&vp, &mp), (&ve, &me)] {
            let mut mem = [0u8; 512];
            let mut pkt = PacketBuf::with_frame(&mut mem, 32, &frame[..cut]).unwrap();
            pkt.set_network_offset(Some(14));
            pkt.set_transport_offset(Some(34));
            let mut k = key;
            let r = apply_set(&mut pkt, &mut k, v, m);
            let needed = if m == &m4 {
                34
            } else if m == &mp {
                54
            } else {
                14
            };
            assert_eq!(r.is_err(), cut < needed, "cut {cut}, needed {needed}");
            if r.is_err() {
                assert_eq!(pkt.data(), &frame[..cut], "nothing written on error");
            }
        }
    }
    let mut mem = [0u8; 512];
    let mut pkt = PacketBuf::with_frame(&mut mem, 32, &frame).unwrap();
    let mut k = key;
    assert_eq!(apply_set(&mut pkt, &mut k, &v4, &m4), Err(ExecError::NoNetworkHeader));
    assert_eq!(apply_set(&mut pkt, &mut k, &vp, &mp), Err(ExecError::NoTransportHeader));
}

#[test]
fn unsettable_fields_are_rejected_before_any_change() {
    let frame = tcp4();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let before = key;
    let (v, m) = masked_key(|v, m| {
        v.set_eth_dst([9; 6]);
        m.set_eth_dst([0xff; 6]);
        m.set_vlan_tci(0xffff);
    });
    assert_eq!(apply_set(&mut pkt, &mut key, &v, &m), Err(ExecError::Unsupported));
    let (v6, m6) = masked_key(|v, m| {
        v.set_ipv6_src(v6addr(1));
        m.set_ipv6_src([0xff; 16]);
    });
    assert_eq!(apply_set(&mut pkt, &mut key, &v6, &m6), Err(ExecError::Unsupported));
    assert_eq!(pkt.data(), &frame[..]);
    assert_eq!(key, before);
    // Ports of a protocol without ports (ICMP).
    let icmp = ipv4(ICMP, 1, 2, 0, 64, 0, &[8, 0, 0, 0, 0, 1, 0, 1]);
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &icmp);
    let (v, m) = masked_key(|v, m| {
        v.set_tp_src(0);
        m.set_tp_src(0xff);
    });
    assert_eq!(apply_set(&mut pkt, &mut key, &v, &m), Err(ExecError::Unsupported));
}

// ---------------------------------------------------------------------------------------------
// Set: IPv6.

#[test]
fn ipv6_address_rewrite_keeps_l4_checksums_valid() {
    for (proto, l4) in
        [(TCP, tcp(1, 2, b"six")), (UDP, udp(3, 4, b"six!")), (ICMPV6, icmp_echo(b"ping"))]
    {
        let frame = ipv6(proto, v6addr(1), v6addr(2), 0, 0x12345, 64, &l4);
        assert!(l4_ok(&frame, 14, 54, proto, true));
        let mut mem = [0u8; 512];
        let (mut pkt, mut key) = packet(&mut mem, &frame);
        pkt.set_csum_complete();
        let (v, m) = masked_key(|v, m| {
            v.set_ipv6_src(v6addr(0x77));
            m.set_ipv6_src([0xff; 16]);
            let mut d = v6addr(0);
            d[4] = 0xaa;
            v.set_ipv6_dst(d);
            let mut dm = [0u8; 16];
            dm[4] = 0xff;
            m.set_ipv6_dst(dm);
        });
        apply_set(&mut pkt, &mut key, &v, &m).unwrap();
        let out = pkt.data();
        assert_eq!(&out[22..38], &v6addr(0x77));
        assert_eq!(out[38 + 4], 0xaa);
        assert_eq!(out[38 + 15], 2);
        assert!(l4_ok(out, 14, 54, proto, true), "proto {proto}");
        assert_eq!(key, key_of(out));
        assert_eq!(pkt.csum_complete_ok(), Some(true));
    }
}

#[test]
fn ipv6_tclass_label_hop_limit() {
    let frame = ipv6(UDP, v6addr(1), v6addr(2), 0xa5, 0xfedcb, 64, &udp(1, 2, b""));
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    pkt.set_csum_complete();
    let (v, m) = masked_key(|v, m| {
        v.set_ip_tos(0x0f);
        m.set_ip_tos(0x0f);
        v.set_ipv6_label(0x00012);
        m.set_ipv6_label(0x000ff);
        v.set_ip_ttl(9);
        m.set_ip_ttl(0xff);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    let out = pkt.data();
    let word = u32::from_be_bytes(out[14..18].try_into().unwrap());
    assert_eq!(word >> 28, 6, "version kept");
    assert_eq!((word >> 20) & 0xff, 0xaf);
    assert_eq!(word & 0xfffff, 0xfed12);
    assert_eq!(out[21], 9);
    assert_eq!((key.ip_tos(), key.ipv6_label(), key.ip_ttl()), (0xaf, 0xfed12, 9));
    assert_eq!(key, key_of(out));
    assert!(l4_ok(out, 14, 54, UDP, true));
    assert_eq!(pkt.csum_complete_ok(), Some(true));
}

#[test]
fn ipv6_dst_rewrite_behind_pending_routing_header_keeps_l4_checksum() {
    for (segs_left, updated) in [(1u8, false), (0u8, true)] {
        // Routing header: next = TCP, len 2 (24 bytes), type 0, segments left.
        let mut rh = vec![TCP, 2, 0, segs_left];
        rh.extend_from_slice(&[0; 20]);
        let frame = ipv6_ext(43, TCP, v6addr(1), v6addr(2), 0, 0, 64, &rh, &tcp(1, 2, b"rh"));
        let t = 54 + rh.len();
        let mut mem = [0u8; 512];
        let (mut pkt, mut key) = packet(&mut mem, &frame);
        assert_eq!(pkt.transport_offset(), Some(t));
        let (v, m) = masked_key(|v, m| {
            v.set_ipv6_dst(v6addr(9));
            m.set_ipv6_dst([0xff; 16]);
        });
        apply_set(&mut pkt, &mut key, &v, &m).unwrap();
        let out = pkt.data();
        assert_eq!(&out[38..54], &v6addr(9));
        assert_eq!(
            out[t + 16..t + 18] != frame[t + 16..t + 18],
            updated,
            "segments left {segs_left}"
        );
        if updated {
            assert!(l4_ok(out, 14, t, TCP, true));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Set: transport ports.

#[test]
fn port_rewrites_keep_checksums_valid() {
    let cases = [
        (TCP, ipv4(TCP, 1, 2, 0, 64, 0, &tcp(1000, 2000, b"tcp data")), 34, false),
        (UDP, ipv4(UDP, 1, 2, 0, 64, 0, &udp(1000, 2000, b"udp data")), 34, false),
        (SCTP, ipv4(SCTP, 1, 2, 0, 64, 0, &sctp(1000, 2000, b"sctp chunk data")), 34, false),
        (TCP, ipv6(TCP, v6addr(1), v6addr(2), 0, 0, 64, &tcp(1000, 2000, b"x")), 54, true),
        (SCTP, ipv6(SCTP, v6addr(1), v6addr(2), 0, 0, 64, &sctp(1000, 2000, b"y")), 54, true),
    ];
    for (proto, frame, t, v6) in cases {
        assert!(l4_ok(&frame, 14, t, proto, v6));
        let mut mem = [0u8; 512];
        let (mut pkt, mut key) = packet(&mut mem, &frame);
        pkt.set_csum_complete();
        let (v, m) = masked_key(|v, m| {
            v.set_tp_src(0xabcd);
            m.set_tp_src(0xffff);
            v.set_tp_dst(0x0011);
            m.set_tp_dst(0x00ff);
        });
        apply_set(&mut pkt, &mut key, &v, &m).unwrap();
        let out = pkt.data();
        assert_eq!(&out[t..t + 2], &[0xab, 0xcd]);
        assert_eq!(u16::from_be_bytes([out[t + 2], out[t + 3]]), (2000 & 0xff00) | 0x11);
        assert!(l4_ok(out, 14, t, proto, v6), "proto {proto} v6 {v6}");
        assert_eq!(key, key_of(out));
        assert_eq!(pkt.csum_complete_ok(), Some(true));
    }
}

#[test]
fn sctp_wrong_checksum_stays_wrong_by_the_same_difference() {
    let mut frame = ipv4(SCTP, 1, 2, 0, 64, 0, &sctp(7, 8, b"data"));
    frame[34 + 8] ^= 0x5a;
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let (v, m) = masked_key(|v, m| {
        v.set_tp_dst(99);
        m.set_tp_dst(!0);
    });
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    let mut fixed = pkt.data().to_vec();
    assert!(!l4_ok(&fixed, 14, 34, SCTP, false));
    fixed[34 + 8] ^= 0x5a;
    assert!(l4_ok(&fixed, 14, 34, SCTP, false));
}

//! Property: any sequence of sets on random packets keeps every checksum valid.

use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Pkt {
    v6: bool,
    proto: u8,
    udp_zero: bool,
    a: [u8; 16],
    b: [u8; 16],
    sp: u16,
    dp: u16,
    tos: u8,
    ttl: u8,
    payload: Vec<u8>,
    csum: u8,
}

fn pkt() -> impl Strategy<Value = Pkt> {
    (
        any::<bool>(),
        prop_oneof![Just(TCP), Just(UDP), Just(SCTP), Just(ICMP)],
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<(u16, u16, u8, u8)>(),
        proptest::collection::vec(any::<u8>(), 0..48),
        0u8..3,
    )
        .prop_map(|(v6, proto, udp_zero, a, b, (sp, dp, tos, ttl), payload, csum)| {
            Pkt {
                v6,
                proto,
                udp_zero: udp_zero && proto == UDP,
                a,
                b,
                sp,
                dp,
                tos,
                ttl,
                payload,
                csum,
            }
        })
}

fn build(p: &Pkt) -> (Vec<u8>, usize) {
    let proto = if p.v6 && p.proto == ICMP { ICMPV6 } else { p.proto };
    let l4 = match proto {
        TCP => tcp(p.sp, p.dp, &p.payload),
        UDP => udp(p.sp, p.dp, &p.payload),
        SCTP => sctp(p.sp, p.dp, &p.payload),
        _ => icmp_echo(&p.payload),
    };
    let (mut f, t) = if p.v6 {
        (ipv6(proto, p.a, p.b, p.tos, u32::from(p.sp), p.ttl, &l4), 54)
    } else {
        let a = u32::from_be_bytes(p.a[..4].try_into().unwrap());
        let b = u32::from_be_bytes(p.b[..4].try_into().unwrap());
        (ipv4(proto, a, b, p.tos, p.ttl, 0, &l4), 34)
    };
    if p.udp_zero {
        f[t + 6..t + 8].fill(0);
    }
    (f, t)
}

/// (kind, value bytes, mask bytes)
fn op() -> impl Strategy<Value = (u8, [u8; 16], [u8; 16])> {
    (0u8..9, any::<[u8; 16]>(), any::<[u8; 16]>())
}

fn to_set(kind: u8, v: [u8; 16], m: [u8; 16], v6: bool) -> (FlowKey, FlowKey) {
    let u32_of = |x: &[u8; 16]| u32::from_be_bytes(x[..4].try_into().unwrap());
    let u16_of = |x: &[u8; 16], i: usize| u16::from_be_bytes([x[i], x[i + 1]]);
    masked_key(|vk, mk| match kind {
        0 => {
            vk.set_eth_src(v[..6].try_into().unwrap());
            mk.set_eth_src(m[..6].try_into().unwrap());
            vk.set_eth_dst(v[6..12].try_into().unwrap());
            mk.set_eth_dst(m[6..12].try_into().unwrap());
        }
        1 if v6 => {
            vk.set_ipv6_src(v);
            mk.set_ipv6_src(m);
        }
        1 => {
            vk.set_ipv4_src(u32_of(&v));
            mk.set_ipv4_src(u32_of(&m));
        }
        2 if v6 => {
            vk.set_ipv6_dst(v);
            mk.set_ipv6_dst(m);
        }
        2 => {
            vk.set_ipv4_dst(u32_of(&v));
            mk.set_ipv4_dst(u32_of(&m));
        }
        3 => {
            vk.set_ip_tos(v[0]);
            mk.set_ip_tos(m[0]);
        }
        4 => {
            vk.set_ip_ttl(v[0]);
            mk.set_ip_ttl(m[0]);
        }
        5 if v6 => {
            vk.set_ipv6_label(u32_of(&v) & 0xfffff);
            mk.set_ipv6_label(u32_of(&m) & 0xfffff);
        }
        6 | 7 => {
            vk.set_tp_src(u16_of(&v, 0));
            mk.set_tp_src(u16_of(&m, 0));
            vk.set_tp_dst(u16_of(&v, 2));
            mk.set_tp_dst(u16_of(&m, 2));
        }
        _ => {
            vk.set_priority(u32_of(&v));
            mk.set_priority(u32_of(&m));
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn set_sequences_keep_checksums_valid(p in pkt(), ops in proptest::collection::vec(op(), 1..8)) {
        let (frame, t) = build(&p);
        let proto = frame[if p.v6 { 20 } else { 23 }];
        let mut mem = [0u8; 512];
        let (mut pkt, mut key) = packet(&mut mem, &frame);
        let partial = p.csum == 2 && matches!(proto, TCP | UDP) && !p.udp_zero;
        if partial {
            // Offload state: the field holds the pseudo-header sum.
            let off = t + if proto == TCP { 16 } else { 6 };
            let s = !csum::finish(pseudo_sum(pkt.data(), 14, t, proto, p.v6));
            pkt.ensure_writable(off + 2).unwrap();
            pkt.bytes_mut(off..off + 2).unwrap().copy_from_slice(&s.to_be_bytes());
            pkt.set_csum_partial();
        } else if p.csum == 1 {
            pkt.set_csum_complete();
        }
        for (kind, v, m) in ops {
            let (vk, mk) = to_set(kind, v, m, p.v6);
            let r = apply_set(&mut pkt, &mut key, &vk, &mk);
            let ports_ok = matches!(proto, TCP | UDP | SCTP);
            if matches!(kind, 6 | 7) && !ports_ok && mk != FlowKey::ZERO {
                prop_assert_eq!(r, Err(ExecError::Unsupported));
            } else {
                prop_assert_eq!(r, Ok(()));
            }
            let out = pkt.data();
            if !p.v6 {
                prop_assert!(ipv4_ok(out, 14));
            }
            if p.udp_zero {
                prop_assert_eq!(&out[t + 6..t + 8], &[0u8, 0][..]);
            } else if partial {
                let off = t + if proto == TCP { 16 } else { 6 };
                let want = u32::from(!csum::finish(pseudo_sum(out, 14, t, proto, p.v6)));
                let got = u32::from(u16::from_be_bytes([out[off], out[off + 1]]));
                prop_assert_eq!(want % 0xffff, got % 0xffff);
            } else {
                prop_assert!(l4_ok(out, 14, t, proto, p.v6));
            }
            if p.csum == 1 {
                prop_assert_eq!(pkt.csum_complete_ok(), Some(true));
            }
            let mut parsed = key_of(out);
            parsed.set_priority(key.priority());
            prop_assert_eq!(parsed, key);
        }
    }
}

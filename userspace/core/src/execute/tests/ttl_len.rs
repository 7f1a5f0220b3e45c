//! `check_pkt_len`, `dec_ttl` and `drop`.

use super::*;

/// Runs `src.lists[0]` on `frame`; returns the result, events, final frame, key and the drop reason.
fn run_dr(src: &Src, frame: &[u8]) -> (Result<(), ExecError>, Ctx<'static>, Vec<u8>, FlowKey, Option<DropReason>) {
    let pool: &'static mut [[u8; 512]] = Vec::leak(vec![[0u8; 512]; 8]);
    let mem: &'static mut [u8] = Vec::leak(vec![0u8; 512]);
    let (mut pkt, mut key) = packet(mem, frame);
    let mut ctx = Ctx::new(pool);
    let r = execute(&mut pkt, &mut key, list(0), src, &mut ctx);
    let out = pkt.data().to_vec();
    let dr = pkt.drop_reason();
    (r, ctx, out, key, dr)
}

#[test]
fn check_pkt_len_picks_the_branch_by_length_and_runs_it_as_a_clone() {
    let frame = tcp4();
    let len = frame.len() as u16;
    for (limit, want) in [(len, 3), (len + 1, 3), (len - 1, 2), (0, 2), (u16::MAX, 3)] {
        let src = Src {
            lists: vec![
                vec![
                    Action::CheckPktLen { pkt_len: limit, greater: list(1), less_equal: list(2) },
                    Action::Output(1),
                ],
                vec![Action::Set(idx(0)), Action::Output(2)],
                vec![Action::Set(idx(0)), Action::Output(3)],
            ],
            sets: vec![{
                let (mut v, mut m) = (FlowKey::ZERO, FlowKey::ZERO);
                v.set_ip_ttl(9);
                m.set_ip_ttl(0xff);
                (v, m)
            }],
        };
        let (r, ctx, out, key, dr) = run_dr(&src, &frame);
        r.unwrap();
        assert_eq!(ctx.outputs(), vec![(want, true), (1, true)], "limit {limit}");
        assert_eq!(ctx.clones, 1);
        // The branch's rewrite stayed in the clone.
        assert_eq!(ctx.frame_of(want)[22], 9);
        assert_eq!(out, frame);
        assert_eq!(key.ip_ttl(), 64);
        assert_eq!(dr, None);
    }
}

#[test]
fn check_pkt_len_as_last_action_uses_the_packet_itself() {
    let src = Src {
        lists: vec![
            vec![Action::CheckPktLen { pkt_len: 10, greater: list(1), less_equal: list(2) }],
            vec![Action::Output(5)],
            vec![Action::Output(6)],
        ],
        ..Src::default()
    };
    let (r, ctx, _, _, _) = run_dr(&src, &tcp4());
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(5, true)]);
    assert_eq!(ctx.clones, 0);
}

#[test]
fn dec_ttl_decrements_ipv4_and_ipv6_keeping_checksums() {
    let src = Src { lists: vec![vec![Action::DecTtl(list(1)), Action::Output(1)], vec![Action::Output(9)]], ..Src::default() };
    let (r, ctx, out, key, _) = run_dr(&src, &tcp4());
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, true)]);
    assert_eq!(out[22], 63);
    assert!(ipv4_ok(&out, 14), "IPv4 header checksum updated");
    assert!(l4_ok(&out, 14, 34, TCP, false));
    assert_eq!(key.ip_ttl(), 63);
    let mut expect = tcp4();
    expect[22] = 63;
    assert_eq!(out[..22], expect[..22]);
    assert_eq!(out[26..], expect[26..]);

    let v6 = ipv6(UDP, v6addr(1), v6addr(2), 0, 0, 2, &udp(1, 2, b"abc"));
    let (r, ctx, out, key, _) = run_dr(&src, &v6);
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, true)]);
    assert_eq!(out[21], 1, "hop limit 2 -> 1");
    assert_eq!(key.ip_ttl(), 1);
    assert!(l4_ok(&out, 14, 54, UDP, true));
}

#[test]
fn dec_ttl_at_one_runs_the_exception_list_and_stops() {
    for ttl in [1u8, 0] {
        let frame = ipv4(TCP, 1, 2, 0, ttl, 0, &tcp(1, 2, b"x"));
        let src = Src {
            lists: vec![vec![Action::Output(7), Action::DecTtl(list(1)), Action::Output(1)], vec![Action::Output(9)]],
            ..Src::default()
        };
        let (r, ctx, out, _, dr) = run_dr(&src, &frame);
        r.unwrap();
        // The exception list takes the packet itself, unchanged; the outer list stops.
        assert_eq!(ctx.outputs(), vec![(7, false), (9, true)]);
        assert_eq!(ctx.frame_of(9), frame);
        assert_eq!(out, frame);
        assert_eq!(dr, None);
        // Without an exception list the packet is dropped with OVS_DROP_IP_TTL.
        let src = Src {
            lists: vec![vec![Action::DecTtl(list(1)), Action::Output(1)], vec![]],
            ..Src::default()
        };
        let (r, ctx, _, _, dr) = run_dr(&src, &frame);
        r.unwrap();
        assert!(ctx.outputs().is_empty());
        assert_eq!(dr, Some(DropReason::IpTtl));
        assert_eq!(DropReason::IpTtl.kernel_code(), 0x3_000b);
    }
}

#[test]
fn dec_ttl_leaves_non_ip_alone() {
    // An ARP request.
    let mut arp = vec![0xffu8; 6];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    let src = Src { lists: vec![vec![Action::DecTtl(list(1)), Action::Output(1)], vec![]], ..Src::default() };
    let (r, ctx, out, _, dr) = run_dr(&src, &arp);
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, true)]);
    assert_eq!(out, arp);
    assert_eq!(dr, None);
}

#[test]
fn drop_stops_and_records_the_reason() {
    for (err, want) in [(0, DropReason::Explicit), (5, DropReason::ExplicitWithError)] {
        let src = Src { lists: vec![vec![Action::Output(1), Action::Drop(err), Action::Output(2)]], ..Src::default() };
        let (r, ctx, _, _, dr) = run_dr(&src, &tcp4());
        r.unwrap();
        assert_eq!(ctx.outputs(), vec![(1, false)]);
        assert_eq!(dr, Some(want));
    }
    assert_eq!(DropReason::Explicit.kernel_code(), (3 << 16) | 3);
    assert_eq!(DropReason::ExplicitWithError.name(), "OVS_DROP_EXPLICIT_WITH_ERROR");
}

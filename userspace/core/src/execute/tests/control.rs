//! Control actions: sample, clone, meter, hash, nesting, and errors that stop execution.

use super::*;

#[test]
fn sample_probability_zero_never_and_max_always() {
    let mk = |p| Src {
        lists: vec![
            vec![Action::Sample { probability: p, actions: list(1) }, Action::Output(1)],
            vec![Action::Output(7)],
        ],
        ..Src::default()
    };
    // Probability 0: skipped even when the random number is 0.
    let (r, ctx, _, _) = run(&mk(0), &tcp4(), |c| c.random = 0);
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, true)]);
    // Probability 100%: taken even when the random number is u32::MAX.
    let (r, ctx, _, _) = run(&mk(u32::MAX), &tcp4(), |c| c.random = u32::MAX);
    r.unwrap();
    assert_eq!(
        ctx.outputs(),
        vec![(7, true), (1, true)],
        "the copy's last output consumes the copy"
    );
    assert_eq!(ctx.clones, 1);
    assert_eq!(ctx.randoms_drawn, 0, "no random number needed at 0 or 100%");
    // In between: taken iff random <= probability.
    let (_, ctx, _, _) = run(&mk(1000), &tcp4(), |c| c.random = 1000);
    assert_eq!(ctx.outputs(), vec![(7, true), (1, true)]);
    let (_, ctx, _, _) = run(&mk(1000), &tcp4(), |c| c.random = 1001);
    assert_eq!(ctx.outputs(), vec![(1, true)]);
}

#[test]
fn clone_runs_on_a_copy_and_leaves_packet_and_key_alone() {
    let (v, m) = masked_key(|v, m| {
        v.set_eth_dst([0xee; 6]);
        m.set_eth_dst([0xff; 6]);
    });
    let src = Src {
        lists: vec![
            vec![Action::Clone(list(1)), Action::Output(1)],
            vec![Action::SetMasked(idx(0)), Action::Output(2)],
        ],
        sets: vec![(v, m)],
    };
    let frame = tcp4();
    let (r, ctx, out, key) = run(&src, &frame, |_| {});
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(2, true), (1, true)]);
    assert_eq!(&ctx.frame_of(2)[..6], &[0xee; 6]);
    let Ev::Out { key: k2, .. } = &ctx.events[0] else { panic!() };
    assert_eq!(k2.eth_dst(), [0xee; 6]);
    assert_eq!(ctx.frame_of(1), frame);
    assert_eq!(out, frame);
    assert_eq!(key.eth_dst(), MAC_DST);
    assert_eq!(ctx.clones, 1);
}

#[test]
fn clone_as_last_action_uses_the_packet_itself() {
    let src = Src {
        lists: vec![
            vec![Action::Output(1), Action::Clone(list(1))],
            vec![Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 1 }, Action::Output(2)],
        ],
        ..Src::default()
    };
    let (r, ctx, out, key) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(ctx.clones, 0);
    assert_eq!(ctx.outputs(), vec![(1, false), (2, true)]);
    assert_eq!(&out[12..14], &[0x81, 0x00], "the nested list changed the packet itself");
    assert_eq!(key.vlan_tci(), 0, "but a copy of the key");
}

#[test]
fn clone_without_memory_is_skipped() {
    let src = Src {
        lists: vec![vec![Action::Clone(list(1)), Action::Output(1)], vec![Action::Output(2)]],
        ..Src::default()
    };
    let pool: &'static mut [[u8; 512]] = Vec::leak(vec![]);
    let mem: &'static mut [u8] = Vec::leak(vec![0u8; 512]);
    let (mut pkt, mut key) = packet(mem, &tcp4());
    let mut ctx = Ctx::new(pool);
    execute(&mut pkt, &mut key, list(0), &src, &mut ctx).unwrap();
    assert_eq!(ctx.outputs(), vec![(1, true)]);
}

#[test]
fn trunc_carries_into_a_clone() {
    let src = Src {
        lists: vec![
            vec![Action::Trunc(64), Action::Clone(list(1)), Action::Output(1)],
            vec![Action::Output(2), Action::Output(3)],
        ],
        ..Src::default()
    };
    let (_, ctx, _, _) = run(&src, &tcp4(), |_| {});
    let lens: Vec<_> = ctx
        .events
        .iter()
        .map(|e| if let Ev::Out { max_len, .. } = e { *max_len } else { None })
        .collect();
    assert_eq!(lens, vec![Some(64), None, Some(64)]);
}

#[test]
fn meter_drop_stops_execution() {
    let src = Src {
        lists: vec![vec![Action::Output(1), Action::Meter(5), Action::Output(2)]],
        ..Src::default()
    };
    let (r, ctx, _, _) = run(&src, &tcp4(), |c| c.drop_meter = Some(5));
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, false)]);
    assert!(ctx.events.contains(&Ev::Meter(5)));
    let (r, ctx, _, _) = run(&src, &tcp4(), |c| c.drop_meter = Some(6));
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(1, false), (2, true)]);
}

#[test]
fn hash_sets_dp_hash_from_the_key() {
    let alg = u32::from(crate::ovs_abi::OVS_HASH_ALG_L4);
    let src = Src {
        lists: vec![vec![Action::Hash { alg, basis: 77 }, Action::Output(1)]],
        ..Src::default()
    };
    let frame = tcp4();
    let (r, ctx, _, key) = run(&src, &frame, |_| {});
    r.unwrap();
    let expect = hash::dp_hash(&key_of(&frame), alg, 77).unwrap();
    assert_eq!(key.dp_hash(), expect);
    let Ev::Out { key: ok, .. } = &ctx.events[0] else { panic!() };
    assert_eq!(ok.dp_hash(), expect, "output sees the new hash");
    let src = Src { lists: vec![vec![Action::Hash { alg: 9, basis: 0 }]], ..Src::default() };
    assert_eq!(run(&src, &frame, |_| {}).0, Err(ExecError::Unsupported));
}

#[test]
fn nesting_deeper_than_the_limit_fails() {
    let nest = |depth: usize| {
        let mut lists: Vec<Vec<Action<'static>>> =
            (0..depth).map(|i| vec![Action::Clone(list(i + 1)), Action::Output(99)]).collect();
        lists.push(vec![Action::Output(1)]);
        Src { lists, ..Src::default() }
    };
    let (r, ctx, _, _) = run(&nest(MAX_DEPTH), &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(ctx.outputs().first(), Some(&(1, true)));
    let (r, _, _, _) = run(&nest(MAX_DEPTH + 1), &tcp4(), |_| {});
    assert_eq!(r, Err(ExecError::TooDeep));
}

#[test]
fn decode_errors_stop_execution() {
    let src = Src {
        lists: vec![vec![Action::Output(1), Action::Clone(list(9)), Action::Output(2)]],
        ..Src::default()
    };
    let (r, ctx, _, _) = run(&src, &tcp4(), |_| {});
    assert_eq!(r, Err(ExecError::BadActions));
    assert_eq!(ctx.outputs(), vec![(1, false)]);
    let src = Src { lists: vec![vec![Action::Set(idx(3)), Action::Output(2)]], ..Src::default() };
    assert_eq!(run(&src, &tcp4(), |_| {}).0, Err(ExecError::BadSet));
}

#[test]
fn set_errors_stop_execution_without_panicking() {
    let (v, m) = masked_key(|v, m| {
        v.set_ipv4_dst(1);
        m.set_ipv4_dst(!0);
    });
    let src =
        Src { lists: vec![vec![Action::SetMasked(idx(0)), Action::Output(1)]], sets: vec![(v, m)] };
    let short = tcp4()[..24].to_vec();
    let (r, ctx, _, _) = run(&src, &short, |_| {});
    assert!(r.is_err());
    assert!(ctx.events.is_empty());
}

#[test]
fn tunnel_set_attaches_metadata_and_masked_tunnel_set_is_unsupported() {
    let (v, m) = masked_key(|v, m| {
        v.set_tun_id(0x55);
        v.set_tun_ipv4_dst(0xc0a8_0001);
        m.set_tun_id(!0);
        m.set_tun_ipv4_dst(!0);
    });
    let frame = tcp4();
    let mut mem = [0u8; 512];
    let (mut pkt, mut key) = packet(&mut mem, &frame);
    let before = key;
    apply_set(&mut pkt, &mut key, &v, &m).unwrap();
    assert_eq!(pkt.tunnel().unwrap().tun_id(), 0x55);
    assert_eq!(pkt.tunnel().unwrap().tun_ipv4_dst(), 0xc0a8_0001);
    assert_eq!(key, before, "egress tunnel metadata is not part of the key");
    assert_eq!(pkt.data(), &frame[..]);

    let src = Src { lists: vec![vec![Action::SetMasked(idx(0))]], sets: vec![(v, m)] };
    assert_eq!(run(&src, &frame, |_| {}).0, Err(ExecError::Unsupported));
    let src = Src { lists: vec![vec![Action::Set(idx(0)), Action::Output(1)]], sets: vec![(v, m)] };
    assert_eq!(run(&src, &frame, |_| {}).0, Ok(()));
}

//! VLAN push/pop: frame, key, and when the key must be re-extracted.

use super::*;

#[test]
fn push_vlan_on_untagged_frame_tags_it_and_updates_the_key() {
    let frame = tcp4();
    let src = Src {
        lists: vec![vec![
            Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 0x0064 },
            Action::Output(1),
        ]],
        ..Src::default()
    };
    let (r, ctx, out, key) = run(&src, &frame, |_| {});
    r.unwrap();
    assert_eq!(&out[12..16], &[0x81, 0x00, 0x00, 0x64], "CFI is the key's presence bit, not sent");
    assert_eq!(&out[..12], &frame[..12]);
    assert_eq!(&out[16..], &frame[12..]);
    assert_eq!(key.vlan_tci(), VLAN_CFI | 0x64);
    assert_eq!(key.vlan_tpid(), 0x8100);
    assert_eq!(ctx.frame_of(1), out);
    assert_eq!(key_of(&out), key, "key matches a fresh parse");
}

#[test]
fn push_vlan_on_tagged_frame_invalidates_the_key_and_recirc_reextracts_it() {
    let src = Src {
        lists: vec![vec![
            Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 5 },
            Action::PushVlan { tpid: 0x88a8, tci: VLAN_CFI | 7 },
            Action::Recirc(42),
        ]],
        ..Src::default()
    };
    let (r, ctx, out, key) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(&out[12..20], &[0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x05]);
    assert_eq!(ctx.updates, 1, "the invalid key was re-extracted before recirc");
    let Ev::Recirc { key: rk, last, .. } = &ctx.events[0] else { panic!() };
    assert!(*last);
    assert_eq!(rk.recirc_id(), 42);
    assert_eq!(rk.vlan_tci(), VLAN_CFI | 7);
    assert_eq!(rk.cvlan_tci(), VLAN_CFI | 5);
    assert_eq!(key.recirc_id(), 0, "the executing key keeps its recirc id");
}

#[test]
fn an_invalid_key_is_not_repaired_by_a_later_pop() {
    // Untagged, push A, push B (key invalid), pop B: the frame still carries A.
    let src = Src {
        lists: vec![vec![
            Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 10 },
            Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 20 },
            Action::PopVlan,
            Action::Output(5),
            Action::Recirc(1),
        ]],
        ..Src::default()
    };
    let (r, ctx, out, _) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(&out[12..16], &[0x81, 0x00, 0x00, 10]);
    // As upstream, the invalid key's fields are left alone (not "cleared" by the pop).
    let Ev::Out { key, .. } = &ctx.events[0] else { panic!() };
    assert_eq!(key.vlan_tci(), VLAN_CFI | 10);
    assert_eq!(ctx.updates, 1);
    let Ev::Recirc { key, .. } = &ctx.events[1] else { panic!() };
    assert_eq!(key.vlan_tci(), VLAN_CFI | 10);
}

#[test]
fn recirc_with_a_valid_key_does_not_reextract() {
    let src = Src { lists: vec![vec![Action::Recirc(1), Action::Output(2)]], ..Src::default() };
    let (r, ctx, _, _) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(ctx.updates, 0);
    assert!(matches!(ctx.events[0], Ev::Recirc { last: false, .. }));
    assert_eq!(ctx.outputs(), vec![(2, true)]);
}

#[test]
fn pop_vlan_removes_the_tag_and_clears_the_key() {
    let tagged = {
        let f = tcp4();
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0x00, 0x20, 0x0a]);
        t.extend_from_slice(&f[12..]);
        t
    };
    let src = Src { lists: vec![vec![Action::PopVlan, Action::Output(1)]], ..Src::default() };
    let (r, _, out, key) = run(&src, &tagged, |_| {});
    r.unwrap();
    assert_eq!(out, tcp4());
    assert_eq!((key.vlan_tci(), key.vlan_tpid()), (0, 0));
}

#[test]
fn pop_vlan_of_one_of_two_tags_invalidates_the_key() {
    let f = tcp4();
    let mut t = f[..12].to_vec();
    t.extend_from_slice(&[0x88, 0xa8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x02]);
    t.extend_from_slice(&f[12..]);
    let src = Src { lists: vec![vec![Action::PopVlan, Action::Recirc(3)]], ..Src::default() };
    let (r, ctx, out, _) = run(&src, &t, |_| {});
    r.unwrap();
    assert_eq!(&out[12..16], &[0x81, 0x00, 0x00, 0x02]);
    assert_eq!(ctx.updates, 1);
    let Ev::Recirc { key, .. } = &ctx.events[0] else { panic!() };
    assert_eq!(key.vlan_tci(), VLAN_CFI | 2);
    assert_eq!(key.cvlan_tci(), 0);
}

/// Upstream `skb_vlan_pop` returns 0 on an untagged frame: the action is a no-op, not an error.
#[test]
fn pop_vlan_of_untagged_frame_is_a_no_op_as_upstream() {
    let src = Src { lists: vec![vec![Action::PopVlan, Action::Output(1)]], ..Src::default() };
    let (r, ctx, out, _) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(out, tcp4());
    assert_eq!(ctx.outputs(), vec![(1, true)]);
}

#[test]
fn pop_vlan_of_truncated_tagged_frame_is_an_error() {
    let mut t = tcp4()[..12].to_vec();
    t.extend_from_slice(&[0x81, 0x00, 0x00]);
    let src = Src { lists: vec![vec![Action::PopVlan, Action::Output(1)]], ..Src::default() };
    let (r, ctx, _, _) = run(&src, &t, |_| {});
    assert_eq!(r, Err(ExecError::Packet(crate::packet::PacketError::TooShort)));
    assert!(ctx.events.is_empty(), "an error stops execution");
}

//! Tests of the executor and the set actions, on [`PacketBuf`].

use std::vec;
use std::vec::Vec;

use super::test_util::*;
use super::*;
use crate::csum;
use crate::key::{field, VLAN_CFI};
use crate::packet_buf::{CsumState, PacketBuf};

// ---------------------------------------------------------------------------------------------
// Harness: an in-memory ActionSource and a recording ExecContext.

/// One-byte slices `[i]`, used as "encoded" list and set payload references.
static IDX: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

fn idx(i: usize) -> &'static [u8] {
    &IDX[i..i + 1]
}

fn list(i: usize) -> ActionList<'static> {
    ActionList(idx(i))
}

/// Lists and set payloads by index: `ActionList([i])` is `lists[i]`, a set payload `[j]` is
/// `sets[j]`.
#[derive(Default)]
struct Src {
    lists: Vec<Vec<Action<'static>>>,
    sets: Vec<(FlowKey, FlowKey)>,
}

#[derive(Debug, PartialEq)]
struct DecodeErr;

struct SrcIter<'a> {
    items: Option<core::slice::Iter<'a, Action<'static>>>,
}

impl<'a> Iterator for SrcIter<'a> {
    type Item = Result<Action<'a>, DecodeErr>;
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.items {
            Some(it) => it.next().map(|a| Ok(*a)),
            None => {
                // An unknown list decodes to a single error.
                self.items = Some([].iter());
                Some(Err(DecodeErr))
            }
        }
    }
}

impl ActionSource for Src {
    type Error = DecodeErr;
    type Iter<'a> = SrcIter<'a>;
    fn actions<'a>(&'a self, list: ActionList<'a>) -> SrcIter<'a> {
        SrcIter {
            items: list.0.first().and_then(|&i| self.lists.get(usize::from(i))).map(|l| l.iter()),
        }
    }
    fn decode_set(&self, payload: &[u8], _masked: bool) -> Result<(FlowKey, FlowKey), DecodeErr> {
        payload.first().and_then(|&i| self.sets.get(usize::from(i))).copied().ok_or(DecodeErr)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Out { port: u32, frame: Vec<u8>, max_len: Option<u32>, last: bool, key: FlowKey },
    Up { pid: u32, frame: Vec<u8>, max_len: Option<u32>, last: bool },
    Recirc { frame: Vec<u8>, key: FlowKey, last: bool },
    Meter(u32),
}

struct Ctx<'p> {
    spare: &'p mut [[u8; 512]],
    events: Vec<Ev>,
    random: u32,
    randoms_drawn: usize,
    drop_meter: Option<u32>,
    clones: usize,
    updates: usize,
}

impl<'p> Ctx<'p> {
    fn new(spare: &'p mut [[u8; 512]]) -> Self {
        Self {
            spare,
            events: vec![],
            random: 0,
            randoms_drawn: 0,
            drop_meter: None,
            clones: 0,
            updates: 0,
        }
    }
    fn outputs(&self) -> Vec<(u32, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Out { port, last, .. } => Some((*port, *last)),
                _ => None,
            })
            .collect()
    }
    fn frame_of(&self, port: u32) -> Vec<u8> {
        self.events
            .iter()
            .find_map(|e| match e {
                Ev::Out { port: p, frame, .. } if *p == port => Some(frame.clone()),
                _ => None,
            })
            .unwrap()
    }
}

impl<'p> ExecContext<PacketBuf<'p>> for Ctx<'p> {
    fn output(
        &mut self,
        pkt: &mut PacketBuf<'p>,
        key: &FlowKey,
        port: u32,
        max_len: Option<u32>,
        last: bool,
    ) {
        self.events.push(Ev::Out { port, frame: pkt.data().to_vec(), max_len, last, key: *key });
    }
    fn userspace(
        &mut self,
        pkt: &mut PacketBuf<'p>,
        _key: &FlowKey,
        args: &Userspace<'_>,
        _actions: ActionList<'_>,
        max_len: Option<u32>,
        last: bool,
    ) {
        self.events.push(Ev::Up { pid: args.pid, frame: pkt.data().to_vec(), max_len, last });
    }
    fn recirc(&mut self, pkt: &mut PacketBuf<'p>, key: &FlowKey, last: bool) {
        self.events.push(Ev::Recirc { frame: pkt.data().to_vec(), key: *key, last });
    }
    fn clone_packet(&mut self, pkt: &PacketBuf<'p>) -> Option<PacketBuf<'p>> {
        let spare = core::mem::take(&mut self.spare);
        let (first, rest) = spare.split_first_mut()?;
        self.spare = rest;
        self.clones += 1;
        pkt.copy_into(first).ok()
    }
    fn random_u32(&mut self) -> u32 {
        self.randoms_drawn += 1;
        self.random
    }
    fn meter(&mut self, _pkt: &PacketBuf<'p>, _key: &FlowKey, meter_id: u32) -> bool {
        self.events.push(Ev::Meter(meter_id));
        self.drop_meter == Some(meter_id)
    }
    fn update_key(&mut self, pkt: &PacketBuf<'p>, key: &mut FlowKey) -> Result<(), ExecError> {
        self.updates += 1;
        let fresh = key_of(pkt.data());
        key.as_bytes_mut()[field::ETH_SRC.start..]
            .copy_from_slice(&fresh.as_bytes()[field::ETH_SRC.start..]);
        Ok(())
    }
}

fn tcp4() -> Vec<u8> {
    ipv4(TCP, 0x0a00_0001, 0x0a00_0002, 0x10, 64, 0x4000, &tcp(1234, 80, b"hello, world!"))
}

/// Runs `src.lists[0]` on `frame`; returns the result, the context events, the final frame and
/// key.
fn run(
    src: &Src,
    frame: &[u8],
    setup: impl FnOnce(&mut Ctx<'_>),
) -> (Result<(), ExecError>, Ctx<'static>, Vec<u8>, FlowKey) {
    let pool: &'static mut [[u8; 512]] = Vec::leak(vec![[0u8; 512]; 8]);
    let mem: &'static mut [u8] = Vec::leak(vec![0u8; 512]);
    let (mut pkt, mut key) = packet(mem, frame);
    let mut ctx = Ctx::new(pool);
    setup(&mut ctx);
    let r = execute(&mut pkt, &mut key, list(0), src, &mut ctx);
    let out = pkt.data().to_vec();
    (r, ctx, out, key)
}

fn masked_key(f: impl FnOnce(&mut FlowKey, &mut FlowKey)) -> (FlowKey, FlowKey) {
    let mut v = FlowKey::ZERO;
    let mut m = FlowKey::ZERO;
    f(&mut v, &mut m);
    (v, m)
}

// ---------------------------------------------------------------------------------------------
// Output, trunc, userspace.

#[test]
fn outputs_are_reported_in_order_and_only_the_last_consumes() {
    let src = Src {
        lists: vec![vec![Action::Output(3), Action::Output(1), Action::Output(2)]],
        ..Src::default()
    };
    let (r, ctx, _, _) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    assert_eq!(ctx.outputs(), vec![(3, false), (1, false), (2, true)]);
}

#[test]
fn trunc_applies_to_the_next_output_only() {
    let src = Src {
        lists: vec![vec![
            Action::Output(1),
            Action::Trunc(20),
            Action::Output(2),
            Action::Output(3),
            Action::Trunc(30),
            Action::Userspace(Userspace {
                pid: 9,
                userdata: None,
                egress_tun_port: None,
                include_actions: false,
            }),
        ]],
        ..Src::default()
    };
    let (r, ctx, _, _) = run(&src, &tcp4(), |_| {});
    r.unwrap();
    let lens: Vec<_> = ctx
        .events
        .iter()
        .map(|e| match e {
            Ev::Out { max_len, .. } | Ev::Up { max_len, .. } => *max_len,
            _ => panic!(),
        })
        .collect();
    assert_eq!(lens, vec![None, Some(20), None, Some(30)]);
    assert!(matches!(ctx.events[3], Ev::Up { pid: 9, last: true, .. }));
}

// ---------------------------------------------------------------------------------------------
// VLAN.

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

// ---------------------------------------------------------------------------------------------
// Sample, clone, meter, hash, nesting.

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

// ---------------------------------------------------------------------------------------------
// Property: any sequence of sets on random packets keeps every checksum valid.

mod prop {
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
}

#[test]
fn csum_state_is_visible() {
    let mut mem = [0u8; 64];
    let mut p = PacketBuf::with_frame(&mut mem, 0, &[0u8; 14]).unwrap();
    assert_eq!(p.csum_state(), CsumState::None);
    p.set_csum_partial();
    assert!(crate::packet::Packet::csum_partial(&p));
}

/// End to end through the real codec: ovs-dpctl text → validated netlink actions → executor, on a
/// packet whose key and offsets come from flow extraction.
#[test]
fn text_actions_run_through_the_netlink_source() {
    use crate::extract::{extract, Metadata};
    use crate::nla::Writer;
    use crate::ovs::action_nl::validate_actions;
    use crate::text::actions::parse_actions;
    use super::NetlinkActions;

    let frame = tcp4();
    let (key0, offs) = extract(&frame, &Metadata { in_port: 1, ..Metadata::default() });
    let mut abuf = [0u8; 256];
    let mut w = Writer::new(&mut abuf);
    parse_actions(
        "set(ipv4(src=10.0.0.1,dst=192.168.1.1,proto=6,tos=16,ttl=63,frag=no)),\
         set(eth(src=02:00:00:00:00:aa,dst=02:00:00:00:00:bb)),push_vlan(vid=10,pcp=3),2,pop_vlan,3",
        &mut w,
    )
    .unwrap();
    let n = w.len();
    let actions = ActionList(&abuf[..n]);
    validate_actions(actions.0, &key0).unwrap();

    let pool: &'static mut [[u8; 512]] = Vec::leak(vec![[0u8; 512]; 8]);
    let mut mem = vec![0u8; 512];
    let mut pkt = PacketBuf::with_frame(&mut mem, 32, &frame).unwrap();
    pkt.set_network_offset(offs.network.map(usize::from));
    pkt.set_transport_offset(offs.transport.map(usize::from));
    let mut key = key0;
    let mut ctx = Ctx::new(pool);
    execute(&mut pkt, &mut key, actions, &NetlinkActions, &mut ctx).unwrap();

    assert_eq!(ctx.outputs(), vec![(2, false), (3, true)]);
    let tagged = ctx.frame_of(2);
    assert_eq!(&tagged[0..6], &[2, 0, 0, 0, 0, 0xbb]);
    assert_eq!(&tagged[6..12], &[2, 0, 0, 0, 0, 0xaa]);
    assert_eq!(&tagged[12..16], &[0x81, 0x00, 0x60, 0x0a], "802.1Q, PCP 3, VID 10");
    let untagged = ctx.frame_of(3);
    assert_eq!(untagged.len(), frame.len());
    let (k3, o3) = extract(&untagged, &Metadata { in_port: 1, ..Metadata::default() });
    assert_eq!(k3.ipv4_dst(), 0xc0a8_0101);
    assert_eq!(k3.ip_ttl(), 63);
    let n3 = usize::from(o3.network.unwrap());
    assert!(ipv4_ok(&untagged, n3), "IPv4 header checksum still valid");
    assert!(l4_ok(&untagged, n3, usize::from(o3.transport.unwrap()), TCP, false), "TCP checksum still valid");
}

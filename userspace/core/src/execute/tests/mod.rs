//! Tests of the executor and the set actions, on [`PacketBuf`]: the harness (an in-memory
//! [`ActionSource`] and a recording [`ExecContext`]), output/trunc/userspace and the end-to-end
//! run through the netlink codec here; each action family in its own file.

use std::vec;
use std::vec::Vec;

use super::test_util::*;
use super::*;
use crate::csum;
use crate::key::{field, VLAN_CFI};
use crate::packet_buf::{CsumState, PacketBuf};

mod control;
mod set;
mod set_prop;
mod ttl_len;
mod vlan;

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

//! The codec against real traffic: every generic netlink message that Open vSwitch 3.1 (`ovs-dpctl`,
//! `ovs-vswitchd`) and Linux 6.12's `openvswitch.ko` exchanged in `tools/capture/ovs-netlink.sh`, captured with
//! nlmon (vectors in `tests/vectors/`, regenerated with `tools/capture/pcap-to-vectors.py`).
//!
//! Checked: every message's attribute set parses; flow keys, masks and actions that the kernel emitted re-encode
//! byte for byte; userspace requests survive decode → encode → decode; and for every packet the kernel sent up,
//! rvs's own flow extraction computes the key the kernel computed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use rvs_core::extract::{extract, Metadata};
use rvs_core::key::FlowKey;
use rvs_core::nla::{Attrs, Writer};
use rvs_core::ovs::dp_nl::DpAttrs;
use rvs_core::ovs::flow_nl::FlowAttrs;
use rvs_core::ovs::meter_nl::MeterAttrs;
use rvs_core::ovs::packet_nl::PacketAttrs;
use rvs_core::ovs::vport_nl::VportAttrs;
use rvs_core::ovs::{decode_action, decode_key, decode_match, encode_action, key_nl};
use rvs_core::ovs_abi::{OVS_PACKET_CMD_ACTION, OVS_PACKET_CMD_MISS};

const VECTORS: &str = include_str!("vectors/ovs-3.1-openvswitch-ko.txt");

struct Msg {
    request: bool,
    family: String,
    cmd: u8,
    /// The attributes after nlmsghdr (16), genlmsghdr (4) and ovs_header (4).
    attrs: Vec<u8>,
}

fn messages() -> Vec<Msg> {
    VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let bytes: Vec<u8> = (0..f[3].len()).step_by(2).map(|i| u8::from_str_radix(&f[3][i..i + 2], 16).unwrap()).collect();
            let len = u32::from_ne_bytes(bytes[..4].try_into().unwrap()) as usize;
            assert_eq!(len, bytes.len(), "nlmsg_len of {l:.60}");
            Msg { request: f[0] == "req", family: f[1].into(), cmd: f[2].parse().unwrap(), attrs: bytes[24..].to_vec() }
        })
        .collect()
}

fn count(msgs: &[Msg], family: &str, request: bool) -> usize {
    msgs.iter().filter(|m| m.family == family && m.request == request).count()
}

#[test]
fn the_capture_covers_every_family_both_ways() {
    let msgs = messages();
    for family in ["ovs_datapath", "ovs_vport", "ovs_flow", "ovs_packet", "ovs_meter"] {
        assert!(count(&msgs, family, true) > 0, "{family} requests in the capture");
        assert!(count(&msgs, family, false) > 0, "{family} replies in the capture");
    }
}

#[test]
fn every_message_parses() {
    let mut failures = Vec::new();
    for (i, m) in messages().iter().enumerate() {
        let r = match m.family.as_str() {
            "ovs_datapath" => DpAttrs::parse(&m.attrs).map(|_| ()),
            "ovs_vport" => VportAttrs::parse(&m.attrs).map(|_| ()),
            "ovs_flow" => FlowAttrs::parse(&m.attrs).map(|_| ()),
            "ovs_packet" => PacketAttrs::parse(&m.attrs).map(|_| ()),
            "ovs_meter" => MeterAttrs::parse(&m.attrs).map(|_| ()),
            other => panic!("unexpected family {other}"),
        };
        if let Err(e) = r {
            failures.push(format!("#{i} {} {} cmd {}: {e}", if m.request { "req" } else { "rep" }, m.family, m.cmd));
        }
    }
    assert!(failures.is_empty(), "{} messages fail to parse:\n{}", failures.len(), failures.join("\n"));
}

/// Re-encodes an action list attribute by attribute.
fn reencode_actions(actions: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; actions.len() + 256];
    let mut w = Writer::new(&mut buf);
    for a in Attrs::new(actions) {
        encode_action(&mut w, &decode_action(a.unwrap()).unwrap()).unwrap();
    }
    let n = w.len();
    buf.truncate(n);
    buf
}

#[test]
fn flow_keys_masks_and_actions_round_trip() {
    let (mut exact, mut semantic) = (0, 0);
    let mut failures = Vec::new();
    for (i, m) in messages().iter().enumerate().filter(|(_, m)| m.family == "ovs_flow") {
        let f = FlowAttrs::parse(&m.attrs).unwrap();
        if let Some(key) = f.key {
            let mat = match decode_match(key, f.mask) {
                Ok(mat) => mat,
                Err(e) => {
                    failures.push(format!("#{i} key/mask decode: {e}"));
                    continue;
                }
            };
            let mut kb = vec![0u8; 1024];
            let mut w = Writer::new(&mut kb);
            key_nl::put_key_attrs(&mut w, &mat.key, &mat.key, false).unwrap();
            let kn = w.len();
            let mut mb = vec![0u8; 1024];
            let mut w = Writer::new(&mut mb);
            key_nl::put_key_attrs(&mut w, &mat.key, &mat.mask, true).unwrap();
            let mn = w.len();
            if !m.request {
                // What the kernel emitted, rvs emits identically.
                if &kb[..kn] != key {
                    failures.push(format!("#{i} key re-encoding differs:\n  kernel {}\n  rvs    {}", hex(key), hex(&kb[..kn])));
                }
                if let Some(mask) = f.mask {
                    if &mb[..mn] != mask {
                        failures.push(format!("#{i} mask re-encoding differs:\n  kernel {}\n  rvs    {}", hex(mask), hex(&mb[..mn])));
                    }
                }
                exact += 1;
            } else {
                // Userspace may order attributes its own way: the meaning must survive a round trip.
                let again = decode_match(&kb[..kn], Some(&mb[..mn])).unwrap();
                if again.key.masked(&again.mask) != mat.key.masked(&mat.mask) || again.mask != mat.mask {
                    failures.push(format!("#{i} request match changed in a round trip"));
                }
                semantic += 1;
            }
        }
        if let Some(actions) = f.actions {
            if reencode_actions(actions) != actions {
                failures.push(format!("#{i} actions re-encoding differs: {}", hex(actions)));
            }
        }
    }
    assert!(exact > 20 && semantic > 20, "enough flows of both kinds ({exact} kernel, {semantic} userspace)");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// For every packet the kernel sent to userspace, rvs's extraction of the packet (with the metadata the kernel
/// reported) equals the key the kernel extracted.
#[test]
fn extraction_agrees_with_the_kernel_on_every_upcalled_packet() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, m) in messages().iter().enumerate() {
        let upcall = m.family == "ovs_packet"
            && !m.request
            && (u16::from(m.cmd) == OVS_PACKET_CMD_MISS || u16::from(m.cmd) == OVS_PACKET_CMD_ACTION);
        if !upcall {
            continue;
        }
        let p = PacketAttrs::parse(&m.attrs).unwrap();
        let kernel: FlowKey = match decode_key(p.key.unwrap()) {
            Ok(k) => k,
            Err(e) => {
                failures.push(format!("#{i} upcall key: {e}"));
                continue;
            }
        };
        let md = Metadata {
            in_port: kernel.in_port(),
            priority: kernel.priority(),
            skb_mark: kernel.skb_mark(),
            recirc_id: kernel.recirc_id(),
            dp_hash: kernel.dp_hash(),
            ..Metadata::default()
        };
        let (ours, _) = extract(p.packet.unwrap(), &md);
        if ours != kernel {
            failures.push(format!("#{i} extraction differs:\n  kernel {kernel:?}\n  rvs    {ours:?}"));
        }
        checked += 1;
    }
    assert!(checked > 0, "the capture holds upcalls");
    assert!(failures.is_empty(), "{} of {checked} upcalls:\n{}", failures.len(), failures.join("\n"));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

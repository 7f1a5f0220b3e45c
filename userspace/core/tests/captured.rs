//! The codec against real traffic: every generic netlink message that Open vSwitch 3.1 (`ovs-dpctl`,
//! `ovs-vswitchd`) and Linux 6.12's `openvswitch.ko` exchanged in `tools/capture/ovs-netlink.sh`, captured with
//! nlmon (vectors in `tests/vectors/`, regenerated with `tools/capture/pcap-to-vectors.py`).
//!
//! Checked: every message's attribute set parses; flow keys, masks and actions that the kernel emitted re-encode
//! byte for byte; userspace requests survive decode → encode → decode; and for every packet the kernel sent up,
//! rvs's own flow extraction computes the key the kernel computed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use rvs_core::actions::{Action, ActionList};
use rvs_core::extract::{extract, Metadata};
use rvs_core::key::FlowKey;
use rvs_core::nla::{Attrs, Writer};
use rvs_core::ovs::dp_nl::DpAttrs;
use rvs_core::ovs::flow_nl::FlowAttrs;
use rvs_core::ovs::meter_nl::MeterAttrs;
use rvs_core::ovs::packet_nl::PacketAttrs;
use rvs_core::ovs::vport_nl::VportAttrs;
use rvs_core::ovs::{decode_action, decode_key, decode_match, encode_action, key_nl, CodecError, ErrorKind};
use rvs_core::ovs_abi::{OVS_ACTION_ATTR_SAMPLE, OVS_FLOW_CMD_NEW, OVS_PACKET_CMD_ACTION, OVS_PACKET_CMD_MISS};

const VECTORS: &str = include_str!("vectors/ovs-3.1-openvswitch-ko.txt");

struct Msg {
    request: bool,
    /// `nlmsg_seq`: a reply carries its request's.
    seq: u32,
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
            let seq = u32::from_ne_bytes(bytes[8..12].try_into().unwrap());
            Msg { request: f[0] == "req", seq, family: f[1].into(), cmd: f[2].parse().unwrap(), attrs: bytes[24..].to_vec() }
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
fn reencode_actions(actions: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; actions.len() + 256];
    let mut w = Writer::new(&mut buf);
    for a in Attrs::new(actions) {
        let a = a.map_err(|e| format!("framing: {e:?}"))?;
        let action = decode_action(a).map_err(|e| format!("decode: {e}"))?;
        encode_action(&mut w, &action).map_err(|e| format!("encode: {e}"))?;
    }
    let n = w.len();
    buf.truncate(n);
    Ok(buf)
}

/// Re-encodes an action list at every depth (nested `sample`/`clone` lists too): rvs's canonical form, a function
/// of the decoded meaning only.
fn canonical_actions(actions: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for a in Attrs::new(actions) {
        let a = a.map_err(|e| format!("framing: {e:?}"))?;
        let action = decode_action(a).map_err(|e| format!("decode: {e}"))?;
        let inner = match action {
            Action::Sample { actions, .. } | Action::Clone(actions) | Action::DecTtl(actions) => {
                Some(canonical_actions(actions.0)?)
            }
            _ => None,
        };
        let branches = match action {
            Action::CheckPktLen { greater, less_equal, .. } => {
                Some((canonical_actions(greater.0)?, canonical_actions(less_equal.0)?))
            }
            _ => None,
        };
        let action = match (action, inner.as_deref(), branches.as_ref()) {
            (Action::Sample { probability, .. }, Some(list), _) => Action::Sample { probability, actions: ActionList(list) },
            (Action::Clone(_), Some(list), _) => Action::Clone(ActionList(list)),
            (Action::DecTtl(_), Some(list), _) => Action::DecTtl(ActionList(list)),
            (Action::CheckPktLen { pkt_len, .. }, _, Some((g, le))) => {
                Action::CheckPktLen { pkt_len, greater: ActionList(g), less_equal: ActionList(le) }
            }
            (other, _, _) => other,
        };
        let mut buf = vec![0u8; a.payload.len() + 256];
        let mut w = Writer::new(&mut buf);
        encode_action(&mut w, &action).map_err(|e| format!("encode: {e}"))?;
        let n = w.len();
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// Attributes that rvs deliberately does not implement (no conntrack, no MPLS): ovs-vswitchd
/// 3.1 probes each one at startup with an `OVS_FLOW_CMD_NEW` request (`dpif_probe_feature`: ct_state/ct_zone/
/// ct_mark/ct_label and ct_orig_tuple keys, MPLS label depth, ct_clear, add_mpls; check_pkt_len too, which rvs
/// implements), which
/// openvswitch.ko accepts. rvs must refuse exactly these, as unsupported and naming the attribute, so that
/// ovs-vswitchd turns the features off. ovs-vswitchd then reads each probe flow back (`OVS_FLOW_CMD_GET`) to check
/// that the datapath kept it; the kernel's replies describe flows that rvs never creates, so a reply may fall in
/// this class only when it answers a request for a flow whose creation rvs refused (same key as a refused
/// `OVS_FLOW_CMD_NEW`). Nothing else the kernel emitted may.
const NOT_IMPLEMENTED: [&str; 9] = [
    "OVS_KEY_ATTR_MPLS",
    "OVS_KEY_ATTR_CT_STATE",
    "OVS_KEY_ATTR_CT_ZONE",
    "OVS_KEY_ATTR_CT_MARK",
    "OVS_KEY_ATTR_CT_LABELS",
    "OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4",
    "OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6",
    "OVS_ACTION_ATTR_CT_CLEAR",
    "OVS_ACTION_ATTR_ADD_MPLS",
];

/// Whether `e` is rvs refusing one of [`NOT_IMPLEMENTED`].
fn refused_feature(e: &CodecError) -> bool {
    e.kind == ErrorKind::Unsupported && NOT_IMPLEMENTED.contains(&e.attr)
}

/// The first error of decoding a flow message's key/mask and actions, if any.
fn flow_error(f: &FlowAttrs<'_>) -> Option<CodecError> {
    let key = f.key.and_then(|k| decode_match(k, f.mask).err());
    key.or_else(|| Attrs::new(f.actions.unwrap_or(&[])).find_map(|a| decode_action(a.ok()?).err()))
}

/// For each flow message: whether it is a refused feature probe (a request rvs refuses with a [`NOT_IMPLEMENTED`]
/// error) or the kernel's answer about a flow rvs refused to create (a reply whose request's key is that of a
/// refused `OVS_FLOW_CMD_NEW`).
fn refused_probes(msgs: &[Msg]) -> Vec<bool> {
    let mut refused_keys: Vec<&[u8]> = Vec::new();
    let mut out = vec![false; msgs.len()];
    for (i, m) in msgs.iter().enumerate().filter(|(_, m)| m.family == "ovs_flow") {
        let f = FlowAttrs::parse(&m.attrs).unwrap();
        if !flow_error(&f).is_some_and(|e| refused_feature(&e)) {
            continue;
        }
        if m.request {
            out[i] = true;
            if u16::from(m.cmd) == OVS_FLOW_CMD_NEW {
                refused_keys.extend(f.key);
            }
        } else {
            let request = msgs[..i].iter().rev().find(|r| r.request && r.family == "ovs_flow" && r.seq == m.seq);
            let request_key = request.and_then(|r| FlowAttrs::parse(&r.attrs).unwrap().key);
            out[i] = request_key.is_some_and(|k| refused_keys.contains(&k));
        }
    }
    out
}

#[test]
fn flow_keys_masks_and_actions_round_trip() {
    let (mut exact, mut semantic, mut probes) = (0, 0, 0);
    let mut failures = Vec::new();
    let msgs = messages();
    let refused = refused_probes(&msgs);
    for (i, m) in msgs.iter().enumerate().filter(|(_, m)| m.family == "ovs_flow") {
        let dir = if m.request { "req" } else { "rep" };
        let f = FlowAttrs::parse(&m.attrs).unwrap();
        if let Some(key) = f.key {
            let mat = match decode_match(key, f.mask) {
                Ok(mat) => Some(mat),
                Err(e) if refused[i] && refused_feature(&e) => {
                    probes += 1;
                    None
                }
                Err(e) => {
                    failures.push(format!("#{i} {dir} key/mask decode: {e}"));
                    None
                }
            };
            if let Some(mat) = mat {
                let mut kb = vec![0u8; 1024];
                let mut w = Writer::new(&mut kb);
                key_nl::put_key_attrs(&mut w, &mat.key, &mat.key, false).unwrap();
                let kn = w.len();
                // Upstream `ovs_nla_put_mask` takes the attribute structure from the flow's *masked* key
                // (`flow->key`), whereas `OVS_FLOW_ATTR_KEY` of a flow without UFID is its unmasked key: e.g. an
                // 802.2 key (no ETHERTYPE) whose ethertype is wildcarded has masked ethertype 0, so its mask
                // carries ETHERTYPE 0. The datapath (kmod/flow_cmd.rs) passes the classifier's masked key too.
                let structure = mat.key.masked(&mat.mask);
                let mut mb = vec![0u8; 1024];
                let mut w = Writer::new(&mut mb);
                key_nl::put_key_attrs(&mut w, &structure, &mat.mask, true).unwrap();
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
                    match decode_match(&kb[..kn], Some(&mb[..mn])) {
                        Ok(again) if again.key.masked(&again.mask) == mat.key.masked(&mat.mask) && again.mask == mat.mask => {}
                        Ok(_) => failures.push(format!("#{i} request match changed in a round trip")),
                        Err(e) => failures.push(format!("#{i} request match does not decode after a round trip: {e}")),
                    }
                    semantic += 1;
                }
            }
        }
        if let Some(actions) = f.actions {
            let first_err = || Attrs::new(actions).find_map(|a| decode_action(a.ok()?).err());
            match (reencode_actions(actions), canonical_actions(actions)) {
                (Ok(again), _) if again == actions => {}
                // Userspace orders OVS_SAMPLE_ATTR_ACTIONS before OVS_SAMPLE_ATTR_PROBABILITY (ovs-vswitchd's
                // sample-nesting probe); the kernel (`sample_action_to_attr`) and rvs emit PROBABILITY first.
                // Likewise check_pkt_len: userspace sends IF_GREATER first, the kernel dumps IF_LESS_EQUAL first.
                // A request that differs must hold one of those, and mean the same at every depth after
                // re-encoding.
                (Ok(again), Ok(canon)) if m.request => {
                    let has_sample = Attrs::new(actions)
                        .any(|a| [OVS_ACTION_ATTR_SAMPLE, rvs_core::ovs_abi::OVS_ACTION_ATTR_CHECK_PKT_LEN].contains(&a.unwrap().kind));
                    if !has_sample || canonical_actions(&again).as_ref() != Ok(&canon) {
                        failures.push(format!("#{i} req actions changed in a round trip:\n  sent {}\n  rvs  {}", hex(actions), hex(&again)));
                    }
                }
                (Ok(again), _) => failures.push(format!("#{i} {dir} actions re-encoding differs:\n  kernel {}\n  rvs    {}", hex(actions), hex(&again))),
                (Err(_), _) if refused[i] && first_err().is_some_and(|e| refused_feature(&e)) => probes += 1,
                (Err(e), _) => failures.push(format!("#{i} {dir} actions {}: {e}", hex(actions))),
            }
        }
    }
    eprintln!("{exact} kernel flows re-encoded exactly, {semantic} userspace flows round-tripped, {probes} feature probes refused");
    assert!(exact > 20 && semantic > 20, "enough flows of both kinds ({exact} kernel, {semantic} userspace)");
    // The capture holds ovs-vswitchd's feature probes; they must be seen (and refused), not silently skipped.
    assert!(probes >= NOT_IMPLEMENTED.len(), "ovs-vswitchd's feature probes refused ({probes})");
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
        checked += 1;
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
    }
    eprintln!("{checked} upcalled packets extracted");
    assert!(checked > 0, "the capture holds upcalls");
    assert!(failures.is_empty(), "{} of {checked} upcalls:\n{}", failures.len(), failures.join("\n"));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

//! The flow text syntax against ovs-ofctl:
//! - every flow of `vectors/ovs/flows.tsv` parsed by rvs means the same as the flow-mod
//!   ovs-ofctl sent for it (compared after a wire round trip in the same version);
//! - rvs prints matches and actions of every flow-mod vector exactly as `ovs-ofctl ofp-print`
//!   did (`vectors/rvs/*.txt`, `vectors/ovs/flowmods.txt`), and flow stats in `dump-flows` shape.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::from_hex;
use rvs_openflow::msg::{FlowModCommand, Message, MultipartReplyBody};
use rvs_openflow::text::{format_flow_stats, format_instructions, format_match, parse_flow_mod};
use rvs_openflow::{decode, encode, OfMessage, Version};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(sub)
}

fn flow_mod_of(name: &str) -> OfMessage {
    let text = std::fs::read_to_string(dir("ovs").join(format!("{name}.hex"))).unwrap();
    text.lines()
        .map(|l| decode(&from_hex(l)).unwrap())
        .find(|m| matches!(m.msg, Message::FlowMod(_)))
        .unwrap_or_else(|| panic!("{name}: no flow-mod captured"))
}

#[test]
fn parsed_flows_mean_what_ovs_ofctl_sent() {
    let tsv = std::fs::read_to_string(dir("ovs").join("flows.tsv")).unwrap();
    let mut n = 0;
    for line in tsv.lines() {
        let [name, ver, cmd, flow]: [&str; 4] = line.split('\t').collect::<Vec<_>>().try_into().unwrap();
        let command = match cmd {
            "add-flow" => FlowModCommand::Add,
            "mod-flows" => FlowModCommand::Modify,
            "--strict mod-flows" => FlowModCommand::ModifyStrict,
            "del-flows" => FlowModCommand::Delete,
            "--strict del-flows" => FlowModCommand::DeleteStrict,
            _ => continue,
        };
        let flow = if cmd.ends_with(flow) { "" } else { flow };
        let version = Version::parse(ver).unwrap();
        let captured = flow_mod_of(name);
        let fm = parse_flow_mod(flow, command).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = OfMessage { version, xid: captured.xid, msg: Message::FlowMod(fm) };
        let bytes = encode(&ours).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decode(&bytes).unwrap(), captured, "{name}: {flow}");
        n += 1;
    }
    assert!(n >= 30, "{n} flows");
}

/// `OFPT_FLOW_MOD (OF1.3) (xid=0x6): ADD table:2 MATCH params actions=ACTIONS` → (MATCH, ACTIONS).
fn split_ofp_print_flow_mod(line: &str) -> (String, String) {
    let body = line.split_once("): ").unwrap().1;
    let (head, actions) = body.split_once("actions=").unwrap();
    let mut toks = head.split_whitespace().skip(1).filter(|t| !t.starts_with("table:"));
    let params = ["cookie:", "idle:", "hard:", "out_port:", "out_group:", "buf:", "importance:", "pri:"];
    let flags = ["send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts", "emerg"];
    let m = match toks.next() {
        Some(t) if !params.iter().any(|p| t.starts_with(p)) && !flags.contains(&t) => t.to_string(),
        _ => String::new(),
    };
    (m, actions.trim_end().to_string())
}

fn check_flow_mod_text(name: &str, m: &OfMessage, printed: &str) {
    let Message::FlowMod(fm) = &m.msg else { return };
    let (want_match, want_actions) = split_ofp_print_flow_mod(printed);
    // OpenFlow 1.3 cannot say "VLAN TCI 0 exactly" without also saying "PCP 0": same meaning.
    let want_match = want_match.replace("vlan_tci=0x0000/0x1fff", "vlan_tci=0x0000");
    assert_eq!(format_match(&fm.match_, fm.priority), want_match, "{name}: match");
    assert_eq!(format_instructions(&fm.instructions, m.version), want_actions, "{name}: actions");
}

#[test]
fn rvs_flow_mods_print_like_ovs_ofctl() {
    let mut n = 0;
    for (name, m) in common::samples() {
        let txt = std::fs::read_to_string(dir("rvs").join(format!("{name}.txt"))).unwrap();
        if matches!(m.msg, Message::FlowMod(_)) {
            check_flow_mod_text(&name, &m, txt.lines().next().unwrap());
            n += 1;
        }
    }
    assert!(n >= 15, "{n}");
}

#[test]
fn dump_flows_lines_match_ovs_ofctl() {
    for (name, m) in common::samples() {
        let Message::MultipartReply(r) = &m.msg else { continue };
        let MultipartReplyBody::Flow(flows) = &r.body else { continue };
        let txt = std::fs::read_to_string(dir("rvs").join(format!("{name}.txt"))).unwrap();
        let want: Vec<&str> = txt.lines().skip(1).collect();
        let got: Vec<String> = flows.iter().map(|f| format_flow_stats(f, m.version)).collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn captured_flow_mods_print_like_ovs_ofctl() {
    let path = dir("ovs").join("flowmods.txt");
    let regen = std::env::var_os("RVS_OF_REGEN").is_some();
    let tsv = std::fs::read_to_string(dir("ovs").join("flows.tsv")).unwrap();
    let names: Vec<&str> = tsv
        .lines()
        .filter(|l| !l.contains("dump-flows"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    if regen {
        let mut out = String::new();
        for name in &names {
            let m = flow_mod_of(name);
            let hex: String = encode(&m).unwrap().iter().map(|b| format!("{b:02x}")).collect();
            let o = Command::new("ovs-ofctl").args(["ofp-print", &hex]).output().unwrap();
            let first = String::from_utf8_lossy(&o.stdout).lines().next().unwrap().to_string();
            out.push_str(&format!("{name}\t{first}\n"));
        }
        std::fs::write(&path, out).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let (name, printed) = line.split_once('\t').unwrap();
        check_flow_mod_text(name, &flow_mod_of(name), printed);
        n += 1;
    }
    assert_eq!(n, names.len());
}

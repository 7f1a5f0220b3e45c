//! The `ovs-ofctl` syntaxes that the flow parser of `rvs-openflow` does not cover: groups
//! (`add-group`) and packet-outs (`packet-out`).

use rvs_openflow::msg::{Bucket, GroupMod, GroupModCommand, GroupType, PacketOut};
use rvs_openflow::text::{parse_instructions, parse_u64, TextError};
use rvs_openflow::types::{group, port};
use rvs_openflow::{Action, Instruction};

fn err<T>(s: impl Into<String>) -> Result<T, TextError> {
    Err(TextError(s.into()))
}

/// Splits at top-level commas (not inside parentheses).
fn split_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out.into_iter().map(str::trim).filter(|t| !t.is_empty()).collect()
}

fn actions_only(text: &str) -> Result<Vec<Action>, TextError> {
    let mut out = Vec::new();
    for i in parse_instructions(text)? {
        match i {
            Instruction::ApplyActions(a) => out.extend(a),
            other => return err(format!("{other:?} is not an action")),
        }
    }
    Ok(out)
}

fn num<T: TryFrom<u64>>(v: &str, what: &str) -> Result<T, TextError> {
    parse_u64(v).and_then(|n| T::try_from(n).ok()).ok_or_else(|| TextError(format!("{what}: bad number {v:?}")))
}

fn parse_bucket(text: &str, group_type: GroupType) -> Result<Bucket, TextError> {
    let mut b = Bucket {
        weight: u16::from(group_type == GroupType::Select),
        watch_port: port::ANY,
        watch_group: group::ANY,
        actions: Vec::new(),
    };
    let mut acts = Vec::new();
    let mut toks = split_commas(text).into_iter();
    while let Some(t) = toks.next() {
        let (k, v) = t.split_once([':', '=']).unwrap_or((t, ""));
        match k {
            "weight" => b.weight = num(v, k)?,
            "watch_port" => b.watch_port = port::parse(v).ok_or_else(|| TextError(format!("bad port {v}")))?,
            "watch_group" => b.watch_group = num(v, k)?,
            "bucket_id" => {}
            "actions" => {
                acts.push(v);
                acts.extend(toks.by_ref());
            }
            _ => acts.push(t),
        }
    }
    b.actions = actions_only(&acts.join(","))?;
    Ok(b)
}

/// Parses an `add-group`/`mod-group`/`del-groups` argument
/// (`group_id=1,type=select,bucket=weight:10,output:1,bucket=output:2`).
pub fn parse_group_mod(s: &str, command: GroupModCommand) -> Result<GroupMod, TextError> {
    let mut parts = s.split("bucket=");
    let head = parts.next().unwrap_or_default();
    let mut gm = GroupMod { command, group_type: GroupType::All, group_id: group::ALL, buckets: Vec::new() };
    let mut have_id = false;
    for t in split_commas(head) {
        let (k, v) = t.split_once('=').ok_or_else(|| TextError(format!("unknown keyword {t:?}")))?;
        match k {
            "group_id" => {
                gm.group_id = if v == "all" { group::ALL } else { num(v, k)? };
                have_id = true;
            }
            "type" => {
                gm.group_type = match v {
                    "all" => GroupType::All,
                    "select" => GroupType::Select,
                    "indirect" => GroupType::Indirect,
                    "ff" | "fast_failover" => GroupType::FastFailover,
                    _ => return err(format!("unknown group type {v:?}")),
                }
            }
            _ => return err(format!("unknown group field {k:?}")),
        }
    }
    if !have_id && command != GroupModCommand::Delete {
        return err("must specify a group_id");
    }
    for b in parts {
        gm.buckets.push(parse_bucket(b.trim_end_matches(','), gm.group_type)?);
    }
    Ok(gm)
}

fn parse_hex(s: &str) -> Result<Vec<u8>, TextError> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if clean.len() % 2 != 0 {
        return err("packet: odd number of hex digits");
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| {
            clean
                .get(i..i.saturating_add(2))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| TextError(format!("packet: bad hex {s:?}")))
        })
        .collect()
}

/// Parses `packet-out` arguments: either the current form
/// `in_port=1 packet=HEX actions=output:2` (one or several arguments), or the older
/// `IN_PORT ACTIONS PACKET...`.
pub fn parse_packet_out(args: &[String]) -> Result<Vec<PacketOut>, TextError> {
    let joined = args.join(" ");
    if !joined.contains("packet=") {
        let (Some(inp), Some(acts)) = (args.first(), args.get(1)) else {
            return err("packet-out needs IN_PORT ACTIONS PACKET... or in_port=.. packet=.. actions=..");
        };
        let in_port = port::parse(inp).ok_or_else(|| TextError(format!("bad port {inp}")))?;
        let actions = actions_only(acts)?;
        return args
            .get(2..)
            .unwrap_or_default()
            .iter()
            .map(|p| Ok(PacketOut { buffer_id: None, in_port, actions: actions.clone(), data: parse_hex(p)? }))
            .collect();
    }
    let (head, acts) = match joined.find("actions=") {
        Some(i) => (joined.get(..i).unwrap_or_default(), joined.get(i.saturating_add(8)..).unwrap_or_default()),
        None => return err("packet-out: must specify actions"),
    };
    let mut po = PacketOut { buffer_id: None, in_port: port::CONTROLLER, actions: actions_only(acts.trim())?, data: Vec::new() };
    for t in head.split([',', ' ']).filter(|t| !t.is_empty()) {
        match t.split_once('=') {
            Some(("in_port", v)) => po.in_port = port::parse(v).ok_or_else(|| TextError(format!("bad port {v}")))?,
            Some(("packet", v)) => po.data = parse_hex(v)?,
            Some(("buffer_id", v)) => po.buffer_id = Some(num(v, "buffer_id")?),
            _ => return err(format!("packet-out: unknown keyword {t:?}")),
        }
    }
    Ok(vec![po])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        let g = parse_group_mod("group_id=2,type=select,bucket=weight:100,output:1,bucket=weight:50,actions=output:2", GroupModCommand::Add)
            .unwrap();
        assert_eq!((g.group_id, g.group_type, g.buckets.len()), (2, GroupType::Select, 2));
        assert_eq!(g.buckets[0].weight, 100);
        assert_eq!(g.buckets[1].actions, vec![Action::Output { port: 2, max_len: 0 }]);
        let g = parse_group_mod("group_id=4,type=ff,bucket=watch_port:1,output:1", GroupModCommand::Add).unwrap();
        assert_eq!((g.buckets[0].watch_port, g.buckets[0].weight), (1, 0));
        assert!(parse_group_mod("type=all,bucket=output:1", GroupModCommand::Add).is_err());
        assert!(parse_group_mod("group_id=1,type=bogus", GroupModCommand::Add).is_err());
    }

    #[test]
    fn packet_outs() {
        let p = parse_packet_out(&["in_port=1 packet=00112233 actions=output:2".into()]).unwrap();
        assert_eq!(p[0].in_port, 1);
        let p = parse_packet_out(&["in_port=LOCAL".into(), "packet=00112233".into(), "actions=FLOOD".into()]).unwrap();
        assert_eq!((p[0].in_port, p[0].data.clone()), (port::LOCAL, vec![0, 0x11, 0x22, 0x33]));
        let p = parse_packet_out(&["1".into(), "output:2".into(), "aabb".into(), "ccdd".into()]).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].data, vec![0xcc, 0xdd]);
        assert!(parse_packet_out(&["in_port=1 packet=abc actions=drop".into()]).is_err());
    }
}

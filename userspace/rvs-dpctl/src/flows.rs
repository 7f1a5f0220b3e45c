//! Flow commands' text handling: `ovs-dpctl` flow strings (with an optional `ufid:UUID` prefix)
//! and action strings to encoded netlink attributes through the core's text form, and flows
//! read back from a datapath to `dump-flows` lines (`[ufid:..., ]MATCH, packets:N, bytes:N,
//! used:Xs[, flags:..], actions:..`). Parse errors carry the input with a caret under the
//! offending byte.

use std::fmt::Write as _;

use rvs_core::nla::{Attrs, Writer};
use rvs_core::ovs::key_nl;
use rvs_core::ovs_abi::{OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK};
use rvs_core::text::key::TextError;
use rvs_dpif::{Flow, FlowStats};

/// Size of the encoding buffers (keys, masks and action lists are far smaller).
const BUF: usize = 16 * 1024;

/// A parse error shown as `what: message` then the input with a caret under the offending byte.
#[derive(Debug)]
pub struct TextFault(pub String);

impl std::fmt::Display for TextFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TextFault {}

/// Formats `msg` about `input` at byte `offset` (caret line below the input).
pub fn caret(what: &str, input: &str, offset: usize, msg: &str) -> TextFault {
    let col = input.get(..offset.min(input.len())).map_or(offset, |p| p.chars().count());
    TextFault(format!("{what}: {msg} (at byte {offset})\n    {input}\n    {}^", " ".repeat(col)))
}

fn text_fault(what: &str, input: &str, base: usize, e: TextError) -> TextFault {
    match e {
        TextError::Parse(p) => caret(what, input, base + p.offset, p.msg),
        TextError::Codec(c) => TextFault(format!("{what}: {input}: {c}")),
    }
}

/// A flow string split into its optional UFID and encoded key and mask attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFlow {
    /// The `ufid:` prefix, if given.
    pub ufid: Option<[u8; 16]>,
    /// `OVS_KEY_ATTR_*` bytes.
    pub key: Vec<u8>,
    /// `OVS_KEY_ATTR_*` mask bytes.
    pub mask: Vec<u8>,
}

/// Parses `ufid:XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (ovs-dpctl's UUID form of the 128-bit UFID,
/// four host-order 32-bit words) at the start of `s`; returns the UFID and the bytes consumed
/// (including a following `,` or blanks).
pub fn parse_ufid_prefix(s: &str) -> Result<Option<([u8; 16], usize)>, TextFault> {
    let Some(rest) = s.strip_prefix("ufid:") else { return Ok(None) };
    let end = rest.find([',', ' ', '\t']).unwrap_or(rest.len());
    let tok = &rest[..end];
    let hex: String = tok.chars().filter(|&c| c != '-').collect();
    let bad = || caret("flow", s, 5, "bad ufid: expected 32 hex digits as XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX");
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let v = u128::from_str_radix(&hex, 16).map_err(|_| bad())?;
    // UUID layout: w0 (32) w1hi (16) w1lo (16) w2hi (16) w2lo (16) w3 (32).
    let words = [(v >> 96) as u32, (v >> 64) as u32, (v >> 32) as u32, v as u32];
    let mut out = [0u8; 16];
    for (i, w) in words.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
    }
    let mut used = 5 + end;
    let tail = &s[used..];
    let skip = tail.len() - tail.trim_start_matches([',', ' ', '\t']).len();
    used += skip;
    Ok(Some((out, used)))
}

/// Formats a UFID as ovs-dpctl does (`ufid:` + UUID form of the four host-order words).
pub fn format_ufid(u: &[u8; 16]) -> String {
    let w = |i: usize| u32::from_ne_bytes([u[i * 4], u[i * 4 + 1], u[i * 4 + 2], u[i * 4 + 3]]);
    format!("ufid:{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}", w(0), w(1) >> 16, w(1) & 0xffff, w(2) >> 16, w(2) & 0xffff, w(3))
}

/// Parses an `ovs-dpctl` flow string into a UFID and key/mask attributes.
pub fn parse_flow(s: &str) -> Result<ParsedFlow, TextFault> {
    let (ufid, base) = match parse_ufid_prefix(s)? {
        Some((u, n)) => (Some(u), n),
        None => (None, 0),
    };
    let text = &s[base..];
    let mut buf = vec![0u8; BUF];
    let mut w = Writer::new(&mut buf);
    rvs_core::text::key::text_to_attrs(text, &mut w).map_err(|e| text_fault("flow", s, base, e))?;
    let (mut key, mut mask) = (Vec::new(), Vec::new());
    for a in Attrs::new(w.written()).flatten() {
        match a.kind {
            OVS_FLOW_ATTR_KEY => key = a.payload.to_vec(),
            OVS_FLOW_ATTR_MASK => mask = a.payload.to_vec(),
            _ => {}
        }
    }
    Ok(ParsedFlow { ufid, key, mask })
}

/// Parses an action string (`drop` or empty for none) into `OVS_ACTION_ATTR_*` bytes.
pub fn parse_actions(s: &str) -> Result<Vec<u8>, TextFault> {
    let t = s.trim();
    if t.is_empty() || t == "drop" {
        return Ok(Vec::new());
    }
    let mut buf = vec![0u8; BUF];
    let mut w = Writer::new(&mut buf);
    rvs_core::text::actions::parse_actions(s, &mut w).map_err(|e| text_fault("actions", s, 0, e))?;
    Ok(w.written().to_vec())
}

/// TCP flags as ovs-dpctl prints them (`S`, `F`, `P`, `R`, `U`, `.` for ACK, `E`, `C`).
pub fn tcp_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [(0x02, 'S'), (0x01, 'F'), (0x08, 'P'), (0x04, 'R'), (0x20, 'U'), (0x10, '.'), (0x40, 'E'), (0x80, 'C')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// `packets:N, bytes:N, used:Xs|never[, flags:F]`, with `now_ms` the current monotonic time.
pub fn format_stats(st: &FlowStats, now_ms: u64) -> String {
    let mut s = format!("packets:{}, bytes:{}, used:", st.n_packets, st.n_bytes);
    if st.used_ms == 0 {
        s += "never";
    } else {
        let ago = now_ms.saturating_sub(st.used_ms);
        let _ = write!(s, "{}.{:03}s", ago / 1000, ago % 1000);
    }
    if st.tcp_flags != 0 {
        s += ", flags:";
        s += &tcp_flags(st.tcp_flags);
    }
    s
}

/// The match part of a flow (`in_port(1),eth(),...`), from its key and mask attributes.
pub fn format_match(f: &Flow) -> String {
    let mask = (!f.mask.is_empty()).then_some(f.mask.as_slice());
    match key_nl::decode_match(&f.key, mask) {
        Ok(m) => {
            let mut s = String::new();
            let _ = rvs_core::text::key::write_match(&mut s, &m.key, &m.mask);
            s
        }
        Err(e) => format!("<undecodable key: {e}>"),
    }
}

/// The action part (`drop` when empty).
pub fn format_actions(actions: &[u8]) -> String {
    let mut s = String::new();
    let _ = rvs_core::text::actions::write_actions(&mut s, rvs_core::actions::ActionList(actions));
    s
}

/// One `dump-flows` line.
pub fn format_flow(f: &Flow, verbose: bool, now_ms: u64) -> String {
    let mut s = String::new();
    if verbose {
        if let Some(u) = &f.ufid {
            s += &format_ufid(u);
            s += ", ";
        }
    }
    s += &format_match(f);
    s += ", ";
    s += &format_stats(&f.stats, now_ms);
    s += ", actions:";
    s += &format_actions(&f.actions);
    s
}

/// Milliseconds of `CLOCK_MONOTONIC` (the clock flows' `used` times are in).
pub fn monotonic_ms() -> u64 {
    rvs_dpif::monotonic_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufid_round_trips_in_uuid_form() {
        let s = "ufid:12345678-9abc-def0-1122-334455667788,in_port(1)";
        let (u, n) = parse_ufid_prefix(s).unwrap().unwrap();
        assert_eq!(&s[n..], "in_port(1)");
        assert_eq!(format_ufid(&u), "ufid:12345678-9abc-def0-1122-334455667788");
        assert_eq!(u32::from_ne_bytes(u[0..4].try_into().unwrap()), 0x1234_5678);
        assert!(parse_ufid_prefix("ufid:123,in_port(1)").is_err());
        assert!(parse_ufid_prefix("in_port(1)").unwrap().is_none());
    }

    #[test]
    fn flow_text_round_trips_through_attrs() {
        let p = parse_flow("in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2)").unwrap();
        assert!(p.ufid.is_none());
        assert!(!p.key.is_empty() && !p.mask.is_empty());
        let f = Flow { key: p.key, mask: p.mask, actions: parse_actions("2").unwrap(), ..Default::default() };
        let m = format_match(&f);
        assert!(m.contains("in_port(1)") && m.contains("ipv4(dst=10.0.0.2"), "{m}");
        assert_eq!(format_actions(&f.actions), "2");
        let line = format_flow(&f, false, 0);
        assert!(line.ends_with(", packets:0, bytes:0, used:never, actions:2"), "{line}");
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let e = parse_flow("in_port(1),eth_type(0x0800),ipv4(dts=10.0.0.2)").unwrap_err().to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 3, "{e}");
        let col = lines[2].find('^').unwrap() - 4;
        assert_eq!(&lines[1][4 + col..4 + col + 3], "dts", "{e}");
        let e = parse_actions("2,push_vlan(vid=x)").unwrap_err().to_string();
        assert!(e.starts_with("actions: "), "{e}");
        assert!(e.lines().nth(2).unwrap().contains('^'));
        // Offsets after a ufid prefix are relative to the whole input.
        let e = parse_flow("ufid:12345678-9abc-def0-1122-334455667788,bogus(1)").unwrap_err().to_string();
        let l: Vec<&str> = e.lines().collect();
        let col = l[2].find('^').unwrap() - 4;
        assert_eq!(&l[1][4 + col..4 + col + 5], "bogus", "{e}");
    }

    #[test]
    fn stats_format_like_ovs_dpctl() {
        let st = FlowStats { n_packets: 3, n_bytes: 294, used_ms: 1_000, tcp_flags: 0x12 };
        assert_eq!(format_stats(&st, 3_500), "packets:3, bytes:294, used:2.500s, flags:S.");
        assert_eq!(format_stats(&FlowStats::default(), 5), "packets:0, bytes:0, used:never");
        assert_eq!(tcp_flags(0x19), "FP.");
    }
}

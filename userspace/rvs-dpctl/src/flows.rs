//! Flow commands' text handling: `ovs-dpctl` flow strings (with an optional `ufid:UUID` prefix)
//! and action strings to encoded netlink attributes through the core's text form, and flows
//! read back from a datapath to `dump-flows` lines (`[ufid:..., ]MATCH, packets:N, bytes:N,
//! used:Xs[, flags:..], actions:..`). Parse errors carry the input with a caret under the
//! offending byte.


use rvs_core::nla::{Attrs, Writer};
use rvs_core::ovs_abi::{OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK};
use rvs_core::text::key::TextError;
pub use rvs_dpif::text::format_flow;

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

/// Milliseconds of `CLOCK_MONOTONIC` (the clock flows' `used` times are in).
pub fn monotonic_ms() -> u64 {
    rvs_dpif::monotonic_ms()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_dpif::text::{decode_flow, format_actions, format_match, format_ufid};
    use rvs_dpif::Flow;

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
        let (k, mk) = decode_flow(&f).unwrap();
        let m = format_match(&k, &mk);
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
}

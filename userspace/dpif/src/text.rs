//! The `ovs-dpctl` text form of a dumped flow (`[ufid:..., ]MATCH, packets:N, bytes:N, used:Xs, flags:F,
//! actions:...`), shared by `rvs-dpctl dump-flows` and `rvs-appctl dpif/dump-flows`. The match and actions
//! themselves are printed by the core's text form.

use std::fmt::Write;

use rvs_core::actions::ActionList;
use rvs_core::key::FlowKey;
use rvs_core::ovs::key_nl;

use crate::types::{Flow, FlowStats};

/// `ufid:XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, laid out as ovs-dpctl prints a UFID (four native-endian words).
pub fn format_ufid(u: &[u8; 16]) -> String {
    let w = |i: usize| u32::from_ne_bytes([u[i * 4], u[i * 4 + 1], u[i * 4 + 2], u[i * 4 + 3]]);
    format!("ufid:{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}", w(0), w(1) >> 16, w(1) & 0xffff, w(2) >> 16, w(2) & 0xffff, w(3))
}

/// TCP flags as ovs-dpctl letters (`S`, `F`, `P`, `R`, `U`, `.` for ACK, `E`, `C`).
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

/// `in_port(1),eth(...),...` for a key and mask.
pub fn format_match(key: &FlowKey, mask: &FlowKey) -> String {
    let mut s = String::new();
    let _ = rvs_core::text::key::write_match(&mut s, key, mask);
    s
}

/// The action list as text (`drop` when empty).
pub fn format_actions(actions: &[u8]) -> String {
    let mut s = String::new();
    let _ = rvs_core::text::actions::write_actions(&mut s, ActionList(actions));
    s
}

/// Decodes a dumped flow's key and mask (an absent mask means exact match, as upstream).
pub fn decode_flow(f: &Flow) -> Result<(FlowKey, FlowKey), String> {
    let mask = (!f.mask.is_empty()).then_some(f.mask.as_slice());
    key_nl::decode_match(&f.key, mask).map(|m| (m.key, m.mask)).map_err(|e| e.to_string())
}

/// One `dump-flows` line; `verbose` (`-m`) prefixes the UFID.
pub fn format_flow(f: &Flow, verbose: bool, now_ms: u64) -> String {
    let mut s = String::new();
    if verbose {
        if let Some(u) = &f.ufid {
            s += &format_ufid(u);
            s += ", ";
        }
    }
    match decode_flow(f) {
        Ok((k, m)) => s += &format_match(&k, &m),
        Err(e) => s += &format!("<undecodable key: {e}>"),
    }
    s += ", ";
    s += &format_stats(&f.stats, now_ms);
    s += ", actions:";
    s += &format_actions(&f.actions);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_tcp_flags_print_as_ovs_dpctl() {
        let st = FlowStats { n_packets: 3, n_bytes: 294, used_ms: 1_000, tcp_flags: 0x12 };
        assert_eq!(format_stats(&st, 3_500), "packets:3, bytes:294, used:2.500s, flags:S.");
        assert_eq!(format_stats(&FlowStats::default(), 5), "packets:0, bytes:0, used:never");
        assert_eq!(tcp_flags(0x19), "FP.");
    }
}

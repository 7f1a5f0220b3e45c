//! The linux-htb QoS model: what a `QoS` row of type `linux-htb` and its `Queue` rows ask for
//! ([`HtbSpec`], parsed and clamped as Open vSwitch does), and the HTB netlink option blocks
//! (`TCA_HTB_INIT` for the root qdisc, `TCA_HTB_PARMS` + 64-bit rates for a class) that
//! [`super::tc`] sends.
//!
//! Layout, as Open vSwitch lays it out so OpenFlow `set_queue:N` (skb priority `1:(N+1)`) picks
//! queue N: root qdisc `1:` with default class `1:1` (queue 0), one class `1:fffe` capped at the
//! QoS `max-rate`, and one leaf class `1:(N+1)` under it per queue.

use std::collections::BTreeMap;

/// The root qdisc handle `1:`.
pub const QDISC_HANDLE: u32 = 0x0001_0000;
/// The class every queue hangs under, `1:fffe`.
pub const ROOT_CLASS: u32 = 0x0001_fffe;
/// Highest queue number (its class minor `N+1` must stay below `fffe`).
pub const MAX_QUEUE: u32 = 0xfffc;
/// `max-rate` (bit/s) when the QoS row gives none: 100 Mbit/s, Open vSwitch's fallback when
/// the link speed is unknown.
pub const DEFAULT_MAX_RATE: u64 = 100_000_000;
/// Smallest rate a class gets, in bytes/s (one 1500-byte packet per second), as Open vSwitch.
const MIN_RATE_BYTES: u64 = 1500;
/// Nanoseconds per psched tick (`PSCHED_SHIFT` 6).
const NS_PER_TICK: u64 = 64;
/// `TC_LINKLAYER_ETHERNET`: the kernel computes rates itself, no rate tables needed.
const LINKLAYER_ETHERNET: u8 = 1;

const TCA_HTB_PARMS: u16 = 1;
const TCA_HTB_INIT: u16 = 2;
const TCA_HTB_RATE64: u16 = 6;
const TCA_HTB_CEIL64: u16 = 7;

/// One HTB class (rates in bytes/s, burst in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtbClass {
    /// Guaranteed rate.
    pub min_rate: u64,
    /// Ceiling.
    pub max_rate: u64,
    /// Bucket size.
    pub burst: u64,
    /// HTB priority (0 is served first).
    pub priority: u32,
}

/// A whole linux-htb configuration for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtbSpec {
    /// The `1:fffe` class (QoS `max-rate`).
    pub root: HtbClass,
    /// Queue number → its class `1:(N+1)`.
    pub queues: BTreeMap<u32, HtbClass>,
}

/// Reads a rate/burst value in bits (a decimal string); `None` when absent.
fn bits(m: &BTreeMap<String, String>, key: &str, errors: &mut Vec<String>) -> Option<u64> {
    let v = m.get(key)?;
    match v.trim().parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(format!("{key}={v:?} is not a number of bits, ignored"));
            None
        }
    }
}

fn default_burst(rate: u64) -> u64 {
    // 10 ms at the rate, at least a few full-size frames.
    (rate / 100).max(4 * 1514)
}

impl HtbSpec {
    /// From the QoS `other_config` and its queues' `other_config` (all in bit/s and bits);
    /// bad values are reported in `errors` and replaced by their defaults.
    pub fn from_config(
        qos: &BTreeMap<String, String>,
        queues: &BTreeMap<u32, BTreeMap<String, String>>,
        errors: &mut Vec<String>,
    ) -> HtbSpec {
        let max = (bits(qos, "max-rate", errors).filter(|r| *r > 0).unwrap_or(DEFAULT_MAX_RATE) / 8).max(MIN_RATE_BYTES);
        let root = HtbClass { min_rate: max, max_rate: max, burst: default_burst(max), priority: 0 };
        let mut out = BTreeMap::new();
        for (&q, oc) in queues {
            if q > MAX_QUEUE {
                errors.push(format!("queue {q}: queue numbers go up to {MAX_QUEUE} with linux-htb, ignored"));
                continue;
            }
            let min_rate = (bits(oc, "min-rate", errors).unwrap_or(0) / 8).clamp(MIN_RATE_BYTES, max);
            let max_rate = bits(oc, "max-rate", errors).filter(|r| *r > 0).map_or(max, |r| r / 8).clamp(min_rate, max);
            let burst = bits(oc, "burst", errors).map_or_else(|| default_burst(max_rate), |b| (b / 8).max(1514));
            let priority = match bits(oc, "priority", errors) {
                Some(p) if p <= 7 => p as u32,
                Some(p) => {
                    errors.push(format!("queue {q}: priority {p} above 7, using 7"));
                    7
                }
                None => 0,
            };
            out.insert(q, HtbClass { min_rate, max_rate, burst, priority });
        }
        // Queue 0 is where unclassified traffic goes (the default class): it always exists.
        out.entry(0).or_insert(HtbClass { min_rate: MIN_RATE_BYTES, max_rate: max, burst: default_burst(max), priority: 0 });
        HtbSpec { root, queues: out }
    }

    /// The class handle of queue `q`.
    pub fn queue_handle(q: u32) -> u32 {
        QDISC_HANDLE | (q + 1)
    }
}

/// Appends one netlink attribute (4-byte aligned) to `out`.
fn nla(out: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The `TCA_OPTIONS` payload of the root qdisc: `struct tc_htb_glob` (version 3, r2q 10,
/// default class `1:1` = queue 0).
pub fn qdisc_options() -> Vec<u8> {
    let mut glob = Vec::with_capacity(20);
    for v in [3u32, 10, 1, 0, 0] {
        glob.extend_from_slice(&v.to_ne_bytes());
    }
    let mut out = Vec::new();
    nla(&mut out, TCA_HTB_INIT, &glob);
    out
}

/// `struct tc_ratespec` for `rate` bytes/s (saturated; the exact value goes in RATE64/CEIL64).
fn ratespec(rate: u64) -> [u8; 12] {
    let mut r = [0u8; 12];
    r[1] = LINKLAYER_ETHERNET;
    r[8..12].copy_from_slice(&u32::try_from(rate).unwrap_or(u32::MAX).to_ne_bytes());
    r
}

/// psched ticks to send `bytes` at `rate` bytes/s.
fn xmit_ticks(bytes: u64, rate: u64) -> u32 {
    let ns = u128::from(bytes) * 1_000_000_000 / u128::from(rate.max(1));
    u32::try_from(ns / u128::from(NS_PER_TICK)).unwrap_or(u32::MAX)
}

/// The `TCA_OPTIONS` payload of a class: `struct tc_htb_opt` plus the 64-bit rates.
pub fn class_options(c: &HtbClass) -> Vec<u8> {
    let mut opt = Vec::with_capacity(44);
    opt.extend_from_slice(&ratespec(c.min_rate));
    opt.extend_from_slice(&ratespec(c.max_rate));
    opt.extend_from_slice(&xmit_ticks(c.burst, c.min_rate).to_ne_bytes()); // buffer
    opt.extend_from_slice(&xmit_ticks(c.burst, c.max_rate).to_ne_bytes()); // cbuffer
    // Quantum: bytes served per round; explicit so the kernel does not warn about r2q.
    let quantum = u32::try_from((c.min_rate / 10).clamp(1514, 200_000)).unwrap_or(200_000);
    opt.extend_from_slice(&quantum.to_ne_bytes());
    opt.extend_from_slice(&0u32.to_ne_bytes()); // level (the kernel sets it)
    opt.extend_from_slice(&c.priority.to_ne_bytes());
    let mut out = Vec::new();
    nla(&mut out, TCA_HTB_PARMS, &opt);
    nla(&mut out, TCA_HTB_RATE64, &c.min_rate.to_ne_bytes());
    nla(&mut out, TCA_HTB_CEIL64, &c.max_rate.to_ne_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn spec_defaults_and_clamps() {
        let mut errs = Vec::new();
        let queues = BTreeMap::from([
            (1, m(&[("min-rate", "1000000"), ("max-rate", "2000000"), ("priority", "3")])),
            (2, m(&[("max-rate", "900000000")])),
            (3, m(&[("max-rate", "x")])),
            (70000, m(&[])),
        ]);
        let s = HtbSpec::from_config(&m(&[("max-rate", "10000000")]), &queues, &mut errs);
        assert_eq!(s.root.max_rate, 1_250_000);
        assert_eq!(s.queues[&1], HtbClass { min_rate: 125_000, max_rate: 250_000, burst: 4 * 1514, priority: 3 });
        assert_eq!(s.queues[&2].max_rate, 1_250_000, "capped at the QoS max-rate");
        assert_eq!(s.queues[&2].min_rate, MIN_RATE_BYTES);
        assert_eq!(s.queues[&3].max_rate, 1_250_000);
        assert!(s.queues.contains_key(&0), "queue 0 (default class) always exists");
        assert!(!s.queues.contains_key(&70000));
        assert_eq!(errs.len(), 2, "{errs:?}");
        let d = HtbSpec::from_config(&BTreeMap::new(), &BTreeMap::new(), &mut errs);
        assert_eq!(d.root.max_rate, DEFAULT_MAX_RATE / 8);
        assert_eq!(HtbSpec::queue_handle(0), 0x1_0001);
        assert_eq!(HtbSpec::queue_handle(5), 0x1_0006);
    }

    #[test]
    fn option_blocks() {
        let q = qdisc_options();
        assert_eq!(q.len(), 24);
        assert_eq!(u16::from_ne_bytes([q[2], q[3]]), TCA_HTB_INIT);
        assert_eq!(u32::from_ne_bytes(q[4..8].try_into().unwrap()), 3, "HTB protocol version");
        assert_eq!(u32::from_ne_bytes(q[12..16].try_into().unwrap()), 1, "default class 1:1");
        let c = class_options(&HtbClass { min_rate: 125_000, max_rate: 250_000, burst: 12_500, priority: 2 });
        // PARMS (4 + 44) + RATE64 (12) + CEIL64 (12).
        assert_eq!(c.len(), 48 + 12 + 12);
        assert_eq!(u16::from_ne_bytes([c[0], c[1]]), 48);
        assert_eq!(c[4 + 1], LINKLAYER_ETHERNET);
        assert_eq!(u32::from_ne_bytes(c[12..16].try_into().unwrap()), 125_000);
        assert_eq!(u32::from_ne_bytes(c[24..28].try_into().unwrap()), 250_000);
        // buffer: 12500 bytes at 125000 B/s = 100 ms = 1_562_500 ticks of 64 ns.
        assert_eq!(u32::from_ne_bytes(c[28..32].try_into().unwrap()), 1_562_500);
        assert_eq!(u32::from_ne_bytes(c[44..48].try_into().unwrap()), 2, "priority");
        assert_eq!(u64::from_ne_bytes(c[52..60].try_into().unwrap()), 125_000);
        assert_eq!(u64::from_ne_bytes(c[64..72].try_into().unwrap()), 250_000);
    }
}

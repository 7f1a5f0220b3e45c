//! OpenFlow classifier benchmark (no criterion): inserts N rules (default 100 000) spread over
//! a dozen masks as an ACL-like table would, then looks up random packets and reports
//! insertions and lookups per second, hit ratio and the average number of key bits the
//! lookups examined (what the megaflows must match); then installs the same number of rules
//! through [`Pipeline::flow_mod`] (match checks, validation, bookkeeping included).
//!
//! `cargo run --release -p rvs-vswitchd --example of_classifier [N_RULES] [N_LOOKUPS]`

use std::time::Instant;

use rvs_core::key::FlowKey;
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{FlowMod, FlowModCommand};
use rvs_openflow::{Action, Field, Match};
use rvs_vswitchd::pipeline::classifier::{Classifier, ClsKey, ClsMatch, RuleId};
use rvs_vswitchd::pipeline::Pipeline;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn packet(r: &mut Rng) -> FlowKey {
    let v = r.next();
    let mut k = FlowKey::ZERO;
    k.set_eth_type(0x0800);
    k.set_ip_proto(if v & 1 == 0 { 6 } else { 17 });
    k.set_ipv4_src(0x0a00_0000 | (v >> 8) as u32 & 0xffff);
    k.set_ipv4_dst(0x0a01_0000 | (v >> 24) as u32 & 0xffff);
    k.set_tp_src((v >> 40) as u16 & 0x3ff);
    k.set_tp_dst((v >> 50) as u16 & 0x3ff);
    k
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_rules = args.first().copied().unwrap_or(100_000);
    let n_lookups = args.get(1).copied().unwrap_or(1_000_000);
    let mut r = Rng(0x5eed);
    // Masks: prefixes of the source and destination addresses, with and without ports.
    let masks: Vec<FlowKey> = (0..12)
        .map(|i| {
            let mut m = FlowKey::ZERO;
            m.set_eth_type(0xffff);
            m.set_ip_proto(0xff);
            m.set_ipv4_src(u32::MAX << (i % 4 * 4));
            if i % 3 != 0 {
                m.set_ipv4_dst(u32::MAX << (i % 2 * 8));
            }
            if i >= 6 {
                m.set_tp_dst(0xffff);
            }
            m
        })
        .collect();
    let mut cls = Classifier::new();
    let t = Instant::now();
    for i in 0..n_rules {
        let m = &masks[i % masks.len()];
        let k = packet(&mut r);
        let prio = (r.next() % 60_000) as u16;
        cls.insert(&ClsMatch::new(ClsKey::from_flow(&k, 0, 0), ClsKey::from_flow(m, 0, 0)), prio, RuleId(i as u64));
    }
    let ins = t.elapsed();
    let keys: Vec<ClsKey> = (0..4096).map(|_| ClsKey::from_flow(&packet(&mut r), 0, 0)).collect();
    let t = Instant::now();
    let mut hits = 0u64;
    let mut bits = 0u64;
    for i in 0..n_lookups {
        let mut wc = ClsKey::ZERO;
        if cls.lookup(&keys[i % keys.len()], &mut wc).is_some() {
            hits += 1;
        }
        bits += wc.0.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
    }
    let lk = t.elapsed();
    println!("rules: {} in {} subtables", cls.len(), cls.n_subtables());
    println!("insert: {:.0} rules/s ({:.3} s)", n_rules as f64 / ins.as_secs_f64(), ins.as_secs_f64());
    println!("lookup: {:.0} lookups/s ({:.3} s)", n_lookups as f64 / lk.as_secs_f64(), lk.as_secs_f64());
    println!("hit ratio: {:.3}", hits as f64 / n_lookups as f64);
    println!("examined bits per lookup: {:.1}", bits as f64 / n_lookups as f64);

    let mods: Vec<FlowMod> = (0..n_rules)
        .map(|i| {
            let k = packet(&mut r);
            let m = Match::new()
                .with(Field::EthType, 0x0800)
                .with(Field::IpProto, u128::from(k.ip_proto()))
                .with(Field::Ipv4Src, u128::from(k.ipv4_src()))
                .with_masked(Field::Ipv4Dst, u128::from(k.ipv4_dst()), 0xffff_ff00);
            FlowMod {
                command: FlowModCommand::Add,
                priority: (i % 60_000) as u16,
                match_: m,
                instructions: vec![Instruction::ApplyActions(vec![Action::Output { port: 1 + (i % 4) as u32, max_len: 0 }])],
                ..Default::default()
            }
        })
        .collect();
    let mut p = Pipeline::new();
    let now = Instant::now();
    let t = Instant::now();
    for fm in &mods {
        if let Err(e) = p.flow_mod(fm, now) {
            println!("flow_mod failed: {e:?}");
            return;
        }
    }
    let d = t.elapsed();
    println!("pipeline flow_mod add: {:.0} flows/s ({} rules, {:.3} s)", n_rules as f64 / d.as_secs_f64(), p.n_rules(), d.as_secs_f64());
}

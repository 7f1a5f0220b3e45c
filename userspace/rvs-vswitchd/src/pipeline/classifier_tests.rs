//! Classifier tests: a linear-scan reference on random rules, wildcard soundness, strict and
//! loose selection, removal.

use super::*;

/// xorshift64*: deterministic pseudo-random numbers for the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random packet whose fields come from small domains, so rules hit often.
fn packet(r: &mut Rng) -> ClsKey {
    let mut f = FlowKey::ZERO;
    f.set_eth_dst([2, 0, 0, 0, 0, r.below(4) as u8]);
    f.set_eth_type(if r.below(2) == 0 { 0x0800 } else { 0x86dd });
    f.set_ip_proto([6u8, 17][r.below(2) as usize]);
    f.set_ipv4_src(0x0a00_0000 | r.below(8) as u32);
    f.set_tp_dst(r.below(4) as u16 + 79);
    f.set_vlan_tci(r.below(3) as u16 * 0x1001);
    ClsKey::from_flow(&f, r.below(3), r.below(3) as u32 + 1)
}

/// A random rule match: a random subset of fields from the packet domains, some masked.
fn rule_match(r: &mut Rng) -> ClsMatch {
    let p = packet(r);
    let pf = p.flow_part();
    let mut m = FlowKey::ZERO;
    let bits = r.next();
    if bits & 1 != 0 {
        m.set_eth_dst([0xff; 6]);
    }
    if bits & 2 != 0 {
        m.set_eth_type(0xffff);
    }
    if bits & 4 != 0 {
        m.set_ip_proto(0xff);
    }
    if bits & 8 != 0 {
        m.set_ipv4_src(if bits & 16 != 0 { 0xffff_fffc } else { u32::MAX });
    }
    if bits & 32 != 0 {
        m.set_tp_dst(0xffff);
    }
    if bits & 64 != 0 {
        m.set_vlan_tci(0x1fff);
    }
    let mut mask = ClsKey::from_flow(&m, 0, 0);
    if bits & 128 != 0 {
        mask.0[METADATA_WORD] = u64::MAX;
    }
    if bits & 256 != 0 {
        mask.0[OFPORT_WORD] = u64::from(u32::MAX);
    }
    ClsMatch::new(ClsKey::from_flow(&pf, p.0[METADATA_WORD], p.0[OFPORT_WORD] as u32), mask)
}

fn reference(rules: &[(ClsMatch, u16, RuleId)], key: &ClsKey) -> Option<(RuleId, u16)> {
    rules.iter().filter(|(m, _, _)| m.value.matches(key, &m.mask)).max_by_key(|(_, p, _)| *p).map(|(_, p, id)| (*id, *p))
}

#[test]
fn matches_linear_reference_and_wildcards_are_sound() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    for round in 0..20 {
        let mut cls = Classifier::new();
        let mut rules = Vec::new();
        let n = 10 + round * 15;
        // Distinct priorities, so the expected winner is unique.
        let mut prios: Vec<u16> = (0..n as u16).map(|i| i * 3 + (r.below(3) as u16)).collect();
        for i in 0..n {
            let pi = r.below(prios.len() as u64) as usize;
            let prio = prios.swap_remove(pi);
            let m = rule_match(&mut r);
            let id = RuleId(i as u64);
            assert_eq!(cls.insert(&m, prio, id), None);
            rules.push((m, prio, id));
        }
        // Remove a third of them again.
        for _ in 0..n / 3 {
            let i = r.below(rules.len() as u64) as usize;
            let (m, p, id) = rules.swap_remove(i);
            assert!(cls.remove(&m, p, id));
            assert!(!cls.remove(&m, p, id), "second removal finds nothing");
        }
        assert_eq!(cls.len(), rules.len());
        let mut hits = 0;
        for _ in 0..300 {
            let k = packet(&mut r);
            let mut wc = ClsKey::ZERO;
            let got = cls.lookup(&k, &mut wc);
            assert_eq!(got, reference(&rules, &k), "round {round}: key {k:?}");
            hits += usize::from(got.is_some());
            // Any packet that agrees on the examined bits gets the same decision.
            for _ in 0..4 {
                let other = packet(&mut r);
                let mut k2 = ClsKey::ZERO;
                for i in 0..WORDS {
                    k2.0[i] = (k.0[i] & wc.0[i]) | (other.0[i] & !wc.0[i]);
                }
                let mut wc2 = ClsKey::ZERO;
                assert_eq!(cls.lookup(&k2, &mut wc2), got, "unexamined bits changed the decision");
            }
        }
        assert!(hits > 0, "the random rules should match some packets");
    }
}

#[test]
fn early_exit_keeps_megaflows_wide() {
    let mut cls = Classifier::new();
    let mut f = FlowKey::ZERO;
    f.set_eth_type(0x0800);
    let mut m = FlowKey::ZERO;
    m.set_eth_type(0xffff);
    cls.insert(&ClsMatch::new(ClsKey::from_flow(&f, 0, 0), ClsKey::from_flow(&m, 0, 0)), 100, RuleId(1));
    // A lower-priority rule on the IPv4 source: never examined once the first matched.
    let mut f2 = f;
    f2.set_ipv4_src(0x0a00_0001);
    let mut m2 = m;
    m2.set_ipv4_src(u32::MAX);
    cls.insert(&ClsMatch::new(ClsKey::from_flow(&f2, 0, 0), ClsKey::from_flow(&m2, 0, 0)), 50, RuleId(2));
    let mut wc = ClsKey::ZERO;
    assert_eq!(cls.lookup(&ClsKey::from_flow(&f2, 0, 0), &mut wc), Some((RuleId(1), 100)));
    assert_eq!(wc.flow_part().ipv4_src(), 0, "lower subtable not examined");
    assert_eq!(wc.flow_part().eth_type(), 0xffff);
    // A staged miss: an ARP packet misses the first stage of a rule on eth_type+ipv4_src at
    // higher priority, so the L3 bits of that subtable are not examined.
    let mut cls = Classifier::new();
    cls.insert(&ClsMatch::new(ClsKey::from_flow(&f2, 0, 0), ClsKey::from_flow(&m2, 0, 0)), 50, RuleId(2));
    let mut arp = FlowKey::ZERO;
    arp.set_eth_type(0x0806);
    arp.set_ipv4_src(0x0a00_0001);
    let mut wc = ClsKey::ZERO;
    assert_eq!(cls.lookup(&ClsKey::from_flow(&arp, 0, 0), &mut wc), None);
    assert_eq!(wc.flow_part().eth_type(), 0xffff);
    assert_eq!(wc.flow_part().ipv4_src(), 0, "L3 stage never reached");
}

#[test]
fn strict_loose_replace() {
    let mut r = Rng(99);
    let mut cls = Classifier::new();
    let m = rule_match(&mut r);
    assert_eq!(cls.insert(&m, 10, RuleId(1)), None);
    assert_eq!(cls.insert(&m, 10, RuleId(2)), Some(RuleId(1)), "same match and priority replaces");
    assert_eq!(cls.insert(&m, 11, RuleId(3)), None);
    assert_eq!(cls.len(), 2);
    assert_eq!(cls.find_exact(&m, 10), Some(RuleId(2)));
    assert_eq!(cls.find_exact(&m, 12), None);
    let all = ClsMatch::new(ClsKey::ZERO, ClsKey::ZERO);
    assert_eq!(cls.iter_within(&all).count(), 2);
    assert_eq!(cls.iter().count(), 2);
    assert_eq!(cls.iter_priority(11).map(|(_, id)| id).collect::<Vec<_>>(), vec![RuleId(3)]);
    assert_eq!(cls.iter_priority(12).count(), 0);
    // A filter more specific than the rule does not select it.
    let mut narrow = m;
    narrow.mask.0[0] |= 1;
    narrow.mask.0[METADATA_WORD] = u64::MAX;
    narrow.mask.0[OFPORT_WORD] = u64::MAX;
    narrow.mask.0[10] = u64::MAX;
    let narrow = ClsMatch::new(narrow.value, narrow.mask);
    assert_eq!(cls.iter_within(&narrow).count(), 0);
    assert!(m.overlaps(&m));
    assert!(cls.remove(&m, 10, RuleId(2)));
    assert!(cls.remove(&m, 11, RuleId(3)));
    assert!(cls.is_empty());
    assert_eq!(cls.n_subtables(), 0);
}

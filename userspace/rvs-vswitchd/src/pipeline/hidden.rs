//! Hidden rules: flows the switch installs for itself (in-band control,
//! [`crate::connmgr::inband`]) that rank above every OpenFlow rule of table 0, as Open
//! vSwitch's rules of priority above 65535. They live in their own classifier, so OpenFlow never
//! sees them: flow-mods cannot match, replace or delete them, flow and aggregate statistics and
//! the table statistics' `active_count` leave them out. Translation consults them before table
//! 0 (the lookup's wildcards go into the megaflow like any other lookup's); `rvs-appctl
//! bridge/dump-flows` lists them.

use std::collections::HashMap;

use rvs_openflow::action::Action;
use rvs_openflow::oxm::Match;
use rvs_openflow::OfpError;

use super::classifier::{Classifier, ClsKey, ClsMatch, RuleId};
use super::flow_mod::check_match;

/// Lowest priority of a hidden rule (one above the highest OpenFlow priority).
pub const MIN_PRIORITY: u32 = 0x1_0000;

/// One hidden rule as its owner asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenSpec {
    /// Priority, at least [`MIN_PRIORITY`] (ranks hidden rules among themselves).
    pub priority: u32,
    /// The match.
    pub match_: Match,
    /// What a matching packet does.
    pub actions: Vec<Action>,
}

impl std::fmt::Display for HiddenSpec {
    /// As `ovs-appctl bridge/dump-flows` shows a hidden flow: `priority=P,MATCH actions=A`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use rvs_openflow::text::{format_action, format_match};
        // 0x8000 is the default priority, which format_match leaves out.
        let m = format_match(&self.match_, 0x8000);
        let acts: Vec<String> = self.actions.iter().map(|a| format_action(a, rvs_openflow::Version::OF13)).collect();
        let sep = if m.is_empty() { "" } else { "," };
        write!(f, "priority={}{sep}{m} actions={}", self.priority, acts.join(","))
    }
}

/// An installed hidden rule.
#[derive(Debug, Clone)]
pub struct HiddenRule {
    /// What was asked for.
    pub spec: HiddenSpec,
    cls: ClsMatch,
    cls_priority: u16,
}

/// The hidden rules of one bridge.
#[derive(Debug, Default)]
pub struct HiddenRules {
    cls: Classifier,
    rules: HashMap<RuleId, HiddenRule>,
    specs: Vec<HiddenSpec>,
    next_id: u64,
}

/// `specs` in one order (priority, highest first, then match) without duplicates, so that
/// equal sets compare equal.
fn canonical(mut specs: Vec<HiddenSpec>) -> Vec<HiddenSpec> {
    // A match has no order of its own; its debug form (fields in OXM order) serves as one.
    specs.sort_by_cached_key(|s| (std::cmp::Reverse(s.priority), format!("{:?}", s.match_), format!("{:?}", s.actions)));
    specs.dedup();
    specs
}

impl HiddenRules {
    /// No hidden rules.
    pub fn new() -> HiddenRules {
        HiddenRules::default()
    }

    /// Replaces every hidden rule with `specs`; returns whether anything changed. A spec whose
    /// match the classifier cannot hold, or whose priority is below [`MIN_PRIORITY`], is
    /// refused and nothing changes.
    pub fn set(&mut self, specs: Vec<HiddenSpec>) -> Result<bool, OfpError> {
        let specs = canonical(specs);
        if specs == self.specs {
            return Ok(false);
        }
        let mut built = Vec::with_capacity(specs.len());
        for s in &specs {
            if s.priority < MIN_PRIORITY {
                return Err(OfpError::FlowModFailed(rvs_openflow::error::FlowModFailed::Eperm));
            }
            let cls = check_match(&s.match_)?;
            let cls_priority = u16::try_from(s.priority - MIN_PRIORITY).unwrap_or(u16::MAX);
            built.push(HiddenRule { spec: s.clone(), cls, cls_priority });
        }
        self.cls = Classifier::new();
        self.rules.clear();
        for r in built {
            let id = RuleId(self.next_id);
            self.next_id = self.next_id.wrapping_add(1);
            if let Some(old) = self.cls.insert(&r.cls, r.cls_priority, id) {
                // Same match and priority twice: the later one stands.
                self.rules.remove(&old);
            }
            self.rules.insert(id, r);
        }
        self.specs = specs;
        Ok(true)
    }

    /// Whether the rules are exactly `specs` (in any order): [`HiddenRules::set`] would change
    /// nothing.
    pub fn is(&self, specs: &[HiddenSpec]) -> bool {
        canonical(specs.to_vec()) == self.specs
    }

    /// The highest-priority hidden rule matching `key`; every key bit the lookup examined is
    /// set in `wc`.
    pub fn lookup(&self, key: &ClsKey, wc: &mut ClsKey) -> Option<&HiddenRule> {
        if self.rules.is_empty() {
            return None;
        }
        self.cls.lookup(key, wc).and_then(|(id, _)| self.rules.get(&id))
    }

    /// The rules, highest priority first.
    pub fn specs(&self) -> &[HiddenSpec] {
        &self.specs
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_openflow::oxm::Field;
    use rvs_openflow::types::port;

    fn normal() -> Vec<Action> {
        vec![Action::Output { port: port::NORMAL, max_len: 0 }]
    }

    #[test]
    fn set_is_idempotent_and_validated() {
        let mut h = HiddenRules::new();
        let arp = HiddenSpec { priority: MIN_PRIORITY + 5, match_: Match::new().with(Field::EthType, 0x0806), actions: normal() };
        assert_eq!(h.set(vec![arp.clone()]), Ok(true));
        assert_eq!(h.set(vec![arp.clone(), arp.clone()]), Ok(false), "same set (duplicates dropped)");
        assert!(h.is(std::slice::from_ref(&arp)));
        assert!(!h.is(&[]));
        assert_eq!(h.len(), 1);
        let low = HiddenSpec { priority: 100, ..arp.clone() };
        assert!(h.set(vec![low]).is_err());
        assert_eq!(h.len(), 1, "a refused set changes nothing");
        // tcp_dst without ip_proto=tcp: prerequisites fail.
        let bad = HiddenSpec { priority: MIN_PRIORITY, match_: Match::new().with(Field::TcpDst, 6653), actions: normal() };
        assert!(h.set(vec![bad]).is_err());
        assert_eq!(h.set(Vec::new()), Ok(true));
        assert!(h.is_empty());
    }
}

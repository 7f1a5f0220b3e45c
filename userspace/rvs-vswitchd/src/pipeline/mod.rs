//! The OpenFlow pipeline of one bridge: 254 flow tables of rules (each with a tuple-space
//! [`classifier`]), the group and meter tables, and what controllers do to them.
//!
//! - [`Pipeline`] (this file): the tables and rules, rule counters credited back from the
//!   datapath ([`Pipeline::credit`]), timeouts ([`Pipeline::expire`]), the version number the
//!   revalidator watches, and the default `priority=0 actions=NORMAL` flow of a bridge without
//!   a controller ([`Pipeline::set_default_normal`]).
//! - [`hidden`]: rules above every OpenFlow rule (in-band control), invisible to OpenFlow.
//! - [`flow_mod`]: flow-mod semantics and validation; [`groups`]: group-mod, meter-mod,
//!   table-mod; [`meters`]: the datapath meters behind OpenFlow meters; [`stats`]: multipart replies; [`fields`]: OXM fields in the classifier key.
//! - [`xlate`]: running the tables on a packet's flow (translation into datapath actions);
//!   [`packet_out`]: packet-out; [`packet_in`]: packet-in data; [`events`]: packet-in and
//!   flow-removed notifications.

pub mod classifier;
pub mod events;
pub mod fields;
pub mod flow_mod;
pub mod groups;
pub mod hidden;
pub mod meters;
pub mod packet_in;
pub mod packet_out;
pub mod stats;
pub mod xlate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rvs_openflow::action::Action;
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{Bucket, FlowModFlags, FlowRemoved, FlowRemovedReason, GroupType, MeterBand};
use rvs_openflow::oxm::Match;

pub use self::classifier::{ClsKey, ClsMatch, FastMap, RuleId};
pub use self::events::{Events, OfEvent};
pub use self::packet_out::packet_out;
pub use self::xlate::xlate_pipeline;

/// Number of flow tables, 0..=253 (as Open vSwitch, whose table 254 is internal: features
/// replies say 254 and table 254 is refused like 255).
pub const N_TABLES: usize = 254;
/// The last flow table.
pub const LAST_TABLE: u8 = 253;
/// Most rules one table holds (`OFPFMFC_TABLE_FULL` beyond).
pub const MAX_ENTRIES: usize = 1_000_000;

/// One flow entry.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Identity.
    pub id: RuleId,
    /// Table.
    pub table_id: u8,
    /// Priority.
    pub priority: u16,
    /// Cookie.
    pub cookie: u64,
    /// The match as the controller gave it (its classifier form lives in the table's
    /// classifier only: [`fields::match_to_cls`] gives it back).
    pub match_: Match,
    /// Instructions.
    pub instructions: Vec<Instruction>,
    /// Idle timeout (s, 0: none).
    pub idle_timeout: u16,
    /// Hard timeout (s, 0: none).
    pub hard_timeout: u16,
    /// Flags.
    pub flags: FlowModFlags,
    /// Eviction importance.
    pub importance: u16,
    /// When added.
    pub created: Instant,
    /// Last time a packet used it (starts at `created`).
    pub used: Instant,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Rule {
    /// Every action of the rule's apply- and write-actions instructions.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.instructions.iter().flat_map(|i| match i {
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
            _ => &[],
        })
    }

    /// Whether the rule outputs to `port` (`port::ANY`: always true).
    pub fn outputs_to(&self, port: u32) -> bool {
        port == rvs_openflow::types::port::ANY
            || self.actions().any(|a| matches!(a, Action::Output { port: p, .. } | Action::Enqueue { port: p, .. } if *p == port))
    }

    /// Whether the rule has an idle or hard timeout.
    pub fn has_timeout(&self) -> bool {
        self.idle_timeout > 0 || self.hard_timeout > 0
    }

    /// Whether the rule sends to group `g` (`group::ANY`: always true).
    pub fn uses_group(&self, g: u32) -> bool {
        g == rvs_openflow::types::group::ANY || self.actions().any(|a| matches!(a, Action::Group(x) if *x == g))
    }

    /// Whether the rule uses meter `m`.
    pub fn uses_meter(&self, m: u32) -> bool {
        self.instructions.iter().any(|i| matches!(i, Instruction::Meter(x) if *x == m))
    }

    /// The flow-removed message for this rule.
    pub fn removed(&self, reason: FlowRemovedReason, now: Instant) -> FlowRemoved {
        let (sec, nsec) = duration(self.created, now);
        FlowRemoved {
            cookie: self.cookie,
            priority: self.priority,
            reason,
            table_id: self.table_id,
            duration_sec: sec,
            duration_nsec: nsec,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            packet_count: self.packets,
            byte_count: self.bytes,
            match_: self.match_.clone(),
        }
    }
}

/// Seconds and nanoseconds from `since` to `now`.
pub fn duration(since: Instant, now: Instant) -> (u32, u32) {
    let d = now.saturating_duration_since(since);
    (u32::try_from(d.as_secs()).unwrap_or(u32::MAX), d.subsec_nanos())
}

/// `OFPTC_EVICTION` (OpenFlow 1.4 table-mod bit): evict rules instead of refusing new ones
/// when the table is full.
pub const OFPTC_EVICTION: u32 = 1 << 2;

/// One flow table.
#[derive(Debug)]
pub struct Table {
    /// Its rules.
    pub cls: Classifier,
    /// `OFPTC_*` configuration bits.
    pub config: u32,
    /// Most rules the table holds.
    pub max_entries: usize,
    /// Packets looked up (translation counts them).
    pub lookups: AtomicU64,
    /// Lookups that found a rule.
    pub matches: AtomicU64,
}

impl Default for Table {
    fn default() -> Self {
        Table { cls: Classifier::new(), config: 0, max_entries: MAX_ENTRIES, lookups: AtomicU64::new(0), matches: AtomicU64::new(0) }
    }
}

use self::classifier::Classifier;

/// A group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Type.
    pub group_type: GroupType,
    /// Buckets.
    pub buckets: Vec<Bucket>,
    /// When added.
    pub created: Instant,
    /// Packets through the group.
    pub packets: u64,
    /// Bytes through the group.
    pub bytes: u64,
    /// Per bucket (packets, bytes).
    pub bucket_stats: Vec<(u64, u64)>,
}

/// A meter: its OpenFlow configuration and the datapath meter that enforces it ([`meters`]).
#[derive(Debug, Clone)]
pub struct Meter {
    /// `meter_flags` bits.
    pub flags: u16,
    /// Bands.
    pub bands: Vec<MeterBand>,
    /// When added.
    pub created: Instant,
    /// The datapath meter installed for it (`None` until [`meters::meter_mod`] installed one).
    pub dp_id: Option<u32>,
}

/// A bridge's OpenFlow tables.
#[derive(Debug)]
pub struct Pipeline {
    tables: Vec<Table>,
    /// Boxed: growing the map then moves pointers, not rules (what dominated installing 100k
    /// flows).
    rules: FastMap<RuleId, Box<Rule>>,
    /// How many rules have an idle or hard timeout: [`Pipeline::expire`] scans the rules only
    /// when some have (a scan of 100k rules under the write lock, every revalidator pass,
    /// would otherwise stall flow-mods).
    n_timed: usize,
    groups: BTreeMap<u32, Group>,
    meters: BTreeMap<u32, Meter>,
    next_id: u64,
    version: u64,
    default_normal: Option<RuleId>,
    /// Flow removals caused by group or meter deletion, for [`Pipeline::take_removed`].
    pending_removed: Vec<FlowRemoved>,
    miss_controller: bool,
    /// Rules above every OpenFlow rule (in-band control; [`hidden`]).
    hidden: hidden::HiddenRules,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::new()
    }
}

impl Pipeline {
    /// Empty tables: every packet misses (and is dropped).
    pub fn new() -> Pipeline {
        Pipeline {
            tables: (0..N_TABLES).map(|_| Table::default()).collect(),
            rules: FastMap::default(),
            n_timed: 0,
            groups: BTreeMap::new(),
            meters: BTreeMap::new(),
            next_id: 1,
            version: 1,
            default_normal: None,
            pending_removed: Vec::new(),
            miss_controller: false,
            hidden: hidden::HiddenRules::new(),
        }
    }

    /// Whether a table miss sends a packet-in (reason no_match) instead of dropping: what
    /// OpenFlow 1.0 controllers expect; OpenFlow 1.3 drops (the connection manager sets it
    /// from the controllers' versions).
    pub fn set_miss_to_controller(&mut self, on: bool) {
        if self.miss_controller != on {
            self.miss_controller = on;
            self.bump();
        }
    }

    /// See [`Pipeline::set_miss_to_controller`].
    pub fn miss_to_controller(&self) -> bool {
        self.miss_controller
    }

    /// Changes on every modification of rules, groups or meters.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn bump(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    /// Table `id` (`None` for 255).
    pub fn table(&self, id: u8) -> Option<&Table> {
        self.tables.get(usize::from(id))
    }

    /// Rule `id`.
    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(&id).map(|r| &**r)
    }

    /// Number of rules in all tables.
    pub fn n_rules(&self) -> usize {
        self.rules.len()
    }

    /// Group `id`.
    pub fn group(&self, id: u32) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// Meter `id`.
    pub fn meter(&self, id: u32) -> Option<&Meter> {
        self.meters.get(&id)
    }

    /// Records the datapath meter that enforces meter `id` (translation then emits it).
    pub fn set_meter_dp_id(&mut self, id: u32, dp_id: Option<u32>) {
        if let Some(m) = self.meters.get_mut(&id) {
            m.dp_id = dp_id;
            self.bump();
        }
    }

    fn alloc_id(&mut self) -> RuleId {
        let id = RuleId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Adds `rule` (whose match in classifier form is `cls`) to its table (replacing a rule
    /// with the same match and priority, whose counters it keeps unless `reset_counts`, as
    /// Open vSwitch).
    fn insert_rule(&mut self, mut rule: Rule, cls: &ClsMatch) {
        let Some(t) = self.tables.get_mut(usize::from(rule.table_id)) else { return };
        if let Some(old) = t.cls.insert(cls, rule.priority, rule.id) {
            if let Some(o) = self.rules.remove(&old) {
                if !rule.flags.reset_counts {
                    rule.packets = o.packets;
                    rule.bytes = o.bytes;
                }
                if o.has_timeout() {
                    self.n_timed -= 1;
                }
            }
            if self.default_normal == Some(old) {
                self.default_normal = None;
            }
        }
        if rule.has_timeout() {
            self.n_timed += 1;
        }
        self.rules.insert(rule.id, Box::new(rule));
        self.bump();
    }

    /// Removes rule `id`, returning it.
    fn remove_rule(&mut self, id: RuleId) -> Option<Box<Rule>> {
        let r = self.rules.remove(&id)?;
        if let (Some(t), Ok(cls)) = (self.tables.get_mut(usize::from(r.table_id)), fields::match_to_cls(&r.match_)) {
            // The match converted when the rule was added, so it converts again.
            t.cls.remove(&cls, r.priority, r.id);
        }
        if r.has_timeout() {
            self.n_timed -= 1;
        }
        if self.default_normal == Some(id) {
            self.default_normal = None;
        }
        self.bump();
        Some(r)
    }

    /// Adds (`on`) or removes the visible default flow `priority=0 actions=NORMAL` of table 0,
    /// what a bridge without a controller in `fail_mode=standalone` has (as Open vSwitch).
    pub fn set_default_normal(&mut self, on: bool) {
        match (on, self.default_normal) {
            (true, None) => {
                let now = Instant::now();
                let id = self.alloc_id();
                let actions = vec![Action::Output { port: rvs_openflow::types::port::NORMAL, max_len: 0 }];
                self.insert_rule(Rule {
                    id,
                    table_id: 0,
                    priority: 0,
                    cookie: 0,
                    match_: Match::new(),
                    instructions: vec![Instruction::ApplyActions(actions)],
                    idle_timeout: 0,
                    hard_timeout: 0,
                    flags: FlowModFlags::default(),
                    importance: 0,
                    created: now,
                    used: now,
                    packets: 0,
                    bytes: 0,
                }, &ClsMatch::new(ClsKey::ZERO, ClsKey::ZERO));
                self.default_normal = Some(id);
            }
            (false, Some(id)) => {
                self.remove_rule(id);
            }
            _ => {}
        }
    }

    /// Limits table `t` to `max` rules (at most [`MAX_ENTRIES`]); with `evict`, a full table
    /// evicts (as Open vSwitch's `overflow_policy=evict`) instead of refusing new rules.
    pub fn set_table_limit(&mut self, t: u8, max: usize, evict: bool) {
        if let Some(tab) = self.tables.get_mut(usize::from(t)) {
            tab.max_entries = max.min(MAX_ENTRIES);
            if evict {
                tab.config |= OFPTC_EVICTION;
            } else {
                tab.config &= !OFPTC_EVICTION;
            }
        }
    }

    /// The rule of table `t` to evict to make room: among rules with a timeout (the others
    /// are never evicted, as Open vSwitch), the least important, then the one closest to
    /// expiring.
    fn eviction_victim(&self, t: u8, now: Instant) -> Option<RuleId> {
        let left = |r: &Rule| {
            let mut v = Vec::new();
            if r.hard_timeout > 0 {
                v.push((r.created + Duration::from_secs(u64::from(r.hard_timeout))).saturating_duration_since(now));
            }
            if r.idle_timeout > 0 {
                v.push((r.used + Duration::from_secs(u64::from(r.idle_timeout))).saturating_duration_since(now));
            }
            v.into_iter().min()
        };
        self.rules
            .values()
            .filter(|r| r.table_id == t)
            .filter_map(|r| left(r).map(|l| (r.importance, l, r.id)))
            .min()
            .map(|(_, _, id)| id)
    }

    /// Replaces the hidden rules ([`hidden`]); the version changes (and installed megaflows
    /// are revalidated) only when they differ.
    pub fn set_hidden_rules(&mut self, specs: Vec<hidden::HiddenSpec>) -> Result<bool, rvs_openflow::OfpError> {
        let changed = self.hidden.set(specs)?;
        if changed {
            self.bump();
        }
        Ok(changed)
    }

    /// The hidden rules.
    pub fn hidden_rules(&self) -> &hidden::HiddenRules {
        &self.hidden
    }

    /// Whether the default NORMAL flow is installed.
    pub fn has_default_normal(&self) -> bool {
        self.default_normal.is_some()
    }

    /// Credits datapath traffic to the rules a megaflow went through.
    pub fn credit(&mut self, rules: &[RuleId], packets: u64, bytes: u64, used: Instant) {
        for id in rules {
            if let Some(r) = self.rules.get_mut(id) {
                r.packets = r.packets.saturating_add(packets);
                r.bytes = r.bytes.saturating_add(bytes);
                if packets > 0 && used > r.used {
                    r.used = used;
                }
            }
        }
    }

    /// Credits datapath traffic to the group buckets a megaflow went through ((group, bucket);
    /// a bucket index past the end counts for the group only).
    pub fn credit_groups(&mut self, buckets: &[(u32, usize)], packets: u64, bytes: u64) {
        let mut seen = Vec::new();
        for (gid, i) in buckets {
            if let Some(g) = self.groups.get_mut(gid) {
                if !seen.contains(gid) {
                    seen.push(*gid);
                    g.packets = g.packets.saturating_add(packets);
                    g.bytes = g.bytes.saturating_add(bytes);
                }
                if let Some(b) = g.bucket_stats.get_mut(*i) {
                    b.0 = b.0.saturating_add(packets);
                    b.1 = b.1.saturating_add(bytes);
                }
            }
        }
    }

    /// Removes rules whose idle or hard timeout passed; returns the flow-removed messages of
    /// those that asked for them (plus any left by group or meter deletions).
    pub fn expire(&mut self, now: Instant) -> Vec<FlowRemoved> {
        if self.n_timed == 0 {
            return self.take_removed();
        }
        let mut gone = Vec::new();
        for r in self.rules.values() {
            let hard = r.hard_timeout > 0 && now >= r.created + Duration::from_secs(u64::from(r.hard_timeout));
            let idle = r.idle_timeout > 0 && now >= r.used + Duration::from_secs(u64::from(r.idle_timeout));
            if hard {
                gone.push((r.id, FlowRemovedReason::HardTimeout));
            } else if idle {
                gone.push((r.id, FlowRemovedReason::IdleTimeout));
            }
        }
        let mut out = self.take_removed();
        for (id, why) in gone {
            if let Some(r) = self.remove_rule(id) {
                if r.flags.send_flow_rem {
                    out.push(r.removed(why, now));
                }
            }
        }
        out
    }

    /// Flow-removed messages left by group and meter deletions (which remove the flows that
    /// use them) since the last call.
    pub fn take_removed(&mut self) -> Vec<FlowRemoved> {
        std::mem::take(&mut self.pending_removed)
    }

    /// Every rule, by table then priority (highest first).
    pub fn rules_sorted(&self) -> Vec<&Rule> {
        let mut v: Vec<&Rule> = self.rules.values().map(|r| &**r).collect();
        v.sort_by(|a, b| a.table_id.cmp(&b.table_id).then(b.priority.cmp(&a.priority)).then(a.id.cmp(&b.id)));
        v
    }

    /// Counts a lookup in table `t` (and whether it hit).
    pub fn count_lookup(&self, t: u8, hit: bool) {
        if let Some(t) = self.tables.get(usize::from(t)) {
            t.lookups.fetch_add(1, Ordering::Relaxed);
            if hit {
                t.matches.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests;

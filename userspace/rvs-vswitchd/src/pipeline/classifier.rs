//! The OpenFlow rule classifier of one flow table: tuple-space search.
//!
//! Rules live in one *subtable* per distinct mask; a subtable hashes the masked key to the
//! rules with that exact masked key, highest priority first. A lookup probes subtables in order
//! of their highest priority and stops as soon as no remaining subtable can beat the best
//! match. Each subtable is probed in *stages* (metadata, L2, L3, L4, as Open vSwitch's staged
//! lookup): a hash of the key's masked prefix that no rule of the subtable has ends the probe
//! early, so only the fields up to that stage were examined. The lookup reports exactly the
//! bits it examined in a wildcard mask ([`ClsKey`]), which translation turns into the megaflow
//! mask: a packet differing only in unexamined bits gets the same decision.
//!
//! Keys are [`ClsKey`]s: the datapath [`FlowKey`] layout (so examined bits map onto the
//! megaflow mask one to one) plus two pipeline-only words, the OpenFlow metadata register and
//! the OpenFlow input port.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rvs_core::key::{FlowKey, KEY_WORDS};
use smallvec::SmallVec;

/// Number of 64-bit words of a [`ClsKey`].
pub const WORDS: usize = KEY_WORDS + 2;
/// Word holding the OpenFlow metadata register.
pub const METADATA_WORD: usize = KEY_WORDS;
/// Word holding the OpenFlow input port.
pub const OFPORT_WORD: usize = KEY_WORDS + 1;

/// A rule's identity (unique for the life of a pipeline, never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u64);

/// A classifier key, mask or masked value: the datapath key words plus metadata and OpenFlow
/// input port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClsKey(pub [u64; WORDS]);

impl Default for ClsKey {
    fn default() -> Self {
        ClsKey::ZERO
    }
}

impl ClsKey {
    /// All zeros (as a mask: everything wildcarded).
    pub const ZERO: ClsKey = ClsKey([0; WORDS]);

    /// The key of a packet: its flow, the metadata register and its OpenFlow input port.
    pub fn from_flow(flow: &FlowKey, metadata: u64, ofport: u32) -> ClsKey {
        let mut k = ClsKey::ZERO;
        for (i, w) in k.0.iter_mut().take(KEY_WORDS).enumerate() {
            *w = flow.word(i);
        }
        // Both pipeline words hold their numbers big-endian, like the key's fields, so every
        // field is a big-endian byte range of the key (see `super::fields`).
        k.0[METADATA_WORD] = u64::from_ne_bytes(metadata.to_be_bytes());
        k.0[OFPORT_WORD] = u64::from_ne_bytes(u64::from(ofport).to_be_bytes());
        k
    }

    /// The datapath-key part (for a mask: the megaflow bits it stands for).
    pub fn flow_part(&self) -> FlowKey {
        let mut f = FlowKey::ZERO;
        for (i, w) in self.0.iter().take(KEY_WORDS).enumerate() {
            f.set_word(i, *w);
        }
        f
    }

    /// `self & m`.
    pub fn masked(&self, m: &ClsKey) -> ClsKey {
        let mut o = *self;
        for (a, b) in o.0.iter_mut().zip(m.0.iter()) {
            *a &= b;
        }
        o
    }

    /// `self |= m`.
    pub fn or_with(&mut self, m: &ClsKey) {
        for (a, b) in self.0.iter_mut().zip(m.0.iter()) {
            *a |= b;
        }
    }

    /// Whether every 1-bit of `other` is set in `self`.
    pub fn covers(&self, other: &ClsKey) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & b == *b)
    }

    /// Whether `key` agrees with this masked value under `mask`.
    pub fn matches(&self, key: &ClsKey, mask: &ClsKey) -> bool {
        self.0.iter().zip(key.0.iter()).zip(mask.0.iter()).all(|((v, k), m)| k & m == *v)
    }

    /// The key as bytes (the datapath key's bytes, then metadata and OpenFlow port, both
    /// big-endian).
    pub fn to_bytes(&self) -> [u8; WORDS * 8] {
        let mut b = [0u8; WORDS * 8];
        for (c, w) in b.chunks_exact_mut(8).zip(self.0.iter()) {
            c.copy_from_slice(&w.to_ne_bytes());
        }
        b
    }

    /// The key from bytes laid out as [`ClsKey::to_bytes`] gives them.
    pub fn from_bytes(b: &[u8; WORDS * 8]) -> ClsKey {
        let mut k = ClsKey::ZERO;
        for (c, w) in b.chunks_exact(8).zip(k.0.iter_mut()) {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            *w = u64::from_ne_bytes(a);
        }
        k
    }

    /// Whether no bit is set.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// A rule's match in classifier form: masked value and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClsMatch {
    /// Value (zero outside the mask).
    pub value: ClsKey,
    /// Mask.
    pub mask: ClsKey,
}

impl ClsMatch {
    /// A match of `value` under `mask` (the value is masked here).
    pub fn new(value: ClsKey, mask: ClsKey) -> ClsMatch {
        ClsMatch { value: value.masked(&mask), mask }
    }

    /// Whether some packet matches both (OpenFlow's "overlap" at equal priority).
    pub fn overlaps(&self, o: &ClsMatch) -> bool {
        (0..WORDS).all(|i| (self.value.0[i] ^ o.value.0[i]) & self.mask.0[i] & o.mask.0[i] == 0)
    }

    /// Whether every packet `self` matches is matched by `filter` (loose flow-mod selection:
    /// the rule is at least as specific as the filter).
    pub fn within(&self, filter: &ClsMatch) -> bool {
        self.mask.covers(&filter.mask) && self.value.masked(&filter.mask) == filter.value
    }
}

/// Hashes already-hashed `u64`s without rehashing.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// A fast multiplicative hasher (Fx-like) for keys no peer chooses freely: rule ids and
/// subtable masks. SipHash over a 208-byte mask cost more than the rest of a rule insertion.
#[derive(Default)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.write_u64(u64::from_ne_bytes(a));
        }
        for b in chunks.remainder() {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

/// A map hashed with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95)
}

fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// Byte ranges of the [`ClsKey`] per lookup stage (key bytes 192..208 are metadata and
/// OpenFlow input port).
#[allow(clippy::single_range_in_vec_init)]
const STAGE_BYTES: [&[std::ops::Range<usize>]; 4] = [
    // Metadata: tunnel, skb priority/mark, in_port, recirc, dp_hash, metadata, OpenFlow port.
    &[0..80, 192..208],
    // L2: Ethernet addresses and type, VLAN tags.
    &[80..102],
    // L3: IP protocol/ToS/TTL/frag, IPv4 (ARP) addresses, ARP hardware addresses, IPv6.
    &[102..106, 112..168, 184..192],
    // L4: ports, TCP flags, ND target.
    &[106..112, 168..184],
];

fn stage_masks() -> [ClsKey; 4] {
    let mut out = [ClsKey::ZERO; 4];
    for (s, ranges) in STAGE_BYTES.iter().enumerate() {
        let mut bytes = [0u8; WORDS * 8];
        for r in ranges.iter() {
            for b in bytes.get_mut(r.clone()).into_iter().flatten() {
                *b = 0xff;
            }
        }
        for (i, w) in out[s].0.iter_mut().enumerate() {
            let mut c = [0u8; 8];
            c.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *w = u64::from_ne_bytes(c);
        }
    }
    out
}

/// Most lookup stages a subtable has (metadata, L2, L3, L4).
const MAX_STAGES: usize = 4;

#[derive(Debug)]
struct Stage {
    /// End of this stage's (word, mask) pairs in [`Subtable::words`].
    end: usize,
    /// Mask of this and every earlier stage: what a probe ending here examined.
    cum_mask: ClsKey,
    /// Prefix hashes of the rules (with counts), for every stage but the last.
    prefix: IdMap<u32>,
}

/// The rules with one masked value. The value keeps only the subtable's masked words (in
/// [`Subtable::words`] order; the rest is zero), so a rule costs a few words, not a whole key.
#[derive(Debug)]
struct Bucket {
    value: SmallVec<[u64; 4]>,
    /// Highest priority first; equal priorities in insertion order.
    rules: SmallVec<[(u16, RuleId); 1]>,
}

#[derive(Debug)]
struct Subtable {
    mask: ClsKey,
    /// The (word, mask) pairs of the mask's nonzero words, stage after stage.
    words: Vec<(usize, u64)>,
    stages: Vec<Stage>,
    /// Buckets by full hash (collisions share the entry).
    buckets: IdMap<SmallVec<[Bucket; 1]>>,
    priorities: BTreeMap<u16, u32>,
    n_rules: usize,
}

impl Subtable {
    fn new(mask: ClsKey, stage_masks: &[ClsKey; 4]) -> Subtable {
        let mut stages = Vec::new();
        let mut words = Vec::new();
        let mut cum = ClsKey::ZERO;
        for sm in stage_masks {
            let part = mask.masked(sm);
            cum.or_with(&part);
            let before = words.len();
            words.extend(part.0.iter().enumerate().filter(|(_, w)| **w != 0).map(|(i, w)| (i, *w)));
            if words.len() > before {
                stages.push(Stage { end: words.len(), cum_mask: cum, prefix: IdMap::default() });
            }
        }
        Subtable { mask, words, stages, buckets: IdMap::default(), priorities: BTreeMap::new(), n_rules: 0 }
    }

    fn max_priority(&self) -> u16 {
        self.priorities.keys().next_back().copied().unwrap_or(0)
    }

    /// The stage hashes of `key` (the last one is the bucket hash), without allocating.
    fn hashes(&self, key: &ClsKey) -> ([u64; MAX_STAGES], usize) {
        let mut out = [0u64; MAX_STAGES];
        let mut h = SEED;
        let mut start = 0;
        for (o, s) in out.iter_mut().zip(&self.stages) {
            for &(i, m) in self.words.get(start..s.end).unwrap_or_default() {
                h = mix(h, key.0[i] & m);
            }
            start = s.end;
            *o = finish(h);
        }
        (out, self.stages.len())
    }

    fn bucket_hash(&self, key: &ClsKey) -> u64 {
        let (h, n) = self.hashes(key);
        n.checked_sub(1).and_then(|i| h.get(i).copied()).unwrap_or(finish(SEED))
    }

    /// The masked words of `value` (already masked) in [`Subtable::words`] order.
    fn compact(&self, value: &ClsKey) -> SmallVec<[u64; 4]> {
        self.words.iter().map(|&(i, _)| value.0[i]).collect()
    }

    /// Whether `key` under the subtable's mask equals compacted value `v`.
    fn key_matches(&self, key: &ClsKey, v: &[u64]) -> bool {
        self.words.iter().zip(v).all(|(&(i, m), x)| key.0[i] & m == *x)
    }

    /// The full masked value of compacted value `v`.
    fn expand(&self, v: &[u64]) -> ClsKey {
        let mut k = ClsKey::ZERO;
        for (&(i, _), x) in self.words.iter().zip(v) {
            k.0[i] = *x;
        }
        k
    }
}

/// One flow table's classifier.
#[derive(Debug)]
pub struct Classifier {
    subtables: Vec<Subtable>,
    /// Indices into `subtables`, highest max priority first.
    order: Vec<usize>,
    by_mask: FastMap<ClsKey, usize>,
    stage_masks: [ClsKey; 4],
    n_rules: usize,
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::new()
    }
}

impl Classifier {
    /// An empty classifier.
    pub fn new() -> Classifier {
        Classifier { subtables: Vec::new(), order: Vec::new(), by_mask: FastMap::default(), stage_masks: stage_masks(), n_rules: 0 }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.n_rules
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.n_rules == 0
    }

    /// Number of subtables (distinct masks).
    pub fn n_subtables(&self) -> usize {
        self.subtables.len()
    }

    fn reorder(&mut self) {
        let subs = &self.subtables;
        self.order = (0..subs.len()).collect();
        self.order.sort_by_key(|&i| std::cmp::Reverse(subs[i].max_priority()));
    }

    /// Inserts rule `id` with match `m` at `priority`. A rule with the same match and
    /// priority is replaced; its id is returned.
    pub fn insert(&mut self, m: &ClsMatch, priority: u16, id: RuleId) -> Option<RuleId> {
        let si = match self.by_mask.get(&m.mask) {
            Some(&i) => i,
            None => {
                self.subtables.push(Subtable::new(m.mask, &self.stage_masks));
                let i = self.subtables.len() - 1;
                self.by_mask.insert(m.mask, i);
                i
            }
        };
        let st = &mut self.subtables[si];
        let old_max = st.max_priority();
        let was_empty = st.n_rules == 0;
        let (hashes, n) = st.hashes(&m.value);
        let h = n.checked_sub(1).and_then(|i| hashes.get(i).copied()).unwrap_or(finish(SEED));
        let value = st.compact(&m.value);
        let buckets = st.buckets.entry(h).or_default();
        let bi = match buckets.iter().position(|b| b.value == value) {
            Some(i) => i,
            None => {
                buckets.push(Bucket { value, rules: SmallVec::new() });
                buckets.len() - 1
            }
        };
        let b = &mut buckets[bi];
        if let Some(r) = b.rules.iter_mut().find(|(p, _)| *p == priority) {
            let old = r.1;
            r.1 = id;
            return Some(old);
        }
        let first_in_bucket = b.rules.is_empty();
        let pos = b.rules.iter().position(|(p, _)| *p < priority).unwrap_or(b.rules.len());
        b.rules.insert(pos, (priority, id));
        if first_in_bucket {
            for (stage, hs) in st.stages.iter_mut().zip(hashes).take(n.saturating_sub(1)) {
                *stage.prefix.entry(hs).or_insert(0) += 1;
            }
        }
        *st.priorities.entry(priority).or_insert(0) += 1;
        st.n_rules += 1;
        self.n_rules += 1;
        if was_empty || st.max_priority() != old_max {
            self.reorder();
        }
        None
    }

    /// Removes rule `id` (match `m`, `priority`); false if it is not there.
    pub fn remove(&mut self, m: &ClsMatch, priority: u16, id: RuleId) -> bool {
        let Some(&si) = self.by_mask.get(&m.mask) else { return false };
        let st = &mut self.subtables[si];
        let old_max = st.max_priority();
        let (hashes, n) = st.hashes(&m.value);
        let h = n.checked_sub(1).and_then(|i| hashes.get(i).copied()).unwrap_or(finish(SEED));
        let value = st.compact(&m.value);
        let Some(buckets) = st.buckets.get_mut(&h) else { return false };
        let Some(bi) = buckets.iter().position(|b| b.value == value) else { return false };
        let Some(ri) = buckets[bi].rules.iter().position(|r| *r == (priority, id)) else { return false };
        buckets[bi].rules.remove(ri);
        if buckets[bi].rules.is_empty() {
            buckets.swap_remove(bi);
            if buckets.is_empty() {
                st.buckets.remove(&h);
            }
            for (stage, hs) in st.stages.iter_mut().zip(hashes).take(n.saturating_sub(1)) {
                if let Some(c) = stage.prefix.get_mut(&hs) {
                    *c -= 1;
                    if *c == 0 {
                        stage.prefix.remove(&hs);
                    }
                }
            }
        }
        if let Some(c) = st.priorities.get_mut(&priority) {
            *c -= 1;
            if *c == 0 {
                st.priorities.remove(&priority);
            }
        }
        st.n_rules -= 1;
        self.n_rules -= 1;
        if st.n_rules == 0 {
            self.subtables.swap_remove(si);
            self.by_mask = self.subtables.iter().enumerate().map(|(i, s)| (s.mask, i)).collect();
            self.reorder();
        } else if st.max_priority() != old_max {
            self.reorder();
        }
        true
    }

    /// The rule with exactly match `m` and `priority` (strict flow-mod selection).
    pub fn find_exact(&self, m: &ClsMatch, priority: u16) -> Option<RuleId> {
        let st = &self.subtables[*self.by_mask.get(&m.mask)?];
        let bs = st.buckets.get(&st.bucket_hash(&m.value))?;
        let value = st.compact(&m.value);
        let b = bs.iter().find(|b| b.value == value)?;
        b.rules.iter().find(|(p, _)| *p == priority).map(|r| r.1)
    }

    /// The highest-priority rule matching `key`, with its priority. Every key bit the lookup
    /// examined is set in `wc` (bits already set stay set).
    pub fn lookup(&self, key: &ClsKey, wc: &mut ClsKey) -> Option<(RuleId, u16)> {
        let mut best: Option<(RuleId, u16)> = None;
        'subtables: for &si in &self.order {
            let st = &self.subtables[si];
            if let Some((_, bp)) = best {
                if st.max_priority() <= bp {
                    break;
                }
            }
            let mut h = SEED;
            let n = st.stages.len();
            let mut start = 0;
            for (s, stage) in st.stages.iter().enumerate() {
                for &(i, m) in st.words.get(start..stage.end).unwrap_or_default() {
                    h = mix(h, key.0[i] & m);
                }
                start = stage.end;
                if s + 1 < n && !stage.prefix.contains_key(&finish(h)) {
                    wc.or_with(&stage.cum_mask);
                    continue 'subtables;
                }
            }
            wc.or_with(&st.mask);
            let Some(bs) = st.buckets.get(&finish(h)) else { continue };
            if let Some(b) = bs.iter().find(|b| st.key_matches(key, &b.value)) {
                if let Some(&(p, id)) = b.rules.first() {
                    if best.is_none_or(|(_, bp)| p > bp) {
                        best = Some((id, p));
                    }
                }
            }
        }
        best
    }

    /// Every rule: (match, priority, id), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (ClsMatch, u16, RuleId)> + '_ {
        self.subtables.iter().flat_map(|st| {
            st.buckets.values().flatten().flat_map(move |b| {
                let value = st.expand(&b.value);
                b.rules.iter().map(move |&(p, id)| (ClsMatch { value, mask: st.mask }, p, id))
            })
        })
    }

    /// Every rule at exactly `priority` (subtables without it are skipped whole).
    pub fn iter_priority(&self, priority: u16) -> impl Iterator<Item = (ClsMatch, RuleId)> + '_ {
        self.subtables.iter().filter(move |st| st.priorities.contains_key(&priority)).flat_map(move |st| {
            st.buckets.values().flatten().flat_map(move |b| {
                let value = st.expand(&b.value);
                b.rules.iter().filter(move |(p, _)| *p == priority).map(move |&(_, id)| (ClsMatch { value, mask: st.mask }, id))
            })
        })
    }

    /// Rules whose match lies within `filter` (see [`ClsMatch::within`]); subtables whose mask
    /// does not cover the filter's are skipped whole.
    pub fn iter_within<'a>(&'a self, filter: &'a ClsMatch) -> impl Iterator<Item = (ClsMatch, u16, RuleId)> + 'a {
        self.subtables.iter().filter(move |st| st.mask.covers(&filter.mask)).flat_map(move |st| {
            st.buckets.values().flatten().map(move |b| (st.expand(&b.value), b)).filter(move |(v, _)| v.masked(&filter.mask) == filter.value).flat_map(move |(value, b)| {
                b.rules.iter().map(move |&(p, id)| (ClsMatch { value, mask: st.mask }, p, id))
            })
        })
    }
}

#[cfg(test)]
#[path = "classifier_tests.rs"]
mod tests;

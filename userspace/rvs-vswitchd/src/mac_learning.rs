//! The MAC learning table of one bridge: (VLAN, MAC) → port, with aging (`mac-aging-time`,
//! default 300 s), a size limit (`mac-table-size`, default 8192; the least recently seen entry
//! is evicted) and a generation number that changes whenever a lookup that some installed
//! megaflow's translation made could now answer differently: the revalidator re-translates a
//! bridge's megaflows when it moves.
//!
//! As Open vSwitch's MAC-learning tags, the table remembers which (VLAN, MAC) keys translations
//! looked up ("watched" keys, kept for [`MacTable::watch_ttl`] after the last lookup: longer than
//! a megaflow lives without being re-translated). Learning, moving or expiring a key nobody looked
//! up (the common case: a new source address) cannot change any translation, so it leaves the
//! generation alone and costs no revalidation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Default entry lifetime.
pub const DEFAULT_AGING: Duration = Duration::from_secs(300);
/// Default capacity.
pub const DEFAULT_SIZE: usize = 8192;
/// Default [`MacTable::watch_ttl`]: the default flow max-idle (10 s) plus margin for the
/// revalidator's pass period.
pub const DEFAULT_WATCH_TTL: Duration = Duration::from_secs(15);

/// One learned address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Where the address was last seen (an OpenFlow port number of the bridge).
    pub port: u32,
    /// When.
    pub used: Instant,
}

/// What [`MacTable::learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// A new entry.
    New,
    /// The address moved from this port.
    Moved(u32),
    /// Already known on that port (timestamp refreshed).
    Refreshed,
}

/// The table.
#[derive(Debug)]
pub struct MacTable {
    entries: HashMap<(u16, [u8; 6]), Entry>,
    /// Entry lifetime.
    pub aging: Duration,
    /// Capacity.
    pub max: usize,
    /// How long a looked-up key stays watched after its last lookup.
    pub watch_ttl: Duration,
    watched: HashMap<(u16, [u8; 6]), Instant>,
    last_prune: Option<Instant>,
    generation: u64,
}

impl Default for MacTable {
    fn default() -> Self {
        Self::new(DEFAULT_AGING, DEFAULT_SIZE)
    }
}

impl MacTable {
    /// An empty table.
    pub fn new(aging: Duration, max: usize) -> MacTable {
        MacTable {
            entries: HashMap::new(),
            aging,
            max: max.max(1),
            watch_ttl: DEFAULT_WATCH_TTL,
            watched: HashMap::new(),
            last_prune: None,
            generation: 0,
        }
    }

    /// A change to `key`: moves the generation if a translation depends on it.
    fn touched(&mut self, key: (u16, [u8; 6])) {
        if self.watched.contains_key(&key) {
            self.generation += 1;
        }
    }

    /// Number of watched keys (looked up by a translation within `watch_ttl`).
    pub fn watched(&self) -> usize {
        self.watched.len()
    }

    /// Changes whenever a lookup might answer differently.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Records that `mac` on `vlan` was seen on `port` at `now`.
    pub fn learn(&mut self, vlan: u16, mac: [u8; 6], port: u32, now: Instant) -> Learned {
        if let Some(e) = self.entries.get_mut(&(vlan, mac)) {
            let was = e.port;
            e.used = now;
            if was == port {
                return Learned::Refreshed;
            }
            e.port = port;
            self.touched((vlan, mac));
            return Learned::Moved(was);
        }
        if self.entries.len() >= self.max {
            if let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) {
                self.entries.remove(&oldest);
                self.touched(oldest);
            }
        }
        self.entries.insert((vlan, mac), Entry { port, used: now });
        self.touched((vlan, mac));
        Learned::New
    }

    /// The port `mac` on `vlan` was learned on, if the entry is still fresh at `now`. The key
    /// becomes watched: the caller's translation depends on this answer.
    pub fn lookup(&mut self, vlan: u16, mac: [u8; 6], now: Instant) -> Option<u32> {
        self.watched.insert((vlan, mac), now);
        self.peek(vlan, mac, now)
    }

    /// As [`MacTable::lookup`], for display: no translation depends on the answer.
    pub fn peek(&self, vlan: u16, mac: [u8; 6], now: Instant) -> Option<u32> {
        self.entries.get(&(vlan, mac)).filter(|e| now.saturating_duration_since(e.used) < self.aging).map(|e| e.port)
    }

    /// Removes entries older than the aging time (and, once a second, watches older than
    /// `watch_ttl`); returns how many entries.
    pub fn expire(&mut self, now: Instant) -> usize {
        let aging = self.aging;
        let before = self.entries.len();
        let watched = &self.watched;
        let mut relevant = false;
        self.entries.retain(|k, e| {
            let keep = now.saturating_duration_since(e.used) < aging;
            relevant |= !keep && watched.contains_key(k);
            keep
        });
        if relevant {
            self.generation += 1;
        }
        if self.last_prune.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
            let ttl = self.watch_ttl;
            self.watched.retain(|_, t| now.saturating_duration_since(*t) < ttl);
            self.last_prune = Some(now);
        }
        before - self.entries.len()
    }

    /// Forgets everything learned on `port` (port removed or reconfigured).
    pub fn flush_port(&mut self, port: u32) {
        let watched = &self.watched;
        let mut relevant = false;
        self.entries.retain(|k, e| {
            let keep = e.port != port;
            relevant |= !keep && watched.contains_key(k);
            keep
        });
        if relevant {
            self.generation += 1;
        }
    }

    /// Forgets everything.
    pub fn flush(&mut self) {
        self.entries.clear();
        self.generation += 1;
    }

    /// Entries as (port, vlan, mac, age), ordered by port, VLAN, MAC.
    pub fn entries(&self, now: Instant) -> Vec<(u32, u16, [u8; 6], Duration)> {
        let mut v: Vec<_> =
            self.entries.iter().map(|((vlan, mac), e)| (e.port, *vlan, *mac, now.saturating_duration_since(e.used))).collect();
        v.sort();
        v
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Formats a MAC as `aa:bb:cc:dd:ee:ff`.
pub fn fmt_mac(m: &[u8; 6]) -> String {
    format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [0, 1, 2, 3, 4, 5];
    const B: [u8; 6] = [0, 1, 2, 3, 4, 6];

    #[test]
    fn learn_move_age() {
        let t0 = Instant::now();
        let mut t = MacTable::new(Duration::from_secs(10), 100);
        assert_eq!(t.learn(1, A, 3, t0), Learned::New);
        let g = t.generation();
        assert_eq!(t.learn(1, A, 3, t0), Learned::Refreshed);
        assert_eq!(t.generation(), g, "a refresh does not invalidate flows");
        assert_eq!(t.lookup(1, A, t0), Some(3));
        assert_eq!(t.lookup(2, A, t0), None, "per-VLAN tables");
        assert_eq!(t.learn(1, A, 4, t0), Learned::Moved(3));
        assert!(t.generation() > g);
        assert_eq!(t.lookup(1, A, t0 + Duration::from_secs(9)), Some(4));
        assert_eq!(t.lookup(1, A, t0 + Duration::from_secs(10)), None, "aged out");
        assert_eq!(t.expire(t0 + Duration::from_secs(11)), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn only_changes_to_looked_up_keys_move_the_generation() {
        let t0 = Instant::now();
        let mut t = MacTable::new(Duration::from_secs(10), 100);
        let g = t.generation();
        t.learn(1, A, 3, t0);
        t.learn(1, A, 4, t0);
        assert_eq!(t.generation(), g, "new and moved source addresses nobody looked up");
        assert_eq!(t.lookup(1, B, t0), None);
        assert_eq!(t.watched(), 1);
        t.learn(2, B, 3, t0);
        assert_eq!(t.generation(), g, "another VLAN's B is another key");
        t.learn(1, B, 3, t0);
        let g = t.generation();
        assert!(g > 0, "B was looked up (flooded): learning it changes that translation");
        assert_eq!(t.peek(1, A, t0), Some(4));
        assert_eq!(t.watched(), 1, "peek does not watch");
        assert_eq!(t.expire(t0 + Duration::from_secs(11)), 3);
        assert!(t.generation() > g, "the watched B expired");
        // Watches end watch_ttl after the last lookup.
        t.watch_ttl = Duration::from_secs(5);
        t.expire(t0 + Duration::from_secs(20));
        assert_eq!(t.watched(), 0);
        let g = t.generation();
        t.learn(1, B, 3, t0 + Duration::from_secs(20));
        assert_eq!(t.generation(), g);
        // flush_port moves it only for watched keys; flush always.
        t.lookup(1, B, t0 + Duration::from_secs(20));
        t.flush_port(9);
        assert_eq!(t.generation(), g);
        t.flush_port(3);
        assert!(t.generation() > g);
        let g = t.generation();
        t.flush();
        assert!(t.generation() > g);
    }

    #[test]
    fn capacity_evicts_oldest_and_flush_port() {
        let t0 = Instant::now();
        let mut t = MacTable::new(DEFAULT_AGING, 2);
        t.learn(0, A, 1, t0);
        t.learn(0, B, 2, t0 + Duration::from_secs(1));
        t.learn(5, A, 2, t0 + Duration::from_secs(2));
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup(0, A, t0 + Duration::from_secs(2)), None, "oldest evicted");
        t.flush_port(2);
        assert!(t.is_empty());
        assert_eq!(fmt_mac(&A), "00:01:02:03:04:05");
    }
}

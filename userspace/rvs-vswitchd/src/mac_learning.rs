//! The MAC learning table of one bridge: (VLAN, MAC) → port, with aging (`mac-aging-time`,
//! default 300 s), a size limit (`mac-table-size`, default 8192; the least recently seen entry
//! is evicted) and a generation number that changes whenever a lookup could now answer
//! differently (learn, move, expiry, flush): the revalidator re-translates a bridge's megaflows
//! when it moves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Default entry lifetime.
pub const DEFAULT_AGING: Duration = Duration::from_secs(300);
/// Default capacity.
pub const DEFAULT_SIZE: usize = 8192;

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
        MacTable { entries: HashMap::new(), aging, max: max.max(1), generation: 0 }
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
            self.generation += 1;
            return Learned::Moved(was);
        }
        if self.entries.len() >= self.max {
            if let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert((vlan, mac), Entry { port, used: now });
        self.generation += 1;
        Learned::New
    }

    /// The port `mac` on `vlan` was learned on, if the entry is still fresh at `now`.
    pub fn lookup(&self, vlan: u16, mac: [u8; 6], now: Instant) -> Option<u32> {
        self.entries.get(&(vlan, mac)).filter(|e| now.saturating_duration_since(e.used) < self.aging).map(|e| e.port)
    }

    /// Removes entries older than the aging time; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let aging = self.aging;
        let before = self.entries.len();
        self.entries.retain(|_, e| now.saturating_duration_since(e.used) < aging);
        let n = before - self.entries.len();
        if n > 0 {
            self.generation += 1;
        }
        n
    }

    /// Forgets everything learned on `port` (port removed or reconfigured).
    pub fn flush_port(&mut self, port: u32) {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.port != port);
        if self.entries.len() != before {
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

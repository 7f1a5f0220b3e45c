//! The queues OpenFlow sees: [`QueueTable`] records, per device, the linux-htb queues that the
//! [`super::QosManager`] installed and when, and [`queue_stats`] answers an OpenFlow queue
//! statistics request from it with each queue's tc class counters (queue N is class `1:(N+1)`):
//! transmitted bytes and packets, drops as `tx_errors` (as Open vSwitch), and the time since the
//! queue was created.
//!
//! Wildcards as Open vSwitch answers them: port `ANY` (and OpenFlow 1.0's `ALL`) covers every
//! port, queue `ALL` every queue of a port (none on a port without QoS: an empty reply); a
//! named port that does not exist is `OFPQOFC_BAD_PORT`, a named queue that no selected port has
//! is `OFPQOFC_BAD_QUEUE`.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::time::Instant;

use rvs_openflow::error::QueueOpFailed;
use rvs_openflow::msg::QueueStats;
use rvs_openflow::OfpError;

use super::htb::HtbSpec;
use super::tc::ClassStats;

/// `OFPQ_ALL`.
pub const QUEUE_ALL: u32 = 0xffff_ffff;

/// The queues of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceQueues {
    /// The device's ifindex when they were installed.
    pub ifindex: i32,
    /// Queue number → when its class was created.
    pub created: BTreeMap<u32, Instant>,
}

/// The queues installed on every device, by device name.
#[derive(Debug, Default)]
pub struct QueueTable {
    devices: RwLock<HashMap<String, DeviceQueues>>,
}

impl QueueTable {
    /// Records that `dev` (ifindex `ifindex`) got the queues of `spec` now.
    pub fn installed(&self, dev: &str, ifindex: i32, spec: &HtbSpec, now: Instant) {
        let created = spec.queues.keys().map(|q| (*q, now)).collect();
        self.devices.write().unwrap_or_else(|p| p.into_inner()).insert(dev.to_string(), DeviceQueues { ifindex, created });
    }

    /// Records that `dev` has no queues any more.
    pub fn removed(&self, dev: &str) {
        self.devices.write().unwrap_or_else(|p| p.into_inner()).remove(dev);
    }

    /// The queues of `dev`.
    pub fn get(&self, dev: &str) -> Option<DeviceQueues> {
        self.devices.read().unwrap_or_else(|p| p.into_inner()).get(dev).cloned()
    }
}

/// One OpenFlow port as queue statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePort {
    /// OpenFlow port number (as sent to the peer).
    pub port_no: u32,
    /// Its device.
    pub dev: String,
}

/// Answers a queue statistics request for `port_no` (`any`: every port) and `queue_id`
/// (`QUEUE_ALL`: every queue) over `ports`; `classes` reads a device's tc classes.
pub fn queue_stats(
    table: &QueueTable,
    ports: &[QueuePort],
    port_no: Option<u32>,
    queue_id: u32,
    now: Instant,
    classes: &mut dyn FnMut(&str, i32) -> Vec<ClassStats>,
) -> Result<Vec<QueueStats>, OfpError> {
    let selected: Vec<&QueuePort> = match port_no {
        None => ports.iter().collect(),
        Some(n) => match ports.iter().find(|p| p.port_no == n) {
            Some(p) => vec![p],
            None => return Err(QueueOpFailed::BadPort.into()),
        },
    };
    let mut out = Vec::new();
    let mut found = false;
    for p in selected {
        let Some(dq) = table.get(&p.dev) else { continue };
        let wanted: Vec<(u32, Instant)> = dq.created.iter().filter(|(q, _)| queue_id == QUEUE_ALL || **q == queue_id).map(|(q, t)| (*q, *t)).collect();
        if wanted.is_empty() {
            continue;
        }
        let cls = classes(&p.dev, dq.ifindex);
        for (q, created) in wanted {
            let handle = HtbSpec::queue_handle(q);
            // A class the kernel no longer has (the device's qdisc was replaced behind rvs's back)
            // is not reported.
            let Some(c) = cls.iter().find(|c| c.handle == handle && c.kind == "htb") else { continue };
            found = true;
            let age = now.saturating_duration_since(created);
            out.push(QueueStats {
                port_no: p.port_no,
                queue_id: q,
                tx_bytes: c.bytes,
                tx_packets: c.packets,
                tx_errors: c.drops,
                duration_sec: u32::try_from(age.as_secs()).unwrap_or(u32::MAX),
                duration_nsec: age.subsec_nanos(),
            });
        }
    }
    if queue_id != QUEUE_ALL && !found {
        return Err(QueueOpFailed::BadQueue.into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(queues: &[u32]) -> HtbSpec {
        let qs = queues.iter().map(|q| (*q, BTreeMap::new())).collect();
        HtbSpec::from_config(&BTreeMap::new(), &qs, &mut Vec::new())
    }

    fn class(handle: u32, bytes: u64) -> ClassStats {
        ClassStats { ifindex: 5, handle, parent: 0x1_fffe, kind: "htb".into(), bytes, packets: bytes / 100, drops: 1 }
    }

    #[test]
    fn wildcards_and_errors() {
        let t = QueueTable::default();
        let t0 = Instant::now();
        t.installed("eth1", 5, &spec(&[0, 3]), t0);
        let ports = vec![QueuePort { port_no: 1, dev: "eth1".into() }, QueuePort { port_no: 2, dev: "eth2".into() }];
        let mut reads = Vec::new();
        let mut classes = |dev: &str, idx: i32| {
            reads.push((dev.to_string(), idx));
            vec![class(0x1_fffe, 10_000), class(0x1_0001, 500), class(0x1_0004, 7_000)]
        };
        let now = t0 + Duration::from_millis(2500);
        let all = queue_stats(&t, &ports, None, QUEUE_ALL, now, &mut classes).unwrap();
        assert_eq!(all.iter().map(|s| (s.port_no, s.queue_id, s.tx_bytes, s.tx_packets, s.tx_errors)).collect::<Vec<_>>(), vec![(1, 0, 500, 5, 1), (1, 3, 7_000, 70, 1)]);
        assert_eq!((all[0].duration_sec, all[0].duration_nsec), (2, 500_000_000));
        let one = queue_stats(&t, &ports, Some(1), 3, now, &mut classes).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].tx_bytes, 7_000);
        assert_eq!(queue_stats(&t, &ports, None, 3, now, &mut classes).unwrap().len(), 1, "any port, one queue");
        assert!(queue_stats(&t, &ports, Some(2), QUEUE_ALL, now, &mut classes).unwrap().is_empty(), "a port without QoS has no queues");
        assert_eq!(queue_stats(&t, &ports, Some(2), 0, now, &mut classes), Err(QueueOpFailed::BadQueue.into()));
        assert_eq!(queue_stats(&t, &ports, Some(1), 7, now, &mut classes), Err(QueueOpFailed::BadQueue.into()));
        assert_eq!(queue_stats(&t, &ports, None, 7, now, &mut classes), Err(QueueOpFailed::BadQueue.into()));
        assert_eq!(queue_stats(&t, &ports, Some(9), QUEUE_ALL, now, &mut classes), Err(QueueOpFailed::BadPort.into()));
        t.removed("eth1");
        assert!(queue_stats(&t, &ports, None, QUEUE_ALL, now, &mut classes).unwrap().is_empty());
        assert!(reads.iter().all(|(d, i)| d == "eth1" && *i == 5), "only devices with queues are read: {reads:?}");
    }
}

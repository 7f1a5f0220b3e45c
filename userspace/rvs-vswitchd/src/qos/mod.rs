//! Egress QoS (`Port.qos` → a `QoS` row of type `linux-htb` with `Queue` rows): each interface
//! device of such a port gets an HTB tree programmed over rtnetlink ([`tc`]), laid out as Open
//! vSwitch lays it out ([`htb`]) so that OpenFlow `set_queue:N` / `enqueue` — which translation
//! turns into skb priority `1:(N+1)` — selects queue N's class, and unclassified traffic goes to
//! queue 0. Clearing the port's `qos` (or removing the port) deletes the root qdisc again.
//!
//! [`QosManager`] lives in the daemon's main loop and is reconciled after each bridge
//! reconciliation; it remembers what it installed on which device (by ifindex, so a recreated
//! device is programmed again) and touches a device only when that changes.
//!
//! Only the kernel datapath carries the skb priority to the device; on the userspace datapath
//! the HTB tree still shapes queue 0 (all traffic) but `set_queue` does not select a class.
//!
//! What is installed is published in a [`queues::QueueTable`] (shared with the OpenFlow side,
//! which answers queue statistics from it and the classes' kernel counters).

pub mod htb;
pub mod queues;
pub mod tc;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::{set_atoms, string_map, uuid_of, Config};
use crate::dbsync::Replica;
use htb::HtbSpec;

/// The QoS configuration of one device, as read from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceQos {
    /// The port the device belongs to (for messages).
    pub port: String,
    /// What to install.
    pub spec: HtbSpec,
}

/// The interface types that are not host devices (no qdisc to program).
fn has_device(ty: &str) -> bool {
    !matches!(ty, "patch" | "gre" | "vxlan" | "geneve")
}

/// `QoS.queues`: queue number → Queue row uuid.
fn queue_refs(v: Option<&Value>) -> Vec<(i64, &str)> {
    let Some(Value::Array(a)) = v else { return Vec::new() };
    if a.first().and_then(Value::as_str) != Some("map") {
        return Vec::new();
    }
    let Some(Value::Array(pairs)) = a.get(1) else { return Vec::new() };
    pairs
        .iter()
        .filter_map(|p| match p {
            Value::Array(kv) if kv.len() == 2 => Some((kv[0].as_i64()?, uuid_of(&kv[1])?)),
            _ => None,
        })
        .collect()
}

/// Reads the QoS wanted on every host device of the configured bridges; problems go to `errors`.
pub fn read(r: &Replica, cfg: &Config, errors: &mut Vec<String>) -> BTreeMap<String, DeviceQos> {
    let mut out = BTreeMap::new();
    for b in &cfg.bridges {
        for p in &b.ports {
            let Some(prow) = r.row("Port", &p.uuid) else { continue };
            let Some(qrow) = set_atoms(prow.get("qos")).into_iter().find_map(uuid_of).and_then(|u| r.row("QoS", u)) else { continue };
            let Some(spec) = read_qos(r, qrow, &p.name, errors) else { continue };
            for i in p.interfaces.iter().filter(|i| has_device(&i.ty)) {
                out.insert(i.name.clone(), DeviceQos { port: p.name.clone(), spec: spec.clone() });
            }
        }
    }
    out
}

fn read_qos(r: &Replica, q: &Map<String, Value>, port: &str, errors: &mut Vec<String>) -> Option<HtbSpec> {
    let ty = q.get("type").and_then(Value::as_str).unwrap_or("");
    match ty {
        "linux-htb" => {}
        "" => return None,
        other => {
            errors.push(format!("port {port}: QoS type {other:?} is not supported (rvs implements linux-htb)"));
            return None;
        }
    }
    let mut queues = BTreeMap::new();
    for (n, u) in queue_refs(q.get("queues")) {
        let Ok(n) = u32::try_from(n) else { continue };
        let oc = r.row("Queue", u).map(|row| string_map(row.get("other_config"))).unwrap_or_default();
        queues.insert(n, oc);
    }
    let mut errs = Vec::new();
    let spec = HtbSpec::from_config(&string_map(q.get("other_config")), &queues, &mut errs);
    errors.extend(errs.into_iter().map(|e| format!("port {port}: QoS: {e}")));
    Some(spec)
}

/// The ifindex of host device `name`, if it exists.
fn ifindex(name: &str) -> Option<i32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).ok()?.trim().parse().ok()
}

/// What the daemon has installed, by device.
#[derive(Debug, Default)]
pub struct QosManager {
    sock: Option<tc::TcSocket>,
    installed: HashMap<String, (i32, HtbSpec)>,
    last_errors: Vec<String>,
    queues: Arc<queues::QueueTable>,
}

impl QosManager {
    /// A manager that publishes the queues it installs in `queues`.
    pub fn new(queues: Arc<queues::QueueTable>) -> QosManager {
        QosManager { queues, ..Default::default() }
    }

    /// Devices with an HTB tree installed by rvs, with their ifindex.
    pub fn installed(&self) -> impl Iterator<Item = (&str, i32)> {
        self.installed.iter().map(|(n, (i, _))| (n.as_str(), *i))
    }

    fn sock(&mut self) -> Result<&mut tc::TcSocket, tc::TcError> {
        if self.sock.is_none() {
            self.sock = Some(tc::TcSocket::open()?);
        }
        self.sock.as_mut().ok_or_else(|| tc::TcError::Malformed("no socket".into()))
    }

    /// Brings the devices' qdiscs in line with the database; returns the problems that are new
    /// since the last call (to log once).
    pub fn reconcile(&mut self, r: &Replica, cfg: &Config) -> Vec<String> {
        let mut errors = Vec::new();
        let want = read(r, cfg, &mut errors);
        // Devices that no longer want QoS: back to their default qdisc.
        let gone: Vec<String> = self.installed.keys().filter(|d| !want.contains_key(*d)).cloned().collect();
        for dev in gone {
            let Some((idx, _)) = self.installed.remove(&dev) else { continue };
            self.queues.removed(&dev);
            if ifindex(&dev) != Some(idx) {
                continue; // the device went away (with its qdiscs)
            }
            match self.sock().and_then(|s| s.del_root(idx)) {
                Ok(()) => crate::info!("qos", "{dev}: QoS removed"),
                Err(e) => errors.push(format!("{dev}: removing QoS: {e}")),
            }
        }
        for (dev, w) in &want {
            let Some(idx) = ifindex(dev) else { continue };
            if self.installed.get(dev).is_some_and(|(i, s)| *i == idx && *s == w.spec) {
                continue;
            }
            self.installed.remove(dev);
            self.queues.removed(dev);
            match self.sock().and_then(|s| s.install_htb(idx, &w.spec)) {
                Ok(()) => {
                    crate::info!(
                        "qos",
                        "{dev}: linux-htb max-rate {} bit/s, queues {}",
                        w.spec.root.max_rate * 8,
                        w.spec.queues.iter().map(|(q, c)| format!("{q}:{}-{}", c.min_rate * 8, c.max_rate * 8)).collect::<Vec<_>>().join(" ")
                    );
                    self.installed.insert(dev.clone(), (idx, w.spec.clone()));
                    self.queues.installed(dev, idx, &w.spec, std::time::Instant::now());
                }
                Err(e) => errors.push(format!("port {} ({dev}): cannot install linux-htb QoS: {e}", w.port)),
            }
        }
        let new = errors.iter().filter(|e| !self.last_errors.contains(e)).cloned().collect();
        self.last_errors = errors;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queue_map() {
        let v = json!(["map", [[0, ["uuid", "a"]], [5, ["uuid", "b"]], ["x", ["uuid", "c"]]]]);
        assert_eq!(queue_refs(Some(&v)), vec![(0, "a"), (5, "b")]);
        assert!(queue_refs(Some(&json!(["set", []]))).is_empty());
        assert!(queue_refs(None).is_empty());
    }

    #[test]
    fn device_names() {
        assert!(has_device("") && has_device("internal") && has_device("system") && has_device("tap"));
        assert!(!has_device("patch") && !has_device("gre"));
        assert_eq!(ifindex("../x"), None);
        assert_eq!(ifindex("lo"), Some(1));
    }
}

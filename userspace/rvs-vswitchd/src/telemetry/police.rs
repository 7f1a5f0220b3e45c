//! Ingress policing (`Interface.ingress_policing_rate` in kbit/s, `ingress_policing_burst` in
//! kbit): one datapath meter per policed port, with a single drop band, and translation puts
//! `meter(ID)` first in the actions of every flow whose input is that port.
//!
//! Why a meter and not tc (Open vSwitch installs an ingress qdisc with a police filter on the
//! device): a meter is part of the datapath ABI, so the same configuration works on rvs.ko and
//! openvswitch.ko without tc, rtnetlink or the ingress qdisc being present; it also polices the
//! packets of a miss that the daemon executes, and it is owned and cleaned up with the datapath;
//! rvs's userspace datapath runs the same meter code as rvs.ko. A datapath that refuses the
//! meter gets an error logged for the interface instead of silently not policing.
//!
//! Meter IDs come from [`crate::pipeline::meters::MeterIds`], from the top of the datapath's
//! meter space downwards ([`ID_TOP`]), while OpenFlow meters take them from the bottom.

use std::collections::HashMap;

use rvs_dpif::{MeterBand, MeterConfig, PortNo};

use crate::config::{opt_int, Config};
use crate::dbsync::Replica;
use crate::ofproto::DatapathTypeEq;

/// The highest meter ID used for policing (and the lower bound of the datapath's meter space
/// that must exist: openvswitch.ko and rvs.ko both offer more).
pub const ID_TOP: u32 = 1023;
/// Burst (kbit) when `ingress_policing_burst` is 0, as Open vSwitch.
pub const DEFAULT_BURST_KB: u32 = 8000;

/// One policed interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policer {
    /// kbit/s.
    pub rate_kbps: u32,
    /// kbit.
    pub burst_kb: u32,
}

impl Policer {
    /// From the interface columns; `None` when policing is off (rate 0).
    pub fn from_columns(rate: i64, burst: i64) -> Option<Policer> {
        let rate_kbps = u32::try_from(rate).ok().filter(|r| *r > 0)?;
        let burst_kb = u32::try_from(burst).ok().filter(|b| *b > 0).unwrap_or(DEFAULT_BURST_KB);
        Some(Policer { rate_kbps, burst_kb })
    }

    /// The meter that implements it.
    pub fn meter(&self, id: u32) -> MeterConfig {
        MeterConfig { id, kbps: true, bands: vec![MeterBand { rate: self.rate_kbps, burst: self.burst_kb }] }
    }
}

/// Policed datapath ports: (datapath type, port) → (meter ID, what it was set to).
pub type Meters = HashMap<(DatapathTypeEq, PortNo), (u32, Policer)>;

/// Brings the datapaths' policing meters in line with the database; returns the new map.
/// `current` is the previous one, `errors` collects problems.
pub fn reconcile(
    vs: &crate::bridge::Vswitchd,
    r: &Replica,
    cfg: &Config,
    current: &Meters,
    errors: &mut Vec<String>,
) -> Meters {
    // What the database wants, by datapath port.
    let mut want: HashMap<(DatapathTypeEq, PortNo), (String, Policer)> = HashMap::new();
    for b in &cfg.bridges {
        let Some(br) = vs.switch.bridge(&b.name) else { continue };
        let bc = br.config();
        for p in &b.ports {
            for i in &p.interfaces {
                let Some(row) = r.row("Interface", &i.uuid) else { continue };
                let rate = opt_int(row.get("ingress_policing_rate")).unwrap_or(0);
                let burst = opt_int(row.get("ingress_policing_burst")).unwrap_or(0);
                let Some(pol) = Policer::from_columns(rate, burst) else { continue };
                if let Some(op) = bc.ports.values().find(|o| o.name == i.name) {
                    want.insert((bc.dp_type, op.dp_port), (i.name.clone(), pol));
                }
            }
        }
    }
    let ids = &vs.switch.meter_ids;
    let mut next = HashMap::new();
    // Keep the IDs of ports that stay policed.
    for (k, (id, p)) in current {
        if want.contains_key(k) {
            next.insert(*k, (*id, *p));
        }
    }
    for (k, (id, _)) in current {
        if next.contains_key(k) {
            continue;
        }
        if let Some(bk) = vs.backer(k.0 .0) {
            let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = d.meter_del(*id) {
                crate::dbg_log!("telemetry", "deleting policing meter {id}: {e}");
            }
        }
        ids.free(k.0 .0, *id);
    }
    let mut keys: Vec<_> = want.keys().copied().collect();
    keys.sort_by_key(|k| (matches!(k.0 .0, rvs_dpif::DatapathType::System), k.1));
    for k in keys {
        let (name, pol) = &want[&k];
        let id = match next.get(&k) {
            Some((id, _)) => *id,
            None => {
                let Some(id) = ids.alloc_high(k.0 .0) else {
                    errors.push(format!("{name}: no free meter ID for ingress policing"));
                    continue;
                };
                id
            }
        };
        let Some(bk) = vs.backer(k.0 .0) else {
            if !next.contains_key(&k) {
                ids.free(k.0 .0, id);
            }
            continue;
        };
        let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
        // Setting an existing meter replaces its bands (and resets its bucket), so only when new.
        if current.get(&k).map(|(_, p)| p) != Some(pol) {
            match d.meter_set(&pol.meter(id)) {
                Ok(()) => {
                    crate::info!("telemetry", "{name}: ingress policing {} kbit/s, burst {} kbit (meter {id})", pol.rate_kbps, pol.burst_kb);
                }
                Err(e) => {
                    errors.push(format!("{name}: cannot police ingress (meter {id} on {}): {e}", bk.name));
                    next.remove(&k);
                    ids.free(k.0 .0, id);
                    continue;
                }
            }
        }
        next.insert(k, (id, *pol));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns() {
        assert_eq!(Policer::from_columns(0, 100), None);
        assert_eq!(Policer::from_columns(-5, 100), None);
        assert_eq!(Policer::from_columns(1000, 0), Some(Policer { rate_kbps: 1000, burst_kb: DEFAULT_BURST_KB }));
        let p = Policer::from_columns(2000, 200).unwrap();
        let m = p.meter(1023);
        assert!(m.kbps);
        assert_eq!(m.bands, vec![MeterBand { rate: 2000, burst: 200 }]);
    }
}

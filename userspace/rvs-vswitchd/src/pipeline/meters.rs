//! OpenFlow meters enforced by the datapath. Every meter of a bridge's [`Pipeline`] is backed by
//! one datapath meter (`OVS_METER_CMD_SET` on rvs.ko / openvswitch.ko, the userspace datapath's
//! meter table) carrying its drop bands: [`meter_mod`] applies a controller's meter-mod to the
//! pipeline and the datapath together (a datapath that refuses leaves the pipeline unchanged and
//! the controller gets the error), translation emits `meter(ID)` for the meter instruction
//! ([`super::xlate`]), and [`fill_stats`] puts the datapath's counters into meter statistics.
//!
//! When a bridge's `datapath_type` changes, [`move_datapath`] deletes its meters' datapath meters
//! on the old datapath and creates them on the new one (new IDs from the new datapath's space).
//!
//! Datapath meter IDs belong to the datapath, shared by all its bridges and by ingress policing
//! ([`crate::telemetry::police`]); [`MeterIds`] hands them out so they never collide: OpenFlow
//! meters from the bottom of the space, policing from the top ([`ID_TOP`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use rvs_dpif::{DatapathType, MeterBand as DpBand, MeterConfig};
use rvs_openflow::error::MeterModFailed;
use rvs_openflow::msg::{meter_flags, MeterBand, MeterBandKind, MeterMod, MeterModCommand, MultipartReply, MultipartReplyBody};
use rvs_openflow::types::meter;
use rvs_openflow::OfpError;

use super::Pipeline;
use crate::ofproto::{Bridge, DatapathTypeEq, Switch};
pub use crate::telemetry::police::ID_TOP;

/// The datapath meter IDs in use, per datapath.
#[derive(Debug, Default)]
pub struct MeterIds {
    used: Mutex<HashMap<DatapathTypeEq, BTreeSet<u32>>>,
}

impl MeterIds {
    /// Takes the lowest free ID of the `ty` datapath (OpenFlow meters).
    pub fn alloc_low(&self, ty: DatapathType) -> Option<u32> {
        self.alloc(ty, 0..=ID_TOP)
    }

    /// Takes the highest free ID of the `ty` datapath (ingress policing).
    pub fn alloc_high(&self, ty: DatapathType) -> Option<u32> {
        self.alloc(ty, (0..=ID_TOP).rev())
    }

    fn alloc(&self, ty: DatapathType, mut order: impl Iterator<Item = u32>) -> Option<u32> {
        let mut g = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let set = g.entry(DatapathTypeEq(ty)).or_default();
        let id = order.find(|i| !set.contains(i))?;
        set.insert(id);
        Some(id)
    }

    /// Gives `id` of the `ty` datapath back.
    pub fn free(&self, ty: DatapathType, id: u32) {
        let mut g = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = g.get_mut(&DatapathTypeEq(ty)) {
            set.remove(&id);
        }
    }
}

/// The datapath meter `id` for an OpenFlow meter with `flags` and `bands`. The datapath only
/// drops, so a DSCP-remark or experimenter band is refused (`OFPMMFC_BAD_BAND`) rather than
/// silently not applied. Without `OFPMF_BURST` a band's burst is its rate (one second's worth).
pub fn dp_config(id: u32, flags: u16, bands: &[MeterBand]) -> Result<MeterConfig, OfpError> {
    let mut out = Vec::with_capacity(bands.len());
    for b in bands {
        if b.kind != MeterBandKind::Drop {
            return Err(MeterModFailed::BadBand.into());
        }
        let burst = if flags & meter_flags::BURST != 0 && b.burst_size > 0 { b.burst_size } else { b.rate };
        out.push(DpBand { rate: b.rate, burst });
    }
    Ok(MeterConfig { id, kbps: flags & meter_flags::PKTPS == 0, bands: out })
}

/// Applies `mm` to the pipeline of `br` and to the datapath behind it.
pub fn meter_mod(switch: &Switch, br: &Bridge, p: &mut Pipeline, mm: &MeterMod) -> Result<(), OfpError> {
    let ty = br.config().dp_type.0;
    match mm.command {
        MeterModCommand::Add => {
            dp_config(0, mm.flags, &mm.bands)?;
            p.meter_mod(mm)?;
            let installed = switch.meter_ids.alloc_low(ty).ok_or(OfpError::from(MeterModFailed::OutOfMeters)).and_then(|id| {
                install(switch, br, ty, id, mm).inspect_err(|_| switch.meter_ids.free(ty, id))?;
                Ok(id)
            });
            match installed {
                Ok(id) => p.set_meter_dp_id(mm.meter_id, Some(id)),
                Err(e) => {
                    // No flow can use the meter yet: deleting it undoes the add.
                    let _ = p.meter_mod(&MeterMod { command: MeterModCommand::Delete, ..mm.clone() });
                    return Err(e);
                }
            }
        }
        MeterModCommand::Modify => {
            dp_config(0, mm.flags, &mm.bands)?;
            let old = p.meter(mm.meter_id).cloned();
            p.meter_mod(mm)?;
            if let Some(id) = old.as_ref().and_then(|m| m.dp_id) {
                if let Err(e) = install(switch, br, ty, id, mm) {
                    if let Some(o) = old {
                        let _ = p.meter_mod(&MeterMod { command: MeterModCommand::Modify, flags: o.flags, meter_id: mm.meter_id, bands: o.bands });
                    }
                    return Err(e);
                }
            }
        }
        MeterModCommand::Delete => {
            let gone: Vec<u32> = p.meters().filter(|(id, _)| mm.meter_id == meter::ALL || *id == mm.meter_id).filter_map(|(_, m)| m.dp_id).collect();
            p.meter_mod(mm)?;
            for id in gone {
                if let Some(bk) = switch.backer(ty) {
                    let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = d.meter_del(id) {
                        crate::warn!("pipeline", "bridge {}: deleting datapath meter {id}: {e}", br.name);
                    }
                }
                switch.meter_ids.free(ty, id);
            }
        }
    }
    Ok(())
}

/// Sets datapath meter `id` to the configuration of `mm`.
fn install(switch: &Switch, br: &Bridge, ty: DatapathType, id: u32, mm: &MeterMod) -> Result<(), OfpError> {
    let cfg = dp_config(id, mm.flags, &mm.bands)?;
    let Some(bk) = switch.backer(ty) else {
        crate::warn!("pipeline", "bridge {}: meter {}: no {} datapath to install it in", br.name, mm.meter_id, crate::upcall::backer_name(ty));
        return Err(MeterModFailed::Unknown.into());
    };
    let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
    if let Ok(f) = d.meter_features() {
        if f.max_bands > 0 && cfg.bands.len() > f.max_bands as usize {
            return Err(MeterModFailed::OutOfBands.into());
        }
    }
    d.meter_set(&cfg).map_err(|e| {
        crate::warn!("pipeline", "bridge {}: meter {}: the datapath refused meter {id}: {e}", br.name, mm.meter_id);
        OfpError::from(MeterModFailed::Unknown)
    })?;
    crate::info!("pipeline", "bridge {}: meter {} is datapath meter {id} ({} band(s), {})", br.name, mm.meter_id, cfg.bands.len(), if cfg.kbps { "kbit/s" } else { "packets/s" });
    Ok(())
}

/// Moves the datapath meters of bridge `br`'s OpenFlow meters from the `from` datapath to the
/// `to` datapath (its `datapath_type` changed): each is deleted there and created here. A meter
/// the new datapath refuses is logged and left unenforced (translation then emits no `meter`
/// action for it, and says so in traces).
pub fn move_datapath(switch: &Switch, br: &Bridge, from: DatapathType, to: DatapathType) {
    let mut p = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
    let meters: Vec<(u32, super::Meter)> = p.meters().map(|(id, m)| (id, m.clone())).collect();
    for (id, m) in meters {
        if let Some(old) = m.dp_id {
            if let Some(bk) = switch.backer(from) {
                let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = d.meter_del(old) {
                    crate::dbg_log!("pipeline", "bridge {}: deleting datapath meter {old}: {e}", br.name);
                }
            }
            switch.meter_ids.free(from, old);
        }
        p.set_meter_dp_id(id, None);
        let mm = MeterMod { command: MeterModCommand::Add, flags: m.flags, meter_id: id, bands: m.bands.clone() };
        let Some(new) = switch.meter_ids.alloc_low(to) else {
            crate::warn!("pipeline", "bridge {}: meter {id}: no free meter on the {} datapath: not enforced", br.name, crate::upcall::backer_name(to));
            continue;
        };
        match install(switch, br, to, new, &mm) {
            Ok(()) => p.set_meter_dp_id(id, Some(new)),
            Err(e) => {
                switch.meter_ids.free(to, new);
                crate::warn!("pipeline", "bridge {}: meter {id} on the {} datapath: {e}: not enforced", br.name, crate::upcall::backer_name(to));
            }
        }
    }
}

/// Deletes the datapath meters of bridge `br`'s OpenFlow meters (the bridge is going away).
pub fn release(switch: &Switch, br: &Bridge) {
    let ty = br.config().dp_type.0;
    let mut p = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
    let held: Vec<(u32, u32)> = p.meters().filter_map(|(id, m)| m.dp_id.map(|d| (id, d))).collect();
    for (id, dp) in held {
        if let Some(bk) = switch.backer(ty) {
            let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = d.meter_del(dp) {
                crate::dbg_log!("pipeline", "bridge {}: deleting datapath meter {dp}: {e}", br.name);
            }
        }
        switch.meter_ids.free(ty, dp);
        p.set_meter_dp_id(id, None);
    }
}

/// Puts the datapath's counters (packets and bytes in, per-band drops) into meter statistics
/// replies of bridge `br`'s pipeline `p`.
pub fn fill_stats(switch: &Switch, br: &Bridge, p: &Pipeline, replies: &mut [MultipartReply]) {
    let Some(bk) = switch.backer(br.config().dp_type.0) else { return };
    for r in replies {
        let MultipartReplyBody::Meter(v) = &mut r.body else { continue };
        let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
        for s in v.iter_mut() {
            let Some(id) = p.meter(s.meter_id).and_then(|m| m.dp_id) else { continue };
            match d.meter_get(id) {
                Ok(st) => {
                    s.packet_in_count = st.packets;
                    s.byte_in_count = st.bytes;
                    for (o, b) in s.band_stats.iter_mut().zip(st.bands.iter()) {
                        *o = *b;
                    }
                }
                Err(e) => crate::dbg_log!("pipeline", "meter {} (datapath meter {id}) stats: {e}", s.meter_id),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(kind: MeterBandKind, rate: u32, burst_size: u32) -> MeterBand {
        MeterBand { kind, rate, burst_size }
    }

    #[test]
    fn config_from_bands() {
        let c = dp_config(7, meter_flags::KBPS, &[band(MeterBandKind::Drop, 2000, 50)]).unwrap();
        assert_eq!(c, MeterConfig { id: 7, kbps: true, bands: vec![DpBand { rate: 2000, burst: 2000 }] });
        let c = dp_config(1, meter_flags::PKTPS | meter_flags::BURST, &[band(MeterBandKind::Drop, 100, 10)]).unwrap();
        assert_eq!(c, MeterConfig { id: 1, kbps: false, bands: vec![DpBand { rate: 100, burst: 10 }] });
        let e = dp_config(1, meter_flags::KBPS, &[band(MeterBandKind::DscpRemark { prec_level: 1 }, 100, 0)]);
        assert_eq!(e, Err(MeterModFailed::BadBand.into()));
    }

    #[test]
    fn a_removed_bridge_gives_its_meter_ids_back() {
        use crate::ofproto::BridgeConfig;
        let aging = |_: &str| (std::time::Duration::from_secs(300), 100);
        let sw = Switch::new();
        sw.publish(vec![BridgeConfig { name: "br0".into(), ..Default::default() }], &aging);
        let br = sw.bridge("br0").unwrap();
        let ty = br.config().dp_type.0;
        let id = sw.meter_ids.alloc_low(ty).unwrap();
        {
            let mut p = br.pipeline.write().unwrap();
            let mm = MeterMod { command: MeterModCommand::Add, flags: meter_flags::KBPS, meter_id: 1, bands: vec![band(MeterBandKind::Drop, 100, 0)] };
            p.meter_mod(&mm).unwrap();
            p.set_meter_dp_id(1, Some(id));
        }
        sw.publish(vec![], &aging);
        assert_eq!(br.pipeline.read().unwrap().meter(1).unwrap().dp_id, None);
        assert_eq!(sw.meter_ids.alloc_low(ty), Some(id), "the ID is free again");
    }

    #[test]
    fn a_datapath_type_change_moves_the_meter_ids() {
        use crate::ofproto::{BridgeConfig, DatapathTypeEq};
        let aging = |_: &str| (std::time::Duration::from_secs(300), 100);
        let sw = Switch::new();
        let sys = BridgeConfig { name: "br0".into(), dp_type: DatapathTypeEq(DatapathType::System), ..Default::default() };
        sw.publish(vec![sys.clone()], &aging);
        let br = sw.bridge("br0").unwrap();
        let id = sw.meter_ids.alloc_low(DatapathType::System).unwrap();
        {
            let mut p = br.pipeline.write().unwrap();
            let mm = MeterMod { command: MeterModCommand::Add, flags: meter_flags::KBPS, meter_id: 1, bands: vec![band(MeterBandKind::Drop, 100, 0)] };
            p.meter_mod(&mm).unwrap();
            p.set_meter_dp_id(1, Some(id));
        }
        let v = br.pipeline.read().unwrap().version();
        sw.publish(vec![BridgeConfig { dp_type: DatapathTypeEq(DatapathType::Userspace), ..sys }], &aging);
        // No datapath runs in a unit test: the meter cannot be created on the new one, and says so.
        assert_eq!(br.pipeline.read().unwrap().meter(1).unwrap().dp_id, None, "the old datapath's meter is not used any more");
        assert_ne!(br.pipeline.read().unwrap().version(), v, "flows are re-translated");
        assert_eq!(sw.meter_ids.alloc_low(DatapathType::System), Some(id), "the old datapath's ID is free again");
        assert_eq!(sw.meter_ids.alloc_low(DatapathType::Userspace), Some(0), "and no new ID leaked on the new one");
    }

    #[test]
    fn ids_do_not_collide() {
        let ids = MeterIds::default();
        let sys = DatapathType::System;
        assert_eq!(ids.alloc_low(sys), Some(0));
        assert_eq!(ids.alloc_low(sys), Some(1));
        assert_eq!(ids.alloc_high(sys), Some(ID_TOP));
        assert_eq!(ids.alloc_low(DatapathType::Userspace), Some(0));
        ids.free(sys, 0);
        assert_eq!(ids.alloc_low(sys), Some(0));
        for _ in 2..ID_TOP {
            assert!(ids.alloc_low(sys).is_some());
        }
        assert_eq!(ids.alloc_low(sys), None);
        assert_eq!(ids.alloc_high(sys), None);
        ids.free(sys, ID_TOP);
        assert_eq!(ids.alloc_low(sys), Some(ID_TOP));
    }
}

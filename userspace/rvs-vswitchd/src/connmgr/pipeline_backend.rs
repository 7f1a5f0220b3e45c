//! The [`Backend`] of a real bridge: its [`crate::pipeline::Pipeline`] (flow tables, groups,
//! meters) and [`crate::pipeline::Events`], found by name in the [`Switch`] at each call (a
//! bridge that is gone answers `OFPBRC_EPERM`). After each change the datapath's revalidator
//! is woken so installed megaflows follow the new tables at once. A run of flow-mods received
//! together is applied under one write lock with one wake-up ([`Backend::flow_mods`]).

use std::sync::Arc;
use std::time::Instant;

use rvs_openflow::error::BadRequest;
use rvs_openflow::msg::{FlowMod, FlowRemoved, GroupMod, MeterMod, MultipartReply, MultipartRequest, PacketOut, TableMod};
use rvs_openflow::OfpError;

use super::backend::{Backend, EventSink, HiddenSpec, OfEvent};
use crate::ofproto::{Bridge, Switch};
use crate::pipeline;

/// A bridge's pipeline, by bridge name.
#[derive(Debug)]
pub struct PipelineBackend {
    switch: Arc<Switch>,
    bridge: String,
}

impl PipelineBackend {
    /// The pipeline of bridge `bridge`.
    pub fn new(switch: Arc<Switch>, bridge: &str) -> PipelineBackend {
        PipelineBackend { switch, bridge: bridge.to_string() }
    }

    fn bridge(&self) -> Result<Arc<Bridge>, OfpError> {
        self.switch.bridge(&self.bridge).ok_or(OfpError::BadRequest(BadRequest::Eperm))
    }

    /// Runs `f` on the pipeline for writing, then publishes the flow removals a group or meter
    /// deletion caused and wakes the revalidator.
    fn modify<T>(&self, f: impl FnOnce(&mut pipeline::Pipeline) -> Result<T, OfpError>) -> Result<T, OfpError> {
        let br = self.bridge()?;
        let (r, removed) = {
            let mut p = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
            let r = f(&mut p);
            (r, p.take_removed())
        };
        for fr in removed {
            br.events.publish(OfEvent::FlowRemoved(fr));
        }
        if r.is_ok() {
            if let Some(bk) = self.switch.backer(br.config().dp_type.0) {
                bk.kick();
            }
        }
        r
    }
}

impl Backend for PipelineBackend {
    fn n_tables(&self) -> u8 {
        u8::try_from(pipeline::N_TABLES).unwrap_or(u8::MAX)
    }
    fn flow_mod(&self, fm: &FlowMod, now: Instant) -> Result<Vec<FlowRemoved>, OfpError> {
        self.modify(|p| p.flow_mod(fm, now))
    }
    fn flow_mods(&self, fms: &mut [FlowMod], now: Instant) -> Vec<Result<Vec<FlowRemoved>, OfpError>> {
        match self.modify(|p| Ok(fms.iter_mut().map(|fm| p.flow_mod_owned(fm, now)).collect())) {
            Ok(v) => v,
            // The bridge is gone: every flow-mod gets its error.
            Err(e) => fms.iter().map(|_| Err(e)).collect(),
        }
    }
    fn group_mod(&self, gm: &GroupMod) -> Result<(), OfpError> {
        self.modify(|p| p.group_mod(gm))
    }
    fn meter_mod(&self, mm: &MeterMod) -> Result<(), OfpError> {
        let br = self.bridge()?;
        self.modify(|p| pipeline::meters::meter_mod(&self.switch, &br, p, mm))
    }
    fn table_mod(&self, tm: &TableMod) -> Result<(), OfpError> {
        self.modify(|p| p.table_mod(tm))
    }
    fn stats(&self, req: &MultipartRequest, now: Instant) -> Result<Vec<MultipartReply>, OfpError> {
        let br = self.bridge()?;
        let p = br.pipeline.read().unwrap_or_else(|p| p.into_inner());
        let mut replies = p.stats(req, now)?;
        pipeline::meters::fill_stats(&self.switch, &br, &p, &mut replies);
        Ok(replies)
    }
    fn packet_out(&self, po: &PacketOut) -> Result<(), OfpError> {
        pipeline::packet_out(&self.switch, &self.bridge, po)
    }
    fn set_default_normal(&self, on: bool) {
        let _ = self.modify(|p| {
            p.set_default_normal(on);
            Ok(())
        });
    }
    fn set_miss_to_controller(&self, on: bool) {
        let _ = self.modify(|p| {
            p.set_miss_to_controller(on);
            Ok(())
        });
    }
    fn set_hidden_rules(&self, specs: Vec<HiddenSpec>) {
        let Ok(br) = self.bridge() else { return };
        // Called every second: the write lock only when something changes.
        if br.pipeline.read().unwrap_or_else(|p| p.into_inner()).hidden_rules().is(&specs) {
            return;
        }
        let r = br.pipeline.write().unwrap_or_else(|p| p.into_inner()).set_hidden_rules(specs);
        match r {
            // Only a change needs the installed megaflows revalidated.
            Ok(true) => {
                if let Some(bk) = self.switch.backer(br.config().dp_type.0) {
                    bk.kick();
                }
            }
            Ok(false) => {}
            Err(e) => crate::warn!("connmgr", "bridge {}: hidden rules refused: {e:?}", self.bridge),
        }
    }
    fn subscribe(&self, sink: EventSink) {
        if let Ok(br) = self.bridge() {
            br.events.subscribe(sink);
        }
    }
}

//! The connection manager's view of a bridge's OpenFlow pipeline: the [`Backend`] trait
//! (flow/group/meter/table mods, statistics, packet-out, the standalone default flow, and the
//! asynchronous events the pipeline raises) and [`NoPipeline`], the stand-in used until the
//! flow-table pipeline exists: it has no flow tables, so it reports empty statistics and
//! refuses modifications with `OFPBRC_BAD_TYPE`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rvs_openflow::error::BadRequest;
use rvs_openflow::msg::{
    AggregateStats, FlowMod, FlowRemoved, GroupMod, MeterMod, MultipartReply, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, PacketOut, TableMod, TableStats,
};
use rvs_openflow::OfpError;

pub use crate::pipeline::hidden::HiddenSpec;
pub use crate::pipeline::OfEvent;

/// A receiver of [`OfEvent`]s.
pub type EventSink = Box<dyn Fn(&OfEvent) + Send + Sync>;

/// One bridge's OpenFlow pipeline as the connection manager drives it.
pub trait Backend: Send + Sync {
    /// Number of flow tables (features reply).
    fn n_tables(&self) -> u8;
    /// Applies a flow-mod; returns the flow-removed messages it caused.
    fn flow_mod(&self, fm: &FlowMod, now: Instant) -> Result<Vec<FlowRemoved>, OfpError>;
    /// Applies flow-mods in order, each with its own result (as [`Backend::flow_mod`] on each);
    /// a backend may apply them together (one lock, one revalidation kick). The match and
    /// instructions of a successful add may be moved out of its flow-mod; a failed one is left
    /// unchanged.
    fn flow_mods(&self, fms: &mut [FlowMod], now: Instant) -> Vec<Result<Vec<FlowRemoved>, OfpError>> {
        fms.iter().map(|fm| self.flow_mod(fm, now)).collect()
    }
    /// Applies a group-mod.
    fn group_mod(&self, gm: &GroupMod) -> Result<(), OfpError>;
    /// Applies a meter-mod.
    fn meter_mod(&self, mm: &MeterMod) -> Result<(), OfpError>;
    /// Applies a table-mod.
    fn table_mod(&self, tm: &TableMod) -> Result<(), OfpError>;
    /// Answers the pipeline's multipart requests (flow, aggregate, table, group, meter, table
    /// features).
    fn stats(&self, req: &MultipartRequest, now: Instant) -> Result<Vec<MultipartReply>, OfpError>;
    /// Sends a packet through the pipeline.
    fn packet_out(&self, po: &PacketOut) -> Result<(), OfpError>;
    /// Installs (`true`) or removes the visible `priority=0 actions=NORMAL` flow.
    fn set_default_normal(&self, on: bool);
    /// Whether a table miss sends a packet-in (what OpenFlow 1.0 controllers expect) instead
    /// of dropping.
    fn set_miss_to_controller(&self, on: bool);
    /// Replaces the hidden rules (in-band control, [`crate::pipeline::hidden`]).
    fn set_hidden_rules(&self, specs: Vec<HiddenSpec>);
    /// Registers a receiver of asynchronous events.
    fn subscribe(&self, sink: EventSink);
}

/// The stand-in backend of a bridge while no flow-table pipeline exists (see the module
/// documentation).
#[derive(Debug, Default)]
pub struct NoPipeline {
    default_normal: AtomicBool,
}

/// Tables the stand-in reports (as Open vSwitch: 254).
const N_TABLES: u8 = 254;

impl NoPipeline {
    /// Whether the default NORMAL flow was asked for.
    pub fn default_normal(&self) -> bool {
        self.default_normal.load(Ordering::Acquire)
    }
}

fn unsupported() -> OfpError {
    OfpError::BadRequest(BadRequest::BadType)
}

impl Backend for NoPipeline {
    fn n_tables(&self) -> u8 {
        N_TABLES
    }
    fn flow_mod(&self, _: &FlowMod, _: Instant) -> Result<Vec<FlowRemoved>, OfpError> {
        Err(unsupported())
    }
    fn group_mod(&self, _: &GroupMod) -> Result<(), OfpError> {
        Err(unsupported())
    }
    fn meter_mod(&self, _: &MeterMod) -> Result<(), OfpError> {
        Err(unsupported())
    }
    fn table_mod(&self, _: &TableMod) -> Result<(), OfpError> {
        Err(unsupported())
    }
    fn stats(&self, req: &MultipartRequest, _: Instant) -> Result<Vec<MultipartReply>, OfpError> {
        let body = match &req.body {
            MultipartRequestBody::Flow(_) => MultipartReplyBody::Flow(Vec::new()),
            MultipartRequestBody::Aggregate(_) => MultipartReplyBody::Aggregate(AggregateStats::default()),
            MultipartRequestBody::Table => MultipartReplyBody::Table(
                (0..N_TABLES)
                    .map(|t| TableStats { table_id: t, name: format!("table{t}"), max_entries: 1_000_000, ..Default::default() })
                    .collect(),
            ),
            _ => return Err(OfpError::BadRequest(BadRequest::BadMultipart)),
        };
        Ok(vec![MultipartReply { flags: 0, body }])
    }
    fn packet_out(&self, _: &PacketOut) -> Result<(), OfpError> {
        Err(unsupported())
    }
    fn set_default_normal(&self, on: bool) {
        self.default_normal.store(on, Ordering::Release);
    }
    fn set_miss_to_controller(&self, _: bool) {}
    fn set_hidden_rules(&self, specs: Vec<HiddenSpec>) {
        // No tables to put them in: without a pipeline nothing forwards to protect.
        let _ = specs;
    }
    fn subscribe(&self, _: EventSink) {}
}

#[cfg(test)]
pub(crate) mod fake {
    //! A recording backend for unit tests.
    use super::*;
    use std::sync::Mutex;

    /// Records what it was asked to do.
    #[derive(Default)]
    pub struct Fake {
        /// Flow-mods applied.
        pub flow_mods: Mutex<Vec<FlowMod>>,
        /// Packet-outs.
        pub packet_outs: Mutex<Vec<PacketOut>>,
        /// Last `set_default_normal`.
        pub default_normal: Mutex<Option<bool>>,
        /// Event sinks.
        pub sinks: Mutex<Vec<EventSink>>,
        /// Last `set_hidden_rules`.
        pub hidden: Mutex<Option<Vec<HiddenSpec>>>,
    }

    impl Fake {
        /// Raises an event.
        pub fn raise(&self, e: &OfEvent) {
            for s in self.sinks.lock().unwrap().iter() {
                s(e);
            }
        }
    }

    impl Backend for Fake {
        fn n_tables(&self) -> u8 {
            4
        }
        fn flow_mod(&self, fm: &FlowMod, _: Instant) -> Result<Vec<FlowRemoved>, OfpError> {
            if fm.table_id != 0xff && fm.table_id >= 4 {
                return Err(OfpError::FlowModFailed(rvs_openflow::error::FlowModFailed::BadTableId));
            }
            self.flow_mods.lock().unwrap().push(fm.clone());
            Ok(Vec::new())
        }
        fn group_mod(&self, _: &GroupMod) -> Result<(), OfpError> {
            Ok(())
        }
        fn meter_mod(&self, _: &MeterMod) -> Result<(), OfpError> {
            Ok(())
        }
        fn table_mod(&self, _: &TableMod) -> Result<(), OfpError> {
            Ok(())
        }
        fn stats(&self, req: &MultipartRequest, now: Instant) -> Result<Vec<MultipartReply>, OfpError> {
            NoPipeline::default().stats(req, now)
        }
        fn packet_out(&self, po: &PacketOut) -> Result<(), OfpError> {
            self.packet_outs.lock().unwrap().push(po.clone());
            Ok(())
        }
        fn set_default_normal(&self, on: bool) {
            *self.default_normal.lock().unwrap() = Some(on);
        }
        fn set_miss_to_controller(&self, _: bool) {}
        fn set_hidden_rules(&self, specs: Vec<HiddenSpec>) {
            *self.hidden.lock().unwrap() = Some(specs);
        }
        fn subscribe(&self, sink: EventSink) {
            self.sinks.lock().unwrap().push(sink);
        }
    }
}

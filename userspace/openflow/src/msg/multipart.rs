//! Multipart (OpenFlow 1.0 "stats") requests and replies and their bodies.

use super::*;

/// Multipart request flag: more requests follow.
pub const MULTIPART_MORE: u16 = 1;

/// `OFPT_MULTIPART_REQUEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartRequest {
    /// `MULTIPART_MORE` or 0.
    pub flags: u16,
    /// The request.
    pub body: MultipartRequestBody,
}

/// Flow (and aggregate) statistics filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStatsRequest {
    /// Table (`table::ALL` for all).
    pub table_id: u8,
    /// Output port filter (`port::ANY`: none).
    pub out_port: u32,
    /// Output group filter (`group::ANY`: none; 1.1+).
    pub out_group: u32,
    /// Cookie filter (1.1+).
    pub cookie: u64,
    /// Cookie filter mask (1.1+).
    pub cookie_mask: u64,
    /// Match filter.
    pub match_: Match,
}

impl Default for FlowStatsRequest {
    fn default() -> Self {
        FlowStatsRequest {
            table_id: crate::types::table::ALL,
            out_port: crate::types::port::ANY,
            out_group: crate::types::group::ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::new(),
        }
    }
}

/// Multipart request bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartRequestBody {
    /// `OFPMP_DESC`.
    Desc,
    /// `OFPMP_FLOW`.
    Flow(FlowStatsRequest),
    /// `OFPMP_AGGREGATE`.
    Aggregate(FlowStatsRequest),
    /// `OFPMP_TABLE`.
    Table,
    /// `OFPMP_PORT_STATS` for one port or `port::ANY`.
    PortStats {
        /// Port.
        port_no: u32,
    },
    /// `OFPMP_QUEUE`.
    Queue {
        /// Port (`port::ANY` for all).
        port_no: u32,
        /// Queue (`0xffffffff` for all).
        queue_id: u32,
    },
    /// `OFPMP_GROUP`.
    Group {
        /// Group (`group::ALL` for all).
        group_id: u32,
    },
    /// `OFPMP_GROUP_DESC`.
    GroupDesc,
    /// `OFPMP_GROUP_FEATURES`.
    GroupFeatures,
    /// `OFPMP_METER`.
    Meter {
        /// Meter (`meter::ALL` for all).
        meter_id: u32,
    },
    /// `OFPMP_METER_CONFIG`.
    MeterConfig {
        /// Meter (`meter::ALL` for all).
        meter_id: u32,
    },
    /// `OFPMP_METER_FEATURES`.
    MeterFeatures,
    /// `OFPMP_TABLE_FEATURES`: empty to query, non-empty to set.
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC`.
    PortDesc,
    /// `OFPMP_EXPERIMENTER`.
    Experimenter(Experimenter),
}

/// `OFPT_MULTIPART_REPLY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartReply {
    /// `MULTIPART_MORE` or 0.
    pub flags: u16,
    /// The reply.
    pub body: MultipartReplyBody,
}

/// Multipart reply bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartReplyBody {
    /// `OFPMP_DESC`.
    Desc(Desc),
    /// `OFPMP_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPMP_AGGREGATE`.
    Aggregate(AggregateStats),
    /// `OFPMP_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPMP_PORT_STATS`.
    PortStats(Vec<PortStats>),
    /// `OFPMP_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPMP_GROUP`.
    Group(Vec<GroupStats>),
    /// `OFPMP_GROUP_DESC`.
    GroupDesc(Vec<GroupDesc>),
    /// `OFPMP_GROUP_FEATURES`.
    GroupFeatures(GroupFeatures),
    /// `OFPMP_METER`.
    Meter(Vec<MeterStats>),
    /// `OFPMP_METER_CONFIG`.
    MeterConfig(Vec<MeterConfig>),
    /// `OFPMP_METER_FEATURES`.
    MeterFeatures(MeterFeatures),
    /// `OFPMP_TABLE_FEATURES`.
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC`.
    PortDesc(Vec<Port>),
    /// `OFPMP_EXPERIMENTER`.
    Experimenter(Experimenter),
}

/// Switch description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desc {
    /// Manufacturer description.
    pub mfr_desc: String,
    /// Hardware description.
    pub hw_desc: String,
    /// Software description.
    pub sw_desc: String,
    /// Serial number.
    pub serial_num: String,
    /// Human readable description of datapath.
    pub dp_desc: String,
}

/// One flow's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStats {
    /// Table.
    pub table_id: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// Flow-mod flags (1.3).
    pub flags: FlowModFlags,
    /// Importance (1.4+).
    pub importance: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Match.
    pub match_: Match,
    /// Instructions (1.0: one apply-actions).
    pub instructions: Vec<Instruction>,
}

/// Aggregate flow statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AggregateStats {
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Flows.
    pub flow_count: u32,
}

/// One table's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Table.
    pub table_id: u8,
    /// 1.0: table name.
    pub name: String,
    /// 1.0: `OFPFW10_*` wildcards supported.
    pub wildcards: u32,
    /// 1.0: max entries.
    pub max_entries: u32,
    /// Active entries.
    pub active_count: u32,
    /// Packets looked up.
    pub lookup_count: u64,
    /// Packets that hit.
    pub matched_count: u64,
}

/// One port's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct PortStats {
    pub port_no: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    /// 1.3+.
    pub duration_sec: u32,
    /// 1.3+.
    pub duration_nsec: u32,
}

/// One queue's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct QueueStats {
    pub port_no: u32,
    pub queue_id: u32,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    /// 1.3+.
    pub duration_sec: u32,
    /// 1.3+.
    pub duration_nsec: u32,
}

/// One group's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// Group.
    pub group_id: u32,
    /// Flows and groups forwarding to it.
    pub ref_count: u32,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Per bucket (packets, bytes).
    pub bucket_stats: Vec<(u64, u64)>,
}

/// One group's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDesc {
    /// Type.
    pub group_type: GroupType,
    /// Group.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

/// Group features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupFeatures {
    /// Bitmap of supported group types (`1 << OFPGT_*`).
    pub types: u32,
    /// `OFPGFC_*` capability bits.
    pub capabilities: u32,
    /// Max groups per type.
    pub max_groups: [u32; 4],
    /// Supported actions per type (`1 << OFPAT_*`).
    pub actions: [u32; 4],
}

/// One meter's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeterStats {
    /// Meter.
    pub meter_id: u32,
    /// Flows bound to it.
    pub flow_count: u32,
    /// Packets in.
    pub packet_in_count: u64,
    /// Bytes in.
    pub byte_in_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Per band (packets, bytes).
    pub band_stats: Vec<(u64, u64)>,
}

/// One meter's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterConfig {
    /// `meter_flags` bits.
    pub flags: u16,
    /// Meter.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

/// Meter features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeterFeatures {
    /// Max meters.
    pub max_meter: u32,
    /// Bitmap of `1 << OFPMBT_*` band types.
    pub band_types: u32,
    /// `meter_flags` bits supported.
    pub capabilities: u32,
    /// Max bands per meter.
    pub max_bands: u8,
    /// Max color value.
    pub max_color: u8,
}

/// One table's features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableFeatures {
    /// Table.
    pub table_id: u8,
    /// Name.
    pub name: String,
    /// Bits of metadata the table can match.
    pub metadata_match: u64,
    /// Bits of metadata the table can write.
    pub metadata_write: u64,
    /// `OFPTC_*` bits.
    pub config: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Properties.
    pub properties: Vec<TableFeatureProp>,
}

/// A table-features property. `miss` selects the `_MISS` variant of a property type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableFeatureProp {
    /// Instruction types.
    Instructions {
        /// Table-miss variant.
        miss: bool,
        /// Instruction type numbers.
        ids: Vec<u16>,
    },
    /// Tables reachable by goto-table.
    NextTables {
        /// Table-miss variant.
        miss: bool,
        /// Table ids.
        tables: Vec<u8>,
    },
    /// Action types for write-actions.
    WriteActions {
        /// Table-miss variant.
        miss: bool,
        /// Action type numbers.
        ids: Vec<u16>,
    },
    /// Action types for apply-actions.
    ApplyActions {
        /// Table-miss variant.
        miss: bool,
        /// Action type numbers.
        ids: Vec<u16>,
    },
    /// Fields that can be matched (OXM headers).
    Match(Vec<u32>),
    /// Fields that can be wildcarded (OXM headers).
    Wildcards(Vec<u32>),
    /// Fields write-actions can set.
    WriteSetfield {
        /// Table-miss variant.
        miss: bool,
        /// OXM headers.
        oxms: Vec<u32>,
    },
    /// Fields apply-actions can set.
    ApplySetfield {
        /// Table-miss variant.
        miss: bool,
        /// OXM headers.
        oxms: Vec<u32>,
    },
    /// Experimenter property.
    Experimenter {
        /// Table-miss variant.
        miss: bool,
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter type.
        exp_type: u32,
        /// Data.
        data: Vec<u8>,
    },
}

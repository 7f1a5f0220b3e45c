//! The version-neutral OpenFlow message model. Each wire version ([`crate::of10`],
//! [`crate::of13`]) maps its structures onto these types; numbers use the widest (OpenFlow 1.3)
//! representation: 32-bit ports, bit flags of OpenFlow 1.3 where the versions differ.

use crate::action::Action;
use crate::error::{OfpError, WireError};
use crate::instruction::Instruction;
use crate::oxm::Match;
use crate::types::{MacAddr, Version};

/// One OpenFlow message with its header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfMessage {
    /// Protocol version of the header.
    pub version: Version,
    /// Transaction id.
    pub xid: u32,
    /// The message.
    pub msg: Message,
}

/// Every message the codec knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// `OFPT_HELLO`.
    Hello(Hello),
    /// `OFPT_ERROR`.
    Error(ErrorMsg),
    /// `OFPT_ECHO_REQUEST` with its payload.
    EchoRequest(Vec<u8>),
    /// `OFPT_ECHO_REPLY` with its payload.
    EchoReply(Vec<u8>),
    /// `OFPT_EXPERIMENTER` / `OFPT_VENDOR`.
    Experimenter(Experimenter),
    /// `OFPT_FEATURES_REQUEST`.
    FeaturesRequest,
    /// `OFPT_FEATURES_REPLY`.
    FeaturesReply(FeaturesReply),
    /// `OFPT_GET_CONFIG_REQUEST`.
    GetConfigRequest,
    /// `OFPT_GET_CONFIG_REPLY`.
    GetConfigReply(SwitchConfig),
    /// `OFPT_SET_CONFIG`.
    SetConfig(SwitchConfig),
    /// `OFPT_PACKET_IN`.
    PacketIn(PacketIn),
    /// `OFPT_FLOW_REMOVED`.
    FlowRemoved(FlowRemoved),
    /// `OFPT_PORT_STATUS`.
    PortStatus(PortStatus),
    /// `OFPT_PACKET_OUT`.
    PacketOut(PacketOut),
    /// `OFPT_FLOW_MOD`.
    FlowMod(FlowMod),
    /// `OFPT_GROUP_MOD` (1.1+).
    GroupMod(GroupMod),
    /// `OFPT_PORT_MOD`.
    PortMod(PortMod),
    /// `OFPT_TABLE_MOD` (1.1+).
    TableMod(TableMod),
    /// `OFPT_MULTIPART_REQUEST` / `OFPT_STATS_REQUEST`.
    MultipartRequest(MultipartRequest),
    /// `OFPT_MULTIPART_REPLY` / `OFPT_STATS_REPLY`.
    MultipartReply(MultipartReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
    /// `OFPT_ROLE_REQUEST` (1.2+).
    RoleRequest(RoleMsg),
    /// `OFPT_ROLE_REPLY` (1.2+).
    RoleReply(RoleMsg),
    /// `OFPT_GET_ASYNC_REQUEST` (1.3+).
    GetAsyncRequest,
    /// `OFPT_GET_ASYNC_REPLY` (1.3+).
    GetAsyncReply(AsyncConfig),
    /// `OFPT_SET_ASYNC` (1.3+).
    SetAsync(AsyncConfig),
    /// `OFPT_METER_MOD` (1.3+).
    MeterMod(MeterMod),
}

impl Message {
    /// The `ovs-ofctl ofp-print` name of the message (`OFPT_FLOW_MOD`).
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "OFPT_HELLO",
            Message::Error(_) => "OFPT_ERROR",
            Message::EchoRequest(_) => "OFPT_ECHO_REQUEST",
            Message::EchoReply(_) => "OFPT_ECHO_REPLY",
            Message::Experimenter(_) => "OFPT_EXPERIMENTER",
            Message::FeaturesRequest => "OFPT_FEATURES_REQUEST",
            Message::FeaturesReply(_) => "OFPT_FEATURES_REPLY",
            Message::GetConfigRequest => "OFPT_GET_CONFIG_REQUEST",
            Message::GetConfigReply(_) => "OFPT_GET_CONFIG_REPLY",
            Message::SetConfig(_) => "OFPT_SET_CONFIG",
            Message::PacketIn(_) => "OFPT_PACKET_IN",
            Message::FlowRemoved(_) => "OFPT_FLOW_REMOVED",
            Message::PortStatus(_) => "OFPT_PORT_STATUS",
            Message::PacketOut(_) => "OFPT_PACKET_OUT",
            Message::FlowMod(_) => "OFPT_FLOW_MOD",
            Message::GroupMod(_) => "OFPT_GROUP_MOD",
            Message::PortMod(_) => "OFPT_PORT_MOD",
            Message::TableMod(_) => "OFPT_TABLE_MOD",
            Message::MultipartRequest(_) => "OFPST_REQUEST",
            Message::MultipartReply(_) => "OFPST_REPLY",
            Message::BarrierRequest => "OFPT_BARRIER_REQUEST",
            Message::BarrierReply => "OFPT_BARRIER_REPLY",
            Message::RoleRequest(_) => "OFPT_ROLE_REQUEST",
            Message::RoleReply(_) => "OFPT_ROLE_REPLY",
            Message::GetAsyncRequest => "OFPT_GET_ASYNC_REQUEST",
            Message::GetAsyncReply(_) => "OFPT_GET_ASYNC_REPLY",
            Message::SetAsync(_) => "OFPT_SET_ASYNC",
            Message::MeterMod(_) => "OFPT_METER_MOD",
        }
    }
}

/// Hello: optionally the versions the sender supports (`OFPHET_VERSIONBITMAP`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hello {
    /// Bitmap words: bit `n` of word `n / 32` set means version `n` is supported.
    pub version_bitmap: Option<Vec<u32>>,
}

impl Hello {
    /// A hello announcing exactly `versions`.
    pub fn with_versions(versions: &[Version]) -> Hello {
        let mut words = vec![0u32; 1];
        for v in versions {
            let i = usize::from(v.0 / 32);
            if words.len() <= i {
                words.resize(i.saturating_add(1), 0);
            }
            if let Some(w) = words.get_mut(i) {
                *w |= 1u32 << (v.0 % 32);
            }
        }
        Hello { version_bitmap: Some(words) }
    }

    /// Whether the bitmap lists `v`.
    pub fn bitmap_has(&self, v: Version) -> bool {
        self.version_bitmap.as_ref().is_some_and(|w| {
            w.get(usize::from(v.0 / 32)).is_some_and(|word| word & (1u32 << (v.0 % 32)) != 0)
        })
    }
}

/// The error carried by an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An error this crate knows.
    Known(OfpError),
    /// Numbers this crate does not know (kept as received).
    Raw(WireError),
}

/// `OFPT_ERROR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMsg {
    /// The error.
    pub code: ErrorCode,
    /// Usually at least the first 64 bytes of the failed request.
    pub data: Vec<u8>,
}

/// `OFPT_EXPERIMENTER` (1.0 `OFPT_VENDOR`: no `exp_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Experimenter {
    /// Experimenter (vendor) id.
    pub experimenter: u32,
    /// Experimenter type (1.1+; in 1.0 the first 4 data bytes are left in `data`).
    pub exp_type: u32,
    /// Payload.
    pub data: Vec<u8>,
}

/// A switch port (`ofp_port`; 1.0 `ofp_phy_port`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Port {
    /// Port number.
    pub port_no: u32,
    /// Hardware address.
    pub hw_addr: MacAddr,
    /// Name (at most 15 bytes on the wire).
    pub name: String,
    /// `OFPPC_*` bits (1.0's extra bits NO_STP, NO_RECV_STP, NO_FLOOD keep their positions).
    pub config: u32,
    /// `OFPPS_*` bits (raw, per version).
    pub state: u32,
    /// Current features (`OFPPF_*`, OpenFlow 1.3 bit positions).
    pub curr: u32,
    /// Advertised features.
    pub advertised: u32,
    /// Supported features.
    pub supported: u32,
    /// Features advertised by peer.
    pub peer: u32,
    /// Current bitrate in kbps (1.1+).
    pub curr_speed: u32,
    /// Max bitrate in kbps (1.1+).
    pub max_speed: u32,
}

/// Port config bits.
pub mod port_config {
    /// Port is administratively down.
    pub const PORT_DOWN: u32 = 1 << 0;
    /// 1.0 only: disable 802.1D spanning tree.
    pub const NO_STP: u32 = 1 << 1;
    /// Drop all packets received by port.
    pub const NO_RECV: u32 = 1 << 2;
    /// 1.0 only: drop received 802.1D STP packets.
    pub const NO_RECV_STP: u32 = 1 << 3;
    /// 1.0 only: do not include this port when flooding.
    pub const NO_FLOOD: u32 = 1 << 4;
    /// Drop packets forwarded to port.
    pub const NO_FWD: u32 = 1 << 5;
    /// Do not send packet-in msgs for port.
    pub const NO_PACKET_IN: u32 = 1 << 6;
}

/// `OFPT_FEATURES_REPLY`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeaturesReply {
    /// Datapath unique id.
    pub datapath_id: u64,
    /// Max packets buffered at once.
    pub n_buffers: u32,
    /// Number of tables.
    pub n_tables: u8,
    /// Auxiliary connection id (1.3+).
    pub auxiliary_id: u8,
    /// `OFPC_*` capability bits (raw).
    pub capabilities: u32,
    /// 1.0: bitmap of supported `OFPAT10_*` actions.
    pub actions: u32,
    /// 1.0: the ports (1.3 has a separate port-desc multipart).
    pub ports: Vec<Port>,
}

/// Switch configuration (`ofp_switch_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_FRAG_*` flags.
    pub flags: u16,
    /// Max bytes of a table-miss packet sent to the controller.
    pub miss_send_len: u16,
}

/// Why a packet-in was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketInReason {
    /// No matching flow (table-miss).
    NoMatch,
    /// Output to controller in an action.
    Action,
    /// Packet has an invalid TTL (1.1+).
    InvalidTtl,
    /// Another number (kept as received).
    Other(u8),
}

impl PacketInReason {
    /// Wire number.
    pub fn number(self) -> u8 {
        match self {
            PacketInReason::NoMatch => 0,
            PacketInReason::Action => 1,
            PacketInReason::InvalidTtl => 2,
            PacketInReason::Other(n) => n,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => PacketInReason::NoMatch,
            1 => PacketInReason::Action,
            2 => PacketInReason::InvalidTtl,
            n => PacketInReason::Other(n),
        }
    }
}

/// `OFPT_PACKET_IN`. In 1.0 the input port travels in `match_.in_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketIn {
    /// Buffer id, `None` for `OFP_NO_BUFFER`.
    pub buffer_id: Option<u32>,
    /// Full length of the frame.
    pub total_len: u16,
    /// Why.
    pub reason: PacketInReason,
    /// Table that was looked up (1.1+).
    pub table_id: u8,
    /// Cookie of the flow entry (1.3+; all-ones for a miss).
    pub cookie: u64,
    /// Packet metadata (at least `in_port`).
    pub match_: Match,
    /// The frame (possibly truncated).
    pub data: Vec<u8>,
}

/// Why a flow was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowRemovedReason {
    /// Idle timeout.
    IdleTimeout,
    /// Hard timeout.
    HardTimeout,
    /// Deleted by a flow-mod.
    Delete,
    /// Its group was removed (1.3).
    GroupDelete,
    /// Another number.
    Other(u8),
}

impl FlowRemovedReason {
    /// Wire number.
    pub fn number(self) -> u8 {
        match self {
            FlowRemovedReason::IdleTimeout => 0,
            FlowRemovedReason::HardTimeout => 1,
            FlowRemovedReason::Delete => 2,
            FlowRemovedReason::GroupDelete => 3,
            FlowRemovedReason::Other(n) => n,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => FlowRemovedReason::IdleTimeout,
            1 => FlowRemovedReason::HardTimeout,
            2 => FlowRemovedReason::Delete,
            3 => FlowRemovedReason::GroupDelete,
            n => FlowRemovedReason::Other(n),
        }
    }
}

/// `OFPT_FLOW_REMOVED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRemoved {
    /// Cookie.
    pub cookie: u64,
    /// Priority.
    pub priority: u16,
    /// Why.
    pub reason: FlowRemovedReason,
    /// Table (1.1+).
    pub table_id: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout (1.2+).
    pub hard_timeout: u16,
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// The flow's match.
    pub match_: Match,
}

/// Why a port status was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortReason {
    /// Port added.
    Add,
    /// Port deleted.
    Delete,
    /// Some attribute changed.
    Modify,
    /// Another number.
    Other(u8),
}

impl PortReason {
    /// Wire number.
    pub fn number(self) -> u8 {
        match self {
            PortReason::Add => 0,
            PortReason::Delete => 1,
            PortReason::Modify => 2,
            PortReason::Other(n) => n,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => PortReason::Add,
            1 => PortReason::Delete,
            2 => PortReason::Modify,
            n => PortReason::Other(n),
        }
    }
}

/// `OFPT_PORT_STATUS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortStatus {
    /// Why.
    pub reason: PortReason,
    /// The port.
    pub port: Port,
}

/// `OFPT_PACKET_OUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketOut {
    /// Buffered packet to send, `None` for `OFP_NO_BUFFER` (then `data` is the packet).
    pub buffer_id: Option<u32>,
    /// Input port for the actions (`port::CONTROLLER` or `port::ANY` if none).
    pub in_port: u32,
    /// Actions.
    pub actions: Vec<Action>,
    /// The frame (if not buffered).
    pub data: Vec<u8>,
}

/// Flow-mod command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    /// New flow.
    Add,
    /// Modify all matching flows.
    Modify,
    /// Modify the flow matching exactly (match + priority).
    ModifyStrict,
    /// Delete all matching flows.
    Delete,
    /// Delete the flow matching exactly.
    DeleteStrict,
}

impl FlowModCommand {
    /// Wire number.
    pub fn number(self) -> u8 {
        match self {
            FlowModCommand::Add => 0,
            FlowModCommand::Modify => 1,
            FlowModCommand::ModifyStrict => 2,
            FlowModCommand::Delete => 3,
            FlowModCommand::DeleteStrict => 4,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u16) -> Option<Self> {
        Some(match n {
            0 => FlowModCommand::Add,
            1 => FlowModCommand::Modify,
            2 => FlowModCommand::ModifyStrict,
            3 => FlowModCommand::Delete,
            4 => FlowModCommand::DeleteStrict,
            _ => return None,
        })
    }
}

/// Flow-mod flags (version-neutral).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowModFlags {
    /// Send flow removed message when flow expires or is deleted.
    pub send_flow_rem: bool,
    /// Check for overlapping entries first.
    pub check_overlap: bool,
    /// Reset flow packet and byte counts (1.3).
    pub reset_counts: bool,
    /// Don't keep track of packet count (1.3).
    pub no_pkt_counts: bool,
    /// Don't keep track of byte count (1.3).
    pub no_byt_counts: bool,
    /// Remark this is for emergency (1.0 only).
    pub emerg: bool,
}

/// `OFPT_FLOW_MOD`. An OpenFlow 1.0 action list is `[Instruction::ApplyActions(..)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMod {
    /// Cookie (new cookie for add, filter for modify/delete under `cookie_mask`).
    pub cookie: u64,
    /// Cookie filter mask (1.1+).
    pub cookie_mask: u64,
    /// Table (1.1+; `table::ALL` for deletes across tables).
    pub table_id: u8,
    /// Command.
    pub command: FlowModCommand,
    /// Idle timeout in seconds (0: none).
    pub idle_timeout: u16,
    /// Hard timeout in seconds (0: none).
    pub hard_timeout: u16,
    /// Priority.
    pub priority: u16,
    /// Buffered packet to apply to, `None` for `OFP_NO_BUFFER`.
    pub buffer_id: Option<u32>,
    /// Delete filter: output port (`port::ANY`: none).
    pub out_port: u32,
    /// Delete filter: output group (`group::ANY`: none; 1.1+).
    pub out_group: u32,
    /// Flags.
    pub flags: FlowModFlags,
    /// Eviction importance (1.4+; 0 in older versions).
    pub importance: u16,
    /// The match.
    pub match_: Match,
    /// The instructions.
    pub instructions: Vec<Instruction>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id: 0,
            command: FlowModCommand::Add,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: crate::types::DEFAULT_PRIORITY,
            buffer_id: None,
            out_port: crate::types::port::ANY,
            out_group: crate::types::group::ANY,
            flags: FlowModFlags::default(),
            importance: 0,
            match_: Match::new(),
            instructions: Vec::new(),
        }
    }
}

/// Group-mod command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupModCommand {
    /// New group.
    Add,
    /// Modify group.
    Modify,
    /// Delete group.
    Delete,
}

/// Group type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    /// All buckets (multicast/broadcast).
    All,
    /// One bucket (load sharing).
    Select,
    /// The single bucket.
    Indirect,
    /// The first live bucket.
    FastFailover,
}

impl GroupType {
    /// Wire number.
    pub fn number(self) -> u8 {
        match self {
            GroupType::All => 0,
            GroupType::Select => 1,
            GroupType::Indirect => 2,
            GroupType::FastFailover => 3,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u8) -> Option<Self> {
        Some(match n {
            0 => GroupType::All,
            1 => GroupType::Select,
            2 => GroupType::Indirect,
            3 => GroupType::FastFailover,
            _ => return None,
        })
    }
}

/// A group bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Relative weight (select groups).
    pub weight: u16,
    /// Port whose liveness controls the bucket (fast failover).
    pub watch_port: u32,
    /// Group whose liveness controls the bucket (fast failover).
    pub watch_group: u32,
    /// Actions.
    pub actions: Vec<Action>,
}

/// `OFPT_GROUP_MOD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMod {
    /// Command.
    pub command: GroupModCommand,
    /// Type.
    pub group_type: GroupType,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

/// `OFPT_PORT_MOD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMod {
    /// Port.
    pub port_no: u32,
    /// Must match the port's hardware address.
    pub hw_addr: MacAddr,
    /// New `OFPPC_*` bits (under `mask`).
    pub config: u32,
    /// Bits of `config` to change.
    pub mask: u32,
    /// Features to advertise (0: unchanged), OpenFlow 1.3 bit positions.
    pub advertise: u32,
}

/// `OFPT_TABLE_MOD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableMod {
    /// Table (`table::ALL` for all).
    pub table_id: u8,
    /// `OFPTC_*` bits.
    pub config: u32,
}

/// Controller role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Don't change the role (query).
    NoChange,
    /// Full access, possibly several.
    Equal,
    /// Full access, at most one.
    Master,
    /// Read-only.
    Slave,
}

impl Role {
    /// Wire number.
    pub fn number(self) -> u32 {
        match self {
            Role::NoChange => 0,
            Role::Equal => 1,
            Role::Master => 2,
            Role::Slave => 3,
        }
    }
    /// From the wire number.
    pub fn from_number(n: u32) -> Option<Self> {
        Some(match n {
            0 => Role::NoChange,
            1 => Role::Equal,
            2 => Role::Master,
            3 => Role::Slave,
            _ => return None,
        })
    }
}

/// Role request / reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleMsg {
    /// Role.
    pub role: Role,
    /// Master election generation id.
    pub generation_id: u64,
}

/// Asynchronous message configuration: index 0 for master/equal, 1 for slave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// Bitmasks of `OFPR_*` packet-in reasons.
    pub packet_in_mask: [u32; 2],
    /// Bitmasks of `OFPPR_*` port status reasons.
    pub port_status_mask: [u32; 2],
    /// Bitmasks of `OFPRR_*` flow removed reasons.
    pub flow_removed_mask: [u32; 2],
}

/// Meter-mod command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterModCommand {
    /// New meter.
    Add,
    /// Modify meter.
    Modify,
    /// Delete meter.
    Delete,
}

/// Meter flags.
pub mod meter_flags {
    /// Rate value in kb/s.
    pub const KBPS: u16 = 1 << 0;
    /// Rate value in packet/sec.
    pub const PKTPS: u16 = 1 << 1;
    /// Do burst size.
    pub const BURST: u16 = 1 << 2;
    /// Collect statistics.
    pub const STATS: u16 = 1 << 3;
}

/// What a meter band does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterBandKind {
    /// Drop packets.
    Drop,
    /// Raise the drop precedence of the DSCP by `prec_level`.
    DscpRemark {
        /// Number of precedence levels to add.
        prec_level: u8,
    },
    /// Experimenter band.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
    },
}

/// A meter band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterBand {
    /// What the band does.
    pub kind: MeterBandKind,
    /// Rate for this band.
    pub rate: u32,
    /// Size of bursts.
    pub burst_size: u32,
}

/// `OFPT_METER_MOD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterMod {
    /// Command.
    pub command: MeterModCommand,
    /// `meter_flags` bits.
    pub flags: u16,
    /// Meter id.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

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

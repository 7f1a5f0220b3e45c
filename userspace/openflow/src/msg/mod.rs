//! The version-neutral OpenFlow message model. Each wire version ([`crate::of10`],
//! [`crate::of13`]) maps its structures onto these types; numbers use the widest (OpenFlow 1.3)
//! representation: 32-bit ports, bit flags of OpenFlow 1.3 where the versions differ.

use crate::action::Action;
use crate::error::{OfpError, WireError};
use crate::instruction::Instruction;
use crate::oxm::Match;
use crate::types::{MacAddr, Version};

mod mods;
mod multipart;

pub use self::mods::*;
pub use self::multipart::*;

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

//! Controller-to-switch modification messages: flow-mod, group-mod, port-mod, table-mod,
//! meter-mod, role and asynchronous-configuration messages.

use super::*;

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

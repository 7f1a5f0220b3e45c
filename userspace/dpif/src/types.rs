//! The values that cross the datapath interface: datapath and port descriptions, statistics,
//! flow requests and replies, packets to execute, upcalls and meters.
//!
//! Flow keys, masks and actions are carried as already-encoded netlink attribute bytes
//! (`OVS_KEY_ATTR_*` / `OVS_ACTION_ATTR_*` sequences, without an enclosing attribute header),
//! exactly what goes inside `OVS_FLOW_ATTR_KEY` / `_MASK` / `_ACTIONS`. The typed codec in the
//! core turns them into and out of `FlowKey`s and actions.

use std::fmt;

/// A datapath port number (`OVS_VPORT_ATTR_PORT_NO`); 0 is the local (internal) port.
pub type PortNo = u32;

/// The datapath's own port, named after the datapath.
pub const LOCAL_PORT: PortNo = 0;

/// Datapath-wide packet counters (`struct ovs_dp_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DpStats {
    /// Packets that matched a flow.
    pub n_hit: u64,
    /// Packets that missed and went to userspace.
    pub n_missed: u64,
    /// Packets that missed and could not be queued to userspace.
    pub n_lost: u64,
    /// Flows in the table.
    pub n_flows: u64,
}

/// Megaflow (mask) counters (`struct ovs_dp_megaflow_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MegaflowStats {
    /// Masks visited by lookups.
    pub n_mask_hit: u64,
    /// Masks in the table.
    pub n_masks: u32,
    /// Lookups answered by the mask cache.
    pub n_cache_hit: u64,
}

/// A datapath as the kernel describes it (`OVS_DP_CMD_GET` reply).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DpInfo {
    /// Name (also the name of its local port).
    pub name: String,
    /// `ovs_header.dp_ifindex`: the ifindex of the local port.
    pub dp_ifindex: i32,
    /// Packet counters.
    pub stats: DpStats,
    /// Mask counters, when the datapath reports them.
    pub megaflow: Option<MegaflowStats>,
    /// `OVS_DP_F_*` features in force.
    pub user_features: u32,
    /// Size of the per-CPU mask cache, when reported.
    pub masks_cache_size: Option<u32>,
    /// Per-CPU upcall netlink port IDs (per-CPU dispatch only).
    pub per_cpu_pids: Vec<u32>,
}

/// Kind of a datapath port (`enum ovs_vport_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum PortType {
    /// An existing network device (`OVS_VPORT_TYPE_NETDEV`).
    Netdev,
    /// A device the datapath creates (`OVS_VPORT_TYPE_INTERNAL`).
    Internal,
    /// A GRE tunnel port (`OVS_VPORT_TYPE_GRE`).
    Gre,
    /// A VXLAN tunnel port (`OVS_VPORT_TYPE_VXLAN`).
    Vxlan,
    /// A Geneve tunnel port (`OVS_VPORT_TYPE_GENEVE`).
    Geneve,
    /// Any other type number.
    Other(u32),
}

impl PortType {
    /// The ABI number.
    pub fn to_abi(self) -> u32 {
        use rvs_core::ovs_abi as abi;
        match self {
            Self::Netdev => u32::from(abi::OVS_VPORT_TYPE_NETDEV),
            Self::Internal => u32::from(abi::OVS_VPORT_TYPE_INTERNAL),
            Self::Gre => u32::from(abi::OVS_VPORT_TYPE_GRE),
            Self::Vxlan => u32::from(abi::OVS_VPORT_TYPE_VXLAN),
            Self::Geneve => u32::from(abi::OVS_VPORT_TYPE_GENEVE),
            Self::Other(n) => n,
        }
    }

    /// From the ABI number.
    pub fn from_abi(n: u32) -> Self {
        use rvs_core::ovs_abi as abi;
        match u16::try_from(n) {
            Ok(abi::OVS_VPORT_TYPE_NETDEV) => Self::Netdev,
            Ok(abi::OVS_VPORT_TYPE_INTERNAL) => Self::Internal,
            Ok(abi::OVS_VPORT_TYPE_GRE) => Self::Gre,
            Ok(abi::OVS_VPORT_TYPE_VXLAN) => Self::Vxlan,
            Ok(abi::OVS_VPORT_TYPE_GENEVE) => Self::Geneve,
            _ => Self::Other(n),
        }
    }

    /// The type's name as `ovs-dpctl` spells it (`system` for a netdev).
    pub fn name(self) -> String {
        match self {
            Self::Netdev => "system".into(),
            Self::Internal => "internal".into(),
            Self::Gre => "gre".into(),
            Self::Vxlan => "vxlan".into(),
            Self::Geneve => "geneve".into(),
            Self::Other(n) => format!("unknown({n})"),
        }
    }

    /// Parses an `ovs-dpctl` type name (`system`/`netdev`, `internal`, `gre`, `vxlan`,
    /// `geneve`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "system" | "netdev" | "tap" => Self::Netdev,
            "internal" => Self::Internal,
            "gre" => Self::Gre,
            "vxlan" => Self::Vxlan,
            "geneve" => Self::Geneve,
            _ => return None,
        })
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A port to add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PortSpec {
    /// Device name (created for internal and tunnel ports).
    pub name: String,
    /// Kind of port.
    pub port_type: PortType,
    /// Requested port number; `None` lets the datapath choose the lowest free one.
    pub port_no: Option<PortNo>,
    /// Tunnel options (`dst_port` for VXLAN/Geneve).
    pub dst_port: Option<u16>,
}

/// Per-port counters (`struct ovs_vport_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct VportStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Transmitted packets dropped.
    pub tx_dropped: u64,
}

/// A port as the datapath describes it (`OVS_VPORT_CMD_GET` reply).
#[derive(Debug, Clone, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PortInfo {
    /// Datapath the port belongs to.
    pub dp_ifindex: i32,
    /// Port number.
    pub port_no: PortNo,
    /// Kind of port.
    pub port_type: PortType,
    /// Device name.
    pub name: String,
    /// Upcall netlink port IDs (one, or one per handler with `OVS_DP_F_VPORT_PIDS`).
    pub upcall_pids: Vec<u32>,
    /// Counters.
    pub stats: Option<VportStats>,
    /// The device's ifindex, when reported.
    pub ifindex: Option<i32>,
    /// Tunnel UDP destination port (`OVS_TUNNEL_ATTR_DST_PORT`), when set.
    pub dst_port: Option<u16>,
    /// Upcalls sent / failed from this port (`OVS_VPORT_ATTR_UPCALL_STATS`).
    pub upcall_stats: Option<(u64, u64)>,
}

/// Identifies a flow: by its unique flow ID, or by its (encoded) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowId<'a> {
    /// The 128-bit unique flow identifier (`OVS_FLOW_ATTR_UFID`).
    Ufid(&'a [u8; 16]),
    /// The encoded `OVS_KEY_ATTR_*` key.
    Key(&'a [u8]),
}

/// How a flow put behaves (the `DPIF_FP_*` flags of Open vSwitch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PutFlags {
    /// Create the flow if absent.
    pub create: bool,
    /// Replace the actions if present.
    pub modify: bool,
    /// Zero the statistics of an existing flow.
    pub zero_stats: bool,
    /// A probe: the kernel must not log a failure.
    pub probe: bool,
}

/// A flow to install or modify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowPut<'a> {
    /// Encoded key (`OVS_KEY_ATTR_*` bytes).
    pub key: &'a [u8],
    /// Encoded mask, `None` for an exact-match flow.
    pub mask: Option<&'a [u8]>,
    /// Encoded actions (`OVS_ACTION_ATTR_*` bytes; empty means drop).
    pub actions: &'a [u8],
    /// Unique flow ID to store with the flow.
    pub ufid: Option<&'a [u8; 16]>,
    /// Create / modify / probe behaviour.
    pub flags: PutFlags,
}

/// Flow counters (`struct ovs_flow_stats`) and metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FlowStats {
    /// Packets matched.
    pub n_packets: u64,
    /// Bytes matched.
    pub n_bytes: u64,
    /// Last use, in milliseconds of the kernel's monotonic clock (0 = never).
    pub used_ms: u64,
    /// OR of the TCP flags seen.
    pub tcp_flags: u8,
}

/// A flow as read back from the datapath (get, dump, or the reply to put/del).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Flow {
    /// Unique flow ID, when the flow has one.
    pub ufid: Option<[u8; 16]>,
    /// Encoded key (empty when omitted by a terse dump).
    pub key: Vec<u8>,
    /// Encoded mask (empty when omitted).
    pub mask: Vec<u8>,
    /// Encoded actions (empty when omitted or drop).
    pub actions: Vec<u8>,
    /// Counters.
    pub stats: FlowStats,
}

/// What a flow dump returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DumpOptions {
    /// Terse: UFID and statistics only (`OVS_UFID_F_OMIT_KEY|MASK|ACTIONS`); only flows that
    /// have a UFID can be dumped this way.
    pub terse: bool,
}

/// A packet to run through a list of actions (`OVS_PACKET_CMD_EXECUTE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execute<'a> {
    /// The Ethernet frame.
    pub packet: &'a [u8],
    /// Encoded key giving the packet's metadata (at least `OVS_KEY_ATTR_IN_PORT` etc.).
    pub key: &'a [u8],
    /// Encoded actions.
    pub actions: &'a [u8],
    /// Maximum received unit for IP fragment reassembly, if any.
    pub mru: Option<u16>,
    /// A probe: failures are not logged.
    pub probe: bool,
}

/// Why a packet came up to userspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum UpcallKind {
    /// No flow matched (`OVS_PACKET_CMD_MISS`).
    Miss,
    /// A `userspace` action sent it (`OVS_PACKET_CMD_ACTION`).
    Action,
    /// Any other command number.
    Other(u8),
}

/// A packet the datapath sent up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Upcall {
    /// Why.
    pub kind: UpcallKind,
    /// Datapath it came from.
    pub dp_ifindex: i32,
    /// The frame.
    pub packet: Vec<u8>,
    /// Encoded key the datapath extracted (`OVS_KEY_ATTR_*` bytes).
    pub key: Vec<u8>,
    /// The userspace action's cookie.
    pub userdata: Option<Vec<u8>>,
    /// Encoded egress tunnel key (`OVS_PACKET_ATTR_EGRESS_TUN_KEY`).
    pub egress_tun_key: Option<Vec<u8>>,
    /// Encoded actions (`OVS_PACKET_ATTR_ACTIONS`), when requested.
    pub actions: Option<Vec<u8>>,
    /// Reassembly MRU.
    pub mru: Option<u16>,
    /// Original length before truncation.
    pub len: Option<u32>,
    /// The skb hash.
    pub hash: Option<u64>,
}

/// One meter band. Only "drop" bands exist in the ABI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MeterBand {
    /// Rate in kbps or packets per second (see [`MeterConfig::kbps`]).
    pub rate: u32,
    /// Burst size in kilobits or packets.
    pub burst: u32,
}

/// A meter to install.
#[derive(Debug, Clone, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MeterConfig {
    /// Meter ID.
    pub id: u32,
    /// Rates are kilobits per second (else packets per second).
    pub kbps: bool,
    /// Drop bands.
    pub bands: Vec<MeterBand>,
}

/// A meter's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MeterStats {
    /// Packets and bytes through the meter.
    pub packets: u64,
    /// Bytes through the meter.
    pub bytes: u64,
    /// Per band: packets and bytes the band dropped.
    pub bands: Vec<(u64, u64)>,
}

/// What the datapath's meters support (`OVS_METER_CMD_FEATURES`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MeterFeatures {
    /// Maximum number of meters.
    pub max_meters: u32,
    /// Maximum bands per meter.
    pub max_bands: u32,
}

/// How upcalls reach the handler sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[derive(serde::Serialize, serde::Deserialize)]
pub enum Dispatch {
    /// One netlink port per CPU (`OVS_DP_F_DISPATCH_UPCALL_PER_CPU`, `OVS_DP_ATTR_PER_CPU_PIDS`).
    PerCpu,
    /// Each port carries the list of handler netlink ports (`OVS_DP_F_VPORT_PIDS`).
    PerVport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_type_names_and_numbers_round_trip() {
        for t in [PortType::Netdev, PortType::Internal, PortType::Gre, PortType::Vxlan, PortType::Geneve] {
            assert_eq!(PortType::from_abi(t.to_abi()), t);
            assert_eq!(PortType::parse(&t.name()), Some(t));
        }
        assert_eq!(PortType::from_abi(99), PortType::Other(99));
        assert_eq!(PortType::Netdev.to_abi(), 1);
        assert_eq!(PortType::Gre.to_abi(), 3);
        assert_eq!(PortType::parse("bogus"), None);
    }
}

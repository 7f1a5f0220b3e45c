//! The `rvs_brcompat` generic netlink protocol between rvs.ko (`kmod/brcompat.rs`, keep the numbers equal) and
//! the daemon: decoding the kernel's REQUEST, encoding REGISTER and REPLY, and the binary records bridge-utils
//! reads (`struct __bridge_info`, `struct __fdb_entry`, ifindex arrays), which the kernel copies to user space
//! unchanged after checking their size.

use rvs_core::nla::{Attrs, Writer};
use rvs_dpif::netlink::msg::{self, MsgError};

/// Family name.
pub const FAMILY: &str = "rvs_brcompat";
/// Family version.
pub const VERSION: u8 = 1;

/// Commands.
pub mod cmd {
    /// Daemon → kernel: "send requests to this socket".
    pub const REGISTER: u8 = 1;
    /// Kernel → daemon: one brctl request.
    pub const REQUEST: u8 = 2;
    /// Daemon → kernel: the answer to a request.
    pub const REPLY: u8 = 3;
}

mod attr {
    pub const SEQ: u16 = 1;
    pub const OP: u16 = 2;
    pub const BRIDGE: u16 = 3;
    pub const IFINDEX: u16 = 4;
    pub const VALUE: u16 = 5;
    pub const OFFSET: u16 = 6;
    pub const MAX: u16 = 7;
    pub const ERRNO: u16 = 8;
    pub const DATA: u16 = 9;
    pub const DEADLINE: u16 = 10;
}

/// What the kernel asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `brctl addbr` (SIOCBRADDBR / BRCTL_ADD_BRIDGE).
    AddBr,
    /// `brctl delbr`.
    DelBr,
    /// `brctl addif` (SIOCBRADDIF): bridge name, port ifindex.
    AddIf,
    /// `brctl delif`.
    DelIf,
    /// BRCTL_GET_BRIDGES: ifindexes of the bridges.
    GetBridges,
    /// BRCTL_GET_BRIDGE_INFO: a `struct __bridge_info`.
    GetBridgeInfo,
    /// BRCTL_GET_PORT_LIST: ifindex by port number.
    GetPortList,
    /// BRCTL_GET_FDB_ENTRIES: `struct __fdb_entry` records from `offset`.
    GetFdb,
    /// BRCTL_SET_AGEING_TIME (value in 1/100 s).
    SetAgeing,
    /// BRCTL_SET_BRIDGE_STP_STATE.
    SetStp,
    /// `ip link set DEV master BR` (ndo_add_slave; under rtnl: no waiting for reconciliation).
    AddSlave,
    /// `ip link set DEV nomaster` (ndo_del_slave on DEV's master; under rtnl).
    DelSlave,
    /// BRCTL_GET_PORT_INFO: a `struct __port_info` for port number `offset`.
    GetPortInfo,
}

impl Op {
    /// Whether the operation only reads.
    pub fn is_read(self) -> bool {
        matches!(self, Op::GetBridges | Op::GetBridgeInfo | Op::GetPortList | Op::GetFdb | Op::GetPortInfo)
    }

    fn from_u32(v: u32) -> Option<Op> {
        Some(match v {
            1 => Op::AddBr,
            2 => Op::DelBr,
            3 => Op::AddIf,
            4 => Op::DelIf,
            5 => Op::GetBridges,
            6 => Op::GetBridgeInfo,
            7 => Op::GetPortList,
            8 => Op::GetFdb,
            9 => Op::SetAgeing,
            10 => Op::SetStp,
            11 => Op::AddSlave,
            12 => Op::DelSlave,
            13 => Op::GetPortInfo,
            _ => return None,
        })
    }
}

/// One decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Matches the reply to the waiting ioctl.
    pub seq: u32,
    /// The operation.
    pub op: Op,
    /// The bridge (or master device) name.
    pub bridge: String,
    /// The port's ifindex (AddIf, DelIf, AddSlave, DelSlave).
    pub ifindex: u32,
    /// SetAgeing / SetStp value.
    pub value: u64,
    /// GetFdb: first entry.
    pub offset: u32,
    /// List requests: at most this many entries.
    pub max: u32,
    /// CLOCK_MONOTONIC milliseconds after which the kernel no longer waits for the answer.
    pub deadline_ms: u64,
}

/// Why a request could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Headers or attribute framing.
    #[error(transparent)]
    Msg(#[from] MsgError),
    /// Not a REQUEST.
    #[error("unexpected command {0}")]
    Command(u8),
    /// A required attribute is absent or malformed.
    #[error("request attribute {0} missing or malformed")]
    Attr(&'static str),
    /// An operation this daemon does not know.
    #[error("unknown operation {0}")]
    Op(u32),
}

/// Decodes a REQUEST payload (generic netlink header onwards).
pub fn parse_request(payload: &[u8]) -> Result<Request, WireError> {
    let m = msg::OvsMsg::parse(payload)?;
    if m.cmd != cmd::REQUEST {
        return Err(WireError::Command(m.cmd));
    }
    let (mut seq, mut op, mut bridge, mut ifindex, mut value, mut offset, mut max) = (None, None, None, 0, 0, 0, 0);
    let mut deadline = None;
    for a in Attrs::new(m.attrs) {
        let a = a.map_err(|_| MsgError::BadAttrs("brcompat request"))?;
        match a.kind {
            attr::SEQ => seq = Some(a.u32_ne().ok_or(WireError::Attr("SEQ"))?),
            attr::OP => op = Some(a.u32_ne().ok_or(WireError::Attr("OP"))?),
            attr::BRIDGE => {
                let b = a.payload.split(|&c| c == 0).next().unwrap_or(&[]);
                bridge = Some(String::from_utf8(b.to_vec()).map_err(|_| WireError::Attr("BRIDGE"))?);
            }
            attr::IFINDEX => ifindex = a.u32_ne().ok_or(WireError::Attr("IFINDEX"))?,
            attr::VALUE => value = a.array::<8>().map(u64::from_ne_bytes).ok_or(WireError::Attr("VALUE"))?,
            attr::OFFSET => offset = a.u32_ne().ok_or(WireError::Attr("OFFSET"))?,
            attr::MAX => max = a.u32_ne().ok_or(WireError::Attr("MAX"))?,
            attr::DEADLINE => deadline = Some(a.array::<8>().map(u64::from_ne_bytes).ok_or(WireError::Attr("DEADLINE"))?),
            _ => {}
        }
    }
    let seq = seq.ok_or(WireError::Attr("SEQ"))?;
    let op = op.ok_or(WireError::Attr("OP"))?;
    let op = Op::from_u32(op).ok_or(WireError::Op(op))?;
    let deadline_ms = deadline.ok_or(WireError::Attr("DEADLINE"))?;
    Ok(Request { seq, op, bridge: bridge.ok_or(WireError::Attr("BRIDGE"))?, ifindex, value, offset, max, deadline_ms })
}

/// The REGISTER payload.
pub fn register() -> Result<Vec<u8>, MsgError> {
    msg::build(cmd::REGISTER, VERSION, 0, 0, |_| Ok(()))
}

/// The REPLY payload: `errno` (positive, 0 for success) and `data`.
pub fn reply(seq: u32, errno: i32, data: &[u8]) -> Result<Vec<u8>, MsgError> {
    let e = u32::try_from(errno).unwrap_or(5);
    msg::build(cmd::REPLY, VERSION, 0, data.len() + 32, |w: &mut Writer<'_>| {
        w.put_u32(attr::SEQ, seq)?;
        w.put_u32(attr::ERRNO, e)?;
        w.put(attr::DATA, data)
    })
}

/// `struct __bridge_info` fields rvs fills (times in 1/100 s, USER_HZ, as the bridge ioctls report them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BridgeInfo {
    /// Priority (2 bytes, big-endian on the wire) and MAC: the bridge ID.
    pub bridge_id: [u8; 8],
    /// STP timers (configured values).
    pub max_age: u32,
    /// Hello time.
    pub hello_time: u32,
    /// Forward delay.
    pub forward_delay: u32,
    /// 0 off, 1 on.
    pub stp_enabled: u8,
    /// MAC ageing time.
    pub ageing_time: u32,
}

/// Size of `struct __bridge_info`.
pub const BRIDGE_INFO_LEN: usize = 72;
/// Size of `struct __fdb_entry`.
pub const FDB_ENTRY_LEN: usize = 16;

impl BridgeInfo {
    /// The `struct __bridge_info` bytes (native endian; `designated_root` = `bridge_id`: rvs is its own root).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(BRIDGE_INFO_LEN);
        b.extend_from_slice(&self.bridge_id); // designated_root
        b.extend_from_slice(&self.bridge_id);
        b.extend_from_slice(&0u32.to_ne_bytes()); // root_path_cost
        for v in [self.max_age, self.hello_time, self.forward_delay, self.max_age, self.hello_time, self.forward_delay] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&[0, 0, 0, self.stp_enabled]); // topology_change, _detected, root_port, stp_enabled
        b.extend_from_slice(&self.ageing_time.to_ne_bytes());
        b.extend_from_slice(&[0u8; 20]); // gc_interval and the timers
        b
    }
}

/// Size of `struct __port_info`.
pub const PORT_INFO_LEN: usize = 48;

/// `struct __port_info` fields rvs fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortInfo {
    /// The bridge's ID (designated root and bridge: rvs runs no STP, every bridge is its own root).
    pub bridge_id: [u8; 8],
    /// Port ID (priority 0x80 in the top bits, then the port number).
    pub port_id: u16,
    /// STP port state (`BR_STATE_*`).
    pub state: u8,
}

impl PortInfo {
    /// The `struct __port_info` bytes (native endian).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(PORT_INFO_LEN);
        b.extend_from_slice(&self.bridge_id); // designated_root
        b.extend_from_slice(&self.bridge_id); // designated_bridge
        b.extend_from_slice(&self.port_id.to_ne_bytes());
        b.extend_from_slice(&self.port_id.to_ne_bytes()); // designated_port
        b.extend_from_slice(&[0u8; 8]); // path_cost, designated_cost
        b.extend_from_slice(&[self.state, 0, 0, 0]); // state, top_change_ack, config_pending, unused
        b.extend_from_slice(&[0u8; 16]); // the three timers and the tail padding
        b
    }
}

/// One `struct __fdb_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdbEntry {
    /// The MAC address.
    pub mac: [u8; 6],
    /// Port number (OpenFlow port; 0 for the bridge itself).
    pub port: u16,
    /// Frames to this address are delivered to this host.
    pub is_local: bool,
    /// Time since last seen, 1/100 s.
    pub age: u32,
}

impl FdbEntry {
    /// Appends the record to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.mac);
        let [hi, lo] = self.port.to_be_bytes();
        out.push(lo);
        out.push(u8::from(self.is_local));
        out.extend_from_slice(&self.age.to_ne_bytes());
        out.extend_from_slice(&[hi, 0, 0, 0]);
    }
}

/// An array of native-endian `int`s.
pub fn ints(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|i| i.to_ne_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_bytes(seq: u32, op: u32, name: &str, value: u64) -> Vec<u8> {
        msg::build(cmd::REQUEST, 1, 0, 0, |w| {
            w.put_u32(attr::SEQ, seq)?;
            w.put_u32(attr::OP, op)?;
            w.put(attr::BRIDGE, &msg::cstr(name))?;
            w.put_u32(attr::IFINDEX, 7)?;
            w.put(attr::VALUE, &value.to_ne_bytes())?;
            w.put_u32(attr::OFFSET, 3)?;
            w.put_u32(attr::MAX, 128)?;
            w.put(attr::DEADLINE, &1234u64.to_ne_bytes())
        })
        .unwrap()
    }

    #[test]
    fn request_round_trip() {
        let r = parse_request(&request_bytes(9, 3, "br0", 30000)).unwrap();
        assert_eq!(r, Request { seq: 9, op: Op::AddIf, bridge: "br0".into(), ifindex: 7, value: 30000, offset: 3, max: 128, deadline_ms: 1234 });
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(parse_request(&request_bytes(1, 99, "br0", 0)), Err(WireError::Op(99)));
        assert!(matches!(parse_request(&[2, 1, 0]), Err(WireError::Msg(_))));
        let mut wrong = request_bytes(1, 1, "br0", 0);
        wrong[0] = cmd::REPLY;
        assert_eq!(parse_request(&wrong), Err(WireError::Command(cmd::REPLY)));
        let no_seq = msg::build(cmd::REQUEST, 1, 0, 0, |w| w.put_u32(attr::OP, 1)).unwrap();
        assert_eq!(parse_request(&no_seq), Err(WireError::Attr("SEQ")));
    }

    #[test]
    fn records_have_the_kernel_sizes() {
        assert_eq!(BridgeInfo::default().encode().len(), BRIDGE_INFO_LEN);
        let p = PortInfo { port_id: 0x8001, state: 3, ..PortInfo::default() }.encode();
        assert_eq!(p.len(), PORT_INFO_LEN);
        assert_eq!((u16::from_ne_bytes([p[16], p[17]]), p[28]), (0x8001, 3));
        let mut v = Vec::new();
        FdbEntry { mac: [2, 0, 0, 0, 0, 1], port: 0x102, is_local: false, age: 150 }.encode(&mut v);
        assert_eq!(v.len(), FDB_ENTRY_LEN);
        assert_eq!(v[6], 2); // port_no (low byte)
        assert_eq!(v[12], 1); // port_hi
        assert_eq!(u32::from_ne_bytes([v[8], v[9], v[10], v[11]]), 150);
        let info = BridgeInfo { stp_enabled: 1, ageing_time: 30000, ..BridgeInfo::default() }.encode();
        assert_eq!(info[47], 1); // stp_enabled after 8+8+4+24 bytes + 3 flags
        assert_eq!(u32::from_ne_bytes([info[48], info[49], info[50], info[51]]), 30000);
    }

    #[test]
    fn reply_carries_seq_errno_data() {
        let p = reply(5, 17, &[1, 2, 3]).unwrap();
        let m = msg::OvsMsg::parse(&p).unwrap();
        assert_eq!(m.cmd, cmd::REPLY);
        let a: Vec<_> = Attrs::new(m.attrs).map(Result::unwrap).collect();
        assert_eq!(a[0].u32_ne(), Some(5));
        assert_eq!(a[1].u32_ne(), Some(17));
        assert_eq!(a[2].payload, &[1, 2, 3]);
    }
}

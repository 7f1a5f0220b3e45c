//! `OVS_PACKET_ATTR_*`: upcalls (`OVS_PACKET_CMD_MISS`/`ACTION`) and `OVS_PACKET_CMD_EXECUTE`,
//! parsed into a borrowing [`PacketAttrs`] and emitted in upstream upcall order.

use crate::nla::Writer;
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::msg;
use super::policy::{self, AttrPolicy, Len};

/// `OVS_PACKET_ATTR_UPCALL_PID` (u32): defined by uapi headers newer than Linux 6.12, accepted
/// for forward compatibility.
pub const OVS_PACKET_ATTR_UPCALL_PID: u16 = 12;
/// Minimum packet length (upstream policy: `ETH_HLEN`).
pub const ETH_HLEN: usize = 14;

/// Policy of `OVS_PACKET_ATTR_*` (upstream `packet_policy` plus the upcall-only attributes).
pub static PACKET_POLICY: [AttrPolicy; 13] = [
    AttrPolicy::invalid("OVS_PACKET_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_PACKET_ATTR_PACKET", Len::Min(ETH_HLEN)),
    AttrPolicy::new("OVS_PACKET_ATTR_KEY", Len::Nested),
    AttrPolicy::new("OVS_PACKET_ATTR_ACTIONS", Len::Nested),
    AttrPolicy::new("OVS_PACKET_ATTR_USERDATA", Len::Any),
    AttrPolicy::new("OVS_PACKET_ATTR_EGRESS_TUN_KEY", Len::Nested),
    AttrPolicy::invalid("OVS_PACKET_ATTR_UNUSED1"),
    AttrPolicy::invalid("OVS_PACKET_ATTR_UNUSED2"),
    AttrPolicy::new("OVS_PACKET_ATTR_PROBE", Len::Flag),
    AttrPolicy::new("OVS_PACKET_ATTR_MRU", Len::Exact(2)),
    AttrPolicy::new("OVS_PACKET_ATTR_LEN", Len::Exact(4)),
    AttrPolicy::new("OVS_PACKET_ATTR_HASH", Len::Exact(8)),
    AttrPolicy::new("OVS_PACKET_ATTR_UPCALL_PID", Len::Exact(4)),
];

/// The mandatory parts of an `OVS_PACKET_CMD_EXECUTE` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execute<'a> {
    /// The packet.
    pub packet: &'a [u8],
    /// Nested `OVS_KEY_ATTR_*` (metadata; see [`super::key_nl::decode_metadata`]).
    pub key: &'a [u8],
    /// Nested `OVS_ACTION_ATTR_*`.
    pub actions: &'a [u8],
}

/// The attributes of a packet message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketAttrs<'a> {
    /// The packet, from the Ethernet header on.
    pub packet: Option<&'a [u8]>,
    /// Nested `OVS_KEY_ATTR_*` (raw).
    pub key: Option<&'a [u8]>,
    /// Nested `OVS_ACTION_ATTR_*` (raw).
    pub actions: Option<&'a [u8]>,
    /// Cookie of the userspace action.
    pub userdata: Option<&'a [u8]>,
    /// Nested `OVS_TUNNEL_KEY_ATTR_*` of the egress tunnel (raw).
    pub egress_tun_key: Option<&'a [u8]>,
    /// Feature probe.
    pub probe: bool,
    /// Maximum received fragment size.
    pub mru: Option<u16>,
    /// Packet length before truncation.
    pub len: Option<u32>,
    /// Packet hash (`skb->hash` plus flag bits in the upper half).
    pub hash: Option<u64>,
    /// Netlink PID for upcalls triggered while executing.
    pub upcall_pid: Option<u32>,
}

impl<'a> PacketAttrs<'a> {
    /// Parses and validates the attributes following the `ovs_header`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, CodecError> {
        let p = policy::parse(buf, "OVS_PACKET_ATTR", &PACKET_POLICY)?;
        Ok(Self {
            packet: p.get(OVS_PACKET_ATTR_PACKET),
            key: p.get(OVS_PACKET_ATTR_KEY),
            actions: p.get(OVS_PACKET_ATTR_ACTIONS),
            userdata: p.get(OVS_PACKET_ATTR_USERDATA),
            egress_tun_key: p.get(OVS_PACKET_ATTR_EGRESS_TUN_KEY),
            probe: p.has(OVS_PACKET_ATTR_PROBE),
            mru: p.u16(OVS_PACKET_ATTR_MRU),
            len: p.u32(OVS_PACKET_ATTR_LEN),
            hash: p.u64(OVS_PACKET_ATTR_HASH),
            upcall_pid: p.u32(OVS_PACKET_ATTR_UPCALL_PID),
        })
    }

    /// Checks what `OVS_PACKET_CMD_EXECUTE` requires: packet, key and actions.
    pub fn require_execute(&self) -> Result<Execute<'a>, CodecError> {
        let m = |n| CodecError::new(n, ErrorKind::Missing);
        Ok(Execute {
            packet: self.packet.ok_or(m("OVS_PACKET_ATTR_PACKET"))?,
            key: self.key.ok_or(m("OVS_PACKET_ATTR_KEY"))?,
            actions: self.actions.ok_or(m("OVS_PACKET_ATTR_ACTIONS"))?,
        })
    }

    /// Emits in upstream upcall order (KEY, USERDATA, EGRESS_TUN_KEY, ACTIONS, MRU, LEN, HASH,
    /// PACKET), then the request-only attributes.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        let opt = |w: &mut Writer<'_>, n, ty, v: Option<&[u8]>| match v {
            Some(v) => msg::put(w, n, ty, v),
            None => Ok(()),
        };
        opt(w, "OVS_PACKET_ATTR_KEY", OVS_PACKET_ATTR_KEY, self.key)?;
        opt(w, "OVS_PACKET_ATTR_USERDATA", OVS_PACKET_ATTR_USERDATA, self.userdata)?;
        opt(w, "OVS_PACKET_ATTR_EGRESS_TUN_KEY", OVS_PACKET_ATTR_EGRESS_TUN_KEY, self.egress_tun_key)?;
        opt(w, "OVS_PACKET_ATTR_ACTIONS", OVS_PACKET_ATTR_ACTIONS, self.actions)?;
        if let Some(m) = self.mru {
            msg::put(w, "OVS_PACKET_ATTR_MRU", OVS_PACKET_ATTR_MRU, &m.to_ne_bytes())?;
        }
        if let Some(l) = self.len {
            msg::put_u32(w, "OVS_PACKET_ATTR_LEN", OVS_PACKET_ATTR_LEN, l)?;
        }
        if let Some(h) = self.hash {
            msg::put(w, "OVS_PACKET_ATTR_HASH", OVS_PACKET_ATTR_HASH, &h.to_ne_bytes())?;
        }
        opt(w, "OVS_PACKET_ATTR_PACKET", OVS_PACKET_ATTR_PACKET, self.packet)?;
        if let Some(p) = self.upcall_pid {
            msg::put_u32(w, "OVS_PACKET_ATTR_UPCALL_PID", OVS_PACKET_ATTR_UPCALL_PID, p)?;
        }
        msg::put_flag(w, "OVS_PACKET_ATTR_PROBE", OVS_PACKET_ATTR_PROBE, self.probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::{attr, nest, u32a, written};

    #[test]
    fn upcall_round_trip() {
        let wire = [
            nest(OVS_PACKET_ATTR_KEY, &[u32a(OVS_KEY_ATTR_IN_PORT, 1)]),
            attr(OVS_PACKET_ATTR_USERDATA, &[1, 2, 3, 4, 5]),
            nest(OVS_PACKET_ATTR_EGRESS_TUN_KEY, &[attr(OVS_TUNNEL_KEY_ATTR_TTL, &[64])]),
            nest(OVS_PACKET_ATTR_ACTIONS, &[u32a(OVS_ACTION_ATTR_OUTPUT, 1)]),
            attr(OVS_PACKET_ATTR_MRU, &1500u16.to_ne_bytes()),
            u32a(OVS_PACKET_ATTR_LEN, 2000),
            attr(OVS_PACKET_ATTR_HASH, &0x1_0000_abcdu64.to_ne_bytes()),
            attr(OVS_PACKET_ATTR_PACKET, &[0xee; 60]),
            u32a(OVS_PACKET_ATTR_UPCALL_PID, 42),
            attr(OVS_PACKET_ATTR_PROBE, &[]),
        ]
        .concat();
        let p = PacketAttrs::parse(&wire).unwrap();
        assert_eq!((p.mru, p.len, p.hash, p.upcall_pid), (Some(1500), Some(2000), Some(0x1_0000_abcd), Some(42)));
        assert_eq!(p.packet.map(<[u8]>::len), Some(60));
        assert!(p.probe);
        assert!(p.require_execute().is_ok());
        assert_eq!(written(|w| p.emit(w).unwrap()), wire);
    }

    #[test]
    fn packet_errors() {
        assert_eq!(
            PacketAttrs::parse(&attr(OVS_PACKET_ATTR_PACKET, &[0; 13])).unwrap_err(),
            CodecError::new("OVS_PACKET_ATTR_PACKET", ErrorKind::TooShort { got: 13, min: 14 })
        );
        assert_eq!(
            PacketAttrs::parse(&attr(OVS_PACKET_ATTR_UNUSED1, &[])).unwrap_err(),
            CodecError::new("OVS_PACKET_ATTR_UNUSED1", ErrorKind::Unknown { ty: 6 })
        );
        assert_eq!(
            PacketAttrs::parse(&attr(OVS_PACKET_ATTR_MRU, &[0; 4])).unwrap_err().kind,
            ErrorKind::BadLength { got: 4, want: 2 }
        );
        let only_packet = attr(OVS_PACKET_ATTR_PACKET, &[0; 14]);
        assert_eq!(
            PacketAttrs::parse(&only_packet).unwrap().require_execute().unwrap_err(),
            CodecError::new("OVS_PACKET_ATTR_KEY", ErrorKind::Missing)
        );
    }
}

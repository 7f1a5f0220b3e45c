//! `ovs_packet` family messages: `OVS_PACKET_CMD_EXECUTE` requests and the upcalls
//! (`OVS_PACKET_CMD_MISS` / `_ACTION`) the datapath sends to handler sockets.

use super::msg::{attr_u32, attr_u64, build, MsgError, OvsMsg};
use crate::types::{Execute, Upcall, UpcallKind};
use rvs_core::nla::NLA_F_NESTED;
use rvs_core::ovs_abi::*;

/// Family version sent in `genlmsghdr.version`.
pub const VERSION: u8 = 1; // OVS_PACKET_VERSION

/// Builds an execute request.
pub fn execute_request(dp_ifindex: i32, e: &Execute<'_>) -> Result<Vec<u8>, MsgError> {
    let hint = 64 + e.packet.len() + e.key.len() + e.actions.len();
    build(OVS_PACKET_CMD_EXECUTE as u8, VERSION, dp_ifindex, hint, |w| {
        w.put(OVS_PACKET_ATTR_PACKET, e.packet)?;
        w.put(OVS_PACKET_ATTR_KEY | NLA_F_NESTED, e.key)?;
        w.put(OVS_PACKET_ATTR_ACTIONS | NLA_F_NESTED, e.actions)?;
        if e.probe {
            w.put_flag(OVS_PACKET_ATTR_PROBE)?;
        }
        if let Some(mru) = e.mru {
            w.put(OVS_PACKET_ATTR_MRU, &mru.to_ne_bytes())?;
        }
        Ok(())
    })
}

/// Parses an upcall.
pub fn parse_upcall(payload: &[u8]) -> Result<Upcall, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let kind = match u16::from(m.cmd) {
        OVS_PACKET_CMD_MISS => UpcallKind::Miss,
        OVS_PACKET_CMD_ACTION => UpcallKind::Action,
        _ => UpcallKind::Other(m.cmd),
    };
    let mut packet = None;
    let mut key = None;
    let mut u = Upcall {
        kind,
        dp_ifindex: m.dp_ifindex,
        packet: Vec::new(),
        key: Vec::new(),
        userdata: None,
        egress_tun_key: None,
        actions: None,
        mru: None,
        len: None,
        hash: None,
    };
    for a in m.attrs("upcall")? {
        match a.kind {
            OVS_PACKET_ATTR_PACKET => packet = Some(a.payload.to_vec()),
            OVS_PACKET_ATTR_KEY => key = Some(a.payload.to_vec()),
            OVS_PACKET_ATTR_USERDATA => u.userdata = Some(a.payload.to_vec()),
            OVS_PACKET_ATTR_EGRESS_TUN_KEY => u.egress_tun_key = Some(a.payload.to_vec()),
            OVS_PACKET_ATTR_ACTIONS => u.actions = Some(a.payload.to_vec()),
            OVS_PACKET_ATTR_MRU => {
                u.mru = Some(a.array::<2>().map(u16::from_ne_bytes).ok_or(MsgError::BadPayload("OVS_PACKET_ATTR_MRU"))?);
            }
            OVS_PACKET_ATTR_LEN => u.len = Some(attr_u32(&a, "OVS_PACKET_ATTR_LEN")?),
            OVS_PACKET_ATTR_HASH => u.hash = Some(attr_u64(&a, "OVS_PACKET_ATTR_HASH")?),
            _ => {}
        }
    }
    u.packet = packet.ok_or(MsgError::Missing("OVS_PACKET_ATTR_PACKET"))?;
    u.key = key.ok_or(MsgError::Missing("OVS_PACKET_ATTR_KEY"))?;
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::nla::{Attrs, Writer};

    #[test]
    fn execute_request_layout() {
        let frame = [0xffu8; 60];
        let key = [8u8, 0, 3, 0, 1, 0, 0, 0];
        let acts = [8u8, 0, 1, 0, 2, 0, 0, 0];
        let b = execute_request(6, &Execute { packet: &frame, key: &key, actions: &acts, mru: Some(1500), probe: true })
            .unwrap();
        let m = OvsMsg::parse(&b).unwrap();
        assert_eq!((m.cmd, m.version, m.dp_ifindex), (OVS_PACKET_CMD_EXECUTE as u8, 1, 6));
        let attrs: Vec<_> = Attrs::new(m.attrs).map(|a| a.unwrap()).collect();
        assert_eq!(attrs.len(), 5);
        assert_eq!((attrs[0].kind, attrs[0].payload), (OVS_PACKET_ATTR_PACKET, &frame[..]));
        assert_eq!((attrs[1].kind, attrs[1].payload), (OVS_PACKET_ATTR_KEY, &key[..]));
        assert_eq!((attrs[2].kind, attrs[2].payload), (OVS_PACKET_ATTR_ACTIONS, &acts[..]));
        assert_eq!(attrs[3].kind, OVS_PACKET_ATTR_PROBE);
        assert_eq!(attrs[4].payload, &1500u16.to_ne_bytes());
    }

    #[test]
    fn parses_miss_upcall() {
        let mut attrs = vec![0u8; 256];
        let mut w = Writer::new(&mut attrs);
        w.put(OVS_PACKET_ATTR_KEY, &[8, 0, 3, 0, 2, 0, 0, 0]).unwrap();
        w.put(OVS_PACKET_ATTR_USERDATA, &[1, 2, 3, 4]).unwrap();
        w.put(OVS_PACKET_ATTR_MRU, &1400u16.to_ne_bytes()).unwrap();
        w.put_u32(OVS_PACKET_ATTR_LEN, 99).unwrap();
        w.put(OVS_PACKET_ATTR_HASH, &0xdeadu64.to_ne_bytes()).unwrap();
        w.put(OVS_PACKET_ATTR_PACKET, &[0xab; 42]).unwrap();
        let n = w.len();
        let mut p = vec![OVS_PACKET_CMD_MISS as u8, 1, 0, 0, 3, 0, 0, 0];
        p.extend_from_slice(&attrs[..n]);
        let u = parse_upcall(&p).unwrap();
        assert_eq!(u.kind, UpcallKind::Miss);
        assert_eq!(u.dp_ifindex, 3);
        assert_eq!(u.packet, vec![0xab; 42]);
        assert_eq!(u.key, vec![8, 0, 3, 0, 2, 0, 0, 0]);
        assert_eq!(u.userdata.as_deref(), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!((u.mru, u.len, u.hash), (Some(1400), Some(99), Some(0xdead)));
        p[0] = OVS_PACKET_CMD_ACTION as u8;
        assert_eq!(parse_upcall(&p).unwrap().kind, UpcallKind::Action);
    }

    #[test]
    fn upcall_without_packet_is_rejected() {
        let p = vec![1u8, 1, 0, 0, 0, 0, 0, 0, 4, 0, 2, 0];
        assert_eq!(parse_upcall(&p), Err(MsgError::Missing("OVS_PACKET_ATTR_PACKET")));
    }
}

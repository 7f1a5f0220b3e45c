//! `ovs_flow` family messages: put / del / get / dump requests and flow replies.
//!
//! Keys, masks and actions are taken and returned as encoded attribute bytes (the contents of
//! `OVS_FLOW_ATTR_KEY` / `_MASK` / `_ACTIONS`); the typed codec lives in the core.

use super::msg::{attr_u64, build, u64s, MsgError, OvsMsg};
use crate::types::{Flow, FlowId, FlowPut, FlowStats};
use rvs_core::nla::{NlaError, Writer, NLA_F_NESTED};
use rvs_core::ovs_abi::*;

/// Family version sent in `genlmsghdr.version`.
pub const VERSION: u8 = 1; // OVS_FLOW_VERSION

/// `OVS_UFID_F_OMIT_*` flags of a terse request.
pub const TERSE: u32 = OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK | OVS_UFID_F_OMIT_ACTIONS;

fn put_id(w: &mut Writer<'_>, id: FlowId<'_>) -> Result<(), NlaError> {
    match id {
        FlowId::Ufid(u) => w.put(OVS_FLOW_ATTR_UFID, u),
        FlowId::Key(k) => w.put(OVS_FLOW_ATTR_KEY | NLA_F_NESTED, k),
    }
}

/// The command and netlink flags a put uses, following Open vSwitch: create-only is
/// `NEW` + `NLM_F_CREATE|NLM_F_EXCL`, create-or-modify is `NEW` + `NLM_F_CREATE`, modify-only is
/// `SET`.
pub fn put_command(put: &FlowPut<'_>) -> (u16, u16) {
    let create = libc::NLM_F_CREATE as u16;
    let excl = libc::NLM_F_EXCL as u16;
    match (put.flags.create, put.flags.modify) {
        (true, false) => (OVS_FLOW_CMD_NEW, create | excl),
        (true, true) => (OVS_FLOW_CMD_NEW, create),
        (false, _) => (OVS_FLOW_CMD_SET, 0),
    }
}

/// Builds a put request payload (see [`put_command`] for the command and flags).
pub fn put_request(dp_ifindex: i32, put: &FlowPut<'_>) -> Result<Vec<u8>, MsgError> {
    let (cmd, _) = put_command(put);
    let hint = 64 + put.key.len() + put.mask.map_or(0, <[u8]>::len) + put.actions.len();
    build(cmd as u8, VERSION, dp_ifindex, hint, |w| {
        w.put(OVS_FLOW_ATTR_KEY | NLA_F_NESTED, put.key)?;
        if let Some(m) = put.mask {
            w.put(OVS_FLOW_ATTR_MASK | NLA_F_NESTED, m)?;
        }
        // Always send the actions: an empty list means drop, and NEW requires it.
        w.put(OVS_FLOW_ATTR_ACTIONS | NLA_F_NESTED, put.actions)?;
        if let Some(u) = put.ufid {
            w.put(OVS_FLOW_ATTR_UFID, u)?;
        }
        if put.flags.zero_stats {
            w.put_flag(OVS_FLOW_ATTR_CLEAR)?;
        }
        if put.flags.probe {
            w.put_flag(OVS_FLOW_ATTR_PROBE)?;
        }
        Ok(())
    })
}

/// Builds a delete request; `None` deletes every flow (flush).
pub fn del_request(dp_ifindex: i32, id: Option<FlowId<'_>>) -> Result<Vec<u8>, MsgError> {
    build(OVS_FLOW_CMD_DEL as u8, VERSION, dp_ifindex, 64, |w| match id {
        Some(id) => put_id(w, id),
        None => Ok(()),
    })
}

/// Builds a get request (`ufid_flags` 0 for the full flow).
pub fn get_request(dp_ifindex: i32, id: FlowId<'_>, ufid_flags: u32) -> Result<Vec<u8>, MsgError> {
    build(OVS_FLOW_CMD_GET as u8, VERSION, dp_ifindex, 64, |w| {
        put_id(w, id)?;
        if ufid_flags != 0 {
            w.put_u32(OVS_FLOW_ATTR_UFID_FLAGS, ufid_flags)?;
        }
        Ok(())
    })
}

/// Builds a dump request (sent with `NLM_F_DUMP`).
pub fn dump_request(dp_ifindex: i32, terse: bool) -> Result<Vec<u8>, MsgError> {
    build(OVS_FLOW_CMD_GET as u8, VERSION, dp_ifindex, 16, |w| {
        if terse {
            w.put_u32(OVS_FLOW_ATTR_UFID_FLAGS, TERSE)?;
        }
        Ok(())
    })
}

/// Parses a flow reply or dump entry.
pub fn parse(payload: &[u8]) -> Result<Flow, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let mut f = Flow::default();
    for a in m.attrs("flow")? {
        match a.kind {
            OVS_FLOW_ATTR_KEY => f.key = a.payload.to_vec(),
            OVS_FLOW_ATTR_MASK => f.mask = a.payload.to_vec(),
            OVS_FLOW_ATTR_ACTIONS => f.actions = a.payload.to_vec(),
            OVS_FLOW_ATTR_UFID => {
                f.ufid = Some(a.array::<16>().ok_or(MsgError::BadPayload("OVS_FLOW_ATTR_UFID"))?);
            }
            OVS_FLOW_ATTR_STATS => {
                let [p, b] = u64s::<2>(a.payload, "OVS_FLOW_ATTR_STATS")?;
                f.stats.n_packets = p;
                f.stats.n_bytes = b;
            }
            OVS_FLOW_ATTR_TCP_FLAGS => {
                f.stats.tcp_flags = *a.payload.first().ok_or(MsgError::BadPayload("OVS_FLOW_ATTR_TCP_FLAGS"))?;
            }
            OVS_FLOW_ATTR_USED => f.stats.used_ms = attr_u64(&a, "OVS_FLOW_ATTR_USED")?,
            _ => {}
        }
    }
    Ok(f)
}

/// The statistics of a reply, for put/del callers.
pub fn parse_stats(payload: &[u8]) -> Result<FlowStats, MsgError> {
    parse(payload).map(|f| f.stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PutFlags;
    use rvs_core::nla::Attrs;

    const KEY: &[u8] = &[8, 0, 3, 0, 1, 0, 0, 0]; // OVS_KEY_ATTR_IN_PORT 1
    const ACTS: &[u8] = &[8, 0, 1, 0, 2, 0, 0, 0]; // OVS_ACTION_ATTR_OUTPUT 2

    fn put(create: bool, modify: bool) -> FlowPut<'static> {
        FlowPut { key: KEY, mask: Some(KEY), actions: ACTS, ufid: Some(&[7; 16]), flags: PutFlags { create, modify, ..Default::default() } }
    }

    #[test]
    fn put_flags_map_to_commands() {
        let c = libc::NLM_F_CREATE as u16;
        let e = libc::NLM_F_EXCL as u16;
        assert_eq!(put_command(&put(true, false)), (OVS_FLOW_CMD_NEW, c | e));
        assert_eq!(put_command(&put(true, true)), (OVS_FLOW_CMD_NEW, c));
        assert_eq!(put_command(&put(false, true)), (OVS_FLOW_CMD_SET, 0));
    }

    #[test]
    fn put_request_nests_encoded_bytes_verbatim() {
        let mut p = put(true, false);
        p.flags.probe = true;
        p.flags.zero_stats = true;
        let b = put_request(3, &p).unwrap();
        let m = OvsMsg::parse(&b).unwrap();
        assert_eq!((m.cmd, m.dp_ifindex), (OVS_FLOW_CMD_NEW as u8, 3));
        let attrs: Vec<_> = Attrs::new(m.attrs).map(|a| a.unwrap()).collect();
        let kinds: Vec<u16> = attrs.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_CLEAR, OVS_FLOW_ATTR_PROBE]
        );
        assert!(attrs[0].nested && attrs[2].nested);
        assert_eq!(attrs[0].payload, KEY);
        assert_eq!(attrs[2].payload, ACTS);
        assert_eq!(attrs[3].payload, &[7; 16]);
    }

    #[test]
    fn empty_actions_still_sent() {
        let p = FlowPut { key: KEY, mask: None, actions: &[], ufid: None, flags: PutFlags { create: true, ..Default::default() } };
        let b = put_request(1, &p).unwrap();
        let m = OvsMsg::parse(&b).unwrap();
        let attrs: Vec<_> = Attrs::new(m.attrs).map(|a| a.unwrap()).collect();
        assert_eq!(attrs.len(), 2);
        assert_eq!((attrs[1].kind, attrs[1].payload.len()), (OVS_FLOW_ATTR_ACTIONS, 0));
    }

    #[test]
    fn del_get_dump_requests() {
        let flush = del_request(2, None).unwrap();
        assert_eq!(flush.len(), 8, "flush carries no attributes");
        let d = del_request(2, Some(FlowId::Ufid(&[1; 16]))).unwrap();
        assert_eq!(&d[8..12], &[20, 0, OVS_FLOW_ATTR_UFID as u8, 0]);
        let g = get_request(2, FlowId::Key(KEY), TERSE).unwrap();
        let attrs: Vec<_> = Attrs::new(&g[8..]).map(|a| a.unwrap()).collect();
        assert_eq!(attrs[0].payload, KEY);
        assert_eq!(attrs[1].u32_ne(), Some(7));
        assert_eq!(dump_request(2, false).unwrap().len(), 8);
        let t = dump_request(2, true).unwrap();
        assert_eq!(&t[8..], &[8, 0, OVS_FLOW_ATTR_UFID_FLAGS as u8, 0, 7, 0, 0, 0]);
    }

    #[test]
    fn parses_flow_reply() {
        let mut attrs = vec![0u8; 256];
        let mut w = Writer::new(&mut attrs);
        w.put(OVS_FLOW_ATTR_UFID, &[9; 16]).unwrap();
        w.put(OVS_FLOW_ATTR_KEY, KEY).unwrap();
        w.put(OVS_FLOW_ATTR_MASK, KEY).unwrap();
        let st: Vec<u8> = [4u64, 400].iter().flat_map(|v| v.to_ne_bytes()).collect();
        w.put(OVS_FLOW_ATTR_STATS, &st).unwrap();
        w.put(OVS_FLOW_ATTR_TCP_FLAGS, &[0x12, 0]).unwrap();
        w.put(OVS_FLOW_ATTR_USED, &1234u64.to_ne_bytes()).unwrap();
        w.put(OVS_FLOW_ATTR_ACTIONS, ACTS).unwrap();
        let n = w.len();
        let mut p = vec![OVS_FLOW_CMD_NEW as u8, 1, 0, 0, 1, 0, 0, 0];
        p.extend_from_slice(&attrs[..n]);
        let f = parse(&p).unwrap();
        assert_eq!(f.ufid, Some([9; 16]));
        assert_eq!(f.key, KEY);
        assert_eq!(f.mask, KEY);
        assert_eq!(f.actions, ACTS);
        assert_eq!(f.stats, FlowStats { n_packets: 4, n_bytes: 400, used_ms: 1234, tcp_flags: 0x12 });
    }
}

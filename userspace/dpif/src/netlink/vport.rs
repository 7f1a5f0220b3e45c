//! `ovs_vport` family messages: building `OVS_VPORT_CMD_*` requests and parsing port
//! descriptions (replies, dump entries and the family's multicast notifications).

use super::msg::{attr_str, attr_u32, build, collect_attrs, cstr, u64s, MsgError, OvsMsg};
use crate::types::{PortInfo, PortNo, PortType, VportStats};
use rvs_core::ovs_abi::*;

/// Family version sent in `genlmsghdr.version`.
pub const VERSION: u8 = 1; // OVS_VPORT_VERSION

/// What a vport request carries besides its command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VportRequest<'a> {
    /// Datapath (`ovs_header.dp_ifindex`); 0 when looking a port up by name alone.
    pub dp_ifindex: i32,
    /// `OVS_VPORT_ATTR_PORT_NO`.
    pub port_no: Option<PortNo>,
    /// `OVS_VPORT_ATTR_TYPE`.
    pub port_type: Option<PortType>,
    /// `OVS_VPORT_ATTR_NAME`.
    pub name: Option<&'a str>,
    /// `OVS_VPORT_ATTR_UPCALL_PID`: one PID or, with `OVS_DP_F_VPORT_PIDS`, several.
    pub upcall_pids: Option<&'a [u32]>,
    /// `OVS_TUNNEL_ATTR_DST_PORT` inside `OVS_VPORT_ATTR_OPTIONS`.
    pub dst_port: Option<u16>,
}

/// Builds an `OVS_VPORT_CMD_*` request payload.
pub fn request(cmd: u16, req: &VportRequest<'_>) -> Result<Vec<u8>, MsgError> {
    let cmd = u8::try_from(cmd).map_err(|_| MsgError::BadPayload("cmd"))?;
    let pids: Vec<u8> = req
        .upcall_pids
        .map(|p| p.iter().flat_map(|v| v.to_ne_bytes()).collect())
        .unwrap_or_default();
    build(cmd, VERSION, req.dp_ifindex, 96 + pids.len(), |w| {
        if let Some(n) = req.port_no {
            w.put_u32(OVS_VPORT_ATTR_PORT_NO, n)?;
        }
        if let Some(t) = req.port_type {
            w.put_u32(OVS_VPORT_ATTR_TYPE, t.to_abi())?;
        }
        if let Some(name) = req.name {
            w.put(OVS_VPORT_ATTR_NAME, &cstr(name))?;
        }
        if req.upcall_pids.is_some() {
            w.put(OVS_VPORT_ATTR_UPCALL_PID, &pids)?;
        }
        if let Some(port) = req.dst_port {
            let nest = w.begin_nest(OVS_VPORT_ATTR_OPTIONS)?;
            // The kernel reads OVS_TUNNEL_ATTR_DST_PORT with nla_get_u16: host order.
            w.put(OVS_TUNNEL_ATTR_DST_PORT, &port.to_ne_bytes())?;
            w.end_nest(nest)?;
        }
        Ok(())
    })
}

/// Parses a port description.
pub fn parse(payload: &[u8]) -> Result<PortInfo, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let mut port_no = None;
    let mut port_type = None;
    let mut name = None;
    let mut info = PortInfo {
        dp_ifindex: m.dp_ifindex,
        port_no: 0,
        port_type: PortType::Other(0),
        name: String::new(),
        upcall_pids: Vec::new(),
        stats: None,
        ifindex: None,
        dst_port: None,
        upcall_stats: None,
    };
    for a in m.attrs("vport")? {
        match a.kind {
            OVS_VPORT_ATTR_PORT_NO => port_no = Some(attr_u32(&a, "OVS_VPORT_ATTR_PORT_NO")?),
            OVS_VPORT_ATTR_TYPE => port_type = Some(attr_u32(&a, "OVS_VPORT_ATTR_TYPE")?),
            OVS_VPORT_ATTR_NAME => name = Some(attr_str(&a, "OVS_VPORT_ATTR_NAME")?),
            OVS_VPORT_ATTR_UPCALL_PID => {
                info.upcall_pids = a
                    .payload
                    .chunks_exact(4)
                    .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
            }
            OVS_VPORT_ATTR_STATS => {
                let s = u64s::<8>(a.payload, "OVS_VPORT_ATTR_STATS")?;
                info.stats = Some(VportStats {
                    rx_packets: s[0],
                    tx_packets: s[1],
                    rx_bytes: s[2],
                    tx_bytes: s[3],
                    rx_errors: s[4],
                    tx_errors: s[5],
                    rx_dropped: s[6],
                    tx_dropped: s[7],
                });
            }
            OVS_VPORT_ATTR_IFINDEX => {
                info.ifindex = Some(attr_u32(&a, "OVS_VPORT_ATTR_IFINDEX")? as i32);
            }
            OVS_VPORT_ATTR_OPTIONS => {
                for o in collect_attrs(a.payload, "OVS_VPORT_ATTR_OPTIONS")? {
                    if o.kind == OVS_TUNNEL_ATTR_DST_PORT {
                        info.dst_port =
                            Some(o.array::<2>().map(u16::from_ne_bytes).ok_or(MsgError::BadPayload("OVS_TUNNEL_ATTR_DST_PORT"))?);
                    }
                }
            }
            OVS_VPORT_ATTR_UPCALL_STATS => {
                let (mut ok, mut fail) = (0, 0);
                for o in collect_attrs(a.payload, "OVS_VPORT_ATTR_UPCALL_STATS")? {
                    let v = o.array::<8>().map(u64::from_ne_bytes);
                    match o.kind {
                        OVS_VPORT_UPCALL_ATTR_SUCCESS => ok = v.unwrap_or(0),
                        OVS_VPORT_UPCALL_ATTR_FAIL => fail = v.unwrap_or(0),
                        _ => {}
                    }
                }
                info.upcall_stats = Some((ok, fail));
            }
            _ => {}
        }
    }
    info.port_no = port_no.ok_or(MsgError::Missing("OVS_VPORT_ATTR_PORT_NO"))?;
    info.port_type = PortType::from_abi(port_type.ok_or(MsgError::Missing("OVS_VPORT_ATTR_TYPE"))?);
    info.name = name.ok_or(MsgError::Missing("OVS_VPORT_ATTR_NAME"))?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::nla::Writer;

    #[test]
    fn new_request_layout() {
        let p = request(
            OVS_VPORT_CMD_NEW,
            &VportRequest {
                dp_ifindex: 9,
                port_type: Some(PortType::Netdev),
                name: Some("v1"),
                upcall_pids: Some(&[100, 200]),
                ..Default::default()
            },
        )
        .unwrap();
        let expect: Vec<u8> = [
            &[1u8, 1, 0, 0, 9, 0, 0, 0][..],
            &[8, 0, 2, 0, 1, 0, 0, 0],
            &[7, 0, 3, 0, b'v', b'1', 0, 0],
            &[12, 0, 5, 0],
            &100u32.to_ne_bytes(),
            &200u32.to_ne_bytes(),
        ]
        .concat();
        assert_eq!(p, expect);
    }

    #[test]
    fn tunnel_options_nest() {
        let p = request(
            OVS_VPORT_CMD_NEW,
            &VportRequest {
                port_type: Some(PortType::Vxlan),
                name: Some("vx"),
                upcall_pids: Some(&[0]),
                dst_port: Some(4789),
                ..Default::default()
            },
        )
        .unwrap();
        let m = OvsMsg::parse(&p).unwrap();
        let attrs = m.attrs("t").unwrap();
        let opts = attrs.iter().find(|a| a.kind == OVS_VPORT_ATTR_OPTIONS).unwrap();
        assert!(opts.nested);
        let inner = collect_attrs(opts.payload, "o").unwrap();
        assert_eq!(inner[0].kind, OVS_TUNNEL_ATTR_DST_PORT);
        assert_eq!(inner[0].payload, &4789u16.to_ne_bytes());
    }

    #[test]
    fn parses_kernel_reply() {
        let mut attrs = vec![0u8; 512];
        let mut w = Writer::new(&mut attrs);
        w.put_u32(OVS_VPORT_ATTR_PORT_NO, 2).unwrap();
        w.put_u32(OVS_VPORT_ATTR_TYPE, 1).unwrap();
        w.put(OVS_VPORT_ATTR_NAME, b"veth1\0").unwrap();
        w.put(OVS_VPORT_ATTR_UPCALL_PID, &[7, 0, 0, 0]).unwrap();
        w.put(OVS_VPORT_ATTR_PAD, &[]).unwrap();
        let stats: Vec<u8> = (1u64..=8).flat_map(|v| v.to_ne_bytes()).collect();
        w.put(OVS_VPORT_ATTR_STATS, &stats).unwrap();
        w.put_u32(OVS_VPORT_ATTR_IFINDEX, 33).unwrap();
        let n = w.begin_nest(OVS_VPORT_ATTR_UPCALL_STATS).unwrap();
        w.put(OVS_VPORT_UPCALL_ATTR_SUCCESS, &5u64.to_ne_bytes()).unwrap();
        w.put(OVS_VPORT_UPCALL_ATTR_FAIL, &1u64.to_ne_bytes()).unwrap();
        w.end_nest(n).unwrap();
        let len = w.len();
        let mut p = vec![1u8, 1, 0, 0];
        p.extend_from_slice(&4i32.to_ne_bytes());
        p.extend_from_slice(&attrs[..len]);
        let info = parse(&p).unwrap();
        assert_eq!(info.port_no, 2);
        assert_eq!(info.port_type, PortType::Netdev);
        assert_eq!(info.name, "veth1");
        assert_eq!(info.upcall_pids, vec![7]);
        assert_eq!(info.stats.unwrap().rx_packets, 1);
        assert_eq!(info.stats.unwrap().tx_dropped, 8);
        assert_eq!(info.ifindex, Some(33));
        assert_eq!(info.upcall_stats, Some((5, 1)));
        assert_eq!(info.dp_ifindex, 4);
    }

    #[test]
    fn reply_missing_port_no_is_rejected() {
        let p = request(OVS_VPORT_CMD_NEW, &VportRequest { name: Some("x"), port_type: Some(PortType::Internal), ..Default::default() }).unwrap();
        assert_eq!(parse(&p), Err(MsgError::Missing("OVS_VPORT_ATTR_PORT_NO")));
    }
}

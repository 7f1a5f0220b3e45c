//! `ovs_datapath` family messages: building `OVS_DP_CMD_*` requests and parsing the datapath
//! descriptions the kernel answers with.

use super::msg::{attr_str, attr_u32, build, cstr, u64s, MsgError, OvsMsg};
use crate::types::{DpInfo, DpStats, MegaflowStats};
use rvs_core::ovs_abi::*;

/// Family version sent in `genlmsghdr.version`.
pub const VERSION: u8 = 2; // OVS_DATAPATH_VERSION

/// What a datapath request carries besides its command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DpRequest<'a> {
    /// `ovs_header.dp_ifindex` (0 when addressing by name).
    pub dp_ifindex: i32,
    /// `OVS_DP_ATTR_NAME`.
    pub name: Option<&'a str>,
    /// `OVS_DP_ATTR_UPCALL_PID` (required by `OVS_DP_CMD_NEW`).
    pub upcall_pid: Option<u32>,
    /// `OVS_DP_ATTR_USER_FEATURES`. Note the kernel resets features to 0 on a SET without it.
    pub user_features: Option<u32>,
    /// `OVS_DP_ATTR_PER_CPU_PIDS`.
    pub per_cpu_pids: Option<&'a [u32]>,
}

/// Builds an `OVS_DP_CMD_*` request payload.
pub fn request(cmd: u16, req: &DpRequest<'_>) -> Result<Vec<u8>, MsgError> {
    let cmd = u8::try_from(cmd).map_err(|_| MsgError::BadPayload("cmd"))?;
    let pids: Vec<u8> = req
        .per_cpu_pids
        .map(|p| p.iter().flat_map(|v| v.to_ne_bytes()).collect())
        .unwrap_or_default();
    build(cmd, VERSION, req.dp_ifindex, 64 + pids.len(), |w| {
        if let Some(name) = req.name {
            w.put(OVS_DP_ATTR_NAME, &cstr(name))?;
        }
        if let Some(pid) = req.upcall_pid {
            w.put_u32(OVS_DP_ATTR_UPCALL_PID, pid)?;
        }
        if let Some(f) = req.user_features {
            w.put_u32(OVS_DP_ATTR_USER_FEATURES, f)?;
        }
        if req.per_cpu_pids.is_some() {
            w.put(OVS_DP_ATTR_PER_CPU_PIDS, &pids)?;
        }
        Ok(())
    })
}

/// Parses a datapath description (reply to NEW/GET/SET, or one dump entry).
pub fn parse(payload: &[u8]) -> Result<DpInfo, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let mut info = DpInfo { dp_ifindex: m.dp_ifindex, ..DpInfo::default() };
    let mut have_name = false;
    for a in m.attrs("datapath")? {
        match a.kind {
            OVS_DP_ATTR_NAME => {
                info.name = attr_str(&a, "OVS_DP_ATTR_NAME")?;
                have_name = true;
            }
            OVS_DP_ATTR_STATS => {
                let [n_hit, n_missed, n_lost, n_flows] = u64s::<4>(a.payload, "OVS_DP_ATTR_STATS")?;
                info.stats = DpStats { n_hit, n_missed, n_lost, n_flows };
            }
            OVS_DP_ATTR_MEGAFLOW_STATS => {
                // { u64 n_mask_hit; u32 n_masks; u32 pad0; u64 n_cache_hit; u64 pad1; }
                let [n_mask_hit, _n_masks_and_pad, n_cache_hit] =
                    u64s::<3>(a.payload, "OVS_DP_ATTR_MEGAFLOW_STATS")?;
                let n_masks = a
                    .payload
                    .get(8..12)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_ne_bytes)
                    .ok_or(MsgError::BadPayload("OVS_DP_ATTR_MEGAFLOW_STATS"))?;
                info.megaflow = Some(MegaflowStats { n_mask_hit, n_masks, n_cache_hit });
            }
            OVS_DP_ATTR_USER_FEATURES => {
                info.user_features = attr_u32(&a, "OVS_DP_ATTR_USER_FEATURES")?;
            }
            OVS_DP_ATTR_MASKS_CACHE_SIZE => {
                info.masks_cache_size = Some(attr_u32(&a, "OVS_DP_ATTR_MASKS_CACHE_SIZE")?);
            }
            OVS_DP_ATTR_PER_CPU_PIDS => {
                info.per_cpu_pids = a
                    .payload
                    .chunks_exact(4)
                    .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
            }
            _ => {}
        }
    }
    if !have_name {
        return Err(MsgError::Missing("OVS_DP_ATTR_NAME"));
    }
    Ok(info)
}

/// Names `OVS_DP_F_*` bits for messages.
pub fn feature_names(f: u32) -> String {
    let names = [
        (OVS_DP_F_UNALIGNED, "unaligned"),
        (OVS_DP_F_VPORT_PIDS, "vport-pids"),
        (OVS_DP_F_TC_RECIRC_SHARING, "tc-recirc-sharing"),
        (OVS_DP_F_DISPATCH_UPCALL_PER_CPU, "per-cpu-dispatch"),
    ];
    let mut out: Vec<String> =
        names.iter().filter(|(b, _)| f & b != 0).map(|(_, n)| (*n).to_string()).collect();
    let known = names.iter().fold(0, |acc, (b, _)| acc | b);
    if f & !known != 0 {
        out.push(format!("{:#x}", f & !known));
    }
    if out.is_empty() {
        "none".into()
    } else {
        out.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::nla::{Attrs, Writer};

    /// A reply shaped like `ovs_dp_cmd_fill_info`'s, including the 64-bit PAD attributes.
    fn kernel_reply() -> Vec<u8> {
        let mut attrs = vec![0u8; 512];
        let mut w = Writer::new(&mut attrs);
        w.put(OVS_DP_ATTR_NAME, b"ovs-system\0").unwrap();
        w.put(OVS_DP_ATTR_PAD, &[]).unwrap();
        let mut st = Vec::new();
        for v in [10u64, 3, 1, 2] {
            st.extend_from_slice(&v.to_ne_bytes());
        }
        w.put(OVS_DP_ATTR_STATS, &st).unwrap();
        let mut mf = Vec::new();
        mf.extend_from_slice(&7u64.to_ne_bytes());
        mf.extend_from_slice(&2u32.to_ne_bytes());
        mf.extend_from_slice(&0u32.to_ne_bytes());
        mf.extend_from_slice(&5u64.to_ne_bytes());
        mf.extend_from_slice(&0u64.to_ne_bytes());
        w.put(OVS_DP_ATTR_MEGAFLOW_STATS, &mf).unwrap();
        w.put_u32(OVS_DP_ATTR_USER_FEATURES, 0xb).unwrap();
        w.put_u32(OVS_DP_ATTR_MASKS_CACHE_SIZE, 256).unwrap();
        w.put(OVS_DP_ATTR_PER_CPU_PIDS, &[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        let n = w.len();
        let mut p = vec![OVS_DP_CMD_NEW as u8, 2, 0, 0];
        p.extend_from_slice(&42i32.to_ne_bytes());
        p.extend_from_slice(&attrs[..n]);
        p
    }

    #[test]
    fn parses_kernel_reply() {
        let info = parse(&kernel_reply()).unwrap();
        assert_eq!(info.name, "ovs-system");
        assert_eq!(info.dp_ifindex, 42);
        assert_eq!(info.stats, DpStats { n_hit: 10, n_missed: 3, n_lost: 1, n_flows: 2 });
        assert_eq!(info.megaflow, Some(MegaflowStats { n_mask_hit: 7, n_masks: 2, n_cache_hit: 5 }));
        assert_eq!(info.user_features, 0xb);
        assert_eq!(info.masks_cache_size, Some(256));
        assert_eq!(info.per_cpu_pids, vec![1, 2]);
    }

    #[test]
    fn reply_without_name_is_rejected() {
        let p = vec![1u8, 2, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&p), Err(MsgError::Missing("OVS_DP_ATTR_NAME")));
    }

    #[test]
    fn new_request_layout_matches_ovs_dpctl() {
        let feats = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS;
        let p = request(
            OVS_DP_CMD_NEW,
            &DpRequest { name: Some("br0"), upcall_pid: Some(0), user_features: Some(feats), ..Default::default() },
        )
        .unwrap();
        // genlmsghdr {cmd 1, version 2}, ovs_header {0}, NAME "br0\0", UPCALL_PID 0, FEATURES 3
        let expect: Vec<u8> = [
            &[1u8, 2, 0, 0, 0, 0, 0, 0][..],
            &[8, 0, 1, 0, b'b', b'r', b'0', 0],
            &[8, 0, 2, 0, 0, 0, 0, 0],
            &[8, 0, 5, 0, 3, 0, 0, 0],
        ]
        .concat();
        assert_eq!(p, expect);
    }

    #[test]
    fn set_request_carries_per_cpu_pids() {
        let pids = [11u32, 12, 11, 12];
        let p = request(
            OVS_DP_CMD_SET,
            &DpRequest { dp_ifindex: 5, user_features: Some(0xb), per_cpu_pids: Some(&pids), ..Default::default() },
        )
        .unwrap();
        let m = OvsMsg::parse(&p).unwrap();
        assert_eq!((m.cmd, m.dp_ifindex), (OVS_DP_CMD_SET as u8, 5));
        let attrs: Vec<_> = Attrs::new(m.attrs).map(|a| a.unwrap()).collect();
        assert_eq!(attrs[1].kind, OVS_DP_ATTR_PER_CPU_PIDS);
        assert_eq!(attrs[1].payload.len(), 16);
        assert_eq!(&attrs[1].payload[4..8], &12u32.to_ne_bytes());
    }

    #[test]
    fn feature_names_are_readable() {
        assert_eq!(feature_names(0), "none");
        assert_eq!(feature_names(0xb), "unaligned,vport-pids,per-cpu-dispatch");
        assert_eq!(feature_names(0x13), "unaligned,vport-pids,0x10");
    }
}

//! `OVS_DP_ATTR_*`: the attributes of `OVS_DP_CMD_*` messages, parsed into a borrowing
//! [`DpAttrs`] and emitted in upstream reply order.

use crate::nla::Writer;
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::msg;
use super::policy::{self, AttrPolicy, Len};

/// Policy of `OVS_DP_ATTR_*` (upstream `datapath_policy`, plus the reply-only stats).
pub static DP_POLICY: [AttrPolicy; 10] = [
    AttrPolicy::invalid("OVS_DP_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_DP_ATTR_NAME", Len::NulString(super::vport_nl::IFNAMSIZ_MAX)),
    AttrPolicy::new("OVS_DP_ATTR_UPCALL_PID", Len::Exact(4)),
    AttrPolicy::new("OVS_DP_ATTR_STATS", Len::Exact(32)),
    AttrPolicy::new("OVS_DP_ATTR_MEGAFLOW_STATS", Len::Exact(32)),
    AttrPolicy::new("OVS_DP_ATTR_USER_FEATURES", Len::Exact(4)),
    AttrPolicy::new("OVS_DP_ATTR_PAD", Len::Pad),
    AttrPolicy::new("OVS_DP_ATTR_MASKS_CACHE_SIZE", Len::Exact(4)),
    AttrPolicy::new("OVS_DP_ATTR_PER_CPU_PIDS", Len::U32Array),
    AttrPolicy::new("OVS_DP_ATTR_IFINDEX", Len::Exact(4)),
];

/// `struct ovs_dp_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DpStats {
    /// Packets that matched a flow.
    pub n_hit: u64,
    /// Packets that missed.
    pub n_missed: u64,
    /// Packets lost before reaching userspace.
    pub n_lost: u64,
    /// Installed flows.
    pub n_flows: u64,
}

/// `struct ovs_dp_megaflow_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MegaflowStats {
    /// Masks visited per packet, summed.
    pub n_mask_hit: u64,
    /// Number of masks.
    pub n_masks: u32,
    /// Mask cache hits.
    pub n_cache_hit: u64,
}

impl MegaflowStats {
    fn from_bytes(p: &[u8]) -> Self {
        let [n_mask_hit, masks, n_cache_hit, _] = msg::u64s::<4>(p);
        let n_masks = p.get(8..12).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes).unwrap_or(0);
        let _ = masks;
        Self { n_mask_hit, n_masks, n_cache_hit }
    }

    fn to_bytes(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&self.n_mask_hit.to_ne_bytes());
        b[8..12].copy_from_slice(&self.n_masks.to_ne_bytes());
        b[16..24].copy_from_slice(&self.n_cache_hit.to_ne_bytes());
        b
    }
}

/// The attributes of a datapath message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DpAttrs<'a> {
    /// Datapath (local port) name.
    pub name: Option<&'a str>,
    /// Upcall PID for the local port.
    pub upcall_pid: Option<u32>,
    /// Packet counters.
    pub stats: Option<DpStats>,
    /// Megaflow mask counters.
    pub megaflow_stats: Option<MegaflowStats>,
    /// `OVS_DP_F_*`.
    pub user_features: Option<u32>,
    /// Size of the per-CPU mask cache.
    pub masks_cache_size: Option<u32>,
    /// Per-CPU upcall PIDs (host-order `u32` array; iterate with [`policy::u32s`]).
    pub per_cpu_pids: Option<&'a [u8]>,
    /// Interface index for the new datapath's netdev.
    pub ifindex: Option<i32>,
}

impl<'a> DpAttrs<'a> {
    /// Parses and validates the attributes following the `ovs_header`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, CodecError> {
        let p = policy::parse(buf, "OVS_DP_ATTR", &DP_POLICY)?;
        let ifindex = p.i32(OVS_DP_ATTR_IFINDEX);
        if ifindex.is_some_and(|i| i < 0) {
            return Err(CodecError::new("OVS_DP_ATTR_IFINDEX", ErrorKind::BadValue));
        }
        let name = match p.get(OVS_DP_ATTR_NAME) {
            Some(_) => Some(p.str(OVS_DP_ATTR_NAME).ok_or(CodecError::new("OVS_DP_ATTR_NAME", ErrorKind::BadString))?),
            None => None,
        };
        Ok(Self {
            name,
            upcall_pid: p.u32(OVS_DP_ATTR_UPCALL_PID),
            stats: p.get(OVS_DP_ATTR_STATS).map(|b| {
                let [n_hit, n_missed, n_lost, n_flows] = msg::u64s::<4>(b);
                DpStats { n_hit, n_missed, n_lost, n_flows }
            }),
            megaflow_stats: p.get(OVS_DP_ATTR_MEGAFLOW_STATS).map(MegaflowStats::from_bytes),
            user_features: p.u32(OVS_DP_ATTR_USER_FEATURES),
            masks_cache_size: p.u32(OVS_DP_ATTR_MASKS_CACHE_SIZE),
            per_cpu_pids: p.get(OVS_DP_ATTR_PER_CPU_PIDS),
            ifindex,
        })
    }

    /// Emits in upstream reply order (NAME, STATS, MEGAFLOW_STATS, USER_FEATURES,
    /// MASKS_CACHE_SIZE, PER_CPU_PIDS), then the request-only UPCALL_PID and IFINDEX.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        if let Some(n) = self.name {
            msg::put_str(w, "OVS_DP_ATTR_NAME", OVS_DP_ATTR_NAME, n)?;
        }
        if let Some(s) = self.stats {
            msg::put_u64s(w, "OVS_DP_ATTR_STATS", OVS_DP_ATTR_STATS, [s.n_hit, s.n_missed, s.n_lost, s.n_flows])?;
        }
        if let Some(m) = self.megaflow_stats {
            msg::put(w, "OVS_DP_ATTR_MEGAFLOW_STATS", OVS_DP_ATTR_MEGAFLOW_STATS, &m.to_bytes())?;
        }
        if let Some(v) = self.user_features {
            msg::put_u32(w, "OVS_DP_ATTR_USER_FEATURES", OVS_DP_ATTR_USER_FEATURES, v)?;
        }
        if let Some(v) = self.masks_cache_size {
            msg::put_u32(w, "OVS_DP_ATTR_MASKS_CACHE_SIZE", OVS_DP_ATTR_MASKS_CACHE_SIZE, v)?;
        }
        if let Some(p) = self.per_cpu_pids {
            msg::put(w, "OVS_DP_ATTR_PER_CPU_PIDS", OVS_DP_ATTR_PER_CPU_PIDS, p)?;
        }
        if let Some(v) = self.upcall_pid {
            msg::put_u32(w, "OVS_DP_ATTR_UPCALL_PID", OVS_DP_ATTR_UPCALL_PID, v)?;
        }
        if let Some(v) = self.ifindex {
            msg::put(w, "OVS_DP_ATTR_IFINDEX", OVS_DP_ATTR_IFINDEX, &v.to_ne_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::{attr, u32a, written};

    #[test]
    fn dp_round_trip() {
        let stats: std::vec::Vec<u8> = [1u64, 2, 3, 4].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let mega = MegaflowStats { n_mask_hit: 10, n_masks: 3, n_cache_hit: 7 }.to_bytes();
        let pids: std::vec::Vec<u8> = [5u32, 6].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let wire = [
            attr(OVS_DP_ATTR_NAME, b"ovs-system\0"),
            attr(OVS_DP_ATTR_STATS, &stats),
            attr(OVS_DP_ATTR_MEGAFLOW_STATS, &mega),
            u32a(OVS_DP_ATTR_USER_FEATURES, OVS_DP_F_UNALIGNED | OVS_DP_F_DISPATCH_UPCALL_PER_CPU),
            u32a(OVS_DP_ATTR_MASKS_CACHE_SIZE, 256),
            attr(OVS_DP_ATTR_PER_CPU_PIDS, &pids),
            u32a(OVS_DP_ATTR_UPCALL_PID, 9),
            attr(OVS_DP_ATTR_IFINDEX, &3i32.to_ne_bytes()),
        ]
        .concat();
        let d = DpAttrs::parse(&wire).unwrap();
        assert_eq!(d.name, Some("ovs-system"));
        assert_eq!(d.stats, Some(DpStats { n_hit: 1, n_missed: 2, n_lost: 3, n_flows: 4 }));
        assert_eq!(d.megaflow_stats.unwrap().n_masks, 3);
        assert_eq!(policy::u32s(d.per_cpu_pids.unwrap()).collect::<std::vec::Vec<_>>(), [5, 6]);
        assert_eq!(written(|w| d.emit(w).unwrap()), wire);
    }

    #[test]
    fn dp_errors() {
        assert_eq!(
            DpAttrs::parse(&attr(OVS_DP_ATTR_USER_FEATURES, &[0; 2])).unwrap_err(),
            CodecError::new("OVS_DP_ATTR_USER_FEATURES", ErrorKind::BadLength { got: 2, want: 4 })
        );
        assert_eq!(DpAttrs::parse(&attr(OVS_DP_ATTR_PER_CPU_PIDS, &[])).unwrap_err().kind, ErrorKind::TooShort { got: 0, min: 4 });
        assert_eq!(DpAttrs::parse(&attr(10, &[])).unwrap_err(), CodecError::new("OVS_DP_ATTR", ErrorKind::Unknown { ty: 10 }));
        assert_eq!(DpAttrs::parse(&attr(OVS_DP_ATTR_IFINDEX, &(-1i32).to_ne_bytes())).unwrap_err().kind, ErrorKind::BadValue);
    }
}

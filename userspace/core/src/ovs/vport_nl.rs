//! `OVS_VPORT_ATTR_*`: the attributes of `OVS_VPORT_CMD_*` messages, parsed into a borrowing
//! [`VportAttrs`] and emitted in upstream reply order; plus the tunnel port options
//! (`OVS_TUNNEL_ATTR_*`) nested in `OVS_VPORT_ATTR_OPTIONS`.

use crate::nla::Writer;
use crate::ovs_abi::*;

use super::error::CodecError;
use super::msg;
use super::policy::{self, AttrPolicy, Len};

/// `IFNAMSIZ - 1`: longest interface name.
pub const IFNAMSIZ_MAX: usize = 15;

/// Policy of `OVS_VPORT_ATTR_*` (upstream `vport_policy`).
pub static VPORT_POLICY: [AttrPolicy; 11] = [
    AttrPolicy::invalid("OVS_VPORT_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_VPORT_ATTR_PORT_NO", Len::Exact(4)),
    AttrPolicy::new("OVS_VPORT_ATTR_TYPE", Len::Exact(4)),
    AttrPolicy::new("OVS_VPORT_ATTR_NAME", Len::NulString(IFNAMSIZ_MAX)),
    AttrPolicy::new("OVS_VPORT_ATTR_OPTIONS", Len::Nested),
    AttrPolicy::new("OVS_VPORT_ATTR_UPCALL_PID", Len::U32Array),
    AttrPolicy::new("OVS_VPORT_ATTR_STATS", Len::Exact(64)),
    AttrPolicy::new("OVS_VPORT_ATTR_PAD", Len::Pad),
    AttrPolicy::new("OVS_VPORT_ATTR_IFINDEX", Len::Exact(4)),
    AttrPolicy::new("OVS_VPORT_ATTR_NETNSID", Len::Exact(4)),
    AttrPolicy::new("OVS_VPORT_ATTR_UPCALL_STATS", Len::Nested),
];

/// Policy of `OVS_VPORT_UPCALL_ATTR_*` (note: `SUCCESS` is type 0).
///
/// Upstream `ovs_vport_get_upcall_stats` writes the counters with `nla_put_u64_64bit(..,
/// OVS_VPORT_ATTR_PAD)`: on architectures without efficient unaligned access (UML among them) the
/// nest therefore holds padding attributes of the *outer* set's pad type, 7, which are skipped.
pub static UPCALL_STATS_POLICY: [AttrPolicy; 8] = [
    AttrPolicy::new("OVS_VPORT_UPCALL_ATTR_SUCCESS", Len::Exact(8)),
    AttrPolicy::new("OVS_VPORT_UPCALL_ATTR_FAIL", Len::Exact(8)),
    AttrPolicy::invalid("OVS_VPORT_UPCALL_ATTR"),
    AttrPolicy::invalid("OVS_VPORT_UPCALL_ATTR"),
    AttrPolicy::invalid("OVS_VPORT_UPCALL_ATTR"),
    AttrPolicy::invalid("OVS_VPORT_UPCALL_ATTR"),
    AttrPolicy::invalid("OVS_VPORT_UPCALL_ATTR"),
    AttrPolicy::new("OVS_VPORT_ATTR_PAD", Len::Pad),
];

/// Policy of `OVS_TUNNEL_ATTR_*` (tunnel vport options).
pub static TUNNEL_OPTIONS_POLICY: [AttrPolicy; 3] = [
    AttrPolicy::invalid("OVS_TUNNEL_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_TUNNEL_ATTR_DST_PORT", Len::Exact(2)),
    AttrPolicy::unsupported("OVS_TUNNEL_ATTR_EXTENSION", Len::Nested),
];

/// `struct ovs_vport_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VportStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
}

impl VportStats {
    fn from_bytes(p: &[u8]) -> Self {
        let [rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped] =
            msg::u64s::<8>(p);
        Self { rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped }
    }

    fn to_array(self) -> [u64; 8] {
        [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_errors,
            self.tx_errors,
            self.rx_dropped,
            self.tx_dropped,
        ]
    }
}

/// Upcall counters (`OVS_VPORT_ATTR_UPCALL_STATS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpcallStats {
    /// Upcalls delivered.
    pub success: u64,
    /// Upcalls that failed.
    pub fail: u64,
}

/// The attributes of a vport message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VportAttrs<'a> {
    /// Datapath port number.
    pub port_no: Option<u32>,
    /// `OVS_VPORT_TYPE_*`.
    pub ty: Option<u32>,
    /// Interface name.
    pub name: Option<&'a str>,
    /// Nested type-specific options (raw; see [`tunnel_dst_port`]).
    pub options: Option<&'a [u8]>,
    /// Upcall PIDs (array of host-order `u32`; iterate with [`policy::u32s`]).
    pub upcall_pids: Option<&'a [u8]>,
    /// Counters.
    pub stats: Option<VportStats>,
    /// Interface index for a new internal port.
    pub ifindex: Option<i32>,
    /// Network namespace ID of the port's netdev.
    pub netnsid: Option<i32>,
    /// Upcall counters.
    pub upcall_stats: Option<UpcallStats>,
}

impl<'a> VportAttrs<'a> {
    /// Parses and validates the attributes following the `ovs_header`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, CodecError> {
        let p = policy::parse(buf, "OVS_VPORT_ATTR", &VPORT_POLICY)?;
        let bad = |n| CodecError::new(n, super::ErrorKind::BadValue);
        let ifindex = p.i32(OVS_VPORT_ATTR_IFINDEX);
        if ifindex.is_some_and(|i| i < 0) {
            return Err(bad("OVS_VPORT_ATTR_IFINDEX"));
        }
        let name = match p.get(OVS_VPORT_ATTR_NAME) {
            Some(_) => Some(p.str(OVS_VPORT_ATTR_NAME).ok_or(CodecError::new(
                "OVS_VPORT_ATTR_NAME",
                super::ErrorKind::BadString,
            ))?),
            None => None,
        };
        let upcall_stats = match p.get(OVS_VPORT_ATTR_UPCALL_STATS) {
            Some(n) => {
                let u = policy::parse(n, "OVS_VPORT_UPCALL_ATTR", &UPCALL_STATS_POLICY)?;
                Some(UpcallStats {
                    success: u.u64(OVS_VPORT_UPCALL_ATTR_SUCCESS).unwrap_or(0),
                    fail: u.u64(OVS_VPORT_UPCALL_ATTR_FAIL).unwrap_or(0),
                })
            }
            None => None,
        };
        Ok(Self {
            port_no: p.u32(OVS_VPORT_ATTR_PORT_NO),
            ty: p.u32(OVS_VPORT_ATTR_TYPE),
            name,
            options: p.get(OVS_VPORT_ATTR_OPTIONS),
            upcall_pids: p.get(OVS_VPORT_ATTR_UPCALL_PID),
            stats: p.get(OVS_VPORT_ATTR_STATS).map(VportStats::from_bytes),
            ifindex,
            netnsid: p.i32(OVS_VPORT_ATTR_NETNSID),
            upcall_stats,
        })
    }

    /// Emits in upstream reply order (PORT_NO, TYPE, NAME, UPCALL_STATS, UPCALL_PID, STATS,
    /// NETNSID, OPTIONS), then IFINDEX.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        if let Some(v) = self.port_no {
            msg::put_u32(w, "OVS_VPORT_ATTR_PORT_NO", OVS_VPORT_ATTR_PORT_NO, v)?;
        }
        if let Some(v) = self.ty {
            msg::put_u32(w, "OVS_VPORT_ATTR_TYPE", OVS_VPORT_ATTR_TYPE, v)?;
        }
        if let Some(n) = self.name {
            msg::put_str(w, "OVS_VPORT_ATTR_NAME", OVS_VPORT_ATTR_NAME, n)?;
        }
        if let Some(u) = self.upcall_stats {
            let e = |e| CodecError::from_nla("OVS_VPORT_ATTR_UPCALL_STATS", e);
            let n = w.begin_nest_noflag(OVS_VPORT_ATTR_UPCALL_STATS).map_err(e)?;
            msg::put(w, "OVS_VPORT_UPCALL_ATTR_SUCCESS", OVS_VPORT_UPCALL_ATTR_SUCCESS, &u.success.to_ne_bytes())?;
            msg::put(w, "OVS_VPORT_UPCALL_ATTR_FAIL", OVS_VPORT_UPCALL_ATTR_FAIL, &u.fail.to_ne_bytes())?;
            w.end_nest(n).map_err(e)?;
        }
        if let Some(p) = self.upcall_pids {
            msg::put(w, "OVS_VPORT_ATTR_UPCALL_PID", OVS_VPORT_ATTR_UPCALL_PID, p)?;
        }
        if let Some(s) = self.stats {
            msg::put_u64s(w, "OVS_VPORT_ATTR_STATS", OVS_VPORT_ATTR_STATS, s.to_array())?;
        }
        if let Some(v) = self.netnsid {
            msg::put(w, "OVS_VPORT_ATTR_NETNSID", OVS_VPORT_ATTR_NETNSID, &v.to_ne_bytes())?;
        }
        if let Some(o) = self.options {
            msg::put(w, "OVS_VPORT_ATTR_OPTIONS", OVS_VPORT_ATTR_OPTIONS, o)?;
        }
        if let Some(v) = self.ifindex {
            msg::put(w, "OVS_VPORT_ATTR_IFINDEX", OVS_VPORT_ATTR_IFINDEX, &v.to_ne_bytes())?;
        }
        Ok(())
    }
}

/// The UDP destination port of a tunnel vport's options (`OVS_TUNNEL_ATTR_DST_PORT`, host order
/// `u16`), if given.
pub fn tunnel_dst_port(options: &[u8]) -> Result<Option<u16>, CodecError> {
    let p = policy::parse(options, "OVS_TUNNEL_ATTR", &TUNNEL_OPTIONS_POLICY)?;
    Ok(p.u16(OVS_TUNNEL_ATTR_DST_PORT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::{attr, nest, u32a, written};
    use crate::ovs::ErrorKind;

    #[test]
    fn vport_round_trip() {
        let stats: std::vec::Vec<u8> = (1..=8u64).flat_map(u64::to_ne_bytes).collect();
        let wire = [
            u32a(OVS_VPORT_ATTR_PORT_NO, 3),
            u32a(OVS_VPORT_ATTR_TYPE, u32::from(OVS_VPORT_TYPE_VXLAN)),
            attr(OVS_VPORT_ATTR_NAME, b"vxlan_sys_4789\0"),
            nest(OVS_VPORT_ATTR_UPCALL_STATS, &[attr(0, &9u64.to_ne_bytes()), attr(1, &1u64.to_ne_bytes())]),
            [u32a(OVS_VPORT_ATTR_UPCALL_PID, 100)[..4].to_vec(), 100u32.to_ne_bytes().to_vec()].concat(),
            attr(OVS_VPORT_ATTR_STATS, &stats),
            attr(OVS_VPORT_ATTR_NETNSID, &(-1i32).to_ne_bytes()),
            nest(OVS_VPORT_ATTR_OPTIONS, &[attr(OVS_TUNNEL_ATTR_DST_PORT, &4789u16.to_ne_bytes())]),
            attr(OVS_VPORT_ATTR_IFINDEX, &7i32.to_ne_bytes()),
        ]
        .concat();
        let v = VportAttrs::parse(&wire).unwrap();
        assert_eq!(v.port_no, Some(3));
        assert_eq!(v.name, Some("vxlan_sys_4789"));
        assert_eq!(v.upcall_stats, Some(UpcallStats { success: 9, fail: 1 }));
        assert_eq!(v.stats.unwrap().tx_dropped, 8);
        assert_eq!(policy::u32s(v.upcall_pids.unwrap()).collect::<std::vec::Vec<_>>(), [100]);
        assert_eq!((v.netnsid, v.ifindex), (Some(-1), Some(7)));
        assert_eq!(tunnel_dst_port(v.options.unwrap()).unwrap(), Some(4789));
        assert_eq!(written(|w| v.emit(w).unwrap()), wire);
    }

    /// As `ovs_vport_get_upcall_stats` emits the nest where 64-bit values need aligning: each
    /// counter preceded by an empty `OVS_VPORT_ATTR_PAD` (type 7).
    #[test]
    fn upcall_stats_with_64bit_padding() {
        let wire = nest(
            OVS_VPORT_ATTR_UPCALL_STATS,
            &[
                attr(OVS_VPORT_ATTR_PAD, &[]),
                attr(OVS_VPORT_UPCALL_ATTR_SUCCESS, &5u64.to_ne_bytes()),
                attr(OVS_VPORT_ATTR_PAD, &[]),
                attr(OVS_VPORT_UPCALL_ATTR_FAIL, &2u64.to_ne_bytes()),
            ],
        );
        let v = VportAttrs::parse(&wire).unwrap();
        assert_eq!(v.upcall_stats, Some(UpcallStats { success: 5, fail: 2 }));
    }

    #[test]
    fn vport_errors() {
        assert_eq!(
            VportAttrs::parse(&attr(OVS_VPORT_ATTR_NAME, b"0123456789abcdef\0")).unwrap_err(),
            CodecError::new("OVS_VPORT_ATTR_NAME", ErrorKind::TooLong { got: 16, max: 15 })
        );
        assert_eq!(VportAttrs::parse(&attr(OVS_VPORT_ATTR_NAME, b"eth0")).unwrap_err().kind, ErrorKind::BadString);
        assert_eq!(
            VportAttrs::parse(&attr(OVS_VPORT_ATTR_IFINDEX, &(-2i32).to_ne_bytes())).unwrap_err(),
            CodecError::new("OVS_VPORT_ATTR_IFINDEX", ErrorKind::BadValue)
        );
        assert_eq!(VportAttrs::parse(&attr(OVS_VPORT_ATTR_UPCALL_PID, &[0; 6])).unwrap_err().kind, ErrorKind::BadLength { got: 6, want: 8 });
        assert_eq!(
            VportAttrs::parse(&nest(OVS_VPORT_ATTR_UPCALL_STATS, &[attr(2, &[])])).unwrap_err().kind,
            ErrorKind::Unknown { ty: 2 }
        );
        assert_eq!(
            VportAttrs::parse(&nest(OVS_VPORT_ATTR_UPCALL_STATS, &[attr(6, &[])])).unwrap_err().kind,
            ErrorKind::Unknown { ty: 6 }
        );
        assert_eq!(
            tunnel_dst_port(&nest(OVS_TUNNEL_ATTR_EXTENSION, &[])).unwrap_err(),
            CodecError::new("OVS_TUNNEL_ATTR_EXTENSION", ErrorKind::Unsupported)
        );
    }
}

//! `OVS_KEY_ATTR_*` ↔ [`FlowKey`]: flow keys and masks as the upstream datapath parses and emits
//! them (`net/openvswitch/flow_netlink.c`: `ovs_nla_get_match`, `ovs_nla_put_key`).
//!
//! Byte order: `PRIORITY`, `IN_PORT`, `SKB_MARK`, `RECIRC_ID` and `DP_HASH` are host-order `u32`s;
//! every struct payload (`struct ovs_key_ipv4` ...) and the 16-bit `VLAN`/`ETHERTYPE`/`TCP_FLAGS`
//! carry network-order values, copied verbatim into the big-endian key.
//!
//! Upstream semantics kept: a key without `IN_PORT` has in_port [`DP_MAX_PORTS`]; a key with
//! Ethernet but no `ETHERTYPE` is an 802.2 frame ([`ETH_TYPE_802_2`]); VLANs nest up to two tags
//! through `ENCAP`; a mask always matches VLAN TCIs exactly unless it says otherwise; `IN_PORT`
//! and `ETHERTYPE` in a mask mean exact match; all-zero mask attributes are ignored; an absent mask
//! means exact match on what the key specifies ([`exact_mask`]); `match_validate` checks that
//! L3/L4 attributes agree with the ethertype and protocol. Attributes rvs does not implement
//! (conntrack, MPLS, NSH, packet type...) fail with [`ErrorKind::Unsupported`] naming the
//! attribute, which is how ovs-vswitchd probes features.
//!
//! `OVS_KEY_ATTR_IPV6_EXTHDRS` (Linux 5.18+, `struct ovs_key_ipv6_exthdrs`: one host-order `u16`)
//! is the `IPV6_EXTHDRS` key field. As upstream it is accepted in any key (no prerequisite), a
//! mask may carry it whenever the key does, and it is emitted right after `OVS_KEY_ATTR_IPV6` in
//! every IPv6 key and mask.
//!
//! Known deviation: a truncated VLAN header (TCI 0, empty `ENCAP`) decodes with the ethertype set
//! to the TPID, as the packet parser produces it, instead of 802.2.

use crate::key::{field, FlowKey, VLAN_CFI};
use crate::nla::Attrs;
use crate::ovs_abi::*;
use crate::wire::ethernet::ether_type;

use super::error::{CodecError, ErrorKind};
use super::policy::{lookup, AttrPolicy, Len};
use super::tunnel_nl;

/// "No port" value of the in_port field (upstream `DP_MAX_PORTS`).
pub const DP_MAX_PORTS: u32 = 65535;
/// Key ethertype of 802.2 (LLC) frames, which carry no `OVS_KEY_ATTR_ETHERTYPE` on the wire.
pub const ETH_TYPE_802_2: u16 = ether_type::LLC_802_2;
/// Smallest valid Ethernet II type.
pub const ETH_P_802_3_MIN: u16 = ether_type::MIN_802_3;
/// IPv4 ethertype.
pub const ETH_P_IP: u16 = ether_type::IPV4;
/// ARP ethertype.
pub const ETH_P_ARP: u16 = ether_type::ARP;
/// RARP ethertype.
pub const ETH_P_RARP: u16 = ether_type::RARP;
/// IPv6 ethertype.
pub const ETH_P_IPV6: u16 = ether_type::IPV6;
/// 802.1Q TPID.
pub const ETH_P_8021Q: u16 = ether_type::VLAN_8021Q;
/// 802.1ad TPID.
pub const ETH_P_8021AD: u16 = ether_type::VLAN_8021AD;
/// IP protocol numbers used by the key rules (the [`crate::wire::ip_proto`] values).
pub mod ipproto {
    pub use crate::wire::ip_proto::{ICMP, ICMPV6, SCTP, TCP, UDP};
}
/// ICMPv6 Neighbor Solicitation type.
pub const NDISC_NEIGHBOUR_SOLICITATION: u16 = 135;
/// ICMPv6 Neighbor Advertisement type.
pub const NDISC_NEIGHBOUR_ADVERTISEMENT: u16 = 136;

/// Highest `OVS_KEY_ATTR_*` type number.
pub const KEY_ATTR_MAX: u16 = 32;
const SET: &str = "OVS_KEY_ATTR";

/// Policy of `OVS_KEY_ATTR_*` (upstream `ovs_key_lens`, plus what rvs implements).
pub static KEY_POLICY: [AttrPolicy; 33] = [
    AttrPolicy::invalid("OVS_KEY_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_KEY_ATTR_ENCAP", Len::Nested),
    AttrPolicy::new("OVS_KEY_ATTR_PRIORITY", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_IN_PORT", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_ETHERNET", Len::Exact(12)),
    AttrPolicy::new("OVS_KEY_ATTR_VLAN", Len::Exact(2)),
    AttrPolicy::new("OVS_KEY_ATTR_ETHERTYPE", Len::Exact(2)),
    AttrPolicy::new("OVS_KEY_ATTR_IPV4", Len::Exact(12)),
    AttrPolicy::new("OVS_KEY_ATTR_IPV6", Len::Exact(40)),
    AttrPolicy::new("OVS_KEY_ATTR_TCP", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_UDP", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_ICMP", Len::Exact(2)),
    AttrPolicy::new("OVS_KEY_ATTR_ICMPV6", Len::Exact(2)),
    AttrPolicy::new("OVS_KEY_ATTR_ARP", Len::Exact(24)),
    AttrPolicy::new("OVS_KEY_ATTR_ND", Len::Exact(28)),
    AttrPolicy::new("OVS_KEY_ATTR_SKB_MARK", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_TUNNEL", Len::Nested),
    AttrPolicy::new("OVS_KEY_ATTR_SCTP", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_TCP_FLAGS", Len::Exact(2)),
    AttrPolicy::new("OVS_KEY_ATTR_DP_HASH", Len::Exact(4)),
    AttrPolicy::new("OVS_KEY_ATTR_RECIRC_ID", Len::Exact(4)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_MPLS", Len::Any),
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_STATE", Len::Exact(4)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_ZONE", Len::Exact(2)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_MARK", Len::Exact(4)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_LABELS", Len::Exact(16)),
    // sizeof(struct ovs_key_ct_tuple_ipv4/6): 13 and 37 bytes of fields, padded to 4-byte alignment.
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4", Len::Exact(16)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6", Len::Exact(40)),
    AttrPolicy::unsupported("OVS_KEY_ATTR_NSH", Len::Nested),
    AttrPolicy::unsupported("OVS_KEY_ATTR_PACKET_TYPE", Len::Any),
    AttrPolicy::unsupported("OVS_KEY_ATTR_ND_EXTENSIONS", Len::Any),
    AttrPolicy::unsupported("OVS_KEY_ATTR_TUNNEL_INFO", Len::Any),
    AttrPolicy::new("OVS_KEY_ATTR_IPV6_EXTHDRS", Len::Exact(2)),
];

/// Upstream name of key attribute `ty`.
#[must_use]
pub fn key_attr_name(ty: u16) -> &'static str {
    lookup(SET, &KEY_POLICY, ty).name
}

const fn bit(ty: u16) -> u64 {
    1u64 << (ty & 63)
}

fn err(ty: u16, kind: ErrorKind) -> CodecError {
    CodecError::new(key_attr_name(ty), kind)
}

/// Whether `t` is a VLAN TPID (802.1Q or 802.1ad).
#[must_use]
pub fn eth_type_vlan(t: u16) -> bool {
    crate::wire::vlan::is_vlan_tpid(t)
}

fn be16(p: &[u8]) -> u16 {
    p.try_into().map(u16::from_be_bytes).unwrap_or(0)
}

fn ne32(p: &[u8]) -> u32 {
    p.try_into().map(u32::from_ne_bytes).unwrap_or(0)
}

fn ne16(p: &[u8]) -> u16 {
    p.try_into().map(u16::from_ne_bytes).unwrap_or(0)
}

/// Attribute payloads gathered over the levels of `ENCAP` nesting, with the upstream presence
/// bitmap (a bit is cleared once its attribute has been consumed by a VLAN level).
struct Slots<'a> {
    a: [&'a [u8]; 33],
    present: u64,
    /// Read every leaf payload as `0xff` bytes (upstream `mask_set_nlattr(.., 0xff)`).
    ones: bool,
}

impl<'a> Slots<'a> {
    fn new() -> Self {
        Self { a: [&[]; 33], present: 0, ones: false }
    }

    fn has(&self, ty: u16) -> bool {
        self.present & bit(ty) != 0
    }

    fn get(&self, ty: u16) -> &'a [u8] {
        self.a.get(usize::from(ty)).copied().unwrap_or(&[])
    }

    /// Upstream `__parse_flow_nlattrs`; `nz` (masks) skips all-zero attributes.
    fn collect(&mut self, buf: &'a [u8], nz: bool) -> Result<(), CodecError> {
        for a in Attrs::new(buf) {
            let a = a.map_err(|e| CodecError::from_nla(SET, e))?;
            let ty = a.kind;
            if ty > KEY_ATTR_MAX {
                return Err(CodecError::new(SET, ErrorKind::Unknown { ty }));
            }
            if self.has(ty) {
                return Err(err(ty, ErrorKind::Duplicate));
            }
            let pol = lookup(SET, &KEY_POLICY, ty);
            let payload = if self.ones && ty != OVS_KEY_ATTR_ENCAP && ty != OVS_KEY_ATTR_TUNNEL {
                ONES.get(..a.payload.len()).unwrap_or(a.payload)
            } else {
                a.payload
            };
            let zero = payload.iter().all(|&b| b == 0);
            // ENCAP is structure, not a value: never skipped (see `vlan_level`).
            if nz && zero && ty != OVS_KEY_ATTR_ENCAP {
                // Still length-checked, as upstream.
                if let Err(e) = pol.check(ty, a.payload) {
                    if e.kind != ErrorKind::Unsupported {
                        return Err(e);
                    }
                }
                continue;
            }
            pol.check(ty, a.payload)?;
            self.present |= bit(ty);
            if let Some(s) = self.a.get_mut(usize::from(ty)) {
                *s = payload;
            }
        }
        Ok(())
    }
}

/// Writes the fields carried by one leaf key attribute into `out` (no validation). Used for keys,
/// masks and `set` actions alike. Returns `false` for types it does not handle.
pub(crate) fn apply_leaf(ty: u16, p: &[u8], out: &mut FlowKey) -> bool {
    let g = |r: core::ops::Range<usize>| p.get(r).unwrap_or(&[]);
    let byte = |i: usize| p.get(i).copied().unwrap_or(0);
    match ty {
        OVS_KEY_ATTR_PRIORITY => out.set_priority(ne32(p)),
        OVS_KEY_ATTR_IN_PORT => out.set_in_port(ne32(p)),
        OVS_KEY_ATTR_SKB_MARK => out.set_skb_mark(ne32(p)),
        OVS_KEY_ATTR_DP_HASH => out.set_dp_hash(ne32(p)),
        OVS_KEY_ATTR_RECIRC_ID => out.set_recirc_id(ne32(p)),
        OVS_KEY_ATTR_ETHERNET => {
            out.set_bytes(field::ETH_SRC, g(0..6));
            out.set_bytes(field::ETH_DST, g(6..12));
        }
        OVS_KEY_ATTR_IPV4 => {
            out.set_bytes(field::IPV4_SRC, g(0..4));
            out.set_bytes(field::IPV4_DST, g(4..8));
            out.set_ip_proto(byte(8));
            out.set_ip_tos(byte(9));
            out.set_ip_ttl(byte(10));
            out.set_ip_frag(byte(11));
        }
        OVS_KEY_ATTR_IPV6 => {
            out.set_bytes(field::IPV6_SRC, g(0..16));
            out.set_bytes(field::IPV6_DST, g(16..32));
            out.set_bytes(field::IPV6_LABEL, g(32..36));
            out.set_ip_proto(byte(36));
            out.set_ip_tos(byte(37));
            out.set_ip_ttl(byte(38));
            out.set_ip_frag(byte(39));
        }
        // Host order on the wire (`__u16 hdrs`), big-endian in the key like every field.
        OVS_KEY_ATTR_IPV6_EXTHDRS => out.set_ipv6_exthdrs(ne16(p)),
        OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP | OVS_KEY_ATTR_SCTP => {
            out.set_bytes(field::TP_SRC, g(0..2));
            out.set_bytes(field::TP_DST, g(2..4));
        }
        OVS_KEY_ATTR_TCP_FLAGS => out.set_bytes(field::TCP_FLAGS, g(0..2)),
        OVS_KEY_ATTR_ICMP | OVS_KEY_ATTR_ICMPV6 => {
            out.set_tp_src(u16::from(byte(0)));
            out.set_tp_dst(u16::from(byte(1)));
        }
        OVS_KEY_ATTR_ARP => {
            out.set_bytes(field::IPV4_SRC, g(0..4));
            out.set_bytes(field::IPV4_DST, g(4..8));
            // The opcode's low byte, as upstream stores it in ip.proto.
            out.set_ip_proto(byte(9));
            out.set_bytes(field::ARP_SHA, g(10..16));
            out.set_bytes(field::ARP_THA, g(16..22));
        }
        OVS_KEY_ATTR_ND => {
            out.set_bytes(field::ND_TARGET, g(0..16));
            out.set_bytes(field::ARP_SHA, g(16..22));
            out.set_bytes(field::ARP_THA, g(22..28));
        }
        _ => return false,
    }
    true
}

/// The payload of leaf attribute `ty` built from `k` (the inverse of `apply_leaf` for the types a
/// `set` action may target); returns its length, 0 for types it does not handle.
pub(crate) fn leaf_bytes(ty: u16, k: &FlowKey, out: &mut [u8; 40]) -> usize {
    let b = k.as_bytes();
    let g = |r: core::ops::Range<usize>| b.get(r).unwrap_or(&[]);
    let ip = [k.ip_proto(), k.ip_tos(), k.ip_ttl(), k.ip_frag()];
    let ne = |v: u32| v.to_ne_bytes();
    let (p0, p1, p2, p3): (&[u8], &[u8], &[u8], &[u8]) = match ty {
        OVS_KEY_ATTR_PRIORITY => (&[], &[], &[], &[]),
        OVS_KEY_ATTR_ETHERNET => (g(field::ETH_SRC), g(field::ETH_DST), &[], &[]),
        OVS_KEY_ATTR_IPV4 => (g(field::IPV4_SRC), g(field::IPV4_DST), &[], &[]),
        OVS_KEY_ATTR_IPV6 => (g(field::IPV6_SRC), g(field::IPV6_DST), g(field::IPV6_LABEL), &[]),
        OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP | OVS_KEY_ATTR_SCTP => (g(field::TP_SRC), g(field::TP_DST), &[], &[]),
        _ => (&[], &[], &[], &[]),
    };
    let tail: &[u8] = match ty {
        OVS_KEY_ATTR_IPV4 | OVS_KEY_ATTR_IPV6 => &ip,
        _ => &[],
    };
    let word: Option<[u8; 4]> = match ty {
        OVS_KEY_ATTR_PRIORITY => Some(ne(k.priority())),
        OVS_KEY_ATTR_SKB_MARK => Some(ne(k.skb_mark())),
        _ => None,
    };
    let mut n = 0usize;
    let parts: [&[u8]; 5] = [p0, p1, p2, p3, tail];
    let wslice;
    let parts: &[&[u8]] = match word {
        Some(w) => {
            wslice = w;
            &[&wslice]
        }
        None => &parts,
    };
    for p in parts {
        let end = n.saturating_add(p.len());
        if let Some(d) = out.get_mut(n..end) {
            d.copy_from_slice(p);
        }
        n = end;
    }
    n
}

/// Which of key or mask is being decoded, and the key a mask belongs to.
#[derive(Clone, Copy)]
enum Mode<'k> {
    Key,
    Mask(&'k FlowKey),
}

struct Decoder<'k> {
    out: FlowKey,
    mode: Mode<'k>,
    /// Eth type already fixed by a truncated VLAN header.
    eth_type_set: bool,
}

impl Decoder<'_> {
    fn is_mask(&self) -> bool {
        matches!(self.mode, Mode::Mask(_))
    }

    /// The key whose VLAN state drives nesting (the key itself, or the mask's key).
    fn key(&self) -> &FlowKey {
        match self.mode {
            Mode::Key => &self.out,
            Mode::Mask(k) => k,
        }
    }

    /// Upstream `__parse_vlan_from_nlattrs`: returns whether a VLAN level was consumed.
    fn vlan_level<'a>(&mut self, s: &mut Slots<'a>, inner: bool) -> Result<bool, CodecError> {
        let tci = be16(s.get(OVS_KEY_ATTR_VLAN));
        let tpid = be16(s.get(OVS_KEY_ATTR_ETHERTYPE));
        if self.is_mask() {
            if !s.has(OVS_KEY_ATTR_ENCAP) {
                return Ok(false);
            }
            let k = self.key();
            let valid = if inner { k.cvlan_tci() } else { k.vlan_tci() } & VLAN_CFI != 0;
            let empty = s.get(OVS_KEY_ATTR_ENCAP).is_empty();
            // The key's truncated VLAN header (TCI 0, empty ENCAP) as upstream emits its mask.
            let truncated = !inner && k.vlan_tci() == 0 && eth_type_vlan(k.vlan_tpid()) && empty;
            if !valid && !truncated {
                if empty {
                    // An empty ENCAP is all-zero: upstream ignores it in a mask.
                    s.present &= !bit(OVS_KEY_ATTR_ENCAP);
                    return Ok(false);
                }
                return Err(err(OVS_KEY_ATTR_ENCAP, ErrorKind::NotAllowed));
            }
            let tpid = if s.has(OVS_KEY_ATTR_ETHERTYPE) { tpid } else { 0 };
            if tpid != 0xffff {
                return Err(err(OVS_KEY_ATTR_ETHERTYPE, ErrorKind::BadValue));
            }
            let tci = if s.has(OVS_KEY_ATTR_VLAN) { tci } else { 0 };
            if valid && tci & VLAN_CFI == 0 {
                return Err(err(OVS_KEY_ATTR_VLAN, ErrorKind::BadValue));
            }
        } else {
            if !(s.has(OVS_KEY_ATTR_ETHERNET) && s.has(OVS_KEY_ATTR_ETHERTYPE) && eth_type_vlan(tpid))
            {
                return Ok(false);
            }
            if !s.has(OVS_KEY_ATTR_VLAN) {
                return Err(err(OVS_KEY_ATTR_VLAN, ErrorKind::Missing));
            }
            if !s.has(OVS_KEY_ATTR_ENCAP) {
                return Err(err(OVS_KEY_ATTR_ENCAP, ErrorKind::Missing));
            }
            if tci & VLAN_CFI == 0 {
                if tci != 0 {
                    return Err(err(OVS_KEY_ATTR_VLAN, ErrorKind::BadValue));
                }
                if !s.get(OVS_KEY_ATTR_ENCAP).is_empty() {
                    return Err(err(OVS_KEY_ATTR_ENCAP, ErrorKind::BadValue));
                }
                // Truncated VLAN header: the packet parser leaves the TPID as ethertype.
                self.out.set_eth_type(tpid);
                self.eth_type_set = true;
            }
        }
        let tpid = if s.has(OVS_KEY_ATTR_ETHERTYPE) { tpid } else { 0 };
        let tci = if s.has(OVS_KEY_ATTR_VLAN) { tci } else { 0 };
        if inner {
            self.out.set_cvlan_tpid(tpid);
            self.out.set_cvlan_tci(tci);
        } else {
            self.out.set_vlan_tpid(tpid);
            self.out.set_vlan_tci(tci);
        }
        let encap = s.get(OVS_KEY_ATTR_ENCAP);
        s.present &= !(bit(OVS_KEY_ATTR_ENCAP) | bit(OVS_KEY_ATTR_VLAN) | bit(OVS_KEY_ATTR_ETHERTYPE));
        s.collect(encap, self.is_mask())?;
        Ok(true)
    }

    /// Upstream `parse_vlan_from_nlattrs`.
    fn vlans(&mut self, s: &mut Slots<'_>) -> Result<(), CodecError> {
        if self.vlan_level(s, false)? && self.key().vlan_tci() & VLAN_CFI != 0 {
            self.vlan_level(s, true)?;
        }
        Ok(())
    }

    /// Upstream `metadata_from_nlattrs` + `ovs_key_from_nlattrs`, consuming a copy of `attrs`.
    fn fields(&mut self, s: &Slots<'_>, mut attrs: u64) -> Result<(), CodecError> {
        let is_mask = self.is_mask();
        let take = |attrs: &mut u64, ty: u16| {
            let had = *attrs & bit(ty) != 0;
            *attrs &= !bit(ty);
            had
        };
        for ty in [OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_SKB_MARK] {
            if take(&mut attrs, ty) {
                apply_leaf(ty, s.get(ty), &mut self.out);
            }
        }
        if take(&mut attrs, OVS_KEY_ATTR_IN_PORT) {
            let port = ne32(s.get(OVS_KEY_ATTR_IN_PORT));
            if is_mask {
                self.out.set_in_port(u32::MAX);
            } else if port >= DP_MAX_PORTS {
                return Err(err(OVS_KEY_ATTR_IN_PORT, ErrorKind::BadValue));
            } else {
                self.out.set_in_port(port);
            }
        } else if !is_mask {
            self.out.set_in_port(DP_MAX_PORTS);
        }
        if take(&mut attrs, OVS_KEY_ATTR_TUNNEL) {
            tunnel_nl::decode(s.get(OVS_KEY_ATTR_TUNNEL), &mut self.out, is_mask)?;
        }
        let eth_type = be16(s.get(OVS_KEY_ATTR_ETHERTYPE));
        if take(&mut attrs, OVS_KEY_ATTR_ETHERNET) {
            apply_leaf(OVS_KEY_ATTR_ETHERNET, s.get(OVS_KEY_ATTR_ETHERNET), &mut self.out);
            if attrs & bit(OVS_KEY_ATTR_VLAN) != 0 {
                return Err(err(OVS_KEY_ATTR_VLAN, ErrorKind::NotAllowed));
            }
            if take(&mut attrs, OVS_KEY_ATTR_ETHERTYPE) {
                self.eth_type(eth_type)?;
            } else if !is_mask && !self.eth_type_set {
                self.out.set_eth_type(ETH_TYPE_802_2);
            }
        } else if take(&mut attrs, OVS_KEY_ATTR_ETHERTYPE) {
            if !is_mask {
                // A layer-3 packet (no Ethernet header): not supported by rvs.
                return Err(err(OVS_KEY_ATTR_ETHERNET, ErrorKind::Missing));
            }
            self.eth_type(eth_type)?;
        } else if !is_mask && self.out.eth_type() == 0 {
            return Err(err(OVS_KEY_ATTR_ETHERNET, ErrorKind::Missing));
        }
        if take(&mut attrs, OVS_KEY_ATTR_IPV4) {
            let p = s.get(OVS_KEY_ATTR_IPV4);
            if !is_mask && p.get(11).copied().unwrap_or(0) > crate::key::frag::LATER {
                return Err(err(OVS_KEY_ATTR_IPV4, ErrorKind::BadValue));
            }
            apply_leaf(OVS_KEY_ATTR_IPV4, p, &mut self.out);
        }
        if take(&mut attrs, OVS_KEY_ATTR_IPV6) {
            let p = s.get(OVS_KEY_ATTR_IPV6);
            if !is_mask {
                let label = p.get(32..36).map(be32).unwrap_or(0);
                if p.get(39).copied().unwrap_or(0) > crate::key::frag::LATER || label & 0xfff0_0000 != 0 {
                    return Err(err(OVS_KEY_ATTR_IPV6, ErrorKind::BadValue));
                }
            }
            apply_leaf(OVS_KEY_ATTR_IPV6, p, &mut self.out);
        }
        if take(&mut attrs, OVS_KEY_ATTR_IPV6_EXTHDRS) {
            apply_leaf(OVS_KEY_ATTR_IPV6_EXTHDRS, s.get(OVS_KEY_ATTR_IPV6_EXTHDRS), &mut self.out);
        }
        if take(&mut attrs, OVS_KEY_ATTR_ARP) {
            let p = s.get(OVS_KEY_ATTR_ARP);
            if !is_mask && p.get(8).copied().unwrap_or(0) != 0 {
                return Err(err(OVS_KEY_ATTR_ARP, ErrorKind::BadValue));
            }
            apply_leaf(OVS_KEY_ATTR_ARP, p, &mut self.out);
        }
        for ty in [
            OVS_KEY_ATTR_TCP,
            OVS_KEY_ATTR_TCP_FLAGS,
            OVS_KEY_ATTR_UDP,
            OVS_KEY_ATTR_SCTP,
            OVS_KEY_ATTR_ICMP,
            OVS_KEY_ATTR_ICMPV6,
            OVS_KEY_ATTR_ND,
        ] {
            if take(&mut attrs, ty) {
                apply_leaf(ty, s.get(ty), &mut self.out);
            }
        }
        if attrs != 0 {
            let ty = u16::try_from(attrs.trailing_zeros()).unwrap_or(0);
            return Err(err(ty, ErrorKind::NotAllowed));
        }
        Ok(())
    }

    /// Upstream `parse_eth_type_from_nlattrs`.
    fn eth_type(&mut self, t: u16) -> Result<(), CodecError> {
        if self.is_mask() {
            self.out.set_eth_type(0xffff);
        } else if t < ETH_P_802_3_MIN {
            return Err(err(OVS_KEY_ATTR_ETHERTYPE, ErrorKind::BadValue));
        } else {
            self.out.set_eth_type(t);
        }
        Ok(())
    }
}

fn be32(p: &[u8]) -> u32 {
    p.try_into().map(u32::from_be_bytes).unwrap_or(0)
}

/// Parses key attributes: returns the key and the attribute bitmap `match_validate` needs.
fn parse_key(buf: &[u8]) -> Result<(FlowKey, u64), CodecError> {
    let mut s = Slots::new();
    s.collect(buf, false)?;
    let mut d = Decoder { out: FlowKey::ZERO, mode: Mode::Key, eth_type_set: false };
    d.vlans(&mut s)?;
    d.fields(&s, s.present)?;
    Ok((d.out, s.present))
}

/// Parses mask attributes for `key`. With `ones`, every attribute of `buf` is read as all-ones
/// (the exact mask upstream builds when `OVS_FLOW_ATTR_MASK` is absent).
fn parse_mask(buf: &[u8], key: &FlowKey, ones: bool) -> Result<(FlowKey, u64), CodecError> {
    let mut s = Slots::new();
    s.ones = ones;
    s.collect(buf, true)?;
    let mut d = Decoder { out: FlowKey::ZERO, mode: Mode::Mask(key), eth_type_set: false };
    // Always match on TCIs.
    d.out.set_vlan_tci(0xffff);
    d.out.set_cvlan_tci(0xffff);
    d.vlans(&mut s)?;
    d.fields(&s, s.present)?;
    if ones {
        // Userspace omits zero tunnel attributes; they must not be wildcarded.
        tunnel_nl::exact_mask(key, &mut d.out);
    }
    Ok((d.out, s.present))
}

static ONES: [u8; 64] = [0xff; 64];

/// A decoded flow match: key and mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// The key (not yet masked).
    pub key: FlowKey,
    /// The mask.
    pub mask: FlowKey,
}

/// Upstream `match_validate`: L3/L4 attributes must agree with the key's ethertype and
/// protocol, and a mask may only constrain a layer whose prerequisites it matches exactly.
fn match_validate(key: &FlowKey, mask: Option<&FlowKey>, key_attrs: u64, mask_attrs: u64) -> Result<(), CodecError> {
    let mut key_expected = 0u64;
    let mut mask_allowed = key_attrs
        & !(bit(OVS_KEY_ATTR_IPV4)
            | bit(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)
            | bit(OVS_KEY_ATTR_IPV6)
            | bit(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6)
            | bit(OVS_KEY_ATTR_TCP)
            | bit(OVS_KEY_ATTR_TCP_FLAGS)
            | bit(OVS_KEY_ATTR_UDP)
            | bit(OVS_KEY_ATTR_SCTP)
            | bit(OVS_KEY_ATTR_ICMP)
            | bit(OVS_KEY_ATTR_ICMPV6)
            | bit(OVS_KEY_ATTR_ARP)
            | bit(OVS_KEY_ATTR_ND)
            | bit(OVS_KEY_ATTR_MPLS)
            | bit(OVS_KEY_ATTR_NSH));
    mask_allowed |= bit(OVS_KEY_ATTR_TUNNEL) | bit(OVS_KEY_ATTR_IN_PORT) | bit(OVS_KEY_ATTR_ETHERTYPE);
    let eth_exact = mask.is_some_and(|m| m.eth_type() == 0xffff);
    let proto_exact = mask.is_some_and(|m| m.ip_proto() == 0xff);
    let mut expect = |ty: u16, allowed: bool| {
        key_expected |= bit(ty);
        if allowed {
            mask_allowed |= bit(ty);
        }
    };
    let et = key.eth_type();
    if et == ETH_P_ARP || et == ETH_P_RARP {
        expect(OVS_KEY_ATTR_ARP, eth_exact);
    }
    let is_ip = et == ETH_P_IP || et == ETH_P_IPV6;
    if is_ip {
        expect(if et == ETH_P_IP { OVS_KEY_ATTR_IPV4 } else { OVS_KEY_ATTR_IPV6 }, eth_exact);
        if key.ip_frag() != crate::key::frag::LATER {
            match key.ip_proto() {
                ipproto::UDP => expect(OVS_KEY_ATTR_UDP, proto_exact),
                ipproto::SCTP => expect(OVS_KEY_ATTR_SCTP, proto_exact),
                ipproto::TCP => {
                    expect(OVS_KEY_ATTR_TCP, proto_exact);
                    expect(OVS_KEY_ATTR_TCP_FLAGS, proto_exact);
                }
                ipproto::ICMP if et == ETH_P_IP => expect(OVS_KEY_ATTR_ICMP, proto_exact),
                ipproto::ICMPV6 if et == ETH_P_IPV6 => {
                    expect(OVS_KEY_ATTR_ICMPV6, proto_exact);
                    let t = key.tp_src();
                    if t == NDISC_NEIGHBOUR_SOLICITATION || t == NDISC_NEIGHBOUR_ADVERTISEMENT {
                        expect(OVS_KEY_ATTR_ND, mask.is_some_and(|m| m.tp_src() == 0xff));
                    }
                }
                _ => {}
            }
        }
    }
    let missing = key_expected & !key_attrs;
    if missing != 0 {
        let ty = u16::try_from(missing.trailing_zeros()).unwrap_or(0);
        return Err(err(ty, ErrorKind::Missing));
    }
    let extra = mask_attrs & !mask_allowed;
    if extra != 0 {
        let ty = u16::try_from(extra.trailing_zeros()).unwrap_or(0);
        return Err(err(ty, ErrorKind::NotAllowed));
    }
    Ok(())
}

/// Decodes a flow key (the contents of `OVS_FLOW_ATTR_KEY` / `OVS_PACKET_ATTR_KEY`), validated as
/// upstream does for a match without mask.
pub fn decode_key(attrs: &[u8]) -> Result<FlowKey, CodecError> {
    let (key, key_attrs) = parse_key(attrs)?;
    match_validate(&key, None, key_attrs, 0)?;
    Ok(key)
}

/// Decodes a key and its optional mask (`OVS_FLOW_ATTR_KEY` / `OVS_FLOW_ATTR_MASK` contents).
/// Without a mask the match is exact on everything the key specifies ([`exact_mask`]).
pub fn decode_match(key_attrs: &[u8], mask_attrs: Option<&[u8]>) -> Result<Match, CodecError> {
    let (key, kbits) = parse_key(key_attrs)?;
    let (mask, mbits) = match mask_attrs {
        Some(m) => parse_mask(m, &key, false)?,
        None => parse_mask(key_attrs, &key, true)?,
    };
    match_validate(&key, Some(&mask), kbits, mbits)?;
    Ok(Match { key, mask })
}

/// The exact-match mask for a key given as attributes: upstream's treatment of a flow without
/// `OVS_FLOW_ATTR_MASK` (every field the key's attributes touch is significant, VLAN TCIs are
/// always significant, and the whole tunnel is significant when the key has one).
pub fn exact_mask(key_attrs: &[u8]) -> Result<FlowKey, CodecError> {
    decode_match(key_attrs, None).map(|m| m.mask)
}

/// Decodes only the metadata of a key (priority, in_port, skb_mark, recirc_id, dp_hash, tunnel),
/// as upstream `ovs_nla_get_flow_metadata` for `OVS_PACKET_CMD_EXECUTE`: the rest of the key comes
/// from the packet. All attributes are still framing-, length- and duplicate-checked.
pub fn decode_metadata(attrs: &[u8]) -> Result<FlowKey, CodecError> {
    let mut s = Slots::new();
    s.collect(attrs, false)?;
    let mut out = FlowKey::ZERO;
    out.set_in_port(DP_MAX_PORTS);
    for ty in [OVS_KEY_ATTR_DP_HASH, OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_SKB_MARK] {
        if s.has(ty) {
            apply_leaf(ty, s.get(ty), &mut out);
        }
    }
    if s.has(OVS_KEY_ATTR_IN_PORT) {
        let port = ne32(s.get(OVS_KEY_ATTR_IN_PORT));
        if port >= DP_MAX_PORTS {
            return Err(err(OVS_KEY_ATTR_IN_PORT, ErrorKind::BadValue));
        }
        out.set_in_port(port);
    }
    if s.has(OVS_KEY_ATTR_TUNNEL) {
        tunnel_nl::decode(s.get(OVS_KEY_ATTR_TUNNEL), &mut out, false)?;
    }
    Ok(out)
}

mod encode;
mod set;

pub use encode::{put_key, put_key_attrs, put_mask};
pub use set::{decode_set, split_set, SetTarget};

#[cfg(test)]
mod tests;

//! The `set` / `set_masked` actions: rewrite masked fields of the packet and keep the key in sync.
//!
//! The netlink codec turns an action's `OVS_KEY_ATTR_*` payload into a (value, mask) pair of
//! [`FlowKey`]s; [`apply_set`] writes `(old & !mask) | (value & mask)` for every field the mask
//! covers, as upstream `execute_masked_set_action` (net/openvswitch/actions.c):
//!
//! - `PRIORITY`, `SKB_MARK`: packet metadata;
//! - `TUN_*`: egress tunnel metadata ([`Packet::set_tunnel`]), unmasked only, key untouched;
//! - `ETH_SRC`/`ETH_DST`;
//! - IPv4 (when the key's ethertype is IPv4): addresses, ToS, TTL, with the header checksum and
//!   the TCP/UDP checksum (pseudo-header) patched incrementally;
//! - IPv6 (ethertype IPv6): addresses (TCP/UDP/ICMPv6 checksum patched, except for a
//!   destination change behind a routing header with segments left), traffic class, flow label,
//!   hop limit;
//! - `TP_SRC`/`TP_DST` for TCP, UDP (a zero UDP checksum stays zero) and SCTP (CRC32c
//!   recomputed, carrying through a previously wrong checksum as upstream).
//!
//! Anything else the mask covers (VLAN, ethertype, ARP, ICMP, ND, in_port, ...) cannot be set,
//! as upstream `validate_set`, and yields [`ExecError::Unsupported`] before any change is made.
//! `IP_PROTO`/`IP_FRAG` mask bits are ignored: upstream requires them to equal the flow's.

use super::crc32c;
use super::rewrite::{
    l4_replace, read, read_u16, store, udp_replace_pseudo, udp_unmangle, writable,
};
use super::ExecError;
use crate::key::{field, frag, FlowKey};
use crate::packet::Packet;
use crate::wire::ethernet::{self, ether_type};
use crate::wire::{icmpv6, ip_proto, ipv4, ipv6, sctp, tcp, udp};

/// IPv4 ethertype.
pub(crate) const ETH_P_IP: u16 = ether_type::IPV4;
/// IPv6 ethertype.
pub(crate) const ETH_P_IPV6: u16 = ether_type::IPV6;
/// TCP protocol number.
pub(crate) const IPPROTO_TCP: u8 = ip_proto::TCP;
/// UDP protocol number.
pub(crate) const IPPROTO_UDP: u8 = ip_proto::UDP;
/// SCTP protocol number.
pub(crate) const IPPROTO_SCTP: u8 = ip_proto::SCTP;

const IPV4_HLEN: usize = ipv4::HEADER_LEN;
const IPV6_HLEN: usize = ipv6::HEADER_LEN;
/// ICMPv6 bytes a pseudo-header patch needs: up to the end of the checksum.
const ICMPV6_HLEN: usize = 4;
/// IPv6 flow label bits of the first header word.
const FLOW_LABEL: u32 = 0x000f_ffff;

/// Whether any byte of `range` in `mask` is non-zero.
fn covers(mask: &FlowKey, range: core::ops::Range<usize>) -> bool {
    mask.as_bytes().get(range).is_some_and(|b| b.iter().any(|&x| x != 0))
}

/// `(old & !mask) | (value & mask)` byte by byte.
fn merge<const N: usize>(old: [u8; N], value: [u8; N], mask: [u8; N]) -> [u8; N] {
    let mut out = old;
    for ((o, v), m) in out.iter_mut().zip(value).zip(mask) {
        *o = (*o & !m) | (v & m);
    }
    out
}

/// `(old & !mask) | (value & mask)`.
fn merge32(old: u32, value: u32, mask: u32) -> u32 {
    (old & !mask) | (value & mask)
}

/// `(old & !mask) | (value & mask)`.
fn merge8(old: u8, value: u8, mask: u8) -> u8 {
    (old & !mask) | (value & mask)
}

/// Which groups of fields a set touches.
struct Plan {
    tunnel: bool,
    priority: bool,
    mark: bool,
    eth: bool,
    ipv4: bool,
    ipv6: bool,
    l4: Option<u8>,
}

/// Decides what `mask` asks for given the flow `key`, rejecting what cannot be set.
fn plan(key: &FlowKey, mask: &FlowKey) -> Result<Plan, ExecError> {
    use field::*;
    let unsettable = [
        IN_PORT,
        RECIRC_ID,
        DP_HASH,
        ETH_TYPE,
        VLAN_TCI,
        VLAN_TPID,
        CVLAN_TCI,
        CVLAN_TPID,
        TCP_FLAGS,
        ARP_SHA,
        ARP_THA,
        ND_TARGET,
        76..80,
        IPV6_EXTHDRS,
        186..192,
    ];
    if unsettable.into_iter().any(|r| covers(mask, r)) {
        return Err(ExecError::Unsupported);
    }
    let v4 = covers(mask, IPV4_SRC) || covers(mask, IPV4_DST);
    let v6 = covers(mask, IPV6_SRC) || covers(mask, IPV6_DST) || covers(mask, IPV6_LABEL);
    let ip_common = mask.ip_tos() != 0 || mask.ip_ttl() != 0;
    let l3 = v4 || v6 || ip_common;
    let is_v4 = key.eth_type() == ETH_P_IP;
    let is_v6 = key.eth_type() == ETH_P_IPV6;
    let l3_ok = (is_v4 && !v6) || (is_v6 && !v4);
    if l3 && !l3_ok {
        return Err(ExecError::Unsupported);
    }
    let l4 = if covers(mask, TP_SRC) || covers(mask, TP_DST) {
        let proto = key.ip_proto();
        let supported = matches!(proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP);
        if !(is_v4 || is_v6) || !supported || key.ip_frag() == frag::LATER {
            return Err(ExecError::Unsupported);
        }
        Some(proto)
    } else {
        None
    };
    Ok(Plan {
        tunnel: covers(mask, 0..56),
        priority: mask.priority() != 0,
        mark: mask.skb_mark() != 0,
        eth: covers(mask, ETH_SRC) || covers(mask, ETH_DST),
        ipv4: l3 && is_v4,
        ipv6: l3 && is_v6,
        l4,
    })
}

/// Applies a decoded `set`/`set_masked` action. See the module documentation.
///
/// # Errors
/// [`ExecError::Unsupported`] for fields that cannot be set (nothing is changed then), header
/// errors ([`ExecError::NoNetworkHeader`], [`ExecError::NoTransportHeader`],
/// [`ExecError::Packet`], [`ExecError::Truncated`]) when the packet lacks the header to rewrite.
pub fn apply_set<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let plan = plan(key, mask)?;
    if plan.tunnel {
        pkt.set_tunnel(value).map_err(ExecError::Packet)?;
    }
    if plan.priority {
        let p = merge32(pkt.priority(), value.priority(), mask.priority());
        pkt.set_priority(p);
        key.set_priority(p);
    }
    if plan.mark {
        let m = merge32(pkt.mark(), value.skb_mark(), mask.skb_mark());
        pkt.set_mark(m);
        key.set_skb_mark(m);
    }
    if plan.eth {
        set_eth(pkt, key, value, mask)?;
    }
    if plan.ipv4 {
        set_ipv4(pkt, key, value, mask)?;
    }
    if plan.ipv6 {
        set_ipv6(pkt, key, value, mask)?;
    }
    match plan.l4 {
        Some(IPPROTO_TCP) => set_tcp(pkt, key, value, mask),
        Some(IPPROTO_UDP) => set_udp(pkt, key, value, mask),
        Some(IPPROTO_SCTP) => set_sctp(pkt, key, value, mask),
        _ => Ok(()),
    }
}

/// Ethernet addresses (upstream `set_eth_addr`).
fn set_eth<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    writable(pkt, 0, ethernet::HEADER_LEN)?;
    let dst = merge(read(pkt, 0)?, value.eth_dst(), mask.eth_dst());
    let src = merge(read(pkt, 6)?, value.eth_src(), mask.eth_src());
    store(pkt, 0, &dst)?;
    store(pkt, 6, &src)?;
    key.set_eth_dst(dst);
    key.set_eth_src(src);
    Ok(())
}

/// IPv4 header fields (upstream `set_ipv4`).
fn set_ipv4<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let n = pkt.network_offset().ok_or(ExecError::NoNetworkHeader)?;
    writable(pkt, n, IPV4_HLEN)?;
    let hdr: [u8; IPV4_HLEN] = read(pkt, n)?;
    let [ver_ihl, tos, _, _, _, _, frag_hi, frag_lo, ttl, proto, check_hi, check_lo, ..] = hdr;
    // Non-first fragments carry no L4 header.
    let later_fragment = u16::from_be_bytes([frag_hi, frag_lo]) & 0x1fff != 0;
    let mut check = u16::from_be_bytes([check_hi, check_lo]);

    for (off, m, v) in
        [(12, mask.ipv4_src(), value.ipv4_src()), (16, mask.ipv4_dst(), value.ipv4_dst())]
    {
        if m == 0 {
            continue;
        }
        let at = n.checked_add(off).ok_or(ExecError::Truncated)?;
        let old = u32::from_be_bytes(read(pkt, at)?);
        let new = merge32(old, v, m);
        if new == old {
            continue;
        }
        if !later_fragment {
            ipv4_l4_update(pkt, proto, &old.to_be_bytes(), &new.to_be_bytes())?;
        }
        check = crate::csum::update32(check, old, new);
        store(pkt, at, &new.to_be_bytes())?;
        pkt.clear_hash();
        if off == 12 {
            key.set_ipv4_src(new);
        } else {
            key.set_ipv4_dst(new);
        }
    }
    // ToS is the low byte of the word [ver_ihl, tos], TTL the high byte of [ttl, proto].
    if mask.ip_tos() != 0 {
        let new = merge8(tos, value.ip_tos(), mask.ip_tos());
        check = crate::csum::update16(check, word(ver_ihl, tos), word(ver_ihl, new));
        store(pkt, n.checked_add(1).ok_or(ExecError::Truncated)?, &[new])?;
        key.set_ip_tos(new);
    }
    if mask.ip_ttl() != 0 {
        let new = merge8(ttl, value.ip_ttl(), mask.ip_ttl());
        check = crate::csum::update16(check, word(ttl, proto), word(new, proto));
        store(pkt, n.checked_add(8).ok_or(ExecError::Truncated)?, &[new])?;
        key.set_ip_ttl(new);
    }
    store(pkt, n.checked_add(10).ok_or(ExecError::Truncated)?, &check.to_be_bytes())
}

/// The big-endian 16-bit word `[hi, lo]`.
fn word(hi: u8, lo: u8) -> u16 {
    u16::from_be_bytes([hi, lo])
}

/// Patches the TCP/UDP checksum of an IPv4 packet for an address change (upstream
/// `update_ip_l4_checksum`). Silently skipped when the L4 header is absent.
fn ipv4_l4_update<P: Packet>(
    pkt: &mut P,
    proto: u8,
    old: &[u8],
    new: &[u8],
) -> Result<(), ExecError> {
    pseudo_update(pkt, proto, old, new, false)
}

/// Patches the L4 checksum covering a pseudo-header field that changes from `old` to `new`.
/// ICMPv6 has a pseudo-header, ICMP does not (`icmpv6` selects).
fn pseudo_update<P: Packet>(
    pkt: &mut P,
    proto: u8,
    old: &[u8],
    new: &[u8],
    icmpv6: bool,
) -> Result<(), ExecError> {
    let Some(t) = pkt.transport_offset() else {
        return Ok(());
    };
    let room = pkt.len().saturating_sub(t);
    let at = |off: usize| t.checked_add(off).ok_or(ExecError::Truncated);
    match proto {
        IPPROTO_TCP if room >= tcp::HEADER_LEN => {
            writable(pkt, t, tcp::HEADER_LEN)?;
            l4_replace(pkt, at(tcp::CHECKSUM_OFFSET)?, old, new, true).map(|_| ())
        }
        IPPROTO_UDP if room >= udp::HEADER_LEN => {
            writable(pkt, t, udp::HEADER_LEN)?;
            udp_replace_pseudo(pkt, at(udp::CHECKSUM_OFFSET)?, old, new)
        }
        ip_proto::ICMPV6 if icmpv6 && room >= ICMPV6_HLEN => {
            writable(pkt, t, ICMPV6_HLEN)?;
            l4_replace(pkt, at(icmpv6::CHECKSUM_OFFSET)?, old, new, true).map(|_| ())
        }
        _ => Ok(()),
    }
}

/// IPv6 header fields (upstream `set_ipv6`).
fn set_ipv6<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let n = pkt.network_offset().ok_or(ExecError::NoNetworkHeader)?;
    writable(pkt, n, IPV6_HLEN)?;
    let at = |off: usize| n.checked_add(off).ok_or(ExecError::Truncated);
    // Upstream uses the key's protocol: for a non-first fragment it is NEXTHDR_FRAGMENT.
    let l4 = key.ip_proto();

    for (off, m, v) in
        [(8, mask.ipv6_src(), value.ipv6_src()), (24, mask.ipv6_dst(), value.ipv6_dst())]
    {
        if m == [0; 16] {
            continue;
        }
        let old: [u8; 16] = read(pkt, at(off)?)?;
        let new = merge(old, v, m);
        if new == old {
            continue;
        }
        // The pseudo-header holds the final destination: behind a routing header with segments
        // left, the destination field is not it, so the L4 checksum must not change.
        let recalc = off == 8 || !routing_header_pending(pkt, n)?;
        if recalc && l4 != ip_proto::FRAGMENT {
            pseudo_update(pkt, l4, &old, &new, true)?;
        }
        store(pkt, at(off)?, &new)?;
        pkt.clear_hash();
        if off == 8 {
            key.set_ipv6_src(new);
        } else {
            key.set_ipv6_dst(new);
        }
    }
    if mask.ip_tos() != 0 {
        let [b0, b1] = read(pkt, n)?;
        let old = (b0 << 4) | (b1 >> 4);
        let new = merge8(old, value.ip_tos(), mask.ip_tos());
        store(pkt, n, &[(b0 & 0xf0) | (new >> 4), (b1 & 0x0f) | (new << 4)])?;
        key.set_ip_tos(new);
    }
    if mask.ipv6_label() & FLOW_LABEL != 0 {
        let word = u32::from_be_bytes(read(pkt, n)?);
        let label = merge32(word & FLOW_LABEL, value.ipv6_label(), mask.ipv6_label() & FLOW_LABEL);
        store(pkt, n, &((word & !FLOW_LABEL) | label).to_be_bytes())?;
        key.set_ipv6_label(label);
    }
    if mask.ip_ttl() != 0 {
        let [old] = read(pkt, at(7)?)?;
        let new = merge8(old, value.ip_ttl(), mask.ip_ttl());
        store(pkt, at(7)?, &[new])?;
        key.set_ip_ttl(new);
    }
    Ok(())
}

/// Whether the IPv6 header at `n` is followed by a routing header with segments left
/// (upstream `ipv6_find_hdr(.., NEXTHDR_ROUTING, .., IP6_FH_F_SKIP_RH)`). Stops at a
/// non-first fragment, an unknown header or the end of the data.
fn routing_header_pending<P: Packet>(pkt: &P, n: usize) -> Result<bool, ExecError> {
    let [next] = read(pkt, n.checked_add(6).ok_or(ExecError::Truncated)?)?;
    let mut next = next;
    let mut off = n.checked_add(IPV6_HLEN).ok_or(ExecError::Truncated)?;
    // Enough for any sane chain; upstream bounds the walk by the packet length.
    for _ in 0..16 {
        let Some(&[nh, len, b2, b3]) = off.checked_add(4).and_then(|e| pkt.bytes(off..e)) else {
            return Ok(false);
        };
        let hdr_len = match next {
            // Hop-by-hop, destination options.
            0 | 60 => usize::from(len).saturating_add(1).saturating_mul(8),
            // Routing.
            43 if b3 != 0 => return Ok(true),
            43 => usize::from(len).saturating_add(1).saturating_mul(8),
            // Fragment: a non-first fragment ends the walk.
            44 if u16::from_be_bytes([b2, b3]) & 0xfff8 != 0 => return Ok(false),
            44 => 8,
            // Authentication header.
            51 => usize::from(len).saturating_add(2).saturating_mul(4),
            _ => return Ok(false),
        };
        next = nh;
        off = off.checked_add(hdr_len).ok_or(ExecError::Truncated)?;
    }
    Ok(false)
}

/// Transport offset, with `len` header bytes made writable.
fn transport<P: Packet>(pkt: &mut P, len: usize) -> Result<usize, ExecError> {
    let t = pkt.transport_offset().ok_or(ExecError::NoTransportHeader)?;
    writable(pkt, t, len)?;
    Ok(t)
}

/// The (source, destination) ports after the set.
fn new_ports<P: Packet>(
    pkt: &P,
    t: usize,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<([u8; 2], [u8; 2]), ExecError> {
    let src = merge(read(pkt, t)?, value.tp_src().to_be_bytes(), mask.tp_src().to_be_bytes());
    let dst_at = t.checked_add(2).ok_or(ExecError::Truncated)?;
    let dst = merge(read(pkt, dst_at)?, value.tp_dst().to_be_bytes(), mask.tp_dst().to_be_bytes());
    Ok((src, dst))
}

/// Writes the ports `src`, `dst` at `t` where they change, patching the checksum at `check`
/// (when there is one to patch).
fn store_ports<P: Packet>(
    pkt: &mut P,
    t: usize,
    (src, dst): ([u8; 2], [u8; 2]),
    check: Option<usize>,
) -> Result<(), ExecError> {
    for (off, new) in [(t, src), (t.checked_add(2).ok_or(ExecError::Truncated)?, dst)] {
        let old: [u8; 2] = read(pkt, off)?;
        if old != new {
            if let Some(check) = check {
                l4_replace(pkt, check, &old, &new, false)?;
            }
            store(pkt, off, &new)?;
        }
    }
    Ok(())
}

/// Records the new ports in the key; the packet's hash is stale.
fn ports_done<P: Packet>(pkt: &mut P, key: &mut FlowKey, (src, dst): ([u8; 2], [u8; 2])) {
    key.set_tp_src(u16::from_be_bytes(src));
    key.set_tp_dst(u16::from_be_bytes(dst));
    pkt.clear_hash();
}

/// TCP ports (upstream `set_tcp`).
fn set_tcp<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let t = transport(pkt, tcp::HEADER_LEN)?;
    let ports = new_ports(pkt, t, value, mask)?;
    let check = t.checked_add(tcp::CHECKSUM_OFFSET).ok_or(ExecError::Truncated)?;
    store_ports(pkt, t, ports, Some(check))?;
    ports_done(pkt, key, ports);
    Ok(())
}

/// UDP ports (upstream `set_udp`): a zero checksum (none) or an offloaded one is left alone.
fn set_udp<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let t = transport(pkt, udp::HEADER_LEN)?;
    let ports = new_ports(pkt, t, value, mask)?;
    let check = t.checked_add(udp::CHECKSUM_OFFSET).ok_or(ExecError::Truncated)?;
    let patch = read_u16(pkt, check)? != 0 && !pkt.csum_partial();
    store_ports(pkt, t, ports, patch.then_some(check))?;
    if patch {
        udp_unmangle(pkt, check)?;
    }
    ports_done(pkt, key, ports);
    Ok(())
}

/// The SCTP checksum of the packet at `t` as stored on the wire, computed as if its checksum
/// field were zero (upstream `sctp_compute_cksum`).
fn sctp_cksum<P: Packet>(pkt: &P, t: usize) -> Result<[u8; 4], ExecError> {
    let check = t.checked_add(sctp::CHECKSUM_OFFSET).ok_or(ExecError::Truncated)?;
    let rest = check.checked_add(4).ok_or(ExecError::Truncated)?;
    let mut state = !0u32;
    let mut feed = |chunk: &[u8]| state = crc32c::update(state, chunk);
    pkt.read_chunks(t..check, &mut feed).map_err(ExecError::Packet)?;
    feed(&[0; 4]);
    pkt.read_chunks(rest..pkt.len(), &mut feed).map_err(ExecError::Packet)?;
    Ok((!state).to_le_bytes())
}

/// SCTP ports (upstream `set_sctp`): the CRC32c is recomputed, and an incorrect checksum stays
/// incorrect by the same difference.
fn set_sctp<P: Packet>(
    pkt: &mut P,
    key: &mut FlowKey,
    value: &FlowKey,
    mask: &FlowKey,
) -> Result<(), ExecError> {
    let t = transport(pkt, sctp::HEADER_LEN)?;
    let check = t.checked_add(sctp::CHECKSUM_OFFSET).ok_or(ExecError::Truncated)?;
    let old: [u8; 4] = read(pkt, check)?;
    let old_correct = sctp_cksum(pkt, t)?;
    let ports @ (src, dst) = new_ports(pkt, t, value, mask)?;
    store(pkt, t, &src)?;
    store(pkt, t.checked_add(2).ok_or(ExecError::Truncated)?, &dst)?;
    let new_correct = sctp_cksum(pkt, t)?;
    let mut new = old;
    for ((n, c), d) in new.iter_mut().zip(old_correct).zip(new_correct) {
        *n ^= c ^ d;
    }
    store(pkt, check, &new)?;
    ports_done(pkt, key, ports);
    Ok(())
}

//! Flow key extraction: from a received frame and its metadata to a [`FlowKey`].
//!
//! This is upstream `ovs_flow_key_extract`/`key_extract` (`net/openvswitch/flow.c`) over a byte
//! slice instead of an `sk_buff`. The header views live in [`super::wire`]; this module decides
//! which headers to look at and which key fields they fill. Semantics follow upstream:
//!
//! - Link layer: source/destination MAC, then up to two VLAN tags (0x8100 or 0x88a8). An
//!   offloaded tag ([`Metadata::hw_vlan`], the kernel's `skb->vlan_tci`) is the outer tag, and then
//!   only one more tag is read from the frame. A tag is only taken when its following type field
//!   is present too. TCIs are stored with [`VLAN_CFI`] set. 802.3 frames resolve through LLC/SNAP
//!   to an ethertype or to `ETH_P_802_2` (0x0004).
//! - ARP/RARP (Ethernet/IPv4 only): opcode into `ip_proto` when it fits in a byte, else 0.
//! - IPv4: addresses, ToS, TTL, protocol, fragment type; later fragments stop there.
//!   IPv6: traffic class, hop limit, flow label, addresses, the extension header summary
//!   (`get_ipv6_ext_hdrs`), then the extension header walk decides the protocol (`59` if the walk
//!   fails, `44` for a later fragment) and fragment type.
//! - L4: TCP ports and 12-bit flags, UDP and SCTP ports, ICMP/ICMPv6 type→`tp_src` and
//!   code→`tp_dst`, plus Neighbor Discovery target and link-layer addresses.
//!
//! A truncated or malformed header leaves that layer's key fields zero (and everything above it);
//! the layers below keep their values. Extraction never fails and never panics. Not handled
//! because the key has no fields for them (yet): MPLS labels, NSH, conntrack state, and L3
//! (`MAC_PROTO_NONE`) ports.

use super::key::{frag, FlowKey, VLAN_CFI};
use super::wire::ethernet::{self, ether_type};
use super::wire::{arp, icmp, icmpv6, ip_proto, ipv4, ipv6, sctp, tcp, udp, vlan};

/// Tunnel metadata of a packet received on a tunnel port (upstream `struct ip_tunnel_key`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelMeta {
    /// Tunnel ID (GRE key, VXLAN VNI, ...).
    pub id: u64,
    /// Outer IPv4 source (0 for IPv6 tunnels).
    pub ipv4_src: u32,
    /// Outer IPv4 destination (0 for IPv6 tunnels).
    pub ipv4_dst: u32,
    /// Outer IPv6 source (zero for IPv4 tunnels).
    pub ipv6_src: [u8; 16],
    /// Outer IPv6 destination (zero for IPv4 tunnels).
    pub ipv6_dst: [u8; 16],
    /// [`super::key::tun_flags`] bits, stored as given.
    pub flags: u16,
    /// Outer ToS.
    pub tos: u8,
    /// Outer TTL.
    pub ttl: u8,
    /// Outer transport source port.
    pub tp_src: u16,
    /// Outer transport destination port.
    pub tp_dst: u16,
}

/// Per-packet metadata that is not in the frame itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Datapath port the packet arrived on.
    pub in_port: u32,
    /// `skb->priority`.
    pub priority: u32,
    /// `skb->mark`.
    pub skb_mark: u32,
    /// Recirculation ID (0 for packets fresh from a port).
    pub recirc_id: u32,
    /// Hash from a previous `hash` action (0 if none).
    pub dp_hash: u32,
    /// Tunnel metadata, for packets received on a tunnel port.
    pub tunnel: Option<TunnelMeta>,
    /// The offloaded outer VLAN tag (`skb->vlan_proto`, `skb->vlan_tci`): TPID and TCI as on the
    /// wire, without [`VLAN_CFI`] marking. The frame does not contain this tag.
    pub hw_vlan: Option<(u16, u16)>,
}

/// Where the extractor found the headers, as byte offsets into the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    /// Start of the L2 payload (after MACs, in-frame VLAN tags, type and any LLC/SNAP header):
    /// upstream `skb_network_offset`. `None` only for frames shorter than an Ethernet header,
    /// which upstream drops (`key_extract` returns `-EINVAL`): callers should drop them too.
    pub network: Option<u16>,
    /// Start of the IPv4/IPv6 upper-layer header, when the IP header (and for IPv6 the extension
    /// header chain) was valid; for IPv4 also for later fragments, as upstream. `None` otherwise
    /// (non-IP, malformed IP, IPv6 later fragment) and if the offset exceeds `u16`.
    pub transport: Option<u16>,
}

/// Extracts the flow key of `frame` (starting at its Ethernet header) received with `md`.
///
/// The in-frame outer VLAN tag is not removed (upstream moves it into `skb->vlan_tci` during
/// extraction); offsets are relative to `frame` as given.
#[must_use]
pub fn extract(frame: &[u8], md: &Metadata) -> (FlowKey, Offsets) {
    let mut key = FlowKey::ZERO;
    put_metadata(&mut key, md);
    let mut offsets = Offsets::default();
    let Some(nh) = extract_l2(&mut key, frame, md.hw_vlan) else {
        return (key, offsets);
    };
    offsets.network = u16::try_from(nh).ok();
    let l3 = frame.get(nh..).unwrap_or(&[]);
    let th = match key.eth_type() {
        ether_type::IPV4 => extract_ipv4(&mut key, l3),
        ether_type::IPV6 => extract_ipv6(&mut key, l3),
        ether_type::ARP | ether_type::RARP => {
            extract_arp(&mut key, l3);
            None
        }
        _ => None,
    };
    offsets.transport = th
        .and_then(|t| nh.checked_add(t))
        .and_then(|t| u16::try_from(t).ok());
    (key, offsets)
}

fn put_metadata(key: &mut FlowKey, md: &Metadata) {
    key.set_in_port(md.in_port);
    key.set_priority(md.priority);
    key.set_skb_mark(md.skb_mark);
    key.set_recirc_id(md.recirc_id);
    key.set_dp_hash(md.dp_hash);
    if let Some(t) = &md.tunnel {
        key.set_tun_id(t.id);
        key.set_tun_ipv4_src(t.ipv4_src);
        key.set_tun_ipv4_dst(t.ipv4_dst);
        key.set_tun_ipv6_src(t.ipv6_src);
        key.set_tun_ipv6_dst(t.ipv6_dst);
        key.set_tun_flags(t.flags);
        key.set_tun_tos(t.tos);
        key.set_tun_ttl(t.ttl);
        key.set_tun_tp_src(t.tp_src);
        key.set_tun_tp_dst(t.tp_dst);
    }
}

/// Fills the L2 fields; returns the network header offset, or `None` for a runt frame.
fn extract_l2(key: &mut FlowKey, frame: &[u8], hw_vlan: Option<(u16, u16)>) -> Option<usize> {
    let eth = ethernet::Frame::new_checked(frame).ok()?;
    key.set_eth_src(eth.src_addr());
    key.set_eth_dst(eth.dst_addr());

    // Upstream `parse_vlan`: the offloaded tag, else an in-frame one, is the outer tag; the inner
    // tag is only looked for when there was an outer one.
    let mut pos = ethernet::TYPE_OFFSET;
    let outer = hw_vlan.or_else(|| read_tag(frame, &mut pos));
    if let Some((tpid, tci)) = outer {
        key.set_vlan_tpid(tpid);
        key.set_vlan_tci(tci | VLAN_CFI);
        if let Some((tpid, tci)) = read_tag(frame, &mut pos) {
            key.set_cvlan_tpid(tpid);
            key.set_cvlan_tci(tci | VLAN_CFI);
        }
    }

    // Upstream `parse_ethertype`. A tag was only accepted with its type field present, and the
    // Ethernet header holds the first one, so this read is always in range.
    let type_len = super::wire::be16(frame, pos);
    pos = pos.saturating_add(2);
    let eth_type = if ethernet::is_ethertype(type_len) {
        type_len
    } else {
        let (t, consumed) = ethernet::resolve_llc(frame.get(pos..).unwrap_or(&[]));
        pos = pos.saturating_add(consumed);
        t
    };
    key.set_eth_type(eth_type);
    Some(pos)
}

/// Reads a VLAN tag at `*pos` and advances past it; `None` (and no advance) if there is none.
fn read_tag(frame: &[u8], pos: &mut usize) -> Option<(u16, u16)> {
    let tag = vlan::Tag::new_checked(frame.get(*pos..)?).ok()?;
    *pos = pos.saturating_add(vlan::TAG_LEN);
    Some((tag.tpid(), tag.tci()))
}

fn extract_arp(key: &mut FlowKey, l3: &[u8]) {
    let Ok(arp) = arp::Packet::new_checked(l3) else {
        return;
    };
    // Only the low 8 bits of the opcode are matched; larger opcodes become 0.
    key.set_ip_proto(u8::try_from(arp.operation()).unwrap_or(0));
    key.set_ipv4_src(u32::from_be_bytes(arp.sender_proto_addr()));
    key.set_ipv4_dst(u32::from_be_bytes(arp.target_proto_addr()));
    key.set_arp_sha(arp.sender_hw_addr());
    key.set_arp_tha(arp.target_hw_addr());
}

/// Fills the IPv4 and L4 fields; returns the transport offset within `l3` if the header is valid.
fn extract_ipv4(key: &mut FlowKey, l3: &[u8]) -> Option<usize> {
    let ip = ipv4::Packet::new_checked(l3).ok()?;
    key.set_ipv4_src(ip.src_addr());
    key.set_ipv4_dst(ip.dst_addr());
    key.set_ip_proto(ip.protocol());
    key.set_ip_tos(ip.tos());
    key.set_ip_ttl(ip.ttl());
    let th = ip.header_len();
    if ip.frag_offset() != 0 {
        key.set_ip_frag(frag::LATER);
        return Some(th);
    }
    key.set_ip_frag(if ip.more_frags() {
        frag::FIRST
    } else {
        frag::NONE
    });
    extract_l4(key, ip.protocol(), l3.get(th..).unwrap_or(&[]), false);
    Some(th)
}

/// Fills the IPv6 and L4 fields; returns the transport offset within `l3` if the walk succeeded.
fn extract_ipv6(key: &mut FlowKey, l3: &[u8]) -> Option<usize> {
    let ip = ipv6::Packet::new_checked(l3).ok()?;
    key.set_ip_proto(ip_proto::NONE);
    key.set_ip_tos(ip.traffic_class());
    key.set_ip_ttl(ip.hop_limit());
    key.set_ipv6_label(ip.flow_label());
    key.set_ipv6_src(ip.src_addr());
    key.set_ipv6_dst(ip.dst_addr());
    key.set_ipv6_exthdrs(ipv6::extension_header_summary(l3));

    let chain = ipv6::walk_extension_headers(l3);
    if let Ok(ipv6::Upper::LaterFragment { .. }) = chain.upper {
        key.set_ip_frag(frag::LATER);
        key.set_ip_proto(ip_proto::FRAGMENT);
        return None;
    }
    key.set_ip_frag(if chain.fragment {
        frag::FIRST
    } else {
        frag::NONE
    });
    // A failed walk keeps protocol 59 and no transport header (upstream `-EPROTO`).
    let Ok(ipv6::Upper::Found {
        next_header,
        offset,
    }) = chain.upper
    else {
        return None;
    };
    key.set_ip_proto(next_header);
    extract_l4(key, next_header, l3.get(offset..).unwrap_or(&[]), true);
    Some(offset)
}

/// Fills the L4 fields of protocol `proto` from `l4`; `v6` selects ICMPv6 over ICMP.
fn extract_l4(key: &mut FlowKey, proto: u8, l4: &[u8], v6: bool) {
    match proto {
        ip_proto::TCP => extract_tcp(key, l4),
        ip_proto::UDP => extract_udp(key, l4),
        ip_proto::SCTP => extract_sctp(key, l4),
        ip_proto::ICMP if !v6 => {
            if let Ok(icmp) = icmp::Packet::new_checked(l4) {
                set_type_code(key, icmp.msg_type(), icmp.msg_code());
            }
        }
        ip_proto::ICMPV6 if v6 => extract_icmpv6(key, l4),
        _ => {}
    }
}

/// ICMP and ICMPv6 keep their type in `tp_src` and their code in `tp_dst`.
fn set_type_code(key: &mut FlowKey, msg_type: u8, msg_code: u8) {
    key.set_tp_src(u16::from(msg_type));
    key.set_tp_dst(u16::from(msg_code));
}

fn set_ports(key: &mut FlowKey, src: u16, dst: u16) {
    key.set_tp_src(src);
    key.set_tp_dst(dst);
}

fn extract_tcp(key: &mut FlowKey, l4: &[u8]) {
    if let Ok(tcp) = tcp::Packet::new_checked(l4) {
        set_ports(key, tcp.src_port(), tcp.dst_port());
        key.set_tcp_flags(tcp.flags());
    }
}

fn extract_udp(key: &mut FlowKey, l4: &[u8]) {
    if let Ok(udp) = udp::Packet::new_checked(l4) {
        set_ports(key, udp.src_port(), udp.dst_port());
    }
}

fn extract_sctp(key: &mut FlowKey, l4: &[u8]) {
    if let Ok(sctp) = sctp::Packet::new_checked(l4) {
        set_ports(key, sctp.src_port(), sctp.dst_port());
    }
}

fn extract_icmpv6(key: &mut FlowKey, l4: &[u8]) {
    let Ok(icmp) = icmpv6::Packet::new_checked(l4) else {
        return;
    };
    set_type_code(key, icmp.msg_type(), icmp.msg_code());
    if icmp.is_neighbor_discovery() {
        let nd = icmpv6::parse_nd(l4);
        key.set_nd_target(nd.target);
        key.set_arp_sha(nd.sll);
        key.set_arp_tha(nd.tll);
    }
}

#[cfg(test)]
mod tests;

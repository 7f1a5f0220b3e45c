//! The flow key: a fixed-size, word-aligned record of everything the datapath matches on.
//!
//! Its contents follow the upstream Open vSwitch datapath key (`struct sw_flow_key` and the
//! `OVS_KEY_ATTR_*` set in `include/uapi/linux/openvswitch.h`), but its layout is rvs's own and
//! internal (never on the wire). The key is a plain byte array: every field is a byte range (the
//! constants in [`field`]), multi-byte fields are stored **big-endian** (network order, as on the
//! wire and in `OVS_KEY_ATTR_*` payloads), and unused bytes are zero. Because it is only bytes,
//! a mask is the same type (a set bit means "significant"), masking and hashing work on 64-bit
//! words without `unsafe`, and the kernel and userspace agree bit for bit.
//!
//! Overlaid fields, as upstream: for ARP the opcode lives in `IP_PROTO` (low byte), SPA/TPA in
//! `IPV4_SRC`/`IPV4_DST` and SHA/THA in `ARP_SHA`/`ARP_THA`; for IPv6 Neighbor Discovery SLL/TLL
//! reuse `ARP_SHA`/`ARP_THA`. A VLAN TCI has [`VLAN_CFI`] set when the tag is present, so
//! "no tag" (0) and "tag with VID 0" differ, as in the upstream ABI.

use core::fmt;

/// Size of a flow key in bytes.
pub const KEY_LEN: usize = 192;
/// Size of a flow key in 64-bit words.
pub const KEY_WORDS: usize = KEY_LEN / 8;

/// TCI bit marking a present VLAN tag (upstream `VLAN_CFI_MASK`).
pub const VLAN_CFI: u16 = 0x1000;

/// Values of the `IP_FRAG` field (upstream `enum ovs_frag_type`).
pub mod frag {
    /// Not a fragment.
    pub const NONE: u8 = 0;
    /// First fragment (offset 0, more fragments).
    pub const FIRST: u8 = 1;
    /// Later fragment (non-zero offset).
    pub const LATER: u8 = 2;
}

/// Byte ranges of the key's fields. Big-endian for every multi-byte field.
#[allow(missing_docs)]
pub mod field {
    use core::ops::Range;
    // Tunnel metadata (words 0..7): all zero for packets that did not arrive on a tunnel.
    pub const TUN_ID: Range<usize> = 0..8;
    pub const TUN_IPV4_SRC: Range<usize> = 8..12;
    pub const TUN_IPV4_DST: Range<usize> = 12..16;
    /// Upstream `OVS_TUNNEL_KEY_ATTR_*` presence flags, see [`super::tun_flags`].
    pub const TUN_FLAGS: Range<usize> = 16..18;
    pub const TUN_TOS: usize = 18;
    pub const TUN_TTL: usize = 19;
    pub const TUN_TP_SRC: Range<usize> = 20..22;
    pub const TUN_TP_DST: Range<usize> = 22..24;
    pub const TUN_IPV6_SRC: Range<usize> = 24..40;
    pub const TUN_IPV6_DST: Range<usize> = 40..56;
    // Packet metadata.
    pub const PRIORITY: Range<usize> = 56..60;
    pub const SKB_MARK: Range<usize> = 60..64;
    pub const IN_PORT: Range<usize> = 64..68;
    pub const RECIRC_ID: Range<usize> = 68..72;
    pub const DP_HASH: Range<usize> = 72..76;
    // 76..80 reserved (zero).
    // L2.
    pub const ETH_SRC: Range<usize> = 80..86;
    pub const ETH_DST: Range<usize> = 86..92;
    pub const ETH_TYPE: Range<usize> = 92..94;
    pub const VLAN_TCI: Range<usize> = 94..96;
    pub const VLAN_TPID: Range<usize> = 96..98;
    pub const CVLAN_TCI: Range<usize> = 98..100;
    pub const CVLAN_TPID: Range<usize> = 100..102;
    // L3 common.
    pub const IP_PROTO: usize = 102;
    pub const IP_TOS: usize = 103;
    pub const IP_TTL: usize = 104;
    pub const IP_FRAG: usize = 105;
    // L4.
    pub const TP_SRC: Range<usize> = 106..108;
    pub const TP_DST: Range<usize> = 108..110;
    pub const TCP_FLAGS: Range<usize> = 110..112;
    // IPv4 / ARP.
    pub const IPV4_SRC: Range<usize> = 112..116;
    pub const IPV4_DST: Range<usize> = 116..120;
    pub const ARP_SHA: Range<usize> = 120..126;
    pub const ARP_THA: Range<usize> = 126..132;
    // IPv6 / ND.
    pub const IPV6_SRC: Range<usize> = 132..148;
    pub const IPV6_DST: Range<usize> = 148..164;
    pub const IPV6_LABEL: Range<usize> = 164..168;
    pub const ND_TARGET: Range<usize> = 168..184;
    /// IPv6 extension header summary (upstream `ipv6.exthdrs`, [`super::ipv6_exthdrs`] bits).
    pub const IPV6_EXTHDRS: Range<usize> = 184..186;
    // 186..192 reserved (zero).
}

/// Bits of the `TUN_FLAGS` field (rvs-internal; the codec maps them to/from
/// `OVS_TUNNEL_KEY_ATTR_*` flag attributes).
pub mod tun_flags {
    /// `OVS_TUNNEL_KEY_ATTR_ID` present (the tunnel carried a key).
    pub const KEY: u16 = 1 << 0;
    /// `OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT`.
    pub const DONT_FRAGMENT: u16 = 1 << 1;
    /// `OVS_TUNNEL_KEY_ATTR_CSUM`.
    pub const CSUM: u16 = 1 << 2;
    /// `OVS_TUNNEL_KEY_ATTR_OAM`.
    pub const OAM: u16 = 1 << 3;
}

/// Bits of the `IPV6_EXTHDRS` field: upstream `enum ofp12_ipv6exthdr_flags`
/// (`net/openvswitch/flow.h`), which `OVS_KEY_ATTR_IPV6_EXTHDRS` carries.
pub mod ipv6_exthdrs {
    /// "No next header" encountered.
    pub const NONEXT: u16 = 1 << 0;
    /// Encapsulating Security Payload header present.
    pub const ESP: u16 = 1 << 1;
    /// Authentication header present.
    pub const AUTH: u16 = 1 << 2;
    /// One or two Destination Options headers present.
    pub const DEST: u16 = 1 << 3;
    /// Fragment header present.
    pub const FRAG: u16 = 1 << 4;
    /// Routing header present.
    pub const ROUTER: u16 = 1 << 5;
    /// Hop-by-Hop Options header present (as the first extension header).
    pub const HOP: u16 = 1 << 6;
    /// Unexpected repeats encountered.
    pub const UNREP: u16 = 1 << 7;
    /// Unexpected sequencing encountered.
    pub const UNSEQ: u16 = 1 << 8;
}

/// A flow key (or, with the same layout, a mask). See the module documentation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
pub struct FlowKey {
    bytes: [u8; KEY_LEN],
}

impl Default for FlowKey {
    fn default() -> Self {
        Self::ZERO
    }
}

macro_rules! be_field {
    ($($(#[$doc:meta])* $get:ident, $set:ident: $ty:ty = $range:ident;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> $ty {
            let mut b = [0u8; core::mem::size_of::<$ty>()];
            b.copy_from_slice(self.bytes.get(field::$range).unwrap_or(&[0; core::mem::size_of::<$ty>()]));
            <$ty>::from_be_bytes(b)
        }
        #[doc = concat!("Sets the field read by [`Self::", stringify!($get), "`].")]
        pub fn $set(&mut self, v: $ty) {
            self.set_bytes(field::$range, &v.to_be_bytes());
        }
    )*};
}

macro_rules! byte_field {
    ($($(#[$doc:meta])* $get:ident, $set:ident = $off:ident;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> u8 {
            self.bytes.get(field::$off).copied().unwrap_or(0)
        }
        #[doc = concat!("Sets the field read by [`Self::", stringify!($get), "`].")]
        pub fn $set(&mut self, v: u8) {
            if let Some(b) = self.bytes.get_mut(field::$off) {
                *b = v;
            }
        }
    )*};
}

macro_rules! array_field {
    ($($(#[$doc:meta])* $get:ident, $set:ident: [$n:literal] = $range:ident;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $get(&self) -> [u8; $n] {
            let mut b = [0u8; $n];
            b.copy_from_slice(self.bytes.get(field::$range).unwrap_or(&[0; $n]));
            b
        }
        #[doc = concat!("Sets the field read by [`Self::", stringify!($get), "`].")]
        pub fn $set(&mut self, v: [u8; $n]) {
            self.set_bytes(field::$range, &v);
        }
    )*};
}

impl FlowKey {
    /// The all-zero key (also the all-wildcard mask).
    pub const ZERO: Self = Self { bytes: [0; KEY_LEN] };
    /// The all-ones mask (exact match on every field).
    pub const EXACT: Self = Self { bytes: [0xff; KEY_LEN] };

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// The raw bytes, mutable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8; KEY_LEN] {
        &mut self.bytes
    }

    /// Builds a key from raw bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// Word `i` (native endian, for masking, hashing and comparison only); 0 past the end.
    #[must_use]
    pub fn word(&self, i: usize) -> u64 {
        let start = i.saturating_mul(8);
        match self.bytes.get(start..start.saturating_add(8)) {
            Some(&[a, b, c, d, e, f, g, h]) => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
            _ => 0,
        }
    }

    /// Sets word `i` (see [`Self::word`]); ignored past the end.
    pub fn set_word(&mut self, i: usize, w: u64) {
        let start = i.saturating_mul(8);
        if let Some(dst) = self.bytes.get_mut(start..start.saturating_add(8)) {
            dst.copy_from_slice(&w.to_ne_bytes());
        }
    }

    /// Copies `v` into `range`; ignored if the lengths differ (never happens for [`field`]).
    pub fn set_bytes(&mut self, range: core::ops::Range<usize>, v: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(range) {
            if dst.len() == v.len() {
                dst.copy_from_slice(v);
            }
        }
    }

    /// `self & mask`, field by field.
    #[must_use]
    pub fn masked(&self, mask: &FlowKey) -> FlowKey {
        let mut out = FlowKey::ZERO;
        for (o, (k, m)) in out.bytes.iter_mut().zip(self.bytes.iter().zip(mask.bytes.iter())) {
            *o = k & m;
        }
        out
    }

    be_field! {
        /// Tunnel ID (GRE key, VXLAN VNI...), valid when [`tun_flags::KEY`] is set.
        tun_id, set_tun_id: u64 = TUN_ID;
        /// Outer IPv4 source of the tunnel.
        tun_ipv4_src, set_tun_ipv4_src: u32 = TUN_IPV4_SRC;
        /// Outer IPv4 destination of the tunnel.
        tun_ipv4_dst, set_tun_ipv4_dst: u32 = TUN_IPV4_DST;
        /// Tunnel flags ([`tun_flags`]).
        tun_flags, set_tun_flags: u16 = TUN_FLAGS;
        /// Outer transport source port.
        tun_tp_src, set_tun_tp_src: u16 = TUN_TP_SRC;
        /// Outer transport destination port.
        tun_tp_dst, set_tun_tp_dst: u16 = TUN_TP_DST;
        /// `skb->priority`.
        priority, set_priority: u32 = PRIORITY;
        /// `skb->mark`.
        skb_mark, set_skb_mark: u32 = SKB_MARK;
        /// Datapath port number the packet arrived on.
        in_port, set_in_port: u32 = IN_PORT;
        /// Recirculation ID (0 for packets fresh from a port).
        recirc_id, set_recirc_id: u32 = RECIRC_ID;
        /// Hash computed by the `hash` action.
        dp_hash, set_dp_hash: u32 = DP_HASH;
        /// Ethertype after any VLAN tags (`ETH_P_802_2` = 0x0004 for 802.2 frames, as the upstream kernel).
        eth_type, set_eth_type: u16 = ETH_TYPE;
        /// Outer VLAN TCI, [`VLAN_CFI`] set when present.
        vlan_tci, set_vlan_tci: u16 = VLAN_TCI;
        /// Outer VLAN TPID (0x8100 or 0x88a8).
        vlan_tpid, set_vlan_tpid: u16 = VLAN_TPID;
        /// Inner (customer) VLAN TCI, [`VLAN_CFI`] set when present.
        cvlan_tci, set_cvlan_tci: u16 = CVLAN_TCI;
        /// Inner VLAN TPID.
        cvlan_tpid, set_cvlan_tpid: u16 = CVLAN_TPID;
        /// L4 source port (ICMP: type).
        tp_src, set_tp_src: u16 = TP_SRC;
        /// L4 destination port (ICMP: code).
        tp_dst, set_tp_dst: u16 = TP_DST;
        /// TCP flags (low 12 bits).
        tcp_flags, set_tcp_flags: u16 = TCP_FLAGS;
        /// IPv4 source (ARP: SPA).
        ipv4_src, set_ipv4_src: u32 = IPV4_SRC;
        /// IPv4 destination (ARP: TPA).
        ipv4_dst, set_ipv4_dst: u32 = IPV4_DST;
        /// IPv6 flow label (low 20 bits).
        ipv6_label, set_ipv6_label: u32 = IPV6_LABEL;
        /// IPv6 extension header summary ([`ipv6_exthdrs`] bits; 0 for non-IPv6 packets).
        ipv6_exthdrs, set_ipv6_exthdrs: u16 = IPV6_EXTHDRS;
    }

    byte_field! {
        /// Outer ToS of the tunnel.
        tun_tos, set_tun_tos = TUN_TOS;
        /// Outer TTL of the tunnel.
        tun_ttl, set_tun_ttl = TUN_TTL;
        /// IP protocol / IPv6 next header (ARP: low byte of the opcode).
        ip_proto, set_ip_proto = IP_PROTO;
        /// IPv4 ToS / IPv6 traffic class.
        ip_tos, set_ip_tos = IP_TOS;
        /// IPv4 TTL / IPv6 hop limit.
        ip_ttl, set_ip_ttl = IP_TTL;
        /// Fragment type ([`frag`]).
        ip_frag, set_ip_frag = IP_FRAG;
    }

    array_field! {
        /// Outer IPv6 source of the tunnel.
        tun_ipv6_src, set_tun_ipv6_src: [16] = TUN_IPV6_SRC;
        /// Outer IPv6 destination of the tunnel.
        tun_ipv6_dst, set_tun_ipv6_dst: [16] = TUN_IPV6_DST;
        /// Ethernet source.
        eth_src, set_eth_src: [6] = ETH_SRC;
        /// Ethernet destination.
        eth_dst, set_eth_dst: [6] = ETH_DST;
        /// ARP sender hardware address (ND: source link-layer address).
        arp_sha, set_arp_sha: [6] = ARP_SHA;
        /// ARP target hardware address (ND: target link-layer address).
        arp_tha, set_arp_tha: [6] = ARP_THA;
        /// IPv6 source.
        ipv6_src, set_ipv6_src: [16] = IPV6_SRC;
        /// IPv6 destination.
        ipv6_dst, set_ipv6_dst: [16] = IPV6_DST;
        /// ND target address.
        nd_target, set_nd_target: [16] = ND_TARGET;
    }
}

impl fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowKey(")?;
        for (i, chunk) in self.bytes.chunks(8).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                write!(f, " w{i}=")?;
                for b in chunk {
                    write!(f, "{b:02x}")?;
                }
            }
        }
        f.write_str(" )")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_overlap_and_fit() {
        use field::*;
        let mut ranges = [
            TUN_ID, TUN_IPV4_SRC, TUN_IPV4_DST, TUN_FLAGS, TUN_TOS..TUN_TOS + 1,
            TUN_TTL..TUN_TTL + 1, TUN_TP_SRC, TUN_TP_DST, TUN_IPV6_SRC, TUN_IPV6_DST, PRIORITY,
            SKB_MARK, IN_PORT, RECIRC_ID, DP_HASH, ETH_SRC, ETH_DST, ETH_TYPE, VLAN_TCI, VLAN_TPID,
            CVLAN_TCI, CVLAN_TPID, IP_PROTO..IP_PROTO + 1, IP_TOS..IP_TOS + 1, IP_TTL..IP_TTL + 1,
            IP_FRAG..IP_FRAG + 1, TP_SRC, TP_DST, TCP_FLAGS, IPV4_SRC, IPV4_DST, ARP_SHA, ARP_THA,
            IPV6_SRC, IPV6_DST, IPV6_LABEL, ND_TARGET, IPV6_EXTHDRS,
        ];
        ranges.sort_by_key(|r| r.start);
        for pair in ranges.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0], pair[1]);
        }
        assert!(ranges.last().unwrap().end <= KEY_LEN);
        assert_eq!(KEY_LEN % 8, 0);
    }

    #[test]
    fn accessors_are_big_endian_and_round_trip() {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(0x0800);
        assert_eq!(&k.as_bytes()[field::ETH_TYPE], &[0x08, 0x00]);
        assert_eq!(k.eth_type(), 0x0800);
        k.set_eth_src([1, 2, 3, 4, 5, 6]);
        assert_eq!(k.eth_src(), [1, 2, 3, 4, 5, 6]);
        k.set_ip_ttl(64);
        assert_eq!(k.ip_ttl(), 64);
        k.set_tun_id(0x1122_3344_5566_7788);
        assert_eq!(k.word(0), u64::from_ne_bytes(0x1122_3344_5566_7788u64.to_be_bytes()));
    }

    #[test]
    fn masking_and_words() {
        let mut k = FlowKey::ZERO;
        k.set_ipv4_src(0x0a00_0001);
        k.set_ipv4_dst(0x0a00_0002);
        let mut m = FlowKey::ZERO;
        m.set_ipv4_dst(0xffff_ff00);
        let mk = k.masked(&m);
        assert_eq!(mk.ipv4_src(), 0);
        assert_eq!(mk.ipv4_dst(), 0x0a00_0000);
        let mut w = FlowKey::ZERO;
        for i in 0..KEY_WORDS {
            w.set_word(i, k.word(i));
        }
        assert_eq!(w, k);
        assert_eq!(k.word(KEY_WORDS), 0);
    }
}

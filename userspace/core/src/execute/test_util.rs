//! Test-only helpers: frame builders with correct checksums, full-recomputation checksum
//! verifiers, and packets whose key and header offsets come from flow extraction
//! ([`crate::extract`]).

use std::vec;
use std::vec::Vec;

use super::crc32c;
use crate::csum;
use crate::extract::{extract, Metadata};
use crate::key::FlowKey;
use crate::packet_buf::PacketBuf;

pub const MAC_DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const MAC_SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const SCTP: u8 = 132;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

pub fn tcp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    h[12] = 5 << 4;
    h[13] = 0x18;
    h[14..16].copy_from_slice(&1024u16.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 8];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn sctp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 12];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&0xdead_beefu32.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn icmp_echo(payload: &[u8]) -> Vec<u8> {
    let mut h = vec![128u8, 0, 0, 0, 0x12, 0x34, 0, 1];
    h.extend_from_slice(payload);
    h
}

fn eth(ethertype: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_DST);
    f.extend_from_slice(&MAC_SRC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

/// Ethernet + IPv4 (+ `l4`, checksummed). `frag_off` is the raw flags/offset word.
pub fn ipv4(proto: u8, src: u32, dst: u32, tos: u8, ttl: u8, frag_off: u16, l4: &[u8]) -> Vec<u8> {
    let mut f = eth(0x0800);
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[1] = tos;
    h[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
    h[6..8].copy_from_slice(&frag_off.to_be_bytes());
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.to_be_bytes());
    h[16..20].copy_from_slice(&dst.to_be_bytes());
    let c = csum::checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&h);
    f.extend_from_slice(l4);
    if frag_off & 0x1fff == 0 {
        fill_l4(&mut f, 14, 34, proto, false);
    }
    f
}

/// Ethernet + IPv6 + extension headers `ext` (already chained, the last one's next header
/// being `proto`) + `l4`, checksummed. `first` is the IPv6 next header.
#[allow(clippy::too_many_arguments)]
pub fn ipv6_ext(
    first: u8,
    proto: u8,
    src: [u8; 16],
    dst: [u8; 16],
    tclass: u8,
    label: u32,
    hlim: u8,
    ext: &[u8],
    l4: &[u8],
) -> Vec<u8> {
    let mut f = eth(0x86dd);
    let mut h = [0u8; 40];
    let word = (6u32 << 28) | (u32::from(tclass) << 20) | (label & 0xfffff);
    h[0..4].copy_from_slice(&word.to_be_bytes());
    h[4..6].copy_from_slice(&((ext.len() + l4.len()) as u16).to_be_bytes());
    h[6] = first;
    h[7] = hlim;
    h[8..24].copy_from_slice(&src);
    h[24..40].copy_from_slice(&dst);
    f.extend_from_slice(&h);
    f.extend_from_slice(ext);
    let t = f.len();
    f.extend_from_slice(l4);
    fill_l4(&mut f, 14, t, proto, true);
    f
}

pub fn ipv6(
    proto: u8,
    src: [u8; 16],
    dst: [u8; 16],
    tclass: u8,
    label: u32,
    hlim: u8,
    l4: &[u8],
) -> Vec<u8> {
    ipv6_ext(proto, proto, src, dst, tclass, label, hlim, &[], l4)
}

/// Offset of the checksum field in the L4 header of `proto`.
fn check_off(proto: u8) -> Option<usize> {
    match proto {
        TCP => Some(16),
        UDP => Some(6),
        ICMPV6 => Some(2),
        _ => None,
    }
}

/// The pseudo-header sum (IPv4 or IPv6) for the L4 segment at `t`.
pub fn pseudo_sum(f: &[u8], n: usize, t: usize, proto: u8, v6: bool) -> u32 {
    let len = (f.len() - t) as u32;
    let mut s =
        if v6 { csum::partial(&f[n + 8..n + 40], 0) } else { csum::partial(&f[n + 12..n + 20], 0) };
    s = csum::add32(s, len);
    csum::add32(s, u32::from(proto))
}

/// Fills the checksum of the L4 segment at `t` (TCP/UDP/ICMPv6 with pseudo-header, ICMP
/// without, SCTP CRC32c).
pub fn fill_l4(f: &mut [u8], n: usize, t: usize, proto: u8, v6: bool) {
    if proto == SCTP {
        f[t + 8..t + 12].fill(0);
        let c = crc32c::crc32c(&f[t..]);
        f[t + 8..t + 12].copy_from_slice(&c.to_le_bytes());
        return;
    }
    if proto == ICMP {
        f[t + 2..t + 4].fill(0);
        let c = csum::checksum(&f[t..]);
        f[t + 2..t + 4].copy_from_slice(&c.to_be_bytes());
        return;
    }
    let Some(off) = check_off(proto) else { return };
    f[t + off..t + off + 2].fill(0);
    let mut c = csum::finish(csum::partial(&f[t..], pseudo_sum(f, n, t, proto, v6)));
    if proto == UDP && c == 0 {
        c = 0xffff;
    }
    f[t + off..t + off + 2].copy_from_slice(&c.to_be_bytes());
}

/// Whether the IPv4 header at `n` sums to zero.
pub fn ipv4_ok(f: &[u8], n: usize) -> bool {
    let ihl = usize::from(f[n] & 0x0f) * 4;
    csum::checksum(&f[n..n + ihl]) == 0
}

/// Whether the L4 checksum of the segment at `t` verifies by full recomputation. A zero UDP
/// checksum counts as valid only if `udp_zero_ok`.
pub fn l4_ok(f: &[u8], n: usize, t: usize, proto: u8, v6: bool) -> bool {
    match proto {
        SCTP => {
            let mut g = f[t..].to_vec();
            let stored = u32::from_le_bytes(g[8..12].try_into().unwrap());
            g[8..12].fill(0);
            crc32c::crc32c(&g) == stored
        }
        ICMP => csum::checksum(&f[t..]) == 0,
        TCP | UDP | ICMPV6 => {
            csum::finish(csum::partial(&f[t..], pseudo_sum(f, n, t, proto, v6))) == 0
        }
        _ => true,
    }
}

/// The flow key of `frame` as [`extract`] finds it (no metadata).
pub fn key_of(frame: &[u8]) -> FlowKey {
    extract(frame, &Metadata::default()).0
}

/// A [`PacketBuf`] over `mem` holding `frame` after 32 bytes of headroom, with the header
/// offsets [`extract`] found; returns the extracted key too.
pub fn packet<'a>(mem: &'a mut [u8], frame: &[u8]) -> (PacketBuf<'a>, FlowKey) {
    let (key, offs) = extract(frame, &Metadata::default());
    let mut pkt = PacketBuf::with_frame(mem, 32, frame).unwrap();
    pkt.set_network_offset(offs.network.map(usize::from));
    pkt.set_transport_offset(offs.transport.map(usize::from));
    (pkt, key)
}

pub fn v6addr(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = last;
    a
}

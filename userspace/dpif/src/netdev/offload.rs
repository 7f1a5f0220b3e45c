//! Checksum-offload and segmentation state of frames crossing the userspace datapath: the
//! virtio-net header that AF_PACKET (`PACKET_VNET_HDR`) and tap (`IFF_VNET_HDR`) put before each
//! frame, and software checksum completion.
//!
//! The veth trap: a frame a local TCP/UDP stack sends through a veth leaves with
//! `CHECKSUM_PARTIAL` (the L4 checksum field holds only the pseudo-header sum) and possibly as
//! one large GSO frame. A plain AF_PACKET socket hands such a frame up as is, and forwarding it
//! as is puts a wrong checksum (or an oversized frame) on the wire. With the virtio-net header
//! the kernel tells us (`NEEDS_CSUM`, `csum_start`/`csum_offset`, `gso_type`/`gso_size`), the
//! datapath keeps that state through its actions (VLAN push/pop shift the offsets), and hands it
//! back on transmit, so the receiving kernel completes the checksum or segments. Where the frame
//! leaves the datapath without a header (upcalls to userspace), the checksum is completed in
//! software ([`complete_csum`]).

use rvs_core::csum;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`.
pub const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_NONE`.
pub const GSO_NONE: u8 = 0;

/// `struct virtio_net_hdr` (little-endian fields, as packet sockets and taps use on every
/// little-endian host).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`.
    pub gso_type: u8,
    /// Length of the headers to replicate per segment.
    pub hdr_len: u16,
    /// Segment payload size.
    pub gso_size: u16,
    /// Where checksumming starts (frame offset).
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Length on the wire.
    pub const LEN: usize = super::sys::VNET_HDR_LEN;

    /// Parses a header (zero if `b` is short).
    pub fn parse(b: &[u8]) -> Self {
        let u = |i: usize| b.get(i..i + 2).map_or(0, |x| u16::from_le_bytes([x[0], x[1]]));
        if b.len() < Self::LEN {
            return Self::default();
        }
        Self { flags: b[0], gso_type: b[1], hdr_len: u(2), gso_size: u(4), csum_start: u(6), csum_offset: u(8) }
    }

    /// The header's bytes.
    pub fn bytes(&self) -> [u8; Self::LEN] {
        let mut o = [0u8; Self::LEN];
        o[0] = self.flags;
        o[1] = self.gso_type;
        o[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        o[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        o[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        o[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        o
    }

    /// Whether the L4 checksum is left partial.
    pub fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }

    /// Whether the frame is a GSO super-frame.
    pub fn is_gso(&self) -> bool {
        self.gso_type != GSO_NONE
    }

    /// The header for transmit after the frame's headers grew by `delta` bytes in front of the
    /// network header (VLAN push +4, pop -4): offsets move, `DATA_VALID` is dropped (only
    /// meaningful on receive). `None` if the offsets no longer fit.
    pub fn shifted(&self, delta: isize) -> Option<Self> {
        let mv = |v: u16| -> Option<u16> {
            if v == 0 {
                return Some(0);
            }
            u16::try_from(isize::try_from(v).ok()?.checked_add(delta)?).ok()
        };
        Some(Self {
            flags: self.flags & F_NEEDS_CSUM,
            gso_type: self.gso_type,
            hdr_len: mv(self.hdr_len)?,
            gso_size: self.gso_size,
            csum_start: if self.needs_csum() { mv(self.csum_start)? } else { 0 },
            csum_offset: if self.needs_csum() { self.csum_offset } else { 0 },
        })
    }
}

/// Completes a partial checksum in software: sums `frame[start..]` (whose checksum field, at
/// `start + offset`, holds the pseudo-header sum) and stores the complement there. A UDP
/// checksum that comes out 0 is sent as 0xffff. Returns false if the offsets are out of range.
pub fn complete_csum(frame: &mut [u8], start: usize, offset: usize) -> bool {
    let field = start.saturating_add(offset);
    if start >= frame.len() || field.saturating_add(2) > frame.len() {
        return false;
    }
    let sum = csum::partial(&frame[start..], 0);
    let mut c = csum::finish(sum);
    let is_udp_like = offset == 6; // UDP and UDP-Lite put the checksum at offset 6
    if c == 0 && is_udp_like {
        c = 0xffff;
    }
    frame[field..field + 2].copy_from_slice(&c.to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_shifts() {
        let h = VnetHdr { flags: F_NEEDS_CSUM | F_DATA_VALID, gso_type: 1, hdr_len: 66, gso_size: 1448, csum_start: 34, csum_offset: 16 };
        assert_eq!(VnetHdr::parse(&h.bytes()), h);
        let s = h.shifted(4).unwrap();
        assert_eq!((s.flags, s.csum_start, s.hdr_len, s.csum_offset, s.gso_size), (F_NEEDS_CSUM, 38, 70, 16, 1448));
        let none = VnetHdr::default().shifted(-4).unwrap();
        assert_eq!(none, VnetHdr::default());
        assert!(VnetHdr { flags: F_NEEDS_CSUM, csum_start: 2, ..Default::default() }.shifted(-4).is_none());
        assert_eq!(VnetHdr::parse(&[1, 2, 3]), VnetHdr::default());
    }

    #[test]
    fn completes_a_partial_tcp_checksum() {
        // IPv4/TCP: 20-byte IP header at 14, TCP header at 34, checksum field at 34 + 16.
        let mut f = vec![0u8; 14 + 20 + 20 + 5];
        f[12] = 0x08;
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&45u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
        f[34..36].copy_from_slice(&1234u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[46] = 0x50;
        f[54..59].copy_from_slice(b"hello");
        // Pseudo header: src, dst, proto, TCP length (25).
        let mut ph = csum::partial(&[10, 0, 0, 1, 10, 0, 0, 2], 0);
        ph = csum::partial(&[0, 6, 0, 25], ph);
        let folded = csum::finish(ph); // folded and complemented
        // The partial field holds the folded, uncomplemented pseudo-header sum.
        f[50..52].copy_from_slice(&(!folded).to_be_bytes());
        assert!(complete_csum(&mut f, 34, 16));
        // Verify: the sum over pseudo header + segment is 0xffff.
        let total = csum::partial(&f[34..], ph);
        assert_eq!(csum::finish(total), 0, "checksum verifies");
        assert!(!complete_csum(&mut f, 100, 16));
    }
}

//! [`PacketBuf`]: a [`Packet`] over a caller-provided byte buffer, with headroom.
//!
//! Used by the userspace datapath and by the executor's tests. The frame occupies
//! `buf[start..end]`; the bytes before it are headroom (where a pushed VLAN tag goes), the bytes
//! after it tailroom. Unlike an `sk_buff`, every VLAN tag is kept in the data. The buffer is
//! strict on purpose, so that tests catch executor bugs the kernel would turn into corruption:
//! [`Packet::bytes_mut`] only hands out bytes covered by the last
//! [`Packet::ensure_writable`], and VLAN push/pop/truncation revoke that.
//!
//! Checksum-offload state is modelled by [`CsumState`]: `Complete` keeps a running 32-bit
//! one's-complement sum of the whole frame (like `skb->csum` with `CHECKSUM_COMPLETE`) that tests
//! can compare with a full recomputation ([`PacketBuf::csum_complete_ok`]).

use core::ops::Range;

use crate::csum;
use crate::key::FlowKey;
use crate::packet::{Packet, PacketError};

/// Length of a VLAN tag.
const VLAN_HLEN: usize = 4;
/// Offset of the (outer) ethertype / TPID: after the two MAC addresses.
const ETH_ADDRS_LEN: usize = 12;
/// Length of an untagged Ethernet header.
const ETH_HLEN: usize = 14;
/// 802.1Q TPID.
const ETH_P_8021Q: u16 = 0x8100;
/// 802.1ad TPID.
const ETH_P_8021AD: u16 = 0x88a8;

/// Checksum-offload state of a [`PacketBuf`] (upstream `skb->ip_summed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumState {
    /// No offload state: checksums in the data are what they are (`CHECKSUM_NONE`).
    None,
    /// L4 checksum to be completed by offload (`CHECKSUM_PARTIAL`).
    Partial,
    /// Running one's-complement sum of the whole frame (`CHECKSUM_COMPLETE`).
    Complete(u32),
}

/// A frame in a caller-provided buffer. See the module documentation.
#[derive(Debug)]
pub struct PacketBuf<'a> {
    buf: &'a mut [u8],
    start: usize,
    end: usize,
    network: Option<usize>,
    transport: Option<usize>,
    writable: usize,
    priority: u32,
    mark: u32,
    tunnel: Option<FlowKey>,
    csum: CsumState,
    hash: Option<u32>,
    drop_reason: Option<crate::actions::DropReason>,
}

impl<'a> PacketBuf<'a> {
    /// A packet whose frame is already in `buf[headroom..headroom + len]`.
    ///
    /// # Errors
    /// [`PacketError::TooShort`] if the buffer does not hold that range.
    pub fn new(buf: &'a mut [u8], headroom: usize, len: usize) -> Result<Self, PacketError> {
        let end = headroom.checked_add(len).ok_or(PacketError::TooShort)?;
        if end > buf.len() {
            return Err(PacketError::TooShort);
        }
        Ok(Self {
            buf,
            start: headroom,
            end,
            network: None,
            transport: None,
            writable: 0,
            priority: 0,
            mark: 0,
            tunnel: None,
            csum: CsumState::None,
            hash: None,
            drop_reason: None,
        })
    }

    /// Why the actions dropped this packet, if they did so explicitly (`drop`, `dec_ttl`).
    #[must_use]
    pub fn drop_reason(&self) -> Option<crate::actions::DropReason> {
        self.drop_reason
    }

    /// Copies `frame` into `buf` after `headroom` bytes and wraps it.
    ///
    /// # Errors
    /// [`PacketError::NoMemory`] if `buf` is too small.
    pub fn with_frame(
        buf: &'a mut [u8],
        headroom: usize,
        frame: &[u8],
    ) -> Result<Self, PacketError> {
        let end = headroom.checked_add(frame.len()).ok_or(PacketError::NoMemory)?;
        buf.get_mut(headroom..end).ok_or(PacketError::NoMemory)?.copy_from_slice(frame);
        Self::new(buf, headroom, frame.len())
    }

    /// Copies this packet, its offsets and metadata into `buf`, with the same headroom if it
    /// fits (less otherwise). This is how an embedder implements a packet clone.
    ///
    /// # Errors
    /// [`PacketError::NoMemory`] if `buf` cannot hold the frame.
    pub fn copy_into<'b>(&self, buf: &'b mut [u8]) -> Result<PacketBuf<'b>, PacketError> {
        let len = self.data().len();
        let headroom = self.start.min(buf.len().saturating_sub(len));
        let mut copy = PacketBuf::with_frame(buf, headroom, self.data())?;
        copy.network = self.network;
        copy.transport = self.transport;
        copy.priority = self.priority;
        copy.mark = self.mark;
        copy.tunnel = self.tunnel;
        copy.csum = self.csum;
        copy.hash = self.hash;
        Ok(copy)
    }

    /// The frame.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Bytes free before the frame.
    #[must_use]
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Sets the network header offset (normally done by whoever parsed the frame).
    pub fn set_network_offset(&mut self, offset: Option<usize>) {
        self.network = offset;
    }

    /// Sets the transport header offset (normally done by whoever parsed the frame).
    pub fn set_transport_offset(&mut self, offset: Option<usize>) {
        self.transport = offset;
    }

    /// The checksum-offload state.
    #[must_use]
    pub fn csum_state(&self) -> CsumState {
        self.csum
    }

    /// Marks the L4 checksum as left to offload (`CHECKSUM_PARTIAL`).
    pub fn set_csum_partial(&mut self) {
        self.csum = CsumState::Partial;
    }

    /// Starts tracking a `CHECKSUM_COMPLETE` sum of the current frame.
    pub fn set_csum_complete(&mut self) {
        self.csum = CsumState::Complete(csum::partial(self.data(), 0));
    }

    /// Drops any checksum-offload state (`CHECKSUM_NONE`).
    pub fn clear_csum(&mut self) {
        self.csum = CsumState::None;
    }

    /// With [`CsumState::Complete`], whether the tracked sum still equals the sum of the frame
    /// (compared modulo 0xffff, as one's-complement sums are); `None` in other states.
    #[must_use]
    pub fn csum_complete_ok(&self) -> Option<bool> {
        match self.csum {
            CsumState::Complete(sum) => {
                let actual = u32::from(!csum::finish(csum::partial(self.data(), 0)));
                let tracked = u32::from(!csum::finish(sum));
                Some(actual % 0xffff == tracked % 0xffff)
            }
            _ => None,
        }
    }

    /// The egress tunnel metadata set by [`Packet::set_tunnel`].
    #[must_use]
    pub fn tunnel(&self) -> Option<&FlowKey> {
        self.tunnel.as_ref()
    }

    /// The cached flow hash (`skb->hash`), if any.
    #[must_use]
    pub fn hash(&self) -> Option<u32> {
        self.hash
    }

    /// Caches a flow hash (as a NIC's RSS hash would be).
    pub fn set_hash(&mut self, hash: u32) {
        self.hash = Some(hash);
    }

    /// Absolute buffer range of frame-relative `range`, if inside the frame.
    fn abs(&self, range: Range<usize>) -> Option<Range<usize>> {
        let start = self.start.checked_add(range.start)?;
        let end = self.start.checked_add(range.end)?;
        (start <= end && end <= self.end).then_some(start..end)
    }

    /// Adds the sum of `bytes` (at an even frame offset) to a `Complete` sum, or subtracts it.
    fn adjust_complete(&mut self, bytes: &[u8], add: bool) {
        if let CsumState::Complete(sum) = self.csum {
            let part = csum::partial(bytes, 0);
            let term =
                if add { u32::from(!csum::finish(part)) } else { u32::from(csum::finish(part)) };
            self.csum = CsumState::Complete(csum::add32(sum, term));
        }
    }
}

impl Packet for PacketBuf<'_> {
    fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    fn network_offset(&self) -> Option<usize> {
        self.network
    }

    fn transport_offset(&self) -> Option<usize> {
        self.transport
    }

    fn bytes(&self, range: Range<usize>) -> Option<&[u8]> {
        let abs = self.abs(range)?;
        self.buf.get(abs)
    }

    fn ensure_writable(&mut self, upto: usize) -> Result<(), PacketError> {
        if upto > self.len() {
            return Err(PacketError::TooShort);
        }
        self.writable = self.writable.max(upto);
        Ok(())
    }

    fn bytes_mut(&mut self, range: Range<usize>) -> Option<&mut [u8]> {
        if range.end > self.writable {
            return None;
        }
        let abs = self.abs(range)?;
        self.buf.get_mut(abs)
    }

    fn push_vlan(&mut self, tpid: u16, tci: u16) -> Result<(), PacketError> {
        if self.len() < ETH_ADDRS_LEN {
            return Err(PacketError::TooShort);
        }
        let addrs_end = self.start.checked_add(ETH_ADDRS_LEN).ok_or(PacketError::TooShort)?;
        if let Some(new_start) = self.start.checked_sub(VLAN_HLEN) {
            // Move the MAC addresses into the headroom.
            self.buf.copy_within(self.start..addrs_end, new_start);
            self.start = new_start;
        } else {
            // No headroom: move everything after the MAC addresses into the tailroom.
            let new_end = self.end.checked_add(VLAN_HLEN).ok_or(PacketError::NoMemory)?;
            if new_end > self.buf.len() {
                return Err(PacketError::NoMemory);
            }
            let to = addrs_end.checked_add(VLAN_HLEN).ok_or(PacketError::NoMemory)?;
            self.buf.copy_within(addrs_end..self.end, to);
            self.end = new_end;
        }
        let [p0, p1] = tpid.to_be_bytes();
        let [t0, t1] = tci.to_be_bytes();
        let tag = [p0, p1, t0, t1];
        let tag_at =
            self.abs(ETH_ADDRS_LEN..ETH_ADDRS_LEN + VLAN_HLEN).ok_or(PacketError::TooShort)?;
        self.buf.get_mut(tag_at).ok_or(PacketError::TooShort)?.copy_from_slice(&tag);
        self.adjust_complete(&tag, true);
        self.network = self.network.and_then(|n| n.checked_add(VLAN_HLEN));
        self.transport = self.transport.and_then(|t| t.checked_add(VLAN_HLEN));
        self.writable = 0;
        Ok(())
    }

    fn pop_vlan(&mut self) -> Result<(), PacketError> {
        let tpid = match self.bytes(ETH_ADDRS_LEN..ETH_HLEN) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => return Ok(()),
        };
        if tpid != ETH_P_8021Q && tpid != ETH_P_8021AD {
            return Ok(());
        }
        let mut tag = [0u8; VLAN_HLEN];
        tag.copy_from_slice(
            self.bytes(ETH_ADDRS_LEN..ETH_ADDRS_LEN + VLAN_HLEN).ok_or(PacketError::TooShort)?,
        );
        if self.len() < ETH_HLEN.saturating_add(VLAN_HLEN) {
            return Err(PacketError::TooShort);
        }
        self.adjust_complete(&tag, false);
        let addrs_end = self.start.checked_add(ETH_ADDRS_LEN).ok_or(PacketError::TooShort)?;
        let new_start = self.start.checked_add(VLAN_HLEN).ok_or(PacketError::TooShort)?;
        self.buf.copy_within(self.start..addrs_end, new_start);
        self.start = new_start;
        // As `__skb_vlan_pop`: the network header never points into the Ethernet header.
        self.network = self.network.map(|n| n.saturating_sub(VLAN_HLEN).max(ETH_HLEN));
        self.transport = self.transport.map(|t| t.saturating_sub(VLAN_HLEN));
        self.writable = 0;
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.end = self.start.saturating_add(len);
            self.writable = self.writable.min(len);
            // As `pskb_trim_rcsum`: a complete sum no longer describes the data.
            if matches!(self.csum, CsumState::Complete(_)) {
                self.csum = CsumState::None;
            }
        }
    }

    fn priority(&self) -> u32 {
        self.priority
    }

    fn set_priority(&mut self, priority: u32) {
        self.priority = priority;
    }

    fn mark(&self) -> u32 {
        self.mark
    }

    fn set_mark(&mut self, mark: u32) {
        self.mark = mark;
    }

    fn set_tunnel(&mut self, tun: &FlowKey) -> Result<(), PacketError> {
        self.tunnel = Some(*tun);
        Ok(())
    }

    fn csum_partial(&self) -> bool {
        self.csum == CsumState::Partial
    }

    fn csum_complete_add(&mut self, delta: u16) {
        if let CsumState::Complete(sum) = self.csum {
            self.csum = CsumState::Complete(csum::add32(sum, u32::from(delta)));
        }
    }

    fn clear_hash(&mut self) {
        self.hash = None;
    }

    fn set_drop_reason(&mut self, reason: crate::actions::DropReason) {
        self.drop_reason = Some(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 20] = [
        0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x14, 0x12, 0x34,
    ];

    #[test]
    fn push_then_pop_round_trips_with_and_without_headroom() {
        for headroom in [0usize, 2, 4, 16] {
            let mut mem = [0u8; 64];
            let mut p = PacketBuf::with_frame(&mut mem, headroom, &FRAME).unwrap();
            p.set_network_offset(Some(14));
            p.set_transport_offset(Some(34));
            p.set_csum_complete();
            p.push_vlan(0x8100, 0x0123).unwrap();
            assert_eq!(p.len(), 24);
            assert_eq!(&p.data()[..12], &FRAME[..12]);
            assert_eq!(&p.data()[12..16], &[0x81, 0x00, 0x01, 0x23]);
            assert_eq!(&p.data()[16..], &FRAME[12..]);
            assert_eq!(p.network_offset(), Some(18));
            assert_eq!(p.transport_offset(), Some(38));
            assert_eq!(p.csum_complete_ok(), Some(true));
            p.pop_vlan().unwrap();
            assert_eq!(p.data(), &FRAME);
            assert_eq!(p.network_offset(), Some(14));
            assert_eq!(p.transport_offset(), Some(34));
            assert_eq!(p.csum_complete_ok(), Some(true));
        }
    }

    #[test]
    fn push_without_any_room_fails() {
        let mut mem = FRAME;
        let mut p = PacketBuf::new(&mut mem, 0, 20).unwrap();
        assert_eq!(p.push_vlan(0x8100, 1), Err(PacketError::NoMemory));
        assert_eq!(p.data(), &FRAME);
    }

    #[test]
    fn pop_untagged_is_a_no_op_and_short_tagged_is_an_error() {
        let mut mem = FRAME;
        let mut p = PacketBuf::new(&mut mem, 0, 20).unwrap();
        p.pop_vlan().unwrap();
        assert_eq!(p.data(), &FRAME);
        let mut short = [0u8; 16];
        short[12..14].copy_from_slice(&[0x88, 0xa8]);
        let mut p = PacketBuf::new(&mut short, 0, 16).unwrap();
        assert_eq!(p.pop_vlan(), Err(PacketError::TooShort));
        assert_eq!(p.len(), 16);
    }

    #[test]
    fn writes_need_ensure_writable_and_vlan_ops_revoke_it() {
        let mut mem = [0u8; 40];
        let mut p = PacketBuf::with_frame(&mut mem, 8, &FRAME).unwrap();
        assert!(p.bytes_mut(0..6).is_none());
        assert_eq!(p.ensure_writable(21), Err(PacketError::TooShort));
        p.ensure_writable(14).unwrap();
        assert!(p.bytes_mut(0..14).is_some());
        assert!(p.bytes_mut(0..15).is_none());
        p.push_vlan(0x8100, 1).unwrap();
        assert!(p.bytes_mut(0..6).is_none());
    }

    #[test]
    fn truncate_and_copy() {
        let mut mem = [0u8; 40];
        let mut p = PacketBuf::with_frame(&mut mem, 8, &FRAME).unwrap();
        p.set_mark(7);
        p.set_csum_complete();
        let mut other = [0u8; 24];
        let c = p.copy_into(&mut other).unwrap();
        assert_eq!(c.data(), &FRAME);
        assert_eq!(c.mark(), 7);
        assert_eq!(c.headroom(), 4, "headroom shrinks to what fits");
        p.truncate(100);
        assert_eq!(p.len(), 20);
        p.truncate(10);
        assert_eq!(p.data(), &FRAME[..10]);
        assert_eq!(p.csum_state(), CsumState::None);
        let mut tiny = [0u8; 8];
        assert_eq!(c.copy_into(&mut tiny).unwrap_err(), PacketError::NoMemory);
    }
}

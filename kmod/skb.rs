//! An owned `struct sk_buff` and the shared core's [`Packet`] trait over it.
//!
//! [`Skb`] owns one reference to an skb and frees it (as a drop) when dropped unless it was taken with
//! [`Skb::into_raw`] (for transmission or a netlink send). Offsets are relative to `skb->data`, which the datapath
//! keeps at the Ethernet header.

use core::ops::Range;

use crate::extract::TunnelMeta;
use crate::glue::{ffi, NetDevice, RxInfo, SkBuff, TunMeta};
use crate::key::FlowKey;
use crate::packet::{Packet, PacketError};

/// `CHECKSUM_PARTIAL`.
const CHECKSUM_PARTIAL: i32 = 3;

/// An owned sk_buff with the header offsets the flow key extraction found.
///
/// # Invariants
///
/// `skb` is null (consumed) or a valid sk_buff this value owns one reference to; while owned, `skb->data` is the
/// start of the Ethernet header and `writable` bytes from it are private and writable.
pub(crate) struct Skb {
    skb: *mut SkBuff,
    network: Option<usize>,
    transport: Option<usize>,
    writable: usize,
    /// Drop reason to free with (`DropReason::kernel_code`; 0: plain `kfree_skb`).
    drop_reason: u32,
    /// The prebuilt metadata dst of the flow whose actions run on this packet, for its one `set(tunnel)` (null:
    /// none; see `FlowData::tun_dst`). Valid in the current RCU read-side section.
    tun_dst: *mut core::ffi::c_void,
}

impl Skb {
    /// Takes ownership of `skb`.
    ///
    /// # Safety
    ///
    /// `skb` is a valid sk_buff whose reference the caller hands over, with `skb->data` at the Ethernet header.
    pub(crate) unsafe fn from_raw(skb: *mut SkBuff) -> Self {
        Self { skb, network: None, transport: None, writable: 0, drop_reason: 0, tun_dst: core::ptr::null_mut() }
    }

    /// A packet holding a copy of `data` (`OVS_PACKET_CMD_EXECUTE`); `None` without memory.
    pub(crate) fn from_data(data: &[u8]) -> Option<Self> {
        let len = u32::try_from(data.len()).ok()?;
        // SAFETY: `data` is valid for `len` bytes.
        let skb = unsafe { ffi::rvs_skb_from_data(data.as_ptr(), len) };
        if skb.is_null() {
            return None;
        }
        // SAFETY: A fresh skb owned by us, data at the frame start.
        Some(unsafe { Self::from_raw(skb) })
    }

    /// The raw pointer (still owned).
    pub(crate) fn as_ptr(&self) -> *mut SkBuff {
        self.skb
    }

    /// Gives up ownership, returning the raw skb (null if already consumed).
    pub(crate) fn into_raw(mut self) -> *mut SkBuff {
        core::mem::replace(&mut self.skb, core::ptr::null_mut())
    }

    /// Takes the skb out, leaving this value consumed.
    pub(crate) fn take(&mut self) -> Skb {
        Skb {
            skb: core::mem::replace(&mut self.skb, core::ptr::null_mut()),
            network: self.network,
            transport: self.transport,
            writable: self.writable,
            drop_reason: core::mem::take(&mut self.drop_reason),
            tun_dst: self.tun_dst,
        }
    }

    /// A clone sharing the data (`skb_clone`), or `None` without memory.
    pub(crate) fn clone_skb(&self) -> Option<Skb> {
        if self.skb.is_null() {
            return None;
        }
        // SAFETY: `self.skb` is valid by the type invariant.
        let c = unsafe { ffi::rvs_skb_clone(self.skb) };
        if c.is_null() {
            return None;
        }
        Some(Skb {
            skb: c,
            network: self.network,
            transport: self.transport,
            writable: 0,
            drop_reason: 0,
            tun_dst: self.tun_dst,
        })
    }

    /// Makes the first `len` bytes (at most the packet length) linear.
    pub(crate) fn pull_headers(&mut self, len: usize) -> bool {
        if self.skb.is_null() {
            return false;
        }
        let want = u32::try_from(len.min(self.len())).unwrap_or(0);
        // SAFETY: Valid skb by the type invariant.
        unsafe { ffi::rvs_skb_may_pull(self.skb, want) }
    }

    /// Everything the receive path reads, in one C call (`rvs_skb_rx_info`): pulls `pull` bytes linear first.
    pub(crate) fn rx_info(&mut self, pull: usize) -> Option<RxInfo> {
        if self.skb.is_null() {
            return None;
        }
        let mut info = RxInfo {
            data: core::ptr::null(),
            jiffies: 0,
            headlen: 0,
            len: 0,
            priority: 0,
            mark: 0,
            hash: 0,
            cpu: 0,
            vlan_tpid: 0,
            vlan_tci: 0,
            has_vlan: 0,
            has_tunnel: 0,
        };
        let pull = core::ffi::c_uint::try_from(pull).unwrap_or(core::ffi::c_uint::MAX);
        // SAFETY: Valid skb by the type invariant; `info` is a local out-parameter of the C layout.
        unsafe { ffi::rvs_skb_rx_info(self.skb, pull, &mut info) };
        Some(info)
    }

    /// The linear bytes `info` (from [`Self::rx_info`] on this skb, unchanged since) describes.
    pub(crate) fn linear_of(&self, info: &RxInfo) -> &[u8] {
        if self.skb.is_null() || info.data.is_null() {
            return &[];
        }
        let len = usize::try_from(info.headlen).unwrap_or(0);
        // SAFETY: `info` describes this skb's linear area, which is readable while we own the skb and unchanged
        // while `&self` is borrowed (every change goes through `&mut self`).
        unsafe { core::slice::from_raw_parts(info.data, len) }
    }

    /// Records the header offsets found by extraction, sets the skb's mac/network/transport headers and protocol
    /// (one C call).
    pub(crate) fn set_headers_proto(&mut self, network: Option<usize>, transport: Option<usize>, eth_type: u16) {
        self.network = network;
        self.transport = transport;
        if self.skb.is_null() {
            return;
        }
        let n = network.and_then(|v| i32::try_from(v).ok()).unwrap_or(-1);
        let t = transport.and_then(|v| i32::try_from(v).ok()).unwrap_or(-1);
        // SAFETY: Valid skb; the offsets lie within the frame (extraction found headers there).
        unsafe { ffi::rvs_skb_set_headers_proto(self.skb, n, t, eth_type) };
    }

    /// Sets the flow's prebuilt `set(tunnel)` dst (null: none) for the actions about to run.
    pub(crate) fn set_tun_dst_hint(&mut self, md: *mut core::ffi::c_void) {
        self.tun_dst = md;
    }

    /// The linear bytes (`skb_headlen` from `skb->data`).
    pub(crate) fn linear(&self) -> &[u8] {
        if self.skb.is_null() {
            return &[];
        }
        // SAFETY: The linear area `data .. data + headlen` is readable while we own the skb, and `&self` keeps
        // the skb from being changed for the slice's lifetime.
        unsafe {
            let data = ffi::rvs_skb_data(self.skb);
            let len = usize::try_from(ffi::rvs_skb_headlen(self.skb)).unwrap_or(0);
            core::slice::from_raw_parts(data, len)
        }
    }

    /// The offloaded VLAN tag (TPID, TCI), if any.
    pub(crate) fn hw_vlan(&self) -> Option<(u16, u16)> {
        if self.skb.is_null() {
            return None;
        }
        let (mut tpid, mut tci) = (0u16, 0u16);
        // SAFETY: Valid skb; out-pointers are local.
        unsafe { ffi::rvs_skb_vlan(self.skb, &mut tpid, &mut tci) }.then_some((tpid, tci))
    }

    /// `skb_get_hash`.
    pub(crate) fn hash(&mut self) -> u32 {
        if self.skb.is_null() {
            return 0;
        }
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_get_hash(self.skb) }
    }

    /// The hash the skb already carries, without computing one (`skb_get_hash_raw`; 0 if none).
    pub(crate) fn hash_raw(&self) -> u32 {
        if self.skb.is_null() {
            return 0;
        }
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_hash_raw(self.skb) }
    }

    /// Whether the packet is a GSO super-packet.
    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: Valid skb (or null checked).
        !self.skb.is_null() && unsafe { ffi::rvs_skb_is_gso(self.skb) }
    }

    /// The receive-side tunnel metadata (a packet decapsulated by a collect_md tunnel device), if any.
    pub(crate) fn tunnel(&self) -> Option<TunnelMeta> {
        if self.skb.is_null() {
            return None;
        }
        let mut t = TunMeta::default();
        // SAFETY: Valid skb; `t` is a local out-parameter of the C layout.
        if !unsafe { ffi::rvs_skb_tunnel_get(self.skb, &mut t) } {
            return None;
        }
        Some(TunnelMeta {
            id: t.id,
            ipv4_src: t.ipv4_src,
            ipv4_dst: t.ipv4_dst,
            ipv6_src: t.ipv6_src,
            ipv6_dst: t.ipv6_dst,
            flags: t.flags,
            tos: t.tos,
            ttl: t.ttl,
            tp_src: t.tp_src,
            tp_dst: t.tp_dst,
        })
    }

    /// Sets `skb->dev` (the input device of an executed packet).
    pub(crate) fn set_dev(&mut self, dev: *mut NetDevice) {
        if !self.skb.is_null() {
            // SAFETY: Valid skb; `dev` is a live device the caller holds (RCU or reference).
            unsafe { ffi::rvs_skb_set_dev(self.skb, dev) };
        }
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        if !self.skb.is_null() {
            // SAFETY: We own one reference by the type invariant.
            unsafe {
                if self.drop_reason != 0 {
                    ffi::rvs_kfree_skb_reason(self.skb, self.drop_reason);
                } else {
                    ffi::rvs_kfree_skb(self.skb);
                }
            }
        }
    }
}

impl Packet for Skb {
    fn fits_len(&self, max_len: usize) -> bool {
        if self.skb.is_null() {
            return true;
        }
        let max = core::ffi::c_uint::try_from(max_len).unwrap_or(core::ffi::c_uint::MAX);
        // SAFETY: Valid skb by the type invariant.
        unsafe { ffi::rvs_skb_fits_len(self.skb, max) }
    }

    fn set_drop_reason(&mut self, reason: crate::actions::DropReason) {
        self.drop_reason = reason.kernel_code();
    }

    fn len(&self) -> usize {
        if self.skb.is_null() {
            return 0;
        }
        // SAFETY: Valid skb.
        usize::try_from(unsafe { ffi::rvs_skb_len(self.skb) }).unwrap_or(0)
    }

    fn network_offset(&self) -> Option<usize> {
        self.network
    }

    fn transport_offset(&self) -> Option<usize> {
        self.transport
    }

    fn bytes(&self, range: Range<usize>) -> Option<&[u8]> {
        self.linear().get(range)
    }

    fn read_chunks(&self, range: Range<usize>, f: &mut dyn FnMut(&[u8])) -> Result<(), PacketError> {
        if range.end > self.len() || range.start > range.end {
            return Err(PacketError::TooShort);
        }
        if let Some(b) = self.bytes(range.clone()) {
            f(b);
            return Ok(());
        }
        let mut buf = [0u8; 256];
        let mut pos = range.start;
        while pos < range.end {
            let n = (range.end.wrapping_sub(pos)).min(buf.len());
            let off = i32::try_from(pos).map_err(|_| PacketError::TooShort)?;
            let len = i32::try_from(n).map_err(|_| PacketError::TooShort)?;
            // SAFETY: Valid skb; `buf` has room for `n` bytes.
            let r = unsafe { ffi::rvs_skb_copy_bits(self.skb, off, buf.as_mut_ptr().cast(), len) };
            if r != 0 {
                return Err(PacketError::TooShort);
            }
            f(buf.get(..n).unwrap_or(&[]));
            pos = pos.wrapping_add(n);
        }
        Ok(())
    }

    fn ensure_writable(&mut self, upto: usize) -> Result<(), PacketError> {
        if upto > self.len() {
            return Err(PacketError::TooShort);
        }
        let n = u32::try_from(upto).map_err(|_| PacketError::TooShort)?;
        // SAFETY: Valid skb.
        if unsafe { ffi::rvs_skb_ensure_writable(self.skb, n) } != 0 {
            return Err(PacketError::NoMemory);
        }
        self.writable = self.writable.max(upto);
        Ok(())
    }

    fn bytes_mut(&mut self, range: Range<usize>) -> Option<&mut [u8]> {
        if range.end > self.writable || range.start > range.end || self.skb.is_null() {
            return None;
        }
        // SAFETY: `skb_ensure_writable` made the first `writable` bytes linear and private; `&mut self` gives
        // exclusive access for the slice's lifetime.
        unsafe {
            let data = ffi::rvs_skb_data(self.skb);
            Some(core::slice::from_raw_parts_mut(data.add(range.start), range.end.wrapping_sub(range.start)))
        }
    }

    fn push_vlan(&mut self, tpid: u16, tci: u16) -> Result<(), PacketError> {
        let before = self.len();
        // SAFETY: Valid skb with its mac header at `data` (set by `set_headers_proto`).
        if unsafe { ffi::rvs_skb_vlan_push(self.skb, tpid, tci) } != 0 {
            return Err(PacketError::NoMemory);
        }
        let delta = self.len().wrapping_sub(before);
        self.network = self.network.map(|o| o.wrapping_add(delta));
        self.transport = self.transport.map(|o| o.wrapping_add(delta));
        self.writable = 0;
        Ok(())
    }

    fn pop_vlan(&mut self) -> Result<(), PacketError> {
        let before = self.len();
        // SAFETY: Valid skb with its mac header at `data`.
        if unsafe { ffi::rvs_skb_vlan_pop(self.skb) } != 0 {
            return Err(PacketError::TooShort);
        }
        let delta = before.wrapping_sub(self.len());
        self.network = self.network.map(|o| o.saturating_sub(delta));
        self.transport = self.transport.map(|o| o.saturating_sub(delta));
        self.writable = 0;
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        if len < self.len() {
            let n = u32::try_from(len).unwrap_or(u32::MAX);
            // SAFETY: Valid skb.
            let _ = unsafe { ffi::rvs_skb_trim(self.skb, n) };
            self.writable = self.writable.min(len);
        }
    }

    fn priority(&self) -> u32 {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_priority(self.skb) }
    }

    fn set_priority(&mut self, priority: u32) {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_set_priority(self.skb, priority) }
    }

    fn mark(&self) -> u32 {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_mark(self.skb) }
    }

    fn set_mark(&mut self, mark: u32) {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_set_mark(self.skb, mark) }
    }

    fn set_tunnel(&mut self, tun: &FlowKey) -> Result<(), PacketError> {
        if self.skb.is_null() {
            return Err(PacketError::TooShort);
        }
        if !self.tun_dst.is_null() {
            // SAFETY: Valid skb; the hint is the running flow's dst for its only set(tunnel), built from the same
            // payload, alive for this read-side section (released a grace period after the flow drops it).
            unsafe { ffi::rvs_skb_tunnel_set_dst(self.skb, self.tun_dst) };
            return Ok(());
        }
        let t = tun_meta(tun);
        // SAFETY: Valid skb we own; `t` is read during the call only. The skb's dst is replaced by a fresh
        // metadata dst (its reference is handed to the skb).
        if unsafe { ffi::rvs_skb_tunnel_set(self.skb, &t) } != 0 {
            return Err(PacketError::NoMemory);
        }
        Ok(())
    }

    fn csum_partial(&self) -> bool {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_ip_summed(self.skb) == CHECKSUM_PARTIAL }
    }

    fn csum_complete_add(&mut self, delta: u16) {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_csum_add(self.skb, delta) }
    }

    fn clear_hash(&mut self) {
        // SAFETY: Valid skb.
        unsafe { ffi::rvs_skb_clear_hash(self.skb) }
    }
}

/// The C glue's tunnel metadata for a `set(tunnel)` value.
pub(crate) fn tun_meta(tun: &FlowKey) -> TunMeta {
    TunMeta {
        id: tun.tun_id(),
        ipv4_src: tun.tun_ipv4_src(),
        ipv4_dst: tun.tun_ipv4_dst(),
        ipv6_src: tun.tun_ipv6_src(),
        ipv6_dst: tun.tun_ipv6_dst(),
        flags: tun.tun_flags(),
        tos: tun.tun_tos(),
        ttl: tun.tun_ttl(),
        tp_src: tun.tun_tp_src(),
        tp_dst: tun.tun_tp_dst(),
        ipv6: u8::from(tun.tun_ipv4_dst() == 0 && tun.tun_ipv6_dst() != [0; 16]),
        pad: [0; 7],
    }
}

//! The [`Packet`] trait: what the action executor needs from a packet, and nothing more.
//!
//! Two implementations exist: the kernel module's, over a `struct sk_buff`, and
//! [`crate::packet_buf::PacketBuf`], over a caller-provided byte buffer (userspace datapath and
//! tests). The trait is shaped so that the kernel implementation is a thin layer of one-line
//! calls into the skb API:
//!
//! - offsets are relative to the start of the frame (the Ethernet header, `skb->data` in the
//!   datapath); the network and transport offsets are tracked by the implementation (the kernel
//!   sets them while extracting the flow key) and kept up to date across VLAN push/pop;
//! - the outermost VLAN tag may live outside the data (the kernel's "hwaccel" tag in
//!   `skb->vlan_tci`): the executor never parses tags itself, it only calls
//!   [`Packet::push_vlan`]/[`Packet::pop_vlan`];
//! - writes go through [`Packet::ensure_writable`] (`skb_ensure_writable`) and then
//!   [`Packet::bytes_mut`], which may only hand out bytes made writable that way;
//! - checksum offload: the executor asks [`Packet::csum_partial`] (`skb->ip_summed ==
//!   CHECKSUM_PARTIAL`) to decide how to patch L4 checksums, and reports every byte change to
//!   [`Packet::csum_complete_add`] so that a `CHECKSUM_COMPLETE` sum (`skb->csum`) stays exact.

use core::fmt;
use core::ops::Range;

use crate::key::FlowKey;

/// Why a packet operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// The packet is shorter than the operation requires (`pskb_may_pull` failed).
    TooShort,
    /// No memory (or no head/tail room) to make the change (`-ENOMEM`).
    NoMemory,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooShort => "packet too short",
            Self::NoMemory => "out of packet memory",
        })
    }
}

/// A packet the datapath executes actions on. See the module documentation.
pub trait Packet {
    /// Length of the frame in bytes (excluding a VLAN tag kept outside the data).
    fn len(&self) -> usize;

    /// Whether the frame has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offset of the network (L3) header, if known.
    fn network_offset(&self) -> Option<usize>;

    /// Offset of the transport (L4) header, if known.
    fn transport_offset(&self) -> Option<usize>;

    /// The bytes in `range`, or `None` if the range is not entirely inside the readable
    /// (linear) part of the frame.
    fn bytes(&self, range: Range<usize>) -> Option<&[u8]>;

    /// Feeds the bytes in `range` to `f`, in order, in one or more chunks (for data that may be
    /// non-linear, e.g. a whole SCTP segment). The default reads `range` with [`Self::bytes`].
    ///
    /// # Errors
    /// [`PacketError::TooShort`] if the range is not inside the frame.
    fn read_chunks(
        &self,
        range: Range<usize>,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<(), PacketError> {
        f(self.bytes(range).ok_or(PacketError::TooShort)?);
        Ok(())
    }

    /// Makes the first `upto` bytes linear, private and writable (`skb_ensure_writable`).
    ///
    /// # Errors
    /// [`PacketError::TooShort`] if the frame is shorter than `upto`, [`PacketError::NoMemory`]
    /// if the data could not be copied.
    fn ensure_writable(&mut self, upto: usize) -> Result<(), PacketError>;

    /// The bytes in `range` for writing, or `None` unless the range lies within the prefix made
    /// writable by the last successful [`Self::ensure_writable`] (VLAN push/pop and truncation
    /// may revoke it).
    fn bytes_mut(&mut self, range: Range<usize>) -> Option<&mut [u8]>;

    /// Pushes a VLAN tag as the outermost one (`skb_vlan_push`). `tci` is the tag as on the
    /// wire (the executor has already cleared the key's "present" bit, `VLAN_CFI`).
    ///
    /// # Errors
    /// [`PacketError::TooShort`] if there is no Ethernet header to tag,
    /// [`PacketError::NoMemory`] if there is no room for the tag.
    fn push_vlan(&mut self, tpid: u16, tci: u16) -> Result<(), PacketError>;

    /// Removes the outermost 802.1Q/802.1ad tag (`skb_vlan_pop`). Succeeds without change when
    /// the frame has no tag, as upstream.
    ///
    /// # Errors
    /// [`PacketError::TooShort`] if the frame announces a tag but is too short to hold it.
    fn pop_vlan(&mut self) -> Result<(), PacketError>;

    /// Shortens the frame to at most `len` bytes (`pskb_trim`). Used by embedders for `trunc`.
    fn truncate(&mut self, len: usize);

    /// `skb->priority`.
    fn priority(&self) -> u32;

    /// Sets `skb->priority`.
    fn set_priority(&mut self, priority: u32);

    /// `skb->mark`.
    fn mark(&self) -> u32;

    /// Sets `skb->mark`.
    fn set_mark(&mut self, mark: u32);

    /// Attaches egress tunnel metadata (the `set(tunnel(...))` action): the `TUN_*` fields of
    /// `tun` describe the outer header to build when the packet is output to a tunnel port.
    ///
    /// # Errors
    /// [`PacketError::NoMemory`] if the metadata could not be allocated.
    fn set_tunnel(&mut self, tun: &FlowKey) -> Result<(), PacketError>;

    /// Whether the L4 checksum is left to offload (`CHECKSUM_PARTIAL`): the checksum field then
    /// holds the folded, uncomplemented pseudo-header sum, and only pseudo-header changes are
    /// folded into it (upstream `inet_proto_csum_replace*`).
    fn csum_partial(&self) -> bool;

    /// Reports that the bytes of the frame changed so that their Internet-checksum sum changed
    /// by `delta` (one's complement, already byte-swapped for odd offsets). An implementation
    /// keeping a `CHECKSUM_COMPLETE` sum of the data adds `delta` to it; others ignore it.
    fn csum_complete_add(&mut self, delta: u16);

    /// Forgets the flow hash cached with the packet (`skb_clear_hash`): called when a rewrite
    /// changes the 5-tuple.
    fn clear_hash(&mut self);

    /// Whether the packet is at most `max_len` bytes long from the Ethernet header on (for a GSO
    /// packet: whether every segment it will be cut into is), as upstream `check_pkt_len`
    /// measures it. The default compares [`Self::len`].
    fn fits_len(&self, max_len: usize) -> bool {
        self.len() <= max_len
    }

    /// The actions dropped the packet for `reason`: an embedder that frees packets with a drop
    /// reason (the kernel's `kfree_skb_reason`) records it. The default ignores it.
    fn set_drop_reason(&mut self, reason: crate::actions::DropReason) {
        let _ = reason;
    }
}

//! Misses handled in the poll thread that saw them, as Open vSwitch's userspace datapath does.
//!
//! Without a [`MissHandler`] a miss becomes an upcall: the frame and its key are encoded, queued
//! for a handler thread, which translates it and comes back with a flow put and an execute (two
//! more netlink-encoded messages, decoded again here). With one registered
//! ([`super::UserspaceDpif::set_miss_handler`]), the poll thread collects the misses of a receive
//! batch and, once outside its read section, asks the handler for each: the answer is typed (the
//! megaflow as [`FlowKey`]s, the actions as the datapath's attribute bytes), the flow goes
//! straight into the flow table and the packet is executed in the same thread, with its offload
//! state intact. Misses hand over no frame copies between threads and wake nobody.
//!
//! The flow limit is the flow table's capacity or the lower limit the daemon set
//! ([`super::UserspaceDpif::set_flow_limit`]): a full table still gets every miss translated and
//! executed, it just installs nothing (counted in [`MissStats::not_installed`]).
//!
//! The handler runs in a poll thread: it must not wait for that thread (deleting a port does not
//! join its poll thread for this reason).

use std::sync::atomic::{AtomicU64, Ordering};

use rvs_core::key::FlowKey;

/// A megaflow to install for a miss.
#[derive(Debug, Clone, Copy)]
pub struct Megaflow {
    /// The key (only the bits under `mask` matter).
    pub key: FlowKey,
    /// The mask.
    pub mask: FlowKey,
    /// The flow's UFID.
    pub ufid: [u8; 16],
}

/// What a handler decided for one miss.
#[derive(Debug, Default)]
pub struct MissReply {
    /// Actions (`OVS_ACTION_ATTR_*` bytes) to run on the packet; empty drops it.
    pub actions: Vec<u8>,
    /// The megaflow to install with those actions, if any (none for slow-path traffic).
    pub install: Option<Megaflow>,
}

impl MissReply {
    /// Clears the reply for reuse.
    pub fn clear(&mut self) {
        self.actions.clear();
        self.install = None;
    }
}

/// Translates misses for a userspace datapath, in the poll threads.
pub trait MissHandler: Send + Sync {
    /// Decides what to do with `packet` (checksums complete, no offload header), whose key is
    /// `key`; fills `reply` (cleared before the call).
    fn miss(&self, key: &FlowKey, packet: &[u8], reply: &mut MissReply);
}

/// Counters of inline miss handling.
#[derive(Debug, Default)]
pub struct MissStats {
    /// Misses handed to the handler.
    pub handled: AtomicU64,
    /// Megaflows installed.
    pub installed: AtomicU64,
    /// Megaflows not installed because the flow table was full.
    pub not_installed: AtomicU64,
    /// Installs refused for another reason (bad actions, a racing identical flow excepted).
    pub put_errors: AtomicU64,
}

/// A snapshot of [`MissStats`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MissCounts {
    /// See [`MissStats::handled`].
    pub handled: u64,
    /// See [`MissStats::installed`].
    pub installed: u64,
    /// See [`MissStats::not_installed`].
    pub not_installed: u64,
    /// See [`MissStats::put_errors`].
    pub put_errors: u64,
}

impl MissStats {
    /// The current values.
    pub fn snapshot(&self) -> MissCounts {
        MissCounts {
            handled: self.handled.load(Ordering::Relaxed),
            installed: self.installed.load(Ordering::Relaxed),
            not_installed: self.not_installed.load(Ordering::Relaxed),
            put_errors: self.put_errors.load(Ordering::Relaxed),
        }
    }
}

/// The handler a datapath's poll threads use, if any.
#[derive(Default)]
pub struct MissSlot(std::sync::RwLock<Option<std::sync::Arc<dyn MissHandler>>>);

impl std::fmt::Debug for MissSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MissSlot({})", if self.get().is_some() { "set" } else { "none" })
    }
}

impl MissSlot {
    /// The current handler.
    pub fn get(&self) -> Option<std::sync::Arc<dyn MissHandler>> {
        self.0.read().map_or_else(|p| p.into_inner().clone(), |h| h.clone())
    }

    /// Replaces the handler.
    pub fn set(&self, h: Option<std::sync::Arc<dyn MissHandler>>) {
        match self.0.write() {
            Ok(mut g) => *g = h,
            Err(p) => *p.into_inner() = h,
        }
    }
}

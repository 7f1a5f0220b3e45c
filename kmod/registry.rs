//! The global writer lock (upstream `ovs_mutex`) and the list of datapaths it protects.
//!
//! Lock order: the writer lock, then `rtnl_lock`. Code running under rtnl only (the netdevice notifier) never
//! takes the writer lock; it defers to the module's work item instead, as upstream.
//!
//! The list is also readable under RCU ([`find_rcu`], for `OVS_PACKET_CMD_EXECUTE`): nodes are linked with
//! Release stores once fully built, unlinked by storing their successor, and freed only after a grace period
//! (`Datapath::destroy` waits for one).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::dp::Datapath;
use crate::glue::{ffi, Net, RcuReadGuard};

/// Proof that the writer lock is held; unlocks when dropped.
///
/// # Invariants
///
/// While a `WriterLock` exists, the current task holds `rvs_ovs_mutex`.
pub(crate) struct WriterLock(PhantomData<*mut ()>);

static DATAPATHS: AtomicPtr<Datapath> = AtomicPtr::new(core::ptr::null_mut());

/// The datapath in `net` whose local port has ifindex `ifindex`, found under RCU: valid while `_rcu` is held.
pub(crate) fn find_rcu<'a>(_rcu: &'a RcuReadGuard, net: *mut Net, ifindex: i32) -> Option<&'a Datapath> {
    let mut p = DATAPATHS.load(Ordering::Acquire);
    // SAFETY: Listed datapaths are freed only a grace period after being unlinked, which outlasts `_rcu`.
    while let Some(d) = unsafe { p.as_ref() } {
        if ifindex != 0 && d.in_net(net) && d.ifindex() == ifindex {
            return Some(d);
        }
        p = d.next.load(Ordering::Acquire);
    }
    None
}

impl WriterLock {
    /// Takes the writer lock (sleeps; process context).
    pub(crate) fn lock() -> Self {
        // SAFETY: Process context; the mutex is static.
        unsafe { ffi::rvs_ovs_lock() };
        Self(PhantomData)
    }

    /// Iterates over every datapath.
    pub(crate) fn datapaths(&self) -> DpIter<'_> {
        DpIter { cur: DATAPATHS.load(Ordering::Acquire), _l: PhantomData }
    }

    /// The datapath in `net` whose local port has ifindex `ifindex` (upstream `get_dp`).
    pub(crate) fn find(&self, net: *mut Net, ifindex: i32) -> Option<&Datapath> {
        self.datapaths().find(|d| d.in_net(net) && d.ifindex() == ifindex && ifindex != 0)
    }

    /// Adds `dp` (a leaked box, fully built) to the list.
    pub(crate) fn link(&self, dp: *mut Datapath) {
        // SAFETY: The writer lock is held; `dp` is a valid datapath not yet on the list.
        unsafe { (*dp).next.store(DATAPATHS.load(Ordering::Acquire), Ordering::Relaxed) };
        DATAPATHS.store(dp, Ordering::Release);
    }

    /// Removes `dp` from the list (RCU readers may still see it until a grace period passes).
    pub(crate) fn unlink(&self, dp: *const Datapath) {
        let mut link = &DATAPATHS;
        loop {
            let p = link.load(Ordering::Acquire);
            // SAFETY: The writer lock is held; list nodes are valid datapaths.
            let Some(d) = (unsafe { p.as_ref() }) else { return };
            if core::ptr::eq(p, dp) {
                link.store(d.next.load(Ordering::Acquire), Ordering::Release);
                return;
            }
            link = &d.next;
        }
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // SAFETY: Held by the type invariant.
        unsafe { ffi::rvs_ovs_unlock() };
    }
}

/// Iterator over the datapath list.
pub(crate) struct DpIter<'a> {
    cur: *mut Datapath,
    _l: PhantomData<&'a WriterLock>,
}

impl<'a> Iterator for DpIter<'a> {
    type Item = &'a Datapath;

    fn next(&mut self) -> Option<&'a Datapath> {
        if self.cur.is_null() {
            return None;
        }
        // SAFETY: List nodes stay valid while the writer lock (borrowed for `'a`) is held.
        let d = unsafe { &*self.cur };
        self.cur = d.next.load(Ordering::Acquire);
        Some(d)
    }
}

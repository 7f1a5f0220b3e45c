//! The global writer lock (upstream `ovs_mutex`) and the list of datapaths it protects.
//!
//! Lock order: the writer lock, then `rtnl_lock`. Code running under rtnl only (the netdevice notifier) never
//! takes the writer lock; it defers to the module's work item instead, as upstream.

use core::cell::UnsafeCell;
use core::marker::PhantomData;

use crate::dp::Datapath;
use crate::glue::{ffi, Net};

/// Proof that the writer lock is held; unlocks when dropped.
///
/// # Invariants
///
/// While a `WriterLock` exists, the current task holds `rvs_ovs_mutex`.
pub(crate) struct WriterLock(PhantomData<*mut ()>);

struct List(UnsafeCell<*mut Datapath>);

// SAFETY: The list head is only accessed with the writer lock held.
unsafe impl Sync for List {}

static DATAPATHS: List = List(UnsafeCell::new(core::ptr::null_mut()));

impl WriterLock {
    /// Takes the writer lock (sleeps; process context).
    pub(crate) fn lock() -> Self {
        // SAFETY: Process context; the mutex is static.
        unsafe { ffi::rvs_ovs_lock() };
        Self(PhantomData)
    }

    /// Iterates over every datapath.
    pub(crate) fn datapaths(&self) -> DpIter<'_> {
        // SAFETY: The writer lock is held (type invariant).
        DpIter { cur: unsafe { *DATAPATHS.0.get() }, _l: PhantomData }
    }

    /// The datapath in `net` whose local port has ifindex `ifindex` (upstream `get_dp`).
    pub(crate) fn find(&self, net: *mut Net, ifindex: i32) -> Option<&Datapath> {
        self.datapaths().find(|d| d.in_net(net) && d.ifindex() == ifindex && ifindex != 0)
    }

    /// Adds `dp` (a leaked box) to the list.
    pub(crate) fn link(&self, dp: *mut Datapath) {
        // SAFETY: The writer lock is held; `dp` is a valid datapath not yet on the list.
        unsafe {
            (*dp).next = *DATAPATHS.0.get();
            *DATAPATHS.0.get() = dp;
        }
    }

    /// Removes `dp` from the list.
    pub(crate) fn unlink(&self, dp: *const Datapath) {
        // SAFETY: The writer lock is held; list nodes are valid datapaths.
        unsafe {
            let mut p: *mut *mut Datapath = DATAPATHS.0.get();
            while !(*p).is_null() {
                if core::ptr::eq(*p, dp) {
                    *p = (**p).next;
                    return;
                }
                p = core::ptr::addr_of_mut!((**p).next);
            }
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
        self.cur = d.next;
        Some(d)
    }
}

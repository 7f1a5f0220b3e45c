//! Safe wrappers over the C glue in `rvs_glue.c` (kernel inline functions and macros).
//!
//! Every `extern "C"` item here has its C definition in `rvs_glue.c` and its prototype in
//! `rvs_glue.h`; the wrappers below are the only place the rest of the module touches them.

use kernel::str::CStr;

mod ffi {
    extern "C" {
        pub(super) fn rvs_glue_kernel_release() -> *const kernel::ffi::c_char;
        pub(super) fn rvs_glue_rcu_read_lock();
        pub(super) fn rvs_glue_rcu_read_unlock();
    }
}

/// The running kernel's release string (`uname -r`).
pub(crate) fn kernel_release() -> &'static CStr {
    // SAFETY: `init_utsname()->release` is a NUL-terminated array inside the static init UTS namespace, which lives
    // for the whole uptime of the kernel and is never freed.
    unsafe { CStr::from_char_ptr(ffi::rvs_glue_kernel_release()) }
}

/// An RCU read-side critical section; ends when dropped.
///
/// # Invariants
///
/// While a `RcuReadGuard` exists, the current CPU is inside `rcu_read_lock()`.
pub(crate) struct RcuReadGuard(core::marker::PhantomData<*mut ()>);

impl RcuReadGuard {
    /// Enters an RCU read-side critical section.
    #[allow(dead_code)]
    pub(crate) fn new() -> Self {
        // SAFETY: `rcu_read_lock` may be called from any context and nests; the guard's drop balances it.
        unsafe { ffi::rvs_glue_rcu_read_lock() };
        Self(core::marker::PhantomData)
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this guard entered a read-side section that is still open.
        unsafe { ffi::rvs_glue_rcu_read_unlock() };
    }
}

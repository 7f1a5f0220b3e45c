//! The C glue (`rvs_glue.h`, implemented in `rvs_glue.c`, `genl_glue.c`, `dev_glue.c`, `skb_glue.c`): raw
//! declarations, opaque kernel types, and the small safe wrappers that need no datapath knowledge (locks, RCU,
//! memory). Typed wrappers over sk_buffs, generic netlink messages and net devices live in `skb.rs`, `genl.rs` and
//! `vport.rs`.

use core::ffi::c_void;
use core::marker::PhantomData;

use kernel::ffi::{c_char, c_int, c_long, c_uint};
use kernel::str::CStr;

/// Declares opaque kernel structs: only ever handled by pointer.
macro_rules! opaque {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[repr(C)]
        pub(crate) struct $name {
            _private: [u8; 0],
            _pin: PhantomData<(*mut u8, core::marker::PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `struct sk_buff`.
    SkBuff;
    /// `struct net_device`.
    NetDevice;
    /// `struct net`.
    Net;
    /// `struct genl_info`.
    GenlInfo;
    /// `struct netlink_callback`.
    NetlinkCallback;
    /// `struct rvs_brc_slot` (brc_glue.c): one request waiting for rvs-vswitchd's reply.
    BrcSlot;
}

/// `struct rvs_tun`: tunnel metadata in host byte order, exchanged with the C glue (keep equal to `rvs_glue.h`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct TunMeta {
    pub(crate) id: u64,
    pub(crate) ipv4_src: u32,
    pub(crate) ipv4_dst: u32,
    pub(crate) ipv6_src: [u8; 16],
    pub(crate) ipv6_dst: [u8; 16],
    /// The key's `tun_flags` bits.
    pub(crate) flags: u16,
    pub(crate) tos: u8,
    pub(crate) ttl: u8,
    pub(crate) tp_src: u16,
    pub(crate) tp_dst: u16,
    /// Non-zero for an IPv6 outer header.
    pub(crate) ipv6: u8,
    pub(crate) pad: [u8; 7],
}

/// `struct rvs_rx_info`: what the receive path reads of a packet in one call (keep equal to `rvs_glue.h`).
#[repr(C)]
pub(crate) struct RxInfo {
    pub(crate) data: *const u8,
    pub(crate) jiffies: core::ffi::c_ulong,
    pub(crate) headlen: u32,
    pub(crate) len: u32,
    pub(crate) priority: u32,
    pub(crate) mark: u32,
    pub(crate) hash: u32,
    pub(crate) cpu: u32,
    pub(crate) vlan_tpid: u16,
    pub(crate) vlan_tci: u16,
    pub(crate) has_vlan: u8,
    pub(crate) has_tunnel: u8,
}

/// The C functions of `rvs_glue.h` and the exported kernel functions rvs calls directly.
#[allow(dead_code)]
pub(crate) mod ffi {
    use super::*;

    extern "C" {
        pub(crate) fn rvs_glue_kernel_release() -> *const c_char;
        pub(crate) fn rvs_glue_rcu_read_lock();
        pub(crate) fn rvs_glue_rcu_read_unlock();
        pub(crate) fn rvs_ovs_lock();
        pub(crate) fn rvs_ovs_unlock();
        pub(crate) fn rvs_rtnl_lock();
        pub(crate) fn rvs_rtnl_unlock();
        pub(crate) fn rvs_kvzalloc(size: usize) -> *mut c_void;
        pub(crate) fn rvs_kvfree(p: *mut c_void);
        pub(crate) fn rvs_blob_alloc(len: usize, atomic: bool) -> *mut u8;
        pub(crate) fn rvs_blob_free(data: *mut u8);
        pub(crate) fn rvs_blob_free_rcu(data: *mut u8);
        pub(crate) fn rvs_nr_cpu_ids() -> c_uint;
        pub(crate) fn rvs_smp_processor_id() -> c_uint;
        pub(crate) fn rvs_local_bh_disable();
        pub(crate) fn rvs_local_bh_enable();
        pub(crate) fn rvs_jiffies() -> usize;
        pub(crate) fn rvs_used_time_ms(then: usize) -> u64;
        pub(crate) fn rvs_now_ms() -> u64;
        pub(crate) fn rvs_schedule_work();
        pub(crate) fn rvs_cancel_work();
        pub(crate) fn rvs_rebalance_start();
        pub(crate) fn rvs_rebalance_stop();

        pub(crate) fn rvs_genl_register(failed: *mut *const c_char) -> c_int;
        pub(crate) fn rvs_genl_unregister();
        pub(crate) fn rvs_info_payload(info: *const GenlInfo, len: *mut usize) -> *const u8;
        pub(crate) fn rvs_info_portid(info: *const GenlInfo) -> u32;
        pub(crate) fn rvs_info_seq(info: *const GenlInfo) -> u32;
        pub(crate) fn rvs_info_nlflags(info: *const GenlInfo) -> u16;
        pub(crate) fn rvs_info_net(info: *const GenlInfo) -> *mut Net;
        pub(crate) fn rvs_info_set_err(info: *mut GenlInfo, msg: *const u8, len: usize);
        pub(crate) fn rvs_cb_payload(cb: *const NetlinkCallback, len: *mut usize) -> *const u8;
        pub(crate) fn rvs_cb_args(cb: *mut NetlinkCallback) -> *mut c_long;
        pub(crate) fn rvs_cb_portid(cb: *const NetlinkCallback) -> u32;
        pub(crate) fn rvs_cb_seq(cb: *const NetlinkCallback) -> u32;
        pub(crate) fn rvs_cb_net(cb: *const NetlinkCallback) -> *mut Net;
        pub(crate) fn rvs_genlmsg_new(payload: usize, atomic: bool) -> *mut SkBuff;
        pub(crate) fn rvs_genlmsg_put(
            skb: *mut SkBuff,
            portid: u32,
            seq: u32,
            fam: c_int,
            flags: c_int,
            cmd: u8,
        ) -> *mut c_void;
        pub(crate) fn rvs_genlmsg_end(skb: *mut SkBuff, hdr: *mut c_void);
        pub(crate) fn rvs_genlmsg_cancel(skb: *mut SkBuff, hdr: *mut c_void);
        pub(crate) fn rvs_genlmsg_reply(skb: *mut SkBuff, info: *mut GenlInfo) -> c_int;
        pub(crate) fn rvs_genl_notify(fam: c_int, skb: *mut SkBuff, info: *mut GenlInfo);
        pub(crate) fn rvs_genlmsg_unicast(net: *mut Net, skb: *mut SkBuff, portid: u32) -> c_int;
        pub(crate) fn rvs_genl_multicast(fam: c_int, net: *mut Net, skb: *mut SkBuff) -> c_int;
        pub(crate) fn rvs_genl_must_notify(fam: c_int, info: *mut GenlInfo) -> bool;
        pub(crate) fn rvs_skb_tail(skb: *mut SkBuff, room: *mut usize) -> *mut u8;
        pub(crate) fn rvs_skb_put(skb: *mut SkBuff, len: usize);

        pub(crate) fn rvs_genl_register_brc() -> c_int;
        pub(crate) fn rvs_genl_unregister_brc();
        pub(crate) fn rvs_brc_enabled() -> bool;
        pub(crate) fn rvs_brc_register() -> c_int;
        pub(crate) fn rvs_brc_unregister();
        pub(crate) fn rvs_brc_slot_new(buf: *mut u8, cap: usize) -> *mut BrcSlot;
        pub(crate) fn rvs_brc_slot_seq(s: *const BrcSlot) -> u32;
        pub(crate) fn rvs_brc_slot_wait(s: *mut BrcSlot, timeout_ms: c_uint, len: *mut usize) -> c_int;
        pub(crate) fn rvs_brc_slot_complete(seq: u32, err: c_int, data: *const u8, len: usize) -> c_int;

        pub(crate) fn rvs_dev_register() -> c_int;
        pub(crate) fn rvs_dev_unregister();
        pub(crate) fn rvs_internal_dev_create(
            net: *mut Net,
            name: *const c_char,
            vport: *mut c_void,
            ifindex: c_int,
            local: bool,
            err: *mut c_int,
        ) -> *mut NetDevice;
        pub(crate) fn rvs_internal_dev_destroy(dev: *mut NetDevice);
        pub(crate) fn rvs_internal_dev_vport(dev: *mut NetDevice) -> *mut c_void;
        pub(crate) fn rvs_netdev_attach(dev: *mut NetDevice, master: *mut NetDevice, vport: *mut c_void) -> c_int;
        pub(crate) fn rvs_netdev_detach(dev: *mut NetDevice, master: *mut NetDevice);
        pub(crate) fn rvs_port_relink(
            dev: *mut NetDevice,
            from: *mut NetDevice,
            to: *mut NetDevice,
            linked: *mut *mut NetDevice,
        ) -> c_int;
        pub(crate) fn rvs_dev_get_by_name(net: *mut Net, name: *const c_char) -> *mut NetDevice;
        pub(crate) fn rvs_dev_get_by_index(net: *mut Net, ifindex: c_int) -> *mut NetDevice;
        pub(crate) fn rvs_dev_put(dev: *mut NetDevice);
        pub(crate) fn rvs_dev_hold(dev: *mut NetDevice);
        pub(crate) fn rvs_dev_name(dev: *const NetDevice) -> *const c_char;
        pub(crate) fn rvs_dev_ifindex(dev: *const NetDevice) -> c_int;
        pub(crate) fn rvs_dev_net(dev: *const NetDevice) -> *mut Net;
        pub(crate) fn rvs_dev_mtu(dev: *const NetDevice) -> c_uint;
        pub(crate) fn rvs_dev_is_up(dev: *const NetDevice) -> bool;
        pub(crate) fn rvs_dev_stats(dev: *mut NetDevice, out: *mut u64);
        pub(crate) fn rvs_peernet2id(net: *mut Net, peer: *mut Net) -> c_int;
        pub(crate) fn rvs_net_eq(a: *const Net, b: *const Net) -> bool;
        pub(crate) fn rvs_dev_tx_error(dev: *mut NetDevice);

        pub(crate) fn rvs_skb_data(skb: *const SkBuff) -> *mut u8;
        pub(crate) fn rvs_skb_len(skb: *const SkBuff) -> c_uint;
        pub(crate) fn rvs_skb_headlen(skb: *const SkBuff) -> c_uint;
        pub(crate) fn rvs_skb_may_pull(skb: *mut SkBuff, len: c_uint) -> bool;
        pub(crate) fn rvs_skb_ensure_writable(skb: *mut SkBuff, len: c_uint) -> c_int;
        pub(crate) fn rvs_skb_trim(skb: *mut SkBuff, len: c_uint) -> c_int;
        pub(crate) fn rvs_skb_mark(skb: *const SkBuff) -> u32;
        pub(crate) fn rvs_skb_set_mark(skb: *mut SkBuff, v: u32);
        pub(crate) fn rvs_skb_priority(skb: *const SkBuff) -> u32;
        pub(crate) fn rvs_skb_set_priority(skb: *mut SkBuff, v: u32);
        pub(crate) fn rvs_skb_ip_summed(skb: *const SkBuff) -> c_int;
        pub(crate) fn rvs_skb_csum_add(skb: *mut SkBuff, delta: u16);
        pub(crate) fn rvs_skb_vlan(skb: *const SkBuff, tpid: *mut u16, tci: *mut u16) -> bool;
        pub(crate) fn rvs_skb_vlan_push(skb: *mut SkBuff, tpid: u16, tci: u16) -> c_int;
        pub(crate) fn rvs_skb_vlan_pop(skb: *mut SkBuff) -> c_int;
        pub(crate) fn rvs_skb_get_hash(skb: *mut SkBuff) -> u32;
        pub(crate) fn rvs_skb_hash_raw(skb: *const SkBuff) -> u32;
        pub(crate) fn rvs_skb_upcall_hash(skb: *mut SkBuff) -> u64;
        pub(crate) fn rvs_skb_clear_hash(skb: *mut SkBuff);
        pub(crate) fn rvs_skb_is_gso(skb: *const SkBuff) -> bool;
        pub(crate) fn rvs_skb_clone(skb: *mut SkBuff) -> *mut SkBuff;
        pub(crate) fn rvs_kfree_skb(skb: *mut SkBuff);
        pub(crate) fn rvs_kfree_skb_reason(skb: *mut SkBuff, reason: u32);
        pub(crate) fn rvs_skb_rx_info(skb: *mut SkBuff, pull: core::ffi::c_uint, out: *mut RxInfo);
        pub(crate) fn rvs_skb_set_headers_proto(skb: *mut SkBuff, network: c_int, transport: c_int, protocol: u16);
        pub(crate) fn rvs_skb_output(skb: *mut SkBuff, dev: *mut NetDevice);
        pub(crate) fn rvs_skb_fits_len(skb: *const SkBuff, max_len: core::ffi::c_uint) -> bool;
        pub(crate) fn rvs_consume_skb(skb: *mut SkBuff);
        pub(crate) fn rvs_skb_send(skb: *mut SkBuff, dev: *mut NetDevice);
        pub(crate) fn rvs_skb_internal_recv(skb: *mut SkBuff, dev: *mut NetDevice);
        pub(crate) fn rvs_skb_upcall_prepare(skb: *mut SkBuff, err: *mut c_int) -> *mut SkBuff;
        pub(crate) fn rvs_skb_copy_bits(skb: *const SkBuff, offset: c_int, to: *mut c_void, len: c_int) -> c_int;
        pub(crate) fn rvs_skb_from_data(data: *const u8, len: c_uint) -> *mut SkBuff;
        pub(crate) fn rvs_skb_set_dev(skb: *mut SkBuff, dev: *mut NetDevice);
        pub(crate) fn rvs_skb_gso_segment(skb: *mut SkBuff, udp: *mut bool, err: *mut c_int) -> *mut SkBuff;
        pub(crate) fn rvs_skb_list_pop(list: *mut *mut SkBuff) -> *mut SkBuff;
        pub(crate) fn rvs_skb_tunnel_get(skb: *mut SkBuff, out: *mut TunMeta) -> bool;
        pub(crate) fn rvs_skb_tunnel_set(skb: *mut SkBuff, tun: *const TunMeta) -> c_int;
        pub(crate) fn rvs_tun_dst_new(tun: *const TunMeta) -> *mut c_void;
        pub(crate) fn rvs_skb_tunnel_set_dst(skb: *mut SkBuff, md: *mut c_void);
        pub(crate) fn rvs_tun_dst_release_rcu(md: *mut c_void);
        pub(crate) fn rvs_gretap_create(net: *mut Net, name: *const c_char, err: *mut c_int) -> *mut NetDevice;
        pub(crate) fn rvs_tunnel_dev_delete(dev: *mut NetDevice);

        // Exported kernel functions.
        pub(crate) fn synchronize_rcu();
        pub(crate) fn rcu_barrier();
        pub(crate) fn get_random_u32() -> u32;
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
pub(crate) struct RcuReadGuard(PhantomData<*mut ()>);

impl RcuReadGuard {
    /// Enters an RCU read-side critical section.
    pub(crate) fn new() -> Self {
        // SAFETY: `rcu_read_lock` may be called from any context and nests; the guard's drop balances it.
        unsafe { ffi::rvs_glue_rcu_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this guard entered a read-side section that is still open.
        unsafe { ffi::rvs_glue_rcu_read_unlock() };
    }
}

/// Bottom halves disabled on this CPU (per-CPU datapath state may be used); re-enabled when dropped.
///
/// # Invariants
///
/// While a `BhGuard` exists, `local_bh_disable()` is in effect on the current CPU.
pub(crate) struct BhGuard(PhantomData<*mut ()>);

impl BhGuard {
    /// Disables bottom halves (process context only).
    pub(crate) fn new() -> Self {
        // SAFETY: `local_bh_disable` nests and is balanced by the guard's drop.
        unsafe { ffi::rvs_local_bh_disable() };
        Self(PhantomData)
    }
}

impl Drop for BhGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant bottom halves were disabled by this guard.
        unsafe { ffi::rvs_local_bh_enable() };
    }
}

/// The RTNL lock, held until dropped.
///
/// # Invariants
///
/// While a `RtnlGuard` exists, the current task holds `rtnl_lock`.
pub(crate) struct RtnlGuard(PhantomData<*mut ()>);

impl RtnlGuard {
    /// Takes the RTNL lock (sleeps). Callers that also hold the ovs lock took it first.
    pub(crate) fn new() -> Self {
        // SAFETY: Process context (every caller is a netlink handler, work item or pernet exit).
        unsafe { ffi::rvs_rtnl_lock() };
        Self(PhantomData)
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this task holds rtnl.
        unsafe { ffi::rvs_rtnl_unlock() };
    }
}

/// Waits for a full RCU grace period (process context).
pub(crate) fn synchronize_rcu() {
    // SAFETY: Called only from process context without RCU read locks held.
    unsafe { ffi::synchronize_rcu() };
}

/// Waits for every pending RCU callback (module exit).
pub(crate) fn rcu_barrier() {
    // SAFETY: Process context.
    unsafe { ffi::rcu_barrier() };
}

/// A random number.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: Callable from any context.
    unsafe { ffi::get_random_u32() }
}

/// Number of possible CPU ids.
pub(crate) fn nr_cpu_ids() -> usize {
    // SAFETY: Reads a variable fixed at boot.
    let n = unsafe { ffi::rvs_nr_cpu_ids() };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// The current CPU (caller has preemption or bottom halves disabled).
pub(crate) fn cpu_id() -> usize {
    // SAFETY: Callers run with preemption disabled (softirq, BH-disabled or RCU-bh sections).
    let n = unsafe { ffi::rvs_smp_processor_id() };
    usize::try_from(n).unwrap_or(0)
}

/// `jiffies`.
pub(crate) fn jiffies() -> usize {
    // SAFETY: Reads a kernel global.
    unsafe { ffi::rvs_jiffies() }
}

/// A jiffies stamp as monotonic milliseconds (upstream `ovs_flow_used_time`).
pub(crate) fn used_time_ms(then: usize) -> u64 {
    // SAFETY: Pure computation on the clock.
    unsafe { ffi::rvs_used_time_ms(then) }
}

/// Milliseconds of the monotonic clock.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: Reads the clock; callable from any context.
    unsafe { ffi::rvs_now_ms() }
}

/// Zeroed memory from `kvzalloc`, freed with [`kvfree`]. Null on failure.
pub(crate) fn kvzalloc(size: usize) -> *mut u8 {
    // SAFETY: Any size is accepted; failure returns null.
    unsafe { ffi::rvs_kvzalloc(size).cast() }
}

/// Frees memory from [`kvzalloc`].
///
/// # Safety
///
/// `p` is null or came from [`kvzalloc`] and is not used afterwards.
pub(crate) unsafe fn kvfree(p: *mut u8) {
    // SAFETY: By the function's safety contract.
    unsafe { ffi::rvs_kvfree(p.cast()) };
}

/// Schedules the module's work item (`rvs_rust_work`).
pub(crate) fn schedule_work() {
    // SAFETY: The work item is static and valid while the module is loaded.
    unsafe { ffi::rvs_schedule_work() };
}

/// Cancels the module's work item and waits for it (module exit).
pub(crate) fn cancel_work() {
    // SAFETY: The work item is static.
    unsafe { ffi::rvs_cancel_work() };
}

/// A byte array allocated with [`ffi::rvs_blob_alloc`] that starts with its payload length (a `u32`, then 4 bytes
/// of padding), freed after an RCU grace period. Used for RCU-published variable-size data (flow actions, upcall
/// PID arrays).
pub(crate) mod blob {
    use super::ffi;

    const HDR: usize = 8;

    /// Allocates a blob holding a copy of `data`; null on failure.
    pub(crate) fn new(data: &[u8], atomic: bool) -> *mut u8 {
        let Ok(len) = u32::try_from(data.len()) else { return core::ptr::null_mut() };
        let Some(total) = data.len().checked_add(HDR) else { return core::ptr::null_mut() };
        // SAFETY: Allocation of `total` bytes; failure returns null.
        let p = unsafe { ffi::rvs_blob_alloc(total, atomic) };
        if !p.is_null() {
            // SAFETY: `p` points to `total` writable bytes.
            unsafe {
                core::ptr::write_unaligned(p.cast::<u32>(), len);
                core::ptr::copy_nonoverlapping(data.as_ptr(), p.add(HDR), data.len());
            }
        }
        p
    }

    /// Allocates a blob holding `prefix` followed by `data`; null on failure.
    pub(crate) fn new_prefixed(prefix: &[u8], data: &[u8], atomic: bool) -> *mut u8 {
        let Some(n) = prefix.len().checked_add(data.len()) else { return core::ptr::null_mut() };
        let p = zeroed(n, atomic);
        if !p.is_null() {
            // SAFETY: `p` has `HDR + n` writable bytes and nothing references them yet.
            unsafe {
                core::ptr::copy_nonoverlapping(prefix.as_ptr(), p.add(HDR), prefix.len());
                core::ptr::copy_nonoverlapping(data.as_ptr(), p.add(HDR + prefix.len()), data.len());
            }
        }
        p
    }

    /// Allocates a zero-filled blob of `len` bytes; null on failure.
    pub(crate) fn zeroed(len: usize, atomic: bool) -> *mut u8 {
        let Ok(l) = u32::try_from(len) else { return core::ptr::null_mut() };
        let Some(total) = len.checked_add(HDR) else { return core::ptr::null_mut() };
        // SAFETY: Allocation of `total` bytes; failure returns null.
        let p = unsafe { ffi::rvs_blob_alloc(total, atomic) };
        if !p.is_null() {
            // SAFETY: `p` points to `total` writable bytes.
            unsafe {
                core::ptr::write_unaligned(p.cast::<u32>(), l);
                core::ptr::write_bytes(p.add(HDR), 0, len);
            }
        }
        p
    }

    /// The payload of blob `p` (empty for null).
    ///
    /// # Safety
    ///
    /// `p` is null or a live blob from [`new`] that stays alive for `'a` (an RCU read-side section or the writer
    /// lock protects it).
    pub(crate) unsafe fn data<'a>(p: *const u8) -> &'a [u8] {
        if p.is_null() {
            return &[];
        }
        // SAFETY: By the function's safety contract `p` starts with the length header followed by `len` bytes.
        unsafe {
            let len = core::ptr::read_unaligned(p.cast::<u32>());
            core::slice::from_raw_parts(p.add(HDR), usize::try_from(len).unwrap_or(0))
        }
    }

    /// Frees blob `p` after the current RCU grace period.
    ///
    /// # Safety
    ///
    /// `p` is null or a blob from [`new`] that is no longer reachable by new readers.
    pub(crate) unsafe fn free_rcu(p: *mut u8) {
        // SAFETY: By the function's safety contract.
        unsafe { ffi::rvs_blob_free_rcu(p) };
    }

    /// Frees blob `p` now.
    ///
    /// # Safety
    ///
    /// `p` is null or a blob from [`new`] that no reader can reach.
    pub(crate) unsafe fn free(p: *mut u8) {
        // SAFETY: By the function's safety contract.
        unsafe { ffi::rvs_blob_free(p) };
    }
}

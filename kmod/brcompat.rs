//! brctl compatibility (module option `brcompat=1`, off by default): bridge-utils' requests are relayed to
//! rvs-vswitchd, which applies them to the configuration database, so `brctl addbr/addif/...` and
//! `ip link set DEV master BR` change rvs's configuration exactly as `rvs-vsctl` would. This module owns the relay:
//! the `rvs_brcompat` generic netlink family (the daemon's REGISTER and REPLY commands, the kernel's REQUEST
//! message), the registered listener, and the checks on what the daemon answers. The user-space copies and the
//! ioctl entry points are in `brc_glue.c`.
//!
//! # Design and trade-off
//!
//! A Linux bridge is recognised by `IFF_EBRIDGE` (`netif_is_bridge_master`), and much kernel code that sees that
//! flag takes `netdev_priv(dev)` to be a `struct net_bridge` or calls the bridge module's helpers (br_fdb_*,
//! br_vlan_*, switchdev, netfilter's physdev and bridge matches, bonding/vlan/DSA/vxlan checks, the
//! SIOCBRADDIF path of older kernels). rvs devices must never carry the flag: their private data is rvs's, and
//! treating it as a `net_bridge` would corrupt memory. Nothing here needs it, because bridge-utils 1.7 has a
//! fallback for every sysfs read and write it makes:
//!
//! - `addbr`/`delbr` (SIOCBRADDBR/DELBR, then SIOCSIFBR) and `addif`/`delif` (SIOCBRADDIF/DELIF, which this
//!   kernel routes to the ioctl hook, not through `dev_ifsioc`) reach the `brioctl_set` hook.
//! - Without `/sys/class/net/*/bridge`, `brctl show` lists bridges with SIOCGIFBR BRCTL_GET_BRIDGES (the hook) and
//!   reads each with SIOCDEVPRIVATE BRCTL_GET_BRIDGE_INFO / GET_PORT_LIST on the bridge device, which lands in the
//!   rvs internal device's `ndo_siocdevprivate`. `showmacs` (no `brforward`) uses GET_FDB_ENTRIES, `showstp` (no
//!   `brport/`) GET_PORT_INFO, `setageing` and `stp` (no writable `bridge/*`) SET_AGEING_TIME /
//!   SET_BRIDGE_STP_STATE, the same way.
//! - `ip link set DEV master BR` / `nomaster` call the master's `ndo_add_slave` / `ndo_del_slave`.
//!
//! So rvs exposes no `bridge/`, `brif/` or `brforward` sysfs entries. The price: when a Linux bridge exists as
//! well, `brctl show` lists the bridges found through sysfs and no longer asks rvs; `ip -d link show` reports rvs
//! ports as `openvswitch_slave` of `ovs-system`, as Open vSwitch does, not as bridge ports of their bridge.
//!
//! Only the daemon's namespace is served (a request from another one gets ENODEV). Each request carries its
//! deadline; the daemon drops one it reads too late (queued while it was stopped), so a change reported as failed
//! is not applied later. Requests made under rtnl (SIOCDEVPRIVATE, ndo_*_slave) must not wait for the daemon to
//! reconcile, since reconciliation creates devices under rtnl: the daemon answers those from memory or right after
//! the database commit.
//!
//! The bridge module sets the hook when it loads and clears it when it unloads, whoever owned it: rvs refuses
//! `brcompat=1` while `bridge` is loaded, and leaves the hook alone at unload when `bridge` was loaded after it.
//! (If that later `bridge` is unloaded before rvs, the hook is gone and brctl stops reaching rvs until rvs.ko is
//! reloaded; a `bridge` load racing with rvs's own load or unload is not excluded: the kernel offers no lock.)

use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;

use crate::genl::{self, fam, Msg, Request};
use crate::glue::{ffi, Net};
use crate::nla::{Attrs, Writer};
use crate::ovs::CodecError;

/// Generic netlink commands (`RVS_BRC_CMD_*` in `rvs_glue.h`).
mod cmd {
    pub(super) const REGISTER: u16 = 1;
    pub(super) const REQUEST: u8 = 2;
    pub(super) const REPLY: u16 = 3;
}

/// Attributes of REQUEST and REPLY (keep equal to `rvs-vswitchd/src/brcompat/wire.rs`).
mod attr {
    pub(super) const SEQ: u16 = 1;
    pub(super) const OP: u16 = 2;
    pub(super) const BRIDGE: u16 = 3;
    pub(super) const IFINDEX: u16 = 4;
    pub(super) const VALUE: u16 = 5;
    pub(super) const OFFSET: u16 = 6;
    pub(super) const MAX: u16 = 7;
    pub(super) const ERRNO: u16 = 8;
    pub(super) const DATA: u16 = 9;
    pub(super) const DEADLINE: u16 = 10;
}

/// Operations whose replies carry data (`RVS_BRC_OP_*` in `rvs_glue.h`).
mod op {
    pub(super) const GET_BRIDGES: u32 = 5;
    pub(super) const GET_BRIDGE_INFO: u32 = 6;
    pub(super) const GET_PORT_LIST: u32 = 7;
    pub(super) const GET_FDB: u32 = 8;
    pub(super) const GET_PORT_INFO: u32 = 13;
}

/// Size of `struct __fdb_entry`.
const FDB_ENTRY_LEN: usize = 16;
/// `ETIMEDOUT`.
const ETIMEDOUT: i32 = 110;
/// `EIO`: the daemon's answer does not fit the request.
const EIO_N: i32 = 5;
/// `ENODEV`: no daemon listens.
const ENODEV: i32 = 19;
/// `ECONNREFUSED` from a unicast to a port id nobody holds.
const ECONNREFUSED: i32 = 111;
/// The largest errno the daemon may return.
const MAX_ERRNO: u32 = 4095;

/// The daemon's netlink port id (0: none).
static LISTENER: AtomicU32 = AtomicU32::new(0);
/// The namespace the daemon registered from (compared, never dereferenced).
static LISTENER_NET: AtomicPtr<Net> = AtomicPtr::new(core::ptr::null_mut());

/// Registers the family and the ioctl hook when the module option asks for it.
pub(crate) fn register() -> Result {
    // SAFETY: Reads a module parameter.
    if !unsafe { ffi::rvs_brc_enabled() } {
        return Ok(());
    }
    // SAFETY: Registers the static family once.
    let r = unsafe { ffi::rvs_genl_register_brc() };
    if r != 0 {
        pr_err!("cannot register generic netlink family rvs_brcompat (error {})\n", r);
        return Err(Error::from_errno(r));
    }
    // SAFETY: Sets the bridge ioctl hook (refused if the bridge module is loaded).
    let r = unsafe { ffi::rvs_brc_register() };
    if r != 0 {
        // SAFETY: Registered above.
        unsafe { ffi::rvs_genl_unregister_brc() };
        return Err(Error::from_errno(r));
    }
    Ok(())
}

/// Removes the hook (waiting for a request in it) and the family (waiting for a reply being handled).
pub(crate) fn unregister() {
    // SAFETY: Both are no-ops when not registered; the hook goes first so that no new request starts.
    unsafe {
        ffi::rvs_brc_unregister();
        ffi::rvs_genl_unregister_brc();
    }
    LISTENER.store(0, Ordering::Release);
}

/// `doit` of the `rvs_brcompat` family (CAP_NET_ADMIN checked by genl).
pub(crate) fn doit(command: u16, req: &Request<'_>) -> Result {
    match command {
        cmd::REGISTER => {
            LISTENER_NET.store(req.net(), Ordering::Release);
            LISTENER.store(req.portid(), Ordering::Release);
            pr_info!("brcompat: rvs-vswitchd registered (netlink port {})\n", req.portid());
            Ok(())
        }
        cmd::REPLY => {
            // The daemon answers from a second socket (so that acknowledgements never mix with requests): any
            // CAP_NET_ADMIN sender (checked by genl) of the listener's namespace may answer a pending sequence.
            if LISTENER.load(Ordering::Acquire) == 0 || req.net() != LISTENER_NET.load(Ordering::Acquire) {
                req.set_err_msg(format_args!("no brcompat listener in this namespace"));
                return Err(EPERM);
            }
            let mut seq = None;
            let mut err = None;
            let mut data: &[u8] = &[];
            for a in Attrs::new(req.attrs) {
                let a = a.map_err(|_| EINVAL)?;
                match a.kind {
                    attr::SEQ => seq = a.u32_ne(),
                    attr::ERRNO => err = a.u32_ne(),
                    attr::DATA => data = a.payload,
                    _ => {}
                }
            }
            let (Some(seq), Some(err)) = (seq, err) else {
                req.set_err_msg(format_args!("reply lacks SEQ or ERRNO"));
                return Err(EINVAL);
            };
            if err > MAX_ERRNO {
                return Err(EINVAL);
            }
            let neg = i32::try_from(err).map_err(|_| EINVAL)?.wrapping_neg();
            // SAFETY: `data` is valid for the call; the slot copies it under its lock.
            let r = unsafe { ffi::rvs_brc_slot_complete(seq, neg, data.as_ptr(), data.len()) };
            // A reply nobody waits for any more (timed out) is not the daemon's error.
            let _ = r;
            Ok(())
        }
        _ => Err(genl::err(genl::errno::EOPNOTSUPP)),
    }
}

/// One request: what `brc_glue.c` passes.
struct Call<'a> {
    op: u32,
    bridge: &'a [u8],
    ifindex: u32,
    value: u64,
    offset: u32,
    max: u32,
    /// CLOCK_MONOTONIC milliseconds after which the caller no longer waits: the daemon drops a request it reads
    /// later (it was queued while the daemon was stopped), so a change reported as failed is never applied.
    deadline_ms: u64,
}

impl Call<'_> {
    fn emit(&self, seq: u32, w: &mut Writer<'_>) -> core::result::Result<(), CodecError> {
        let e = |e| CodecError::from_nla("RVS_BRC_REQUEST", e);
        w.put_u32(attr::SEQ, seq).map_err(e)?;
        w.put_u32(attr::OP, self.op).map_err(e)?;
        // NUL-terminated name.
        let mut name = [0u8; 17];
        let n = self.bridge.len().min(16);
        name[..n].copy_from_slice(&self.bridge[..n]);
        w.put(attr::BRIDGE, &name[..n + 1]).map_err(e)?;
        w.put_u32(attr::IFINDEX, self.ifindex).map_err(e)?;
        w.put(attr::VALUE, &self.value.to_ne_bytes()).map_err(e)?;
        w.put_u32(attr::OFFSET, self.offset).map_err(e)?;
        w.put_u32(attr::MAX, self.max).map_err(e)?;
        w.put(attr::DEADLINE, &self.deadline_ms.to_ne_bytes()).map_err(e)?;
        Ok(())
    }

    /// The ioctl's return value for a reply of `len` data bytes (already bounded by the buffer), or why the reply
    /// does not fit the request.
    fn result(&self, len: usize) -> core::result::Result<c_int, i32> {
        let entry = match self.op {
            op::GET_BRIDGES | op::GET_PORT_LIST => core::mem::size_of::<c_int>(),
            op::GET_FDB => FDB_ENTRY_LEN,
            // Their size is checked by brc_glue.c against `struct __bridge_info` / `struct __port_info`.
            op::GET_BRIDGE_INFO | op::GET_PORT_INFO => return Ok(0),
            _ => return if len == 0 { Ok(0) } else { Err(EIO_N) },
        };
        if len % entry != 0 {
            return Err(EIO_N);
        }
        Ok(if self.op == op::GET_PORT_LIST { 0 } else { c_int::try_from(len / entry).unwrap_or(0) })
    }
}

/// Relays one request to the daemon and waits for its answer. Returns the ioctl result (>= 0) or `-errno`.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_brc_call(
    net: *mut Net,
    op: u32,
    name: *const c_char,
    ifindex: u32,
    value: u64,
    offset: u32,
    max: u32,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
    timeout_ms: c_uint,
) -> c_int {
    // SAFETY: `name` is a NUL-terminated string of at most IFNAMSIZ bytes owned by the caller for this call.
    let bridge = unsafe { kernel::str::CStr::from_char_ptr(name) }.as_bytes();
    // SAFETY: `len` is the caller's output variable.
    unsafe { *len = 0 };
    let deadline_ms = crate::glue::now_ms().saturating_add(u64::from(timeout_ms));
    let call = Call { op, bridge, ifindex, value, offset, max, deadline_ms };
    let portid = LISTENER.load(Ordering::Acquire);
    if portid == 0 || LISTENER_NET.load(Ordering::Acquire) != net {
        return -ENODEV;
    }
    // SAFETY: The slot keeps `out` (the caller's buffer of `cap` bytes) until `rvs_brc_slot_wait` returns.
    let slot = unsafe { ffi::rvs_brc_slot_new(out, cap) };
    if slot.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: A live slot.
    let seq = unsafe { ffi::rvs_brc_slot_seq(slot) };
    let sent = Msg::new(96, fam::BRC, cmd::REQUEST, portid, seq, 0, 0, false)
        .and_then(|mut m| {
            m.fill(|w| call.emit(seq, w))?;
            Ok(m)
        })
        .and_then(|m| {
            // SAFETY: `net` is the caller's namespace, alive during the ioctl.
            m.unicast(net, portid)
        });
    let mut got = 0usize;
    let r = match sent {
        Ok(()) => {
            // SAFETY: Waits for, then frees the slot.
            unsafe { ffi::rvs_brc_slot_wait(slot, timeout_ms, &mut got) }
        }
        Err(e) => {
            // SAFETY: Frees the slot at once (zero wait: no reply can come for an unsent request).
            unsafe { ffi::rvs_brc_slot_wait(slot, 0, &mut got) };
            let n = e.to_errno();
            if n == -ECONNREFUSED {
                // The daemon went away.
                let _ = LISTENER.compare_exchange(portid, 0, Ordering::AcqRel, Ordering::Relaxed);
                -ENODEV
            } else {
                n
            }
        }
    };
    if r == -ETIMEDOUT {
        pr_warn!("brcompat: rvs-vswitchd did not answer request {} (op {}) in time\n", seq, op);
    }
    if r < 0 {
        return r;
    }
    match call.result(got) {
        Ok(n) => {
            // SAFETY: The caller's output variable.
            unsafe { *len = got };
            n
        }
        Err(e) => {
            pr_warn!("brcompat: malformed reply to op {} ({} bytes)\n", op, got);
            -e
        }
    }
}

//! Which device a port is linked under as its master (brcompat only). Upstream Open vSwitch links every port to the
//! datapath's local device (`ovs-system`), so `ip link` says `master ovs-system`; with `brcompat=1`, rvs-vswitchd
//! (which knows the bridge owning each port) sends SET_MASTER {port ifindex, bridge ifindex} on the `rvs_brcompat`
//! family after reconciling, and the port is re-linked under its bridge's internal device — so `ip -d link show tap0`
//! says `master br0` and `ip link show master br0` lists the bridge's ports, as with the Linux bridge. This module
//! owns that command and the hand-back when a bridge device goes away; the link itself is the vport's
//! (`Vport::relink`, see the Lifetimes in `vport.rs`).
//!
//! Rules: both devices are ports of the same datapath in the requester's namespace; the port is a netdev or GRE
//! port, the master an internal port (bridge ifindex 0 or the local port's: back to the local device). The writer
//! lock, then rtnl, are held across the checks and the relink, so neither port can be detached meanwhile. An
//! internal device that is unregistered or leaves the namespace first hands its lower ports back to the local
//! device (`rvs_internal_release_lowers` in `dev_glue.c`, which calls [`rvs_rust_port_master_gone`]); datapath
//! destruction removes the other ports before the local one, so no upper link ever outlives its master.

use kernel::prelude::*;

use crate::genl::Request;
use crate::glue::{self, ffi, NetDevice};
use crate::nla::Attrs;
use crate::ovs_abi::OVS_VPORT_TYPE_INTERNAL;
use crate::registry::WriterLock;
use crate::vport::Vport;

/// Attributes of SET_MASTER (keep equal to `rvs-vswitchd/src/brcompat/wire.rs`; IFINDEX is shared with REQUEST).
mod attr {
    pub(super) const IFINDEX: u16 = 4;
    pub(super) const MASTER: u16 = 11;
}

/// Whether `v`'s device is in namespace `net`.
fn in_net(v: &Vport, net: *mut glue::Net) -> bool {
    // SAFETY: Live device (the writer lock keeps the vport and its reference).
    unsafe { ffi::rvs_net_eq(ffi::rvs_dev_net(v.dev()), net) }
}

/// SET_MASTER: links port IFINDEX under the internal device MASTER (0: the datapath's local device).
pub(crate) fn set_master(req: &Request<'_>) -> Result {
    let (mut port, mut master) = (None, None);
    for a in Attrs::new(req.attrs) {
        let a = a.map_err(|_| EINVAL)?;
        match a.kind {
            attr::IFINDEX => port = a.u32_ne(),
            attr::MASTER => master = a.u32_ne(),
            _ => {}
        }
    }
    let (Some(port), Some(master)) = (port, master) else {
        req.set_err_msg(format_args!("SET_MASTER needs IFINDEX and MASTER"));
        return Err(EINVAL);
    };
    let (Ok(port), Ok(master)) = (i32::try_from(port), i32::try_from(master)) else {
        return Err(EINVAL);
    };
    let net = req.net();
    let w = WriterLock::lock();
    let Some((dp, v)) = w
        .datapaths()
        .filter(|d| d.in_net(net))
        .find_map(|d| d.ports().find(|v| v.port_no != 0 && v.ifindex() == port && in_net(v, net)).map(|v| (d, v)))
    else {
        req.set_err_msg(format_args!("no datapath port with ifindex {port} in this namespace"));
        return Err(ENODEV);
    };
    if v.kind == OVS_VPORT_TYPE_INTERNAL {
        req.set_err_msg(format_args!("{} is an internal port: it cannot have a master", v.name()));
        return Err(EINVAL);
    }
    let target = if master == 0 || master == dp.ifindex() {
        None
    } else {
        let Some(b) = dp.ports().find(|b| b.ifindex() == master && in_net(b, net)) else {
            req.set_err_msg(format_args!("ifindex {master} is no port of {}'s datapath", v.name()));
            return Err(ENODEV);
        };
        if b.kind != OVS_VPORT_TYPE_INTERNAL {
            req.set_err_msg(format_args!("{} is not an internal port (a bridge)", b.name()));
            return Err(EINVAL);
        }
        Some(b)
    };
    let to = target.map_or(v.local(), |b| b.dev());
    if v.upper() == to {
        return Ok(());
    }
    let _rtnl = glue::RtnlGuard::new();
    // Detaching (explicit or by the notifier) happens under rtnl: checked here, it cannot start before we are done.
    if v.is_detached() || target.is_some_and(|b| b.is_detached()) {
        return Err(ENODEV);
    }
    // SAFETY: rtnl held; the port is attached; `to` is a registered device (its vport is attached, and the local
    // device outlives the datapath's other ports).
    unsafe { v.relink(to) }
}

/// The internal device `gone` is going away (rtnl held, netdevice notifier): if port `vport` is linked under it, it
/// goes back to its datapath's local device (or stays unlinked if that fails, or if `gone` is the local device).
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_port_master_gone(vport: *mut core::ffi::c_void, gone: *mut NetDevice) {
    if vport.is_null() {
        return;
    }
    // SAFETY: `vport` is the rx_handler data of a device still hooked (so not detached: detaching unhooks first
    // under rtnl), hence a live vport.
    let v = unsafe { &*vport.cast::<Vport>() };
    if v.upper() != gone || v.is_detached() {
        return;
    }
    // SAFETY: rtnl is held by the notifier chain; the port is attached; null unlinks, and the local device, when
    // it is not the one going away, is registered.
    unsafe {
        if v.relink(core::ptr::null_mut()).is_err() {
            return;
        }
        let local = v.local();
        if local != gone && v.relink(local).is_err() {
            pr_warn!("{}: could not be linked back under the datapath's local device\n", v.name());
        }
    }
}

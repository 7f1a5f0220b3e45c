//! Vports: datapath ports backed by a net device — an existing netdev hooked with an rx_handler
//! (`OVS_VPORT_TYPE_NETDEV`, which includes the collect_md tunnel devices ovs-vswitchd creates over rtnetlink), a
//! collect_md `gretap` device rvs creates itself (`OVS_VPORT_TYPE_GRE`), or an rvs internal device
//! (`OVS_VPORT_TYPE_INTERNAL`, the datapath's local port 0 and any other internal port) — and the `ovs_vport`
//! generic netlink commands.
//!
//! # Lifetimes
//! A vport is a leaked `KBox` published in its datapath's port table. It holds one reference on its device. It is
//! unpublished under the writer lock, detached from its device under rtnl (the rx_handler unregistration waits for
//! running receivers), and freed — device reference dropped — only after an RCU grace period, so packet-path code
//! that found it under RCU can use it and its device until the end of its read-side section. The `detached` flag
//! (set under rtnl) makes detaching idempotent between the netdevice notifier and explicit deletion.
//!
//! A netdev or GRE port's device is linked (master upper device) to `upper`: the datapath's local device, as
//! upstream, or — with brcompat, on rvs-vswitchd's SET_MASTER (`port_master.rs`) — the internal device of the
//! bridge that owns it. `upper` changes only under rtnl; an internal device that goes away first hands its lower
//! ports back to the local device (the netdevice notifier), so `upper` never names a freed device.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use kernel::prelude::*;

use crate::dp::Datapath;
use crate::genl::{self, errno, fam, Msg, Request};
use crate::glue::{self, blob, ffi, NetDevice};
use crate::nla::Writer;
use crate::ovs::policy;
use crate::ovs::vport_nl::{UpcallStats, VportAttrs, VportStats};
use crate::ovs::CodecError;
use crate::ovs_abi::*;
use crate::registry::WriterLock;

/// Upstream `DP_MAX_PORTS`.
pub(crate) const DP_MAX_PORTS: u32 = 65535;

/// One datapath port.
pub(crate) struct Vport {
    dp: *const Datapath,
    /// Datapath port number.
    pub(crate) port_no: u32,
    /// `OVS_VPORT_TYPE_*`.
    pub(crate) kind: u16,
    /// The device (one reference held).
    dev: *mut NetDevice,
    /// For netdev and GRE ports: the datapath's local device (it outlives every other port).
    local: *mut NetDevice,
    /// For netdev and GRE ports: the device they are linked to as master (`local`, a bridge's internal device, or
    /// null after a failed relink). Written under rtnl.
    upper: AtomicPtr<NetDevice>,
    /// Upcall PIDs (blob of native-endian u32).
    pids: AtomicPtr<u8>,
    /// Set (under rtnl) once the device is detached.
    detached: AtomicBool,
    /// Whether we still hold our device reference.
    dev_ref: AtomicBool,
    upcall_ok: AtomicU64,
    upcall_fail: AtomicU64,
}

/// Upstream `ovs_vport_set_upcall_portids`: at least one PID, whole u32s, at most one per possible CPU.
fn check_pids(pids: &[u8]) -> Result {
    if pids.is_empty() || pids.len() % 4 != 0 || pids.len() / 4 > glue::nr_cpu_ids() {
        return Err(EINVAL);
    }
    Ok(())
}

/// A C string copy of a device name (at most 15 bytes).
pub(crate) fn c_name(name: &str) -> Result<[u8; 16]> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 15 || b.contains(&0) {
        return Err(EINVAL);
    }
    let mut out = [0u8; 16];
    out.get_mut(..b.len()).ok_or(EINVAL)?.copy_from_slice(b);
    Ok(out)
}

impl Vport {
    fn alloc(dp: &Datapath, port_no: u32, kind: u16, pids: &[u8]) -> Result<KBox<Vport>> {
        let p = blob::new(pids, false);
        if p.is_null() {
            return Err(ENOMEM);
        }
        KBox::new(
            Vport {
                dp,
                port_no,
                kind,
                dev: core::ptr::null_mut(),
                local: core::ptr::null_mut(),
                upper: AtomicPtr::new(core::ptr::null_mut()),
                pids: AtomicPtr::new(p),
                detached: AtomicBool::new(false),
                dev_ref: AtomicBool::new(false),
                upcall_ok: AtomicU64::new(0),
                upcall_fail: AtomicU64::new(0),
            },
            GFP_KERNEL,
        )
        .map_err(|e| {
            // SAFETY: Unpublished blob.
            unsafe { blob::free(p) };
            e.into()
        })
    }

    /// Creates an internal port (a new net device named `name` in the datapath's namespace). `local`: port 0.
    pub(crate) fn new_internal(
        dp: &Datapath,
        port_no: u32,
        name: &str,
        ifindex: i32,
        pids: &[u8],
    ) -> Result<*mut Vport> {
        let cname = c_name(name)?;
        let v = KBox::into_raw(Self::alloc(dp, port_no, OVS_VPORT_TYPE_INTERNAL, pids)?);
        let mut e = 0;
        let dev = {
            let _rtnl = glue::RtnlGuard::new();
            // SAFETY: rtnl held; `cname` is NUL-terminated; `v` outlives the device's use of it (freed only after the
            // device is unregistered and a grace period passed).
            unsafe { ffi::rvs_internal_dev_create(dp.net(), cname.as_ptr(), v.cast(), ifindex, port_no == 0, &mut e) }
        };
        if dev.is_null() {
            // SAFETY: `v` was never published.
            unsafe { Self::free(v) };
            // Upstream reports a name clash of the local port as EEXIST.
            return Err(Error::from_errno(if e == -16 { -17 } else { e }));
        }
        // SAFETY: `dev` is registered and alive; we take our own reference; `v` is still private to us.
        unsafe {
            ffi::rvs_dev_hold(dev);
            (*v).dev = dev;
            (*v).dev_ref.store(true, Ordering::Relaxed);
        }
        Ok(v)
    }

    /// Creates a collect_md `gretap` device named `name` and attaches it as an `OVS_VPORT_TYPE_GRE` port (upstream
    /// vport-gre.c: what ovs-vswitchd asks for when it cannot create the tunnel device itself over rtnetlink).
    pub(crate) fn new_gre(dp: &Datapath, port_no: u32, name: &str, pids: &[u8]) -> Result<*mut Vport> {
        let cname = c_name(name)?;
        let mut e = 0;
        let dev = {
            let _rtnl = glue::RtnlGuard::new();
            // SAFETY: rtnl held; `cname` is NUL-terminated.
            let dev = unsafe { ffi::rvs_gretap_create(dp.net(), cname.as_ptr(), &mut e) };
            if !dev.is_null() {
                // SAFETY: Registered device: one reference for the port (handed to `attach`), one held here until
                // the outcome is known.
                unsafe {
                    ffi::rvs_dev_hold(dev);
                    ffi::rvs_dev_hold(dev);
                }
            }
            dev
        };
        if dev.is_null() {
            return Err(Error::from_errno(if e < 0 { e } else { -12 }));
        }
        let r = Self::attach(dp, port_no, OVS_VPORT_TYPE_GRE, dev, pids);
        let _rtnl = glue::RtnlGuard::new();
        // SAFETY: rtnl held; our extra reference keeps `dev` alive; it is dropped before rtnl is released (the
        // device, if deleted, is freed after that).
        unsafe {
            if r.is_err() {
                ffi::rvs_tunnel_dev_delete(dev);
            }
            ffi::rvs_dev_put(dev);
        }
        r
    }

    /// Attaches the existing net device `name` (in the datapath's namespace) as a netdev port.
    pub(crate) fn new_netdev(dp: &Datapath, port_no: u32, name: &str, pids: &[u8]) -> Result<*mut Vport> {
        let cname = c_name(name)?;
        // SAFETY: `cname` is NUL-terminated; the returned device (if any) carries a reference for us.
        let dev = unsafe { ffi::rvs_dev_get_by_name(dp.net(), cname.as_ptr()) };
        if dev.is_null() {
            return Err(ENODEV);
        }
        Self::attach(dp, port_no, OVS_VPORT_TYPE_NETDEV, dev, pids)
    }

    /// Hooks device `dev` (one reference handed over, dropped on failure) as a port of kind `kind`.
    fn attach(dp: &Datapath, port_no: u32, kind: u16, dev: *mut NetDevice, pids: &[u8]) -> Result<*mut Vport> {
        let Some(master) = dp.port(0).map(|l| l.dev) else {
            // SAFETY: Our reference.
            unsafe { ffi::rvs_dev_put(dev) };
            return Err(ENODEV);
        };
        let mut b = match Self::alloc(dp, port_no, kind, pids) {
            Ok(b) => b,
            Err(e) => {
                // SAFETY: Our reference.
                unsafe { ffi::rvs_dev_put(dev) };
                return Err(e);
            }
        };
        b.dev = dev;
        b.dev_ref = AtomicBool::new(true);
        b.local = master;
        b.upper = AtomicPtr::new(master);
        let v = KBox::into_raw(b);
        let r = {
            let _rtnl = glue::RtnlGuard::new();
            // SAFETY: rtnl held; `v` stays valid until detached and a grace period passed.
            unsafe { ffi::rvs_netdev_attach(dev, master, v.cast()) }
        };
        if r != 0 {
            // SAFETY: Never attached nor published; `free` drops the device reference.
            unsafe { Self::free(v) };
            return Err(Error::from_errno(r));
        }
        Ok(v)
    }

    /// The datapath.
    pub(crate) fn dp(&self) -> &Datapath {
        // SAFETY: A datapath outlives its vports (it frees them before itself).
        unsafe { &*self.dp }
    }

    /// The device.
    pub(crate) fn dev(&self) -> *mut NetDevice {
        self.dev
    }

    /// The device this port is linked to as master (see the module's Lifetimes).
    pub(crate) fn upper(&self) -> *mut NetDevice {
        self.upper.load(Ordering::Acquire)
    }

    /// The datapath's local device (null for internal ports).
    pub(crate) fn local(&self) -> *mut NetDevice {
        self.local
    }

    /// Moves the port's master link to `to` (null: unlinked); on failure the previous link is kept when it can be
    /// restored. `upper` always names what the device is actually linked to.
    ///
    /// # Safety
    ///
    /// The caller holds rtnl, the port is not detached, and `to` is null or a registered device.
    pub(crate) unsafe fn relink(&self, to: *mut NetDevice) -> Result {
        let from = self.upper();
        let mut linked = from;
        // SAFETY: rtnl held (caller); our reference keeps `dev` alive; `from` is alive while linked (module
        // Lifetimes) and `to` is the caller's live device.
        let r = unsafe { ffi::rvs_port_relink(self.dev, from, to, &mut linked) };
        self.upper.store(linked, Ordering::Release);
        if r != 0 {
            return Err(Error::from_errno(r));
        }
        Ok(())
    }

    /// Whether the device was detached (the port is going away).
    pub(crate) fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// The device name.
    pub(crate) fn name(&self) -> &str {
        // SAFETY: `dev->name` is a NUL-terminated array inside the device, which our reference keeps alive.
        let c = unsafe { kernel::str::CStr::from_char_ptr(ffi::rvs_dev_name(self.dev)) };
        c.to_str().unwrap_or("")
    }

    /// The device's ifindex.
    pub(crate) fn ifindex(&self) -> i32 {
        // SAFETY: Live device.
        unsafe { ffi::rvs_dev_ifindex(self.dev) }
    }

    /// The upcall PIDs (caller under RCU or the writer lock).
    pub(crate) fn pids(&self) -> &[u8] {
        // SAFETY: Replaced blobs are freed after a grace period.
        unsafe { blob::data(self.pids.load(Ordering::Acquire)) }
    }

    /// Upstream `ovs_vport_find_upcall_portid`: the PID for a packet with hash `hash`.
    pub(crate) fn upcall_pid(&self, hash: u32) -> u32 {
        let ids = self.pids();
        let n = ids.len() / 4;
        if n == 0 {
            return 0;
        }
        let i = usize::try_from(hash).unwrap_or(0) % n;
        policy::u32s(ids).nth(i).unwrap_or(0)
    }

    /// Counts an upcall from this port.
    pub(crate) fn count_upcall(&self, ok: bool) {
        let c = if ok { &self.upcall_ok } else { &self.upcall_fail };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Replaces the upcall PIDs.
    pub(crate) fn set_pids(&self, _w: &WriterLock, pids: &[u8]) -> Result {
        check_pids(pids)?;
        let p = blob::new(pids, false);
        if p.is_null() {
            return Err(ENOMEM);
        }
        let old = self.pids.swap(p, Ordering::AcqRel);
        // SAFETY: Unreachable for new readers; freed after a grace period.
        unsafe { blob::free_rcu(old) };
        Ok(())
    }

    /// Detaches the port from its device (rtnl held). Idempotent.
    pub(crate) fn detach(&self, _rtnl: &glue::RtnlGuard) {
        if self.detached.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: rtnl held; our device reference keeps `dev` alive.
        unsafe {
            if self.kind == OVS_VPORT_TYPE_NETDEV {
                ffi::rvs_netdev_detach(self.dev, self.upper());
            } else if self.kind == OVS_VPORT_TYPE_GRE {
                ffi::rvs_netdev_detach(self.dev, self.upper());
                ffi::rvs_tunnel_dev_delete(self.dev);
                // As for internal ports below: the rx_handler unregistration waited for every reader, and the
                // device's unregistration completes at rtnl_unlock only once our reference is gone.
                if self.dev_ref.swap(false, Ordering::AcqRel) {
                    ffi::rvs_dev_put(self.dev);
                }
            } else {
                ffi::rvs_internal_dev_destroy(self.dev);
                // The port was unpublished before, and unregistration waited for every RCU reader
                // (synchronize_net), so nobody uses the device any more. Drop our reference now: the device is
                // freed when rtnl is released, which waits for all references.
                if self.dev_ref.swap(false, Ordering::AcqRel) {
                    ffi::rvs_dev_put(self.dev);
                }
            }
        }
    }

    /// Called by the netdevice notifier (rtnl held) when the device is unregistered by someone else.
    fn device_gone(&self) {
        if self.detached.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.kind != OVS_VPORT_TYPE_INTERNAL {
            // SAFETY: rtnl is held by the notifier chain; the device is still registered.
            unsafe { ffi::rvs_netdev_detach(self.dev, self.upper()) };
        }
        glue::schedule_work();
    }

    /// Frees a vport: drops its device reference and its PIDs.
    ///
    /// # Safety
    ///
    /// `v` came from `KBox::into_raw` in this module, is detached (or was never attached) and unpublished, and a grace
    /// period has passed since it was unpublished.
    pub(crate) unsafe fn free(v: *mut Vport) {
        // SAFETY: By the function's safety contract we own `v`.
        let b = unsafe { KBox::from_raw(v) };
        if !b.dev.is_null() && b.dev_ref.swap(false, Ordering::AcqRel) {
            // SAFETY: Our reference.
            unsafe { ffi::rvs_dev_put(b.dev) };
        }
        // SAFETY: No reader is left.
        unsafe { blob::free(b.pids.swap(core::ptr::null_mut(), Ordering::AcqRel)) };
    }

    /// Device statistics.
    fn stats(&self) -> VportStats {
        let mut s = [0u64; 8];
        // SAFETY: Live device; `s` has room for 8 counters.
        unsafe { ffi::rvs_dev_stats(self.dev, s.as_mut_ptr()) };
        let [rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped] = s;
        VportStats { rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped }
    }

    /// Writes the vport's attributes (upstream `ovs_vport_cmd_fill_info`).
    pub(crate) fn fill(&self, w: &mut Writer<'_>) -> core::result::Result<(), CodecError> {
        // SAFETY: Live device; the datapath's namespace is alive while the datapath exists.
        let netnsid = unsafe {
            let dev_net = ffi::rvs_dev_net(self.dev);
            if ffi::rvs_net_eq(dev_net, self.dp().net()) {
                None
            } else {
                Some(ffi::rvs_peernet2id(self.dp().net(), dev_net))
            }
        };
        VportAttrs {
            port_no: Some(self.port_no),
            ty: Some(u32::from(self.kind)),
            name: Some(self.name()),
            options: None,
            upcall_pids: Some(self.pids()),
            stats: Some(self.stats()),
            ifindex: Some(self.ifindex()),
            netnsid,
            upcall_stats: Some(UpcallStats {
                success: self.upcall_ok.load(Ordering::Relaxed),
                fail: self.upcall_fail.load(Ordering::Relaxed),
            }),
        }
        .emit(w)
    }

    /// A complete vport message.
    pub(crate) fn message(&self, cmd: u16, portid: u32, seq: u32) -> Result<Msg> {
        let mut m = Msg::new(512, fam::VPORT, cmd_u8(cmd), portid, seq, 0, self.dp().ifindex(), false)?;
        m.fill(|w| self.fill(w))?;
        Ok(m)
    }
}

/// A generic netlink command number as `u8`.
pub(crate) fn cmd_u8(cmd: u16) -> u8 {
    u8::try_from(cmd).unwrap_or(0)
}

/// Netdevice notifier: `dev` (a port's device) is being unregistered. rtnl is held.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_dev_unregister(vport: *mut core::ffi::c_void, _dev: *mut NetDevice) {
    if vport.is_null() {
        return;
    }
    // SAFETY: `vport` is the pointer registered with the device (rx_handler data or internal device private data); a
    // vport outlives its device attachment, and the notifier runs before we could free it (freeing requires rtnl
    // for detaching first).
    let v = unsafe { &*vport.cast::<Vport>() };
    v.device_gone();
}

/// Upstream `lookup_vport`: by name (in any datapath of the namespace) or by datapath ifindex + port number.
fn lookup<'a>(w: &'a WriterLock, req: &Request<'_>, a: &VportAttrs<'_>) -> Result<&'a Vport> {
    let net = req.net();
    if let Some(name) = a.name {
        let v = w
            .datapaths()
            .filter(|d| d.in_net(net))
            .find_map(|d| d.ports().find(|v| v.name() == name))
            .ok_or(ENODEV)?;
        if req.dp_ifindex != 0 && req.dp_ifindex != v.dp().ifindex() {
            return Err(ENODEV);
        }
        return Ok(v);
    }
    if let Some(port_no) = a.port_no {
        if port_no >= DP_MAX_PORTS {
            return Err(EFBIG);
        }
        let dp = w.find(net, req.dp_ifindex).ok_or(ENODEV)?;
        return dp.port(port_no).ok_or(ENODEV);
    }
    Err(EINVAL)
}

/// `ovs_vport` doit.
pub(crate) fn doit(cmd: u16, req: &Request<'_>) -> Result {
    let a = VportAttrs::parse(req.attrs).map_err(|e| req.codec_err(e))?;
    match cmd {
        OVS_VPORT_CMD_NEW => new(req, &a),
        OVS_VPORT_CMD_DEL => del(req, &a),
        OVS_VPORT_CMD_GET => {
            let w = WriterLock::lock();
            let v = lookup(&w, req, &a)?;
            let mut m = Msg::reply_to(req, 512, fam::VPORT, cmd_u8(OVS_VPORT_CMD_GET), v.dp().ifindex())?;
            m.fill(|wr| v.fill(wr))?;
            drop(w);
            m.reply(req)
        }
        OVS_VPORT_CMD_SET => {
            let w = WriterLock::lock();
            let v = lookup(&w, req, &a)?;
            if a.ty.is_some_and(|t| t != u32::from(v.kind)) {
                return Err(EINVAL);
            }
            if a.options.is_some() {
                return Err(genl::err(errno::EOPNOTSUPP));
            }
            if let Some(p) = a.upcall_pids {
                v.set_pids(&w, p)?;
            }
            let m = v.message(OVS_VPORT_CMD_SET, req.portid(), req.seq())?;
            drop(w);
            m.notify(fam::VPORT, req);
            Ok(())
        }
        _ => Err(genl::err(errno::EOPNOTSUPP)),
    }
}

fn new(req: &Request<'_>, a: &VportAttrs<'_>) -> Result {
    let (Some(name), Some(ty), Some(pids)) = (a.name, a.ty, a.upcall_pids) else {
        return Err(EINVAL);
    };
    if a.ifindex.is_some() && ty != u32::from(OVS_VPORT_TYPE_INTERNAL) {
        return Err(genl::err(errno::EOPNOTSUPP));
    }
    check_pids(pids)?;
    let want = a.port_no.unwrap_or(0);
    if want >= DP_MAX_PORTS {
        return Err(EFBIG);
    }
    let w = WriterLock::lock();
    let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    let port_no = if want != 0 {
        if dp.port(want).is_some() {
            return Err(EBUSY);
        }
        want
    } else {
        (1..DP_MAX_PORTS).find(|&n| dp.port(n).is_none()).ok_or(EFBIG)?
    };
    let v = match u16::try_from(ty).unwrap_or(0) {
        OVS_VPORT_TYPE_NETDEV => Vport::new_netdev(dp, port_no, name, pids)?,
        OVS_VPORT_TYPE_INTERNAL => Vport::new_internal(dp, port_no, name, a.ifindex.unwrap_or(0), pids)?,
        OVS_VPORT_TYPE_GRE => Vport::new_gre(dp, port_no, name, pids)?,
        _ => return Err(genl::err(errno::EAFNOSUPPORT)),
    };
    dp.publish_port(&w, port_no, v);
    // SAFETY: Just published; alive under the writer lock.
    let vr = unsafe { &*v };
    let m = vr.message(OVS_VPORT_CMD_NEW, req.portid(), req.seq())?;
    drop(w);
    m.notify(fam::VPORT, req);
    Ok(())
}

fn del(req: &Request<'_>, a: &VportAttrs<'_>) -> Result {
    let w = WriterLock::lock();
    let v = lookup(&w, req, a)?;
    if v.port_no == 0 {
        return Err(EINVAL);
    }
    let m = v.message(OVS_VPORT_CMD_DEL, req.portid(), req.seq())?;
    let dp = v.dp();
    dp.remove_ports(&w, &[v.port_no]);
    drop(w);
    m.notify(fam::VPORT, req);
    Ok(())
}

/// `ovs_vport` dump: the ports of the datapath named by the request's `dp_ifindex`, resumed at `args[0]`.
pub(crate) fn dump(d: &mut genl::DumpRequest<'_>) -> Result<i32> {
    let w = WriterLock::lock();
    let dp = w.find(d.net(), d.dp_ifindex).ok_or(ENODEV)?;
    let mut next = u32::try_from(d.args()[0]).unwrap_or(0);
    while next < DP_MAX_PORTS {
        if next > dp.max_port() {
            next = DP_MAX_PORTS;
            break;
        }
        if let Some(v) = dp.port(next) {
            let ifindex = dp.ifindex();
            if d.put(fam::VPORT, cmd_u8(OVS_VPORT_CMD_GET), ifindex, |wr| v.fill(wr)).is_err() {
                break;
            }
        }
        next = next.wrapping_add(1);
    }
    d.args()[0] = core::ffi::c_long::from(next);
    Ok(d.result())
}

/// Removes the ports the notifier detached (the module's work item).
pub(crate) fn reap_detached() {
    let w = WriterLock::lock();
    for dp in w.datapaths() {
        let mut gone = KVec::<u32>::new();
        for v in dp.ports() {
            if v.is_detached() && v.port_no != 0 {
                let _ = gone.push(v.port_no, GFP_KERNEL);
            }
        }
        if gone.is_empty() {
            continue;
        }
        for &p in gone.iter() {
            if let Some(v) = dp.port(p) {
                if let Ok(m) = v.message(OVS_VPORT_CMD_DEL, 0, 0) {
                    m.multicast(fam::VPORT, dp.net());
                }
            }
        }
        dp.remove_ports(&w, &gone);
    }
}

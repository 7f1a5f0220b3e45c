//! rvs.ko: the rvs datapath, a Rust kernel module.
//!
//! This is the crate root. The shared core (`userspace/core/src`) is compiled into the module through `#[path]`
//! modules declared here, at the crate root, so that the core's own `crate::...` paths resolve the same way as in
//! its cargo build. The core is `no_std` and allocation-free; see `userspace/core/src/lib.rs` for its rules.
//!
//! Today the module proves the build seam: at load it runs a self-test of core code on a built-in frame and logs
//! its version; later issues add the datapath (generic netlink families, vports, fast path).

use kernel::prelude::*;

// The shared core: the same files as the `rvs_core` crate, declared at the crate root so their `crate::` paths
// resolve as in the cargo build (keep this list equal to the `pub mod`s of userspace/core/src/lib.rs). Not every
// item is used by the kernel side yet.
#[path = "../userspace/core/src/actions.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod actions;
#[path = "../userspace/core/src/classifier/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod classifier;
#[path = "../userspace/core/src/csum.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod csum;
#[path = "../userspace/core/src/execute/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod execute;
#[path = "../userspace/core/src/extract/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod extract;
#[path = "../userspace/core/src/key.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod key;
#[path = "../userspace/core/src/mask.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod mask;
#[path = "../userspace/core/src/meter.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod meter;
#[path = "../userspace/core/src/nla.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod nla;
#[path = "../userspace/core/src/ovs/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod ovs;
#[path = "../userspace/core/src/ovs_abi.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod ovs_abi;
#[path = "../userspace/core/src/packet.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod packet;
#[path = "../userspace/core/src/packet_buf.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod packet_buf;
#[path = "../userspace/core/src/text/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod text;
#[path = "../userspace/core/src/version.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod version;
#[path = "../userspace/core/src/wire/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod wire;

mod brcompat;
mod dp;
mod fastpath;
mod flow_cmd;
mod flow_table;
mod genl;
mod glue;
mod meter_table;
mod registry;
mod selftest;
mod skb;
mod vport;

module! {
    type: RvsModule,
    name: "rvs",
    author: "rvs developers",
    description: "rvs virtual switch datapath",
    license: "GPL",
}

struct RvsModule;

impl kernel::Module for RvsModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        selftest::run()?;
        let mut failed: *const kernel::ffi::c_char = core::ptr::null();
        // SAFETY: Registers the static generic netlink families once; `failed` receives a static name.
        let r = unsafe { glue::ffi::rvs_genl_register(&mut failed) };
        if r != 0 {
            let name = if failed.is_null() {
                kernel::c_str!("?")
            } else {
                // SAFETY: `failed` points to a family's static NUL-terminated name.
                unsafe { kernel::str::CStr::from_char_ptr(failed) }
            };
            if r == -17 {
                pr_err!(
                    "generic netlink family {} is already registered: is openvswitch.ko loaded? \
                     (rmmod openvswitch first)\n",
                    name
                );
            } else {
                pr_err!("cannot register generic netlink family {} (error {})\n", name, r);
            }
            return Err(Error::from_errno(r));
        }
        // The families come first so that a conflict with openvswitch.ko is reported by name; a request arriving
        // before the device hooks below are registered works all the same.
        // SAFETY: Registers static C objects (rtnl link ops, pernet ops, netdevice notifier) once.
        let r = unsafe { glue::ffi::rvs_dev_register() };
        if r != 0 {
            pr_err!("cannot register the internal port device type or notifiers (error {})\n", r);
            // SAFETY: Registered above.
            unsafe { glue::ffi::rvs_genl_unregister() };
            dp::destroy_all(core::ptr::null_mut());
            return Err(Error::from_errno(r));
        }
        if let Err(e) = brcompat::register() {
            // SAFETY: Registered above.
            unsafe {
                glue::ffi::rvs_genl_unregister();
                glue::ffi::rvs_dev_unregister();
            }
            return Err(e);
        }
        // SAFETY: Starts the static delayed work item (stopped in `drop`).
        unsafe { glue::ffi::rvs_rebalance_start() };
        pr_info!(
            "rvs {} loaded on Linux {} (datapath ABI version {})\n",
            version::VERSION,
            glue::kernel_release(),
            version::OVS_DATAPATH_VERSION
        );
        Ok(RvsModule)
    }
}

impl Drop for RvsModule {
    fn drop(&mut self) {
        // The bridge ioctl hook first: it waits for a brctl request in flight.
        brcompat::unregister();
        // SAFETY: Registered in `init`; no new request arrives after this returns.
        unsafe { glue::ffi::rvs_genl_unregister() };
        // SAFETY: Started in `init`; waits for a running rebalance, which holds the writer lock.
        unsafe { glue::ffi::rvs_rebalance_stop() };
        dp::destroy_all(core::ptr::null_mut());
        glue::cancel_work();
        // SAFETY: Registered in `init`.
        unsafe { glue::ffi::rvs_dev_unregister() };
        glue::rcu_barrier();
        pr_info!("rvs {} unloaded\n", version::VERSION);
    }
}

/// Generic netlink `doit` of every rvs family (called by `genl_glue.c`).
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_doit(family: i32, cmd: u8, info: *mut glue::GenlInfo) -> i32 {
    // SAFETY: `info` is the request being handled, valid for this call.
    let req = unsafe { genl::Request::new(info) };
    let cmd = u16::from(cmd);
    let r = match family {
        genl::fam::DP => dp::doit(cmd, &req),
        genl::fam::VPORT => vport::doit(cmd, &req),
        genl::fam::FLOW => flow_cmd::doit(cmd, &req),
        genl::fam::PACKET => fastpath::execute_cmd(&req),
        genl::fam::METER => meter_table::doit(cmd, &req),
        genl::fam::BRC => brcompat::doit(cmd, &req),
        _ => Err(EINVAL),
    };
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Generic netlink `dumpit` of the datapath, vport and flow families.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_dumpit(
    family: i32,
    _cmd: u8,
    skb: *mut glue::SkBuff,
    cb: *mut glue::NetlinkCallback,
) -> i32 {
    // SAFETY: `skb` and `cb` are the dump call's, valid for this call.
    let mut d = unsafe { genl::DumpRequest::new(skb, cb) };
    let r = match family {
        genl::fam::DP => dp::dump(&mut d),
        genl::fam::VPORT => vport::dump(&mut d),
        genl::fam::FLOW => flow_cmd::dump(&mut d),
        _ => Err(EINVAL),
    };
    match r {
        Ok(n) => n,
        Err(e) => e.to_errno(),
    }
}

/// The module's work item: removes ports whose devices went away.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_work() {
    vport::reap_detached();
}

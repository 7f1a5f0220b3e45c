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

mod glue;
mod selftest;

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
        pr_info!("rvs {} unloaded\n", version::VERSION);
    }
}

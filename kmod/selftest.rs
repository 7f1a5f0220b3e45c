//! Load-time self-test: runs shared-core code on built-in input inside the kernel, so a module whose core was
//! miscompiled for the kernel (or behaves differently there) refuses to load instead of forwarding wrongly.

use kernel::prelude::*;

use crate::csum;

/// An IPv4 header (UDP, 192.168.0.1 → 192.168.0.199) with a zero checksum field; its checksum is 0xb861.
const IPV4_HEADER: [u8; 20] = [
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
    0x00, 0xc7,
];

/// Runs every self-test; logs and returns `EINVAL` on the first failure.
pub(crate) fn run() -> Result {
    let sum = csum::checksum(&IPV4_HEADER);
    if sum != 0xb861 {
        pr_err!("rvs: self-test failed: IPv4 header checksum {:#06x}, expected 0xb861\n", sum);
        return Err(EINVAL);
    }
    pr_info!("rvs: self-test passed (core checksum)\n");
    Ok(())
}

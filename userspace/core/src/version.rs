//! The rvs version, shared by `rvs.ko` (logged at load) and the userspace tools.

/// rvs release version; kept equal to the cargo workspace version (a unit test checks it).
pub const VERSION: &str = "0.1.0";

/// Version of the datapath netlink ABI that rvs speaks: upstream Open vSwitch's
/// `OVS_DATAPATH_VERSION` from `include/uapi/linux/openvswitch.h`.
pub const OVS_DATAPATH_VERSION: u32 = 2;

#[cfg(test)]
mod tests {
    #[test]
    fn version_matches_cargo() {
        assert_eq!(super::VERSION, env!("CARGO_PKG_VERSION"));
    }
}

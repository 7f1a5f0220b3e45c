#!/bin/sh
# vm-test
# rvs.ko smoke test (UML and x86_64): insmod logs the version after a passing core self-test, the module shows in
# /proc/modules, a netns ping works with it loaded, rmmod unloads it. tools/vm/run then fails the run if the kernel
# log holds any warning or oops. (Forwarding through rvs.ko itself arrives with the datapath, issue 4.)
. "$RVS_REPO/tests/lib.sh"

if ! [ -f "$RVS_KO" ]; then fail "rvs.ko built for this kernel ($RVS_KO)"; finish; fi
version=$(sed -n 's/^pub const VERSION: &str = "\(.*\)";/\1/p' "$RVS_REPO/userspace/core/src/version.rs")

check "insmod rvs.ko" insmod "$RVS_KO"
check "core self-test ran in the kernel" dmesg_has "rvs: self-test passed"
check "load message names version $version and the kernel" dmesg_has "rvs $version loaded on Linux $(uname -r) "
check "rvs listed in /proc/modules" grep -q '^rvs ' /proc/modules

netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
ip link add br0 type bridge 2>/dev/null || { modprobe -d "$RVS_KDIR/modroot" bridge && ip link add br0 type bridge; }
ip link set v1 master br0 && ip link set v2 master br0 && ip link set br0 up
check "ping between two netns with rvs.ko loaded" ip netns exec h1 ping -c 2 -W 2 10.0.0.2
ip link del br0

check "rmmod rvs" rmmod rvs
check "unload logged" dmesg_has "rvs $version unloaded"
check_not "rvs gone from /proc/modules" grep -q '^rvs ' /proc/modules
finish

#!/bin/bash
# vm-test
# Patch ports, mirrors and bonds in rvs-vswitchd with the KERNEL datapath (datapath_type=system) on rvs.ko in a test
# kernel: the scenario of ports-host.sh (tests/vswitchd/ports-scenario.sh), configured with rvs-vsctl:
#   tools/vm/run --arch um tests/vswitchd/ports-kernel.sh
# Build first on the host: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl) and
# tools/kmod.sh um. The bond's peer is a Linux bridge (bridge.ko from the test kernel's modules).
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=system
. "$RVS_REPO/tests/vswitchd/scenario.sh"
. "$RVS_REPO/tests/vswitchd/ports-scenario.sh"

modprobe -d "$RVS_KDIR/modroot" bridge 2>/dev/null
if [ -f "${RVS_KO:-}" ]; then
    if check "insmod rvs.ko" insmod "$RVS_KO"; then
        vsw_setup /tmp/rvs-ports-kernel
        ports_scenario system
        check "no datapath left behind" sh -c "! ovs-dpctl show ovs-system >/dev/null 2>&1"
        ports_cleanup
        check "rmmod rvs" rmmod rvs
    fi
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
finish

#!/bin/bash
# vm-test
# rvs-vswitchd with the KERNEL datapath (datapath_type=system) in a test kernel: the scenario of normal-host.sh
# (tests/vswitchd/scenario.sh) against rvs.ko, then against the upstream openvswitch.ko in the same boot:
#   tools/vm/run --arch um tests/vswitchd/normal-kernel.sh
# Build first on the host: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
# Unlike ovs-vswitchd (tests/kmod/vswitchd.sh), rvs-vswitchd needs no wait after boot. On the kernel datapath the
# scenario also checks the graceful-restart property: the datapath and its flows stay while the daemon is down.
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=system
. "$RVS_REPO/tests/vswitchd/scenario.sh"

# run_on MOD: the scenario with one datapath module loaded.
run_on() {
    vsw_setup /tmp/rvs-vsw-$1
    vsw_scenario system
    check "$1: no datapath left behind" sh -c "! ovs-dpctl show ovs-system >/dev/null 2>&1"
    vsw_cleanup
}

if [ -f "${RVS_KO:-}" ]; then
    if check "insmod rvs.ko" insmod "$RVS_KO"; then
        echo "=== datapath module: rvs.ko"
        run_on rvs
        check "rmmod rvs" rmmod rvs
    fi
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi

if modprobe -d "$RVS_KDIR/modroot" openvswitch; then
    echo "=== datapath module: openvswitch.ko"
    run_on openvswitch
    rmmod openvswitch
else
    fail "openvswitch.ko loads (reference peer)"
fi
finish

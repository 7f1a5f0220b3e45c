#!/bin/sh
# vm-test
# tests/openflow/meter-host.sh (OpenFlow meters enforced by datapath meters, measured) on the KERNEL datapath
# (datapath_type=system): with rvs.ko, then with the upstream openvswitch.ko in the same boot.
#   tools/vm/run tests/openflow/meter-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/openflow/meter-host.sh

if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
    echo "=== datapath module: rvs.ko"
    if OF_DP_TYPE=system sh "$T"; then pass "rvs.ko: meter scenario"; else fail "rvs.ko: meter scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    check "rmmod rvs" rmmod rvs
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if load_reference; then
    echo "=== datapath module: openvswitch.ko"
    if OF_DP_TYPE=system sh "$T"; then pass "openvswitch.ko: meter scenario"; else fail "openvswitch.ko: meter scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    rmmod openvswitch
fi
finish

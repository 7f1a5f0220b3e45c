#!/bin/sh
# vm-test
# tests/telemetry/telemetry-host.sh (NetFlow v5 records, sFlow v5 samples and counters, ingress policing measured)
# on the KERNEL datapath (datapath_type=system): with rvs.ko, then with the upstream openvswitch.ko in the same boot.
#   tools/vm/run tests/telemetry/telemetry-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/telemetry-host.sh

if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
    echo "=== datapath module: rvs.ko"
    if TEL_DP_TYPE=system sh "$T"; then pass "rvs.ko: telemetry scenario"; else fail "rvs.ko: telemetry scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    check "rmmod rvs" rmmod rvs
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if load_reference; then
    echo "=== datapath module: openvswitch.ko"
    if TEL_DP_TYPE=system sh "$T"; then pass "openvswitch.ko: telemetry scenario"; else fail "openvswitch.ko: telemetry scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    rmmod openvswitch
fi
finish

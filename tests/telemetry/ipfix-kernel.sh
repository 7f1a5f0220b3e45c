#!/bin/sh
# vm-test
# Bridge IPFIX export (sampled packets as RFC 7011 records with templates, decoded by an independent collector) on
# the KERNEL datapath: tests/telemetry/ipfix-scenario.sh with rvs.ko, then with openvswitch.ko in the same boot:
#   tools/vm/run tests/telemetry/ipfix-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/ipfix-scenario.sh

if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
    echo "=== datapath module: rvs.ko"
    if IPFIX_DP_TYPE=system sh "$T"; then pass "rvs.ko: IPFIX scenario"; else fail "rvs.ko: IPFIX scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    check "rmmod rvs" rmmod rvs
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if load_reference; then
    echo "=== datapath module: openvswitch.ko"
    if IPFIX_DP_TYPE=system sh "$T"; then pass "openvswitch.ko: IPFIX scenario"; else fail "openvswitch.ko: IPFIX scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    rmmod openvswitch
fi
finish

#!/bin/sh
# vm-test
# Egress QoS (Port.qos linux-htb with Queue rows, programmed with tc over rtnetlink) on the KERNEL datapath: the
# scenario tests/telemetry/qos-scenario.sh (htb qdisc/classes seen with `tc`, queue 0 and a set_queue:1 queue
# measured with a UDP blast, class counters, removal) with rvs.ko, then with openvswitch.ko in the same boot:
#   tools/vm/run tests/telemetry/qos-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/qos-scenario.sh

if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
    echo "=== datapath module: rvs.ko"
    if QOS_DP_TYPE=system sh "$T"; then pass "rvs.ko: QoS scenario"; else fail "rvs.ko: QoS scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    check "rmmod rvs" rmmod rvs
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if load_reference; then
    echo "=== datapath module: openvswitch.ko"
    if QOS_DP_TYPE=system sh "$T"; then pass "openvswitch.ko: QoS scenario"; else fail "openvswitch.ko: QoS scenario"; fi
    ovs-dpctl del-dp ovs-system 2>/dev/null
    rmmod openvswitch
fi
finish

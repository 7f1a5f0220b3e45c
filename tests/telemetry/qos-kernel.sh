#!/bin/sh
# vm-test
# Egress QoS (Port.qos linux-htb with Queue rows, programmed with tc over rtnetlink) on the KERNEL datapath: the
# scenario tests/telemetry/qos-scenario.sh (htb qdisc/classes seen with `tc`, queue 0 and a set_queue:1 queue
# measured with a UDP blast, class counters, removal) with rvs.ko, then with openvswitch.ko in the same boot:
#   tools/vm/run tests/telemetry/qos-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/qos-scenario.sh

on_both_modules QoS QOS_DP_TYPE "$T"
finish

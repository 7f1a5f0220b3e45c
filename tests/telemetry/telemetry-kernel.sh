#!/bin/sh
# vm-test
# tests/telemetry/telemetry-host.sh (NetFlow v5 records, sFlow v5 samples and counters, ingress policing measured)
# on the KERNEL datapath (datapath_type=system): with rvs.ko, then with the upstream openvswitch.ko in the same boot.
#   tools/vm/run tests/telemetry/telemetry-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/telemetry-host.sh

on_both_modules telemetry TEL_DP_TYPE "$T"
finish

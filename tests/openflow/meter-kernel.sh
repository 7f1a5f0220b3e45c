#!/bin/sh
# vm-test
# tests/openflow/meter-host.sh (OpenFlow meters enforced by datapath meters, measured) on the KERNEL datapath
# (datapath_type=system): with rvs.ko, then with the upstream openvswitch.ko in the same boot.
#   tools/vm/run tests/openflow/meter-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/openflow/meter-host.sh

on_both_modules meter OF_DP_TYPE "$T"
finish

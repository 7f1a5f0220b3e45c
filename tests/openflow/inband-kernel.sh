#!/bin/sh
# vm-test
# tests/openflow/inband-host.sh (in-band control: the switch reaches its controller only through its own bridge) on
# the KERNEL datapath (datapath_type=system; the local port is the datapath's internal device): with rvs.ko, then
# with openvswitch.ko in the same boot.
#   tools/vm/run tests/openflow/inband-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl -p rvs-vsctl) and
# tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/openflow/inband-host.sh

on_both_modules inband INBAND_DP_TYPE "$T"
finish

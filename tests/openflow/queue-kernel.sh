#!/bin/sh
# vm-test
# tests/openflow/queue-host.sh (OpenFlow queue statistics from linux-htb queues, set_queue:1 counted in queue 1) on
# the KERNEL datapath (datapath_type=system): with rvs.ko, then with openvswitch.ko in the same boot.
#   tools/vm/run tests/openflow/queue-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/openflow/queue-host.sh

on_both_modules queue QUEUE_DP_TYPE "$T"
finish

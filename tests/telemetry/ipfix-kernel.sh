#!/bin/sh
# vm-test
# Bridge IPFIX export (sampled packets as RFC 7011 records with templates, decoded by an independent collector) on
# the KERNEL datapath: tests/telemetry/ipfix-scenario.sh with rvs.ko, then with openvswitch.ko in the same boot:
#   tools/vm/run tests/telemetry/ipfix-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
T=$RVS_REPO/tests/telemetry/ipfix-scenario.sh

on_both_modules IPFIX IPFIX_DP_TYPE "$T"
finish

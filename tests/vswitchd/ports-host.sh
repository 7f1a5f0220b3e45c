#!/bin/sh
# host-test
# Patch ports, mirrors and bonds in rvs-vswitchd with the USERSPACE datapath (datapath_type=netdev), configured with
# rvs-vsctl (needs root, veth, netns, Linux bridges, tcpdump):
#   sudo tests/vswitchd/ports-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl)
# The scenario is tests/vswitchd/ports-scenario.sh; its VM twin (kernel datapath) is ports-kernel.sh.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=netdev
. "$RVS_REPO/tests/vswitchd/scenario.sh"
. "$RVS_REPO/tests/vswitchd/ports-scenario.sh"

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
vsw_setup /tmp/rvs-ports-host
trap 'ports_cleanup' EXIT INT TERM
ports_scenario netdev
ports_cleanup
trap - EXIT INT TERM
finish

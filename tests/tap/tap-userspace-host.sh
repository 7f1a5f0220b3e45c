#!/bin/bash
# host-test
# VM tap interfaces on the USERSPACE datapath (datapath_type=netdev), on the host (needs root, netns, veth, tun):
#   sudo flock /tmp/rvs-host-test.lock tests/tap/tap-userspace-host.sh
# The scenario of tap-kernel.sh (tests/tap/scenario.sh): a test "VM" process on a tap created as QEMU creates it,
# single and multi-queue, attached by rvs-vsctl add-port, pings a netns host and is pinged; its exit detaches the
# datapath port, re-creating the tap (also at once, with a new ifindex) re-attaches it. All names start with "tap".
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl -p rvs-dpctl)
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
TAP_TYPE=netdev
. "$RVS_REPO/tests/tap/scenario.sh"

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
tap_setup /tmp/rvs-tap-host
trap 'tap_cleanup' EXIT INT TERM
tap_scenario netdev
tap_cleanup
trap - EXIT INT TERM
finish

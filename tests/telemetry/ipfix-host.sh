#!/bin/sh
# host-test
# Bridge IPFIX export on the USERSPACE datapath (datapath_type=netdev) on the host: tests/telemetry/ipfix-scenario.sh
# (templates and data records decoded by an independent collector, sampling, clearing). Needs root, veth, netns:
#   sudo flock /tmp/rvs-host-test.lock tests/telemetry/ipfix-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
export RVS_REPO
IPFIX_DP_TYPE=netdev exec sh "$RVS_REPO/tests/telemetry/ipfix-scenario.sh"

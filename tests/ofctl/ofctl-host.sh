#!/bin/sh
# host-test
# rvs-ofctl and rvs-ofconn against Debian's real Open vSwitch on the host (ovs-vswitchd with datapath_type=netdev: no
# kernel module; needs root, ovs-vswitchd, netns, veth):
#   sudo tests/ofctl/ofctl-host.sh
# Runs userspace/rvs-ofctl/tests/ovs.rs with RVS_REQUIRE_OVS=1 (a missing OVS fails instead of skipping), one test at
# a time: a private ovsdb-server + ovs-vswitchd per test in a temp dir, one bridge; rvs-ofctl and ovs-ofctl side by
# side (show, dump-flows with filters, add-flow, mod-flows, del-flows, --strict, replace-flows, dump-ports(-desc),
# dump-tables, groups, in OpenFlow 1.0 and 1.3; outputs equal after normalising durations, counters and xids);
# packet-out seen on a netns host's eth0; a controller built on rvs-ofconn listening on ptcp: reached by ovs-vswitchd
# (handshake, features, port-desc, echo, table-miss flow, packet-in of a ping's ARP, reconnect after the listener
# restarts); our inactivity probe answered by OVS. Every process, namespace and device is removed by the test.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
export PATH=$HOME/.cargo/bin:$PATH
log=$(mktemp /tmp/rvs-ofctl-host.XXXXXX)
if (cd "$RVS_REPO/userspace" && RVS_REQUIRE_OVS=1 cargo test --release --quiet -p rvs-ofctl --test ovs -- \
        --test-threads=1 --nocapture) >"$log" 2>&1; then
    status=0
else
    status=1
fi
grep '^ok: ' "$log" | while read -r _ what; do pass "$what"; done
grep -E '^test .* \.\.\. ok$' "$log" | while read -r _ name _; do pass "$name"; done
if [ "$status" != 0 ]; then
    grep -E '^test .* FAILED$|panicked|failed:|differs' "$log" | head -20 | sed 's/^/  /'
    fail "cargo test -p rvs-ofctl --test ovs (log: $log)"
else
    rm -f "$log"
fi
finish

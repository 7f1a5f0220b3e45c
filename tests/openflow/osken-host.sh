#!/bin/sh
# host-test
# rvs-vswitchd controlled by os-ken (PyPI, venv in ~/.cache/rvs/os-ken-venv made by tools/deps.sh) running the
# learning switch tests/openflow/osken_switch.py (OpenFlow 1.3), on the host (userspace datapath, three netns hosts):
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/osken-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
# Checks: os-ken connects (features: our datapath id), its table-miss flow is installed, the three hosts ping each
# other, packet-ins reached the app and its flow-mods are in the bridge's tables and count the traffic.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
py=${OSKEN_PYTHON:-$HOME/.cache/rvs/os-ken-venv/bin/python3}
"$py" -c 'import os_ken' 2>/dev/null || { fail "os-ken installed in $py (tools/deps.sh)"; finish; }

of_setup osken
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"
cport=$((40000 + $$ % 10000))
"$py" "$RVS_REPO/tests/openflow/osken_switch.py" "$cport" >"$work/osken.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
check "add-br (secure, datapath-id)" $V add-br $BR -- set bridge $BR datapath_type=netdev fail_mode=secure \
    other_config:datapath-id=00000000000000ab
of_host 1; of_host 2; of_host 3
check "add-port x3" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2 -- add-port $BR connmgr-v3
check "set-controller tcp: (os-ken)" $V set-controller $BR "tcp:127.0.0.1:$cport"
check "os-ken connected, saw our datapath id" of_wait grep -q 'connected dpid=00000000000000ab n_tables=254' "$work/osken.log"
check "Controller.is_connected" of_wait sh -c "$V get controller $BR is_connected | grep -qx true"
check "os-ken's table-miss flow installed" of_wait sh -c "$O dump-flows $BR | grep -q 'priority=0 actions=CONTROLLER:65535'"
check "ping h1 -> h2" of_ping 1 2
check "ping h2 -> h3" of_ping 2 3
check "ping h3 -> h1" of_ping 3 1
cat "$work/osken.log" | grep -v '^$' | head -20
check "packet-ins reached os-ken" grep -q '^packet_in in_port=1 ' "$work/osken.log"
check "os-ken sent flow-mods" grep -q '^flow_mod ' "$work/osken.log"
$O dump-flows $BR >"$work/flows.txt"; cat "$work/flows.txt"
check "its flows are in table 0" grep -q 'priority=10,in_port=.*dl_src=.*dl_dst=.* actions=output:' "$work/flows.txt"
check "its flows count the pings" grep -Eq 'n_packets=[1-9].*priority=10,' "$work/flows.txt"

of_cleanup
trap - EXIT INT TERM
finish

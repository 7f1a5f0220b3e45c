#!/bin/sh
# host-test
# rvs-vswitchd driven by a real OpenFlow controller, Debian's ovs-testcontroller (a MAC-learning controller), on the
# host (userspace datapath, three netns hosts; needs root):
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/controller-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
# Checks: with the controller connected the default NORMAL flow is gone and hosts ping through the controller's
# packet-outs and flows (packet-ins seen, flows installed); fail_mode=secure: when the controller dies the flows it
# installed keep forwarding, a pair it never saw stays cut off; fail_mode=standalone: when it dies the bridge fails
# open after three inactivity probes (NORMAL again) and every pair pings; it takes over again when it comes back.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
command -v ovs-testcontroller >/dev/null || { fail "ovs-testcontroller installed (tools/deps.sh)"; finish; }

of_setup ctl
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"
cport=$((30000 + $$ % 10000))
# OpenFlow 1.0: table misses go to the controller (reason no_match). In 1.3 ovs-testcontroller installs a table-miss
# flow and ignores packet-ins whose reason is not no_match, which rvs's pipeline reports as "action" (OpenFlow 1.3
# wants no_match for the table-miss flow): CTL_PROTO=OpenFlow13 shows it.
CTL_PROTO=${CTL_PROTO:-OpenFlow10}
start_controller() {
    ovs-testcontroller -O "$CTL_PROTO" -v "ptcp:$cport:127.0.0.1" >>"$work/testcontroller.log" 2>&1 &
    CTL_PID=$!
    BG_PIDS="$BG_PIDS $CTL_PID"
}
connected() { $V get controller $BR is_connected | grep -qx true; }
no_normal_flow() { ! $O dump-flows $BR | grep -q 'priority=0 actions=NORMAL'; }
normal_flow() { $O dump-flows $BR | grep -q 'priority=0 actions=NORMAL'; }

check "add-br" $V add-br $BR -- set bridge $BR datapath_type=netdev fail_mode=secure
of_host 1; of_host 2; of_host 3
check "add-port x3" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2 -- add-port $BR connmgr-v3
start_controller
check "set-controller tcp: with a 1 s probe" $V set-controller $BR "tcp:127.0.0.1:$cport" -- \
    set controller $BR inactivity_probe=1000 max_backoff=1000
check "controller connected" of_wait connected
check "secure: no default NORMAL flow" no_normal_flow
check "ping h1 -> h2 through the controller" of_ping 1 2
check "ping h2 -> h3 through the controller" of_ping 2 3
$O dump-flows $BR >"$work/flows.txt"; cat "$work/flows.txt"
check "the controller installed flows" grep -q 'idle_timeout=' "$work/flows.txt"
check "packet-ins reached the controller" grep -q 'received: OFPT_PACKET_IN' "$work/testcontroller.log"
check "the controller sent packet-outs" grep -q 'sent (Success): OFPT_PACKET_OUT' "$work/testcontroller.log"

# Secure: the controller dies; its flows stay, misses are dropped.
kill "$CTL_PID"; wait "$CTL_PID" 2>/dev/null
check "controller gone: is_connected false" of_wait sh -c "! $V get controller $BR is_connected | grep -qx true"
check "secure: installed flows keep h1 <-> h2 forwarding" of_ping 1 2
check "secure: h1 -> h3 (never seen by the controller) is dropped" of_ping_fails 1 3
sleep 4
check "secure: still no NORMAL flow after 3 probes" no_normal_flow

# Standalone: the bridge fails open once no controller was connected for 3 probes.
check "fail_mode=standalone" $V set bridge $BR fail_mode=standalone
check "standalone: fails open (default NORMAL flow)" of_wait normal_flow
check "standalone: h1 -> h3 pings (NORMAL)" of_ping 1 3
start_controller
check "controller back" of_wait connected
check "controller back: NORMAL flow removed" of_wait no_normal_flow
check "controller back: hosts ping through it" of_ping 3 1
grep -i "fail" "$work/vswitchd.log" | tail -5

of_cleanup
trap - EXIT INT TERM
finish

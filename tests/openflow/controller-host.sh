#!/bin/sh
# host-test
# rvs-vswitchd driven by a real OpenFlow controller, Debian's ovs-testcontroller (a MAC-learning controller), on the
# host (userspace datapath, three netns hosts; needs root), once speaking OpenFlow 1.0 and once 1.3 (CTL_PROTOS
# picks, e.g. CTL_PROTOS=OpenFlow13):
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

O="ovs-ofctl -O OpenFlow13"
# OpenFlow 1.0: table misses go to the controller (reason no_match). In 1.3 ovs-testcontroller installs a table-miss
# flow (priority 0, output:CONTROLLER) and only learns from packet-ins whose reason is no_match, which rvs reports for
# a table-miss entry (OpenFlow 1.3 §5.4).
CTL_PROTOS=${CTL_PROTOS:-OpenFlow10 OpenFlow13}
start_controller() {
    ovs-testcontroller -O "$CTL_PROTO" -v "ptcp:$cport:127.0.0.1" >>"$work/testcontroller.log" 2>&1 &
    CTL_PID=$!
    BG_PIDS="$BG_PIDS $CTL_PID"
}
connected() { $V get controller $BR is_connected | grep -qx true; }
no_normal_flow() { ! $O dump-flows $BR | grep -q 'priority=0 actions=NORMAL'; }
normal_flow() { $O dump-flows $BR | grep -q 'priority=0 actions=NORMAL'; }

scenario() {
    CTL_PROTO=$1
    of_setup ctl
    RUN=$((${RUN:-0} + 1))
    cport=$((30000 + ($$ + RUN) % 10000))
    trap 'of_cleanup' EXIT INT TERM
    echo "=== ovs-testcontroller -O $CTL_PROTO"
    check "$CTL_PROTO: add-br" $V add-br $BR -- set bridge $BR datapath_type=netdev fail_mode=secure
    of_host 1; of_host 2; of_host 3
    check "$CTL_PROTO: add-port x3" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2 -- add-port $BR connmgr-v3
    start_controller
    check "$CTL_PROTO: set-controller tcp: with a 1 s probe" $V set-controller $BR "tcp:127.0.0.1:$cport" -- \
        set controller $BR inactivity_probe=1000 max_backoff=1000
    check "$CTL_PROTO: controller connected" of_wait connected
    check "$CTL_PROTO: secure: no default NORMAL flow" no_normal_flow
    check "$CTL_PROTO: ping h1 -> h2 through the controller" of_ping 1 2
    check "$CTL_PROTO: ping h2 -> h3 through the controller" of_ping 2 3
    $O dump-flows $BR >"$work/flows.txt"; cat "$work/flows.txt"
    check "$CTL_PROTO: the controller installed flows" grep -q 'idle_timeout=' "$work/flows.txt"
    check "$CTL_PROTO: packet-ins reached the controller" grep -q 'received: OFPT_PACKET_IN' "$work/testcontroller.log"
    check "$CTL_PROTO: the controller sent packet-outs" grep -q 'sent (Success): OFPT_PACKET_OUT' "$work/testcontroller.log"

    # Secure: the controller dies; its flows stay, misses are dropped.
    kill "$CTL_PID"; wait "$CTL_PID" 2>/dev/null
    check "$CTL_PROTO: controller gone: is_connected false" of_wait sh -c "! $V get controller $BR is_connected | grep -qx true"
    check "$CTL_PROTO: secure: installed flows keep h1 <-> h2 forwarding" of_ping 1 2
    check "$CTL_PROTO: secure: h1 -> h3 (never seen by the controller) is dropped" of_ping_fails 1 3
    sleep 4
    check "$CTL_PROTO: secure: still no NORMAL flow after 3 probes" no_normal_flow

    # Standalone: the bridge fails open once no controller was connected for 3 probes.
    check "$CTL_PROTO: fail_mode=standalone" $V set bridge $BR fail_mode=standalone
    check "$CTL_PROTO: standalone: fails open (default NORMAL flow)" of_wait normal_flow
    check "$CTL_PROTO: standalone: h1 -> h3 pings (NORMAL)" of_ping 1 3
    start_controller
    check "$CTL_PROTO: controller back" of_wait connected
    check "$CTL_PROTO: controller back: NORMAL flow removed" of_wait no_normal_flow
    check "$CTL_PROTO: controller back: hosts ping through it" of_ping 3 1
    grep -i "fail" "$work/vswitchd.log" | tail -5
    check "$CTL_PROTO: the controller saw no_match packet-ins" grep -q 'OFPT_PACKET_IN.*no_match' "$work/testcontroller.log"
    of_cleanup
    trap - EXIT INT TERM
}

for proto in $CTL_PROTOS; do
    scenario "$proto"
done
finish

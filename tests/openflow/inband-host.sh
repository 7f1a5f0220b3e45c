#!/bin/sh
# host-test
# In-band control (connection_mode=in-band, the default): the controller is reachable only through the bridge.
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/inband-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl -p rvs-vsctl)
# The switch runs in netns inband-sw; its bridge inband-br0 (userspace datapath, fail_mode=secure, empty flow table)
# has three ports, veths to netns hosts: inband-c (10.59.0.1, runs ovs-testcontroller on 10.59.0.1:6653),
# inband-h2 (.2) and inband-h3 (.3). The bridge's local port carries the switch's own address, 10.59.0.100/24 (set by
# the daemon from the Controller's local_ip/local_netmask/local_gateway), so the switch reaches its controller
# tcp:10.59.0.1:6653 only through its own bridge. Checks: the local port's address and default route; rvs-vsctl show
# says is_connected: true; the hidden in-band rules are in place (bridge/dump-flows) but invisible to OpenFlow
# (dump-flows, dump-tables); the switch connects; the controller makes h2 and h3 ping; other_config:disable-in-band=true withdraws the rules; connection_mode=out-of-band
# withdraws them, the connection drops and cannot be re-established for 10 s; back to in-band it reconnects.
# The same scenario runs with Debian's ovs-vswitchd (datapath_type=netdev) as the reference, whose hidden rules
# are compared with rvs's ((d)/(e) aside: Open vSwitch picks the first matching route, not the longest prefix, so with
# a default route it never resolves the next hop here). REF=0 skips the reference. INBAND_DP_TYPE=system runs rvs on
# the kernel datapath instead (tests/openflow/inband-kernel.sh does, in the VM; the reference is skipped then).
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
command -v ovs-testcontroller >/dev/null || { fail "ovs-testcontroller installed (tools/deps.sh)"; finish; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)"; exit 1; }
done

DPT=${INBAND_DP_TYPE:-netdev}
[ "$DPT" = netdev ] || REF=0
BR=inband-br0
SW=inband-sw
CTL=10.59.0.1
O="ovs-ofctl -O OpenFlow13"
BG_PIDS=""

# ib_wait SECONDS CMD...: retries CMD every 0.2 s for up to SECONDS.
ib_wait() {
    n=$(($1 * 5)); shift
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge $n ] && return 1
        sleep 0.2
    done
}
# ib_never SECONDS CMD...: CMD fails every 0.5 s for SECONDS.
ib_never() {
    n=$(($1 * 2)); shift
    i=0
    while [ $i -lt $n ]; do
        "$@" >/dev/null 2>&1 && return 1
        i=$((i + 1)); sleep 0.5
    done
}
# ib_host NS ADDR VETH: netns NS whose eth0 pairs with VETH inside the switch's netns.
ib_host() {
    ip netns add "$1"; RVS_NETNS="$RVS_NETNS $1"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$SW" link add "$3" type veth peer name eth0 netns "$1"
    ip -n "$SW" link set "$3" up
    ip -n "$1" link set lo up
    ip -n "$1" addr add "$2" dev eth0
    ip -n "$1" link set eth0 up
    # Open vSwitch 3.1's userspace datapath forwards partially checksummed packets as they are (rvs completes
    # them): the reference's hosts send with checksum offload off.
    [ "$who" = rvs ] || ip netns exec "$1" ethtool -K eth0 tx off >/dev/null
}
ib_ping() { ip netns exec "inband-h$1" ping -c 2 -i 0.2 -W 2 "10.59.0.$2"; }
connected() { $V get controller $BR is_connected | grep -qx true; }
not_connected() { ! connected; }
hidden() { $DUMP_HIDDEN | grep -q "priority=18000[78],tcp"; }
no_hidden() { ! $DUMP_HIDDEN | grep -q "priority=1800"; }
# The hidden rules (a)-(c), (f)-(i) in a comparable form (counters dropped, one action spelling, MACs masked), sorted.
hidden_norm() {
    $DUMP_HIDDEN | grep -o 'priority=18000[0-25-8],.*' | sed 's/,actions=/ actions=/; s/=[0-9a-f:]\{17\}/=MAC/g' | sort
}

cleanup() {
    for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
    BG_PIDS=""
    if [ -n "${STOP:-}" ]; then $STOP >/dev/null 2>&1; STOP=""; fi
    cleanup_netns
}

scenario() {
    who=$1
    ip netns add $SW; RVS_NETNS="$RVS_NETNS $SW"
    ip netns exec $SW sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $SW link set lo up
    if [ "$who" = rvs ]; then
        export RVS_RUN_DIR=$work/rvs OVS_RUNDIR=$work/rvs
        mkdir -p "$work/rvs"
        V="ovs-vsctl --db=unix:$work/rvs/db.sock --timeout=20"
        ip netns exec $SW "$bin/rvs-vswitchd" --db-file="$work/rvs/conf.db" --detach --pidfile \
            --log-file="$work/rvs/vswitchd.log" -v connmgr:dbg
        DUMP_HIDDEN="$bin/rvs-appctl bridge/dump-flows $BR"
        STOP="$bin/rvs-appctl exit --cleanup"
        LOG=$work/rvs/vswitchd.log
    else
        ref=$work/ref; mkdir -p "$ref"
        export OVS_RUNDIR=$ref
        ovsdb-tool create "$ref/conf.db" /usr/share/openvswitch/vswitch.ovsschema
        ovsdb-server "$ref/conf.db" --remote=punix:"$ref/db.sock" --unixctl="$ref/ovsdb.ctl" \
            --pidfile="$ref/ovsdb.pid" --detach --log-file="$ref/ovsdb.log"
        ip netns exec $SW ovs-vswitchd unix:"$ref/db.sock" --unixctl="$ref/vswitchd.ctl" --pidfile="$ref/vswitchd.pid" \
            --detach --log-file="$ref/vswitchd.log"
        V="ovs-vsctl --db=unix:$ref/db.sock --timeout=20"
        DUMP_HIDDEN="ovs-appctl -t $ref/vswitchd.ctl bridge/dump-flows $BR"
        STOP="ref_stop"
        LOG=$ref/vswitchd.log
    fi
    dpt=$DPT; [ "$who" = rvs ] || dpt=netdev
    check "$who: add-br ($dpt, fail_mode=secure)" $V add-br $BR -- set bridge $BR datapath_type=$dpt fail_mode=secure
    ib_host inband-c $CTL/24 inband-v1
    ib_host inband-h2 10.59.0.2/24 inband-v2
    ib_host inband-h3 10.59.0.3/24 inband-v3
    check "$who: add-port x3" $V add-port $BR inband-v1 -- add-port $BR inband-v2 -- add-port $BR inband-v3
    check "$who: local port $BR exists" ib_wait 10 ip -n $SW link show $BR
    ip netns exec inband-c ovs-testcontroller -O OpenFlow13 -v "ptcp:6653:$CTL" >>"$work/$who-testcontroller.log" 2>&1 &
    BG_PIDS="$BG_PIDS $!"
    check "$who: set-controller tcp:$CTL:6653 (in-band by default), 1 s probe" $V set-controller $BR "tcp:$CTL:6653" -- \
        set controller $BR inactivity_probe=1000 max_backoff=1000 \
        local_ip=10.59.0.100 local_netmask=255.255.255.0 local_gateway=10.59.0.254
    check "$who: local_ip/local_netmask put 10.59.0.100/24 on the local port" \
        ib_wait 10 sh -c "ip -n $SW -4 addr show $BR up | grep -q 'inet 10.59.0.100/24'"
    check "$who: local_gateway: default route via 10.59.0.254" ib_wait 10 sh -c "ip -n $SW route | grep -q 'default via 10.59.0.254 dev $BR'"
    check "$who: hidden in-band rules installed" ib_wait 10 hidden
    check "$who: connected through its own bridge" ib_wait 20 connected
    if [ "$who" = rvs ] && [ -x "$bin/rvs-vsctl" ]; then
        "$bin/rvs-vsctl" --db=unix:$work/rvs/db.sock show
        check "$who: rvs-vsctl show: is_connected: true" sh -c "$bin/rvs-vsctl --db=unix:$work/rvs/db.sock show | grep -q 'is_connected: true'"
    fi
    ctl_mac=$(ip -n inband-c link show eth0 | awk '/link\/ether/ {print $2}')
    if [ "$who" = rvs ]; then
        check "$who: the next hop is the controller itself (longest prefix), its MAC learned: rules (d), (e)" \
            ib_wait 10 sh -c "$DUMP_HIDDEN | grep -q 'priority=180003,arp,dl_dst=$ctl_mac,arp_op=2'"
    else
        # Open vSwitch takes the first route of /proc/net/route that matches, the default route here: its next hop
        # is the (absent) gateway, whose MAC never resolves, so it installs no (d)/(e).
        sleep 2
    fi
    $DUMP_HIDDEN | grep "priority=1800" | tee "$work/$who-hidden.txt"
    hidden_norm >"$work/$who-hidden-norm.txt"
    check "$who: the 7 rules (a)-(c), (f)-(i) are there" test "$(wc -l <"$work/$who-hidden-norm.txt")" = 7
    check "$who: hidden rules for the controller's IP and port" sh -c \
        "grep -q 'tcp,nw_src=$CTL,tp_src=6653' $work/$who-hidden.txt && grep -q 'arp,arp_tpa=$CTL,arp_op=2' $work/$who-hidden.txt"
    $O dump-flows $BR >"$work/$who-flows.txt"
    check "$who: OpenFlow dump-flows shows no hidden rule" sh -c "! grep -q 'priority=1800\|6653' $work/$who-flows.txt"
    check "$who: ping h2 -> h3 through the controller" ib_wait 10 ib_ping 2 3
    check "$who: the controller installed flows" sh -c "$O dump-flows $BR | grep -q idle_timeout="
    nflows=$($O dump-flows $BR | grep -c 'table=0,')
    $O dump-tables $BR | sed -n '1,3p'
    check "$who: dump-tables: table 0 active count = its OpenFlow flows ($nflows)" sh -c \
        "$O dump-tables $BR | grep -A1 '^ *table 0:' | grep -q 'active=$nflows,'"

    check "$who: other_config:disable-in-band=true" $V set bridge $BR other_config:disable-in-band=true
    check "$who: disable-in-band withdraws the hidden rules" ib_wait 10 no_hidden
    check "$who: disable-in-band=false" $V remove bridge $BR other_config disable-in-band
    check "$who: hidden rules back" ib_wait 10 hidden
    check "$who: still (or again) connected" ib_wait 20 connected

    check "$who: connection_mode=out-of-band" $V set controller $BR connection_mode=out-of-band
    check "$who: out-of-band: no hidden rules" ib_wait 10 no_hidden
    check "$who: out-of-band: the connection drops" ib_wait 20 not_connected
    check "$who: out-of-band: it cannot be re-established (10 s)" ib_never 10 connected
    check "$who: connection_mode=in-band" $V set controller $BR connection_mode=in-band
    check "$who: in-band again: reconnected" ib_wait 20 connected
    check "$who: in-band again: h3 -> h2 pings" ib_wait 10 ib_ping 3 2
    if [ "$RVS_FAILED" != 0 ]; then echo "--- $who log (last 40 lines)"; tail -n 40 "$LOG"; fi
    cleanup
}

ref_stop() {
    for p in vswitchd ovsdb; do kill "$(cat "$ref/$p.pid")" 2>/dev/null; done
}

work=$(mktemp -d /tmp/inband.XXXXXX)
chmod 755 "$work"
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
scenario rvs
if [ "${REF:-1}" != 0 ] && command -v ovs-vswitchd >/dev/null; then
    scenario ovs-vswitchd
    check "hidden rules (a)-(c), (f)-(i) equal to ovs-vswitchd's (MACs aside)" \
        diff -u "$work/ovs-vswitchd-hidden-norm.txt" "$work/rvs-hidden-norm.txt"
fi
finish

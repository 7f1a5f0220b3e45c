#!/bin/sh
# Forwarding rate of the rvs userspace datapath vs Open vSwitch's userspace datapath (ovs-vswitchd, datapath_type=netdev,
# the Debian package), same ports, same run, 64-byte frames, one flow (port 1 -> port 2). Needs root on the host.
#   sudo tools/bench/userspace-dp.sh [SECONDS] [ROUNDS]        (defaults: 5 s measured per round, 2 rounds each)
# Build first: (cd userspace && cargo build --release -p rvs-dpctl)
#
# Topology: netns rbgen (eth0) == veth == rbv1 [switch] rbv2 == veth == netns rbsink (eth0).
# tools/bench/blast.c (compiled here) sends identical 60-byte UDP frames from rbgen with sendmmsg batches; frames are
# addressed to a MAC the sink does not own, so the sink's stack drops them at once. The rate is the sink's rx_packets
# delta over the measured window (after 1 s of warm-up, which also lets OVS install its megaflow). Each round runs rvs
# then OVS on the same veths; the report gives every round, the means and the ratio rvs/OVS.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-5}
ROUNDS=${2:-2}
DPCTL=${RVS_DPCTL:-$REPO/userspace/target/release/rvs-dpctl}
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
[ -x "$DPCTL" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-dpctl)"; exit 1; }
for b in ovs-vswitchd ovsdb-server ovs-vsctl ovs-ofctl ovsdb-tool gcc; do
    command -v $b >/dev/null || { echo "missing $b (apt-get install openvswitch-switch gcc)"; exit 1; }
done
T=$(mktemp -d /tmp/rvs-bench-udp.XXXXXX)
export RVS_RUN_DIR=$T/rvs
gcc -O2 -o "$T/blast" "$REPO/tools/bench/blast.c" || exit 1
DSTMAC=02:00:00:00:99:99

OVSDB_PID=""; VSWITCHD_PID=""
stop_pidfile() { [ -s "$1" ] && kill "$(cat "$1")" 2>/dev/null; rm -f "$1"; }
ovs_stop() {
    [ -s "$T/ovs-vswitchd.pid" ] && ovs-vsctl --db=unix:$T/db.sock --timeout=5 -- --if-exists del-br rbbr0 >/dev/null 2>&1
    stop_pidfile "$T/ovs-vswitchd.pid"; stop_pidfile "$T/ovsdb-server.pid"
    sleep 0.5
}
cleanup() {
    "$DPCTL" --datapath-type=userspace del-dp rb0 >/dev/null 2>&1
    ovs_stop
    ip netns del rbgen 2>/dev/null; ip netns del rbsink 2>/dev/null
    ip link del rbv1 2>/dev/null; ip link del rbv2 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

ip netns add rbgen; ip netns add rbsink
ip link add rbv1 type veth peer name eth0 netns rbgen
ip link add rbv2 type veth peer name eth0 netns rbsink
for n in rbgen rbsink; do ip -n $n link set lo up; ip -n $n link set eth0 up; ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip link set rbv1 up; ip link set rbv2 up
sysctl -qw net.ipv6.conf.rbv1.disable_ipv6=1 net.ipv6.conf.rbv2.disable_ipv6=1

rx() { ip netns exec rbsink cat /sys/class/net/eth0/statistics/rx_packets; }

# measure NAME: blast for 1 + SECS s, count at the sink over the last SECS s; prints pps.
measure() {
    ip netns exec rbgen "$T/blast" eth0 $DSTMAC $((SECS + 2)) >"$T/blast.out" &
    bp=$!
    sleep 1
    a=$(rx); t0=$(date +%s.%N)
    sleep "$SECS"
    b=$(rx); t1=$(date +%s.%N)
    wait $bp
    echo "$a $b $t0 $t1" | awk '{printf "%.0f\n", ($2 - $1) / ($4 - $3)}'
}

rvs_run() {
    "$DPCTL" --datapath-type=userspace add-dp rb0 rbv1 rbv2 || return 1
    "$DPCTL" --datapath-type=userspace add-flow rb0 "in_port(1),eth(),eth_type(0x0800),ipv4()" 2 || return 1
    sleep 0.3
    r=$(measure)
    "$DPCTL" --datapath-type=userspace dump-flows rb0 >&2
    "$DPCTL" --datapath-type=userspace del-dp rb0
    sleep 0.5
    echo "$r"
}

ovs_run() {
    export OVS_RUNDIR=$T OVS_LOGDIR=$T OVS_DBDIR=$T OVS_SYSCONFDIR=$T
    rm -f "$T/conf.db"
    ovsdb-tool create "$T/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
    ovsdb-server "$T/conf.db" --remote=punix:$T/db.sock --pidfile=$T/ovsdb-server.pid --detach \
        --log-file=$T/ovsdb-server.log --unixctl=$T/ovsdb-server.ctl || return 1
    ovs-vsctl --db=unix:$T/db.sock --no-wait init
    ovs-vswitchd unix:$T/db.sock --pidfile=$T/ovs-vswitchd.pid --detach --log-file=$T/ovs-vswitchd.log \
        --unixctl=$T/ovs-vswitchd.ctl || return 1
    V="ovs-vsctl --db=unix:$T/db.sock --timeout=10"
    $V add-br rbbr0 -- set bridge rbbr0 datapath_type=netdev \
        -- add-port rbbr0 rbv1 -- set interface rbv1 ofport_request=1 \
        -- add-port rbbr0 rbv2 -- set interface rbv2 ofport_request=2 || return 1
    ovs-ofctl del-flows rbbr0
    ovs-ofctl add-flow rbbr0 in_port=1,actions=output:2 || return 1
    sleep 0.5
    r=$(measure)
    ovs-appctl -t $T/ovs-vswitchd.ctl dpctl/dump-flows >&2
    ovs_stop
    echo "$r"
}

echo "rvs userspace datapath vs OVS netdev datapath: 64-byte frames, 1 flow, rbv1 -> rbv2, ${SECS}s x ${ROUNDS} rounds"
RV=""; OV=""
for i in $(seq 1 "$ROUNDS"); do
    r=$(rvs_run); o=$(ovs_run)
    g=$(cat "$T/blast.out")
    echo "round $i: rvs ${r} pps   ovs ${o} pps   (generator offered: $g)"
    RV="$RV $r"; OV="$OV $o"
done
echo "$RV" "|" "$OV" | awk '{
    n = 0; m = 0; s1 = 0; s2 = 0; side = 1
    for (i = 1; i <= NF; i++) { if ($i == "|") { side = 2; continue } if (side == 1) { s1 += $i; n++ } else { s2 += $i; m++ } }
    a = s1 / n; b = s2 / m
    printf "mean: rvs %.0f pps, ovs %.0f pps, ratio rvs/ovs %.2fx (goal >= 1.5x)\n", a, b, (b > 0 ? a / b : 0)
}'

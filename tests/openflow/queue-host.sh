#!/bin/sh
# host-test
# OpenFlow queue statistics from linux-htb QoS queues, seen with Debian's ovs-ofctl: rvs-vswitchd (embedded database),
# hosts ofportq1 (10.61.0.1, port ofport-q1) and ofportq2 (10.61.0.2, port ofport-q2) on bridge ofport-qbr. USERSPACE
# datapath on the host; QUEUE_DP_TYPE=system runs it on the kernel datapath (tests/openflow/queue-kernel.sh does in
# the VM). Needs root:   sudo flock /tmp/rvs-host-test.lock tests/openflow/queue-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)
# Checks: without QoS the reply lists no queue, a named queue is OFPQOFC_BAD_QUEUE, an unknown port OFPQOFC_BAD_PORT;
# with Port ofport-q2 qos=linux-htb (queues 0 and 1) both queues are listed (OpenFlow 1.3 with durations, 1.0 with
# port ALL), a UDP blast to host 2 makes queue 0's byte counter (the default class 1:1) grow by what host 2
# received, equal to what `tc -s class show` counts; a flow `set_queue:1,normal` moves the blast to queue 1 (its
# counters grow by >= 90 % of what host 2 received, queue 0's hardly) — on the userspace datapath only from Linux
# 6.14 on (per-packet SO_PRIORITY); before, the priority does not reach the device and queue 1 must stay unused.
# Clearing the QoS empties the reply again.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)"; exit 1; }
done
DPT=${QUEUE_DP_TYPE:-netdev}
work=$(mktemp -d /tmp/ofport-queue.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work OVS_RUNDIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
BR=ofport-qbr
O="ovs-ofctl -O OpenFlow13"

cleanup() {
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    cleanup_netns
    ip link del ofport-q1 2>/dev/null; ip link del ofport-q2 2>/dev/null
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 40 lines)"; tail -n 40 "$work/vswitchd.log"
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# blast SECS: UDP ofportq1 -> 10.61.0.2:9, 1000-byte datagrams, for SECS s.
blast() { udp_blast ofportq1 10.61.0.2 "$1"; sleep 0.5; }
rx() { ip netns exec ofportq2 cat /sys/class/net/eth0/statistics/rx_bytes; }
# qfield Q FIELD [VERSION]: FIELD (bytes, pkts, errors, duration) of queue Q in `queue-stats BR`.
qfield() {
    ovs-ofctl -O "${3:-OpenFlow13}" queue-stats $BR | sed -n "s/.* queue $1: .*$2=\([0-9.]*\).*/\1/p" | head -1
}
class_bytes() {
    tc -s class show dev ofport-q2 | awk -v c="$1" '$1 == "class" && $3 == c { f = 1; next } f && $1 == "Sent" { print $2; exit }'
}

"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" || { fail "start"; finish; }
check "add-br $BR (datapath_type=$DPT)" $V add-br $BR -- set bridge $BR datapath_type=$DPT
for i in 1 2; do
    netns_host "ofportq$i" "10.61.0.$i/24" "ofport-q$i"
    ip netns exec "ofportq$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
check "add-port x2" $V add-port $BR ofport-q1 -- add-port $BR ofport-q2
check "management socket" wait_for 10 test -S "$work/$BR.mgmt"
check "hosts reach each other" wait_for 10 ip netns exec ofportq1 ping -c 1 -W 1 10.61.0.2

$O queue-stats $BR >"$work/q0.txt" 2>&1; cat "$work/q0.txt"
check "no QoS: queue-stats replies with no queue" grep -q 'OFPST_QUEUE reply (OF1.3) (xid=0x[0-9a-f]*): 0 queues' "$work/q0.txt"
check "no QoS: queue-stats ofport-q2 1 is OFPQOFC_BAD_QUEUE" sh -c "$O queue-stats $BR ofport-q2 1 2>&1 | grep -q OFPQOFC_BAD_QUEUE"
check "queue-stats of an unknown port is OFPQOFC_BAD_PORT" sh -c "$O queue-stats $BR 77 2>&1 | grep -q OFPQOFC_BAD_PORT"

check "set Port ofport-q2 qos: linux-htb, queues 0 and 1" \
    $V -- set port ofport-q2 qos=@q -- --id=@q create qos type=linux-htb other_config:max-rate=100000000 \
    queues:0=@q0 queues:1=@q1 -- --id=@q0 create queue other_config:max-rate=50000000 \
    -- --id=@q1 create queue other_config:max-rate=20000000
check "htb installed on ofport-q2" wait_for 10 sh -c "tc qdisc show dev ofport-q2 | grep -q '^qdisc htb 1: root'"
check "queue-stats lists queues 0 and 1" wait_for 10 sh -c "$O queue-stats $BR | grep -q ': 2 queues'"
$O queue-stats $BR; ovs-ofctl -O OpenFlow10 queue-stats $BR
check "OpenFlow 1.0 (port ALL): 2 queues" sh -c "ovs-ofctl -O OpenFlow10 queue-stats $BR | grep -q ': 2 queues'"
check "queue-stats ofport-q2 1: one queue" sh -c "$O queue-stats $BR ofport-q2 1 | grep -q ': 1 queues'"
check "queue-stats ANY 1: one queue" sh -c "$O queue-stats $BR ANY 1 | grep -q ': 1 queues'"
check "queue-stats ofport-q1 (no QoS): no queue" sh -c "$O queue-stats $BR ofport-q1 | grep -q ': 0 queues'"
check "queue-stats ofport-q2 5 is OFPQOFC_BAD_QUEUE" sh -c "$O queue-stats $BR ofport-q2 5 2>&1 | grep -q OFPQOFC_BAD_QUEUE"
sleep 1
d=$(qfield 0 duration); echo "queue 0 duration: $d s"
check "OpenFlow 1.3: queue 0 has a duration >= 1 s ($d)" awk -v d="${d:-0}" 'BEGIN { exit !(d >= 1) }'

a0=$(qfield 0 bytes); c0=$(class_bytes 1:1); r0=$(rx)
blast 2
a1=$(qfield 0 bytes); c1=$(class_bytes 1:1); r1=$(rx)
echo "queue 0: $a0 -> $a1 bytes; tc class 1:1: $c0 -> $c1; host 2 received $((r1 - r0))"
check "queue 0 counted the blast (>= 90 % of what host 2 received, $((a1 - a0)))" test $(( (a1 - a0) * 10 )) -ge $(( (r1 - r0) * 9 ))
check "queue 0 bytes are tc class 1:1's ($a1 vs $c1, within 2 %)" test $(( (a1 > c1 ? a1 - c1 : c1 - a1) * 50 )) -le "$c1"
check "queue 0 packets counted" test "$(qfield 0 pkts)" -gt 1000

check "flow udp,in_port=ofport-q1 actions=set_queue:1,normal" \
    $O add-flow $BR "priority=100,udp,in_port=ofport-q1,actions=set_queue:1,normal"
sleep 1
b0=$(qfield 1 bytes); a0=$(qfield 0 bytes); r0=$(rx)
blast 2
b1=$(qfield 1 bytes); a1=$(qfield 0 bytes); r1=$(rx)
echo "set_queue:1 blast: queue 1 $b0 -> $b1, queue 0 $a0 -> $a1, host 2 received $((r1 - r0))"
# The userspace datapath hands the priority to the device per packet (SO_PRIORITY control
# message), which Linux accepts from 6.14 on.
kver=$(uname -r | awk -F. '{ printf "%d", $1 * 1000 + $2 }')
if [ "$DPT" = system ] || [ "$kver" -ge 6014 ]; then
    check "queue 1 counted the set_queue:1 blast (>= 90 % of $((r1 - r0)))" test $(( (b1 - b0) * 10 )) -ge $(( (r1 - r0) * 9 ))
    check "queue 0 hardly moved (< 10 %)" test $(( (a1 - a0) * 10 )) -lt $((r1 - r0))
    check "queue 1 bytes are tc class 1:2's" test "$(class_bytes 1:2)" = "$(qfield 1 bytes)"
else
    check "userspace datapath: set_queue does not reach the device, queue 1 unused ($b0 -> $b1)" test "$b1" = "$b0"
    check "userspace datapath: the blast stayed in queue 0" test $(( (a1 - a0) * 10 )) -ge $(( (r1 - r0) * 9 ))
fi

check "clear Port ofport-q2 qos" $V clear port ofport-q2 qos
check "QoS cleared: queue-stats lists no queue" wait_for 10 sh -c "$O queue-stats $BR | grep -q ': 0 queues'"
finish

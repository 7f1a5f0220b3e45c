#!/bin/sh
# Egress QoS scenario (sourced by qos-kernel.sh, run as a script with QOS_DP_TYPE=system): rvs-vswitchd with its
# embedded database, configured with Debian's ovs-vsctl / ovs-ofctl; two netns hosts qosh1 (10.78.0.1, port qosv1)
# and qosh2 (10.78.0.2, port qosv2) on bridge qosbr0. Checks:
# - a UDP blast qosh1 -> qosh2 runs above 3x 4000 kbit/s without QoS;
# - Port qosv2 qos = linux-htb max-rate 10 Mbit/s with queue 0 (max-rate 4000 kbit/s) and queue 1 (max-rate
#   1500 kbit/s), each with a ~250 ms burst (a smaller bucket loses tokens whenever a busy host deschedules the test
#   kernel, and the measured rate falls short): `tc` shows the htb root qdisc 1: and classes 1:fffe, 1:1, 1:2 on qosv2; the blast (unclassified:
#   queue 0, the default class) is measured at qosh2 within 60..130 % of 4000 kbit/s and `tc -s class show` counts
#   its bytes in class 1:1;
# - an OpenFlow flow `udp,in_port=qosv1 actions=set_queue:1,normal` moves the blast to queue 1: measured within
#   60..130 % of 1500 kbit/s, class 1:2's counters grow by at least 90 % of the bytes received;
# - clearing Port qos removes the htb qdisc and the blast runs above 3x 4000 kbit/s again.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)"; exit 1; }
done
work=$(mktemp -d /tmp/rvs-qos.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work OVS_RUNDIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
DPT=${QOS_DP_TYPE:-system}

cleanup() {
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        sleep 1
    fi
    cleanup_netns
    ip link del qosv1 2>/dev/null; ip link del qosv2 2>/dev/null
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 40 lines)"; tail -n 40 "$work/vswitchd.log"
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# blast SECS: UDP qosh1 -> 10.78.0.2:9 for SECS s (1000-byte datagrams); prints the kbit/s qosh2's eth0 received.
blast() { blast_kbps qosh1 qosh2 10.78.0.2 "$1" 0.5; }
# class_bytes CLASS: the bytes `tc -s class show dev qosv2` counts as sent by CLASS (e.g. 1:2).
class_bytes() {
    tc -s class show dev qosv2 | awk -v c="$1" '$1 == "class" && $3 == c { f = 1; next } f && $1 == "Sent" { print $2; exit }'
}

"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" || { fail "start"; finish; }
check "add-br qosbr0 (datapath_type=$DPT)" $V add-br qosbr0 -- set bridge qosbr0 datapath_type=$DPT
netns_host qosh1 10.78.0.1/24 qosv1
netns_host qosh2 10.78.0.2/24 qosv2
for h in qosh1 qosh2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
check "add-port qosv1 qosv2" $V add-port qosbr0 qosv1 -- add-port qosbr0 qosv2
check "hosts reach each other" ip netns exec qosh1 ping -c 2 -i 0.2 -W 2 10.78.0.2
ip netns exec qosh2 arp -n >/dev/null 2>&1

free=$(blast 3); echo "no QoS: $free kbit/s"
check "no QoS: blast above 3x 4000 kbit/s ($free)" test "$free" -gt 12000

check "set Port qosv2 qos: linux-htb max-rate 10 Mbit/s, queue 0 max 4000 kbit/s, queue 1 max 1500 kbit/s" \
    $V -- set port qosv2 qos=@q -- --id=@q create qos type=linux-htb other_config:max-rate=10000000 \
    queues:0=@q0 queues:1=@q1 -- --id=@q0 create queue other_config:max-rate=4000000 other_config:burst=1000000 \
    -- --id=@q1 create queue other_config:min-rate=500000 other_config:max-rate=1500000 other_config:priority=1 \
    other_config:burst=400000
sleep 2.5
tc qdisc show dev qosv2; tc class show dev qosv2
check "tc: htb root qdisc 1: on qosv2" sh -c "tc qdisc show dev qosv2 | grep -q '^qdisc htb 1: root'"
check "tc: class 1:fffe at 10Mbit" sh -c "tc class show dev qosv2 | grep -q 'class htb 1:fffe root .*ceil 10Mbit'"
check "tc: class 1:1 (queue 0) under 1:fffe, ceil 4Mbit" sh -c "tc class show dev qosv2 | grep -q 'class htb 1:1 parent 1:fffe .*ceil 4Mbit'"
check "tc: class 1:2 (queue 1) under 1:fffe, rate 500Kbit ceil 1500Kbit prio 1" \
    sh -c "tc class show dev qosv2 | grep 'class htb 1:2 parent 1:fffe' | grep -q 'prio 1 rate 500Kbit ceil 1500Kbit'"
check "tc: class 1:2 burst 400000 bits = 50000 bytes" sh -c "tc class show dev qosv2 | grep 'class htb 1:2 ' | grep -Eq 'burst 50000b'"
check "log says qosv2 has linux-htb" grep -q "qosv2: linux-htb max-rate 10000000 bit/s" "$work/vswitchd.log"

c0=$(class_bytes 1:1)
q0=$(blast 3); echo "queue 0: $q0 kbit/s"
check "queue 0: $q0 kbit/s within 60..130 % of 4000" test "$q0" -ge 2400 -a "$q0" -le 5200
c1=$(class_bytes 1:1); echo "class 1:1 sent $c0 -> $c1 bytes"
check "class 1:1 counted the blast (>= 1 MB more)" test $((c1 - c0)) -ge 1000000

check "ovs-ofctl -O OpenFlow13 add-flow udp,in_port=qosv1 actions=set_queue:1,normal" \
    ovs-ofctl -O OpenFlow13 add-flow qosbr0 "priority=100,udp,in_port=qosv1,actions=set_queue:1,normal"
sleep 1
d0=$(class_bytes 1:2)
a=$(ip netns exec qosh2 cat /sys/class/net/eth0/statistics/rx_bytes)
q1=$(blast 3); echo "queue 1: $q1 kbit/s"
b=$(ip netns exec qosh2 cat /sys/class/net/eth0/statistics/rx_bytes)
d1=$(class_bytes 1:2); echo "class 1:2 sent $d0 -> $d1 bytes; qosh2 received $((b - a))"
"$bin/rvs-appctl" dpif/dump-flows qosbr0 2>/dev/null | grep -i "udp\|17" | head -3
check "queue 1 (set_queue:1): $q1 kbit/s within 60..130 % of 1500" test "$q1" -ge 900 -a "$q1" -le 1950
check "class 1:2 counted >= 90 % of what qosh2 received (the rest: ARP, queue 0 draining)" test $(( (d1 - d0) * 10 )) -ge $(( (b - a) * 9 ))

check "clear Port qosv2 qos" $V clear port qosv2 qos
sleep 2.5
check_not "tc: no htb qdisc left on qosv2" sh -c "tc qdisc show dev qosv2 | grep -q htb"
check "log says QoS removed" grep -q "qosv2: QoS removed" "$work/vswitchd.log"
again=$(blast 3); echo "QoS cleared: $again kbit/s"
check "QoS cleared: blast above 3x 4000 kbit/s again ($again)" test "$again" -gt 12000

check "unsupported QoS type is reported" $V -- set port qosv2 qos=@q -- --id=@q create qos type=linux-hfsc
sleep 2.5
check "log names the unsupported type" grep -q 'QoS type "linux-hfsc" is not supported' "$work/vswitchd.log"
check_not "tc: still no htb qdisc on qosv2" sh -c "tc qdisc show dev qosv2 | grep -q htb"
finish

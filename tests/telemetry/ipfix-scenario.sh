#!/bin/sh
# Bridge IPFIX scenario (run by ipfix-kernel.sh with IPFIX_DP_TYPE=system; IPFIX_DP_TYPE=netdev runs it on the
# userspace datapath): rvs-vswitchd with its embedded database configured with Debian's ovs-vsctl, two netns hosts
# qosxh1 (10.79.0.1, port qosxv1) and qosxh2 (10.79.0.2, port qosxv2) on bridge qosxbr0, and an independent IPFIX
# collector (tests/telemetry/ipfix_collector.py) that decodes templates and data records. Checks:
# - Bridge ipfix = IPFIX(targets 127.0.0.1:PORT, sampling=1, obs_domain_id=42, obs_point_id=7): the collector
#   receives the template, and a 10-packet ping gives >= 10 data records 10.79.0.1 -> 10.79.0.2 ICMP with input /
#   output = the veths' OpenFlow ports, the hosts' MACs, ethertype 0x0800, packetDeltaCount 1, octetDeltaCount 98,
#   domain 42, point 7; UDP datagrams from port 4321 to port 9 give records carrying those ports; every message
#   decodes and its sequence number counts the data records sent before it;
# - sampling=4: a 200-packet ping gives 20..90 records of its requests;
# - clearing Bridge ipfix stops the records.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)"; exit 1; }
done
work=$(mktemp -d /tmp/qos-ipfix.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
DPT=${IPFIX_DP_TYPE:-system}
PORT=${IPFIX_PORT:-39557}
COLL=""

cleanup() {
    for p in $COLL; do kill "$p" 2>/dev/null; done
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        sleep 1
    fi
    cleanup_netns
    ip link del qosxv1 2>/dev/null; ip link del qosxv2 2>/dev/null
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 30 lines)"; tail -n 30 "$work/vswitchd.log"
        echo "--- collector (last 10)"; tail -n 10 "$work/ipfix.jsonl"
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# q PYTHON-EXPR: evaluates EXPR with `r` = the decoded records (data records in `d`); true = success.
q() {
    python3 - "$work/ipfix.jsonl" "$1" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
d = [x for x in r if x.get("kind") == "data"]
ok = eval(sys.argv[2])
if not ok:
    print("records:", *r[-8:], sep="\n  ")
sys.exit(0 if ok else 1)
PY
}
# count: data records of ICMP 10.79.0.1 -> 10.79.0.2.
count() {
    python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if (lambda x: x.get('kind') == 'data' and x['sourceIPv4Address'] == '10.79.0.1' and x['destinationIPv4Address'] == '10.79.0.2' and x['protocolIdentifier'] == 1)(json.loads(l))))" "$work/ipfix.jsonl"
}

"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" || { fail "start"; finish; }
check "add-br qosxbr0 (datapath_type=$DPT)" $V add-br qosxbr0 -- set bridge qosxbr0 datapath_type=$DPT
netns_host qosxh1 10.79.0.1/24 qosxv1
netns_host qosxh2 10.79.0.2/24 qosxv2
for h in qosxh1 qosxh2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
check "add-port qosxv1 qosxv2" $V add-port qosxbr0 qosxv1 -- add-port qosxbr0 qosxv2
of1=$($V get interface qosxv1 ofport); of2=$($V get interface qosxv2 ofport)
mac1=$(ip netns exec qosxh1 cat /sys/class/net/eth0/address); mac2=$(ip netns exec qosxh2 cat /sys/class/net/eth0/address)
check "hosts reach each other" ip netns exec qosxh1 ping -c 2 -i 0.2 -W 2 10.79.0.2

: > "$work/ipfix.jsonl"
python3 "$RVS_REPO/tests/telemetry/ipfix_collector.py" $PORT "$work/ipfix.jsonl" &
COLL="$COLL $!"
sleep 0.5
check "create IPFIX (sampling 1, domain 42, point 7)" $V -- set bridge qosxbr0 ipfix=@i -- --id=@i create ipfix \
    targets=\"127.0.0.1:$PORT\" sampling=1 obs_domain_id=42 obs_point_id=7
sleep 2.5
check "log says IPFIX is on" grep -q "bridge qosxbr0: IPFIX 1/1 to 127.0.0.1:$PORT (domain 42, point 7)" "$work/vswitchd.log"
check "10-packet ping with IPFIX on" ip netns exec qosxh1 ping -c 10 -i 0.1 -W 2 10.79.0.2
ip netns exec qosxh1 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.79.0.1", 4321))
for _ in range(5):
    s.sendto(b"y" * 100, ("10.79.0.2", 9)); time.sleep(0.05)
'
sleep 1.5
n=$(count); echo "IPFIX: $n ICMP request records"
check "template received for domain 42" q "any(x.get('kind') == 'template' and x['domain'] == 42 and x['id'] >= 256 for x in r)"
check "every message decodes" q "r and not any('error' in x for x in r)"
check ">= 10 request records (sampling 1)" test "$n" -ge 10
check "request records: in $of1 out $of2, MACs $mac1 -> $mac2, IPv4, 1 packet of 98 bytes, domain 42, point 7, interval 1" \
    q "all(x['ingressInterface'] == $of1 and x['egressInterface'] == $of2 and x['sourceMacAddress'] == '$mac1' and x['destinationMacAddress'] == '$mac2' and x['ethernetType'] == 0x0800 and x['packetDeltaCount'] == 1 and x['octetDeltaCount'] == 98 and x['domain'] == 42 and x['observationPointId'] == 7 and x['samplingPacketInterval'] == 1 for x in d if x['sourceIPv4Address'] == '10.79.0.1' and x['protocolIdentifier'] == 1)"
check "reply records: in $of2 out $of1" \
    q "len([x for x in d if x['sourceIPv4Address'] == '10.79.0.2' and x['protocolIdentifier'] == 1 and x['ingressInterface'] == $of2 and x['egressInterface'] == $of1]) >= 10"
check "UDP records carry ports 4321 -> 9" \
    q "len([x for x in d if x['protocolIdentifier'] == 17 and x['sourceTransportPort'] == 4321 and x['destinationTransportPort'] == 9 and x['octetDeltaCount'] == 142]) >= 5"
check "sequence numbers count the data records sent before each message" \
    q "sorted(x['seq'] for x in d) == list(range(len(d)))"

check "sampling=4" $V set ipfix qosxbr0 sampling=4
sleep 2.5
: > "$work/ipfix.jsonl"
check "200-packet ping" ip netns exec qosxh1 ping -q -c 200 -i 0.01 -W 2 10.79.0.2
sleep 1.5
n=$(count); echo "IPFIX: $n of 200 requests sampled at 1/4"
check "about a quarter sampled (20..90)" test "$n" -ge 20 -a "$n" -le 90
check "sampled records say interval 4" q "d and all(x['samplingPacketInterval'] == 4 for x in d)"

check "clear Bridge ipfix" $V clear bridge qosxbr0 ipfix
sleep 2.5
: > "$work/ipfix.jsonl"
check "ping with IPFIX off" ip netns exec qosxh1 ping -c 10 -i 0.1 -W 2 10.79.0.2
sleep 1
n=$(count)
check "no records once IPFIX is cleared ($n)" test "$n" -eq 0
finish

#!/bin/sh
# host-test
# NetFlow v5, sFlow v5 and ingress policing of rvs-vswitchd on the host with the USERSPACE datapath
# (datapath_type=netdev; TEL_DP_TYPE=system runs it on the kernel datapath, as tests/telemetry/telemetry-kernel.sh
# does in the VM on rvs.ko and openvswitch.ko), configured with Debian's ovs-vsctl against the daemon's embedded
# database; the records are decoded by an independent collector (tests/telemetry/collector.py). Needs root, veth,
# netns:
#   sudo flock /tmp/rvs-host-test.lock tests/telemetry/telemetry-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)
# Checks:
# - NetFlow: a ping telh1 -> telh2 (5 echo requests) yields, once its flows expire (max-idle 1 s), v5 records for
#   10.77.0.1 -> 10.77.0.2 ICMP with 5 packets, 490 bytes, input/output = the veths' OpenFlow ports, and the
#   replies the other way; engine type/id as configured; with active_timeout=1 a 6 s ping is reported in several
#   records while it lasts, adding up to all its packets.
# - sFlow: sampling=2 on a 40-packet ping gives flow samples whose header bytes hold the ping, whose input is the
#   ingress veth's ifindex and whose output is the egress veth's; polling=1 gives counter samples for the ports.
# - Policing: a UDP blast through telv1 runs far above 4000 kbit/s; with ingress_policing_rate=4000 it is measured
#   within 60..130 % of it, flows from telv1 carry meter(...) first; clearing it restores the rate. The VM test
#   tests/telemetry/telemetry-kernel.sh runs all of this on rvs.ko and openvswitch.ko.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/telemetry/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)"; exit 1; }
done
work=$(mktemp -d /tmp/rvs-tel.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
NFPORT=${NFPORT:-39555}
SFPORT=${SFPORT:-39556}
COLL=""
DPT=${TEL_DP_TYPE:-netdev}

cleanup() {
    for p in $COLL; do kill "$p" 2>/dev/null; done
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        sleep 1
    fi
    cleanup_netns
    ip link del telv1 2>/dev/null; ip link del telv2 2>/dev/null
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 40 lines)"; tail -n 40 "$work/vswitchd.log"
        for f in "$work"/*.jsonl; do echo "--- $f (last 10)"; tail -n 10 "$f"; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# q FILE PYTHON-EXPR: evaluates EXPR with `r` = the list of decoded records; succeeds if it is true, else prints
# the records.
q() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = eval(sys.argv[2])
if not ok:
    print("records:", *r[-12:], sep="\n  ")
sys.exit(0 if ok else 1)
EOF
}

"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" || { fail "start"; finish; }
check "add-br telbr0 (datapath_type=$DPT, max-idle 1 s)" \
    $V add-br telbr0 -- set bridge telbr0 datapath_type=$DPT other_config:max-idle=1000
netns_host telh1 10.77.0.1/24 telv1
netns_host telh2 10.77.0.2/24 telv2
for h in telh1 telh2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
check "add-port telv1 telv2" $V add-port telbr0 telv1 -- add-port telbr0 telv2
of1=$($V get interface telv1 ofport); of2=$($V get interface telv2 ofport)
if1=$(cat /sys/class/net/telv1/ifindex); if2=$(cat /sys/class/net/telv2/ifindex)
check "hosts reach each other" ip netns exec telh1 ping -c 2 -i 0.2 -W 2 10.77.0.2
sleep 3      # those flows expire before NetFlow is on

# --- NetFlow
python3 "$RVS_REPO/tests/telemetry/collector.py" netflow $NFPORT "$work/nf.jsonl" &
COLL="$COLL $!"
: > "$work/nf.jsonl"
sleep 0.5
check "create NetFlow (engine 7/9, no active timeout)" $V -- set bridge telbr0 netflow=@nf -- --id=@nf create netflow \
    targets=\"127.0.0.1:$NFPORT\" engine_type=7 engine_id=9 active_timeout=-1
sleep 1
check "ping with NetFlow on" ip netns exec telh1 ping -c 5 -i 0.2 -W 2 10.77.0.2
sleep 4      # idle 1 s, then the next revalidation deletes and reports
check "NetFlow: request flow 10.77.0.1 -> 10.77.0.2 ICMP, 5 packets, 490 bytes, in $of1 out $of2" q "$work/nf.jsonl" \
    "any(x.get('src') == '10.77.0.1' and x['dst'] == '10.77.0.2' and x['proto'] == 1 and x['packets'] == 5 and x['bytes'] == 490 and x['input'] == $of1 and x['output'] == $of2 for x in r)"
check "NetFlow: reply flow 10.77.0.2 -> 10.77.0.1, in $of2 out $of1" q "$work/nf.jsonl" \
    "any(x.get('src') == '10.77.0.2' and x['dst'] == '10.77.0.1' and x['proto'] == 1 and x['packets'] == 5 and x['input'] == $of2 and x['output'] == $of1 for x in r)"
check "NetFlow: engine type/id and sane timestamps" q "$work/nf.jsonl" \
    "r and all(x.get('engine_type') == 7 and x['engine_id'] == 9 and x['first'] <= x['last'] for x in r)"
check "NetFlow: every datagram decodes" q "$work/nf.jsonl" "not any('error' in x for x in r)"

: > "$work/nf.jsonl"
check "NetFlow active_timeout=1" $V set netflow telbr0 active_timeout=1
sleep 1
check "6 s ping" ip netns exec telh1 ping -c 12 -i 0.5 -W 2 10.77.0.2
sleep 4
check "NetFlow: the long flow is reported several times, adding up to 12 requests" q "$work/nf.jsonl" \
    "len([x for x in r if x.get('src') == '10.77.0.1' and x['proto'] == 1]) >= 3 and sum(x['packets'] for x in r if x.get('src') == '10.77.0.1' and x['proto'] == 1) == 12"
check "clear NetFlow" $V clear bridge telbr0 netflow

# --- sFlow
python3 "$RVS_REPO/tests/telemetry/collector.py" sflow $SFPORT "$work/sf.jsonl" &
COLL="$COLL $!"
: > "$work/sf.jsonl"
sleep 0.5
check "create sFlow (sampling 2, polling 1, header 64, agent 127.0.0.1)" $V -- set bridge telbr0 sflow=@sf -- --id=@sf \
    create sflow targets=\"127.0.0.1:$SFPORT\" sampling=2 polling=1 header=64 agent=127.0.0.1
sleep 1.5
check "40-packet ping with sFlow on" ip netns exec telh1 ping -c 40 -i 0.05 -W 2 10.77.0.2
sleep 2
n=$(python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('kind') == 'flow' and json.loads(l).get('src') == '10.77.0.1' and json.loads(l).get('proto') == 1))" "$work/sf.jsonl")
echo "sFlow: $n samples of the 40 echo requests at 1/2"
check "sFlow: about half of the 40 requests sampled (8..32)" test "$n" -ge 8 -a "$n" -le 32
check "sFlow: request samples: input ifindex $if1, output ifindex $if2, rate 2, 64-byte headers, agent 127.0.0.1" \
    q "$work/sf.jsonl" "all(x['input'] == $if1 and x['output'] == $if2 and x['rate'] == 2 and x['header_len'] == 64 and x['agent'] == '127.0.0.1' for x in r if x.get('kind') == 'flow' and x.get('src') == '10.77.0.1' and x['proto'] == 1)"
check "sFlow: counter samples for telv1 with traffic" q "$work/sf.jsonl" \
    "any(x.get('kind') == 'counters' and x['ifindex'] == $if1 and x['in_octets'] > 0 and x['out_octets'] > 0 for x in r)"
check "sFlow: every datagram decodes" q "$work/sf.jsonl" "not any('error' in x for x in r)"
check "clear sFlow" $V clear bridge telbr0 sflow
sleep 1.5
: > "$work/sf.jsonl"
ip netns exec telh1 ping -c 10 -i 0.05 -W 2 10.77.0.2 >/dev/null
sleep 1
check "sFlow off: no more flow samples" q "$work/sf.jsonl" "not any(x.get('kind') == 'flow' for x in r)"

# --- Policing: a datapath meter.
police_check $DPT "$V" "$work/vswitchd.log" 4000
flows=$("$bin/rvs-appctl" dpif/dump-flows telbr0)
echo "$flows" | sed 's/^/    /'
dp_port() { "$bin/rvs-appctl" dpif/show | sed -n "s/^ *$1 [0-9]*\/\([0-9]*\):.*/\1/p"; }
in1=$(dp_port telv1); in2=$(dp_port telv2)
check "$DPT: flows from telv1 (dp port $in1) start with meter()" sh -c "echo '$flows' | grep 'in_port($in1)' | grep -q 'actions:meter('"
check_not "$DPT: flows from telv2 (dp port $in2) have no meter" sh -c "echo '$flows' | grep 'in_port($in2)' | grep -q 'meter('"
police_clear $DPT "$V" 4000

cleanup
trap - EXIT INT TERM
finish

#!/bin/sh
# host-test
# Port-mod configuration bits, rvs-vswitchd against Debian's ovs-vswitchd in the same run (both userspace datapaths,
# netns hosts; needs root, Debian's ovs-vsctl/ovs-ofctl/ovs-vswitchd/ovsdb-server):
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/portmod-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
# Each switch has three hosts (rvs: netns ofport1..3, 10.58.0.N on ports ofport-vN; ovs-vswitchd, in netns
# ofport-ref: netns ofportr1..3, 10.59.0.N on ports ofport-rN). With the flow `actions=FLOOD`, then with
# `actions=NORMAL`, on both switches: `ovs-ofctl mod-port BR PORT no-flood` (OpenFlow 1.0) cuts host 3 off floods
# (ARP) while 1 <-> 2 still works; `no-forward` on port 2 stops everything to host 2 only; `no-receive` on port 1
# stops everything from host 1 only; `down` takes port 3's device down; undoing each restores the pings (megaflows
# installed before each change are revalidated). The config bits `ovs-ofctl show` (1.0) and `dump-ports-desc` (1.3)
# report are compared between the two switches.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)"; exit 1; }
done
work=$(mktemp -d /tmp/ofport-portmod.XXXXXX)
chmod 755 "$work"
ref=$work/ref
mkdir -p "$ref"
export RVS_RUN_DIR=$work OVS_RUNDIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
RV="ovs-vsctl --db=unix:$ref/db.sock --timeout=20"
BR=ofport-br0
RB=ofport-ref0
O10="ovs-ofctl -O OpenFlow10"
O13="ovs-ofctl -O OpenFlow13"

cleanup() {
    for p in vswitchd ovsdb; do [ -f "$ref/$p.pid" ] && kill "$(cat "$ref/$p.pid")" 2>/dev/null; done
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    cleanup_netns
    for v in ofport-v1 ofport-v2 ofport-v3; do ip link del $v 2>/dev/null; done
    if [ "$RVS_FAILED" != 0 ]; then
        [ -f "$work/vswitchd.log" ] && { echo "--- rvs-vswitchd log (last 40 lines)"; tail -n 40 "$work/vswitchd.log"; }
        [ -f "$ref/vswitchd.log" ] && { echo "--- ovs-vswitchd log (last 20 lines)"; tail -n 20 "$ref/vswitchd.log"; }
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM


# Switch under test: "rvs" or "ovs". sw_target, host netns, host address, port name.
target() { if [ "$1" = rvs ]; then echo $BR; else echo "unix:$ref/$RB.mgmt"; fi; }
hns() { if [ "$1" = rvs ]; then echo "ofport$2"; else echo "ofportr$2"; fi; }
addr() { if [ "$1" = rvs ]; then echo "10.58.0.$2"; else echo "10.59.0.$2"; fi; }
pname() { if [ "$1" = rvs ]; then echo "ofport-v$2"; else echo "ofport-r$2"; fi; }
# ping SW A B: host A reaches host B (neighbour caches flushed first, so ARP has to cross the switch again).
ping_ok() {
    for h in 1 2 3; do ip -n "$(hns "$1" $h)" neigh flush all 2>/dev/null; done
    ip netns exec "$(hns "$1" "$2")" ping -c 2 -i 0.2 -W 2 "$(addr "$1" "$3")" >/dev/null 2>&1 ||
        ip netns exec "$(hns "$1" "$2")" ping -c 2 -i 0.2 -W 2 "$(addr "$1" "$3")" >/dev/null 2>&1
}
ping_fails() {
    for h in 1 2 3; do ip -n "$(hns "$1" $h)" neigh flush all 2>/dev/null; done
    ! ip netns exec "$(hns "$1" "$2")" ping -c 3 -i 0.2 -W 1 "$(addr "$1" "$3")" >/dev/null 2>&1
}
# modport SW PORT WHAT: ovs-ofctl -O OpenFlow10 mod-port. Both switches revalidate their datapath flows after the
# reply, asynchronously (rvs's revalidator polls the bridge generation every 50 ms), so the port-mod is given 0.3 s.
modport() { $O10 mod-port "$(target "$1")" "$(pname "$1" "$2")" "$3" && sleep 0.3; }

# rvs-vswitchd, userspace datapath.
"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" -v connmgr:dbg ||
    { fail "start rvs-vswitchd"; finish; }
check "rvs: add-br $BR (datapath_type=netdev)" $V add-br $BR -- set bridge $BR datapath_type=netdev
for i in 1 2 3; do
    netns_host "ofport$i" "10.58.0.$i/24" "ofport-v$i"
    ip netns exec "ofport$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
check "rvs: add-port x3" $V add-port $BR ofport-v1 -- add-port $BR ofport-v2 -- add-port $BR ofport-v3
check "rvs: management socket" wait_for 10 test -S "$work/$BR.mgmt"

# The reference: ovs-vswitchd with its own ovsdb-server, in netns ofport-ref (its userspace datapath wants the
# tap device ovs-netdev, as rvs's does); the switch ends of its hosts' veths are moved there.
ovsdb-tool create "$ref/conf.db" /usr/share/openvswitch/vswitch.ovsschema
OVS_RUNDIR=$ref ovsdb-server "$ref/conf.db" --remote=punix:"$ref/db.sock" --unixctl="$ref/ovsdb.ctl" \
    --pidfile="$ref/ovsdb.pid" --detach --log-file="$ref/ovsdb.log"
ip netns add ofport-ref; RVS_NETNS="$RVS_NETNS ofport-ref"
OVS_RUNDIR=$ref ip netns exec ofport-ref ovs-vswitchd unix:"$ref/db.sock" --unixctl="$ref/vswitchd.ctl" \
    --pidfile="$ref/vswitchd.pid" --detach --log-file="$ref/vswitchd.log"
check "ovs: add-br $RB (datapath_type=netdev)" $RV add-br $RB -- set bridge $RB datapath_type=netdev
for i in 1 2 3; do
    netns_host "ofportr$i" "10.59.0.$i/24" "ofport-r$i"
    ip netns exec "ofportr$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip link set "ofport-r$i" netns ofport-ref
    ip -n ofport-ref link set "ofport-r$i" up
done
check "ovs: add-port x3" $RV add-port $RB ofport-r1 -- add-port $RB ofport-r2 -- add-port $RB ofport-r3
check "ovs: management socket" wait_for 10 test -S "$ref/$RB.mgmt"

for mode in FLOOD NORMAL; do
    for sw in rvs ovs; do
        t=$(target $sw)
        $O13 del-flows "$t"
        check "$sw/$mode: flow actions=$mode" $O13 add-flow "$t" "priority=10,actions=$mode"
        check "$sw/$mode: 1 -> 3 before any port-mod" ping_ok $sw 1 3
        check "$sw/$mode: 2 -> 3 before any port-mod" ping_ok $sw 2 3
        check "$sw/$mode: mod-port 3 no-flood" modport $sw 3 no-flood
        check "$sw/$mode: no-flood on 3: 1 -> 2 still works" ping_ok $sw 1 2
        check "$sw/$mode: no-flood on 3: 1 -> 3 fails (its ARP requests are floods)" ping_fails $sw 1 3
        check "$sw/$mode: mod-port 3 flood" modport $sw 3 flood
        check "$sw/$mode: flood again: 1 -> 3 works" ping_ok $sw 1 3
        check "$sw/$mode: mod-port 2 no-forward" modport $sw 2 no-forward
        check "$sw/$mode: no-forward on 2: 1 -> 2 fails" ping_fails $sw 1 2
        check "$sw/$mode: no-forward on 2: 1 -> 3 works" ping_ok $sw 1 3
        check "$sw/$mode: mod-port 2 forward" modport $sw 2 forward
        check "$sw/$mode: forward again: 1 -> 2 works" ping_ok $sw 1 2
        check "$sw/$mode: mod-port 1 no-receive" modport $sw 1 no-receive
        check "$sw/$mode: no-receive on 1: 1 -> 2 fails" ping_fails $sw 1 2
        check "$sw/$mode: no-receive on 1: 2 -> 1 fails (its replies are dropped)" ping_fails $sw 2 1
        check "$sw/$mode: no-receive on 1: 2 -> 3 works" ping_ok $sw 2 3
        check "$sw/$mode: mod-port 1 receive" modport $sw 1 receive
        check "$sw/$mode: receive again: 1 -> 2 works" ping_ok $sw 1 2
        check "$sw/$mode: mod-port 3 down" modport $sw 3 down
        check "$sw/$mode: port 3 down: 1 -> 3 fails" ping_fails $sw 1 3
        check "$sw/$mode: mod-port 3 up" modport $sw 3 up
        check "$sw/$mode: up again: 1 -> 3 works" wait_for 10 ping_ok $sw 1 3
    done
done

# The bits as each switch reports them, after the same port-mods on both.
for sw in rvs ovs; do
    modport $sw 1 no-receive; modport $sw 2 no-forward; modport $sw 2 no-flood; modport $sw 3 no-packet-in
done
sleep 1
# cfg SW VERSION CMD: "port config" per port, ports in order, names numbered.
cfg() {
    ovs-ofctl -O "$2" "$3" "$(target "$1")" | awk '/^ [0-9A-Z]+\(/ { split($1, a, "("); p = a[1] } /^ +config:/ { print p, $0 }' |
        grep -v LOCAL | sort
}
for v in OpenFlow10:show OpenFlow13:dump-ports-desc; do
    cfg rvs "${v%%:*}" "${v#*:}" >"$work/rvs-cfg.txt"; cfg ovs "${v%%:*}" "${v#*:}" >"$work/ovs-cfg.txt"
    echo "--- $v: rvs"; cat "$work/rvs-cfg.txt"; echo "--- $v: ovs-vswitchd"; cat "$work/ovs-cfg.txt"
    check "$v: config bits of the 3 ports shown" test "$(wc -l <"$work/rvs-cfg.txt")" = 3
    check "$v: config bits equal to ovs-vswitchd's" diff -u "$work/ovs-cfg.txt" "$work/rvs-cfg.txt"
done
check "rvs: port-mod revalidation logged" grep -q "config now 0x" "$work/vswitchd.log"
finish

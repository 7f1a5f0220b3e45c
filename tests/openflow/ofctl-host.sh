#!/bin/sh
# host-test
# The OpenFlow side of rvs-vswitchd against real peers on the host (userspace datapath, netns hosts; needs root,
# Debian's ovs-vsctl/ovs-ofctl):   sudo flock /tmp/rvs-host-test.lock tests/openflow/ofctl-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
# Checks: the management socket RUN_DIR/BRIDGE.mgmt (Debian ovs-ofctl and rvs-ofctl on the bridge name), a ptcp:
# controller listener; in OpenFlow 1.3 and 1.0: show (datapath id from other_config, ports, capabilities), dump-desc
# (dp-desc), dump-ports (datapath counters after a ping), dump-ports-desc, dump-tables, get-frags; port-status
# seen by `ovs-ofctl monitor` on add-port/del-port/mod-port (mod-port down takes the device down); malformed
# messages get the spec's errors and the connection stays up; Bridge.datapath_id and Controller status written
# back; an active controller (ovs-testcontroller) connects (is_connected, role).
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

of_setup ofctl
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"
R="$bin/rvs-ofctl -O OpenFlow13"
check "add-br (datapath_type=netdev, datapath-id, dp-desc)" $V add-br $BR -- set bridge $BR datapath_type=netdev \
    other_config:datapath-id=0000000000c0ffee other_config:dp-desc=connmgr-test-bridge
check "management socket RUN_DIR/BRIDGE.mgmt" of_wait test -S "$work/$BR.mgmt"
check "Bridge.datapath_id written back" of_wait sh -c "$V get bridge $BR datapath_id | grep -qx '\"0000000000c0ffee\"'"
of_host 1; of_host 2
check "add-port x2" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2
check "standalone bridge without controller forwards (NORMAL)" of_ping 1 2

$O show $BR >"$work/show13.txt" 2>&1; cat "$work/show13.txt"
check "OF1.3 show: datapath id" grep -q '^OFPT_FEATURES_REPLY (OF1.3) (xid=0x[0-9a-f]*): dpid:0000000000c0ffee$' "$work/show13.txt"
check "OF1.3 show: capabilities" grep -qx 'capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS' "$work/show13.txt"
check "OF1.3 show: port 1" grep -q '^ 1(connmgr-v1): addr:' "$work/show13.txt"
check "OF1.3 show: port 2" grep -q '^ 2(connmgr-v2): addr:' "$work/show13.txt"
check "OF1.3 show: LOCAL" grep -q "^ LOCAL($BR): addr:" "$work/show13.txt"
check "OF1.3 show: veth speed" grep -q 'current: *10GB-FD COPPER' "$work/show13.txt"
check "OF1.3 show: config reply" grep -q 'OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x[0-9a-f]*): frags=normal miss_send_len=0' "$work/show13.txt"
ovs-ofctl -O OpenFlow10 show $BR >"$work/show10.txt" 2>&1; cat "$work/show10.txt"
check "OF1.0 show: datapath id" grep -q '^OFPT_FEATURES_REPLY (xid=0x[0-9a-f]*): dpid:0000000000c0ffee$' "$work/show10.txt"
check "OF1.0 show: actions" grep -q '^actions: output enqueue set_vlan_vid' "$work/show10.txt"
check "OF1.0 show: ports in the features reply" sh -c "grep -q '^ 1(connmgr-v1): addr:' $work/show10.txt && grep -q '^ LOCAL($BR)' $work/show10.txt"
check "ovs-ofctl dump-desc: dp-desc" sh -c "$O dump-desc $BR | grep -qx 'DP Description: connmgr-test-bridge'"
check "ovs-ofctl get-frags" sh -c "$O get-frags $BR | grep -qx normal"
$O dump-ports $BR >"$work/ports.txt" 2>&1; cat "$work/ports.txt"
check "dump-ports: 3 ports" grep -q 'OFPST_PORT reply (OF1.3) (xid=0x[0-9a-f]*): 3 ports' "$work/ports.txt"
check "dump-ports: port 1 received the pings" grep -Eq '^  port  "?1"?: rx pkts=([2-9]|[1-9][0-9]+), bytes=[1-9]' "$work/ports.txt"
check "dump-ports PORT: one port" sh -c "ovs-ofctl -O OpenFlow10 dump-ports $BR 2 | grep -q ': 1 ports'"
check "dump-ports of a missing port: OFPBRC_BAD_PORT" sh -c "$O dump-ports $BR 77 2>&1 | grep -q OFPBRC_BAD_PORT"
check "dump-ports-desc" sh -c "$O dump-ports-desc $BR | grep -q '^ 2(connmgr-v2): addr:'"
check "dump-tables" sh -c "$O dump-tables $BR | grep -q '^  table 0:'"
check "OF1.0 dump-tables" sh -c "ovs-ofctl -O OpenFlow10 dump-tables $BR | grep -q '^  table 0 '"
$R show $BR >"$work/rshow.txt" 2>&1
check "rvs-ofctl show on the bridge name" grep -q 'dpid:0000000000c0ffee' "$work/rshow.txt"
check "rvs-ofctl dump-ports" sh -c "$R dump-ports $BR | grep -q '3 ports'"

# Flow round trip, and the same with Debian's ovs-vswitchd as the reference (its own ovsdb-server, a netdev bridge,
# in $work/ref, netns connmgr-ref): flows dumped by both compared after dropping durations and counters.
cat >"$work/flows13.txt" <<'FLOWS'
table=0,priority=100,ip,nw_dst=10.57.0.9,actions=LOCAL
table=0,priority=50,cookie=0x5,arp,actions=NORMAL
table=0,priority=40,ipv6,actions=goto_table:1
table=0,priority=30,tcp,tp_dst=80,actions=CONTROLLER:128
table=1,priority=10,udp,tp_src=53,actions=drop
table=1,priority=9,dl_vlan=7,actions=pop_vlan,NORMAL
FLOWS
cat >"$work/norm.sh" <<'NORM'
sed -E 's/(duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*, ?//g; s/ ?\(xid=0x[0-9a-f]+\)//' | sort
NORM
norm() { sh "$work/norm.sh"; }
check "add-flows (OF1.3, from a file)" $O add-flows $BR "$work/flows13.txt"
$O dump-flows $BR | norm >"$work/rvs-flows.txt"; cat "$work/rvs-flows.txt"
check "dump-flows shows the 6 flows and the default NORMAL flow" test "$(grep -c 'priority=' "$work/rvs-flows.txt")" = 7
check "dump-flows: goto_table" grep -q 'priority=40,ipv6 actions=goto_table:1' "$work/rvs-flows.txt"
check "rvs-ofctl dump-flows equals ovs-ofctl's" sh -c "$R dump-flows $BR | sh $work/norm.sh | cmp -s - $work/rvs-flows.txt"
check "dump-flows with a filter (table=1)" test "$($O dump-flows $BR table=1 | grep -c priority=)" = 2
check "dump-tables counts active flows" sh -c "$O dump-tables $BR | grep -A1 '^  table 1:' | grep -q 'active=2'"
check "del-flows ip (non-strict)" $O del-flows $BR ip
check "del-flows ip removed the ip, tcp and udp flows (all tables)" test "$($O dump-flows $BR | grep -c priority=)" = 4
$O dump-flows $BR | norm >"$work/rvs-flows2.txt"
ref=$work/ref
mkdir -p "$ref"
ovsdb-tool create "$ref/conf.db" /usr/share/openvswitch/vswitch.ovsschema
OVS_RUNDIR=$ref ovsdb-server "$ref/conf.db" --remote=punix:"$ref/db.sock" --unixctl="$ref/ovsdb.ctl" \
    --pidfile="$ref/ovsdb.pid" --detach --log-file="$ref/ovsdb.log"
# In its own network namespace: both userspace datapaths want a tap device named ovs-netdev.
ip netns add connmgr-ref; RVS_NETNS="$RVS_NETNS connmgr-ref"
OVS_RUNDIR=$ref ip netns exec connmgr-ref ovs-vswitchd unix:"$ref/db.sock" --unixctl="$ref/vswitchd.ctl" --pidfile="$ref/vswitchd.pid" --detach \
    --log-file="$ref/vswitchd.log"
RV="ovs-vsctl --db=unix:$ref/db.sock --timeout=20"
RB="unix:$ref/connmgr-ref0.mgmt"
check "reference: ovs-vswitchd bridge" $RV add-br connmgr-ref0 -- set bridge connmgr-ref0 datapath_type=netdev
check "reference: management socket" of_wait test -S "$ref/connmgr-ref0.mgmt"
[ -S "$ref/connmgr-ref0.mgmt" ] || { ls "$ref"; tail -20 "$ref/vswitchd.log"; }
check "reference: add-flows" $O add-flows $RB "$work/flows13.txt"
$O dump-flows $RB | norm >"$work/ref-flows.txt"; cat "$work/ref-flows.txt"
check "dump-flows equal to ovs-vswitchd's (OF1.3)" diff -u "$work/ref-flows.txt" "$work/rvs-flows.txt"
$O del-flows $RB ip
check "after del-flows ip: equal to ovs-vswitchd's" sh -c "$O dump-flows $RB | sh $work/norm.sh | diff -u - $work/rvs-flows2.txt"
# OpenFlow 1.0 (flows 1.0 can express), on both switches.
of10="priority=7,dl_type=0x0800,nw_src=10.1.0.0/16,actions=mod_nw_tos:4,LOCAL"
for sw in $BR $RB; do ovs-ofctl -O OpenFlow10 del-flows $sw; done
check "OF1.0 add-flow" ovs-ofctl -O OpenFlow10 add-flow $BR "$of10"
ovs-ofctl -O OpenFlow10 add-flow $RB "$of10"
check "OF1.0 add-flow with dl_vlan/strip_vlan" ovs-ofctl -O OpenFlow10 add-flow $BR "priority=8,dl_vlan=9,actions=strip_vlan,NORMAL"
ovs-ofctl -O OpenFlow10 add-flow $RB "priority=8,dl_vlan=9,actions=strip_vlan,NORMAL"
ovs-ofctl -O OpenFlow10 dump-flows $BR | norm | grep priority= >"$work/rvs-flows10.txt"; cat "$work/rvs-flows10.txt"
ovs-ofctl -O OpenFlow10 dump-flows $RB | norm >"$work/ref-flows10.txt"; cat "$work/ref-flows10.txt"
check "OF1.0 dump-flows shows both flows" test "$(grep -c priority= "$work/rvs-flows10.txt")" = 2
# Known difference (codec): ovs-vswitchd marks flows added in OpenFlow 1.0 reset_counts; compared without it, and
# checked on its own.
check "OF1.0 dump-flows equal to ovs-vswitchd's (reset_counts aside)" sh -c "grep priority= $work/ref-flows10.txt | sed 's/reset_counts //' | diff -u - $work/rvs-flows10.txt"
check "OF1.0 flow-mods imply reset_counts (as ovs-vswitchd)" sh -c "$O dump-flows $BR | grep -q 'reset_counts priority=7'"
check "show: same capabilities as ovs-vswitchd" sh -c "test \"\$($O show $RB | grep capabilities)\" = \"\$($O show $BR | grep capabilities)\""
check "del-flows (all)" $O del-flows $BR
check "del-flows (all) empties the tables, as in ovs-vswitchd" sh -c "$O del-flows $RB; test -z \"\$($O dump-flows $BR | grep priority=)\" && test -z \"\$($O dump-flows $RB | grep priority=)\""
check "no flow left: standalone bridge drops (as ovs-vswitchd)" of_ping_fails 1 2
for p in vswitchd ovsdb; do kill "$(cat "$ref/$p.pid")" 2>/dev/null; done

# Port status, seen by a monitor on the management socket (miss_send_len set: service connections get no async
# messages before; OpenFlow 1.0: the 1.3 monitor first asks for table
# features, which the pipeline answers).
ovs-ofctl -O OpenFlow10 monitor $BR 65535 >"$work/monitor.txt" 2>&1 &
BG_PIDS="$BG_PIDS $!"
sleep 1
of_host 3
check "add-port connmgr-v3" $V add-port $BR connmgr-v3
check "port-status ADD" of_wait grep -q 'OFPT_PORT_STATUS (xid=0x0): ADD: 3(connmgr-v3): addr:' "$work/monitor.txt"
check "mod-port down" $O mod-port $BR connmgr-v3 down
check "port-status MOD with PORT_DOWN" of_wait sh -c "grep -A1 'MOD: 3(connmgr-v3)' $work/monitor.txt | grep -q 'config: *PORT_DOWN'"
check "mod-port down took the device down" sh -c "! ip link show connmgr-v3 | grep -q '[<,]UP[,>]'"
check "mod-port up" $O mod-port $BR connmgr-v3 up
check "del-port connmgr-v3" $V del-port $BR connmgr-v3
check "port-status DEL" of_wait grep -q 'OFPT_PORT_STATUS (xid=0x0): DEL: 3(connmgr-v3)' "$work/monitor.txt"

# Malformed messages: the spec's errors, the connection stays.
python3 "$RVS_REPO/tests/openflow/badmsg.py" "unix:$work/$BR.mgmt" >"$work/bad.txt" 2>&1
cat "$work/bad.txt"
check "malformed messages answered with errors, connection kept" sh -c "! grep -q '^FAIL' $work/bad.txt && grep -q 'still answers echo' $work/bad.txt"

# A passive controller target (ptcp:) and an active one.
port=$((20000 + $$ % 10000))
check "set-controller ptcp:" $V set-controller $BR "ptcp:$port:127.0.0.1"
check "ovs-ofctl show over ptcp:" of_wait sh -c "$O show tcp:127.0.0.1:$port | grep -q dpid:0000000000c0ffee"
check "Controller status: LISTENING" of_wait sh -c "$V get controller $BR status | grep -q 'state=LISTENING'"
if command -v ovs-testcontroller >/dev/null; then
    cport=$((port + 1))
    ovs-testcontroller -v "ptcp:$cport:127.0.0.1" >"$work/testcontroller.log" 2>&1 &
    BG_PIDS="$BG_PIDS $!"
    check "set-controller tcp: (ovs-testcontroller)" $V set-controller $BR "tcp:127.0.0.1:$cport"
    check "Controller.is_connected" of_wait sh -c "$V get controller $BR is_connected | grep -qx true"
    check "Controller.role other" sh -c "$V get controller $BR role | grep -qx other"
    check "Controller status ACTIVE" sh -c "$V get controller $BR status | grep -q 'state=ACTIVE'"
else
    fail "ovs-testcontroller installed (tools/deps.sh installs openvswitch-testcontroller)"
fi
check "del-controller" $V del-controller $BR
check "management socket survives controller changes" sh -c "$O show $BR | grep -q dpid:"
check "del-br removes the management socket" sh -c "$V del-br $BR && sleep 1 && ! test -e $work/$BR.mgmt"

of_cleanup
trap - EXIT INT TERM
finish

# The rvs-vswitchd scenario shared by normal-host.sh (userspace datapath, on the host) and normal-kernel.sh (kernel
# datapath, in UML): sourced after tests/lib.sh. vsw_setup DIRPREFIX, then vsw_scenario netdev|system, then
# vsw_cleanup. Needs root, ovs-vsctl/ovs-appctl (Debian openvswitch-common) and tcpdump.

vsw_setup() {
    bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
    for b in rvs-vswitchd rvs-appctl; do
        [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)"; exit 1; }
    done
    work=$(mktemp -d "$1.XXXXXX")
    chmod 755 "$work"
    export RVS_RUN_DIR=$work
    V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
    A="$bin/rvs-appctl"          # default target: $RVS_RUN_DIR/rvs-vswitchd.ctl
    TCPDUMP_PIDS=""
}

vsw_start() {
    "$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" "$@"
}

# vsw_wait_gone: waits (10 s at most) until the daemon's pidfile is gone.
vsw_wait_gone() {
    i=0
    while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ ! -e "$work/rvs-vswitchd.pid" ]
}

# vsw_wait CMD...: retries CMD for up to 10 s.
vsw_wait() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge 50 ] && return 1
        sleep 0.2
    done
}

vsw_cleanup() {
    for p in $TCPDUMP_PIDS; do kill "$p" 2>/dev/null; done
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        $A exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        vsw_wait_gone
    fi
    cleanup_netns
    for v in rvw1 rvw2 rvw3 rvw4 rvx1 rvx2; do ip link del $v 2>/dev/null; done
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 60 lines)"; tail -n 60 "$work/vswitchd.log"
    fi
    [ -n "${RVS_OUT:-}" ] && cp "$work/vswitchd.log" "$RVS_OUT/vswitchd-${VSW_TYPE:-x}.log" 2>/dev/null
    rm -rf "$work"
}

mac_of() { ip -n "$1" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
# dp_port IFACE: the interface's datapath port number, from dpif/show ("    NAME OFPORT/DPPORT: (type)").
dp_port() { $A dpif/show | sed -n "s/^ *$1 [0-9]*\/\([0-9]*\):.*/\1/p"; }
ping_ok() { ip netns exec "$1" ping -c 2 -i 0.2 -W 2 "$2"; }
ping_fails() { ! ip netns exec "$1" ping -c 2 -i 0.2 -W 1 "$2"; }

vsw_scenario() {
    ty=$1
    case $ty in netdev) dp=ovs-netdev ;; *) dp=ovs-system ;; esac
    echo "=== rvs-vswitchd, datapath_type=$ty ($dp)"
    check "$ty: start --detach (returns once ready)" vsw_start
    check "$ty: pidfile" test -s "$work/rvs-vswitchd.pid"
    check "$ty: control socket in RVS_RUN_DIR" test -S "$work/rvs-vswitchd.ctl"
    check "$ty: embedded database socket" test -S "$work/db.sock"
    check "$ty: rvs-appctl version" sh -c "$A version | grep -q '^rvs-vswitchd (rvs) '"
    check "$ty: ovs-vsctl add-br (waits until cur_cfg = next_cfg)" $V add-br br0 -- set bridge br0 datapath_type=$ty

    netns_host vw1 10.56.0.1/24 rvw1
    netns_host vw2 10.56.0.2/24 rvw2
    netns_host vw3 10.56.0.3/24 rvw3
    netns_host vw4 10.56.99.4/24 rvw4
    for h in vw1 vw2 vw3 vw4; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    mac1=$(mac_of vw1); mac2=$(mac_of vw2); mac3=$(mac_of vw3)

    check "$ty: ovs-vsctl add-port x3" $V add-port br0 rvw1 -- add-port br0 rvw2 -- add-port br0 rvw3
    check "$ty: ofport written back" test "$($V get interface rvw1 ofport) $($V get interface rvw3 ofport)" = "1 3"
    check "$ty: bridge port is OpenFlow LOCAL" test "$($V get interface br0 ofport)" = 65534
    check "$ty: ifindex written back" test "$($V get interface rvw2 ifindex)" = "$(cat /sys/class/net/rvw2/ifindex)"
    check "$ty: mac_in_use written back" test "$($V get interface rvw2 mac_in_use)" = "\"$(cat /sys/class/net/rvw2/address)\""
    check "$ty: link_state written back" test "$($V get interface rvw2 link_state)" = up
    $V add-port br0 nodev9 >"$work/nodev.txt" 2>&1
    check "$ty: missing device: error column" sh -c "$V get interface nodev9 error | grep -q 'No such device'"
    check "$ty: missing device: ofport -1" test "$($V get interface nodev9 ofport)" = -1
    check "$ty: del-port of the missing device" $V del-port br0 nodev9
    $A dpif/show >"$work/show.txt" 2>&1; cat "$work/show.txt"
    check "$ty: dpif/show: datapath line" grep -Eq "^$ty@$dp: hit:[0-9]+ missed:[0-9]+$" "$work/show.txt"
    check "$ty: dpif/show: br0 LOCAL" grep -Eq '^    br0 65534/[0-9]+: \(internal\)$' "$work/show.txt"

    check "$ty: ping h1 -> h2" ping_ok vw1 10.56.0.2
    check "$ty: ping h1 -> h3" ping_ok vw1 10.56.0.3
    check "$ty: ping h2 -> h3" ping_ok vw2 10.56.0.3
    $A fdb/show br0 >"$work/fdb.txt" 2>&1; cat "$work/fdb.txt"
    check "$ty: fdb/show header" grep -q '^ port  VLAN  MAC                Age$' "$work/fdb.txt"
    check "$ty: fdb/show learned h1 on port 1" grep -Eq "^ +1 +0  $mac1 +[0-9]+$" "$work/fdb.txt"
    check "$ty: fdb/show learned h2 and h3" sh -c "grep -q $mac2 $work/fdb.txt && grep -q $mac3 $work/fdb.txt"
    $A dpif/dump-flows br0 >"$work/flows.txt" 2>&1; cat "$work/flows.txt"
    check "$ty: dump-flows: megaflow on L2 + ethertype, frag only" grep -q "in_port([0-9]*),eth(src=$mac1,dst=$mac2),eth_type(0x0800),ipv4(frag=no), packets:[1-9]" "$work/flows.txt"
    check_not "$ty: dump-flows: L3/L4 wildcarded" grep -Eq 'ipv4\(src=|icmp\(' "$work/flows.txt"
    check "$ty: dump-flows -m shows UFIDs" sh -c "$A dpif/dump-flows -m br0 | grep -q '^ufid:'"
    $A bridge/dump-flows br0 >"$work/offlows.txt" 2>&1; cat "$work/offlows.txt"
    check "$ty: bridge/dump-flows: the default NORMAL flow counts the traffic" grep -Eq 'table=0, n_packets=[1-9][0-9]*, .*priority=0 actions=NORMAL' "$work/offlows.txt"
    dp2=$(dp_port rvw2)
    $A ofproto/trace br0 "in_port(rvw1),eth(src=$mac1,dst=$mac2),eth_type(0x0800),ipv4(src=10.56.0.1,dst=10.56.0.2,proto=1,tos=0,ttl=64,frag=no)" >"$work/trace.txt" 2>&1
    cat "$work/trace.txt"
    check "$ty: ofproto/trace: learned port" grep -qx "Datapath actions: $dp2" "$work/trace.txt"
    check "$ty: ofproto/trace: megaflow" grep -q "^Megaflow: recirc_id(0),in_port([0-9]*),eth(src=$mac1,dst=$mac2),eth_type(0x0800),ipv4(frag=no)$" "$work/trace.txt"
    check "$ty: ovs-appctl works against the control socket" sh -c "ovs-appctl -t $work/rvs-vswitchd.ctl fdb/show br0 | grep -q $mac1"
    check "$ty: vlog/set" $A vlog/set upcall:file:dbg
    check "$ty: bad command: exit status 2" sh -c "$A nonsense 2>/dev/null; test \$? = 2"

    check "$ty: del-port rvw3" $V del-port br0 rvw3
    check "$ty: port removal stops traffic" ping_fails vw1 10.56.0.3

    # VLANs: h1 and h3 access VLAN 10, h2 access VLAN 20, h4 a trunk of 10 and 20 (sub-interfaces eth0.10/eth0.20).
    check "$ty: set tag=10 / tag=20" $V set port rvw1 tag=10 -- set port rvw2 tag=20
    check "$ty: add-port rvw3 tag=10" $V add-port br0 rvw3 tag=10
    check "$ty: add-port rvw4 trunks=10,20" $V add-port br0 rvw4 trunks=10,20
    ip -n vw2 addr add 10.56.20.2/24 dev eth0
    mac4=$(mac_of vw4)
    check "$ty: VLAN 10 vs 20 isolated at once (flows revalidated): h1 -/-> h2" ping_fails vw1 10.56.0.2
    check "$ty: same VLAN: h1 -> h3" ping_ok vw1 10.56.0.3
    check "$ty: VLAN 20 host does not reach VLAN 10's h3" ping_fails vw2 10.56.0.3
    # The trunk: h4 sends tagged ARP requests from a raw socket (vlan-arp.py); replies must come back tagged.
    ip netns exec vw4 tcpdump -nn -e -i eth0 -U -w "$work/trunk.pcap" >/dev/null 2>&1 &
    TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
    ip netns exec vw1 tcpdump -nn -e -i eth0 -U -w "$work/access.pcap" >/dev/null 2>&1 &
    TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
    sleep 1
    check "$ty: trunk: tagged ARP requests in VLAN 10" ip netns exec vw4 python3 "$RVS_REPO/tests/vswitchd/vlan-arp.py" eth0 "$mac4" 10 10.56.0.4 10.56.0.1
    check "$ty: trunk: tagged ARP requests in VLAN 20" ip netns exec vw4 python3 "$RVS_REPO/tests/vswitchd/vlan-arp.py" eth0 "$mac4" 20 10.56.20.4 10.56.20.2
    sleep 0.5
    for p in $TCPDUMP_PIDS; do kill "$p" 2>/dev/null; done
    TCPDUMP_PIDS=""
    sleep 0.5
    tcpdump -nn -e -r "$work/trunk.pcap" >"$work/trunk.txt" 2>/dev/null
    tcpdump -nn -e -r "$work/access.pcap" >"$work/access.txt" 2>/dev/null
    cat "$work/trunk.txt"
    check "$ty: trunk carries h1's reply tagged VLAN 10 (tcpdump -e)" grep -Eq 'vlan 10, .*Reply 10\.56\.0\.1 is-at' "$work/trunk.txt"
    check "$ty: trunk carries h2's reply tagged VLAN 20 (tcpdump -e)" grep -Eq 'vlan 20, .*Reply 10\.56\.20\.2 is-at' "$work/trunk.txt"
    check_not "$ty: nothing of VLAN 20 reaches the VLAN 10 access port" grep -q 'tell 10\.56\.0\.2' "$work/access.txt"
    check "$ty: access port gets the trunk's VLAN 10 request untagged" grep -q 'Request who-has 10.56.0.1 tell 10.56.0.4' "$work/access.txt"
    check_not "$ty: no tags on the access port" grep 'vlan ' "$work/access.txt"
    $A fdb/show br0 >"$work/fdb2.txt" 2>&1; cat "$work/fdb2.txt"
    check "$ty: fdb/show: h1 in VLAN 10, h2 in VLAN 20" sh -c "grep -Eq '^ +[0-9]+ +10  $mac1' $work/fdb2.txt && grep -Eq '^ +[0-9]+ +20  $mac2' $work/fdb2.txt"
    $A dpif/dump-flows br0 >"$work/flows2.txt" 2>&1
    check "$ty: dump-flows: push_vlan towards the trunk" grep -q 'push_vlan(vid=10' "$work/flows2.txt"
    check "$ty: dump-flows: pop_vlan from the trunk" grep -Eq 'vlan\(vid=20.*actions:pop_vlan,' "$work/flows2.txt"

    # Idle flows expire.
    check "$ty: set other_config:max-idle=1000" $V set bridge br0 other_config:max-idle=1000
    sleep 3
    check "$ty: idle flows expired" sh -c "! $A dpif/dump-flows br0 | grep -q 'ipv4(frag=no)'"
    $V remove bridge br0 other_config max-idle

    # exit, restart: configuration and OpenFlow port numbers are kept.
    of4=$($V get interface rvw4 ofport)
    check "$ty: ping before exit" ping_ok vw1 10.56.0.3
    check "$ty: rvs-appctl exit" $A exit
    check "$ty: exit: pidfile removed" vsw_wait_gone
    check_not "$ty: exit: control socket removed" test -e "$work/rvs-vswitchd.ctl"
    if [ "$ty" = system ]; then
        check "$ty: datapath stays after exit (graceful restart)" ovs-dpctl show ovs-system
        check "$ty: installed flows keep forwarding while the daemon is down" ping_ok vw1 10.56.0.3
    else
        check_not "$ty: the userspace datapath goes with the process" ip link show ovs-netdev
    fi
    check "$ty: restart" vsw_start
    check "$ty: restart: ports back" vsw_wait sh -c "$A dpif/show | grep -q '^    rvw4 '"
    check "$ty: restart: ofport kept" test "$($V get interface rvw4 ofport)" = "$of4"
    check "$ty: restart: VLAN config kept (h1 -> h3)" ping_ok vw1 10.56.0.3
    check "$ty: restart: isolation kept" ping_fails vw1 10.56.0.2
    check "$ty: SIGTERM" kill "$(cat "$work/rvs-vswitchd.pid")"
    check "$ty: SIGTERM: clean exit" vsw_wait_gone
    check "$ty: log file written" grep -q 'shutting down' "$work/vswitchd.log"
    check "$ty: start again" vsw_start
    check "$ty: del-br" $V del-br br0
    check "$ty: last bridge gone: datapath deleted" vsw_wait sh -c "! $A dpif/show | grep -q '@$dp'"
    check "$ty: exit --cleanup" $A exit --cleanup
    vsw_wait_gone
    cleanup_netns
}

# vsw_external TYPE: rvs-vswitchd configured through an EXTERNAL database server: Debian's ovsdb-server serving a
# file made from rvs's schema (--db=unix:...), ovs-vsctl against it (add-br/add-port wait for cur_cfg), two hosts
# ping, and the daemon reconnects after the server restarts.
vsw_external() {
    ty=$1
    command -v ovsdb-server >/dev/null && command -v ovsdb-tool >/dev/null || { fail "ovsdb-server and ovsdb-tool installed"; return; }
    echo "=== rvs-vswitchd with an external ovsdb-server, datapath_type=$ty"
    ext=$work/ext
    mkdir -p "$ext"
    check "external: ovsdb-tool create with rvs's schema" ovsdb-tool create "$ext/conf.db" "$RVS_REPO/userspace/ovsdb/schema/vswitch.ovsschema"
    start_ovsdb() { ovsdb-server "$ext/conf.db" --remote="punix:$ext/db.sock" --pidfile="$ext/ovsdb.pid" --unixctl="$ext/ovsdb.ctl" --detach --log-file="$ext/ovsdb.log"; }
    check "external: ovsdb-server starts" start_ovsdb
    XV="ovs-vsctl --db=unix:$ext/db.sock --timeout=20"
    check "external: ovs-vsctl init" $XV --no-wait init
    check "external: rvs-vswitchd --db=unix:..." "$bin/rvs-vswitchd" --db="unix:$ext/db.sock" --detach --pidfile --log-file="$work/vswitchd.log"
    netns_host vx1 10.57.0.1/24 rvx1
    netns_host vx2 10.57.0.2/24 rvx2
    check "external: add-br + add-port (waits for the daemon)" $XV add-br brx -- set bridge brx datapath_type=$ty -- add-port brx rvx1 -- add-port brx rvx2
    check "external: ofport written back" test "$($XV get interface rvx2 ofport)" = 2
    check "external: ping" ping_ok vx1 10.57.0.2
    kill "$(cat "$ext/ovsdb.pid")"; sleep 0.5
    check "external: ovsdb-server restarts" start_ovsdb
    check "external: daemon reconnects and applies a change (del-port waits)" $XV del-port brx rvx2
    check "external: port removal stops traffic" ping_fails vx1 10.57.0.2
    check "external: del-br" $XV del-br brx
    check "external: exit" $A exit --cleanup
    vsw_wait_gone
    kill "$(cat "$ext/ovsdb.pid")" 2>/dev/null
    cleanup_netns
}

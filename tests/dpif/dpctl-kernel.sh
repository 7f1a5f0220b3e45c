#!/bin/sh
# vm-test
# rvs-dpctl and the kernel dpif against the upstream openvswitch.ko and then rvs.ko, in one boot (run inside a test
# kernel; DPIF_MODULES="openvswitch rvs" by default, each scenario announces its module):
#   tools/vm/run --arch um tests/dpif/dpctl-kernel.sh
# Build first on the host: (cd userspace && cargo build --release --workspace --bins --examples)
# Checks: add-dp / add-if (two veth ports of netns hosts, an internal port) / show (port numbers and types), cross-checked
# with the real ovs-dpctl in both directions; clear errors (existing dp, missing dp, bad syntax, missing privilege, no
# module); flows: add-flow both ways, ping, dump-flows counters cross-checked with ovs-dpctl dump-flows, mod-flow,
# del-flow stops traffic, del-flows; then dpif-probe: feature negotiation, per-CPU and per-vport upcall PIDs with a ping received as a miss
# upcall, port notifications, flow put/get/dump/del/flush, execute, meters.
. "$RVS_REPO/tests/lib.sh"

bin=$RVS_REPO/userspace/target/release
dpctl=$bin/rvs-dpctl
probe=$bin/examples/dpif-probe
for b in "$dpctl" "$probe"; do
    [ -x "$b" ] || { fail "built $b (cargo build --release --workspace --bins --examples)"; finish; }
done

# show_ports TOOL DP: the "port N: NAME[ (type)]" lines of a show, normalised.
show_ports() { "$@" 2>&1 | sed -n 's/^ *\(port [0-9]*: .*\)$/\1/p' | sort; }

check "no module: clear error" sh -c "! $dpctl show 2>&1 && $dpctl show 2>&1 | grep -q 'no datapath module: load openvswitch.ko or rvs.ko'"
# scenario MOD: the whole sequence against one datapath module (openvswitch or rvs), loaded and unloaded here.
scenario() {
mod=$1
echo "=== datapath module under test: $mod.ko"
case $mod in
openvswitch) check "$mod: modprobe openvswitch" modprobe -d "$RVS_KDIR/modroot" openvswitch ;;
rvs) check "$mod: insmod rvs.ko" insmod "$RVS_KO" ;;
esac

netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2

check "add-dp dp0" "$dpctl" add-dp dp0
check "add-if dp0 v1 v2" "$dpctl" add-if dp0 v1 v2
check "add-if internal port" "$dpctl" add-if dp0 i0,type=internal
# (lib.sh's check() uses $out itself: keep the show output in a file.)
"$dpctl" show dp0 >"$RVS_OUT/show.txt" 2>&1
cat "$RVS_OUT/show.txt"
check "show: header" grep -qx 'system@dp0:' "$RVS_OUT/show.txt"
check "show: lookups line" grep -Eq '^  lookups: hit:[0-9]+ missed:[0-9]+ lost:[0-9]+$' "$RVS_OUT/show.txt"
check "show: flows line" grep -Eq '^  flows: 0$' "$RVS_OUT/show.txt"
check "show: masks line" grep -Eq '^  masks: hit:[0-9]+ total:0 hit/pkt:' "$RVS_OUT/show.txt"
check "show: local port 0" grep -qx '  port 0: dp0 (internal)' "$RVS_OUT/show.txt"
check "show: v1 is port 1" grep -qx '  port 1: v1' "$RVS_OUT/show.txt"
check "show: v2 is port 2" grep -qx '  port 2: v2' "$RVS_OUT/show.txt"
check "show: i0 is port 3 (internal)" grep -qx '  port 3: i0 (internal)' "$RVS_OUT/show.txt"
ovs_ports=$(show_ports ovs-dpctl show system@dp0)
rvs_ports=$(show_ports "$dpctl" show dp0)
echo "ovs-dpctl:"; ovs-dpctl show system@dp0 2>&1
check "ovs-dpctl show lists the same ports" test "$ovs_ports" = "$rvs_ports"
check "ovs-dpctl dump-dps sees dp0" sh -c "ovs-dpctl dump-dps | grep -qx system@dp0"
check "dump-dps" sh -c "$dpctl dump-dps | grep -qx system@dp0"

check "add-dp of an existing datapath fails" sh -c "! $dpctl add-dp dp0 2>/dev/null && $dpctl add-dp dp0 2>&1 | grep -q 'File exists'"
check "add-if to a missing datapath fails" sh -c "! $dpctl add-if nodp v1 2>&1 && $dpctl add-if nodp v1 2>&1 | grep -q 'No such device'"
check "bad add-if syntax names the token" sh -c "$dpctl add-if dp0 v9,type=bogus 2>&1 | grep -q \"'type=bogus'\""
if command -v setpriv >/dev/null; then
    check "unprivileged add-dp says CAP_NET_ADMIN is needed" sh -c \
        "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all $dpctl add-dp dpx 2>&1 | grep -q 'CAP_NET_ADMIN is needed'"
    check "unprivileged show works" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$dpctl" show dp0
fi

# Flows through the module: both ways between the netns hosts, ping, counters, cross-checked with ovs-dpctl.
for h in h1 h2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
IP1="in_port(1),eth(),eth_type(0x0800),ipv4()"
IP2="in_port(2),eth(),eth_type(0x0800),ipv4()"
check "add-flow ip 1->2 (with ufid)" "$dpctl" add-flow dp0 "ufid:11111111-2222-3333-4444-555555555555,$IP1" 2
check "add-flow ip 2->1" "$dpctl" add-flow dp0 "$IP2" 1
check "add-flow arp 1->2" "$dpctl" add-flow dp0 "in_port(1),eth(),eth_type(0x0806)" 2
check "add-flow arp 2->1" "$dpctl" add-flow dp0 "in_port(2),eth(),eth_type(0x0806)" 1
check "add-flow of an existing flow: File exists" sh -c "$dpctl add-flow dp0 '$IP2' 1 2>&1 | grep -q 'File exists'"
"$dpctl" add-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4(dts=1.2.3.4)" 2 >"$RVS_OUT/err.txt" 2>&1
cat "$RVS_OUT/err.txt"
check "bad flow syntax: caret under the token" \
    test "$(awk 'NR==2{l=$0} NR==3{p=index($0,"^"); print substr(l,p,3)}' "$RVS_OUT/err.txt")" = dts
check "ping h1 -> h2 through the flows" ip netns exec h1 ping -c 3 -i 0.2 -W 2 10.0.0.2
check "ping h2 -> h1" ip netns exec h2 ping -c 2 -i 0.2 -W 2 10.0.0.1
"$dpctl" dump-flows dp0 >"$RVS_OUT/rvs-flows.txt" 2>&1
ovs-dpctl dump-flows system@dp0 >"$RVS_OUT/ovs-flows.txt" 2>&1
"$dpctl" dump-flows -m dp0 >"$RVS_OUT/rvs-flows-m.txt" 2>&1
ovs-dpctl dump-flows -m system@dp0 >"$RVS_OUT/ovs-flows-m.txt" 2>&1
echo "rvs-dpctl dump-flows:"; cat "$RVS_OUT/rvs-flows.txt"
echo "ovs-dpctl dump-flows:"; cat "$RVS_OUT/ovs-flows.txt"
echo "rvs-dpctl dump-flows -m:"; cat "$RVS_OUT/rvs-flows-m.txt"
echo "ovs-dpctl dump-flows -m:"; cat "$RVS_OUT/ovs-flows-m.txt"
pk() { sed -n "s/.*in_port($2).*eth_type($3).* packets:\([0-9]*\),.*/\1/p" "$1"; }
check "dump-flows: 1->2 ip counter moved" test "$(pk "$RVS_OUT/rvs-flows.txt" 1 0x0800)" -ge 3
check "dump-flows: 2->1 ip counter moved" test "$(pk "$RVS_OUT/rvs-flows.txt" 2 0x0800)" -ge 3
check "dump-flows -m: the ufid we gave" grep -q '^ufid:11111111-2222-3333-4444-555555555555, ' "$RVS_OUT/rvs-flows-m.txt"
check "ovs-dpctl -m shows the same ufid" grep -q 'ufid:11111111-2222-3333-4444-555555555555' "$RVS_OUT/ovs-flows-m.txt"
# (in_port, eth_type, packets, bytes, actions) of every flow, as each tool prints it.
norm() { sed -n 's/.*in_port(\([0-9]*\)).*eth_type(\(0x[0-9a-f]*\)).* packets:\([0-9]*\), bytes:\([0-9]*\),.*actions:\(.*\)$/\1 \2 \3 \4 \5/p' "$1" | sort; }
norm "$RVS_OUT/rvs-flows.txt" >"$RVS_OUT/rvs-norm.txt"; norm "$RVS_OUT/ovs-flows.txt" >"$RVS_OUT/ovs-norm.txt"
check "rvs-dpctl and ovs-dpctl agree on flows, counters and actions" cmp "$RVS_OUT/rvs-norm.txt" "$RVS_OUT/ovs-norm.txt"
check "four flows each" test "$(wc -l <"$RVS_OUT/rvs-norm.txt")" = 4
# Match text: rvs prints what ovs prints, less the fields ovs shows for a flow's implicit exact metadata.
m_rvs=$(sed 's/, packets:.*//' "$RVS_OUT/rvs-flows.txt" | sort)
m_ovs=$(sed 's/, packets:.*//; s/recirc_id(0),//; s/,packet_type(ns=0,id=0)//; s/eth(),//' "$RVS_OUT/ovs-flows.txt" | sort)
if [ "$m_rvs" = "$m_ovs" ]; then pass "match text agrees with ovs-dpctl (modulo recirc_id(0)/packet_type/eth())"; else echo "INFO: match texts differ: rvs=[$m_rvs] ovs=[$m_ovs]"; fi
check "get-flow by ufid" sh -c "$dpctl get-flow dp0 ufid:11111111-2222-3333-4444-555555555555 | grep -q 'actions:2\$'"
check "mod-flow changes actions (ovs-dpctl sees it)" sh -c "$dpctl mod-flow dp0 '$IP2' 'push_vlan(vid=5,pcp=0),1' && ovs-dpctl dump-flows system@dp0 | grep 'in_port(2)' | grep -q 'push_vlan(vid=5'"
check "mod-flow back" "$dpctl" mod-flow dp0 "$IP2" 1
check "ovs-dpctl-added flow shows in rvs-dpctl" sh -c "ovs-dpctl add-flow system@dp0 'in_port(3),eth(),eth_type(0x0806),arp()' 1 && $dpctl dump-flows dp0 | grep 'in_port(3)' | grep -q 'actions:1'"
# (Upstream finds a flow by key only if it was installed without a UFID: delete the key-only 2->1 flow by key.)
check "del-flow ip 2->1 (by key)" "$dpctl" del-flow dp0 "$IP2"
check_not "ping fails without the flow" ip netns exec h1 ping -c 2 -i 0.2 -W 1 10.0.0.2
check_not "ovs-dpctl no longer sees it" sh -c "ovs-dpctl dump-flows system@dp0 | grep -q 'in_port(2),.*0x0800'"
check "del-flow ip 1->2 (by ufid)" "$dpctl" del-flow dp0 ufid:11111111-2222-3333-4444-555555555555
check_not "ovs-dpctl no longer sees the ufid flow" sh -c "ovs-dpctl dump-flows -m system@dp0 | grep -q 11111111-2222"
check "misses counted" sh -c "$dpctl show dp0 | grep -Eq 'lookups: hit:[0-9]+ missed:[1-9]'"
if command -v setpriv >/dev/null; then
    check "unprivileged add-flow says CAP_NET_ADMIN is needed" sh -c \
        "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all $dpctl add-flow dp0 '$IP1' 2 2>&1 | grep -q 'CAP_NET_ADMIN is needed'"
fi
check "del-flows" "$dpctl" del-flows dp0
check "no flows left (ovs-dpctl)" sh -c "[ -z \"\$(ovs-dpctl dump-flows system@dp0)\" ]"

check "del-if dp0 v2" "$dpctl" del-if dp0 v2
check_not "v2 gone from show" sh -c "$dpctl show dp0 | grep -q 'port 2: v2'"
check "ovs-dpctl agrees after del-if" test "$(show_ports ovs-dpctl show system@dp0)" = "$(show_ports "$dpctl" show dp0)"
check "del-if of a missing port fails" sh -c "! $dpctl del-if dp0 nope 2>/dev/null"
check "del-dp dp0" "$dpctl" del-dp dp0
check_not "dp0 gone (ovs-dpctl)" sh -c "ovs-dpctl dump-dps | grep -q dp0"

# The other direction: a datapath made by ovs-dpctl, shown and removed by rvs-dpctl.
check "ovs-dpctl add-dp dp1 v1" ovs-dpctl add-dp dp1 v1
check "rvs-dpctl shows ovs-dpctl's datapath" test "$(show_ports ovs-dpctl show system@dp1)" = "$(show_ports "$dpctl" show dp1)"
check "rvs-dpctl del-dp dp1" "$dpctl" del-dp dp1
check_not "dp1 gone" sh -c "ovs-dpctl dump-dps | grep -q dp1"

# The library itself: negotiation, upcall sockets, flows, execute, meters.
"$probe" probe0 v1 v2 h1 10.0.0.2 | tee "$RVS_OUT/dpif-probe.txt"
grep -q '^FAIL' "$RVS_OUT/dpif-probe.txt" && RVS_FAILED=1
grep -q '^PASS: datapath deleted' "$RVS_OUT/dpif-probe.txt" || fail "dpif-probe ran to the end"

cleanup_netns
check "$mod: rmmod $mod" rmmod "$mod"
}

for m in ${DPIF_MODULES:-openvswitch rvs}; do scenario "$m"; done
finish

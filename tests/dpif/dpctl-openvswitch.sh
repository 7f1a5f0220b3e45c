#!/bin/sh
# vm-test
# rvs-dpctl and the kernel dpif against the UPSTREAM openvswitch.ko (run inside a test kernel):
#   tools/vm/run --arch um tests/dpif/dpctl-openvswitch.sh
# Build first on the host: (cd userspace && cargo build --release --workspace --bins --examples)
# Checks: add-dp / add-if (two veth ports of netns hosts, an internal port) / show (port numbers and types), cross-checked
# with the real ovs-dpctl in both directions; clear errors (existing dp, missing dp, bad syntax, missing privilege, no
# module); then dpif-probe: feature negotiation, per-CPU and per-vport upcall PIDs with a ping received as a miss
# upcall, port notifications, flow put/get/dump/del/flush, execute, meters.
. "$RVS_REPO/tests/lib.sh"

bin=$RVS_REPO/userspace/target/release
dpctl=$bin/rvs-dpctl
probe=$bin/examples/dpif-probe
for b in "$dpctl" "$probe"; do
    [ -x "$b" ] || { fail "built $b (cargo build --release --workspace --bins --examples)"; finish; }
done
echo "datapath module under test: openvswitch.ko (upstream)"

# show_ports TOOL DP: the "port N: NAME[ (type)]" lines of a show, normalised.
show_ports() { "$@" 2>&1 | sed -n 's/^ *\(port [0-9]*: .*\)$/\1/p' | sort; }

check "no module: clear error" sh -c "! $dpctl show 2>&1 && $dpctl show 2>&1 | grep -q 'no datapath module: load openvswitch.ko or rvs.ko'"
check "modprobe openvswitch" modprobe -d "$RVS_KDIR/modroot" openvswitch

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
check "rmmod openvswitch" rmmod openvswitch
finish

#!/bin/sh
# vm-test
# rvs.ko robustness. (1) Load/unload cycles with traffic: a flood ping runs between two netns for the whole test;
# each cycle loads rvs.ko, creates a datapath, attaches both veths, installs flows both ways, checks that the
# flood is forwarded, and unloads the module with the datapath still present (the module must tear it down).
# (2) Malformed netlink: tests/kmod/lib/nlfuzz.py sends mutated/truncated/oversized/duplicate-attribute requests to
# every command of every ovs_* family; each must get an errno or a well-formed reply; the module must then unload.
# The runner fails the run on any WARNING/BUG/oops/lockdep report in the kernel log; on a kernel with kmemleak
# (tools/vm/run --variant debug) the test also scans for leaks and fails on any that point into rvs.
#
# Knobs (environment): RVS_ROBUST_CYCLES (default 50), RVS_NLFUZZ_COUNT (default 10000), RVS_NLFUZZ_SEED (default 1),
# RVS_NLFUZZ_REF_COUNT (requests sent to openvswitch.ko first, validating the fuzzer itself; default 2000, 0 = skip).
. "$RVS_REPO/tests/lib.sh"

CYCLES=${RVS_ROBUST_CYCLES:-50}
FUZZ=${RVS_NLFUZZ_COUNT:-10000}
SEED=${RVS_NLFUZZ_SEED:-1}
REF=${RVS_NLFUZZ_REF_COUNT:-2000}
FUZZER="python3 $RVS_REPO/tests/kmod/lib/nlfuzz.py"
KMEMLEAK=/sys/kernel/debug/kmemleak

if ! [ -f "$RVS_KO" ]; then fail "rvs.ko built for this kernel ($RVS_KO)"; finish; fi
mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -w $KMEMLEAK ] && echo clear > $KMEMLEAK

# ---- (1) load/unload cycles under traffic
netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
ip -n h1 link set eth0 address 02:00:00:00:00:01
ip -n h2 link set eth0 address 02:00:00:00:00:02
ip -n h1 neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0
ip -n h2 neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0
ip netns exec h1 ping -f -q 10.0.0.2 >/dev/null 2>&1 &
pinger=$!
rx() { ip netns exec h2 cat /sys/class/net/eth0/statistics/rx_packets; }

printf '%s\n' "in_port(1),eth(),eth_type(0x0800),ipv4() 2" "in_port(2),eth(),eth_type(0x0800),ipv4() 1" \
    > /tmp/robust-flows

bad=0 forwarded=0 t0=$(date +%s)
i=0
while [ $i -lt "$CYCLES" ]; do
    i=$((i + 1))
    why=""
    insmod "$RVS_KO" || why="insmod"
    [ -z "$why" ] && { ovs-dpctl add-dp dp0 v1 v2 >/dev/null 2>&1 || why="add-dp with v1 v2"; }
    [ -z "$why" ] && { ovs-dpctl add-flows dp0 /tmp/robust-flows >/dev/null 2>&1 || why="add-flows"; }
    if [ -z "$why" ]; then
        a=$(rx); sleep 0.3; b=$(rx)
        if [ "$b" -gt "$a" ]; then forwarded=$((forwarded + b - a)); else why="no traffic forwarded ($a -> $b)"; fi
    fi
    # Some cycles add a second datapath and an extra internal port, so teardown covers more than one of each.
    if [ -z "$why" ] && [ $((i % 5)) = 0 ]; then
        ovs-dpctl add-dp dp1 int1,type=internal >/dev/null 2>&1 || why="second datapath"
    fi
    rmmod rvs || why="${why:+$why; }rmmod"
    if ip link show dp0 >/dev/null 2>&1 || ip link show v1 | grep -q master; then why="${why:+$why; }datapath left"; fi
    if [ -n "$why" ]; then
        bad=$((bad + 1))
        echo "cycle $i: $why"
        grep -q '^rvs ' /proc/modules && { rmmod rvs || break; }
    fi
done
kill "$pinger" 2>/dev/null; wait "$pinger" 2>/dev/null
echo "cycles: $i in $(( $(date +%s) - t0 )) s, $forwarded packets forwarded while loaded"
check "$CYCLES load/unload cycles with traffic, each forwarding and tearing down" test "$bad" = 0 -a "$i" = "$CYCLES"
n=$(dmesg | grep -c 'rvs .* unloaded')
check "every unload logged ($n)" test "$n" -ge "$CYCLES"
cleanup_netns

# ---- (2) malformed netlink
ip link add fzv1 type veth peer name fzp1
ip link add fzv2 type veth peer name fzp2
ip link add fzv3 type veth peer name fzp3
for d in fzv1 fzp1 fzv2 fzp2 fzv3 fzp3; do ip link set $d up; done

if [ "$REF" -gt 0 ] && modprobe -d "$RVS_KDIR/modroot" openvswitch; then
    # The fuzzer's expectations hold against the upstream module (a fuzzer that fails there is wrong, not rvs).
    if $FUZZER --count "$REF" --seed "$SEED"; then pass "nlfuzz against openvswitch.ko ($REF requests)"; else
        fail "nlfuzz against openvswitch.ko ($REF requests)"; fi
    ovs-dpctl del-dp fz0 >/dev/null 2>&1
    check "rmmod openvswitch" rmmod openvswitch
fi

check "insmod rvs.ko for the fuzzer" insmod "$RVS_KO"
if $FUZZER --count "$FUZZ" --seed "$SEED"; then pass "nlfuzz against rvs.ko ($FUZZ requests, seed $SEED)"; else
    fail "nlfuzz against rvs.ko ($FUZZ requests, seed $SEED; replay one with --only N)"; fi
check "datapaths still answer after fuzzing" ovs-dpctl show
# The module still forwards after the fuzzing (fresh datapath on the fuzzer's veths).
ovs-dpctl del-dp fz0 >/dev/null 2>&1
check "fresh datapath after fuzzing" sh -c "ovs-dpctl add-dp dp9 && ovs-dpctl add-if dp9 fzv1 fzv2 && \
    ovs-dpctl add-flow dp9 'in_port(1),eth(),eth_type(0x0800),ipv4()' 2"

if [ -w $KMEMLEAK ]; then
    # Objects must be older than kmemleak's minimum age (5 s) and survive two scans to be reported.
    ovs-dpctl del-dp dp9 >/dev/null 2>&1
    sleep 6; echo scan > $KMEMLEAK; sleep 1; echo scan > $KMEMLEAK
    cp $KMEMLEAK /tmp/kmemleak.loaded
fi
check "rmmod rvs after fuzzing (datapaths present)" rmmod rvs
check_not "no rvs device left" sh -c "ip -o link show | grep -Eq ': (fz0|fzx|fzi[0-9]|fzg0|dp9)[:@]'"
check "ports released" sh -c "! ip link show fzv1 | grep -q master"

if [ -w $KMEMLEAK ]; then
    sleep 6; echo scan > $KMEMLEAK; sleep 1; echo scan > $KMEMLEAK
    cat $KMEMLEAK > /tmp/kmemleak.unloaded
    cp /tmp/kmemleak.loaded /tmp/kmemleak.unloaded "$RVS_OUT/" 2>/dev/null
    total=$(grep -c 'unreferenced object' /tmp/kmemleak.unloaded)
    # After the unload, rvs frames can no longer be symbolised: an unsymbolised frame is counted as rvs's too.
    ours=$(cat /tmp/kmemleak.loaded /tmp/kmemleak.unloaded | awk '/unreferenced object/{o=0} /\[rvs\]|\] 0x[0-9a-f]+$/{o=1} o' | head -n 60)
    echo "kmemleak: $total suspected leaks in total after unload"
    if [ -z "$ours" ]; then pass "kmemleak reports nothing from rvs"; else
        fail "kmemleak reports leaks from rvs:"; echo "$ours"; fi
else
    echo "(no kmemleak in this kernel: run with tools/vm/run --variant debug for the leak check)"
fi
for d in fzv1 fzv2 fzv3; do ip link del $d 2>/dev/null; done
finish

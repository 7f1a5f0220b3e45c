#!/bin/sh
# vm-test
# rvs.ko's flow table grows and shrinks: 200000 flows (20 masks x 10000) installed with ovs-dpctl add-flows and
# dumped back (ovs-dpctl and rvs-dpctl), exactly the installed set; traffic still hits the right flows in the full
# table; del-flows empties it and it grows again; del-dp and rmmod leave nothing behind (the VM runner fails the run
# on kmemleak/KASAN reports with the debug kernel).
#   tools/vm/run tests/kmod/flowtable.sh        (N=... sets the flows per mask; default 10000)
. "$RVS_REPO/tests/lib.sh"
for a in "$@"; do case $a in *=*) export "${a%%=*}=${a#*=}" ;; esac; done
N=${N:-10000}
MASKS=20
TOTAL=$((MASKS * N))
OUT=${RVS_OUT:-/tmp}/flowtable
mkdir -p "$OUT"
dpctl=$RVS_REPO/userspace/target/release/rvs-dpctl

insmod_rvs
check "add-dp dp0" ovs-dpctl add-dp dp0
netns_host h1 10.9.0.1/24 v1
netns_host h2 10.9.0.2/24 v2
check "add-if v1 v2" ovs-dpctl add-if dp0 v1 v2

# MASKS x N flows: mask m matches in_port, the IPv4 source on a /(12+m) prefix and the destination exactly.
python3 - "$MASKS" "$N" > "$OUT/flows.txt" <<'EOF'
import sys
masks, n = int(sys.argv[1]), int(sys.argv[2])
for m in range(masks):
    plen = 12 + m
    nm = ".".join(str((((1 << 32) - (1 << (32 - plen))) >> s) & 255) for s in (24, 16, 8, 0))
    for j in range(n):
        print(f"in_port(1),eth(),eth_type(0x0800),ipv4(src=11.0.0.0/{nm},dst=12.{m}.{j >> 8}.{j & 255}) 2")
EOF
# The expected (mask, destination) set, as dump-flows prints it.
sed 's/.*src=11.0.0.0\/\([0-9.]*\),dst=\([0-9.]*\)).*/\1 \2/' "$OUT/flows.txt" | sort > "$OUT/want.txt"

# Unreclaimable kernel memory in kB: flow chunks and bucket arrays are kvzalloc'ed, i.e. large kmallocs (counted in
# SUnreclaim since 5.x) or, when those fail, vmalloc.
used_kb() { awk '/^SUnreclaim:/ { s = $2 } /^VmallocUsed:/ { v = $2 } END { print s + v }' /proc/meminfo; }
vm0=$(used_kb)
t0=$(date +%s)
check "ovs-dpctl add-flows installs $TOTAL flows" ovs-dpctl add-flows dp0 "$OUT/flows.txt"
echo "installed in $(( $(date +%s) - t0 )) s"
vm1=$(used_kb)
echo "used memory: $vm0 kB before, $vm1 kB with $TOTAL flows"
# Each flow takes ~470 bytes of records and data plus its buckets: the table really grew.
[ $((vm1 - vm0)) -ge $((TOTAL * 4 / 10)) ] && pass "the table grew ($((vm1 - vm0)) kB)" \
    || fail "the table grew: only $((vm1 - vm0)) kB for $TOTAL flows"
show=$(ovs-dpctl show dp0)
echo "$show" | grep -E 'flows|masks'
case $show in *"flows: $TOTAL"*) pass "show counts $TOTAL flows" ;; *) fail "show counts $TOTAL flows: $show" ;; esac
case $show in *"masks: hit:"*"total:$MASKS "*) pass "show counts $MASKS masks" ;; *) fail "show counts $MASKS masks: $show" ;; esac

# dumped: FILE -> "(mask) (dst)" pairs of the dump, sorted.
dumped() {
    sed -n 's/.*src=11.0.0.0\/\([0-9.]*\),dst=\([0-9.]*\)[,)].*/\1 \2/p' "$1" | sort
}
ovs-dpctl dump-flows dp0 > "$OUT/ovs-dump.txt"
echo "ovs-dpctl dump-flows: $(wc -l < "$OUT/ovs-dump.txt") lines; first: $(head -1 "$OUT/ovs-dump.txt")"
dumped "$OUT/ovs-dump.txt" > "$OUT/ovs-got.txt"
check "ovs-dpctl dump-flows returns exactly the installed flows" cmp "$OUT/want.txt" "$OUT/ovs-got.txt"
if [ -x "$dpctl" ]; then
    "$dpctl" dump-flows dp0 > "$OUT/rvs-dump.txt"
    dumped "$OUT/rvs-dump.txt" > "$OUT/rvs-got.txt"
    check "rvs-dpctl dump-flows returns exactly the installed flows" cmp "$OUT/want.txt" "$OUT/rvs-got.txt"
else
    fail "rvs-dpctl built ($dpctl: cd userspace && cargo build --release)"
fi

# Traffic in the full table: ping flows on masks of their own, then a lookup must get past all 20 others.
for f in "in_port(1),eth(),eth_type(0x0806),arp() 2" "in_port(2),eth(),eth_type(0x0806),arp() 1" \
         "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.9.0.1,dst=10.9.0.2) 2" \
         "in_port(2),eth(),eth_type(0x0800),ipv4(src=10.9.0.2,dst=10.9.0.1) 1"; do
    # shellcheck disable=SC2086
    check "add-flow $f" ovs-dpctl add-flow dp0 $f
done
check "ping through the full table" ip netns exec h1 ping -c 3 -W 2 10.9.0.2
if ovs-dpctl dump-flows dp0 | grep -q 'src=10.9.0.1,dst=10.9.0.2.*packets:[1-9]'; then
    pass "the ping hit its own flow"
else
    fail "the ping hit its own flow: $(ovs-dpctl dump-flows dp0 | grep 10.9.0)"
fi
# One flow of mask 4 (/16), found by its key among all the others, deleted alone.
one="in_port(1),eth(),eth_type(0x0800),ipv4(src=11.0.0.0/255.255.0.0,dst=12.4.0.7)"
check "del-flow of one flow among $TOTAL" ovs-dpctl del-flow dp0 "$one"
ovs-dpctl dump-flows dp0 > "$OUT/ovs-dump1.txt"
n=$(grep -c 'src=11.0.0.0' "$OUT/ovs-dump1.txt")
[ "$n" = $((TOTAL - 1)) ] && pass "one flow fewer after del-flow ($n)" || fail "one flow fewer after del-flow: $n"
check_not "the deleted flow is gone from the dump" grep -q 'src=11.0.0.0/255.255.0.0,dst=12.4.0.7,' "$OUT/ovs-dump1.txt"

check "del-flows empties the table" ovs-dpctl del-flows dp0
show=$(ovs-dpctl show dp0)
case $show in *"flows: 0"*) pass "show counts 0 flows after del-flows" ;; *) fail "0 flows after del-flows: $show" ;; esac
[ "$(ovs-dpctl dump-flows dp0 | wc -l)" = 0 ] && pass "dump is empty" || fail "dump is empty"
sleep 1  # the actions blobs go with kfree_rcu
vm2=$(used_kb)
echo "used memory: $vm2 kB after del-flows"
# Flow chunks and bucket arrays go back at the flush; what may stay is slab pages kept partly used by other
# objects after the small per-flow actions blobs were freed (kmemleak on the debug kernel checks for real leaks).
[ $((vm2 - vm0)) -le $(( (vm1 - vm0) / 20 + 1024 )) ] && pass "the memory went back at the flush ($((vm2 - vm0)) kB left of $((vm1 - vm0)))" \
    || fail "the memory went back at the flush: $((vm2 - vm0)) kB of $((vm1 - vm0)) still used"

# And grows again (the memory was given back at the flush).
head -n $((TOTAL / 4)) "$OUT/flows.txt" > "$OUT/quarter.txt"
check "add-flows again after the flush" ovs-dpctl add-flows dp0 "$OUT/quarter.txt"
sed 's/.*src=11.0.0.0\/\([0-9.]*\),dst=\([0-9.]*\)).*/\1 \2/' "$OUT/quarter.txt" | sort > "$OUT/want2.txt"
ovs-dpctl dump-flows dp0 > "$OUT/ovs-dump2.txt"
dumped "$OUT/ovs-dump2.txt" > "$OUT/ovs-got2.txt"
check "the regrown table dumps exactly its flows" cmp "$OUT/want2.txt" "$OUT/ovs-got2.txt"

check "del-dp with $((TOTAL / 4)) flows" ovs-dpctl del-dp dp0
check "rmmod rvs" rmmod rvs
finish

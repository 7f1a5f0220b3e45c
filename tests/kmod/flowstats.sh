#!/bin/sh
# vm-test
# Flow statistics on rvs.ko with ovs-dpctl: per-CPU counters (allocated lazily on a CPU's first hit) add up to the
# exact number of packets, from every CPU the guest has; mod-flow --clear zeroes them; a flow installed in a
# recycled slot starts from zero; datapath hit/miss statistics count. OVS_PACKET_CMD_EXECUTE (no global lock) is
# covered by upcall.sh.
. "$RVS_REPO/tests/lib.sh"

# pkts FLOW-PREFIX: the packet count dump-flows shows for the flow whose text starts with FLOW-PREFIX.
pkts() {
    ovs-dpctl dump-flows dp0 | grep -F "$1" | head -1 | sed -n 's/.*packets:\([0-9]*\).*/\1/p'
}

insmod_rvs
check "add-dp" ovs-dpctl add-dp dp0
netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
check "add-if v1" ovs-dpctl add-if dp0 v1
check "add-if v2" ovs-dpctl add-if dp0 v2
F1="in_port(1),eth(),eth_type(0x0800),ipv4()"
for f in "$F1 2" "in_port(2),eth(),eth_type(0x0800),ipv4() 1" \
         "in_port(1),eth(),eth_type(0x0806),arp() 2" "in_port(2),eth(),eth_type(0x0806),arp() 1"; do
    # shellcheck disable=SC2086
    check "add-flow $f" ovs-dpctl add-flow dp0 $f
done
ncpu=$(nproc)
total=0
cpu=0
while [ $cpu -lt "$ncpu" ] && [ $cpu -lt 4 ]; do
    check "5 pings from CPU $cpu" taskset -c $cpu ip netns exec h1 ping -c 5 -i 0.2 -W 2 10.0.0.2
    total=$((total + 5))
    cpu=$((cpu + 1))
done
n=$(pkts "in_port(1),eth(),eth_type(0x0800)")
check "the flow counted every echo request from $cpu CPU(s) ($n = $total)" test "$n" = "$total"
check "mod-flow --clear" ovs-dpctl mod-flow --clear dp0 "$F1" 2
n=$(pkts "in_port(1),eth(),eth_type(0x0800)")
check "cleared statistics read 0 ($n)" test "$n" = 0
check "2 pings" ip netns exec h1 ping -c 2 -i 0.2 -W 2 10.0.0.2
n=$(pkts "in_port(1),eth(),eth_type(0x0800)")
check "counting resumes after a clear ($n = 2)" test "$n" = 2
check "del-flow" ovs-dpctl del-flow dp0 "$F1"
check "add-flow again (recycled slot)" ovs-dpctl add-flow dp0 "$F1" 2
n=$(pkts "in_port(1),eth(),eth_type(0x0800)")
check "a new flow starts at 0 packets ($n)" test "$n" = 0
check "1 ping" ip netns exec h1 ping -c 1 -W 2 10.0.0.2
n=$(pkts "in_port(1),eth(),eth_type(0x0800)")
check "the new flow counts its own packets ($n = 1)" test "$n" = 1
stats=$(ovs-dpctl show dp0)
case $stats in *"lookups: hit:"[1-9]*) pass "datapath hit statistics count" ;; *) fail "hit statistics: $stats" ;; esac
check "del-dp" ovs-dpctl del-dp dp0
check "rmmod rvs" rmmod rvs
finish

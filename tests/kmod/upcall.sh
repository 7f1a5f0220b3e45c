#!/bin/sh
# vm-test
# Upcalls and OVS_PACKET_CMD_EXECUTE on rvs.ko, with a raw generic netlink client (tests/kmod/lib/upcall.py) in the
# role of ovs-vswitchd's handler: per-CPU upcall dispatch, a miss upcall for a packet without a flow (checked
# attribute by attribute), the packet executed back with output to the other port and seen there.
. "$RVS_REPO/tests/lib.sh"

insmod_rvs
check "add-dp" ovs-dpctl add-dp dp0
netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
check "add-if v1" ovs-dpctl add-if dp0 v1
check "add-if v2" ovs-dpctl add-if dp0 v2
before=$(ip netns exec h2 cat /sys/class/net/eth0/statistics/rx_packets)
if python3 "$RVS_REPO/tests/kmod/lib/upcall.py" dp0 2 "ip netns exec h1 ping -c 1 -W 1 10.0.0.2"; then
    pass "upcall client"
else
    fail "upcall client"
fi
sleep 1
after=$(ip netns exec h2 cat /sys/class/net/eth0/statistics/rx_packets)
check "the executed packet reached h2" test "$after" -gt "$before"
stats=$(ovs-dpctl show dp0)
# Misses before the client registered (and after it left) have no reader: they count as lost, not as errors.
case $stats in *"missed:"[1-9]*"lost:"*) pass "misses are counted" ;; *) fail "misses are counted: $stats" ;; esac
check "del-dp" ovs-dpctl del-dp dp0
check "rmmod rvs" rmmod rvs
finish

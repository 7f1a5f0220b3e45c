#!/bin/sh
# vm-test
# ovs-dpctl (Open vSwitch 3.1, unmodified) against rvs.ko: a datapath with two veth ports whose peers sit in two
# network namespaces, static flows both ways, forwarding, flow statistics, flow deletion, datapath deletion; then
# the generic netlink family conflict with openvswitch.ko in both directions.
. "$RVS_REPO/tests/lib.sh"

insmod_rvs
for f in ovs_datapath ovs_vport ovs_flow ovs_packet ovs_meter; do
    check "generic netlink family $f registered" genl ctrl get name "$f"
done

check "ovs-dpctl add-dp dp0" ovs-dpctl add-dp dp0
check "internal port dp0 exists" ip link show dp0
check_not "second add-dp dp0 fails (EEXIST)" ovs-dpctl add-dp dp0
netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
check "add-if v1" ovs-dpctl add-if dp0 v1
check "add-if v2" ovs-dpctl add-if dp0 v2
check_not "add-if of a missing device fails" ovs-dpctl add-if dp0 nosuchdev
show=$(ovs-dpctl show dp0 2>&1)
echo "$show"
case $show in *"port 0: dp0 (internal)"*"port 1: v1"*"port 2: v2"*) pass "show lists the three ports" ;;
    *) fail "show lists the three ports: $show" ;; esac
check "v1 is enslaved to dp0" sh -c "ip link show v1 | grep -q 'master dp0'"

check_not "ping fails without flows" ip netns exec h1 ping -c 1 -W 1 10.0.0.2
for f in "in_port(1),eth(),eth_type(0x0800),ipv4() 2" "in_port(2),eth(),eth_type(0x0800),ipv4() 1" \
         "in_port(1),eth(),eth_type(0x0806),arp() 2" "in_port(2),eth(),eth_type(0x0806),arp() 1"; do
    # shellcheck disable=SC2086
    check "add-flow $f" ovs-dpctl add-flow dp0 $f
done
check_not "adding the same flow again fails" ovs-dpctl add-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4()" 2
check "ping h1 -> h2 through rvs.ko" ip netns exec h1 ping -c 3 -W 2 10.0.0.2
check "ping h2 -> h1 through rvs.ko" ip netns exec h2 ping -c 2 -W 2 10.0.0.1
flows=$(ovs-dpctl dump-flows dp0 2>&1)
echo "$flows"
if echo "$flows" | grep -q 'in_port(1),eth(),eth_type(0x0800).*packets:[1-9].*actions:2'; then
    pass "dump-flows shows packet counts"
else
    fail "dump-flows shows packet counts: $flows"
fi
check "mod-flow changes the actions" ovs-dpctl mod-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4()" 2
stats=$(ovs-dpctl show dp0)
case $stats in *"lookups: hit:"[1-9]*) pass "datapath hit statistics count" ;; *) fail "hit statistics: $stats" ;; esac
case $stats in *"flows: 4"*) pass "flow count is 4" ;; *) fail "flow count: $stats" ;; esac

check "del-flow" ovs-dpctl del-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4()"
check_not "the deleted flow is gone" sh -c "ovs-dpctl dump-flows dp0 | grep -q 'in_port(1),eth(),eth_type(0x0800)'"
check "the other flows stay" sh -c "ovs-dpctl dump-flows dp0 | grep -q 'in_port(2),eth(),eth_type(0x0800)'"
check_not "ping fails after del-flow" ip netns exec h1 ping -c 2 -W 1 10.0.0.2
check "del-flows" ovs-dpctl del-flows dp0
case $(ovs-dpctl dump-flows dp0) in "") pass "no flows left" ;; *) fail "flows left after del-flows" ;; esac

check "del-if v2" ovs-dpctl del-if dp0 v2
check_not "v2 released" sh -c "ip link show v2 | grep -q 'master dp0'"
check "del-dp" ovs-dpctl del-dp dp0
check_not "internal port gone" ip link show dp0
check_not "v1 released" sh -c "ip link show v1 | grep -q master"
check_not "no datapath left" sh -c "ovs-dpctl dump-dps | grep -q ."

# A port whose device disappears is removed (netdevice notifier + work item).
check "add-dp again" ovs-dpctl add-dp dp1
check "add-if v1" ovs-dpctl add-if dp1 v1
ip netns del h1
RVS_NETNS=${RVS_NETNS# h1}
sleep 1
case $(ovs-dpctl show dp1) in *"v1"*) fail "port of a deleted device removed" ;; *) pass "port of a deleted device removed" ;; esac
check "rmmod with a datapath present" rmmod rvs
check_not "datapath gone with the module" ip link show dp1

# The upstream module and rvs.ko cannot both hold the families.
if modprobe -d "$RVS_KDIR/modroot" openvswitch 2>/dev/null; then
    check_not "insmod rvs.ko while openvswitch.ko is loaded fails" insmod "$RVS_KO"
    check "the failure names the conflict" dmesg_has "rvs: generic netlink family ovs_[a-z]+ is already registered: is openvswitch.ko loaded"
    rmmod openvswitch
    check "insmod rvs.ko" insmod "$RVS_KO"
    # modprobe itself reports success when init_module fails with EEXIST: look at the module list.
    modprobe -d "$RVS_KDIR/modroot" openvswitch 2>/dev/null
    check_not "openvswitch.ko cannot load while rvs.ko is loaded" grep -q '^openvswitch ' /proc/modules
    check "rmmod rvs" rmmod rvs
else
    fail "openvswitch.ko loads (reference peer)"
fi
finish

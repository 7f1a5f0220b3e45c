#!/bin/bash
# vm-test
# Unmodified ovs-vswitchd + ovsdb-server + ovs-vsctl (Open vSwitch 3.1, host binaries) driving rvs.ko, then the
# upstream openvswitch.ko in the same run as the reference: bridge creation, ports, datapath feature probes (which
# must come out the same for both modules), NORMAL forwarding between two netns hosts, and VLANs: access ports of
# VLAN 10 and 20 isolated from each other, a trunk port getting tagged frames.
# (The "fcntl: Protocol not supported" error in its log is NETLINK_NETFILTER missing from the test kernel:
# conntrack only.)
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/kmod/lib/ovs.sh"

D=/tmp/ovs
V="ovs-vsctl --db=unix:$D/db.sock --timeout=20"

# ping_ok NAME NS ADDR: NS reaches ADDR (a few tries: flows of the old port configuration are revalidated away
# asynchronously after a ovs-vsctl change).
ping_ok() {
    n=0
    while [ $n -lt 5 ]; do
        ip netns exec "$2" ping -c 1 -W 1 "$3" >/dev/null 2>&1 && { pass "$1"; return; }
        n=$((n + 1))
    done
    fail "$1: $2 cannot reach $3"
}

# vlans MOD: VLAN access ports and a trunk on br0 (v1, v2 exist). v1 and v2 become access ports of VLAN 10, v3 (h3)
# an access port of VLAN 20, v4 a trunk carrying VLAN 10 whose host h4 sits on eth0.10. Same-VLAN hosts reach each
# other, VLAN 20 is isolated from VLAN 10; frames to the trunk get a pushed 802.1Q tag 10 (checked on the wire) and
# tagged frames from it are popped for the access ports.
vlans() {
    mod=$1
    netns_host h3 10.0.0.3/24 v3
    netns_host h4 10.0.0.40/24 v4
    ip -n h4 addr flush dev eth0
    ip -n h4 link add link eth0 name eth0.10 type vlan id 10
    ip -n h4 addr add 10.0.0.4/24 dev eth0.10
    ip -n h4 link set eth0.10 up
    check "$mod: set v1 tag=10" $V set port v1 tag=10
    check "$mod: set v2 tag=10" $V set port v2 tag=10
    check "$mod: add-port v3 tag=20" $V add-port br0 v3 tag=20
    check "$mod: add-port v4 trunks=10" $V add-port br0 v4 trunks=10
    sleep 1
    ping_ok "$mod: VLAN 10 access h1 -> h2" h1 10.0.0.2
    check_not "$mod: VLAN 20 h3 cannot reach VLAN 10 h1" ip netns exec h3 ping -c 2 -W 1 10.0.0.1
    check_not "$mod: VLAN 10 h2 cannot reach VLAN 20 h3" ip netns exec h2 ping -c 2 -W 1 10.0.0.3
    ip -n h4 link set eth0 promisc on
    ip netns exec h4 tcpdump -l -n -e -i eth0 -c 2 vlan 10 and icmp > /tmp/vlan-$mod.txt 2>/dev/null &
    tcpdump_pid=$!
    sleep 1
    ping_ok "$mod: access h1 -> trunk h4 (push_vlan, pop_vlan)" h1 10.0.0.4
    sleep 1
    kill $tcpdump_pid 2>/dev/null; wait $tcpdump_pid 2>/dev/null
    check "$mod: frames on the trunk carry 802.1Q tag 10" grep -q "vlan 10" /tmp/vlan-$mod.txt
    check_not "$mod: VLAN 20 h3 cannot reach trunk h4" ip netns exec h3 ping -c 2 -W 1 10.0.0.4
    flows=$(ovs-dpctl dump-flows 2>&1)
    echo "$flows" > "$RVS_OUT/vlan-flows-$mod.txt" 2>/dev/null
    case $flows in *"push_vlan(vid=10"*) pass "$mod: a datapath flow pushes VLAN 10" ;;
        *) fail "$mod: a datapath flow pushes VLAN 10: $flows" ;; esac
    case $flows in *"pop_vlan"*) pass "$mod: a datapath flow pops the VLAN tag" ;;
        *) fail "$mod: a datapath flow pops the VLAN tag: $flows" ;; esac
}

# scenario NAME: bridge br0 with v1 and v2, probes saved in $D/../probes-NAME.
scenario() {
    mod=$1
    ovs_start $D
    check "$mod: add-br br0" $V add-br br0
    netns_host h1 10.0.0.1/24 v1
    netns_host h2 10.0.0.2/24 v2
    check "$mod: add-port v1" $V add-port br0 v1
    check "$mod: add-port v2" $V add-port br0 v2
    sleep 1
    show=$(ovs-dpctl show 2>&1)
    case $show in *"port 0: ovs-system (internal)"*"br0 (internal)"*"v1"*"v2"*) pass "$mod: datapath has the bridge ports" ;;
        *) fail "$mod: datapath has the bridge ports: $show" ;; esac
    grep -o 'ofproto_dpif|INFO|system@ovs-system: .*' $D/vswitchd.log | sort -u > /tmp/probes-$mod
    check "$mod: datapath feature probes ran" grep -q "Datapath supports recirculation" /tmp/probes-$mod
    check_not "$mod: ovs-vswitchd runs upcall handlers" grep -q "Overriding n-handler-threads to 0" $D/vswitchd.log
    check "$mod: NORMAL forwarding h1 -> h2" ip netns exec h1 ping -c 3 -W 2 10.0.0.2
    vlans "$mod"
    cp $D/vswitchd.log "$RVS_OUT/vswitchd-$mod.log" 2>/dev/null
    $V del-br br0
    ovs_stop $D
    cleanup_netns
}

insmod_rvs
scenario rvs
check "rmmod rvs" rmmod rvs

if load_reference; then
    scenario openvswitch
    rmmod openvswitch
    # Features rvs.ko does not implement yet (the shared core has no MPLS or ct_* actions); any other difference
    # fails (check_pkt_len is implemented and probed alike).
    known='add_mpls action
ct_clear action
ct_orig_tuple
ct_orig_tuple6
MPLS label stack length'
    norm() { sed -e 's/.*system@ovs-system: //' -e 's/^Datapath supports //' -e 's/^Datapath does not support //' \
                 -e 's/ probed as .*//' "$1" | sort -u; }
    differ=$(diff /tmp/probes-openvswitch /tmp/probes-rvs | sed -n 's/^[<>] //p' > /tmp/probes-diff; \
             norm /tmp/probes-diff)
    echo "feature probes that differ: $(echo "$differ" | tr '\n' ';')"
    if [ "$differ" = "$(echo "$known" | sort -u)" ]; then
        pass "ovs-vswitchd probes the same datapath features on rvs.ko and openvswitch.ko (except the known gaps)"
    else
        diff /tmp/probes-openvswitch /tmp/probes-rvs
        fail "ovs-vswitchd feature probes differ beyond the known gaps"
    fi
fi
finish

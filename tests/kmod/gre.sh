#!/bin/bash
# vm-test
# GRE tunnels through ovs-vswitchd (Open vSwitch 3.1, unmodified) on rvs.ko, then on openvswitch.ko as the reference,
# in the same run. Two "hypervisors" (netns hv1, hv2) joined by an underlay veth (192.168.100.1 <-> .2), each with
# its own ovsdb-server + ovs-vswitchd, a bridge br0, a host port (a netns host behind a veth) and a GRE port
# (type=gre, options:remote_ip, options:key=5). ovs-vswitchd creates the collect_md gretap device (gre_sys) over
# rtnetlink and attaches it as a netdev port; the datapath fills the flow key's tunnel fields from the received
# packet's tunnel metadata and implements set(tunnel(...)) with a metadata dst. Checked: the hosts ping each other,
# the underlay carries GRE with key 5, the datapath flows match tunnel(tun_id=0x5,...) and set the tunnel.
# Then OVS_VPORT_TYPE_GRE (the compat port type: rvs.ko creates the gretap device itself) over raw generic netlink.
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/kmod/lib/ovs.sh"

# hv N: runs a command in hypervisor N's namespace with its own OVS run directory.
hv() {
    n=$1; shift
    ip netns exec "hv$n" env OVS_RUNDIR=/tmp/hv$n OVS_DBDIR=/tmp/hv$n OVS_LOGDIR=/tmp/hv$n "$@"
}
vsctl() {
    n=$1; shift
    hv "$n" ovs-vsctl --db=unix:/tmp/hv$n/db.sock --timeout=20 "$@"
}

topology() {
    for n in 1 2; do
        ip netns add hv$n
        ip netns add h$n
        RVS_NETNS="$RVS_NETNS hv$n h$n"
        ip -n hv$n link set lo up
        ip -n h$n link set lo up
        # Host h<n> (10.0.0.<n>) behind port p<n> of hv<n>.
        ip link add p$n type veth peer name eth0 netns h$n
        ip link set p$n netns hv$n
        ip -n hv$n link set p$n up
        ip -n h$n addr add 10.0.0.$n/24 dev eth0
        ip -n h$n link set eth0 up
    done
    ip link add u1 type veth peer name u2
    ip link set u1 netns hv1
    ip link set u2 netns hv2
    for n in 1 2; do
        ip -n hv$n addr add 192.168.100.$n/24 dev u$n
        ip -n hv$n link set u$n up
    done
}

scenario() {
    mod=$1
    topology
    ovs_start /tmp/hv1 hv 1
    ovs_start /tmp/hv2 hv 2
    for n in 1 2; do
        r=$((3 - n))
        check "$mod: hv$n add-br br0" vsctl $n add-br br0
        check "$mod: hv$n add-port p$n" vsctl $n add-port br0 p$n
        check "$mod: hv$n add-port gre0 type=gre remote_ip=192.168.100.$r key=5" vsctl $n add-port br0 gre0 -- \
            set interface gre0 type=gre options:remote_ip=192.168.100.$r options:key=5
    done
    sleep 2
    show=$(hv 1 ovs-dpctl show 2>&1)
    echo "$show"
    case $show in *"gre_sys"*) pass "$mod: ovs-vswitchd attached its gretap device gre_sys" ;;
        *) fail "$mod: gre_sys attached: $show" ;; esac
    check "$mod: gre_sys is a collect_md (external) gretap device" \
        sh -c "ip -d -n hv1 link show gre_sys | grep -q 'gretap external'"
    hv 1 tcpdump -l -n -i u1 -c 100 'ip proto 47' > /tmp/gre-$mod.txt 2>/dev/null &
    tcpdump_pid=$!
    sleep 1
    check "$mod: h1 -> h2 across the GRE tunnel" ip netns exec h1 ping -c 3 -W 2 10.0.0.2
    check "$mod: h2 -> h1 across the GRE tunnel" ip netns exec h2 ping -c 2 -W 2 10.0.0.1
    sleep 1
    kill $tcpdump_pid 2>/dev/null; wait $tcpdump_pid 2>/dev/null
    cat /tmp/gre-$mod.txt
    check "$mod: the underlay carries GRE with key 5" grep -q "GREv0, key=0x5, .*10.0.0.1 > 10.0.0.2: ICMP echo request" /tmp/gre-$mod.txt
    flows=$(hv 1 ovs-dpctl dump-flows 2>&1)
    echo "$flows"
    case $flows in *"tunnel(tun_id=0x5,src=192.168.100.2,dst=192.168.100.1"*) pass "$mod: flows match the tunnel key" ;;
        *) fail "$mod: flows match the tunnel key: $flows" ;; esac
    case $flows in *"set(tunnel(tun_id=0x5,dst=192.168.100.2"*) pass "$mod: flows set the tunnel" ;;
        *) fail "$mod: flows set the tunnel: $flows" ;; esac
    for n in 1 2; do
        cp /tmp/hv$n/vswitchd.log "$RVS_OUT/gre-vswitchd-$mod-hv$n.log" 2>/dev/null
        vsctl $n del-br br0
        ovs_stop /tmp/hv$n hv $n
    done
    cleanup_netns
}

# OVS_VPORT_TYPE_GRE: the port type ovs-vswitchd falls back to when it cannot create the tunnel device itself.
check_compat_gre() {
    check "$mod: add-dp dp0" ovs-dpctl add-dp dp0
    if python3 "$RVS_REPO/tests/kmod/lib/vport_gre.py" dp0 gre1; then pass "$mod: OVS_VPORT_TYPE_GRE port"; else
        fail "$mod: OVS_VPORT_TYPE_GRE port"; fi
    check_not "$mod: deleting the port deleted its gretap device" ip link show gre1
    # The device deleted under the port: the port goes away with it (netdevice notifier), nothing leaks or hangs.
    if python3 "$RVS_REPO/tests/kmod/lib/vport_gre.py" dp0 gre2 keep; then pass "$mod: second GRE port"; else
        fail "$mod: second GRE port"; fi
    check "$mod: ip link del of a GRE port's device" ip link del gre2
    sleep 1
    check_not "$mod: the port of the deleted device is gone" sh -c "ovs-dpctl show dp0 | grep -q gre2"
    check "$mod: del-dp" ovs-dpctl del-dp dp0
}

insmod_rvs
scenario rvs

check_compat_gre
check "rmmod rvs" rmmod rvs

if load_reference; then
    scenario openvswitch
    modprobe -d "$RVS_KDIR/modroot" vport_gre
    check_compat_gre
    rmmod vport_gre
    rmmod openvswitch
fi
finish

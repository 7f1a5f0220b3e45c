#!/bin/bash
# vm-test
# GRE ports in rvs-vswitchd on rvs.ko, the scenario of tests/kmod/gre.sh with rvs-vswitchd + rvs-vsctl instead of
# ovs-vswitchd: two "hypervisor" namespaces, each with its own rvs-vswitchd, a bridge with a host port and a GRE port
# (type=gre options:remote_ip=... options:key=5) over a veth underlay. Checked: one shared collect-metadata gretap
# datapath port (gre_sys), the hosts ping across the tunnel, the underlay carries GRE with key 5, flows match the
# tunnel key on receive and set(tunnel(...)) on send, NORMAL learns the remote MAC on the GRE port, a key mismatch
# stops traffic, bad options give an error. Then the same on openvswitch.ko.
#   tools/vm/run --arch um tests/vswitchd/gre-kernel.sh
# Build first on the host: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl) and
# tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}

hvrun() { n=$1; shift; ip netns exec "grehv$n" env RVS_RUN_DIR=/tmp/grehv$n "$@"; }
VS() { n=$1; shift; hvrun "$n" "$bin/rvs-vsctl" --db=unix:/tmp/grehv$n/db.sock --timeout=20 "$@"; }
AP() { n=$1; shift; hvrun "$n" "$bin/rvs-appctl" "$@"; }

topology() {
    for n in 1 2; do
        ip netns add grehv$n; ip netns add greh$n
        RVS_NETNS="$RVS_NETNS grehv$n greh$n"
        ip -n grehv$n link set lo up; ip -n greh$n link set lo up
        ip link add grep$n type veth peer name eth0 netns greh$n
        ip link set grep$n netns grehv$n
        ip -n grehv$n link set grep$n up
        ip -n greh$n addr add 10.63.0.$n/24 dev eth0
        ip -n greh$n link set eth0 up
        ip netns exec greh$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    done
    ip link add greu1 type veth peer name greu2
    ip link set greu1 netns grehv1; ip link set greu2 netns grehv2
    for n in 1 2; do
        ip -n grehv$n addr add 192.168.163.$n/24 dev greu$n
        ip -n grehv$n link set greu$n up
    done
}

stop_all() {
    for n in 1 2; do
        [ -e /tmp/grehv$n/rvs-vswitchd.pid ] && AP $n exit --cleanup >/dev/null 2>&1
        i=0; while [ -e /tmp/grehv$n/rvs-vswitchd.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    done
}

scenario() {
    mod=$1
    topology
    for n in 1 2; do
        rm -rf /tmp/grehv$n; mkdir -p /tmp/grehv$n
        check "$mod: hv$n: rvs-vswitchd starts" hvrun $n "$bin/rvs-vswitchd" --db-file=/tmp/grehv$n/conf.db --detach --pidfile --log-file=/tmp/grehv$n/vswitchd.log
        r=$((3 - n))
        check "$mod: hv$n: add-br br0, add-port grep$n, add-port gre0 type=gre remote_ip=192.168.163.$r key=5" \
            VS $n add-br br0 -- add-port br0 grep$n -- add-port br0 gre0 -- \
            set interface gre0 type=gre options:remote_ip=192.168.163.$r options:key=5
    done
    AP 1 dpif/show | tee /tmp/gre-show.txt
    ip netns exec grehv1 ovs-dpctl show | tee /tmp/gre-dpshow.txt
    check "$mod: one shared GRE datapath port gre_sys" test "$(grep -c '(gre' /tmp/gre-dpshow.txt) $(grep -c 'gre_sys (gre' /tmp/gre-dpshow.txt)" = "1 1"
    ofgre=$(VS 1 get interface gre0 ofport)
    check "$mod: gre0 has an OpenFlow port and no error" test "$ofgre $(VS 1 get interface gre0 error)" = "1 []"
    check "$mod: gre_sys is a collect_md (external) gretap device" sh -c "ip -d -n grehv1 link show gre_sys | grep -q 'gretap external'"
    ip netns exec grehv1 tcpdump --immediate-mode -l -n -i greu1 -c 100 'ip proto 47' >/tmp/gre-u.txt 2>/dev/null &
    tp=$!
    sleep 1
    check "$mod: h1 -> h2 across the GRE tunnel" ip netns exec greh1 ping -c 3 -i 0.3 -W 2 10.63.0.2
    check "$mod: h2 -> h1 across the GRE tunnel" ip netns exec greh2 ping -c 2 -i 0.3 -W 2 10.63.0.1
    sleep 1
    kill $tp 2>/dev/null; wait $tp 2>/dev/null
    head -4 /tmp/gre-u.txt
    check "$mod: the underlay carries GRE with key 5" grep -q "GREv0, key=0x5, .*10.63.0.1 > 10.63.0.2: ICMP echo request" /tmp/gre-u.txt
    ip netns exec grehv1 ovs-dpctl dump-flows >/tmp/gre-flows.txt 2>&1; cat /tmp/gre-flows.txt
    check "$mod: flows match the tunnel (key, remote, local)" grep -q "tunnel(tun_id=0x5,src=192.168.163.2,dst=192.168.163.1" /tmp/gre-flows.txt
    check "$mod: flows set the tunnel" grep -q "set(tunnel(tun_id=0x5,dst=192.168.163.2,ttl=64" /tmp/gre-flows.txt
    mac2=$(ip -n greh2 -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    AP 1 fdb/show br0 | tee /tmp/gre-fdb.txt
    check "$mod: NORMAL learned h2's MAC on the GRE port" grep -Eq "^ +$ofgre +0  $mac2 " /tmp/gre-fdb.txt
    check "$mod: hv2 changes its key to 6" VS 2 set interface gre0 options:key=6
    check "$mod: key mismatch: no traffic" sh -c "! ip netns exec greh1 ping -c 2 -i 0.3 -W 1 10.63.0.2"
    check "$mod: hv2 back to key 5" VS 2 set interface gre0 options:key=5
    check "$mod: traffic again" ip netns exec greh1 ping -c 2 -i 0.3 -W 2 10.63.0.2
    VS 1 add-port br0 gre9 -- set interface gre9 type=gre options:remote_ip=bogus >/dev/null 2>&1
    check "$mod: a bad remote_ip gives an error" sh -c "$(printf '%q ' ip netns exec grehv1 env RVS_RUN_DIR=/tmp/grehv1 "$bin/rvs-vsctl" --db=unix:/tmp/grehv1/db.sock get interface gre9 error) | grep -q 'not an IPv4 address'"
    stop_all
    check "$mod: no datapath left behind" sh -c "! ip netns exec grehv1 ovs-dpctl show ovs-system >/dev/null 2>&1"
    if [ "$RVS_FAILED" != 0 ]; then tail -20 /tmp/grehv1/vswitchd.log; fi
    cleanup_netns
}

if [ -f "${RVS_KO:-}" ]; then
    if check "insmod rvs.ko" insmod "$RVS_KO"; then
        scenario rvs
        check "rmmod rvs" rmmod rvs
    fi
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if modprobe -d "$RVS_KDIR/modroot" openvswitch && modprobe -d "$RVS_KDIR/modroot" vport-gre; then
    scenario openvswitch
    rmmod vport_gre openvswitch
else
    fail "openvswitch.ko loads (reference peer)"
fi
finish

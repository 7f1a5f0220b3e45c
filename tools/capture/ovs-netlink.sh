#!/bin/bash
# Capture the generic netlink traffic of real Open vSwitch tools driving the upstream openvswitch.ko, for rvs's codec
# test vectors. Runs inside a test kernel (needs CONFIG_NLMON):
#   tools/vm/run --timeout 200 tools/capture/ovs-netlink.sh
#   tools/capture/pcap-to-vectors.py build/vm/<run>/ovs-netlink.pcap userspace/core/tests/vectors/
# Scenario: ovs-dpctl datapath/port/flow commands with a range of keys, masks and actions; then ovs-vswitchd with a
# NORMAL bridge and a VLAN access port forwarding pings, so the capture holds the megaflows (with masks and UFIDs),
# upcalls, executes and dumps that ovs-vswitchd 3.1 really sends and the kernel really replies.
set -u
modprobe -d "$RVS_KDIR/modroot" openvswitch
ip link add nlmon0 type nlmon && ip link set nlmon0 up
tcpdump -i nlmon0 -s 0 -U -w "$RVS_OUT/ovs-netlink.pcap" 2>/dev/null &
tcpdump_pid=$!
sleep 1

for ns in h1 h2; do ip netns add $ns; done
ip link add v1 type veth peer name eth0 netns h1
ip link add v2 type veth peer name eth0 netns h2
ip -n h1 addr add 10.0.0.1/24 dev eth0; ip -n h2 addr add 10.0.0.2/24 dev eth0
ip -n h1 -6 addr add fd00::1/64 dev eth0 nodad; ip -n h2 -6 addr add fd00::2/64 dev eth0 nodad
for ns in h1 h2; do ip -n $ns link set eth0 up; ip -n $ns link set lo up; done
ip link set v1 up; ip link set v2 up

d=ovs-dpctl
$d add-dp dp0
$d add-if dp0 v1 v2
$d add-flow dp0 "in_port(1),eth(),eth_type(0x0806),arp()" 2
$d add-flow dp0 "in_port(2),eth(),eth_type(0x0806),arp()" 1
$d add-flow dp0 "in_port(1),eth(src=00:00:00:00:00:01/ff:ff:ff:00:00:00,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)" "set(ipv4(ttl=63)),2"
$d add-flow dp0 "in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,frag=no)" "push_vlan(vid=10,pcp=3),pop_vlan,1"
$d add-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80),tcp_flags(0x002/0x002)" "set(eth(src=02:00:00:00:00:aa,dst=02:00:00:00:00:bb)),userspace(pid=4242,userdata(0102030405060708)),2"
$d add-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=53)" "sample(sample=50.0%,actions(2)),clone(1),recirc(0x7)"
$d add-flow dp0 "recirc_id(0x7),dp_hash(0x1/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(frag=later)" "hash(l4(0)),trunc(100),2"
$d add-flow dp0 "in_port(1),eth(),eth_type(0x86dd),ipv6(src=fd00::1,dst=fd00::2/ffff:ffff::,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fd00::2,sll=00:00:00:00:00:01)" 2
$d add-flow dp0 "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no))" "pop_vlan,1"
$d add-flow dp0 "skb_priority(0x3),skb_mark(0x10/0xff),in_port(2),eth(),eth_type(0x0800),ipv4(proto=132,frag=no),sctp(dst=9)" "set(skb_mark(0x5)),1"
$d mod-flow dp0 "in_port(1),eth(),eth_type(0x0806),arp()" "2,1"
ip netns exec h1 ping -c 2 -W 1 10.0.0.2 >/dev/null
$d dump-flows dp0 >/dev/null
$d show dp0 >/dev/null
$d del-flow dp0 "in_port(2),eth(),eth_type(0x0806),arp()"
$d del-flows dp0
$d del-if dp0 v2
$d del-dp dp0

# ovs-vswitchd: NORMAL + a VLAN access port. OVS 3.1 computes its CPU count only after its monotonic clock passes
# 10 s (count_cpu_cores): wait so it runs upcall handlers.
while [ "$(cut -d. -f1 /proc/uptime)" -lt 11 ]; do sleep 1; done
D=/tmp/ovs; mkdir -p $D /var/run/openvswitch
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $D/conf.db --remote=punix:$D/db.sock --pidfile=$D/ovsdb.pid --detach --log-file=$D/ovsdb.log
V="ovs-vsctl --db=unix:$D/db.sock --timeout=20"
$V --no-wait init
ovs-vswitchd unix:$D/db.sock --pidfile=$D/vswitchd.pid --detach --log-file=$D/vswitchd.log
$V add-br br0 -- add-port br0 v1 -- add-port br0 v2
sleep 2
ip netns exec h1 ping -c 3 -W 1 10.0.0.2 >/dev/null
ip netns exec h1 ping6 -c 2 -W 1 fd00::2 >/dev/null
$V set port v1 tag=10 -- set port v2 tag=10
sleep 1
ip netns exec h1 ping -c 2 -W 1 10.0.0.2 >/dev/null
ovs-appctl --target=$D/vswitchd.pid dpctl/dump-flows >/dev/null 2>&1 || ovs-dpctl dump-flows >/dev/null
$V del-br br0
kill "$(cat $D/vswitchd.pid)" "$(cat $D/ovsdb.pid)"
sleep 1
kill "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null
cp $D/vswitchd.log "$RVS_OUT/"
ls -la "$RVS_OUT/ovs-netlink.pcap"

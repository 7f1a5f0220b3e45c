#!/bin/bash
# Inside the demo VM (User-Mode Linux, a Rust-enabled 6.12 kernel): rvs doing its main job. rvs.ko is loaded as the
# datapath; rvs-vswitchd (with its embedded configuration database) runs a bridge configured with rvs-vsctl; two
# "VMs" (network namespaces on veth ports) talk through it while the NORMAL learning switch installs megaflows in
# rvs.ko. Then VLAN access ports isolate them. Everything printed comes from rvs's own tools.
set -e
bin=$RVS_REPO/userspace/target/release
work=$(mktemp -d); export RVS_RUN_DIR=$work
vsctl="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
appctl="$bin/rvs-appctl"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "insmod rvs.ko"
insmod "$RVS_KO"
dmesg | grep ' rvs: ' | sed 's/^\[[^]]*\] //'

say "two VMs: netns vm1 (10.0.0.1) and vm2 (10.0.0.2), on veth ports p1 and p2"
for i in 1 2; do
    ip netns add vm$i
    ip link add p$i type veth peer name eth0 netns vm$i
    ip link set p$i up
    ip -n vm$i addr add 10.0.0.$i/24 dev eth0
    ip -n vm$i link set eth0 up
done

say "rvs-vswitchd (embedded config database in $work)"
"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log"
$vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2
$vsctl show

say "vm1 pings vm2 through rvs.ko"
ip netns exec vm1 ping -c 3 -i 0.2 10.0.0.2

say "what the switch learned (rvs-appctl fdb/show br0)"
$appctl fdb/show br0
say "megaflows rvs-vswitchd installed in rvs.ko (rvs-dpctl dump-flows)"
"$bin/rvs-dpctl" dump-flows
say "datapath (rvs-dpctl show)"
"$bin/rvs-dpctl" show

say "VLAN access ports: p1 tag=10, p2 tag=20 -> isolated"
$vsctl set port p1 tag=10 -- set port p2 tag=20
if ip netns exec vm1 ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then echo "unexpected: ping crossed VLANs"; exit 1; fi
echo "vm1 cannot reach vm2 across VLANs (as configured)"
$vsctl set port p2 tag=10
ip netns exec vm1 ping -c 2 -i 0.2 10.0.0.2 | tail -2

say "shut down: rvs-vswitchd exits, rmmod rvs"
$appctl exit --cleanup
for i in 1 2; do ip netns del vm$i; done
rmmod rvs
dmesg | grep ' rvs: .*unloaded' | sed 's/^\[[^]]*\] //'

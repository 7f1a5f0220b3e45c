#!/bin/bash
# Inside the demo VM (User-Mode Linux, a Rust-enabled 6.12 kernel): rvs doing its main job. rvs.ko is loaded as the
# datapath; rvs-vswitchd (with its embedded configuration database) runs a bridge configured with rvs-vsctl; three
# "VMs" — two network namespaces on veth ports and one on a tap device created the way QEMU creates it
# (tests/tap/tapvm.py answers ARP and ping on the tap's descriptor) — talk through it while the NORMAL learning
# switch installs megaflows in rvs.ko. Then VLAN access ports decide who reaches whom. Everything printed comes
# from rvs's own tools.
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

say "a third VM on a QEMU-style tap: tap3 (10.0.0.3)"
python3 "$RVS_REPO/tests/tap/tapvm.py" --name tap3 --mac 02:00:00:00:00:03 --ip 10.0.0.3/24 --serve -1 > "$work/vm3.log" 2>&1 &
vm3=$!
for _ in $(seq 50); do grep -q READY "$work/vm3.log" && break; sleep 0.1; done
ip link set tap3 up
ip -br link show tap3

say "rvs-vswitchd (embedded config database in $work)"
"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log"
$vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- add-port br0 tap3
$vsctl show

say "vm1 pings vm2 and the tap VM through rvs.ko"
ip netns exec vm1 ping -c 3 -i 0.2 10.0.0.2
ip netns exec vm1 ping -c 3 -i 0.2 10.0.0.3

say "what the switch learned (rvs-appctl fdb/show br0)"
$appctl fdb/show br0
say "megaflows rvs-vswitchd installed in rvs.ko (rvs-appctl dpif/dump-flows br0)"
$appctl dpif/dump-flows br0
say "datapath (rvs-dpctl show)"
"$bin/rvs-dpctl" show

say "VLAN access ports: p1 tag=10, tap3 tag=10, p2 tag=20"
$vsctl set port p1 tag=10 -- set port tap3 tag=10 -- set port p2 tag=20
$vsctl show
ip netns exec vm1 ping -c 2 -i 0.2 10.0.0.3 | tail -2
echo "vm1 reaches the tap VM in its VLAN 10"
if ip netns exec vm1 ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then echo "unexpected: ping crossed VLANs"; exit 1; fi
echo "vm1 cannot reach vm2 in VLAN 20 (as configured)"
$appctl dpif/dump-flows br0
$vsctl set port p2 tag=10
ip netns exec vm1 ping -c 2 -i 0.2 10.0.0.2 | tail -2
echo "vm2 moved to VLAN 10: reachable again"

say "shut down: rvs-vswitchd exits, rmmod rvs"
$appctl exit --cleanup
kill "$vm3"; wait "$vm3" 2>/dev/null || true
for i in 1 2; do ip netns del vm$i; done
rmmod rvs
dmesg | grep ' rvs: .*unloaded' | sed 's/^\[[^]]*\] //'

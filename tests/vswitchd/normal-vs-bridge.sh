#!/bin/bash
# vm-test
# The NORMAL pipeline compared with Linux bridging in the same topology on the same frames: four
# netns hosts, h1 and h2 access VLAN 10, h3 access VLAN 20, h4 a trunk of 10 and 20; the same sequence of raw
# frames (broadcast, multicast, known and unknown unicast, tagged frames on the trunk, a VLAN the trunk does not
# carry) is sent through rvs-vswitchd on rvs.ko and then through Linux bridges, and what each host receives (frame
# and tag) must be identical. The test kernels (and this machine's) lack CONFIG_BRIDGE_VLAN_FILTERING, so the Linux
# reference is the classic VLAN-aware layout instead of one vlan_filtering=1 bridge: one bridge per VLAN, the trunk
# joined to each through an 802.1Q sub-interface (CONFIG_VLAN_8021Q). Frames where the two differ BY DESIGN are left out: a frame tagged with its own access
# VLAN on an access port (OVS drops it, a Linux bridge passes it on) and reserved
# multicast (a Linux bridge without STP forwards 01:80:c2:00:00:00, OVS drops it unless forward-bpdu).
#   tools/vm/run --arch um tests/vswitchd/normal-vs-bridge.sh
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=system
. "$RVS_REPO/tests/vswitchd/scenario.sh"
F="$RVS_REPO/tests/vswitchd/l2frames.py"

hosts() {
    for n in 1 2 3 4; do
        netns_host cmph$n "" cmpv$n 2>/dev/null
        ip -n cmph$n addr flush dev eth0
        ip -n cmph$n link set eth0 down
        ip -n cmph$n link set eth0 address 02:00:00:00:00:0$n
        ip -n cmph$n link set eth0 up
        ip netns exec cmph$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec cmph$n sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    done
}

# run_frames OUTDIR: receivers on the four hosts, the frame sequence, then OUTDIR/hN.txt.
run_frames() {
    out=$1; mkdir -p "$out"
    for n in 1 2 3 4; do ip netns exec cmph$n python3 "$F" recv eth0 16 "$out/h$n.txt" & done
    sleep 1
    s() { ip netns exec cmph$1 python3 "$F" send eth0 02:00:00:00:00:0$1 "$2" "$3" "$4"; sleep 0.2; }
    B=ff:ff:ff:ff:ff:ff
    s 1 $B 0 f01-h1-bcast
    s 2 $B 0 f02-h2-bcast
    s 3 $B 0 f03-h3-bcast
    s 4 $B 10 f04-h4-bcast-v10
    s 4 $B 20 f05-h4-bcast-v20
    s 4 $B 30 f06-h4-bcast-v30-not-trunked
    s 1 02:00:00:00:00:02 0 f07-h1-to-h2
    s 1 02:00:00:00:00:04 0 f08-h1-to-h4
    s 3 02:00:00:00:00:04 0 f09-h3-to-h4
    s 1 02:00:00:00:00:99 0 f10-h1-to-unknown
    s 4 02:00:00:00:00:01 10 f11-h4-to-h1-v10
    s 4 02:00:00:00:00:03 10 f12-h4-to-h3-in-v10
    s 2 01:00:5e:00:00:01 0 f13-h2-mcast
    s 3 02:00:00:00:00:01 0 f14-h3-to-h1-other-vlan
    s 4 02:00:00:00:00:02 20 f15-h4-to-h2-in-v20
    s 2 02:00:00:00:00:01 0 f16-h2-to-h1
    wait
    for n in 1 2 3 4; do echo "--- h$n"; cat "$out/h$n.txt"; done
}

[ -f "${RVS_KO:-}" ] || { fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"; finish; }
modprobe -d "$RVS_KDIR/modroot" bridge 2>/dev/null
res=/tmp/rvs-cmp; rm -rf $res; mkdir -p $res

echo "=== rvs-vswitchd (NORMAL) on rvs.ko"
check "insmod rvs.ko" insmod "$RVS_KO"
vsw_setup /tmp/rvs-cmp-vsw
VS="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
check "start" vsw_start
hosts
check "rvs: bridge with access 10, 10, 20 and a trunk of 10,20" $VS add-br br0 -- add-port br0 cmpv1 tag=10 \
    -- add-port br0 cmpv2 tag=10 -- add-port br0 cmpv3 tag=20 -- add-port br0 cmpv4 trunks=10,20
run_frames $res/rvs
$A exit --cleanup; vsw_wait_gone
cleanup_netns
rmmod rvs

echo "=== Linux bridges: one per VLAN, the trunk through 802.1Q sub-interfaces"
hosts
check "linux: bridges cmpbr10, cmpbr20" sh -c "ip link add cmpbr10 type bridge mcast_snooping 0 stp_state 0 && ip link add cmpbr20 type bridge mcast_snooping 0 stp_state 0"
ip link add link cmpv4 name cmpv4.10 type vlan id 10
ip link add link cmpv4 name cmpv4.20 type vlan id 20
for d in cmpv1 cmpv2 cmpv4.10; do ip link set $d master cmpbr10; done
for d in cmpv3 cmpv4.20; do ip link set $d master cmpbr20; done
for d in cmpv4.10 cmpv4.20 cmpbr10 cmpbr20; do ip link set $d up; done
check "linux: topology" sh -c "ip -o link show master cmpbr10 | grep -c cmpv | grep -qx 3"
run_frames $res/linux
ip link del cmpbr10; ip link del cmpbr20
cleanup_netns

for n in 1 2 3 4; do
    check "h$n receives the same frames with the same tags" diff -u $res/linux/h$n.txt $res/rvs/h$n.txt
done
# The comparison is not vacuous: spot checks of what both must do.
check "known unicast reaches only its host (f07 at h2 only)" test "$(cat $res/rvs/h*.txt | grep -c f07)" = 1
check "the trunk gets VLAN 10 tagged (f01 at h4 vlan=10)" grep -q "f01-h1-bcast vlan=10" $res/rvs/h4.txt
check "a VLAN the trunk does not carry goes nowhere (f06)" sh -c "! cat $res/rvs/h*.txt $res/linux/h*.txt | grep -q f06"
check "VLANs isolated (f14 from VLAN 20 never reaches h1)" sh -c "! grep -q f14 $res/rvs/h1.txt"
check "the trunk's VLAN-10 frame reaches h1 untagged (f11)" grep -q "f11-h4-to-h1-v10 vlan=0" $res/rvs/h1.txt
finish

#!/bin/bash
# vm-test
# The NORMAL pipeline compared with Linux bridging in the same topology on the same frames: four
# netns hosts, h1 and h2 access VLAN 10, h3 access VLAN 20, h4 a trunk of 10 and 20; the same sequence of raw
# frames (broadcast, multicast, known and unknown unicast, tagged frames on the trunk, a VLAN the trunk does not
# carry) is sent through rvs-vswitchd on rvs.ko and then through a Linux bridge, and what each host receives (frame
# and tag) must be identical. The Linux reference is one VLAN-aware bridge (vlan_filtering=1, no default PVID; the
# UML test kernel enables CONFIG_BRIDGE_VLAN_FILTERING for it): access ports with their VLAN as untagged PVID, the
# trunk carrying 10 and 20 tagged. Frames where the two differ BY DESIGN are left out: a frame tagged with its own access
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

echo "=== Linux bridge with vlan_filtering=1"
hosts
check "linux: a vlan_filtering bridge" ip link add cmpbr type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0 stp_state 0
for d in cmpv1 cmpv2 cmpv3 cmpv4; do ip link set $d master cmpbr; done
check "linux: access ports 10, 10, 20 and a trunk of 10,20" sh -c "bridge vlan add dev cmpv1 vid 10 pvid untagged &&
    bridge vlan add dev cmpv2 vid 10 pvid untagged && bridge vlan add dev cmpv3 vid 20 pvid untagged &&
    bridge vlan add dev cmpv4 vid 10 && bridge vlan add dev cmpv4 vid 20"
ip link set cmpbr up
check "linux: vlan_filtering is on" sh -c "ip -d link show cmpbr | grep -q 'vlan_filtering 1'"
check "linux: trunk carries 10 and 20 tagged" sh -c "bridge vlan show dev cmpv4 | grep -qw 20 && ! bridge vlan show dev cmpv4 | grep -q Untagged"
run_frames $res/linux
ip link del cmpbr
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

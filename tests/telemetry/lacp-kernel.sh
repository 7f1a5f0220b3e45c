#!/bin/sh
# vm-test
# LACP (802.3ad) bonds of rvs-vswitchd against each other on the KERNEL datapath (rvs.ko): the UML test kernel has
# no CONFIG_BONDING, so the partner is a second rvs bond. Bridges lacpA and lacpB (one daemon, configured with
# Debian's ovs-vsctl) each have a 2-member bond (bondA: la1 la2, bondB: lb1 lb2, wired la1-lb1 and la2-lb2 by veth
# pairs, lacp-time=fast) and one netns host (lh1 10.80.0.1 on lacpA, lh2 10.80.0.2 on lacpB). Checks:
# - both active: lacp/show says negotiated, both members of each bond "current attached (in sync)" with the other
#   bond's system ID as partner and rx/tx counts growing; bond/show has the members enabled; lh1 pings lh2;
# - bondB lacp=off (it stops sending LACPDUs): bondA's partner expires, its members are disabled, the ping fails;
# - bondB lacp=passive: bondA (active) negotiates with it again and the ping works;
# - bondA passive too: two passive ends never negotiate, the ping fails.
#   tools/vm/run tests/telemetry/lacp-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
. "$RVS_REPO/tests/lib.sh"
bin=$RVS_REPO/userspace/target/release
work=$(mktemp -d /tmp/rvs-lacp.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work
V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
A="$bin/rvs-appctl"

cleanup() {
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        "$A" exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        sleep 1
    fi
    cleanup_netns
    for d in la1 la2 lv1 lv2; do ip link del $d 2>/dev/null; done
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 30 lines)"; tail -n 30 "$work/vswitchd.log"
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# member_status BOND MEMBER: the status lacp/show gives the member.
member_status() { "$A" lacp/show "$1" | sed -n "s/^member: $2: //p"; }
in_sync() { [ "$(member_status "$1" "$2")" = "current attached (in sync)" ]; }
both_disabled() { "$A" bond/show bondA | grep -q "member la1: disabled" && "$A" bond/show bondA | grep -q "member la2: disabled"; }
both_enabled() { "$A" bond/show bondA | grep -q "member la1: enabled" && "$A" bond/show bondA | grep -q "member la2: enabled"; }

if ! [ -f "${RVS_KO:-}" ] || ! check "insmod rvs.ko" insmod "$RVS_KO"; then
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"; finish
fi
"$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" || { fail "start"; finish; }
ip link add la1 type veth peer name lb1
ip link add la2 type veth peer name lb2
for d in la1 la2 lb1 lb2; do ip link set $d up; done
netns_host lh1 10.80.0.1/24 lv1
netns_host lh2 10.80.0.2/24 lv2
for h in lh1 lh2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
check "add-br lacpA lacpB" $V add-br lacpA -- add-br lacpB
check "add-bond bondA la1 la2 lacp=active (fast, system 02:00:00:00:0a:0a)" $V add-bond lacpA bondA la1 la2 lacp=active \
    bond_mode=balance-slb other_config:lacp-time=fast other_config:lacp-system-id=02:00:00:00:0a:0a
check "add-bond bondB lb1 lb2 lacp=active (fast, system 02:00:00:00:0b:0b)" $V add-bond lacpB bondB lb1 lb2 lacp=active \
    bond_mode=balance-slb other_config:lacp-time=fast other_config:lacp-system-id=02:00:00:00:0b:0b
check "add-port lv1 lv2" $V add-port lacpA lv1 -- add-port lacpB lv2

check "active/active: bondA la1 in sync" wait_for 15 in_sync bondA la1
check "active/active: bondA la2 in sync" wait_for 5 in_sync bondA la2
check "active/active: bondB lb1 in sync" wait_for 5 in_sync bondB lb1
check "active/active: bondB lb2 in sync" wait_for 5 in_sync bondB lb2
"$A" lacp/show bondA
check "lacp/show bondA: negotiated, partner system 02:00:00:00:0b:0b" sh -c "$A lacp/show bondA | grep -q 'status: active negotiated' && $A lacp/show bondA | grep -q 'partner sys_id: 02:00:00:00:0b:0b'"
check "lacp/show bondA: actor collecting and distributing" sh -c "$A lacp/show bondA | grep 'actor state' | grep -c 'synchronized collecting distributing' | grep -qx 2"
check "bond/show: bondA members enabled" wait_for 5 both_enabled
check "bond/show says LACP" sh -c "$A bond/show bondA | grep -q 'lacp_status: negotiated'"
check "active/active: lh1 pings lh2 over the LACP bonds" ip netns exec lh1 ping -c 3 -i 0.2 -W 2 10.80.0.2
rx1=$("$A" lacp/show bondA | sed -n 's/^  rx: \([0-9]*\) .*/\1/p' | head -1)
sleep 2
rx2=$("$A" lacp/show bondA | sed -n 's/^  rx: \([0-9]*\) .*/\1/p' | head -1)
check "LACPDUs keep arriving (fast: about 1/s; rx $rx1 -> $rx2)" test "$rx2" -gt "$rx1"

check "bondB lacp=off" $V set port bondB lacp=off
check "bondA's partner expires: la1 no longer in sync" wait_for 10 sh -c "! [ \"\$($A lacp/show bondA | sed -n 's/^member: la1: //p')\" = 'current attached (in sync)' ]"
check "bondA members disabled" wait_for 6 both_disabled
"$A" lacp/show bondA | grep "^member"
check_not "no partner: ping fails" ip netns exec lh1 ping -c 2 -i 0.3 -W 1 10.80.0.2

check "bondB lacp=passive" $V set port bondB lacp=passive
check "active/passive: bondA la1 in sync" wait_for 15 in_sync bondA la1
check "active/passive: bondB lb2 in sync" wait_for 5 in_sync bondB lb2
check "active/passive: bondA members enabled" wait_for 6 both_enabled
check "active/passive: lh1 pings lh2" wait_for 5 ip netns exec lh1 ping -c 2 -i 0.2 -W 2 10.80.0.2

check "bondA lacp=passive too" $V set port bondA lacp=passive
check "passive/passive: bondA members disabled" wait_for 15 both_disabled
"$A" lacp/show bondA | grep "^member"
check_not "passive/passive: ping fails" ip netns exec lh1 ping -c 2 -i 0.3 -W 1 10.80.0.2
finish

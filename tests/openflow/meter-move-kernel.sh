#!/bin/sh
# vm-test
# OpenFlow meters follow a bridge's datapath_type change (rvs.ko): a meter (drop at 4000 kbit/s) and a flow through it
# on a datapath_type=system bridge; the UDP blast h1 -> h2 is measured near 4000 kbit/s; `set bridge datapath_type=
# netdev` moves the bridge to the userspace datapath: the meter is re-created there (the datapath flow carries
# meter(N), the blast is measured near 4000 kbit/s again, meter-stats keep counting); back to system, the same.
#   tools/vm/run tests/openflow/meter-move-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl) and tools/kmod.sh um.
set -u
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
command -v ovs-ofctl >/dev/null || { fail "ovs-ofctl installed (tools/deps.sh)"; finish; }
insmod_rvs

of_setup metermove
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"

# blast SECS: UDP from connmgr1 to 10.57.0.2; prints the kbit/s connmgr2's eth0 received.
blast() { blast_kbps connmgr1 connmgr2 10.57.0.2 "$1"; }
within() { test "$2" -ge $(($1 * 6 / 10)) -a "$2" -le $(($1 * 13 / 10)); }
pkts_in() { $O meter-stats $BR meter=1 | sed -n 's/.*packet_in_count:\([0-9]*\).*/\1/p' | head -1; }

check "add-br (system, fail_mode=secure)" $V add-br $BR -- set bridge $BR datapath_type=system fail_mode=secure
of_host 1; of_host 2
check "add-port x2" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2
check "ARP by NORMAL" $O add-flow $BR priority=5,arp,actions=NORMAL
check "h2 -> h1" $O add-flow $BR priority=10,ip,in_port=connmgr-v2,actions=output:connmgr-v1
check "add-meter 1: kbps, burst, drop at 4000" $O add-meter $BR meter=1,kbps,burst,band=type=drop,rate=4000,burst_size=1000
check "h1 -> h2 through meter 1" $O add-flow $BR priority=10,ip,in_port=connmgr-v1,actions=meter:1,output:connmgr-v2
check "hosts reach each other" of_wait of_ping 1 2
for dpt in system netdev system; do
    if [ "$($V get bridge $BR datapath_type)" != "$dpt" ] && [ "$($V get bridge $BR datapath_type)" != "\"$dpt\"" ]; then
        check "set bridge datapath_type=$dpt" $V set bridge $BR datapath_type=$dpt
        sleep 3
        check "$dpt: hosts reach each other after the move" of_wait of_ping 1 2
    fi
    p0=$(pkts_in)
    m=$(blast 3); echo "$dpt: metered at 4000: $m kbit/s"
    check "$dpt: metered rate $m kbit/s within 60..130 % of 4000" within 4000 "$m"
    flows=$($A dpif/dump-flows $BR 2>&1)
    echo "$flows" | grep 'eth_type(0x0800)' | head -3
    check "$dpt: the datapath flow has meter() before its output" sh -c "echo '$flows' | grep 'eth_type(0x0800)' | grep -q 'actions:meter([0-9]*),[0-9]'"
    p1=$(pkts_in)
    check "$dpt: meter stats count the blast (${p0:-?} -> ${p1:-?})" test "${p1:-0}" -gt $(( ${p0:-0} + 1000 ))
done
check_not "no meter warnings in the log" grep -q "WARN.*meter" "$work/vswitchd.log"
grep -i "meter" "$work/vswitchd.log" | tail -8

of_cleanup
trap - EXIT INT TERM
ovs-dpctl del-dp ovs-system 2>/dev/null
rmmod rvs
finish

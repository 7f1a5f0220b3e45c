#!/bin/sh
# host-test
# OpenFlow 1.3 meters enforced by the datapath: Debian's ovs-ofctl adds a meter (drop band) to an rvs bridge and a flow
# that goes through it; a UDP blast is measured near the meter's rate at the receiver, the datapath flow carries
# meter(N) before its output, meter statistics count the packets in and the band's drops; modify-meter changes the
# rate; without the meter the blast runs free again; del-meter deletes it. USERSPACE datapath on the host
# (OF_DP_TYPE=system runs it on the kernel datapath, as tests/openflow/meter-kernel.sh does in the VM). Needs root:
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/meter-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
command -v ovs-ofctl >/dev/null || { fail "ovs-ofctl installed (tools/deps.sh)"; finish; }
DPT=${OF_DP_TYPE:-netdev}

of_setup meter
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"

# blast SECS: UDP from connmgr1 to 10.57.0.2 for SECS s, 1000-byte datagrams as fast as Python sends them; prints the
# kbit/s connmgr2's eth0 received over the blast.
blast() { blast_kbps connmgr1 connmgr2 10.57.0.2 "$1"; }
# within RATE MEASURED: MEASURED is 60..130 % of RATE.
within() { test "$2" -ge $(($1 * 6 / 10)) -a "$2" -le $(($1 * 13 / 10)); }
stat_field() { $O meter-stats $BR meter=1 | sed -n "s/.*$1:\([0-9]*\).*/\1/p" | head -1; }

check "$DPT: add-br (fail_mode=secure, OpenFlow13)" $V add-br $BR -- set bridge $BR datapath_type=$DPT fail_mode=secure protocols=OpenFlow10,OpenFlow13
of_host 1; of_host 2
check "$DPT: add-port x2" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2
check "$DPT: ARP by NORMAL" $O add-flow $BR priority=5,arp,actions=NORMAL
check "$DPT: h2 -> h1" $O add-flow $BR priority=10,ip,in_port=connmgr-v2,actions=output:connmgr-v1
check "$DPT: h1 -> h2 (no meter yet)" $O add-flow $BR priority=10,ip,in_port=connmgr-v1,actions=output:connmgr-v2
check "$DPT: h1 pings h2" of_wait of_ping 1 2
free=$(blast 3); echo "$DPT: without meter: $free kbit/s"
check "$DPT: unmetered blast runs above 12000 kbit/s ($free)" test "$free" -gt 12000

check "$DPT: flow through an unknown meter refused" sh -c \
    "$O add-flow $BR priority=11,ip,in_port=connmgr-v1,actions=meter:1,output:connmgr-v2 2>&1 | grep -q OFPMMFC_UNKNOWN_METER"
check "$DPT: dscp_remark band refused (the datapath only drops)" sh -c \
    "$O add-meter $BR meter=2,kbps,band=type=dscp_remark,rate=100,prec_level=1 2>&1 | grep -q OFPMMFC_BAD_BAND"
check "$DPT: add-meter 1: kbps, burst 1000 kbit, drop at 4000" $O add-meter $BR meter=1,kbps,burst,band=type=drop,rate=4000,burst_size=1000
check "$DPT: h1 -> h2 through meter 1" $O mod-flows $BR priority=10,ip,in_port=connmgr-v1,actions=meter:1,output:connmgr-v2
sleep 1
m=$(blast 3); echo "$DPT: metered at 4000: $m kbit/s"
check "$DPT: metered rate $m kbit/s within 60..130 % of 4000" within 4000 "$m"
flows=$("$A" dpif/dump-flows $BR); echo "$flows" | sed 's/^/    /'
check "$DPT: the datapath flow has meter() before its output" sh -c "echo '$flows' | grep 'eth_type(0x0800)' | grep -q 'actions:meter([0-9]*),[0-9]'"
$O dump-meters $BR; $O meter-stats $BR
check "$DPT: dump-meters shows meter 1" sh -c "$O dump-meters $BR | grep -q 'meter=1 kbps burst'"
check "$DPT: dump-meters shows its drop band" sh -c "$O dump-meters $BR | grep -q 'type=drop rate=4000 burst_size=1000'"
pin=$(stat_field packet_in_count)
bdrop=$($O meter-stats $BR meter=1 | sed -n 's/.*0: packet_count:\([0-9]*\).*/\1/p' | head -1)
check "$DPT: meter stats count the packets in (${pin:-?})" test "${pin:-0}" -gt 1000
check "$DPT: band 0 counts the drops (${bdrop:-?} of ${pin:-?})" test "${bdrop:-0}" -gt 100 -a "${bdrop:-0}" -lt "${pin:-0}"
check "$DPT: flow_count 1" sh -c "$O meter-stats $BR meter=1 | grep -q 'flow_count:1'"

check "$DPT: mod-meter 1: drop at 8000" $O mod-meter $BR meter=1,kbps,burst,band=type=drop,rate=8000,burst_size=1000
sleep 1
m=$(blast 3); echo "$DPT: metered at 8000: $m kbit/s"
check "$DPT: after mod-meter the rate $m kbit/s is within 60..130 % of 8000" within 8000 "$m"

check "$DPT: flow without the meter" $O mod-flows $BR priority=10,ip,in_port=connmgr-v1,actions=output:connmgr-v2
sleep 1
again=$(blast 3); echo "$DPT: without meter again: $again kbit/s"
check "$DPT: the blast runs free again ($again)" test "$again" -gt 12000
check "$DPT: del-meter 1" $O del-meter $BR meter=1
check_not "$DPT: meter 1 is gone" sh -c "$O dump-meters $BR | grep -q 'meter=1'"
check "$DPT: a new meter after the delete" $O add-meter $BR meter=7,pktps,band=type=drop,rate=10
check_not "$DPT: no meter warnings in the log" grep -q "WARN.*meter" "$work/vswitchd.log"
check "$DPT: del-meters" $O del-meters $BR

of_cleanup
trap - EXIT INT TERM
finish

#!/bin/bash
# vm-test
# Datapath meters through ovs-vswitchd (Open vSwitch 3.1, unmodified) on rvs.ko, then on openvswitch.ko as the
# reference, in the same run: an OpenFlow 1.3 meter (10 packets/s, burst 10, drop band) on the h1 -> h2 IPv4 flow.
# ovs-vswitchd installs it with OVS_METER_CMD_SET and a meter action in the datapath flow; a 100-packet burst of
# pings mostly dies in the drop band; meter statistics (OVS_METER_CMD_GET) count the packets and the band's drops;
# without the meter every ping passes again; deleting the meter (OVS_METER_CMD_DEL) works.
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/kmod/lib/ovs.sh"

D=/tmp/ovs
V="ovs-vsctl --db=unix:$D/db.sock --timeout=20"
OF="ovs-ofctl -O OpenFlow13"

# loss NS ADDR: the packet loss percentage of a 100-ping burst (10 ms apart) from NS to ADDR.
loss() {
    ip netns exec "$1" ping -q -c 100 -i 0.01 -W 1 "$2" 2>&1 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' | cut -d. -f1
}

scenario() {
    mod=$1
    ovs_start $D
    check "$mod: add-br br0" $V add-br br0 -- set bridge br0 protocols=OpenFlow13
    netns_host h1 10.0.0.1/24 v1
    netns_host h2 10.0.0.2/24 v2
    check "$mod: add-port v1" $V add-port br0 v1
    check "$mod: add-port v2" $V add-port br0 v2
    sleep 1
    check "$mod: meter features: drop bands" sh -c "$OF meter-features br0 | grep -q 'band_types: drop'"
    check "$mod: add-meter 1 (10 pktps, burst 10, drop)" $OF add-meter br0 meter=1,pktps,burst,band=type=drop,rate=10,burst_size=10
    check "$mod: flow h1 -> h2 through meter 1" $OF add-flow br0 priority=10,ip,in_port=v1,actions=meter:1,output:v2
    check "$mod: flow h2 -> h1" $OF add-flow br0 priority=10,ip,in_port=v2,actions=output:v1
    check "$mod: ARP by NORMAL" $OF add-flow br0 priority=5,actions=NORMAL
    check "$mod: h1 reaches h2" ip netns exec h1 ping -c 1 -W 2 10.0.0.2
    l=$(loss h1 10.0.0.2)
    echo "$mod: metered burst loss ${l}%"
    if [ -n "$l" ] && [ "$l" -ge 50 ] && [ "$l" -lt 100 ]; then pass "$mod: the meter drops most of a 100-packet burst (${l}%)"
    else fail "$mod: the meter drops most of a 100-packet burst (loss: ${l:-?}%)"; fi
    flows=$(ovs-dpctl dump-flows 2>&1)
    echo "$flows" > "$RVS_OUT/meter-flows-$mod.txt" 2>/dev/null
    case $flows in *"actions:meter("*)  pass "$mod: the datapath flow has a meter action" ;;
        *) fail "$mod: the datapath flow has a meter action: $flows" ;; esac
    stats=$($OF meter-stats br0 2>&1)
    echo "$stats"
    pkts=$(echo "$stats" | sed -n 's/.*packet_in_count:\([0-9]*\).*/\1/p' | head -1)
    drops=$(echo "$stats" | sed -n 's/.*0: packet_count:\([0-9]*\).*/\1/p' | head -1)
    if [ "${pkts:-0}" -ge 100 ]; then pass "$mod: meter stats count the packets ($pkts)"
    else fail "$mod: meter stats count the packets: $stats"; fi
    if [ "${drops:-0}" -ge 50 ]; then pass "$mod: band stats count the drops ($drops)"
    else fail "$mod: band stats count the drops: $stats"; fi
    check "$mod: flow without the meter" $OF mod-flows br0 priority=10,ip,in_port=v1,actions=output:v2
    sleep 1
    l=$(loss h1 10.0.0.2)
    if [ "$l" = 0 ]; then pass "$mod: without the meter the burst passes"
    else fail "$mod: without the meter the burst passes (loss ${l:-?}%)"; fi
    check "$mod: del-meter 1" $OF del-meter br0 meter=1
    check_not "$mod: meter 1 is gone" sh -c "$OF meter-stats br0 meter=1 | grep -q 'meter:1'"
    cp $D/vswitchd.log "$RVS_OUT/meter-vswitchd-$mod.log" 2>/dev/null
    check_not "$mod: ovs-vswitchd logged no meter warnings" grep -qE "broken meter|\|(WARN|ERR)\|.*[Mm]eter" $D/vswitchd.log
    $V del-br br0
    ovs_stop $D
    cleanup_netns
}

insmod_rvs
scenario rvs
check "rmmod rvs" rmmod rvs
if load_reference; then
    scenario openvswitch
    rmmod openvswitch
fi
finish

#!/bin/bash
# vm-test
# Graceful restart of rvs-vswitchd on the KERNEL datapath: `kill -9` the daemon in the middle of a TCP stream between
# two netns hosts, leave it dead for 2 s, start it again. The datapath, its ports and its flows stay in the kernel, so
# the stream keeps flowing with no gap while no daemon runs; the new daemon adopts the flows (their packet counters
# keep counting: they are revalidated, not flushed and re-created) and the stream ends intact. On rvs.ko, then on
# openvswitch.ko in the same boot:
#   tools/vm/run --arch um tests/vswitchd/restart-kernel.sh
# Build first on the host: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl) and
# tools/kmod.sh um. (With the userspace datapath the datapath lives in the daemon's process and dies with it.)
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=system
. "$RVS_REPO/tests/vswitchd/scenario.sh"

# flow_packets MAC1 MAC2: the packet counter of the datapath flow from MAC1 to MAC2 (IPv4).
flow_packets() {
    ovs-dpctl dump-flows ovs-system | grep "eth(src=$1,dst=$2),eth_type(0x0800)" | sed -n 's/.* packets:\([0-9]*\),.*/\1/p' | head -1
}

restart_on() {
    m=$1
    vsw_setup /tmp/rvs-restart-$m
    VS="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
    echo "=== graceful restart on $m"
    check "$m: start" vsw_start
    netns_host rs1 10.62.0.1/24 rvrs1
    netns_host rs2 10.62.0.2/24 rvrs2
    for h in rs1 rs2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    mac1=$(mac_of rs1); mac2=$(mac_of rs2)
    check "$m: add-br + ports" $VS add-br br0 -- add-port br0 rvrs1 -- add-port br0 rvrs2
    check "$m: ping" ping_ok rs1 10.62.0.2
    ip netns exec rs2 python3 "$RVS_REPO/tests/vswitchd/tcp-stream.py" server 5001 "$work/stream.txt" &
    spid=$!
    sleep 0.5
    ip netns exec rs1 python3 "$RVS_REPO/tests/vswitchd/tcp-stream.py" client 10.62.0.2 5001 8 >"$work/client.txt" 2>&1 &
    cpid=$!
    sleep 2
    before=$(flow_packets "$mac1" "$mac2")
    echo "flow packets before kill -9: ${before:-none}"
    check "$m: the stream's flow is in the datapath" test -n "$before"
    pid=$(cat "$work/rvs-vswitchd.pid")
    check "$m: kill -9 rvs-vswitchd" kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    sleep 2
    during=$(flow_packets "$mac1" "$mac2")
    echo "flow packets with no daemon: ${during:-none}"
    check "$m: with no daemon, the flow keeps forwarding the stream" test "${during:-0}" -gt "${before:-0}"
    check "$m: restart over the stale pidfile and sockets" vsw_start
    check "$m: the new daemon reuses the datapath" vsw_wait grep -q 'reusing the existing datapath' "$work/vswitchd.log"
    sleep 1.5
    after=$(flow_packets "$mac1" "$mac2")
    echo "flow packets after restart: ${after:-none}"
    check "$m: the flow was adopted (its counter kept counting, not reset)" test "${after:-0}" -gt "${during:-0}"
    check "$m: ports kept their OpenFlow numbers" test "$($VS get interface rvrs2 ofport)" = 2
    wait $cpid; crc=$?
    check "$m: client finished without a socket error" test "$crc" = 0
    wait $spid
    cat "$work/client.txt" "$work/stream.txt"
    sent=$(sed -n 's/^sent=//p' "$work/client.txt")
    got=$(sed -n 's/^bytes=\([0-9]*\) .*/\1/p' "$work/stream.txt")
    gap=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' "$work/stream.txt")
    check "$m: every byte arrived on the one connection" test -n "$sent" -a "$sent" = "${got:-x}"
    check "$m: no stall across kill -9 + 2 s down + restart (max gap ${gap:-?} ms < 1000)" test "${gap:-99999}" -lt 1000
    check "$m: the new daemon learns and forwards (ping)" ping_ok rs1 10.62.0.2
    $A fdb/show br0 >"$work/fdb.txt"
    check "$m: MAC table rebuilt after restart" grep -q "$mac2" "$work/fdb.txt"
    check "$m: exit --cleanup" $A exit --cleanup
    vsw_wait_gone
    check "$m: no datapath left behind" sh -c "! ovs-dpctl show ovs-system >/dev/null 2>&1"
    cleanup_netns
    ip link del rvrs1 2>/dev/null; ip link del rvrs2 2>/dev/null
    vsw_cleanup
}

if [ -f "${RVS_KO:-}" ]; then
    if check "insmod rvs.ko" insmod "$RVS_KO"; then
        restart_on rvs
        check "rmmod rvs" rmmod rvs
    fi
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if modprobe -d "$RVS_KDIR/modroot" openvswitch; then
    restart_on openvswitch
    rmmod openvswitch
else
    fail "openvswitch.ko loads (reference peer)"
fi
finish

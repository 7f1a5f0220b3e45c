# Patch ports, mirrors and bonds in rvs-vswitchd, configured with rvs-vsctl: the scenario shared by ports-host.sh
# (userspace datapath, on the host) and ports-kernel.sh (kernel datapath, in UML). Sourced after tests/lib.sh and
# tests/vswitchd/scenario.sh (for vsw_setup/vsw_start/vsw_wait/ping_ok). Needs root, tcpdump, Linux bridges in netns.
#
# Topology: portsbr0 (hosts pa 10.61.0.1 and pc 10.61.0.3, the bond of host pd 10.61.0.4: pd has a Linux bridge over
# its two links) and portsbr1 (host pb 10.61.0.2), joined by the patch pair ptb0/ptb1.

ports_cleanup() {
    for p in $TCPDUMP_PIDS; do kill "$p" 2>/dev/null; done
    TCPDUMP_PIDS=""
    for v in portsa portsb portsc portsd1 portsd2; do ip link del $v 2>/dev/null; done
    vsw_cleanup
}

# ports_count FILE PATTERN: how many lines of a pcap's text form match.
ports_count() { grep -c "$2" "$1" 2>/dev/null || true; }

ports_scenario() {
    ty=$1
    VS="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
    echo "=== patch ports, mirrors, bonds: datapath_type=$ty"
    check "$ty: start" vsw_start
    netns_host ports-a 10.61.0.1/24 portsa
    netns_host ports-b 10.61.0.2/24 portsb
    netns_host ports-c 10.61.0.3/24 portsc
    for h in ports-a ports-b ports-c; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    maca=$(mac_of ports-a)

    # --- 1. patch ports
    check "$ty: two bridges joined by a patch pair (rvs-vsctl)" $VS add-br portsbr0 -- set bridge portsbr0 datapath_type=$ty \
        -- add-br portsbr1 -- set bridge portsbr1 datapath_type=$ty \
        -- add-port portsbr0 portsa -- add-port portsbr1 portsb \
        -- add-port portsbr0 ptb0 -- set interface ptb0 type=patch options:peer=ptb1 \
        -- add-port portsbr1 ptb1 -- set interface ptb1 type=patch options:peer=ptb0
    check "$ty: patch: ofport written back" test "$($VS get interface ptb0 ofport)" = 2
    check "$ty: patch: no error" test "$($VS get interface ptb1 error)" = "[]"
    $A dpif/show >"$work/pshow.txt" 2>&1; cat "$work/pshow.txt"
    check "$ty: dpif/show: patch port without datapath port" grep -q '^    ptb0 2/none: (patch: peer=ptb1)$' "$work/pshow.txt"
    check "$ty: patch: ping across two bridges" ping_ok ports-a 10.61.0.2
    $A dpif/dump-flows portsbr0 >"$work/pflows.txt" 2>&1; cat "$work/pflows.txt"
    dpb=$(dp_port portsb)
    check "$ty: patch: one megaflow from portsa straight to portsb's datapath port" grep -Eq "in_port\($(dp_port portsa)\),eth\(src=$maca,.*eth_type\(0x0800\).* actions:$dpb$" "$work/pflows.txt"
    $A fdb/show portsbr1 >"$work/pfdb.txt"; cat "$work/pfdb.txt"
    check "$ty: patch: portsbr1 learned pa's MAC on its patch port" grep -Eq "^ +$($VS get interface ptb1 ofport) +0  $maca " "$work/pfdb.txt"
    check "$ty: patch: tag=10 on both hosts, patch pair trunks" $VS set port portsa tag=10 -- set port portsb tag=10
    check "$ty: patch: VLAN 10 crosses the patch" ping_ok ports-a 10.61.0.2
    check "$ty: patch: portsb to VLAN 20" $VS set port portsb tag=20
    sleep 0.3   # the revalidator runs after the change is acknowledged
    check "$ty: patch: VLAN 10 and 20 isolated across bridges" ping_fails ports-a 10.61.0.2
    check "$ty: patch: back to VLAN 10" $VS set port portsb tag=10
    $VS add-port portsbr1 ptbad -- set interface ptbad type=patch options:peer=nothere >/dev/null 2>&1
    check "$ty: patch: missing peer gives an error" sh -c "$VS get interface ptbad error | grep -q 'does not exist'"
    check "$ty: patch: missing peer: ofport -1" test "$($VS get interface ptbad ofport)" = -1
    check "$ty: patch: del-port ptbad" $VS del-port portsbr1 ptbad

    # --- 2. mirrors: pc is the output port of a mirror of pa's traffic (both directions)
    check "$ty: add-port portsc tag=10" $VS add-port portsbr0 portsc tag=10
    check "$ty: create a mirror (select_src_port + select_dst_port = portsa, output_port = portsc)" \
        $VS -- --id=@p get port portsa -- --id=@o get port portsc \
        -- --id=@m create mirror name=m0 select_src_port=@p select_dst_port=@p output_port=@o -- set bridge portsbr0 mirrors=@m
    check "$ty: mirror listed" sh -c "$VS list mirror | grep -q m0"
    ip netns exec ports-c tcpdump --immediate-mode -nn -e -i eth0 -U -w "$work/mirror.pcap" >/dev/null 2>&1 &
    TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
    sleep 1
    check "$ty: mirror: pa -> pb still works" ip netns exec ports-a ping -c 3 -i 0.2 -W 2 10.61.0.2
    sleep 1
    for p in $TCPDUMP_PIDS; do kill "$p" 2>/dev/null; done
    TCPDUMP_PIDS=""
    sleep 0.5
    tcpdump -nn -e -r "$work/mirror.pcap" >"$work/mirror.txt" 2>/dev/null; cat "$work/mirror.txt"
    $A dpif/dump-flows portsbr0; $A dpif/dump-flows portsbr1; $A dpif/show
    check "$ty: mirror: echo requests from pa copied to pc (tcpdump)" test "$(ports_count "$work/mirror.txt" '10.61.0.1 > 10.61.0.2: ICMP echo request')" -ge 3
    check "$ty: mirror: echo replies to pa copied to pc (tcpdump)" test "$(ports_count "$work/mirror.txt" '10.61.0.2 > 10.61.0.1: ICMP echo reply')" -ge 3
    check "$ty: mirror: the output port takes no part in switching (pc cannot ping pa)" ping_fails ports-c 10.61.0.1
    check "$ty: mirror: removed" $VS clear bridge portsbr0 mirrors
    check "$ty: mirror: pc switches again" ping_ok ports-c 10.61.0.1

    # --- 3. bonds: pd's Linux bridge joins its two links; rvs bonds the other ends (active-backup)
    ip netns add ports-d; RVS_NETNS="$RVS_NETNS ports-d"
    ip link add portsd1 type veth peer name d1 netns ports-d
    ip link add portsd2 type veth peer name d2 netns ports-d
    ip link set portsd1 up; ip link set portsd2 up
    ip -n ports-d link add pdbr type bridge
    ip -n ports-d link set d1 master pdbr; ip -n ports-d link set d2 master pdbr
    for d in lo d1 d2 pdbr; do ip -n ports-d link set $d up; done
    ip -n ports-d addr add 10.61.0.4/24 dev pdbr
    ip netns exec ports-d sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    macd=$(ip -n ports-d -o link show pdbr | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    check "$ty: add-bond portsbr0 bond0 portsd1 portsd2 (active-backup, carrier detection)" $VS add-bond portsbr0 bond0 portsd1 portsd2 tag=10 \
        -- set port bond0 bond_mode=active-backup other_config:bond-detect-mode=carrier
    $A bond/show >"$work/bond.txt" 2>&1; cat "$work/bond.txt"
    check "$ty: bond/show: mode and members" sh -c "grep -q '^bond_mode: active-backup' $work/bond.txt && grep -q '^member portsd1: enabled' $work/bond.txt && grep -q '^member portsd2: enabled' $work/bond.txt"
    check "$ty: bond/show: portsd1 active" grep -q '^active member: portsd1$' "$work/bond.txt"
    ip netns exec ports-a tcpdump --immediate-mode -nn -i eth0 -U -w "$work/pa.pcap" >/dev/null 2>&1 &
    TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
    tcpdump --immediate-mode -nn -Q out -i portsd2 -U -w "$work/backup.pcap" >/dev/null 2>&1 &
    TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
    sleep 1
    check "$ty: bond: pa -> pd" ping_ok ports-a 10.61.0.4
    check "$ty: bond: pb -> pd (across the patch)" ping_ok ports-b 10.61.0.4
    sleep 1
    for p in $TCPDUMP_PIDS; do kill "$p" 2>/dev/null; done
    TCPDUMP_PIDS=""
    sleep 0.5
    tcpdump -nn -r "$work/pa.pcap" >"$work/pa.txt" 2>/dev/null
    tcpdump -nn -r "$work/backup.pcap" >"$work/backup.txt" 2>/dev/null
    # pd's Linux bridge floods pa's broadcasts from d1 back out of d2: the backup member must drop them, or pa would
    # see its own ARP requests come back.
    check "$ty: bond: no flood comes back from the backup member (pa never sees its own ARP request)" \
        test "$(ports_count "$work/pa.txt" "ARP, Request who-has 10.61.0.4 tell 10.61.0.1")" -le 1
    cat "$work/backup.txt"
    check "$ty: bond: no echo request or reply is sent into the backup member" test "$(ports_count "$work/backup.txt" 'ICMP echo')" = 0
    $A fdb/show portsbr0 >"$work/bfdb.txt"; cat "$work/bfdb.txt"
    ofd1=$($VS get interface portsd1 ofport)
    check "$ty: bond: pd's MAC learned on the bond (as its first member's port $ofd1)" grep -Eq "^ +$ofd1 +10  $macd " "$work/bfdb.txt"
    # Failover: ping continuously, take the active member down in the middle.
    ip netns exec ports-a ping -c 40 -i 0.2 -W 1 10.61.0.4 >"$work/failover.txt" 2>&1 &
    pingpid=$!
    sleep 2
    ip link set portsd1 down
    wait $pingpid
    cat "$work/failover.txt" | tail -3
    rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/failover.txt")
    echo "failover: ${rx:-0}/40 echo replies"
    check "$ty: bond: failover: the ping continues (>= 25 of 40 replies)" test "${rx:-0}" -ge 25
    $A bond/show bond0 >"$work/bond2.txt" 2>&1; cat "$work/bond2.txt"
    check "$ty: bond/show: portsd1 disabled, portsd2 active" sh -c "grep -q '^member portsd1: disabled' $work/bond2.txt && grep -q '^active member: portsd2$' $work/bond2.txt"
    check "$ty: bond: after failover pa -> pd" ping_ok ports-a 10.61.0.4
    ip link set portsd1 up
    sleep 3
    $A bond/show bond0 >"$work/bond3.txt" 2>&1
    check "$ty: bond: member back, portsd2 stays active (sticky)" sh -c "grep -q '^member portsd1: enabled' $work/bond3.txt && grep -q '^active member: portsd2$' $work/bond3.txt"
    check "$ty: bond: still pings" ping_ok ports-a 10.61.0.4
    check "$ty: bond/show of a missing bond fails" sh -c "! $A bond/show nosuch"
    check "$ty: del-port bond0" $VS del-port portsbr0 bond0
    check "$ty: bond gone: pd unreachable" ping_fails ports-a 10.61.0.4
    check "$ty: del-br portsbr1 (patch peer gone)" $VS del-br portsbr1
    check "$ty: ptb0 now reports the missing peer" vsw_wait sh -c "$VS get interface ptb0 error | grep -q 'does not exist'"
    check "$ty: del-br portsbr0" $VS del-br portsbr0
    check "$ty: exit --cleanup" $A exit --cleanup
    vsw_wait_gone
}

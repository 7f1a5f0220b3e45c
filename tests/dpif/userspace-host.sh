#!/bin/sh
# host-test
# The rvs USERSPACE datapath on the host (no VM, no module; needs root, veth, netns, tun):
#   sudo tests/dpif/userspace-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-dpctl)
# Two netns hosts on veth pairs attached to a userspace datapath driven by rvs-dpctl --datapath-type=userspace:
# flows added both ways -> ping and a 20 MB HTTP transfer pass with TX checksum offload and TSO left ON on the veths;
# dump-flows counters move; del-flow stops traffic; MAC rewrite + VLAN push seen on frames captured in h2; VLAN pop of
# a tagged frame sent from a raw socket in h2 seen untagged in h1; clear errors (bad syntax with a caret, missing
# datapath, missing privilege); del-dp removes everything. Namespaces, devices and processes are removed on exit.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"

dpctl_bin=${RVS_DPCTL:-$RVS_REPO/userspace/target/release/rvs-dpctl}
[ -x "$dpctl_bin" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-dpctl)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
export RVS_RUN_DIR=$(mktemp -d /tmp/rvs-udp-host.XXXXXX)
chmod 755 "$RVS_RUN_DIR"   # like /run/rvs: unprivileged users may read
DP=rvsu0
U="$dpctl_bin --datapath-type=userspace"
work=$RVS_RUN_DIR
HTTP_PID=""

cleanup() {
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    $U del-dp $DP >/dev/null 2>&1
    cleanup_netns
    ip link del ruv1 2>/dev/null; ip link del ruv2 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

netns_host ruh1 10.77.0.1/24 ruv1
netns_host ruh2 10.77.0.2/24 ruv2
mac1=$(ip -n ruh1 -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
mac2=$(ip -n ruh2 -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
# Quiet hosts: no IPv6 chatter to count.
for h in ruh1 ruh2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done

check "offload left on: tx-checksumming on in h1" sh -c "ip netns exec ruh1 ethtool -k eth0 | grep -q 'tx-checksumming: on'"
check "offload left on: TSO on in h2" sh -c "ip netns exec ruh2 ethtool -k eth0 | grep -q 'tcp-segmentation-offload: on'"

check "add-dp $DP ruv1 ruv2 (starts the datapath process)" $U add-dp $DP ruv1 ruv2
check "socket is up" test -S "$RVS_RUN_DIR/$DP.sock"
$U show $DP >"$work/show.txt" 2>&1; cat "$work/show.txt"
check "show: header" grep -qx "netdev@$DP:" "$work/show.txt"
check "show: local port 0 (internal tap)" grep -qx "  port 0: $DP (internal)" "$work/show.txt"
check "show: ruv1 is port 1" grep -qx '  port 1: ruv1' "$work/show.txt"
check "show: ruv2 is port 2" grep -qx '  port 2: ruv2' "$work/show.txt"
check "local port is a real device" ip link show $DP
check "dump-dps" sh -c "$U dump-dps | grep -qx netdev@$DP"
check "add-dp again fails (exists)" sh -c "$U add-dp $DP 2>&1 | grep -q 'File exists'"

# Errors.
$U add-flow $DP "in_port(1),eth(),eth_type(0x0800),ipv4(dts=10.0.0.1)" 2 >"$work/err.txt" 2>&1
cat "$work/err.txt"
check "bad flow syntax: caret under the offending token" \
    test "$(awk 'NR==2{l=$0} NR==3{p=index($0,"^"); print substr(l,p,3)}' "$work/err.txt")" = dts
check "bad action syntax says actions" sh -c "$U add-flow $DP 'in_port(1),eth(),eth_type(0x0806)' 'push_vlan(vid=99999)' 2>&1 | grep -q '^rvs-dpctl: actions: '"
check "missing datapath: clear error" sh -c "$U dump-flows nodp 2>&1 | grep -q 'no userspace datapath nodp is running'"
if command -v setpriv >/dev/null; then
    check "unprivileged add-flow: CAP_NET_ADMIN needed" sh -c \
        "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all $U add-flow $DP 'in_port(1),eth(),eth_type(0x0806)' 2 2>&1 | grep -q 'CAP_NET_ADMIN is needed'"
    check "unprivileged dump-flows works" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all $U dump-flows $DP
fi

# Forwarding both ways.
IP1="in_port(1),eth(),eth_type(0x0800),ipv4()"
IP2="in_port(2),eth(),eth_type(0x0800),ipv4()"
check "add-flow ip 1->2 (with ufid)" $U add-flow $DP "ufid:11111111-2222-3333-4444-555555555555,$IP1" 2
check "add-flow ip 2->1" $U add-flow $DP "$IP2" 1
check "add-flow arp 1->2" $U add-flow $DP "in_port(1),eth(),eth_type(0x0806)" 2
check "add-flow arp 2->1" $U add-flow $DP "in_port(2),eth(),eth_type(0x0806)" 1
check "add-flow of an existing flow fails" sh -c "$U add-flow $DP '$IP2' 1 2>&1 | grep -q 'File exists'"
check "ping h1 -> h2" ip netns exec ruh1 ping -c 3 -i 0.2 -W 2 10.77.0.2
check "ping h2 -> h1" ip netns exec ruh2 ping -c 2 -i 0.2 -W 2 10.77.0.1

head -c 20000000 /dev/urandom >"$work/blob"
ip netns exec ruh2 python3 -m http.server 8080 --bind 10.77.0.2 --directory "$work" >/dev/null 2>&1 &
HTTP_PID=$!
for i in 1 2 3 4 5 6 7 8 9 10; do ip netns exec ruh1 sh -c "exec 3<>/dev/tcp/10.77.0.2/8080" 2>/dev/null && break; sleep 0.3; done
check "TCP: 20 MB over HTTP with offloads on, intact" sh -c \
    "ip netns exec ruh1 curl -s --max-time 30 -o $work/got http://10.77.0.2:8080/blob && cmp -s $work/blob $work/got"
kill "$HTTP_PID" 2>/dev/null; HTTP_PID=""

$U dump-flows -m $DP >"$work/flows.txt" 2>&1; cat "$work/flows.txt"
pk() { sed -n "s/.*in_port($1),eth_type($2), packets:\([0-9]*\).*/\1/p" "$work/flows.txt"; }
check "dump-flows: 1->2 ip counter moved" test "$(pk 1 0x0800)" -ge 5
check "dump-flows: 2->1 ip counter moved (TCP data)" test "$(pk 2 0x0800)" -ge 100
check "dump-flows: bytes counted (>= 20 MB back)" sh -c "grep 'in_port(2),eth_type(0x0800)' $work/flows.txt | grep -Eq 'bytes:[0-9]{8,}'"
check "dump-flows -m: the ufid we gave" grep -q '^ufid:11111111-2222-3333-4444-555555555555, in_port(1)' "$work/flows.txt"
check "dump-flows: tcp flags seen" sh -c "grep 'in_port(2),eth_type(0x0800)' $work/flows.txt | grep -q 'flags:S'"
check "get-flow by ufid" sh -c "$U get-flow $DP ufid:11111111-2222-3333-4444-555555555555 | grep -q 'actions:2$'"
check "show: hits counted" sh -c "$U show $DP | grep -Eq 'lookups: hit:[1-9][0-9]* '"

# del-flow stops traffic one way.
check "del-flow ip 1->2 (by key)" $U del-flow $DP "$IP1"
check_not "ping fails without the flow" ip netns exec ruh1 ping -c 2 -i 0.2 -W 1 10.77.0.2
check "get-flow of the deleted flow fails" sh -c "! $U get-flow $DP ufid:11111111-2222-3333-4444-555555555555 2>/dev/null"
check "misses counted" sh -c "$U show $DP | grep -Eq 'lookups: hit:[0-9]+ missed:[1-9]'"
check "re-add, ping passes again" sh -c "$U add-flow $DP '$IP1' 2 && ip netns exec ruh1 ping -c 2 -i 0.2 -W 2 10.77.0.2"

# MAC rewrite + VLAN push 1->2, checked on frames captured in h2.
check "mod-flow 1->2: set eth src, push vlan 10 pcp 3" $U mod-flow $DP "$IP1" \
    "set(eth(src=02:aa:bb:cc:dd:01,dst=$mac2)),push_vlan(vid=10,pcp=3),2"
ip netns exec ruh2 timeout 5 tcpdump -U -e -nn -i eth0 -c 2 -w "$work/h2.pcap" 'vlan 10' >/dev/null 2>&1 &
tcpd=$!
sleep 1
ip netns exec ruh1 ping -c 3 -i 0.3 -W 1 10.77.0.2 >/dev/null 2>&1
wait $tcpd
tcpdump -e -nn -r "$work/h2.pcap" 2>/dev/null >"$work/h2.txt"; cat "$work/h2.txt"
check "captured: tagged vlan 10, p 3" grep -q 'vlan 10, p 3' "$work/h2.txt"
check "captured: rewritten source MAC" grep -q '^.*02:aa:bb:cc:dd:01 > ' "$work/h2.txt"
check "captured: still the ICMP echo inside" grep -q 'ICMP echo request' "$work/h2.txt"

# VLAN pop 2->1: a tagged frame (vid 20) from a raw socket in h2 arrives untagged in h1.
check "add-flow 2->1 for vlan 20: pop_vlan" $U add-flow $DP "in_port(2),eth(),eth_type(0x8100),vlan(vid=20),encap(eth_type(0x0800),ipv4())" "pop_vlan,1"
ip netns exec ruh1 timeout 5 tcpdump -U -e -nn -i eth0 -c 1 -w "$work/h1.pcap" 'udp port 9999' >/dev/null 2>&1 &
tcpd=$!
sleep 1
ip netns exec ruh2 python3 - "$mac1" "$mac2" <<'EOF'
import socket, struct, sys
dst = bytes.fromhex(sys.argv[1].replace(':', '')); src = bytes.fromhex(sys.argv[2].replace(':', ''))
payload = b'rvs-vlan-pop-test'
udp = struct.pack('!HHHH', 5555, 9999, 8 + len(payload), 0) + payload
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([10,77,0,2]), bytes([10,77,0,1]))
s = sum(struct.unpack('!10H', ip)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
frame = dst + src + struct.pack('!HH', 0x8100, 20) + struct.pack('!H', 0x0800) + ip + udp
sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); sk.bind(('eth0', 0))
for _ in range(3): sk.send(frame)
EOF
wait $tcpd
tcpdump -e -nn -r "$work/h1.pcap" 2>/dev/null >"$work/h1.txt"; cat "$work/h1.txt"
check "captured in h1: the frame arrived" grep -q '10.77.0.2.5555 > 10.77.0.1.9999' "$work/h1.txt"
check "captured in h1: untagged (ethertype IPv4, no vlan)" sh -c "grep -q 'ethertype IPv4' $work/h1.txt && ! grep -q vlan $work/h1.txt"
check "dump-flows: the pop flow counted" sh -c "$U dump-flows $DP | grep 'vlan(vid=20' | grep -Eq 'packets:[1-9]'"

check "del-flows" $U del-flows $DP
check "no flows left" sh -c "[ -z \"\$($U dump-flows $DP)\" ]"
check "del-if ruv2" $U del-if $DP ruv2
check_not "ruv2 gone from show" sh -c "$U show $DP | grep -q ruv2"
check "del-dp" $U del-dp $DP
sleep 0.3
check_not "socket removed" test -e "$RVS_RUN_DIR/$DP.sock"
check_not "local tap removed" ip link show $DP
finish

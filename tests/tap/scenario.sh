# VM tap interfaces as rvs ports: the scenario shared by tap-kernel.sh (rvs.ko in UML, datapath_type=system) and
# tap-userspace-host.sh (the userspace datapath on the host, datapath_type=netdev). Sourced after tests/lib.sh;
# tap_setup DIRPREFIX, then tap_scenario system|netdev, then tap_cleanup.
#
# The "VM" is tests/tap/tapvm.py: it creates its tap as QEMU does (/dev/net/tun, IFF_TAP|IFF_NO_PI, IFF_MULTI_QUEUE
# with several queues, not persistent; it can detach queues as QEMU does), answers ARP and ICMP echo, pings out and
# counts UDP per queue. The test brings the tap up as QEMU's ifup script would, and attaches it with rvs-vsctl
# add-port. Every name is prefixed "tap" (netns tap-h1, devices tapv1/tapvm0) so the host variant cannot collide with other tests.

tap_setup() {
    bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
    for b in rvs-vswitchd rvs-appctl rvs-vsctl rvs-dpctl; do
        [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl -p rvs-dpctl)"; exit 1; }
    done
    work=$(mktemp -d "$1.XXXXXX")
    chmod 755 "$work"
    export RVS_RUN_DIR=$work
    V="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
    A="$bin/rvs-appctl"
    VM_PID=""
    VM_N=0
}

tap_cleanup() {
    [ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null && wait "$VM_PID" 2>/dev/null
    VM_PID=""
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        $A exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    cleanup_netns
    ip link del tapv1 2>/dev/null
    if [ "$RVS_FAILED" != 0 ]; then
        for f in "$work"/vm.*.out; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
        [ -f "$work/vswitchd.log" ] && { echo "--- rvs-vswitchd log (last 60 lines)"; tail -n 60 "$work/vswitchd.log"; }
    fi
    [ -n "${RVS_OUT:-}" ] && cp "$work/vswitchd.log" "$RVS_OUT/tap-vswitchd-${TAP_TYPE:-x}.log" 2>/dev/null
    rm -rf "$work"
}

# tap_wait CMD...: retries CMD for up to 10 s.
tap_wait() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge 50 ] && return 1
        sleep 0.2
    done
}

# vm_start QUEUES [tapvm.py options]: starts the VM on tapvm0 (MAC 02:00:00:62:00:10, 10.62.0.10) in the
# background, waits until its tap exists, and brings the tap up (QEMU's ifup script's job). VM_OUT is its output.
vm_start() {
    q=$1; shift
    VM_N=$((VM_N + 1))
    VM_OUT=$work/vm.$VM_N.out
    python3 "$RVS_REPO/tests/tap/tapvm.py" --name tapvm0 --mac 02:00:00:62:00:10 --ip 10.62.0.10/24 \
        --queues "$q" --serve -1 "$@" >"$VM_OUT" 2>&1 &
    VM_PID=$!
    tap_wait grep -q READY "$VM_OUT" && ip link set tapvm0 up
}

# vm_boot CHECKNAME QUEUES [options] / vm_halt CHECKNAME: vm_start / vm_stop as checks (not through `check`,
# whose command substitution would run them in a subshell: VM_PID would be lost, and `wait` needs the parent).
vm_boot() { n=$1; shift; if vm_start "$@"; then pass "$n"; else fail "$n: tap tapvm0 not created: $(cat "$VM_OUT")"; fi; }
vm_halt() { if vm_stop; then pass "$1"; else fail "$1: VM exit status $?: $(cat "$VM_OUT")"; fi; }

# vm_stop: the VM exits (SIGTERM; it closes its descriptors, so the non-persistent tap disappears).
vm_stop() {
    kill "$VM_PID" && wait "$VM_PID"
    VM_PID=""
}

# vm_ping_ok: the VM's own ping out (--ping) got every reply.
vm_ping_ok() { tap_wait grep -q '^PING ' "$VM_OUT"; grep -q '^PING OK' "$VM_OUT"; }
# dp_lists NAME: the datapath has a port NAME (dpif/show: "    NAME OFPORT/DPPORT: (type)").
dp_lists() { $A dpif/show | grep -q "^    $1 "; }
h_ping_ok() { ip netns exec tap-h1 ping -c 2 -i 0.2 -W 2 "$1"; }
h_ping_fails() { ! ip netns exec tap-h1 ping -c 2 -i 0.2 -W 1 "$1"; }
# udp_flows N: tap-h1 sends one datagram to the VM from each of N source ports (N flows for the tap's queue hash).
udp_flows() {
    ip netns exec tap-h1 python3 -c "
import socket
for p in range(40000, 40000 + $1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('10.62.0.1', p))
    s.sendto(b'rvs-tap', ('10.62.0.10', 9))
    s.close()"
}
# iface_error_gone: the Interface row's error column is empty.
iface_error_gone() { test "$($V get interface tapvm0 error)" = '[]'; }

tap_scenario() {
    ty=$1
    lbl=${TAP_LABEL:-$ty}   # prefix of the check names
    echo "=== VM tap ports, datapath_type=$ty"
    check "$lbl: rvs-vswitchd starts" "$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log"
    check "$lbl: add-br br0" $V add-br br0 -- set bridge br0 datapath_type="$ty"
    netns_host tap-h1 10.62.0.1/24 tapv1
    ip netns exec tap-h1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    check "$lbl: add-port the netns host" $V add-port br0 tapv1

    # A single-queue VM, attached after it started (the usual hypervisor order).
    vm_boot "$lbl: VM creates tapvm0 (IFF_TAP|IFF_NO_PI)" 1 --ping 10.62.0.1
    check "$lbl: tap is not persistent (tun_flags)" sh -c "test \$((\$(cat /sys/class/net/tapvm0/tun_flags) & 0x800)) = 0"
    check "$lbl: rvs-vsctl add-port br0 tapvm0" $V add-port br0 tapvm0
    check "$lbl: datapath port for the tap" dp_lists tapvm0
    check "$lbl: ofport written back" test "$($V get interface tapvm0 ofport)" -ge 1
    check "$lbl: ifindex written back" test "$($V get interface tapvm0 ifindex)" = "$(cat /sys/class/net/tapvm0/ifindex)"
    check "$lbl: frames the VM writes are switched (VM pings the host)" vm_ping_ok
    check "$lbl: frames for the VM are readable from its fd (host pings the VM)" h_ping_ok 10.62.0.10
    check "$lbl: fdb/show learned the VM's MAC" sh -c "$A fdb/show br0 | grep -q 02:00:00:62:00:10"
    of1=$($V get interface tapvm0 ofport)
    if [ "$ty" = system ]; then
        check "$lbl: kernel: ovs-dpctl show lists the tap" sh -c "ovs-dpctl show ovs-system | grep -q 'port [0-9]*: tapvm0$'"
    fi
    echo "(ip link set tapvm0 master br0: needs brctl compatibility, not covered here)"

    # The VM shuts down: the tap disappears, the port goes away cleanly.
    vm_halt "$lbl: VM exits"
    check "$lbl: the tap is gone with the VM" sh -c "! ip link show tapvm0 2>/dev/null"
    check "$lbl: datapath port detached" tap_wait sh -c "! $A dpif/show | grep -q '^    tapvm0 '"
    if [ "$ty" = system ]; then
        check "$lbl: kernel: ovs-dpctl show no longer lists it" sh -c "! ovs-dpctl show ovs-system | grep -q tapvm0"
        check "$lbl: kernel: rvs-dpctl show no longer lists it" sh -c "$bin/rvs-dpctl show ovs-system | grep -q tapv1 && ! $bin/rvs-dpctl show ovs-system | grep -q tapvm0"
    fi
    check "$lbl: interface error reported" tap_wait sh -c "$V get interface tapvm0 error | grep -q 'No such device'"
    check "$lbl: ofport -1 while the tap is gone" test "$($V get interface tapvm0 ofport)" = -1
    check "$lbl: the other port still works (daemon alive)" $A version

    # The VM boots again, now with 4 queues: the port comes back with its OpenFlow number.
    vm_boot "$lbl: VM re-creates tapvm0 with 4 queues (IFF_MULTI_QUEUE)" 4 --ping 10.62.0.1 --count 8
    check "$lbl: tap is multi-queue" sh -c "test \$((\$(cat /sys/class/net/tapvm0/tun_flags) & 0x100)) != 0"
    check "$lbl: re-created tap re-attached" tap_wait dp_lists tapvm0
    check "$lbl: error cleared" tap_wait iface_error_gone
    check "$lbl: same ofport as before" test "$($V get interface tapvm0 ofport)" = "$of1"
    check "$lbl: multi-queue: frames written on each of the 4 queues are switched (VM pings x8)" vm_ping_ok
    check "$lbl: multi-queue: host pings the VM" h_ping_ok 10.62.0.10
    check "$lbl: multi-queue: 32 UDP flows sent to the VM" udp_flows 32
    sleep 1
    vm_halt "$lbl: multi-queue VM exits"
    cat "$VM_OUT"
    udp=$(sed -n 's/^UDP //p' "$VM_OUT")
    total=0; used=0
    for f in $udp; do n=${f#*=}; total=$((total + n)); [ "$n" -gt 0 ] && used=$((used + 1)); done
    check "$lbl: multi-queue: all 32 datagrams read from the queues" test "$total" = 32
    check "$lbl: multi-queue: frames spread over several queues ($udp)" test "$used" -ge 2
    check "$lbl: multi-queue tap detached" tap_wait sh -c "! $A dpif/show | grep -q '^    tapvm0 '"

    # The guest lowers its queue count (ethtool -L): QEMU detaches queues 1-3 (TUNSETQUEUE IFF_DETACH_QUEUE) and the
    # port must keep working on the one left.
    vm_boot "$lbl: VM with 4 queues" 4 --shrink-after 0.5
    check "$lbl: attached" tap_wait dp_lists tapvm0
    check "$lbl: VM detached queues 1-3" tap_wait grep -q '^SHRUNK' "$VM_OUT"
    check "$lbl: host pings the VM on its remaining queue" h_ping_ok 10.62.0.10
    check "$lbl: 16 UDP flows sent to the VM" udp_flows 16
    sleep 1
    vm_halt "$lbl: VM exits"
    check "$lbl: queues detached: all 16 datagrams on queue 0 ($(sed -n 's/^UDP //p' "$VM_OUT"))" grep -q '^UDP q0=16 q1=0 q2=0 q3=0$' "$VM_OUT"
    check "$lbl: detached" tap_wait sh -c "! $A dpif/show | grep -q '^    tapvm0 '"

    # A quick reboot: the tap is destroyed and re-created at once (sooner than the daemon's periodic check), and
    # the new device (new ifindex) must be the one switched.
    vm_boot "$lbl: VM boots" 1
    check "$lbl: attached" tap_wait dp_lists tapvm0
    check "$lbl: host pings the VM" h_ping_ok 10.62.0.10
    old=$(cat /sys/class/net/tapvm0/ifindex)
    kill "$VM_PID"; wait "$VM_PID"
    vm_boot "$lbl: VM reboots at once" 1 --ping 10.62.0.1
    check "$lbl: new tap, new ifindex" test "$(cat /sys/class/net/tapvm0/ifindex)" != "$old"
    check "$lbl: after a quick reboot the VM pings out" vm_ping_ok
    check "$lbl: after a quick reboot the host pings the VM" h_ping_ok 10.62.0.10
    check "$lbl: ifindex column follows the new device" tap_wait sh -c "test \"\$($V get interface tapvm0 ifindex)\" = $(cat /sys/class/net/tapvm0/ifindex)"
    check "$lbl: del-port while the VM runs" $V del-port br0 tapvm0
    check "$lbl: port removal stops traffic" h_ping_fails 10.62.0.10
    check "$lbl: the VM's tap survives del-port" ip link show tapvm0
    vm_halt "$lbl: VM exits"
    check "$lbl: del-br" $V del-br br0
    check "$lbl: exit --cleanup" $A exit --cleanup
    i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    cleanup_netns
}

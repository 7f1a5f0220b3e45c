# Shared setup of the tests/openflow host tests (sourced after tests/lib.sh): an rvs-vswitchd with its embedded
# database in a private RVS_RUN_DIR (also OVS_RUNDIR, so Debian's ovs-ofctl finds BRIDGE.mgmt there), one
# userspace-datapath bridge, netns hosts on veths. Names start with "connmgr" (host-test naming rule).

of_setup() {
    bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
    for b in rvs-vswitchd rvs-appctl rvs-ofctl; do
        [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)"; exit 1; }
    done
    work=$(mktemp -d "/tmp/connmgr-$1.XXXXXX")
    chmod 755 "$work"
    export RVS_RUN_DIR=$work OVS_RUNDIR=$work
    V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
    A="$bin/rvs-appctl"
    BR=connmgr-br0
    BG_PIDS=""
    "$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log" -v connmgr:dbg
}

# of_host N: netns connmgrN with 10.57.0.N/24 on eth0, veth connmgr-vN in the root namespace.
of_host() {
    netns_host "connmgr$1" "10.57.0.$1/24" "connmgr-v$1"
    ip netns exec "connmgr$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# of_wait CMD...: retries CMD for up to 10 s.
of_wait() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -ge 50 ] && return 1
        sleep 0.2
    done
}

of_ping() { ip netns exec "connmgr$1" ping -c 2 -i 0.2 -W 2 "10.57.0.$2"; }
of_ping_fails() { ! ip netns exec "connmgr$1" ping -c 2 -i 0.2 -W 1 "10.57.0.$2"; }

of_cleanup() {
    for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
    for f in "$work"/ref/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        $A exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    cleanup_netns
    for v in connmgr-v1 connmgr-v2 connmgr-v3 connmgr-v4 connmgr-ref0; do ip link del $v 2>/dev/null; done
    if [ "$RVS_FAILED" != 0 ] && [ -f "$work/vswitchd.log" ]; then
        echo "--- rvs-vswitchd log (last 60 lines)"; tail -n 60 "$work/vswitchd.log"
    fi
    rm -rf "$work"
}

# Shared helpers for rvs's in-VM test scripts (sourced, POSIX sh). Each test prints one
# "PASS: name" or "FAIL: name: why" line per check and exits non-zero if any check failed.
# Topology helpers create network namespaces and veth pairs and remove them on exit.

RVS_FAILED=0
RVS_NETNS=""

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; RVS_FAILED=1; }
# check NAME CMD...: runs CMD, PASS if it succeeds, FAIL (with its output) if not.
check() {
    name=$1; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name: $* -> $out"; fi
}
# check_not NAME CMD...: PASS if CMD fails.
check_not() {
    name=$1; shift
    if out=$("$@" 2>&1); then fail "$name: '$*' unexpectedly succeeded: $out"; else pass "$name"; fi
}
finish() {
    cleanup_netns
    [ "$RVS_FAILED" = 0 ] && echo "RESULT: PASS" || echo "RESULT: FAIL"
    exit "$RVS_FAILED"
}

# netns_host NAME ADDR/PLEN VETH: a namespace NAME whose eth0 is one end of a veth pair; the other end is VETH in
# the current namespace, up, ready to be attached to a switch.
netns_host() {
    ip netns add "$1"
    RVS_NETNS="$RVS_NETNS $1"
    ip link add "$3" type veth peer name eth0 netns "$1"
    ip link set "$3" up
    ip -n "$1" link set lo up
    ip -n "$1" addr add "$2" dev eth0
    ip -n "$1" link set eth0 up
}
cleanup_netns() {
    for ns in $RVS_NETNS; do ip netns del "$ns" 2>/dev/null; done
    RVS_NETNS=""
}
# dmesg_has PATTERN: the kernel log contains an extended regex.
dmesg_has() { dmesg | grep -Eq "$1"; }

# insmod_rvs: loads rvs.ko (a check); without an rvs.ko built for this kernel the test fails and finishes here.
insmod_rvs() {
    if ! [ -f "$RVS_KO" ]; then fail "rvs.ko built for this kernel ($RVS_KO)"; finish; fi
    check "insmod rvs.ko" insmod "$RVS_KO"
}
# load_reference: loads the in-tree openvswitch.ko (the reference peer); fails the test (status 1) if it cannot.
load_reference() {
    modprobe -d "$RVS_KDIR/modroot" openvswitch && return 0
    fail "openvswitch.ko loads (reference peer)"
    return 1
}

# on_both_modules NAME VAR SCRIPT: runs the host scenario SCRIPT on the kernel datapath (VAR=system in its
# environment), first with rvs.ko, then with the upstream openvswitch.ko in the same boot; one check per module.
on_both_modules() {
    obm_name=$1 obm_var=$2 obm_script=$3
    if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
        echo "=== datapath module: rvs.ko"
        if env "$obm_var=system" sh "$obm_script"; then pass "rvs.ko: $obm_name scenario"; else fail "rvs.ko: $obm_name scenario"; fi
        ovs-dpctl del-dp ovs-system 2>/dev/null
        check "rmmod rvs" rmmod rvs
    else
        fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
    fi
    if load_reference; then
        echo "=== datapath module: openvswitch.ko"
        if env "$obm_var=system" sh "$obm_script"; then pass "openvswitch.ko: $obm_name scenario"; else fail "openvswitch.ko: $obm_name scenario"; fi
        ovs-dpctl del-dp ovs-system 2>/dev/null
        rmmod openvswitch
    fi
}

# udp_blast NS DST SECS: 1000-byte UDP datagrams from netns NS to DST port 9 for SECS s, as fast as Python sends them.
udp_blast() {
    ip netns exec "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1]); p = b"x" * 1000
while time.time() < end:
    for _ in range(50):
        try: s.sendto(p, (sys.argv[2], 9))
        except OSError: pass
' "$3" "$2"
}

# blast_kbps SRC_NS DST_NS DST SECS [SETTLE]: udp_blast SRC_NS DST SECS, then SETTLE s (0.3); prints the kbit/s
# DST_NS's eth0 received over the whole time.
blast_kbps() {
    _a=$(ip netns exec "$2" cat /sys/class/net/eth0/statistics/rx_bytes)
    _t0=$(date +%s%N)
    udp_blast "$1" "$3" "$4"
    sleep "${5:-0.3}"
    _b=$(ip netns exec "$2" cat /sys/class/net/eth0/statistics/rx_bytes)
    _t1=$(date +%s%N)
    echo $(( (_b - _a) * 8 * 1000000 / (_t1 - _t0) ))
}

# wait_for SECS CMD...: runs CMD (output hidden) every 0.2 s until it succeeds; fails once SECS s passed without.
wait_for() {
    _n=$(( $1 * 5 )); shift
    while ! "$@" >/dev/null 2>&1; do
        _n=$((_n - 1)); [ "$_n" -gt 0 ] || return 1
        sleep 0.2
    done
}

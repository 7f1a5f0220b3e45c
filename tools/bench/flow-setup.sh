#!/bin/sh
# Flow setup benchmark (not a test): how many new flows per second go upcall -> translate -> install (+ execute),
# rvs-vswitchd vs Debian's ovs-vswitchd 3.1, both driving the upstream openvswitch.ko, in one boot of the test kernel.
#
#   tools/bench/flow-setup.sh [--arch um|x86_64] [--variant release|debug]    (on the host: boots the VM)
#   Build first: (cd userspace && cargo build --release -p rvs-vswitchd)
#
# Topology: pktgen on pg0 == veth == p1 [br0, NORMAL, fail_mode standalone] p2 == veth == sink.
# Every frame pktgen sends is a new flow: its source MAC increments per packet (src_mac_count 16M) and its UDP
# source port is random. The NORMAL action's megaflow matches the Ethernet addresses (and wildcards L3/L4, in both
# daemons), so it is the new source MAC that makes each packet miss; the 5-tuple is new too. The destination MAC is
# unknown, so every flow floods to p2 (and the bridge's local port, which is down).
# pktgen offers RATE packets/s (each rate in RATES is measured; a faster offer than the daemon can absorb only
# burns the single UML CPU in the kernel's upcall queueing, so the best of the rates is the daemon's capacity).
# Over SECS seconds after a 1 s warm-up we count: flows installed (the daemon's own counter of successful flow puts:
# rvs-appctl upcall/show, ovs-appctl coverage/read-counter dpif_flow_put), frames the sink received (each one went
# through the daemon: upcall, translate, execute), the datapath's missed/lost upcalls, and the change of the datapath's
# flow count (installs minus what the revalidator deleted meanwhile).
# Each daemon starts fresh (empty MAC table, no flows) for every rate.
#
# Knobs (environment): SECS (3), REPEAT (2: runs per daemon and rate, interleaved; the best counts), RATES ("1000 2000 4000"), SWITCHES ("rvs ovs"; "rvsko" adds rvs-vswitchd on
# rvs.ko), OVS_FLOW_LIMIT (200000: ovs-vswitchd's other_config:flow-limit; note that ovs-vswitchd starts its
# dynamic limit at min(flow-limit, 10000) and raises it as revalidation keeps up).
#
# Under UML the kernel and both daemons share one host CPU (UML is uniprocessor): the ratio is meaningful, the
# absolute numbers are UML's.
if [ -z "${RVS_KDIR:-}" ]; then
    repo=$(cd "$(dirname "$0")/../.." && pwd)
    arch=um variant=release
    while [ $# -gt 0 ]; do
        case $1 in --arch) arch=$2; shift 2 ;; --variant) variant=$2; shift 2 ;; *) break ;; esac
    done
    [ -x "$repo/userspace/target/release/rvs-vswitchd" ] || {
        echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd)"; exit 1; }
    "$repo/tools/kmod.sh" "$arch" "$variant" >/dev/null || exit 1
    for v in SECS REPEAT RATES SWITCHES OVS_FLOW_LIMIT; do
        eval "x=\${$v:-}"
        [ -n "$x" ] && set -- "$@" "$v=$x"
    done
    exec "$repo/tools/vm/run" --arch "$arch" --variant "$variant" --timeout 1800 "$repo/tools/bench/flow-setup.sh" "$@"
fi
for a in "$@"; do case $a in *=*) export "${a%%=*}=${a#*=}" ;; esac; done

SECS=${SECS:-3}
REPEAT=${REPEAT:-2}
RATES=${RATES:-1000 2000 4000}
SWITCHES=${SWITCHES:-rvs ovs}
OVS_FLOW_LIMIT=${OVS_FLOW_LIMIT:-200000}
MODROOT=$RVS_KDIR/modroot
BIN=$RVS_REPO/userspace/target/release
OUT=${RVS_OUT:-/tmp}/flow-setup
W=/tmp/fs-work
mkdir -p "$OUT" /var/run/openvswitch
. "$RVS_REPO/tests/kmod/lib/ovs.sh"

modprobe -d "$MODROOT" pktgen || { echo "bench: no pktgen module"; exit 1; }
ip link add pg0 type veth peer name p1
ip link add p2 type veth peer name sink
for d in pg0 p1 p2 sink; do ip link set $d up; sysctl -qw net.ipv6.conf.$d.disable_ipv6=1; done
SINKMAC=02:00:00:00:00:99
V="ovs-vsctl --db=unix:$W/db.sock --timeout=20"

pg() { echo "$1" > "$2" || echo "bench: pktgen '$1' failed" >&2; }
rx() { cat /sys/class/net/sink/statistics/rx_packets; }
# dpstat: "FLOWS MISSED LOST" of ovs-system.
dpstat() {
    ovs-dpctl show ovs-system 2>/dev/null | awk '
        /lookups:/ { for (i = 1; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == "missed") m = kv[2]; if (kv[1] == "lost") l = kv[2] } }
        /flows:/ { f = $2 }
        END { printf "%d %d %d\n", f, m, l }'
}

# daemon_start SWITCH / daemon_stop SWITCH: a fresh daemon with br0 (p1, p2) on the loaded module.
daemon_start() {
    rm -rf "$W"; mkdir -p "$W"
    case $1 in
    rvs|rvsko)
        RVS_RUN_DIR=$W "$BIN/rvs-vswitchd" --db-file="$W/conf.db" --detach --pidfile --log-file="$W/vswitchd.log" \
            || return 1
        ;;
    ovs)
        ovs_start "$W" || return 1
        $V set open_vswitch . other_config:flow-limit="$OVS_FLOW_LIMIT" || return 1
        ;;
    esac
    $V add-br br0 -- add-port br0 p1 -- add-port br0 p2 || return 1
    sleep 1
}
daemon_stop() {
    case $1 in
    rvs|rvsko)
        [ -s "$W/rvs-vswitchd.pid" ] && kill "$(cat "$W/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$W/rvs-vswitchd.pid" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
        ovs-dpctl del-dp ovs-system 2>/dev/null
        ;;
    ovs) ovs_stop "$W" ;;
    esac
    cp "$W/vswitchd.log" "$OUT/vswitchd-$1-$2.log" 2>/dev/null
}

# installs SWITCH: flows the daemon has installed so far (its own counter: rvs-appctl upcall/show, ovs-vswitchd's
# dpif_flow_put coverage counter).
installs() {
    case $1 in
    rvs|rvsko) RVS_RUN_DIR=$W "$BIN/rvs-appctl" upcall/show 2>/dev/null | awk '/flows installed:/ { n += $3 } END { print n + 0 }' ;;
    ovs) ovs-appctl -t "/var/run/openvswitch/ovs-vswitchd.$(cat "$W/vswitchd.pid").ctl" coverage/read-counter dpif_flow_put \
            2>/dev/null || echo 0 ;;
    esac
}

# measure SWITCH RATE: prints "INSTALLS_PER_S DELIVERED_PER_S MISSED_PER_S LOST_PER_S NET_FLOWS_PER_S".
measure() {
    pg "rem_device_all" /proc/net/pktgen/kpktgend_0
    pg "add_device pg0" /proc/net/pktgen/kpktgend_0
    P=/proc/net/pktgen/pg0
    sw=$1
    for c in "count 0" "clone_skb 0" "pkt_size 60" "ratep $2" "dst 10.0.0.2" "src_min 10.0.0.1" "src_max 10.0.0.1" \
             "dst_mac $SINKMAC" "src_mac 02:10:00:00:00:00" "src_mac_count 16000000" "udp_dst_min 9" "udp_dst_max 9" \
             "udp_src_min 1" "udp_src_max 65535" "flag UDPSRC_RND"; do
        pg "$c" $P
    done
    echo start > /proc/net/pktgen/pgctrl &
    starter=$!
    sleep 1
    set -- $(dpstat) $(rx) $(installs "$sw") $(date +%s%N)
    f0=$1 m0=$2 l0=$3 r0=$4 i0=$5 t0=$6
    sleep "$SECS"
    set -- $(dpstat) $(rx) $(installs "$sw") $(date +%s%N)
    f1=$1 m1=$2 l1=$3 r1=$4 i1=$5 t1=$6
    echo stop > /proc/net/pktgen/pgctrl
    wait $starter 2>/dev/null
    echo "$f0 $f1 $r0 $r1 $m0 $m1 $l0 $l1 $i0 $i1 $t0 $t1" | awk '{ d = ($12 - $11) / 1e9;
        printf "%.0f %.0f %.0f %.0f %.0f\n", ($10 - $9) / d, ($4 - $3) / d, ($6 - $5) / d, ($8 - $7) / d, ($2 - $1) / d }'
}

ovs_wait_uptime
rm -f "$OUT"/res-*
run=0
while [ $run -lt "$REPEAT" ]; do
run=$((run + 1))
for rate in $RATES; do
    for sw in $SWITCHES; do
        if [ "$sw" = rvsko ]; then insmod "$RVS_KO" || continue; else modprobe -d "$MODROOT" openvswitch || continue; fi
        if daemon_start "$sw"; then
            set -- $(measure "$sw" "$rate")
            echo "  run $run: $sw offered $rate/s: flows installed $1/s, new-flow frames delivered $2/s, missed $3/s," \
                "lost $4/s, datapath flow count $5/s" >&2
            f=$OUT/res-$sw-$rate
            if ! [ -f "$f" ] || [ "$1" -gt "$(cut -d' ' -f1 "$f")" ]; then echo "$*" > "$f"; fi
        else
            echo "bench: starting $sw failed" >&2
        fi
        daemon_stop "$sw" "$rate"
        if [ "$sw" = rvsko ]; then rmmod rvs; else rmmod openvswitch; fi
        sleep 1
    done
done
done

best() { # best SWITCH: the highest flows/s over the rates, with its delivered rate and offered rate
    for r in $RATES; do [ -f "$OUT/res-$1-$r" ] && echo "$(cat "$OUT/res-$1-$r") $r"; done | sort -n -k1 | tail -n 1
}
echo
echo "Flow setup, $RVS_ARCH $(uname -r): each frame a new flow (new source MAC, random UDP source port),"
echo "NORMAL bridge, $SECS s measured per offered rate, best of $REPEAT runs; flows/s = flows installed per second"
[ "$RVS_ARCH" = um ] && echo "(User-Mode Linux: kernel and daemon share one host CPU)" \
    || echo "(QEMU TCG: emulated, compare ratios only)"
printf '%-34s %10s %12s %14s %12s %12s %12s\n' daemon "offered/s" "flows/s" "delivered/s" "missed/s" "lost/s" "dp-flows/s"
for sw in $SWITCHES; do
    for r in $RATES; do
        [ -f "$OUT/res-$sw-$r" ] || continue
        set -- $(cat "$OUT/res-$sw-$r")
        case $sw in rvs) n="rvs-vswitchd on openvswitch.ko" ;; ovs) n="ovs-vswitchd on openvswitch.ko" ;;
            rvsko) n="rvs-vswitchd on rvs.ko" ;; esac
        printf '%-34s %10s %12s %14s %12s %12s %12s\n' "$n" "$r" "$1" "$2" "$3" "$4" "$5"
    done
done
rb=$(best rvs | cut -d' ' -f1); ob=$(best ovs | cut -d' ' -f1)
if [ -n "$rb" ] && [ -n "$ob" ] && [ "$ob" -gt 0 ]; then
    echo "best flows/s: rvs-vswitchd $rb, ovs-vswitchd $ob, ratio rvs/ovs $(echo "$rb $ob" | awk '{printf "%.2f", $1 / $2}')"
fi
echo "RESULT: PASS"
exit 0

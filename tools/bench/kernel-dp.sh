#!/bin/sh
# Kernel datapath forwarding benchmark (not a test): rvs.ko vs the upstream openvswitch.ko vs the Linux bridge, in
# one boot of the test kernel.
#
#   tools/bench/kernel-dp.sh [--arch um|x86_64] [--variant release|debug]     (on the host: boots the VM)
#
# pktgen sends 60-byte frames (64 on the wire with the FCS) on pg0; its veth peer p1 is a switch port; the switch
# forwards to port p2, whose veth peer "sink" counts them (rx_packets; they are addressed to another MAC, so the
# sink's stack drops them as soon as it sees them). The rate
# is measured over SECS seconds after a 1 s warm-up. Scenarios: a single flow (one mask), then MASKS masks x
# FLOWS_PER_MASK flows with the measured stream in the last mask, once with a fixed 5-tuple and once with random
# UDP source ports (every packet a different hash: the mask cache no longer helps). Each measurement runs REPEAT
# times, interleaved across switches, and the best run is reported. Ratios are to openvswitch.ko.
#
# Knobs (environment): SECS (10), MASKS (20), FLOWS_PER_MASK (10000), REPEAT (2), SWITCHES ("rvs ovs bridge"),
# SCENARIOS ("one many": the single flow, and the masks x flows table twice).
#
# Under UML the kernel code runs natively on one host CPU (UML is uniprocessor), so the ratios are meaningful;
# under x86_64 QEMU (TCG, no KVM on this host) everything is emulated and only the ratios mean anything.
if [ -z "${RVS_KDIR:-}" ]; then
    repo=$(cd "$(dirname "$0")/../.." && pwd)
    arch=um variant=release
    while [ $# -gt 0 ]; do
        case $1 in --arch) arch=$2; shift 2 ;; --variant) variant=$2; shift 2 ;; *) break ;; esac
    done
    "$repo/tools/kmod.sh" "$arch" "$variant" >/dev/null || exit 1
    # The guest does not inherit the environment: the knobs travel as VAR=value arguments.
    for v in SECS MASKS FLOWS_PER_MASK REPEAT SWITCHES SCENARIOS; do
        eval "x=\${$v:-}"
        [ -n "$x" ] && set -- "$@" "$v=$x"
    done
    exec "$repo/tools/vm/run" --arch "$arch" --variant "$variant" --timeout 1800 "$repo/tools/bench/kernel-dp.sh" "$@"
fi
for a in "$@"; do case $a in *=*) export "${a%%=*}=${a#*=}" ;; esac; done

SECS=${SECS:-10}
MASKS=${MASKS:-20}
FPM=${FLOWS_PER_MASK:-10000}
SCENARIOS=${SCENARIOS:-one many}
REPEAT=${REPEAT:-2}
SWITCHES=${SWITCHES:-rvs ovs bridge}
MODROOT=$RVS_KDIR/modroot
OUT=${RVS_OUT:-/tmp}/kernel-dp
mkdir -p "$OUT"

modprobe -d "$MODROOT" pktgen || { echo "bench: no pktgen module"; exit 1; }
ip link add pg0 type veth peer name p1
ip link add p2 type veth peer name sink
for d in pg0 p1 p2 sink; do ip link set $d up; done
# Frames go to a MAC that is not the sink's own: the sink drops them at the IP layer's door (PACKET_OTHERHOST)
# instead of routing each one, so less of the measured time is spent outside the switch under test.
SINKMAC=02:00:00:00:00:99
sleep 1

pg() { echo "$1" > "$2" || echo "bench: pktgen '$1' failed"; }
rx() { cat /sys/class/net/sink/statistics/rx_packets; }

# measure RANDOM_PORTS: prints packets per second at the sink.
measure() {
    pg "rem_device_all" /proc/net/pktgen/kpktgend_0
    pg "add_device pg0" /proc/net/pktgen/kpktgend_0
    P=/proc/net/pktgen/pg0
    for c in "count 0" "clone_skb 0" "pkt_size 60" "delay 0" "dst 10.0.0.2" "src_min 10.0.0.1" "src_max 10.0.0.1" \
             "dst_mac $SINKMAC" "udp_dst_min 9" "udp_dst_max 9" "udp_src_min 9" "udp_src_max 9"; do
        pg "$c" $P
    done
    if [ "$1" = 1 ]; then pg "udp_src_min 1" $P; pg "udp_src_max 65535" $P; pg "flag UDPSRC_RND" $P; fi
    echo start > /proc/net/pktgen/pgctrl &
    starter=$!
    sleep 1
    a=$(rx); t0=$(date +%s%N)
    sleep "$SECS"
    b=$(rx); t1=$(date +%s%N)
    echo stop > /proc/net/pktgen/pgctrl
    wait $starter 2>/dev/null
    echo $(( (b - a) * 1000000000 / (t1 - t0) ))
}

# flows FILE: MASKS x FPM flows; mask m matches the IPv4 source on a /(12+m) prefix and the destination exactly; the
# measured stream (10.0.0.1 -> 10.0.0.2) is one flow of the last mask.
gen_flows() {
    python3 - "$MASKS" "$FPM" > "$1" <<'EOF'
import sys
masks, fpm = int(sys.argv[1]), int(sys.argv[2])
for m in range(masks):
    plen = 12 + m
    nm = ".".join(str((((1 << 32) - (1 << (32 - plen))) >> s) & 255) for s in (24, 16, 8, 0))
    for j in range(fpm):
        dst = "10.0.0.2" if (m == masks - 1 and j == fpm - 1) else f"11.{m}.{j >> 8}.{j & 255}"
        print(f"in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.1/{nm},dst={dst}) 2")
EOF
}
gen_flows "$OUT/flows.txt"

# setup SWITCH SCENARIO / teardown SWITCH
setup() {
    case $1 in
    rvs|ovs)
        if [ "$1" = rvs ]; then insmod "$RVS_KO" || return 1; else modprobe -d "$MODROOT" openvswitch || return 1; fi
        ovs-dpctl add-dp dp0 && ovs-dpctl add-if dp0 p1 p2 || return 1
        if [ "$2" = one ]; then
            ovs-dpctl add-flow dp0 "in_port(1),eth(),eth_type(0x0800),ipv4()" 2 || return 1
        else
            t0=$(date +%s)
            ovs-dpctl add-flows dp0 "$OUT/flows.txt" || return 1
            echo "  $1: $(ovs-dpctl show dp0 | sed -n 's/.*flows: *//p') flows installed in $(( $(date +%s) - t0 )) s" >&2
        fi
        ;;
    bridge)
        modprobe -d "$MODROOT" bridge 2>/dev/null
        ip link add br0 type bridge && ip link set p1 master br0 && ip link set p2 master br0 && ip link set br0 up \
            || return 1
        bridge fdb add "$SINKMAC" dev p2 master static
        ;;
    esac
}
teardown() {
    case $1 in
    rvs|ovs)
        ovs-dpctl show dp0 | grep -E 'lookups|masks'
        ovs-dpctl del-dp dp0 >/dev/null 2>&1
        if [ "$1" = rvs ]; then rmmod rvs; else rmmod openvswitch; fi
        ;;
    bridge) ip link del br0 ;;
    esac
}

# run SCENARIO RANDOM SWITCHES...: best of REPEAT runs per switch, into $OUT/res-SCENARIO-RANDOM-SWITCH
run() {
    scen=$1 rnd=$2; shift 2
    r=0
    while [ $r -lt "$REPEAT" ]; do
        r=$((r + 1))
        for sw in "$@"; do
            if ! setup "$sw" "$scen"; then echo "bench: setup of $sw failed" >&2; teardown "$sw"; continue; fi
            pps=$(measure "$rnd")
            echo "  $scen/random-ports=$rnd $sw run $r: $pps pps" >&2
            teardown "$sw" 2>/dev/null | sed 's/^ */      /' >&2
            f=$OUT/res-$scen-$rnd-$sw
            if ! [ -f "$f" ] || [ "$pps" -gt "$(cat "$f")" ]; then echo "$pps" > "$f"; fi
        done
    done
}

rm -f "$OUT"/res-*
case " $SCENARIOS " in *" one "*) run one 0 $SWITCHES ;; esac
mflow_sw=$(echo "$SWITCHES" | tr ' ' '\n' | grep -v bridge | tr '\n' ' ')
case " $SCENARIOS " in *" many "*) run many 0 $mflow_sw; run many 1 $mflow_sw ;; esac

res() { cat "$OUT/res-$1-$2-$3" 2>/dev/null || echo 0; }
ratio() { [ "$2" -gt 0 ] && echo "$1 $2" | awk '{printf "%.2f", $1 / $2}' || echo "-"; }
echo
echo "Kernel datapath forwarding, $RVS_ARCH $(uname -r), 64-byte frames, pktgen -> veth -> switch -> veth,"
echo "counted at the sink over ${SECS} s, best of $REPEAT; ratios to openvswitch.ko"
[ "$RVS_ARCH" = um ] && echo "(User-Mode Linux: kernel code runs natively on one host CPU)" \
    || echo "(QEMU TCG: emulated, compare ratios only)"
printf '%-44s %12s %12s %12s %8s %8s\n' scenario "rvs.ko pps" "ovs.ko pps" "bridge pps" "rvs/ovs" "br/ovs"
for sc in "one 0 1 flow, 1 mask" "many 0 $MASKS masks x $FPM flows, one 5-tuple" \
          "many 1 $MASKS masks x $FPM flows, random UDP sports"; do
    set -- $sc; s=$1 rnd=$2; shift 2
    rv=$(res "$s" "$rnd" rvs); ov=$(res "$s" "$rnd" ovs); br=$(res "$s" "$rnd" bridge)
    printf '%-44s %12s %12s %12s %8s %8s\n' "$*" "$rv" "$ov" "$( [ "$s" = one ] && echo "$br" || echo -)" \
        "$(ratio "$rv" "$ov")" "$( [ "$s" = one ] && ratio "$br" "$ov" || echo -)"
done
echo "RESULT: PASS"
exit 0

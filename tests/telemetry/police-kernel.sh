#!/bin/sh
# vm-test
# Ingress policing (Interface.ingress_policing_rate/burst) by rvs-vswitchd on the KERNEL datapath, as a datapath
# meter, on rvs.ko and then on the upstream openvswitch.ko in the same boot:
#   tools/vm/run tests/telemetry/police-kernel.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl) and tools/kmod.sh um.
# A UDP blast (1000-byte datagrams, as fast as Python sends them, for 3 s; tests/telemetry/lib.sh) from netns telh1 through port telv1 to
# telh2 is measured at telh2 (rx_bytes): without policing it runs far above the limit; with
# ingress_policing_rate=RATE kbit/s (burst 100 kbit) the measured rate must be within 60..130 % of RATE; the flows
# from telv1 carry meter(...) first and the flows from telv2 do not; removing the policing restores the rate.
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/telemetry/lib.sh"
bin=$RVS_REPO/userspace/target/release
RATE=4000

run_on() {
    mod=$1
    work=$(mktemp -d /tmp/rvs-police.XXXXXX)
    export RVS_RUN_DIR=$work
    V="ovs-vsctl --db=unix:$work/db.sock --timeout=20"
    check "$mod: start rvs-vswitchd" "$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log"
    check "$mod: add-br" $V add-br br0
    netns_host telh1 10.77.0.1/24 telv1
    netns_host telh2 10.77.0.2/24 telv2
    check "$mod: add-port x2" $V add-port br0 telv1 -- add-port br0 telv2
    check "$mod: ping" ip netns exec telh1 ping -c 2 -i 0.2 -W 2 10.77.0.2
    police_check "$mod" "$V" "$work/vswitchd.log" $RATE
    flows=$(ovs-dpctl dump-flows 2>&1)
    echo "$flows" | sed 's/^/    /'
    in1=$(ovs-dpctl show | sed -n 's/.*port \([0-9]*\): telv1.*/\1/p')
    in2=$(ovs-dpctl show | sed -n 's/.*port \([0-9]*\): telv2.*/\1/p')
    check "$mod: flows from telv1 start with meter()" sh -c "echo '$flows' | grep 'in_port($in1)' | grep -q 'actions:meter('"
    check_not "$mod: flows from telv2 have no meter" sh -c "echo '$flows' | grep 'in_port($in2)' | grep -q 'meter('"
    police_clear "$mod" "$V" $RATE
    [ "$RVS_FAILED" != 0 ] && tail -n 30 "$work/vswitchd.log"
    "$bin/rvs-appctl" exit --cleanup >/dev/null 2>&1
    sleep 1
    cleanup_netns
    rm -rf "$work"
}

if [ -f "${RVS_KO:-}" ] && check "insmod rvs.ko" insmod "$RVS_KO"; then
    run_on rvs
    check "rmmod rvs" rmmod rvs
else
    fail "rvs.ko built for this kernel (${RVS_KO:-unset}; tools/kmod.sh um)"
fi
if load_reference; then
    run_on openvswitch
    rmmod openvswitch
fi
finish

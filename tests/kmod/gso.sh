#!/bin/sh
# vm-test
# GSO packets that miss the flow table are segmented in software before they go to userspace (upstream
# queue_gso_packets): a TCP GSO packet of 3 x 1000 bytes sent into the datapath's internal port reaches the upcall
# client (tests/kmod/lib/gso_upcall.py) as three segments, on rvs.ko and on openvswitch.ko.
. "$RVS_REPO/tests/lib.sh"

gso() {
    check "$1: add-dp dp0" ovs-dpctl add-dp dp0
    check "$1: dp0 up" ip link set dp0 up
    if python3 "$RVS_REPO/tests/kmod/lib/gso_upcall.py" dp0; then pass "$1: GSO upcall client"; else
        fail "$1: GSO upcall client"; fi
    ovs-dpctl show dp0
    check "$1: del-dp" ovs-dpctl del-dp dp0
}

insmod_rvs
gso rvs
check "rmmod rvs" rmmod rvs
# The reference: openvswitch.ko segments the same way.
if load_reference; then
    gso openvswitch
    rmmod openvswitch
fi
finish

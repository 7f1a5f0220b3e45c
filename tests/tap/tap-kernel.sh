#!/bin/bash
# vm-test
# VM tap interfaces on rvs.ko (datapath_type=system) driven by rvs-vswitchd, in a test kernel: a test "VM" process
# (tests/tap/tapvm.py) creates its tap the way QEMU does (single and multi-queue), is attached by rvs-vsctl add-port,
# pings a netns host through br0 and is pinged; when it exits the non-persistent tap disappears and rvs.ko detaches
# the vport (no kernel warning: tools/vm/run checks the log; rmmod at the end proves no reference was kept),
# rvs-vswitchd reports the interface error, and re-creating the tap re-attaches it (tests/tap/scenario.sh). Then
# the same scenario on the upstream openvswitch.ko, as the reference.
#   tools/vm/run --arch um tests/tap/tap-kernel.sh
# Build first on the host: tools/kmod.sh um and
# (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl -p rvs-dpctl).
. "$RVS_REPO/tests/lib.sh"
TAP_TYPE=system
. "$RVS_REPO/tests/tap/scenario.sh"

insmod_rvs
echo "=== datapath module: rvs.ko"
tap_setup /tmp/rvs-tap
TAP_LABEL=rvs.ko tap_scenario system
tap_cleanup
check "no datapath left behind" sh -c "! ovs-dpctl show ovs-system >/dev/null 2>&1"
check "rmmod rvs (no vport or device reference left)" rmmod rvs

# The same scenario on the upstream openvswitch.ko: the reference the behaviour above is held to.
if load_reference; then
    echo "=== datapath module: openvswitch.ko (reference)"
    tap_setup /tmp/rvs-tap-ovs
    TAP_LABEL=openvswitch.ko tap_scenario system
    tap_cleanup
    check "openvswitch.ko: rmmod" rmmod openvswitch
fi
finish

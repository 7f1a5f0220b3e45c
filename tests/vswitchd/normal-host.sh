#!/bin/sh
# host-test
# rvs-vswitchd on the host with the USERSPACE datapath (datapath_type=netdev), configured by Debian's unmodified
# ovs-vsctl against the daemon's embedded database (needs root, veth, netns, tun):
#   sudo tests/vswitchd/normal-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl)
# Checks: daemon conventions (--detach, --pidfile, --log-file, control socket for rvs-appctl and ovs-appctl);
# ovs-vsctl add-br/add-port return (cur_cfg acknowledged) and see ofport/ifindex/mac_in_use written back; three netns
# hosts learn and ping; fdb/show lists their MACs; dump-flows shows megaflows wildcarded beyond L2; ofproto/trace;
# access ports tag=10 vs tag=20 isolated (existing flows revalidated at once); a trunk port carries both VLANs tagged
# (tcpdump -e); port removal stops traffic; idle flows expire (max-idle); exit and restart keep the configuration and
# ofports; SIGTERM shuts down cleanly; then the same daemon configured through Debian's ovsdb-server (rvs's schema). The VM twin is tests/vswitchd/normal-kernel.sh.
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
VSW_TYPE=${VSW_TYPE:-netdev}        # netdev (userspace datapath) or system (kernel: normal-kernel.sh sets it)
. "$RVS_REPO/tests/vswitchd/scenario.sh"

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
vsw_setup /tmp/rvs-vsw-host
trap 'vsw_cleanup' EXIT INT TERM
vsw_scenario "$VSW_TYPE"
vsw_external "$VSW_TYPE"
vsw_cleanup
trap - EXIT INT TERM
finish

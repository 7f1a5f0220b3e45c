#!/bin/sh
# host-test
# Controller roles with two real OpenFlow 1.3 connections to an rvs bridge's ptcp: listener (tests/openflow/roles.py,
# raw OpenFlow over TCP): master/slave/equal, generation ids (a stale one refused with OFPRRFC_STALE), a slave's
# flow-mod refused with OFPBRC_IS_SLAVE, packet-ins to the master and none to the slave (default asynchronous
# configuration). Userspace datapath, two netns hosts for traffic; needs root:
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/roles-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

of_setup roles
trap 'of_cleanup' EXIT INT TERM
lport=$((30000 + $$ % 10000))
check "add-br" $V add-br $BR -- set bridge $BR datapath_type=netdev fail_mode=secure protocols=OpenFlow13
of_host 1; of_host 2
check "add-port x2" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2
check "set-controller ptcp:$lport:127.0.0.1" $V set-controller $BR "ptcp:$lport:127.0.0.1"
check "listener up" of_wait sh -c "ss -ltn | grep -q '127.0.0.1:$lport '"
python3 "$RVS_REPO/tests/openflow/roles.py" 127.0.0.1 "$lport" connmgr1 \
    >"$work/roles.out" 2>&1
cat "$work/roles.out"
n=0
while IFS= read -r line; do
    case $line in
        "ok "*) pass "${line#ok }"; n=$((n + 1)) ;;
        "not ok "*) fail "${line#not ok }"; n=$((n + 1)) ;;
    esac
done <"$work/roles.out"
check "roles.py reported all its 18 checks ($n)" test "$n" = 18

of_cleanup
trap - EXIT INT TERM
finish

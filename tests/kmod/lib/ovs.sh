# Debian's Open vSwitch 3.1 daemons (ovsdb-server + ovs-vswitchd, unmodified host binaries) for the kmod tests
# (sourced after tests/lib.sh, POSIX sh). DIR holds one instance's database, sockets, pid and log files;
# PREFIX (optional) is a command the daemons run under, e.g. one entering a network namespace.

# OVS 3.1's count_cpu_cores() computes the CPU count only once its monotonic clock reads >= 10000 ms and returns 0
# before that, so an ovs-vswitchd started in the first 10 s after boot sizes its per-CPU upcall handlers to zero
# and never reads an upcall. A test VM boots in about a second: wait until the guest has been up for 11 s.
ovs_wait_uptime() {
    while [ "$(cut -d. -f1 /proc/uptime)" -lt 11 ]; do sleep 1; done
}

# ovs_start DIR [PREFIX...]: a fresh database in DIR, ovsdb-server on DIR/db.sock, ovs-vswitchd connected to it.
ovs_start() {
    d=$1; shift
    ovs_wait_uptime
    rm -rf "$d"; mkdir -p "$d" /var/run/openvswitch
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    "$@" ovsdb-server "$d/conf.db" --remote=punix:"$d/db.sock" --pidfile="$d/ovsdb.pid" --detach --log-file="$d/ovsdb.log"
    "$@" ovs-vsctl --db=unix:"$d/db.sock" --timeout=20 --no-wait init
    "$@" ovs-vswitchd unix:"$d/db.sock" --pidfile="$d/vswitchd.pid" --detach --log-file="$d/vswitchd.log"
}

# ovs_stop DIR [PREFIX...]: stops ovs_start DIR's daemons and deletes the datapath ovs-vswitchd left behind.
ovs_stop() {
    d=$1; shift
    for p in vswitchd ovsdb; do
        [ -f "$d/$p.pid" ] && kill "$(cat "$d/$p.pid")" 2>/dev/null
    done
    sleep 1
    "$@" ovs-dpctl del-dp ovs-system 2>/dev/null
}

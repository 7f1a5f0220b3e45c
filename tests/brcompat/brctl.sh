#!/bin/bash
# vm-test
# brctl compatibility (issue 8) on rvs.ko loaded with brcompat=1 and rvs-vswitchd: unmodified bridge-utils `brctl`
# and iproute2 change rvs's configuration database. Then the Linux bridge runs the same topology in the same boot
# and `brctl show` / `showmacs` are compared field by field; last, the bridge module coexistence cases.
#   tools/kmod.sh um && (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-vsctl -p rvs-appctl)
#   tools/vm/run tests/brcompat/brctl.sh
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/vswitchd/scenario.sh"

VS="$RVS_REPO/userspace/target/release/rvs-vsctl"
BR() { modprobe -d "$RVS_KDIR/modroot" "$@"; }

# ports BR: the bridge's ports in the database, space-separated.
ports() { $VS --db="unix:$work/db.sock" list-ports "$1" | tr '\n' ' ' | sed 's/ $//'; }
vsctl() { $VS --db="unix:$work/db.sock" "$@"; }
# wait_ports BR "P1 P2": until the database lists exactly these ports (ip link master is asynchronous).
wait_ports() { vsw_wait sh -c "[ \"\$($VS --db=unix:$work/db.sock list-ports $1 | tr '\n' ' ' | sed 's/ \$//')\" = '$2' ]"; }
# show_fields: `brctl show` as "name id-prefix stp ports..." lines (the bridge id's MAC part is checked apart).
show_fields() { brctl show | awk 'NR > 1 { if (NF >= 3) { split($2, id, "."); printf "%s%s %s %s", (n++ ? "\n" : ""), $1, id[1], $3; for (i = 4; i <= NF; i++) printf " %s", $i } else printf " %s", $1 } END { print "" }'; }
# learned BR MAC...: the `showmacs` lines of these MACs as "port mac local".
learned() { br=$1; shift; brctl showmacs "$br" | awk -v m="$*" 'BEGIN { n = split(m, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 } ($2 in want) { print $1, $2, $3 }' | sort; }

if [ ! -f "${RVS_KO:-}" ]; then fail "rvs.ko built for this kernel (${RVS_KO:-unset})"; finish; fi

echo "=== compat off by default"
check "insmod rvs.ko (no option)" insmod "$RVS_KO"
check "brcompat parameter is off" grep -qx N /sys/module/rvs/parameters/brcompat
check_not "no rvs_brcompat family without brcompat=1" sh -c "genl ctrl get name rvs_brcompat"
check "rmmod rvs" rmmod rvs

echo "=== rvs.ko brcompat=1 + rvs-vswitchd"
check "insmod rvs.ko brcompat=1" insmod "$RVS_KO" brcompat=1
check "family rvs_brcompat registered" sh -c "genl ctrl get name rvs_brcompat"
vsw_setup /tmp/rvs-brc
check "rvs-vswitchd starts" vsw_start
check "daemon joined the relay" vsw_wait grep -q "relaying brctl requests" "$work/vswitchd.log"

netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
for h in h1 h2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
mac1=$(mac_of h1); mac2=$(mac_of h2)

check "brctl addbr br0" brctl addbr br0
check "addbr: bridge in the database" test "$(vsctl list-br)" = br0
check "addbr: br0 is an rvs internal device" sh -c "ethtool -i br0 | grep -q 'driver: openvswitch'"
check_not "addbr br0 again fails (exists)" brctl addbr br0
check "brctl addif br0 v1" brctl addif br0 v1
check "brctl addif br0 v2" brctl addif br0 v2
check "addif: ports in the database" test "$(ports br0)" = "v1 v2"
check "rvs-vsctl show lists the ports" sh -c "$VS --db=unix:$work/db.sock show | grep -q 'Port v2'"
out=$(brctl addif br0 v1 2>&1)
case $out in *"already a member of a bridge"*) pass "addif of a port twice: EBUSY" ;;
    *) fail "addif of a port twice: EBUSY: $out" ;; esac
out=$(brctl addif br0 lo 2>&1)
case $? in 0) fail "addif lo refused: $out" ;; *) pass "addif lo refused ($out)" ;; esac
check "addif lo rolled back (no partial change)" test "$(ports br0)" = "v1 v2"
out=$(brctl addif nosuchbr v1 2>&1)
case $out in *"bridge nosuchbr does not exist"*) pass "addif to a missing bridge: ENODEV" ;; *) fail "addif to a missing bridge: $out" ;; esac
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups brctl addbr brx 2>&1)
case $out in *"Operation not permitted"*) pass "unprivileged addbr: EPERM" ;; *) fail "unprivileged addbr: EPERM: $out" ;; esac

ip link set br0 up
check "ping h1 -> h2 through br0" ip netns exec h1 ping -c 3 -i 0.2 -W 2 10.0.0.2
rvs_show=$(show_fields)
echo "$rvs_show" > /tmp/brc-rvs-show
check "brctl show: br0 8000 no v1 v2" test "$rvs_show" = "br0 8000 no v1 v2"
brmac=$(cat /sys/class/net/br0/address | tr -d :)
check "brctl show: bridge id is 8000.<br0's MAC>" sh -c "brctl show | grep -q '^br0[[:space:]]*8000\.$brmac'"
brctl show > "$RVS_OUT/brctl-show-rvs.txt" 2>&1
brctl showmacs br0 > "$RVS_OUT/brctl-showmacs-rvs.txt" 2>&1
rvs_macs=$(learned br0 "$mac1" "$mac2")
check "showmacs: h1 on port 1, h2 on port 2, not local" test "$rvs_macs" = "$(printf '1 %s no\n2 %s no' "$mac1" "$mac2")"
check "showmacs ageing timer below 10 s" sh -c "brctl showmacs br0 | awk '\$2 == \"$mac1\" { exit !(\$4 < 10) }'"

check "unprivileged brctl show works (reads need no privilege)" sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups brctl show | grep -q '^br0'"
ip tuntap add dev tapb0 mode tap
check "brctl addif br0 tapb0 (a tap device)" brctl addif br0 tapb0
check "tap: in the database with an OpenFlow port" sh -c "[ \$($VS --db=unix:$work/db.sock get interface tapb0 ofport) -gt 0 ]"
check "brctl delif br0 tapb0" brctl delif br0 tapb0
ip tuntap del dev tapb0 mode tap

brctl showstp br0 > "$RVS_OUT/brctl-showstp-rvs.txt" 2>&1
check "brctl showstp: succeeds" brctl showstp br0
check "brctl showstp: v2 is port 2, id 8002, forwarding" sh -c "brctl showstp br0 | grep -A1 '^v2 (2)' | grep -q 'port id[[:space:]]*8002.*state[[:space:]]*forwarding'"
check "brctl setageing br0 60" brctl setageing br0 60
check "setageing: other_config:mac-aging-time=60" test "$(vsctl get bridge br0 other_config:mac-aging-time)" = '"60"'
check "setageing: brctl showstp reports 60 s" vsw_wait sh -c "brctl showstp br0 | grep -q 'ageing time[[:space:]]*60.00'"
check "brctl stp br0 on" brctl stp br0 on
check "stp on: stp_enable=true" test "$(vsctl get bridge br0 stp_enable)" = true
check "stp on: brctl show says yes" sh -c "brctl show br0 | grep -q 'yes'"
check "stp on: daemon says STP is not run" grep -q "does not run STP" "$work/vswitchd.log"
check "brctl stp br0 off" brctl stp br0 off
check "stp off: stp_enable=false" test "$(vsctl get bridge br0 stp_enable)" = false

check "brctl delif br0 v2" brctl delif br0 v2
check "delif: v2 gone from the database" test "$(ports br0)" = v1
out=$(brctl delif br0 v2 2>&1)
case $out in *"is not a port of br0"*) pass "delif of a non-port: EINVAL" ;; *) fail "delif of a non-port: $out" ;; esac

check "ip link set v2 master br0" ip link set v2 master br0
check "ip master: v2 in the database" wait_ports br0 "v1 v2"
check "ip -d link show v2: an rvs (openvswitch) port" vsw_wait sh -c "ip -d link show v2 | grep -q openvswitch_slave"
check "ip link set v2 nomaster" ip link set v2 nomaster
check "ip nomaster: v2 out of the database" wait_ports br0 v1
check_not "ip link set v2 master ovs-system refused (not a bridge)" ip link set v2 master ovs-system

echo "=== daemon restart keeps the configuration"
check "daemon stops" $A exit
vsw_wait_gone
t0=$(date +%s%N)
out=$(brctl addbr br9 2>&1)
t1=$(date +%s%N)
case $out in *"No such device"*) pass "daemon down: addbr fails with ENODEV ($out)" ;; *) fail "daemon down: addbr: $out" ;; esac
check "daemon down: answer within 1 s" test $(( (t1 - t0) / 1000000 )) -lt 1000
check "daemon restarts" vsw_start
check "daemon rejoined the relay" vsw_wait sh -c "[ \$(grep -c 'relaying brctl requests' $work/vswitchd.log) -ge 2 ]"
check "after restart: brctl show still br0 with v1" test "$(show_fields)" = "br0 8000 no v1"
check "after restart: database still has v1" test "$(ports br0)" = v1

out=$(brctl delbr br0 2>&1)
case $out in *"still up"*) pass "delbr of an up bridge: EBUSY" ;; *) fail "delbr of an up bridge: $out" ;; esac
ip link set br0 down
check "brctl delbr br0" brctl delbr br0
check "delbr: no bridge in the database" test -z "$(vsctl list-br)"
check "delbr: device gone" vsw_wait sh -c "! ip link show br0"
out=$(brctl delbr br0 2>&1)
case $out in *"doesn't exist"*) pass "delbr of a missing bridge: ENXIO" ;; *) fail "delbr missing: $out" ;; esac

echo "=== daemon hung: timeout, then rvs.ko unloaded with a request in flight"
pid=$(cat "$work/rvs-vswitchd.pid")
kill -STOP "$pid"
t0=$(date +%s%N)
out=$(brctl addbr br8 2>&1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
case $out in *"Connection timed out"*) pass "daemon hung: addbr fails with ETIMEDOUT ($out)" ;; *) fail "daemon hung: addbr: $out" ;; esac
check "daemon hung: one wait of ~15 s, not two (the SIOCSIFBR retry reuses the error; took $ms ms)" test "$ms" -ge 14000 -a "$ms" -lt 22000
brctl addbr br7 > /tmp/brc-inflight.txt 2>&1 &
inflight=$!
sleep 1
check "rmmod rvs while a brctl request waits" rmmod rvs
wait $inflight
# brctl retries with SIOCSIFBR after the timeout: if rvs.ko is gone by then, that retry finds no hook (ENOPKG).
out=$(cat /tmp/brc-inflight.txt)
case $out in *"Connection timed out"*|*"Package not installed"*) pass "the waiting brctl got a clear error ($out)" ;;
    *) fail "the waiting brctl got a clear error: '$out'" ;; esac
kill -CONT "$pid"
check "resumed daemon drops the expired requests" vsw_wait sh -c "[ \$(grep -c 'the kernel stopped waiting' $work/vswitchd.log) -ge 2 ]"
check "expired requests were not applied" test -z "$(vsctl list-br)"
check "after rmmod the hook is cleared (no call into freed code)" sh -c "! brctl addbr br6 2>/dev/null"
vsw_cleanup
check "no relay warnings in the kernel log" sh -c "! dmesg | grep -q 'brcompat: malformed'"

echo "=== the Linux bridge, same topology (reference)"
netns_host h1 10.0.0.1/24 v1
netns_host h2 10.0.0.2/24 v2
for h in h1 h2; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
mac1=$(mac_of h1); mac2=$(mac_of h2)
if check "modprobe bridge" BR bridge; then
    brctl addbr br0 && brctl addif br0 v1 && brctl addif br0 v2 && ip link set br0 up
    # The Linux bridge starts forwarding after the forward delay only with STP; without STP at once.
    check "linux: ping h1 -> h2" ip netns exec h1 ping -c 3 -i 0.2 -W 2 10.0.0.2
    brctl show > "$RVS_OUT/brctl-show-linux.txt" 2>&1
    brctl showmacs br0 > "$RVS_OUT/brctl-showmacs-linux.txt" 2>&1
    lin_show=$(show_fields)
    check "brctl show: rvs and Linux bridge agree (name, id prefix, STP, ports)" test "$lin_show" = "$(cat /tmp/brc-rvs-show)"
    check "brctl show: same header line" test "$(head -1 "$RVS_OUT/brctl-show-linux.txt")" = "$(head -1 "$RVS_OUT/brctl-show-rvs.txt")"
    lin_macs=$(learned br0 "$mac1" "$mac2")
    check "showmacs: rvs and Linux bridge agree on learned entries (port, mac, local)" test "$lin_macs" = "$(printf '1 %s no\n2 %s no' "$mac1" "$mac2")"
    check "showmacs: same header line" test "$(head -1 "$RVS_OUT/brctl-showmacs-linux.txt")" = "$(head -1 "$RVS_OUT/brctl-showmacs-rvs.txt")"
    ip link set br0 down; brctl delbr br0
    cleanup_netns

    echo "=== coexistence with the bridge module"
    check_not "bridge loaded: insmod rvs.ko brcompat=1 refused" insmod "$RVS_KO" brcompat=1
    check "refusal explained in the kernel log" dmesg_has "brcompat=1 refused: the bridge module is loaded"
    check "bridge loaded: insmod rvs.ko without compat works" insmod "$RVS_KO"
    check "rmmod rvs" rmmod rvs
    check "the bridge module still owns brctl" sh -c "brctl addbr brl && test -d /sys/class/net/brl/bridge && brctl delbr brl"
    check "rmmod bridge" rmmod bridge
    check "insmod rvs.ko brcompat=1 (bridge not loaded)" insmod "$RVS_KO" brcompat=1
    check "modprobe bridge after rvs.ko: loads" BR bridge
    check "the bridge module took the hook: brctl makes Linux bridges" sh -c "brctl addbr brl && test -d /sys/class/net/brl/bridge"
    check "rmmod rvs leaves the bridge module's hook" rmmod rvs
    check "unload message" dmesg_has "bridge module took over the bridge ioctls"
    check "brctl still works after rvs unloaded" sh -c "brctl addbr brm && test -d /sys/class/net/brm/bridge && brctl delbr brm && brctl delbr brl"
    check "rmmod bridge" rmmod bridge
fi
finish

#!/bin/sh
# host-test
# OpenFlow over TLS end to end, with certificates from Debian's ovs-pki (a switch CA and a controller CA): rvs-vswitchd
# gets its key, certificate and the controller CA with `ovs-vsctl set-ssl`; (1) active `ssl:` to Debian's
# ovs-testcontroller listening on `pssl:` (which checks the switch's certificate against the switch CA): hosts ping
# through it; a controller whose certificate no trusted CA signed is refused; (2) rvs's passive `pssl:` listener:
# Debian's ovs-ofctl with --private-key/--certificate/--ca-cert adds and dumps flows over it, and without a valid
# client certificate it is refused. Userspace datapath, three netns hosts; needs root:
#   sudo flock /tmp/rvs-host-test.lock tests/openflow/tls-host.sh
# Build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-ofctl)
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"
. "$RVS_REPO/tests/openflow/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
for c in ovs-testcontroller ovs-pki ovs-ofctl openssl; do
    command -v $c >/dev/null || { fail "$c installed (tools/deps.sh)"; finish; }
done

of_setup tls
trap 'of_cleanup' EXIT INT TERM
O="ovs-ofctl -O OpenFlow13"
cport=$((30000 + $$ % 10000)); lport=$((cport + 1)); bport=$((cport + 2))

# PKI: switch CA and controller CA, one certificate each, and a rogue self-signed one.
P=$work/pki
mkdir -p "$P"
pki() { (cd "$P" && ovs-pki --dir="$P/pki" --log="$P/log" "$@") >>"$P/out" 2>&1; }
check "ovs-pki init" pki init
check "ovs-pki req+sign switch" pki req+sign sw switch
check "ovs-pki req+sign controller" pki req+sign ctl controller
check "rogue self-signed certificate" openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue \
    -keyout "$P/rogue-privkey.pem" -out "$P/rogue-cert.pem"
SWCA=$P/pki/switchca/cacert.pem CTLCA=$P/pki/controllerca/cacert.pem

check "add-br" $V add-br $BR -- set bridge $BR datapath_type=netdev fail_mode=secure
of_host 1; of_host 2; of_host 3
check "add-port x3" $V add-port $BR connmgr-v1 -- add-port $BR connmgr-v2 -- add-port $BR connmgr-v3
check "set-ssl (switch key + certificate, controller CA)" $V set-ssl "$P/sw-privkey.pem" "$P/sw-cert.pem" "$CTLCA"
connected() { $V get controller $BR is_connected | grep -qx true; }

# (1) ssl: to ovs-testcontroller on pssl:.
ovs-testcontroller -v -p "$P/ctl-privkey.pem" -c "$P/ctl-cert.pem" -C "$SWCA" "pssl:$cport:127.0.0.1" \
    >>"$work/testcontroller.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
check "set-controller ssl:127.0.0.1:$cport" $V set-controller $BR "ssl:127.0.0.1:$cport" -- \
    set controller $BR inactivity_probe=1000 max_backoff=1000
check "controller connected over TLS" of_wait connected
check "ping h1 -> h2 through the TLS controller" of_ping 1 2
check "ping h3 -> h1 through the TLS controller" of_ping 3 1
check "packet-ins reached the controller" grep -q 'received: OFPT_PACKET_IN' "$work/testcontroller.log"
check "the controller's TLS session used the switch certificate" sh -c "$V get-ssl | grep -q sw-cert.pem"

# A controller with a certificate no trusted CA signed: rvs refuses it.
ovs-testcontroller -v -p "$P/rogue-privkey.pem" -c "$P/rogue-cert.pem" -C "$SWCA" "pssl:$bport:127.0.0.1" \
    >>"$work/rogue.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
check "set-controller ssl: to the rogue controller" $V set-controller $BR "ssl:127.0.0.1:$bport"
sleep 3
check_not "rogue controller never connected" connected
check_not "rogue controller saw no OpenFlow message" grep -q 'received: OFPT_' "$work/rogue.log"

# (2) pssl: listener, ovs-ofctl as the TLS client.
check "set-controller pssl:$lport:127.0.0.1" $V set-controller $BR "pssl:$lport:127.0.0.1"
S="--private-key=$P/ctl-privkey.pem --certificate=$P/ctl-cert.pem --ca-cert=$SWCA"
T="ssl:127.0.0.1:$lport"
check "ovs-ofctl over TLS: show" of_wait $O $S show "$T"
check "ovs-ofctl over TLS: add-flow" $O $S add-flow "$T" priority=77,ip,nw_dst=10.57.0.9,actions=drop
check "ovs-ofctl over TLS: dump-flows shows it" sh -c "$O $S dump-flows '$T' | grep -q 'priority=77,ip,nw_dst=10.57.0.9 actions=drop'"
check "the flow is in the bridge (management socket)" sh -c "$O dump-flows $BR | grep -q 'priority=77'"
check "ovs-ofctl over TLS: del-flows" $O $S del-flows "$T" ip,nw_dst=10.57.0.9
check_not "flow gone" sh -c "$O dump-flows $BR | grep -q 'priority=77'"
R="--private-key=$P/rogue-privkey.pem --certificate=$P/rogue-cert.pem --ca-cert=$SWCA"
check_not "ovs-ofctl with a rogue certificate is refused" timeout 10 $O $R show "$T"
check_not "plain TCP to the pssl: port gets no OpenFlow" timeout 10 $O show "tcp:127.0.0.1:$lport"

of_cleanup
trap - EXIT INT TERM
finish

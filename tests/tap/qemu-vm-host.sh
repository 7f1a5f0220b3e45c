#!/bin/bash
# host-test
# A REAL VM on an rvs bridge (userspace datapath, datapath_type=netdev): QEMU (TCG; KVM is not needed) boots rvs's
# cached x86_64 test kernel with a busybox root the test builds, its NIC a virtio-net-pci device on
# `-netdev tap,ifname=tapq0,script=no,downscript=no` (QEMU creates the tap itself). The test brings the tap up and
# attaches it with rvs-vsctl add-port; the guest configures its address and pings a netns host, the host pings the
# guest, and TCP runs both ways (a 3 MB and a 2 MB download, checksummed, with the offloads QEMU sets on its tap by
# default); the results come from the serial console. When QEMU exits, its tap disappears and the port is detached.
#   sudo flock /tmp/rvs-host-test.lock tests/tap/qemu-vm-host.sh
# Needs root, qemu-system-x86_64, busybox (static), the x86_64 test kernel (built and cached on first use) and
# (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl -p rvs-dpctl).
# The test kernel is built without CONFIG_BLK_DEV_INITRD, so the busybox root is a directory served to the guest
# over virtio-9p (the same root=9p boot tools/vm/run uses) instead of an initramfs. Names start with "tap".
set -u
RVS_REPO=${RVS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RVS_REPO/tests/lib.sh"

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
bin=${RVS_BIN:-$RVS_REPO/userspace/target/release}
for b in rvs-vswitchd rvs-appctl rvs-vsctl; do
    [ -x "$bin/$b" ] || { echo "build first: (cd userspace && cargo build --release -p rvs-vswitchd -p rvs-appctl -p rvs-vsctl)"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing (tools/deps.sh)"; exit 1; }
bb=$(command -v busybox) && file -L "$bb" | grep -q 'statically linked' || { echo "a static busybox is needed (busybox-static)"; exit 1; }
# The cached x86_64 test kernel (built on first use, as tools/vm/run does).
kdir=$("$RVS_REPO/tools/kernel/kernel.sh" build x86_64 release) || { echo "cannot build the x86_64 test kernel"; exit 1; }
kernel=$kdir/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "no test kernel at $kernel"; exit 1; }
for c in VIRTIO_NET VIRTIO_PCI PCI NET_9P_VIRTIO 9P_FS SERIAL_8250_CONSOLE; do
    grep -q "^CONFIG_$c=y" "$kdir/.config" || { fail "test kernel has CONFIG_$c=y"; finish; }
done

work=$(mktemp -d /tmp/rvs-tap-qemu.XXXXXX)
chmod 755 "$work"
export RVS_RUN_DIR=$work
V="$bin/rvs-vsctl --db=unix:$work/db.sock --timeout=20"
A="$bin/rvs-appctl"
QEMU_PID=""
HTTP_PID=""
cleanup() {
    [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    if [ -e "$work/rvs-vswitchd.pid" ]; then
        $A exit --cleanup >/dev/null 2>&1 || kill "$(cat "$work/rvs-vswitchd.pid")" 2>/dev/null
        i=0; while [ -e "$work/rvs-vswitchd.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    cleanup_netns
    ip link del tapqv1 2>/dev/null
    if [ "$RVS_FAILED" != 0 ]; then
        echo "--- guest console"; tr -d '\r' < "$work/console.log" 2>/dev/null | tail -n 40
        echo "--- rvs-vswitchd log (last 40 lines)"; tail -n 40 "$work/vswitchd.log" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
console_has() { tr -d '\r' < "$work/console.log" | grep -q "$1"; }

# The guest's root: busybox and an init that configures eth0, pings the host until the switch lets it through,
# reports on the console, then stays up (answering pings) until QEMU is stopped.
root=$work/root
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat > "$root/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
bb=/bin/busybox
echo "GUEST: up, $($bb uname -r)"
$bb ip link set lo up
$bb ip link set eth0 up
$bb ip addr add 10.63.0.10/24 dev eth0
echo "GUEST: eth0 $($bb cat /sys/class/net/eth0/address) 10.63.0.10/24"
i=0
while ! $bb ping -c 1 -W 1 10.63.0.1 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -ge 40 ] && break
done
if $bb ping -c 3 -W 2 10.63.0.1 >/tmp/ping.txt 2>&1; then echo "GUEST PING OK"; else echo "GUEST PING FAIL"; fi
$bb sed -n 's/^/GUEST: /p' /tmp/ping.txt
# TCP both ways (virtio-net offloads: the tap carries checksum-offload/TSO frames): fetch the host's blob, serve ours.
$bb mkdir -p /tmp/www
$bb dd if=/dev/urandom of=/tmp/www/blob bs=1024 count=2048 2>/dev/null
echo "GUEST BLOB $($bb md5sum /tmp/www/blob | $bb cut -d' ' -f1)"
$bb httpd -p 8080 -h /tmp/www
if $bb wget -q -O /tmp/dl http://10.63.0.1:8000/blob; then
    echo "GUEST GOT $($bb md5sum /tmp/dl | $bb cut -d' ' -f1)"
else
    echo "GUEST GOT FAIL"
fi
while :; do $bb sleep 60; done
EOF
chmod 755 "$root/init"

check "rvs-vswitchd starts" "$bin/rvs-vswitchd" --db-file="$work/conf.db" --detach --pidfile --log-file="$work/vswitchd.log"
check "add-br br0 (userspace datapath)" $V add-br br0 -- set bridge br0 datapath_type=netdev
netns_host tap-qh1 10.63.0.1/24 tapqv1
ip netns exec tap-qh1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
check "add-port the netns host" $V add-port br0 tapqv1
mkdir -p "$work/www"
head -c 3000000 /dev/urandom > "$work/www/blob"
host_md5=$(md5sum < "$work/www/blob" | cut -d' ' -f1)
(cd "$work/www" && exec ip netns exec tap-qh1 python3 -m http.server --bind 10.63.0.1 8000 >"$work/http.log" 2>&1) &
HTTP_PID=$!

start=$(date +%s)
qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 256M -kernel "$kernel" -nographic -no-reboot -monitor none \
    -fsdev local,id=root,path="$root",security_model=none \
    -device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
    -netdev tap,id=n0,ifname=tapq0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=02:00:00:63:00:10 \
    -append "console=ttyS0 quiet panic=-1 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144 rw init=/init" \
    </dev/null >"$work/console.log" 2>&1 &
QEMU_PID=$!
check "QEMU creates its tap tapq0" wait_for 10 ip link show tapq0
check "tap up (QEMU's ifup script's job with script=no)" ip link set tapq0 up
check "rvs-vsctl add-port br0 tapq0" $V add-port br0 tapq0
check "tapq0 is a datapath port" sh -c "$A dpif/show | grep -q '^    tapq0 '"
check "guest boots and configures eth0 (serial console)" wait_for 45 console_has "GUEST: eth0 02:00:00:63:00:10"
check "guest pings the netns host through br0" wait_for 30 console_has "GUEST PING "
check "guest ping: every reply (console says GUEST PING OK)" console_has "GUEST PING OK"
tr -d '\r' < "$work/console.log" | grep '^GUEST'
check "netns host pings the guest" ip netns exec tap-qh1 ping -c 3 -i 0.3 -W 3 10.63.0.10
check "fdb/show learned the guest's MAC on the tap's port" sh -c "$A fdb/show br0 | grep -q 02:00:00:63:00:10"
check "TCP host -> guest: the guest downloads 3 MB intact" wait_for 30 console_has "GUEST GOT $host_md5"
guest_md5=$(tr -d '\r' < "$work/console.log" | sed -n 's/^GUEST BLOB \([0-9a-f]*\)$/\1/p')
check "TCP guest -> host: the host downloads the guest's 2 MB intact" test "$(ip netns exec tap-qh1 python3 -c "
import hashlib, urllib.request
print(hashlib.md5(urllib.request.urlopen('http://10.63.0.10:8080/blob', timeout=20).read()).hexdigest())" 2>&1)" = "$guest_md5"
echo "VM up, pinged and TCP checked after $(( $(date +%s) - start )) s"

# The VM goes away: its tap with it, and the port.
kill "$QEMU_PID"; wait "$QEMU_PID" 2>/dev/null; QEMU_PID=""
check "QEMU gone: tap gone" sh -c "! ip link show tapq0 2>/dev/null"
check "datapath port detached" wait_for 5 sh -c "! $A dpif/show | grep -q '^    tapq0 '"
check "interface error reported" wait_for 10 sh -c "$V get interface tapq0 error | grep -q 'No such device'"
check "del-br" $V del-br br0
finish

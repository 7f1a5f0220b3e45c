#!/usr/bin/env python3
"""A test "VM" on a tap device, created the way QEMU/KVM creates it.

Opens /dev/net/tun and creates tap NAME with TUNSETIFF IFF_TAP|IFF_NO_PI (plus IFF_MULTI_QUEUE and one
descriptor per queue with --queues N > 1), non-persistent: the device disappears when the program exits
(closes its descriptors), exactly as when a VM shuts down. Like a guest's network stack it then:
  - answers ARP requests and ICMP echo requests for its address (on the queue the request came in on);
  - with --ping ADDR, pings out: ARP for ADDR, then --count echo requests, each sent from the next queue
    (round robin), so every queue's descriptor is used for transmission;
  - counts the UDP datagrams sent to it, per receive queue (--udp-report prints them).
Progress goes to stdout as lines the tests grep: "READY", "PING OK n/n" or "PING FAIL n/n", and at exit
"RXQ q0=N q1=N ..." (frames read per queue) and "UDP q0=N ..." (UDP datagrams per queue).

  tapvm.py --name tap0 --mac 02:00:00:00:00:10 --ip 10.0.0.10/24 [--queues 4] [--ping 10.0.0.1 [--count 3]]
           [--serve SECONDS | --serve -1]     (-1: until SIGTERM/SIGINT)
           [--shrink-after SECONDS]   (then detach every queue but the first, as QEMU does when the guest
                                        lowers its queue count with ethtool -L; prints "SHRUNK")

Exit status: 0, or 1 if --ping did not get every reply, 2 on a setup error (message on stderr).
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_MULTI_QUEUE = 0x0100
IFF_DETACH_QUEUE = 0x0400
TUNSETQUEUE = 0x400454D9
IFF_UP = 0x1


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_bytes(text):
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC %r" % text)
    return b


class Vm:
    def __init__(self, name, mac, ip, queues):
        self.name = name
        self.mac = mac_bytes(mac)
        self.ip = socket.inet_aton(ip)
        self.fds = []
        self.detached = []
        flags = IFF_TAP | IFF_NO_PI | (IFF_MULTI_QUEUE if queues > 1 else 0)
        for _ in range(queues):
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            ifr = struct.pack("16sH22x", name.encode(), flags)
            fcntl.ioctl(fd, TUNSETIFF, ifr)
            self.fds.append(fd)
        self.rxq = [0] * queues
        self.udpq = [0] * queues
        self.neigh = {}  # ip bytes -> mac bytes
        self.echo_replies = set()  # (id, seq)
        self.txq = 0

    def close(self):
        for fd in self.fds + self.detached:
            os.close(fd)
        self.fds = []
        self.detached = []

    def shrink(self):
        """Detaches every queue but the first (TUNSETQUEUE IFF_DETACH_QUEUE); their descriptors stay open."""
        for fd in self.fds[1:]:
            fcntl.ioctl(fd, TUNSETQUEUE, struct.pack("16sH22x", b"", IFF_DETACH_QUEUE))
            self.detached.append(fd)
        self.fds = self.fds[:1]
        self.txq = 0

    def send(self, frame, q=None):
        if q is None:
            q = self.txq
            self.txq = (self.txq + 1) % len(self.fds)
        try:
            os.write(self.fds[q], frame)
        except OSError as e:  # the device is down (EIO) or gone: like a NIC without link
            print("tx on queue %d: %s" % (q, e), file=sys.stderr)

    def eth(self, dst, ethertype, payload):
        frame = dst + self.mac + struct.pack("!H", ethertype) + payload
        return frame + b"\0" * max(0, 60 - len(frame))

    def arp(self, op, tha, tpa):
        p = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + self.mac + self.ip + tha + tpa
        return self.eth(tha if op == 2 else b"\xff" * 6, 0x0806, p)

    def ipv4(self, dst_ip, proto, payload):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, self.ip, dst_ip)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return h + payload

    def icmp_echo(self, typ, ident, seq, data):
        m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
        return m[:2] + struct.pack("!H", csum(m)) + m[4:]

    def handle(self, frame, q):
        """Answers ARP and ICMP echo for our address; records replies and UDP datagrams."""
        if len(frame) < 14:
            return
        dst, src, ethertype = frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
        if dst != self.mac and dst != b"\xff" * 6:
            return
        body = frame[14:]
        if ethertype == 0x0806 and len(body) >= 28:
            op = struct.unpack("!H", body[6:8])[0]
            sha, spa, tpa = body[8:14], body[14:18], body[24:28]
            self.neigh[spa] = sha
            if op == 1 and tpa == self.ip:
                self.send(self.arp(2, sha, spa), q)
        elif ethertype == 0x0800 and len(body) >= 20:
            ihl = (body[0] & 0xF) * 4
            total = struct.unpack("!H", body[2:4])[0]
            proto, sip, dip = body[9], body[12:16], body[16:20]
            if dip != self.ip:
                return
            l4 = body[ihl:total]
            self.neigh.setdefault(sip, src)
            if proto == 1 and len(l4) >= 8:
                typ, _, _, ident, seq = struct.unpack("!BBHHH", l4[:8])
                if typ == 8:
                    reply = self.icmp_echo(0, ident, seq, l4[8:])
                    self.send(self.eth(src, 0x0800, self.ipv4(sip, 1, reply)), q)
                elif typ == 0:
                    self.echo_replies.add((ident, seq))
            elif proto == 17:
                self.udpq[q] += 1

    def poll(self, timeout):
        """Reads and handles every frame that arrives within `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select(self.fds, [], [], left)
            for fd in r:
                q = self.fds.index(fd)
                while True:
                    try:
                        frame = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    except OSError as e:  # EBADFD/EIO while the device goes away
                        print("rx on queue %d: %s" % (q, e), file=sys.stderr)
                        time.sleep(0.05)
                        break
                    self.rxq[q] += 1
                    self.handle(frame, q)

    def resolve(self, ip, deadline):
        while time.monotonic() < deadline:
            if ip in self.neigh:
                return self.neigh[ip]
            self.send(self.arp(1, b"\0" * 6, ip))
            self.poll(0.5)
        return self.neigh.get(ip)

    def ping(self, target, count, wait):
        ip = socket.inet_aton(target)
        mac = self.resolve(ip, time.monotonic() + wait)
        if mac is None:
            return 0
        ident, got = os.getpid() & 0xFFFF, 0
        for seq in range(1, count + 1):
            for _ in range(3):  # a lost request is resent (an upcall may be slow under TCG/UML)
                pkt = self.icmp_echo(8, ident, seq, b"rvs-tapvm" * 6)
                self.send(self.eth(mac, 0x0800, self.ipv4(ip, 1, pkt)))
                end = time.monotonic() + 1.0
                while (ident, seq) not in self.echo_replies and time.monotonic() < end:
                    self.poll(0.05)
                if (ident, seq) in self.echo_replies:
                    got += 1
                    break
        return got


def link_up(name):
    try:
        with open("/sys/class/net/%s/flags" % name) as f:
            return int(f.read(), 16) & IFF_UP != 0
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--mac", required=True)
    ap.add_argument("--ip", required=True, help="ADDR/PLEN (the prefix is ignored: one subnet)")
    ap.add_argument("--queues", type=int, default=1)
    ap.add_argument("--ping")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--wait", type=float, default=20.0, help="seconds to wait for link up and ARP")
    ap.add_argument("--serve", type=float, default=0.0)
    ap.add_argument("--shrink-after", type=float)
    a = ap.parse_args()
    if not 1 <= a.queues <= 16:
        print("tapvm: --queues must be 1..16", file=sys.stderr)
        return 2
    try:
        vm = Vm(a.name, a.mac, a.ip.split("/")[0], a.queues)
    except (OSError, ValueError) as e:
        print("tapvm: creating tap %s: %s" % (a.name, e), file=sys.stderr)
        return 2
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("READY", flush=True)
    status = 0
    deadline = time.monotonic() + a.wait
    while not link_up(a.name) and time.monotonic() < deadline and not stop:
        time.sleep(0.1)
    if a.ping:
        got = vm.ping(a.ping, a.count, max(1.0, deadline - time.monotonic()))
        print("PING %s %d/%d" % ("OK" if got == a.count else "FAIL", got, a.count), flush=True)
        status = 0 if got == a.count else 1
    end = None if a.serve < 0 else time.monotonic() + a.serve
    shrink = None if a.shrink_after is None else time.monotonic() + a.shrink_after
    while not stop and (end is None or time.monotonic() < end):
        if shrink is not None and time.monotonic() >= shrink:
            shrink = None
            try:
                vm.shrink()
                print("SHRUNK to 1 queue", flush=True)
            except OSError as e:
                print("tapvm: detaching queues: %s" % e, file=sys.stderr)
                status = 2
        vm.poll(0.2)
    print("RXQ " + " ".join("q%d=%d" % (i, n) for i, n in enumerate(vm.rxq)), flush=True)
    print("UDP " + " ".join("q%d=%d" % (i, n) for i, n in enumerate(vm.udpq)), flush=True)
    vm.close()
    return status


if __name__ == "__main__":
    sys.exit(main())

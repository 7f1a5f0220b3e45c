#!/usr/bin/env python3
"""Two real OpenFlow 1.3 controller connections to one rvs listener (ptcp:), speaking raw OpenFlow over TCP (no
controller framework): role requests master/slave/equal with generation ids, a stale generation refused, a slave's
flow-mod refused with OFPBRC_IS_SLAVE, and with the default asynchronous configuration the master gets the
packet-ins and the slave none. Prints "ok NAME" / "not ok NAME: why" lines for tests/openflow/roles-host.sh.

    roles.py HOST PORT NETNS

Traffic: NETNS pings an address nobody has (a fresh one per phase, so each phase's ARP requests are new); with
secure fail mode and a table-miss flow to CONTROLLER every ARP request becomes a packet-in."""
import socket
import struct
import subprocess
import sys
import time

OFP13 = 4
HELLO, ERROR, ECHO_REQ, ECHO_REP, FEATURES_REQ, FEATURES_REP = 0, 1, 2, 3, 5, 6
PACKET_IN, FLOW_MOD, BARRIER_REQ, BARRIER_REP, ROLE_REQ, ROLE_REP = 10, 14, 20, 21, 24, 25
NOCHANGE, EQUAL, MASTER, SLAVE = 0, 1, 2, 3
ET_BAD_REQUEST, BRC_IS_SLAVE = 1, 10
ET_ROLE_REQUEST_FAILED, RRFC_STALE = 11, 0
CONTROLLER = 0xFFFFFFFD

results = []


def report(name, ok, why=""):
    results.append(ok)
    print(("ok %s" % name) if ok else ("not ok %s: %s" % (name, why)), flush=True)


class Conn:
    def __init__(self, name, host, port):
        self.name = name
        self.s = socket.create_connection((host, port), timeout=5)
        self.buf = b""
        self.xid = 100
        self.pending = []  # messages read while waiting for something else
        self.send(HELLO, b"")
        t, _, _ = self.recv_type({HELLO}, 5)
        assert t == HELLO, "%s: no hello" % name

    def send(self, typ, body, xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.s.sendall(struct.pack("!BBHI", OFP13, typ, 8 + len(body), xid) + body)
        return xid

    def _read_one(self, deadline):
        while len(self.buf) < 8 or len(self.buf) < struct.unpack("!H", self.buf[2:4])[0]:
            # Past the deadline, still take what already waits in the socket.
            left = max(deadline - time.time(), 0.05)
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return None
            if not d:
                raise ConnectionError("%s: connection closed" % self.name)
            self.buf += d
        ver, typ, length, xid = struct.unpack("!BBHI", self.buf[:8])
        body, self.buf = self.buf[8:length], self.buf[length:]
        if typ == ECHO_REQ:
            self.send(ECHO_REP, body, xid)
        return typ, xid, body

    def recv_type(self, types, secs):
        for i, m in enumerate(self.pending):
            if m[0] in types:
                return self.pending.pop(i)
        deadline = time.time() + secs
        while True:
            m = self._read_one(deadline)
            if m is None:
                return None, None, None
            if m[0] in types:
                return m
            if m[0] != ECHO_REQ:
                self.pending.append(m)

    def transact(self, typ, body):
        """Sends a request then a barrier; returns the reply or error to it (None: nothing before the barrier)."""
        xid = self.send(typ, body)
        bx = self.send(BARRIER_REQ, b"")
        got = None
        deadline = time.time() + 5
        while True:
            m = self._read_one(deadline)
            if m is None:
                raise TimeoutError("%s: no barrier reply" % self.name)
            if m[1] == xid:
                got = m
            elif m[0] == BARRIER_REP and m[1] == bx:
                return got
            elif m[0] != ECHO_REQ:
                self.pending.append(m)

    def role(self, role, gen):
        return self.transact(ROLE_REQ, struct.pack("!I4xQ", role, gen))

    def packet_ins(self, until):
        """Packet-ins received up to time `until`."""
        n = sum(1 for m in self.pending if m[0] == PACKET_IN)
        self.pending = [m for m in self.pending if m[0] != PACKET_IN]
        while True:
            m = self._read_one(until)
            if m is None:
                return n
            if m[0] == PACKET_IN:
                n += 1


def flow_mod(priority, actions_to_controller):
    out = struct.pack("!HHIH6x", 0, 16, CONTROLLER, 0xFFFF) if actions_to_controller else b""
    inst = struct.pack("!HH4x", 4, 8 + len(out)) + out
    match = struct.pack("!HH4x", 1, 4)
    return struct.pack("!QQBBHHHIIIH2x", 0x5a, 0, 0, 0, 0, 0, priority, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0) + match + inst


def traffic(ns, last_octet, a, b):
    """Drops earlier packet-ins, makes NETNS ARP for 10.57.0.LAST_OCTET (three requests, one a second), and returns
    the packet-ins A and B got for them."""
    a.packet_ins(time.time() + 0.2)
    b.packet_ins(time.time() + 0.2)
    subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "10.57.0.%d" % last_octet],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until = time.time() + 3
    return a.packet_ins(until), b.packet_ins(until)


def role_of(m):
    if m is None or m[0] != ROLE_REP:
        return None
    return struct.unpack("!I4xQ", m[2][:16])


def error_of(m):
    if m is None or m[0] != ERROR:
        return None
    return struct.unpack("!HH", m[2][:4])


def main():
    host, port, ns = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    a = Conn("A", host, port)
    b = Conn("B", host, port)
    report("two connections said hello", True)
    r = role_of(a.role(NOCHANGE, 0))
    report("default role is equal", r is not None and r[0] == EQUAL, r)
    r = role_of(a.role(MASTER, 10))
    report("A becomes master (generation 10)", r == (MASTER, 10), r)
    r = role_of(b.role(SLAVE, 10))
    report("B becomes slave (generation 10)", r == (SLAVE, 10), r)
    e = error_of(b.transact(FLOW_MOD, flow_mod(0, True)))
    report("slave B's flow-mod refused with OFPBRC_IS_SLAVE", e == (ET_BAD_REQUEST, BRC_IS_SLAVE), e)
    m = a.transact(FLOW_MOD, flow_mod(0, True))
    report("master A's flow-mod (table-miss to CONTROLLER) accepted", m is None, m)
    na, nb = traffic(ns, 20, a, b)
    report("master A gets the packet-ins (%d)" % na, na > 0, na)
    report("slave B gets no packet-in (%d)" % nb, nb == 0, nb)
    e = error_of(b.role(MASTER, 9))
    report("B's master request with a stale generation (9 < 10) refused with OFPRRFC_STALE",
           e == (ET_ROLE_REQUEST_FAILED, RRFC_STALE), e)
    r = role_of(b.role(NOCHANGE, 0))
    report("the stale request changed nothing (B still slave)", r is not None and r[0] == SLAVE, r)
    r = role_of(b.role(MASTER, 11))
    report("B becomes master (generation 11)", r == (MASTER, 11), r)
    r = role_of(a.role(NOCHANGE, 0))
    report("A was demoted to slave", r == (SLAVE, 11), r)
    e = error_of(a.transact(FLOW_MOD, flow_mod(1, False)))
    report("demoted A's flow-mod refused with OFPBRC_IS_SLAVE", e == (ET_BAD_REQUEST, BRC_IS_SLAVE), e)
    na, nb = traffic(ns, 21, a, b)
    report("now B gets the packet-ins (%d) and A none (%d)" % (nb, na), nb > 0 and na == 0, (na, nb))
    r = role_of(a.role(EQUAL, 0))
    report("A becomes equal", r is not None and r[0] == EQUAL, r)
    m = a.transact(FLOW_MOD, flow_mod(1, False))
    report("equal A's flow-mod accepted", m is None, m)
    # A's priority-1 flow with no actions drops everything now: no packet-ins for anyone.
    na, nb = traffic(ns, 22, a, b)
    report("after A's drop-all flow no packet-ins (A %d, B %d)" % (na, nb), na == 0 and nb == 0, (na, nb))
    r = role_of(b.role(NOCHANGE, 0))
    report("B is still master beside an equal A", r is not None and r[0] == MASTER, r)
    return 0 if all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a crash is a failure with its reason, not a silent pass
        print("not ok roles.py crashed: %r" % (e,), flush=True)
        sys.exit(1)

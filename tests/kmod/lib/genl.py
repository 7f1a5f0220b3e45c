"""Raw generic netlink client shared by the tests/kmod/lib Python helpers (plain python3 sockets, no packages):
the socket, request building, family resolution, attribute encoding/parsing and PASS/FAIL reporting."""
import select
import socket
import struct

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 1, 2, 4, 8
NLMSG_ERROR, NLMSG_DONE = 2, 3


def nla(t, p):
    """One netlink attribute of type `t` with payload `p`, padded to 4 bytes."""
    n = 4 + len(p)
    return struct.pack("HH", n, t) + p + b"\0" * ((4 - n % 4) % 4)


def attrs(b):
    """{type (flags masked off): payload} of an attribute sequence; stops at the first malformed attribute."""
    out = {}
    while len(b) >= 4:
        n, t = struct.unpack("HH", b[:4])
        if n < 4:
            break
        out[t & 0x3FFF] = b[4:n]
        b = b[(n + 3) & ~3:]
    return out


def genlmsg(cmd, version, payload):
    """A generic netlink header (cmd, version) followed by `payload`."""
    return struct.pack("BBH", cmd, version, 0) + payload


def ifindex_hdr(dev):
    """struct ovs_header naming the datapath whose device is `dev`: (its ifindex packed, the ifindex)."""
    ifindex = int(open(f"/sys/class/net/{dev}/ifindex").read())
    return struct.pack("i", ifindex), ifindex


class Genl:
    """A bound NETLINK_GENERIC socket. `pid` is its port id (an upcall PID), `seq` the last sequence number used."""

    def __init__(self, rcvbuf=None, ext_ack=False, seq=0):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if ext_ack:
            self.s.setsockopt(270, 11, 1)  # SOL_NETLINK, NETLINK_EXT_ACK
            self.s.setsockopt(270, 10, 1)  # NETLINK_CAP_ACK: errors quote only the request's header
        self.s.bind((0, 0))
        self.pid = self.s.getsockname()[0]
        self.seq = seq

    def send_raw(self, typ, flags, body):
        """Sends one netlink message of type `typ` (body already holds the genl header); returns its seq."""
        self.seq += 1
        self.s.send(struct.pack("IHHII", 16 + len(body), typ, flags, self.seq, self.pid) + body)
        return self.seq

    def send(self, fam, cmd, payload, flags=0, version=1):
        """A request (with NLM_F_ACK) of command `cmd` to family `fam`; returns its seq."""
        return self.send_raw(fam, NLM_F_REQUEST | NLM_F_ACK | flags, genlmsg(cmd, version, payload))

    def recv_msgs(self, timeout=3.0):
        """The messages of one datagram as (type, seq, body) within `timeout` seconds, [] if none arrived."""
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return []
        data = self.s.recv(1 << 17)
        msgs = []
        while len(data) >= 16:
            n, t, f, q, p = struct.unpack("IHHII", data[:16])
            msgs.append((t, q, data[16:n]))
            data = data[(n + 3) & ~3:]
        return msgs

    def transact(self, fam, cmd, payload, flags=0, version=1, timeout=3.0):
        """Sends a request and waits for its ack: (errno or None without an ack, last reply body or None).
        Messages answering other requests (upcalls among them) are dropped."""
        q = self.send(fam, cmd, payload, flags, version)
        reply = None
        for _ in range(10):
            for t, mq, body in self.recv_msgs(timeout):
                if mq != q:
                    continue
                if t == NLMSG_ERROR:
                    return struct.unpack("i", body[:4])[0], reply
                reply = body
        return None, reply

    def family(self, name):
        """The id of the generic netlink family `name` (CTRL_CMD_GETFAMILY)."""
        err, body = self.transact(GENL_ID_CTRL, 3, nla(2, name.encode() + b"\0"))
        return struct.unpack("H", attrs(body[4:])[1][:2])[0]


class Checks:
    """PASS/FAIL lines: check(name, ok, why) prints one; status() is the exit status (1 if any failed)."""

    def __init__(self):
        self.failed = False

    def __call__(self, name, ok, why=""):
        print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
        self.failed |= not ok

    def status(self):
        return 1 if self.failed else 0

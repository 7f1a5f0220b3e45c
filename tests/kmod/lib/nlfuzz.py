#!/usr/bin/env python3
"""Malformed generic netlink requests for the Open vSwitch datapath families (tests/kmod/robust.sh).

  nlfuzz.py [--count N] [--seed S] [--only I] [--ports V1,V2,SPARE] [--verbose]

Builds valid requests for every command of ovs_datapath, ovs_vport, ovs_flow, ovs_packet and ovs_meter (doit and,
where the family has one, dump) against a datapath "fz0" it creates, then mutates them deterministically: request
I uses random.Random(f"{S}:{I}"), so `--only I` replays one request. Mutations work on the attribute tree
(truncate, drop, duplicate, retype, corrupt a length, grow a payload to tens of kilobytes, nest a hundred levels
deep, replace a value with random bytes) and on the headers (command, version, flags, dp_ifindex), then on the
serialised bytes (cut, flipped bytes). Every request must get an answer: an NLMSG_ERROR with 0 or an errno in
[-4095, -1], or well-formed reply messages followed by the ack / NLMSG_DONE. A request without an answer in 5 s,
or a malformed answer, fails. Prints one summary PASS/FAIL line per family and the errno histogram; exit status
1 on any failure. Plain python3 sockets, no extra packages.
"""
import argparse
import collections
import copy
import errno as E
import os
import random
import select
import socket
import struct
import sys
import time

from genl import GENL_ID_CTRL, NETLINK_GENERIC, NLM_F_ACK, NLM_F_ECHO, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, Genl
from genl import genlmsg as genl

NLM_F_ROOT, NLM_F_MATCH = 0x100, 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLM_F_CREATE, NLM_F_EXCL = 0x400, 0x200
NLA_F_NESTED = 0x8000
# Requests are cut to this size (the socket's send buffer bounds what one send can carry).
MAX_PAYLOAD = 128 * 1024

# Families: name -> (version, commands with a dump)
FAMILIES = {
    "ovs_datapath": (2, {3}),
    "ovs_vport": (2, {3}),
    "ovs_flow": (1, {3}),
    "ovs_packet": (1, set()),
    "ovs_meter": (1, set()),
}


# ---------------------------------------------------------------------------------------------------- attributes
class A:
    """An attribute: `kids` (nested) or `val` (bytes). `lenfix` overrides nla_len when serialised."""

    __slots__ = ("t", "val", "kids", "lenfix")

    def __init__(self, t, val=b"", kids=None):
        self.t, self.val, self.kids, self.lenfix = t, val, kids, None

    def payload(self):
        return b"".join(k.bytes() for k in self.kids) if self.kids is not None else self.val

    def bytes(self):
        p = self.payload()
        n = 4 + len(p)
        ln = self.lenfix if self.lenfix is not None else n
        return struct.pack("HH", ln & 0xFFFF, self.t & 0xFFFF) + p + b"\0" * ((4 - n % 4) % 4)


def N(t, *kids):
    return A(t, kids=list(kids))


def u8(t, v):
    return A(t, struct.pack("B", v))


def u16(t, v):
    return A(t, struct.pack("H", v))


def be16(t, v):
    return A(t, struct.pack("!H", v))


def u32(t, v):
    return A(t, struct.pack("I", v))


def u64(t, v):
    return A(t, struct.pack("Q", v))


def flag(t):
    return A(t)


def s(t, v):
    return A(t, v.encode() + b"\0")


def ser(attrs):
    return b"".join(a.bytes() for a in attrs)


def parse_attrs(b):
    """Attributes of `b`, or None if `b` is not exactly a well-formed attribute sequence."""
    out = []
    while b:
        if len(b) < 4:
            return None
        n, t = struct.unpack("HH", b[:4])
        if n < 4 or n > len(b):
            return None
        out.append((t, b[4:n]))
        b = b[(n + 3) & ~3:]
    return out


# ---------------------------------------------------------------------------------------------------- OVS encoders
def mac(s_):
    return bytes.fromhex(s_.replace(":", ""))


def ip4(s_):
    return socket.inet_aton(s_)


ETH_A, ETH_B = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")


def k_eth(src=ETH_A, dst=ETH_B):
    return A(4, src + dst)


def k_ipv4(src="10.0.0.1", dst="10.0.0.2", proto=17, tos=0, ttl=64, frag=0):
    return A(7, ip4(src) + ip4(dst) + struct.pack("BBBB", proto, tos, ttl, frag))


def k_ipv6(proto=58):
    return A(8, socket.inet_pton(socket.AF_INET6, "fe80::1") + socket.inet_pton(socket.AF_INET6, "ff02::1")
             + struct.pack("!I", 0) + struct.pack("BBBB", proto, 0, 255, 0))


def k_ports(t, sp, dp):
    return A(t, struct.pack("!HH", sp, dp))


def k_arp():
    return A(13, ip4("10.0.0.1") + ip4("10.0.0.2") + struct.pack("!H", 1) + ETH_A + b"\0" * 6 + b"\0\0")


def k_tunnel():
    return N(16, A(0, struct.pack("!Q", 42)), A(1, ip4("192.168.0.1")), A(2, ip4("192.168.0.2")),
             u8(3, 0), u8(4, 64), flag(5), be16(9, 4789), be16(10, 4789))


def key_udp(in_port=1, dport=53):
    return [u32(3, in_port), k_eth(), be16(6, 0x0800), k_ipv4(), k_ports(10, 1234, dport)]


def key_variants():
    return [
        key_udp(),
        [u32(3, 2), k_eth(), be16(6, 0x0800), k_ipv4(proto=6), k_ports(9, 1, 80), be16(18, 0x02)],
        [u32(3, 1), k_eth(), be16(6, 0x0800), k_ipv4(proto=1), A(11, b"\x08\x00")],
        [u32(3, 1), k_eth(), be16(6, 0x0806), k_arp()],
        [u32(3, 1), k_eth(), be16(6, 0x86DD), k_ipv6(), A(12, b"\x87\x00"),
         A(14, socket.inet_pton(socket.AF_INET6, "fe80::2") + ETH_A + b"\0" * 6)],
        [u32(3, 1), k_eth(), be16(6, 0x8100), be16(5, 0x1000 | 10),
         N(1, be16(6, 0x0800), k_ipv4(), k_ports(10, 1, 2))],
        [u32(2, 7), u32(15, 9), u32(19, 3), u32(20, 0), k_tunnel(), u32(3, 1), k_eth(), be16(6, 0x0800), k_ipv4(),
         k_ports(10, 7, 8)],
    ]


def mask_of(key):
    """An all-ones mask (with in_port exact) for a key's attributes."""
    out = []
    for a in key:
        if a.kids is not None:
            out.append(N(a.t, *[A(k.t, b"\xff" * len(k.val)) if k.kids is None else mask_of([k])[0] for k in a.kids]))
        else:
            out.append(A(a.t, b"\xff" * len(a.val)))
    return out


def actions_variants(pid):
    out1 = u32(1, 1)
    out2 = u32(1, 2)
    return [
        [out2],
        [A(4, struct.pack("!HH", 0x8100, 0x1000 | 5)), out2],
        [A(5), out2],
        [N(3, k_eth(ETH_B, ETH_A)), out2],
        [N(11, A(7, ip4("0.0.0.0") + ip4("10.0.0.9") + bytes([0, 0x10, 9, 0])
                 + b"\0\0\0\0" + b"\xff" * 4 + bytes([0, 0xfc, 0xff, 0]))), out2],
        [N(2, u32(1, pid), A(2, b"cookie12"), flag(4))],
        [N(6, u32(1, 0xFFFFFFFF), N(2, out1, out2))],
        [N(20, A(5), out2), out1],
        [A(8, struct.pack("II", 1, 7)), A(7, struct.pack("I", 1))],
        [A(13, struct.pack("I", 60)), out2],
        [N(21, u16(1, 100), N(2, out1), N(3, out2))],
        [N(23, N(1, out2))],
        [u32(19, 3), out2],
        [N(3, N(16, A(0, struct.pack("!Q", 5)), A(2, ip4("192.168.0.2")), u8(4, 64))), out2],
        [A(24, struct.pack("I", 0))],
        [],
    ]


def udp_frame(dport=53, vlan=None):
    payload = b"fuzz" * 4
    udp = struct.pack("!HHHH", 1234, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip4("10.0.0.1"), ip4("10.0.0.2"))
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return ETH_B + ETH_A + tag + b"\x08\x00" + ip + udp


# ---------------------------------------------------------------------------------------------------- netlink
class Nl(Genl):
    """The fuzzer's socket: a large receive buffer, extended acks, and a strict reader of the answers."""

    def __init__(self):
        super().__init__(rcvbuf=1 << 20, ext_ack=True, seq=int(time.time()) & 0xFFFF)
        self.extack = ""

    def replies(self, seq, timeout=5.0):
        """Messages answering `seq` until the final ack/error/done: (list of (type, flags, body), final) where
        final is ('error', errno) / ('done', value) / None on timeout. Raises ValueError on a malformed answer."""
        msgs, deadline = [], time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return msgs, None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return msgs, None
            try:
                data = self.s.recv(1 << 20)
            except OSError as e:
                if e.errno == E.ENOBUFS:
                    continue
                raise
            while data:
                if len(data) < 16:
                    raise ValueError(f"runt netlink message ({len(data)} bytes)")
                n, t, f, q, _ = struct.unpack("IHHII", data[:16])
                if n < 16 or n > len(data):
                    raise ValueError(f"bad nlmsg_len {n} (have {len(data)})")
                body = data[16:n]
                data = data[(n + 3) & ~3:]
                if q != seq:
                    continue
                if t == NLMSG_ERROR:
                    if len(body) < 4:
                        raise ValueError("short NLMSG_ERROR")
                    self.extack = ""
                    for at, av in parse_attrs(body[20:]) or []:
                        if at == 1:
                            self.extack = av.rstrip(b"\0").decode(errors="replace")
                    return msgs, ("error", struct.unpack("i", body[:4])[0])
                if t == NLMSG_DONE:
                    v = struct.unpack("i", body[:4])[0] if len(body) >= 4 else 0
                    return msgs, ("done", v)
                msgs.append((t, f, body))

    def request(self, typ, flags, body):
        q = self.send_raw(typ, flags | NLM_F_REQUEST, body)
        return self.replies(q)


def resolve(nl, name):
    msgs, fin = nl.request(GENL_ID_CTRL, NLM_F_ACK, genl(3, 1, ser([s(2, name)])))
    for _, _, body in msgs:
        for t, v in parse_attrs(body[4:]) or []:
            if t == 1:
                return struct.unpack("H", v[:2])[0]
    raise SystemExit(f"nlfuzz: generic netlink family {name} not found ({fin})")


# ---------------------------------------------------------------------------------------------------- seeds
class Ctx:
    def __init__(self, nl, fams, sink_pid, ports):
        self.nl, self.fams, self.sink, self.ports = nl, fams, sink_pid, ports
        self.ifindex = 0

    def dp_ifindex(self):
        try:
            return int(open("/sys/class/net/fz0/ifindex").read())
        except OSError:
            return 0

    def ensure_dp(self):
        """(Re)creates fz0 with its ports if a mutated request deleted it; returns its ifindex."""
        idx = self.dp_ifindex()
        if idx:
            self.ifindex = idx
            return idx
        fdp, fv = self.fams["ovs_datapath"], self.fams["ovs_vport"]
        self.nl.request(fdp, NLM_F_ACK, genl(1, 2, struct.pack("i", 0) + ser(
            [s(1, "fz0"), u32(2, self.sink), u32(5, 1 | 2)])))
        self.ifindex = self.dp_ifindex()
        for i, p in enumerate(self.ports[:2]):
            self.nl.request(fv, NLM_F_ACK, genl(1, 2, struct.pack("i", self.ifindex) + ser(
                [s(3, p), u32(2, 1), u32(1, i + 1), u32(5, self.sink)])))
        return self.ifindex


def seeds(ctx):
    """[(family, cmd, flags, attrs-builder)]; builders take the rng and return a list of attributes."""
    sink = ctx.sink
    spare = ctx.ports[2] if len(ctx.ports) > 2 else "nosuchdev"
    keys, acts = key_variants(), actions_variants(sink)
    ufid = lambda r: A(9, bytes(r.getrandbits(8) for _ in range(16)))  # noqa: E731
    sd = []
    # ovs_datapath
    sd += [
        ("ovs_datapath", 1, 0, lambda r: [s(1, "fzx"), u32(2, sink), u32(5, r.choice([0, 1, 3, 11]))]),
        ("ovs_datapath", 2, 0, lambda r: [s(1, "fzx")]),
        ("ovs_datapath", 3, 0, lambda r: [s(1, "fz0")]),
        ("ovs_datapath", 3, 0, lambda r: []),
        ("ovs_datapath", 3, NLM_F_DUMP, lambda r: []),
        ("ovs_datapath", 4, 0, lambda r: [u32(5, 1 | 2 | 8), A(8, struct.pack("II", sink, sink)), u32(7, 256)]),
        ("ovs_datapath", 4, 0, lambda r: [u32(5, 1 | 2), u32(2, sink), u32(7, 0)]),
    ]
    # ovs_vport
    sd += [
        ("ovs_vport", 1, 0, lambda r: [s(3, f"fzi{r.randrange(4)}"), u32(2, 2), u32(5, sink)]),
        ("ovs_vport", 1, 0, lambda r: [s(3, spare), u32(2, 1), u32(1, 9), u32(5, sink), N(4)]),
        ("ovs_vport", 1, 0, lambda r: [s(3, "fzg0"), u32(2, 3), N(4, be16(1, 4789)), u32(5, sink)]),
        ("ovs_vport", 2, 0, lambda r: [s(3, f"fzi{r.randrange(4)}")]),
        ("ovs_vport", 2, 0, lambda r: [u32(1, 9)]),
        ("ovs_vport", 3, 0, lambda r: [s(3, ctx.ports[0])]),
        ("ovs_vport", 3, 0, lambda r: [u32(1, 1)]),
        ("ovs_vport", 3, NLM_F_DUMP, lambda r: []),
        ("ovs_vport", 4, 0, lambda r: [u32(1, 1), u32(2, 1), A(5, struct.pack("I", sink))]),
        ("ovs_vport", 4, 0, lambda r: [s(3, ctx.ports[1]), N(4)]),
    ]

    def flow_new(r):
        k = r.choice(keys)
        return [N(1, *k), N(7, *mask_of(k)), N(2, *r.choice(acts)), ufid(r), u32(10, r.choice([0, 1, 7]))]

    def flow_key_only(r):
        return [N(1, *r.choice(keys))]

    sd += [
        ("ovs_flow", 1, 0, flow_new),
        ("ovs_flow", 1, NLM_F_CREATE, lambda r: [N(1, *key_udp(dport=r.randrange(8))), N(2, *r.choice(acts))]),
        ("ovs_flow", 4, 0, lambda r: [N(1, *key_udp(dport=r.randrange(8))), N(2, *r.choice(acts)), flag(6)]),
        ("ovs_flow", 2, 0, flow_key_only),
        ("ovs_flow", 2, 0, lambda r: [ufid(r)]),
        ("ovs_flow", 3, 0, flow_key_only),
        ("ovs_flow", 3, 0, lambda r: [ufid(r), u32(10, 7)]),
        ("ovs_flow", 3, NLM_F_DUMP, lambda r: [u32(10, r.choice([0, 1, 2, 4, 7]))]),
    ]
    # ovs_packet
    sd += [
        ("ovs_packet", 3, 0, lambda r: [A(1, udp_frame()), N(2, u32(3, 1), u32(2, 0), u32(15, 0)),
                                        N(3, *r.choice(acts))]),
        ("ovs_packet", 3, 0, lambda r: [A(1, udp_frame(vlan=10)), N(2, u32(3, 2), u32(20, 0), u32(19, 0)),
                                        N(3, *r.choice(acts)), flag(8), u16(9, 1500)]),
        ("ovs_packet", 3, 0, lambda r: [A(1, udp_frame()), N(2, u32(3, 1), k_tunnel()), N(3, A(13, struct.pack("I", 20)), u32(1, 2)), u64(11, 5)]),
    ]
    # ovs_meter
    band = N(1, u32(1, 1), u32(2, 1000), u32(3, 100))
    sd += [
        ("ovs_meter", 1, 0, lambda r: []),
        ("ovs_meter", 2, 0, lambda r: [u32(1, r.randrange(4)), flag(2), N(4, band)]),
        ("ovs_meter", 3, 0, lambda r: [u32(1, r.randrange(4))]),
        ("ovs_meter", 4, 0, lambda r: [u32(1, r.randrange(4)), flag(6)]),
    ]
    return sd


# ---------------------------------------------------------------------------------------------------- mutation
def lift(attrs):
    """Turns byte attributes whose payload is itself an attribute sequence into nested nodes (recursively)."""
    for a in attrs:
        if a.kids is None and len(a.val) >= 4:
            sub = parse_attrs(a.val)
            if sub is not None and sub:
                a.kids = lift([A(t, v) for t, v in sub])
                a.val = b""
        elif a.kids is not None:
            lift(a.kids)
    return attrs


def all_lists(attrs, depth=0):
    """Every attribute list in the tree (the top level and each nested node's children)."""
    out = [attrs]
    for a in attrs:
        if a.kids is not None and depth < 8:
            out += all_lists(a.kids, depth + 1)
    return out


def all_nodes(attrs):
    return [a for lst in all_lists(attrs) for a in lst]


def rand_bytes(r, n):
    return r.randbytes(n)


def mutate_tree(r, attrs):
    lists = all_lists(attrs)
    nodes = all_nodes(attrs)
    op = r.randrange(12)
    lst = r.choice(lists)
    if op == 0 and lst:  # drop
        lst.pop(r.randrange(len(lst)))
    elif op == 1 and lst:  # duplicate (same or mutated value)
        a = r.choice(lst)
        b = A(a.t, a.val, a.kids[:] if a.kids is not None else None)
        if b.kids is None and r.random() < 0.5:
            b.val = rand_bytes(r, len(b.val))
        lst.insert(r.randrange(len(lst) + 1), b)
    elif op == 2 and nodes:  # retype
        a = r.choice(nodes)
        a.t = r.choice([0, 1, 2, 3, 5, 8, 16, 20, 25, 31, 32, 33, 40, 0x3FFF, r.randrange(64)]) | r.choice(
            [0, 0, NLA_F_NESTED, 0x4000])
    elif op == 3 and nodes:  # corrupt a length
        a = r.choice(nodes)
        n = 4 + len(a.payload())
        a.lenfix = r.choice([0, 1, 2, 3, 4, 5, n - 1, n + 1, n + 4, n + 100, 0xFFFF, r.randrange(0x10000)])
    elif op == 4 and nodes:  # resize a value
        a = r.choice(nodes)
        if a.kids is None:
            a.val = r.choice([b"", a.val[:-1], a.val + b"\0", a.val[: r.randrange(len(a.val) + 1)],
                              a.val + rand_bytes(r, r.randrange(1, 64))])
    elif op == 5 and nodes:  # random value
        a = r.choice(nodes)
        if a.kids is None:
            a.val = rand_bytes(r, len(a.val) or r.randrange(1, 32))
        else:
            a.kids, a.val = None, rand_bytes(r, r.randrange(0, 64))
    elif op == 6:  # oversized payload
        big = r.choice([1000, 4096, 16000, 65000, 65531])
        if nodes and r.random() < 0.5:
            a = r.choice(nodes)
            if a.kids is None:
                a.val = a.val + rand_bytes(r, 64) * (big // 64)
            else:
                a.kids.append(A(r.randrange(32), b"\0" * big))
        else:
            lst.append(A(r.randrange(16), b"\xff" * big))
    elif op == 7 and nodes:  # deep nesting: a chain of the same nested type
        a = r.choice([n for n in nodes if n.kids is not None] or nodes)
        depth = r.choice([8, 16, 64, 128, 400])
        inner = A(a.t, a.val, a.kids)
        for _ in range(depth):
            inner = N(a.t if r.random() < 0.8 else r.randrange(32), inner)
        a.kids, a.val = [inner], b""
    elif op == 8:  # many attributes
        n = r.choice([50, 500, 3000])
        types, vals = r.randbytes(n), r.randbytes(8 * n)
        lst += [A(t % 40, vals[8 * i:8 * i + (t % 3) * 4]) for i, t in enumerate(types)]
    elif op == 9 and nodes:  # nested <-> flat
        a = r.choice(nodes)
        if a.kids is not None:
            a.val, a.kids = ser(a.kids), None
        else:
            a.kids = [A(r.randrange(32), a.val)]
            a.val = b""
    elif op == 10 and lst:  # reorder
        r.shuffle(lst)
    elif op == 11:  # empty nested of a random type
        lst.append(N(r.randrange(33)))


def mutate_bytes(r, b):
    op = r.randrange(4)
    if op == 0 and b:
        return b[: r.randrange(len(b))]
    if op == 1 and b:
        b = bytearray(b)
        for _ in range(r.randrange(1, 8)):
            b[r.randrange(len(b))] = r.getrandbits(8)
        return bytes(b)
    if op == 2:
        return b + rand_bytes(r, r.randrange(1, 8))
    return b


def build(r, ctx, seed_list, fams):
    fam, cmd, flags, builder = r.choice(seed_list)
    version, _ = FAMILIES[fam]
    # Builders share attribute objects between requests: mutate a private copy (determinism per request index).
    attrs = lift(copy.deepcopy(builder(r)))
    ifindex = ctx.ifindex
    n_mut = r.choice([0, 1, 1, 1, 2, 2, 3, 5])
    for _ in range(n_mut):
        mutate_tree(r, attrs)
    payload = ser(attrs)[:MAX_PAYLOAD]
    if r.random() < 0.25:
        payload = mutate_bytes(r, payload)
    if r.random() < 0.1:
        ifindex = r.choice([0, -1, 1, ifindex + 1, 0x7FFFFFFF, r.getrandbits(31)])
    if r.random() < 0.05:
        cmd = r.choice([0, 5, 6, 255, r.randrange(256)])
    if r.random() < 0.05:
        version = r.choice([0, 1, 2, 3, 255])
    if r.random() < 0.05:
        flags ^= r.choice([NLM_F_DUMP, NLM_F_ECHO, NLM_F_CREATE, NLM_F_EXCL, NLM_F_CREATE | NLM_F_EXCL])
    hdr = struct.pack("i", ifindex)
    if r.random() < 0.03:
        hdr = hdr[: r.randrange(4)]  # short ovs_header
        payload = b""
    return fam, cmd, flags, genl(cmd, version, hdr + payload)


def check_answer(fams_by_id, msgs, fin):
    """None if the answer is acceptable, else why not."""
    if fin is None:
        return "no answer within 5 s"
    kind, v = fin
    if v > 0 or v < -4095:
        return f"{kind} with value {v}"
    for t, _, body in msgs:
        if t not in fams_by_id:
            return f"reply of unexpected type {t}"
        if len(body) < 8:
            return f"reply of {len(body)} bytes (no genl + ovs header)"
        rest = body[8:]
        while len(rest) >= 4:
            n, _ = struct.unpack("HH", rest[:4])
            if n < 4 or n > len(rest):
                return f"reply with a bad attribute length {n}"
            rest = rest[(n + 3) & ~3:]
        if rest:
            return f"reply with {len(rest)} trailing bytes"
    return None


def cleanup_extra_dps(nl, fams):
    """Deletes every datapath but fz0 (mutated NEW requests create some; each holds a flow table)."""
    fdp = fams["ovs_datapath"]
    msgs, _ = nl.request(fdp, NLM_F_DUMP, genl(3, 2, struct.pack("i", 0)))
    for _, _, body in msgs:
        name = None
        for t, v in parse_attrs(body[8:]) or []:
            if t == 1:
                name = v.split(b"\0")[0]
        if name and name != b"fz0":
            nl.request(fdp, NLM_F_ACK, genl(2, 2, struct.pack("i", 0) + ser([A(1, name + b"\0")])))


def main():
    sys.setrecursionlimit(100000)
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", type=int)
    ap.add_argument("--ports", default="fzv1,fzv2,fzv3")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--progress", type=int, default=0, help="print timing every N requests")
    ap.add_argument("--valid", action="store_true", help="send every seed request once, unmutated, and print answers")
    o = ap.parse_args()

    nl = Nl()
    sink = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sink.bind((0, 0))  # upcalls go here and are never read: they are counted as lost, not delivered
    fams = {n: resolve(nl, n) for n in FAMILIES}
    fams_by_id = {v: k for k, v in fams.items()}
    ctx = Ctx(nl, fams, sink.getsockname()[0], o.ports.split(","))
    if not ctx.ensure_dp():
        print("FAIL: nlfuzz: cannot create datapath fz0")
        return 1
    seed_list = seeds(ctx)

    if o.valid:
        for fam, cmd, flags, builder in seed_list:
            r = random.Random(0)
            ctx.ensure_dp()
            body = genl(cmd, FAMILIES[fam][0], struct.pack("i", ctx.ifindex) + ser(builder(r)))
            msgs, fin = nl.request(fams[fam], NLM_F_ACK | flags, body)
            e = -fin[1] if fin and fin[1] < 0 else 0
            print(f"seed {fam} cmd {cmd} flags {flags:#x}: {E.errorcode.get(e, 'ok') if e else 'ok'}, {len(msgs)} replies"
                  f" {nl.extack}")
        # Every flow key with every action list.
        for ki, k in enumerate(key_variants()):
            for ai, a in enumerate(actions_variants(ctx.sink)):
                body = genl(1, 1, struct.pack("i", ctx.ifindex) + ser([N(1, *k), N(7, *mask_of(k)), N(2, *a)]))
                msgs, fin = nl.request(fams["ovs_flow"], NLM_F_ACK, body)
                e = -fin[1] if fin and fin[1] < 0 else 0
                print(f"flow key {ki} actions {ai}: {E.errorcode.get(e, 'ok') if e else 'ok'} {nl.extack}")
            nl.request(fams["ovs_flow"], NLM_F_ACK, genl(2, 1, struct.pack("i", ctx.ifindex)))
        return 0

    per_fam = collections.defaultdict(lambda: [0, 0])
    errnos = collections.Counter()
    spent = collections.Counter()
    failures = []
    t0 = time.monotonic()
    indexes = [o.only] if o.only is not None else range(o.count)
    for i in indexes:
        if o.progress and i % o.progress == 0 and i:
            slow = sorted(spent.items(), key=lambda kv: -kv[1])[:4]
            print(f"  {i} requests, {time.monotonic() - t0:.1f} s; slowest: "
                  + ", ".join(f"{k[0]}/{k[1]}:{v:.1f}s" for k, v in slow), flush=True)
        ctx.ensure_dp()
        r = random.Random(f"{o.seed}:{i}")
        fam, cmd, flags, body = build(r, ctx, seed_list, fams)
        typ = fams[fam]
        t1 = time.monotonic()
        q = nl.send_raw(typ, NLM_F_REQUEST | NLM_F_ACK | flags, body)
        try:
            msgs, fin = nl.replies(q)
            why = check_answer(fams_by_id, msgs, fin)
        except ValueError as e:
            msgs, fin, why = [], None, str(e)
        spent[(fam, cmd)] += time.monotonic() - t1
        per_fam[fam][0] += 1
        if fin is not None:
            errnos[(fam, cmd if 0 < cmd < 6 else "?", -fin[1] if fin[1] < 0 else 0)] += 1
        if why:
            per_fam[fam][1] += 1
            failures.append(f"request {i} ({fam} cmd {cmd} flags {flags:#x}, {len(body)} bytes): {why}")
        if o.verbose:
            print(f"{i}: {fam} cmd {cmd} flags {flags:#x} len {len(body)} -> {fin} {len(msgs)} msgs")
        if fam == "ovs_datapath" and cmd == 1:
            cleanup_extra_dps(nl, fams)
    dt = time.monotonic() - t0

    n = sum(v[0] for v in per_fam.values())
    print(f"nlfuzz: {n} requests (seed {o.seed}) in {dt:.1f} s")
    hist = collections.defaultdict(collections.Counter)
    for (fam, cmd, e), c in errnos.items():
        hist[fam][e] += c
    for fam in FAMILIES:
        sent, bad = per_fam[fam]
        h = " ".join(f"{(E.errorcode.get(e, e) if e else 'ok')}:{c}" for e, c in sorted(hist[fam].items()))
        ok = bad == 0 and (sent > 0 or o.only is not None)
        print(("PASS" if ok else "FAIL") + f": nlfuzz {fam}: {sent} requests, {bad} without a proper answer [{h}]")
    for f in failures[:20]:
        print("  " + f)
    return 1 if failures or (o.only is None and any(per_fam[f][0] == 0 for f in FAMILIES)) else 0


if __name__ == "__main__":
    sys.exit(main())

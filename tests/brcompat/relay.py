#!/usr/bin/env python3
"""The rvs_brcompat relay of rvs.ko (loaded with brcompat=1, no rvs-vswitchd running) against a scripted daemon:
this script registers as the listener, issues bridge ioctls from a thread and answers (or not) each REQUEST,
checking what the ioctl returns for good and bad answers, and that the family refuses malformed or unprivileged
messages. Run by tests/brcompat/relay.sh."""
import ctypes
import fcntl
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["RVS_REPO"], "tests/kmod/lib"))
from genl import Checks, Genl, attrs, nla  # noqa: E402

REGISTER, REQUEST, REPLY = 1, 2, 3
A_SEQ, A_OP, A_BRIDGE, A_IFINDEX, A_VALUE, A_OFFSET, A_MAX, A_ERRNO, A_DATA, A_DEADLINE = range(1, 11)
SIOCGIFBR, SIOCBRADDBR = 0x8940, 0x89A0
BRCTL_GET_BRIDGES = 1
EPERM, EIO, EINVAL, EEXIST, EMSGSIZE, ETIMEDOUT, ENODEV = 1, 5, 22, 17, 90, 110, 19
check = Checks()
HDR = struct.pack("i", 0)


def ioctl_in_thread(fn):
    """Runs fn() in a thread; returns a getter of (result, errno)."""
    out = {}

    def run():
        try:
            out["r"] = (fn(), 0)
        except OSError as e:
            out["r"] = (None, e.errno)

    t = threading.Thread(target=run)
    t.start()
    return lambda: (t.join(20), out.get("r"))[1]


def get_bridges(maxn):
    buf = ctypes.create_string_buffer(4 * maxn)
    args = bytearray(struct.pack("LLL", BRCTL_GET_BRIDGES, ctypes.addressof(buf), maxn))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    n = fcntl.ioctl(s, SIOCGIFBR, args)
    return n, list(struct.unpack(f"{n}i", buf.raw[: 4 * n])) if n > 0 else []


def addbr(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    return fcntl.ioctl(s, SIOCBRADDBR, name.encode().ljust(16, b"\0"))


def next_request(g, timeout=3.0):
    """The next REQUEST as a dict of attributes, or None."""
    end = time.time() + timeout
    while time.time() < end:
        for t, _, body in g.recv_msgs(end - time.time()):
            if t == fam and body[0] == REQUEST:
                return attrs(body[8:])
    return None


def reply(g, seq, err, data=b"", extra=b""):
    """Sends a REPLY; returns its ack's errno (0 ok, negative errno)."""
    payload = HDR + nla(A_SEQ, struct.pack("I", seq)) + nla(A_ERRNO, struct.pack("I", err)) + nla(A_DATA, data) + extra
    e, _ = g.transact(fam, REPLY, payload)
    return e


ctl = Genl(ext_ack=True)
fam = ctl.family("rvs_brcompat")
daemon = Genl()
replier = Genl(ext_ack=True)

# Before anyone registers: no listener.
res = ioctl_in_thread(lambda: addbr("brq"))()
check("no listener: SIOCBRADDBR fails with ENODEV at once", res == (None, ENODEV), repr(res))
check("REPLY without a listener refused (EPERM)", reply(replier, 1, 0) == -EPERM)

check("REGISTER accepted", daemon.transact(fam, REGISTER, HDR)[0] == 0)

# A change: the request carries op, name and a deadline about 15 s ahead; the daemon's errno reaches the caller.
get = ioctl_in_thread(lambda: addbr("brq"))
req = next_request(daemon)
check("addbr request relayed", req is not None and struct.unpack("I", req[A_OP])[0] == 1
      and req[A_BRIDGE].rstrip(b"\0") == b"brq", repr(req))
if req:
    now_ms = time.clock_gettime(time.CLOCK_MONOTONIC) * 1000
    left = struct.unpack("Q", req[A_DEADLINE])[0] - now_ms
    check("request deadline ~15 s ahead", 13000 < left <= 15100, f"{left:.0f} ms")
    seq = struct.unpack("I", req[A_SEQ])[0]
    check("bogus reply: unknown sequence ignored", reply(replier, seq + 1000, 0) == 0)
    check("bogus reply: errno > 4095 refused (EINVAL)", reply(replier, seq, 5000) == -EINVAL)
    missing = HDR + nla(A_SEQ, struct.pack("I", seq))
    check("bogus reply: no ERRNO refused (EINVAL)", replier.transact(fam, REPLY, missing)[0] == -EINVAL)
    check("bogus reply: truncated attribute refused (EINVAL)",
          replier.transact(fam, REPLY, HDR + struct.pack("HH", 40, A_SEQ) + b"\0" * 4)[0] == -EINVAL)
    check("reply EEXIST accepted", reply(replier, seq, EEXIST) == 0)
res = get()
check("addbr returns the daemon's errno (EEXIST)", res == (None, EEXIST), repr(res))

# A list: the answer's size is checked against the request.
for name, data, want in [
    ("3 bridges", struct.pack("3i", 4, 5, 6), (3, [4, 5, 6])),
    ("size not a multiple of int: EIO", b"\1" * 6, (None, EIO)),
    ("more than the caller's buffer: EMSGSIZE", b"\0" * 40, (None, EMSGSIZE)),
]:
    get = ioctl_in_thread(lambda: get_bridges(4))
    req = next_request(daemon)
    if req is None:
        check(f"GET_BRIDGES {name}", False, "no request")
        get()
        continue
    check(f"GET_BRIDGES asks for at most 4 ({name})", struct.unpack("I", req[A_MAX])[0] == 4)
    reply(replier, struct.unpack("I", req[A_SEQ])[0], 0, data)
    res = get()
    got = res[0] if res and res[0] is not None else res
    check(f"GET_BRIDGES: {name}", got == want, repr(res))

# No answer: a read gives up after ~3 s with ETIMEDOUT.
t0 = time.time()
get = ioctl_in_thread(lambda: get_bridges(4))
next_request(daemon)
res = get()
dt = time.time() - t0
check(f"unanswered read: ETIMEDOUT after ~3 s ({dt:.1f} s)", res == (None, ETIMEDOUT) and 2.5 < dt < 6, repr(res))

# Unprivileged: REGISTER and REPLY need CAP_NET_ADMIN; brctl changes too (EPERM), reads do not.
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    g = Genl()
    ok = g.transact(fam, REGISTER, HDR)[0] == -EPERM and g.transact(fam, REPLY, HDR)[0] == -EPERM
    try:
        addbr("brz")
        ok = False
    except OSError as e:
        ok = ok and e.errno == EPERM
    os._exit(0 if ok else 1)
_, st = os.waitpid(pid, 0)
check("unprivileged REGISTER, REPLY and SIOCBRADDBR: EPERM", st == 0, f"child status {st}")

# The listener's socket closes: the next request fails with ENODEV at once.
daemon.s.close()
t0 = time.time()
res = ioctl_in_thread(lambda: addbr("brq"))()
check("listener gone: ENODEV at once", res == (None, ENODEV) and time.time() - t0 < 1, repr(res))
sys.exit(check.status())

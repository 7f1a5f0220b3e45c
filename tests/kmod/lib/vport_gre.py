#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/gre.sh: adds an OVS_VPORT_TYPE_GRE port named NAME to datapath DP (the
datapath module creates the collect_md gretap device itself, as upstream vport-gre.c), checks the echoed port and
the device, then deletes the port (unless a third argument "keep" is given). Prints PASS/FAIL lines; exits non-zero on failure."""
import os, select, socket, struct, subprocess, sys

dp, name = sys.argv[1], sys.argv[2]
keep = len(sys.argv) > 3 and sys.argv[3] == "keep"
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO = 1, 4, 8
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
s.bind((0, 0))
pid = s.getsockname()[0]
seq = 0
failed = False


def check(what, ok, why=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what + ("" if ok else ": " + why), flush=True)
    failed |= not ok


def nla(t, p):
    n = 4 + len(p)
    return struct.pack("HH", n, t) + p + b"\0" * ((4 - n % 4) % 4)


def attrs(b):
    out = {}
    while len(b) >= 4:
        n, t = struct.unpack("HH", b[:4])
        if n < 4:
            break
        out[t & 0x3FFF] = b[4:n]
        b = b[(n + 3) & ~3:]
    return out


def transact(fam, cmd, payload, flags=0):
    global seq
    seq += 1
    body = struct.pack("BBH", cmd, 1, 0) + payload
    s.send(struct.pack("IHHII", 16 + len(body), fam, NLM_F_REQUEST | NLM_F_ACK | flags, seq, pid) + body)
    reply = None
    for _ in range(10):
        r, _, _ = select.select([s], [], [], 3.0)
        if not r:
            break
        data = s.recv(1 << 17)
        while len(data) >= 16:
            n, t, f, q, p = struct.unpack("IHHII", data[:16])
            body, data = data[16:n], data[(n + 3) & ~3:]
            if q != seq:
                continue
            if t == 2:  # NLMSG_ERROR
                return struct.unpack("i", body[:4])[0], reply
            reply = body
    return None, reply


def family(fname):
    err, body = transact(0x10, 3, nla(2, fname.encode() + b"\0"))
    return struct.unpack("H", attrs(body[4:])[1][:2])[0]


ifindex = int(open(f"/sys/class/net/{dp}/ifindex").read())
hdr = struct.pack("i", ifindex)
fvport = family("ovs_vport")
# OVS_VPORT_CMD_NEW: name, type GRE, upcall PID 0.
err, reply = transact(fvport, 1, hdr + nla(3, name.encode() + b"\0") + nla(2, struct.pack("I", 3))
                      + nla(5, struct.pack("I", 0)), NLM_F_ECHO)
check("OVS_VPORT_CMD_NEW type GRE accepted", err == 0, f"error {err}")
if reply:
    a = attrs(reply[8:])
    check("the echoed port has type GRE (3)", struct.unpack("I", a.get(2, b"\0\0\0\0"))[0] == 3, repr(a.get(2)))
    check("the echoed port has the name", a.get(3, b"").rstrip(b"\0") == name.encode(), repr(a.get(3)))
else:
    check("OVS_VPORT_CMD_NEW echoes the port", False, "no reply")
link = subprocess.run(["ip", "-d", "link", "show", name], capture_output=True, text=True).stdout
check("the port's device is a collect_md gretap device, up", "gretap external" in link and ",UP" in link, link)
show = subprocess.run(["ovs-dpctl", "show", dp], capture_output=True, text=True).stdout
check("ovs-dpctl show lists it as a gre port", f"{name} (gre" in show, show)
if keep:
    sys.exit(1 if failed else 0)
err, _ = transact(fvport, 2, hdr + nla(3, name.encode() + b"\0"))
check("OVS_VPORT_CMD_DEL of the GRE port", err == 0, f"error {err}")
sys.exit(1 if failed else 0)

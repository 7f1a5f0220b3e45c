#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/upcall.sh: makes this socket the per-CPU upcall PID of datapath DP,
waits for an OVS_PACKET_CMD_MISS upcall, checks it, then sends the packet back with OVS_PACKET_CMD_EXECUTE and
actions output:PORT. Prints PASS/FAIL lines; exits non-zero on failure."""
import os, select, socket, struct, sys

dp, out_port, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
NLM_F_REQUEST, NLM_F_ACK = 1, 4
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
s.bind((0, 0))
pid = s.getsockname()[0]
seq = 0
failed = False


def check(name, ok, why=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
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


def send(fam, cmd, payload, version=1):
    global seq
    seq += 1
    body = struct.pack("BBH", cmd, version, 0) + payload
    s.send(struct.pack("IHHII", 16 + len(body), fam, NLM_F_REQUEST | NLM_F_ACK, seq, pid) + body)
    return seq


def recv_msgs(timeout=3.0):
    r, _, _ = select.select([s], [], [], timeout)
    if not r:
        return []
    data = s.recv(1 << 17)
    msgs = []
    while len(data) >= 16:
        n, t, f, q, p = struct.unpack("IHHII", data[:16])
        msgs.append((t, q, data[16:n]))
        data = data[(n + 3) & ~3:]
    return msgs


def transact(fam, cmd, payload):
    q = send(fam, cmd, payload)
    reply = None
    for _ in range(10):
        for t, mq, body in recv_msgs():
            if mq != q:
                continue
            if t == 2:  # NLMSG_ERROR
                err = struct.unpack("i", body[:4])[0]
                return err, reply
            reply = body
    return None, reply


def family(name):
    err, body = transact(0x10, 3, nla(2, name.encode() + b"\0"))
    return struct.unpack("H", attrs(body[4:])[1][:2])[0]


ifindex = int(open(f"/sys/class/net/{dp}/ifindex").read())
hdr = struct.pack("i", ifindex)
fdp, fpacket = family("ovs_datapath"), family("ovs_packet")
# Per-CPU dispatch to this socket (UNALIGNED | VPORT_PIDS | DISPATCH_UPCALL_PER_CPU).
err, _ = transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", pid)))
check("OVS_DP_CMD_SET per-CPU upcall PIDs", err == 0, f"error {err}")
err, _ = transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 << 20)))
check("unknown user feature rejected with EOPNOTSUPP", err == -95, f"error {err}")
err, _ = transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", pid)))

os.system(trigger + " >/dev/null 2>&1 &")
miss = None
for _ in range(20):
    for t, q, body in recv_msgs():
        if t == fpacket and body[0] == 1:  # OVS_PACKET_CMD_MISS
            miss = body
            break
    if miss:
        break
check("a miss upcall arrives", miss is not None)
if miss:
    a = attrs(miss[8:])  # genl header (4) + ovs_header (4)
    up_ifindex = struct.unpack("i", miss[4:8])[0]
    check("upcall names the datapath", up_ifindex == ifindex, f"{up_ifindex} != {ifindex}")
    pkt = a.get(1, b"")
    check("upcall carries the packet", len(pkt) >= 14, f"{len(pkt)} bytes")
    key = attrs(a.get(2, b""))
    in_port = struct.unpack("I", key[3])[0] if 3 in key else None
    check("upcall key has in_port 1", in_port == 1, f"in_port {in_port}")
    check("upcall key has the Ethernet addresses", key.get(4, b"")[:12] == pkt[6:12] + pkt[:6],
          f"{key.get(4, b'').hex()} vs {pkt[:12].hex()}")
    check("upcall carries the packet hash", 11 in a)
    # Execute it: output to out_port.
    err, _ = transact(fpacket, 3, hdr + nla(1, pkt) + nla(2, nla(3, struct.pack("I", 1)))
                      + nla(3, nla(1, struct.pack("I", out_port))))
    check("OVS_PACKET_CMD_EXECUTE output accepted", err == 0, f"error {err}")
    err, _ = transact(fpacket, 3, hdr + nla(1, pkt[:10]) + nla(2, b"") + nla(3, b""))
    check("EXECUTE of a runt packet rejected", err == -22, f"error {err}")
    err, _ = transact(fpacket, 3, hdr + nla(1, pkt) + nla(2, b"") + nla(3, nla(1, struct.pack("I", 70000))))
    check("EXECUTE with an out-of-range output port rejected", err == -22, f"error {err}")
sys.exit(1 if failed else 0)

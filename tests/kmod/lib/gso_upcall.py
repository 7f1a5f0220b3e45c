#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/gso.sh: makes this socket the per-CPU upcall PID of datapath DP, sends
one TCP GSO packet (3 x 1000 payload bytes, virtio_net_hdr over AF_PACKET) into DP's internal port, and checks that
the miss upcalls carry three MTU-sized segments, not one 3000-byte super-packet. Prints PASS/FAIL lines; exits
non-zero on failure."""
import select, socket, struct, sys

dp = sys.argv[1]
NLM_F_REQUEST, NLM_F_ACK = 1, 4
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


def recv_msgs(timeout=2.0):
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
    global seq
    seq += 1
    body = struct.pack("BBH", cmd, 1, 0) + payload
    s.send(struct.pack("IHHII", 16 + len(body), fam, NLM_F_REQUEST | NLM_F_ACK, seq, pid) + body)
    reply = None
    for _ in range(10):
        for t, q, body in recv_msgs():
            if q != seq:
                continue
            if t == 2:
                return struct.unpack("i", body[:4])[0], reply
            reply = body
    return None, reply


def family(name):
    err, body = transact(0x10, 3, nla(2, name.encode() + b"\0"))
    return struct.unpack("H", attrs(body[4:])[1][:2])[0]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


ifindex = int(open(f"/sys/class/net/{dp}/ifindex").read())
hdr = struct.pack("i", ifindex)
fdp, fpacket = family("ovs_datapath"), family("ovs_packet")
err, _ = transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", pid)))
check("OVS_DP_CMD_SET per-CPU upcall PIDs", err == 0, f"error {err}")

MSS, NSEG = 1000, 3
payload = bytes(range(256)) * 12
payload = payload[:MSS * NSEG]
src, dst = socket.inet_aton("10.9.0.1"), socket.inet_aton("10.9.0.2")
tcp = struct.pack("!HHIIBBHHH", 40000, 5001, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
# CHECKSUM_PARTIAL: the TCP checksum field holds the folded pseudo-header sum.
pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
tcp = tcp[:16] + struct.pack("!H", ~csum(pseudo) & 0xFFFF) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex("020000000002" "020000000001" "0800")
frame = eth + ip + tcp + payload
# struct virtio_net_hdr: NEEDS_CSUM, GSO_TCPV4, hdr_len, gso_size, csum_start, csum_offset.
vnet = struct.pack("<BBHHHH", 1, 1, 54, MSS, 34, 16)
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
p.setsockopt(263, 15, 1)  # SOL_PACKET, PACKET_VNET_HDR
p.bind((dp, 0))
p.send(vnet + frame)

sizes = []
for _ in range(10):
    for t, q, body in recv_msgs(1.0):
        if t == fpacket and body[0] == 1:  # OVS_PACKET_CMD_MISS
            a = attrs(body[8:])
            pkt = a.get(1, b"")
            if len(pkt) > 34 and pkt[23] == 6 and pkt[26:34] == src + dst:
                sizes.append(len(pkt))
    if len(sizes) >= NSEG:
        break
check(f"the GSO packet went up as {NSEG} segments", len(sizes) == NSEG, f"upcall packet sizes {sizes}")
check("each segment is MSS-sized", sizes != [] and all(n == 14 + 20 + 20 + MSS for n in sizes), f"sizes {sizes}")
sys.exit(1 if failed else 0)

#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/gso.sh: makes this socket the per-CPU upcall PID of datapath DP, sends
one TCP GSO packet (3 x 1000 payload bytes, virtio_net_hdr over AF_PACKET) into DP's internal port, and checks that
the miss upcalls carry three MTU-sized segments, not one 3000-byte super-packet. Prints PASS/FAIL lines; exits
non-zero on failure."""
import socket, struct, sys

from frames import csum
from genl import Checks, Genl, attrs, ifindex_hdr, nla

dp = sys.argv[1]
nl = Genl()
check = Checks()

hdr, ifindex = ifindex_hdr(dp)
fdp, fpacket = nl.family("ovs_datapath"), nl.family("ovs_packet")
err, _ = nl.transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", nl.pid)))
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
    for t, q, body in nl.recv_msgs(1.0):
        if t == fpacket and body[0] == 1:  # OVS_PACKET_CMD_MISS
            a = attrs(body[8:])
            pkt = a.get(1, b"")
            if len(pkt) > 34 and pkt[23] == 6 and pkt[26:34] == src + dst:
                sizes.append(len(pkt))
    if len(sizes) >= NSEG:
        break
check(f"the GSO packet went up as {NSEG} segments", len(sizes) == NSEG, f"upcall packet sizes {sizes}")
check("each segment is MSS-sized", sizes != [] and all(n == 14 + 20 + 20 + MSS for n in sizes), f"sizes {sizes}")
sys.exit(check.status())

#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/upcall.sh: makes this socket the per-CPU upcall PID of datapath DP,
waits for an OVS_PACKET_CMD_MISS upcall, checks it, then sends the packet back with OVS_PACKET_CMD_EXECUTE and
actions output:PORT. Prints PASS/FAIL lines; exits non-zero on failure."""
import os, struct, sys

from genl import Checks, Genl, attrs, ifindex_hdr, nla

dp, out_port, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
nl = Genl()
check = Checks()

hdr, ifindex = ifindex_hdr(dp)
fdp, fpacket = nl.family("ovs_datapath"), nl.family("ovs_packet")
# Per-CPU dispatch to this socket (UNALIGNED | VPORT_PIDS | DISPATCH_UPCALL_PER_CPU).
err, _ = nl.transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", nl.pid)))
check("OVS_DP_CMD_SET per-CPU upcall PIDs", err == 0, f"error {err}")
err, _ = nl.transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 << 20)))
check("unknown user feature rejected with EOPNOTSUPP", err == -95, f"error {err}")
err, _ = nl.transact(fdp, 4, hdr + nla(5, struct.pack("I", 1 | 2 | 8)) + nla(8, struct.pack("I", nl.pid)))

def miss_in_port(body):
    """The in_port of an OVS_PACKET_CMD_MISS message's key, or None."""
    key = attrs(attrs(body[8:]).get(2, b""))
    return struct.unpack("I", key[3])[0] if 3 in key else None


os.system(trigger + " >/dev/null 2>&1 &")
# Wait for the trigger's miss from port 1: the other host may send its own packets (IPv6 neighbour discovery,
# MLD) first, which miss on port 2.
miss = None
for _ in range(20):
    for t, q, body in nl.recv_msgs():
        if t == fpacket and body[0] == 1 and miss_in_port(body) == 1:  # OVS_PACKET_CMD_MISS
            miss = body
            break
    if miss:
        break
check("a miss upcall for the pinging host's port (in_port 1) arrives", miss is not None)
if miss:
    a = attrs(miss[8:])  # genl header (4) + ovs_header (4)
    up_ifindex = struct.unpack("i", miss[4:8])[0]
    check("upcall names the datapath", up_ifindex == ifindex, f"{up_ifindex} != {ifindex}")
    pkt = a.get(1, b"")
    check("upcall carries the packet", len(pkt) >= 14, f"{len(pkt)} bytes")
    key = attrs(a.get(2, b""))
    check("upcall key has the Ethernet addresses", key.get(4, b"")[:12] == pkt[6:12] + pkt[:6],
          f"{key.get(4, b'').hex()} vs {pkt[:12].hex()}")
    check("upcall carries the packet hash", 11 in a)
    # Execute it: output to out_port.
    err, _ = nl.transact(fpacket, 3, hdr + nla(1, pkt) + nla(2, nla(3, struct.pack("I", 1)))
                      + nla(3, nla(1, struct.pack("I", out_port))))
    check("OVS_PACKET_CMD_EXECUTE output accepted", err == 0, f"error {err}")
    err, _ = nl.transact(fpacket, 3, hdr + nla(1, pkt[:10]) + nla(2, b"") + nla(3, b""))
    check("EXECUTE of a runt packet rejected", err == -22, f"error {err}")
    err, _ = nl.transact(fpacket, 3, hdr + nla(1, pkt) + nla(2, b"") + nla(3, nla(1, struct.pack("I", 70000))))
    check("EXECUTE with an out-of-range output port rejected", err == -22, f"error {err}")
sys.exit(check.status())

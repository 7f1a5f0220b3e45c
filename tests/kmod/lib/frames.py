#!/usr/bin/env python3
"""Deterministic test frames for tests/kmod/actions.sh, sent from a raw socket and checked in a capture.

  frames.py send IFACE          send one UDP frame per case (tagged where the case says so) out of IFACE
  frames.py check PCAP          check every case's frame in PCAP (libpcap format, Ethernet) against its
                                expectation; prints PASS/FAIL lines, writes nothing else
  frames.py same PCAP_A PCAP_B  the case frames of two captures are byte-identical

Plain python3, no extra packages. Each case is identified by its UDP destination port (after any VLAN tags).
"""
import socket
import struct
import sys

SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("020000000002")
SRC_IP = bytes([10, 0, 0, 1])
DST_IP = bytes([10, 0, 0, 2])
SPORT = 5000


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


# port -> (tags on the sent frame [(tpid, vid, pcp)], tos sent, actions, expectation)
# Expectation keys: tags (outer first), src, dst (MAC strings), ttl, tos, ip_dst (dotted); absent (the frame must
# not arrive). Frame keys: sent_ttl (default 64). Tool key: rvs (installed with rvs-dpctl: ovs-dpctl 3.1 cannot
# parse dec_ttl(...) or a drop after other actions).
CASES = {
    1001: ([], 0, "push_vlan(vid=100,pcp=3),2", {"tags": [(0x8100, 100, 3)]}),
    1002: ([(0x8100, 200, 0)], 0, "pop_vlan,2", {"tags": []}),
    1003: ([], 0, "set(eth(src=02:00:00:00:00:aa,dst=02:00:00:00:00:bb)),2",
           {"src": "02:00:00:00:00:aa", "dst": "02:00:00:00:00:bb"}),
    1004: ([], 0, "set(eth(dst=02:00:00:00:00:cc)),2", {"dst": "02:00:00:00:00:cc"}),
    1005: ([], 0, "set(ipv4(ttl=9)),2", {"ttl": 9}),
    1006: ([], 0x01, "set(ipv4(tos=0xb8/0xfc)),2", {"tos": 0xB9}),
    1007: ([], 0, "set(ipv4(src=10.0.0.1,dst=10.0.0.9,proto=17,tos=0x10,ttl=33,frag=no)),2",
           {"tos": 0x10, "ttl": 33, "ip_dst": "10.0.0.9"}),
    1008: ([], 0, "set(eth(src=02:00:00:00:00:aa,dst=02:00:00:00:00:bb)),set(ipv4(ttl=5)),push_vlan(vid=300,pcp=5),2",
           {"src": "02:00:00:00:00:aa", "dst": "02:00:00:00:00:bb", "ttl": 5, "tags": [(0x8100, 300, 5)]}),
    1009: ([(0x8100, 400, 0)], 0, "pop_vlan,push_vlan(vid=500,pcp=1),2", {"tags": [(0x8100, 500, 1)]}),
    1010: ([], 0, "push_vlan(vid=10,pcp=0),push_vlan(tpid=0x88a8,vid=20,pcp=2),2",
           {"tags": [(0x88A8, 20, 2), (0x8100, 10, 0)]}),
    1011: ([(0x8100, 600, 0)], 0, "pop_vlan,set(ipv4(ttl=7)),2", {"tags": [], "ttl": 7}),
    # check_pkt_len: the 63-byte frame takes le() under size=100 and gt() under size=40; each branch is a clone,
    # so the rewrite made there does not reach the output after it (port 2 sees the branch's copy, then the
    # original).
    1012: ([], 0, "check_pkt_len(size=100,gt(set(ipv4(ttl=11)),2),le(set(ipv4(ttl=22)),2))", {"ttl": 22}),
    1013: ([], 0, "check_pkt_len(size=40,gt(set(ipv4(ttl=11)),2),le(set(ipv4(ttl=22)),2))", {"ttl": 11}),
    1014: ([], 0, "check_pkt_len(size=63,gt(drop),le(set(ipv4(ttl=33)),2))", {"ttl": 33}),
    1015: ([], 0, "check_pkt_len(size=62,gt(drop),le(set(ipv4(ttl=33)),2))", {"absent": True}),
    # dec_ttl: 64 -> 63; at TTL 1 the exception list takes the packet (and the outer list stops); with an empty
    # list the packet is dropped.
    1016: ([], 0, "dec_ttl(le_1(drop)),2", {"ttl": 63, "rvs": True}),
    1017: ([], 0, "dec_ttl(le_1(set(ipv4(ttl=42)),2)),set(ipv4(ttl=5)),2", {"ttl": 42, "sent_ttl": 1, "rvs": True}),
    1018: ([], 0, "dec_ttl(le_1(drop)),2", {"absent": True, "sent_ttl": 1, "rvs": True}),
    1019: ([], 0, "push_vlan(vid=7,pcp=0),dec_ttl(le_1(drop)),2", {"ttl": 63, "tags": [(0x8100, 7, 0)], "rvs": True}),
    # drop: explicit, after a rewrite; nothing leaves.
    1020: ([], 0, "set(ipv4(ttl=3)),drop", {"absent": True, "rvs": True}),
}


def flow(port):
    """The ovs-dpctl flow matching case `port` on input port 1."""
    tags = CASES[port][0]
    inner = f"eth_type(0x0800),ipv4(proto=17,frag=no),udp(dst={port})"
    if tags:
        _, vid, pcp = tags[0]
        return f"in_port(1),eth(),eth_type(0x8100),vlan(vid={vid},pcp={pcp}),encap({inner})"
    return f"in_port(1),eth(),{inner}"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(port):
    tags, tos, _, _ = CASES[port]
    payload = f"rvs-actions-case-{port}".encode()
    udp_len = 8 + len(payload)
    pseudo = SRC_IP + DST_IP + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", SPORT, port, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    ttl = CASES[port][3].get("sent_ttl", 64)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + udp_len, port, 0x4000, ttl, 17, 0, SRC_IP, DST_IP)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = DST_MAC + SRC_MAC
    for tpid, vid, pcp in tags:
        eth += struct.pack("!HH", tpid, (pcp << 13) | vid)
    return eth + struct.pack("!H", 0x0800) + ip + udp


def send(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for port in CASES:
        s.send(frame(port))


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, not Ethernet")
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def parse(f):
    """(tags, ethertype, rest) of an Ethernet frame."""
    tags, off = [], 12
    while True:
        et = struct.unpack("!H", f[off:off + 2])[0]
        if et in (0x8100, 0x88A8) and len(f) >= off + 4:
            tci = struct.unpack("!H", f[off + 2:off + 4])[0]
            tags.append((et, tci & 0xFFF, tci >> 13))
            off += 4
            continue
        return tags, et, f[off + 2:]


def case_frames(frames):
    """{udp dst port: [frames]} for the UDP frames of the test."""
    out = {}
    for f in frames:
        if len(f) < 14:
            continue
        tags, et, rest = parse(f)
        if et != 0x0800 or len(rest) < 28 or rest[9] != 17:
            continue
        ihl = (rest[0] & 15) * 4
        port = struct.unpack("!H", rest[ihl + 2:ihl + 4])[0]
        if port in CASES:
            out.setdefault(port, []).append(f)
    return out


failed = False


def check(name, ok, why=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
    failed |= not ok


def fmt_mac(b):
    return ":".join(f"{x:02x}" for x in b)


def check_case(port, f, label):
    exp = CASES[port][3]
    sent_tags, sent_tos = CASES[port][0], CASES[port][1]
    tags, et, ip = parse(f)
    want_tags = exp.get("tags", sent_tags)
    problems = []
    if tags != want_tags:
        problems.append(f"tags {tags} != {want_tags}")
    src, dst = fmt_mac(f[6:12]), fmt_mac(f[0:6])
    if src != exp.get("src", fmt_mac(SRC_MAC)):
        problems.append(f"src MAC {src}")
    if dst != exp.get("dst", fmt_mac(DST_MAC)):
        problems.append(f"dst MAC {dst}")
    ihl = (ip[0] & 15) * 4
    if csum(ip[:ihl]) != 0:
        problems.append("bad IPv4 header checksum")
    tos, ttl = ip[1], ip[8]
    if tos != exp.get("tos", sent_tos):
        problems.append(f"tos {tos:#x}")
    if ttl != exp.get("ttl", 64):
        problems.append(f"ttl {ttl}")
    ip_dst = ".".join(str(x) for x in ip[16:20])
    if ip_dst != exp.get("ip_dst", "10.0.0.2"):
        problems.append(f"ip dst {ip_dst}")
    tot = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:tot]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(udp))
    if struct.unpack("!H", udp[6:8])[0] != 0 and csum(pseudo + udp) != 0:
        problems.append("bad UDP checksum")
    payload = udp[8:]
    if payload != f"rvs-actions-case-{port}".encode():
        problems.append(f"payload {payload!r}")
    check(f"{label}: case {port} actions {CASES[port][2]}", not problems, "; ".join(problems) + f" frame {f.hex()}")


def main():
    cmd = sys.argv[1]
    if cmd == "send":
        send(sys.argv[2])
    elif cmd == "flows":
        for port in CASES:
            tool = "rvs" if CASES[port][3].get("rvs") else "ovs"
            print(f"{tool} {flow(port)} {CASES[port][2]}")
    elif cmd == "check":
        label = sys.argv[3] if len(sys.argv) > 3 else sys.argv[2]
        got = case_frames(read_pcap(sys.argv[2]))
        for port in CASES:
            fs = got.get(port, [])
            if CASES[port][3].get("absent"):
                check(f"{label}: case {port} actions {CASES[port][2]}: dropped", not fs, f"{len(fs)} frames arrived")
                continue
            if len(fs) != 1:
                check(f"{label}: case {port} captured once", False, f"{len(fs)} frames")
                continue
            check_case(port, fs[0], label)
    elif cmd == "same":
        a, b = (case_frames(read_pcap(p)) for p in sys.argv[2:4])
        for port in CASES:
            fa, fb = a.get(port), b.get(port)
            present = not CASES[port][3].get("absent")
            check(f"case {port}: identical frames from both modules", fa == fb and (fa is not None) == present,
                  f"{[x.hex() for x in fa or []]} vs {[x.hex() for x in fb or []]}")
    else:
        raise SystemExit(__doc__)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

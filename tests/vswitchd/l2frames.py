#!/usr/bin/env python3
"""Raw Ethernet frames for the NORMAL vs Linux bridge comparison (tests/vswitchd/normal-vs-bridge.sh).

  l2frames.py recv IFACE SECONDS OUT     record every frame of ethertype 0x88b5 received on IFACE for SECONDS:
                                         one line "ID vlan=VID" each (VID 0: untagged; the tag is read from the
                                         packet's auxdata, where the kernel puts it), sorted, into OUT
  l2frames.py send IFACE SRC DST VID ID  send one frame SRC -> DST (MACs), tagged VID (0: untagged), payload ID
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_TEST = 0x88B5
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def send(iface, src, dst, vid, ident):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    hdr = mac(dst) + mac(src)
    if vid:
        hdr += struct.pack("!HH", 0x8100, vid)
    frame = hdr + struct.pack("!H", ETH_P_TEST) + ident.encode().ljust(46, b"\0")
    s.send(frame)


def recv(iface, secs, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((iface, 0))
    s.settimeout(0.1)
    end = time.monotonic() + secs
    seen = []
    while time.monotonic() < end:
        try:
            data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(32))
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        vid = 0
        for level, kind, cdata in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci = struct.unpack("IIIHHH", cdata[:18])
                if status & TP_STATUS_VLAN_VALID:
                    vid = tci & 0xFFF
        ethertype = struct.unpack("!H", data[12:14])[0]
        payload = data[14:]
        if ethertype == 0x8100:
            vid = struct.unpack("!H", data[14:16])[0] & 0xFFF
            ethertype = struct.unpack("!H", data[16:18])[0]
            payload = data[18:]
        if ethertype != ETH_P_TEST:
            continue
        seen.append("%s vlan=%d" % (payload.rstrip(b"\0").decode(errors="replace"), vid))
    with open(out, "w") as f:
        f.write("".join(l + "\n" for l in sorted(seen)))


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    else:
        send(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])

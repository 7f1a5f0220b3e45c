#!/usr/bin/env python3
"""Sends 802.1Q-tagged ARP requests from a raw socket (no 8021q module needed):
   vlan-arp.py IFACE SRC_MAC VID SRC_IP DST_IP [COUNT]
Used by the rvs-vswitchd tests to put tagged frames on a trunk port; replies are checked with tcpdump -e."""
import socket, struct, sys, time

iface, src_mac, vid, src_ip, dst_ip = sys.argv[1:6]
count = int(sys.argv[6]) if len(sys.argv) > 6 else 3
mac = bytes.fromhex(src_mac.replace(":", ""))
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton(src_ip), b"\0" * 6, socket.inet_aton(dst_ip))
frame = b"\xff" * 6 + mac + struct.pack("!HH", 0x8100, int(vid)) + struct.pack("!H", 0x0806) + arp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
for _ in range(count):
    s.send(frame)
    time.sleep(0.2)

#!/usr/bin/env python3
"""Turn an nlmon capture (tools/capture/ovs-netlink.sh) into rvs codec test vectors.

usage: pcap-to-vectors.py CAPTURE.pcap OUT.txt

Writes one line per ovs_* generic netlink message: `DIR FAMILY CMD HEX`, DIR being `req` (userspace → kernel,
NLM_F_REQUEST set) or `rep` (kernel → userspace: replies, dumps, upcalls, notifications), HEX the whole netlink
message (nlmsghdr, genlmsghdr, ovs_header, attributes). Family ids are dynamic: they are learned from the
CTRL_CMD_GETFAMILY replies in the same capture. Identical messages are written once.
"""
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_NEWFAMILY = 1
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1


def packets(path):
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(end + "IIII", data, off)
        off += 16
        frame = data[off:off + incl]
        off += incl
        # Both LINKTYPE_NETLINK (253) as libpcap writes it for nlmon and LINKTYPE_LINUX_SLL (113) put a 16-byte
        # cooked header (packet type, ARPHRD_NETLINK = 0x0338, ..., netlink protocol) before the message.
        # nlmon sees every netlink protocol (rtnetlink too, whose message types overlap generic family ids): keep
        # NETLINK_GENERIC (16), named in the header's last two bytes.
        if linktype in (113, 253):
            if linktype == 253 and frame[2:4] != b"\x03\x38":
                raise SystemExit("unexpected nlmon header: %s" % frame[:16].hex())
            if struct.unpack(">H", frame[14:16])[0] != NETLINK_GENERIC:
                continue
            frame = frame[16:]
        yield frame


def messages(frame):
    off = 0
    while off + 16 <= len(frame):
        length, mtype, flags = struct.unpack_from("=IHH", frame, off)
        if length < 16:
            return
        yield mtype, flags, frame[off:off + length]
        off += (length + 3) & ~3


def attrs(buf):
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            return
        yield atype & 0x3FFF, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def main():
    pcap, out = sys.argv[1], sys.argv[2]
    families = {}
    lines, seen = [], set()
    for frame in packets(pcap):
        for mtype, flags, msg in messages(frame):
            if mtype == GENL_ID_CTRL and len(msg) >= 20 and msg[16] == CTRL_CMD_NEWFAMILY:
                a = dict(attrs(msg[20:]))
                if CTRL_ATTR_FAMILY_ID in a and CTRL_ATTR_FAMILY_NAME in a:
                    fid = struct.unpack("=H", a[CTRL_ATTR_FAMILY_ID][:2])[0]
                    families[fid] = a[CTRL_ATTR_FAMILY_NAME].rstrip(b"\0").decode()
                continue
            name = families.get(mtype)
            if not name or not name.startswith("ovs_") or len(msg) < 24:
                continue
            line = "%s %s %d %s" % ("req" if flags & NLM_F_REQUEST else "rep", name, msg[16], msg.hex())
            if line not in seen:
                seen.add(line)
                lines.append(line)
    with open(out, "w") as f:
        f.write("# Generic netlink messages between Open vSwitch 3.1 (ovs-dpctl, ovs-vswitchd) and Linux 6.12's\n")
        f.write("# openvswitch.ko, captured with nlmon by tools/capture/ovs-netlink.sh.\n")
        f.write("# DIR FAMILY CMD HEX(whole netlink message)\n")
        f.write("\n".join(lines) + "\n")
    counts = {}
    for l in lines:
        k = tuple(l.split()[:3])
        counts[k] = counts.get(k, 0) + 1
    for k in sorted(counts):
        print(" ".join(k), counts[k])
    print("%d messages, families %s" % (len(lines), sorted(families.values())))


if __name__ == "__main__":
    main()

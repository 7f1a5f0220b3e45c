#!/usr/bin/env python3
"""A tiny IPFIX (RFC 7011) collector for the IPFIX test, independent of rvs's code.

    ipfix_collector.py PORT OUTFILE      (listens on 127.0.0.1:PORT until killed)

Each message is checked (version 10, length = datagram length, set lengths add up); template sets (ID 2) are
remembered per (observation domain, template ID); data sets are decoded with the template they name and written to
OUTFILE as one JSON object per record, with the message's domain and sequence number and the fields by IANA name
(unknown elements as "ie<ID>"). A data set whose template was never received, or a malformed message, is written as
{"error": ...}: the test fails on those. A {"kind": "template", ...} line records each template received.
"""
import json
import socket
import struct
import sys

NAMES = {1: "octetDeltaCount", 2: "packetDeltaCount", 4: "protocolIdentifier", 7: "sourceTransportPort",
         8: "sourceIPv4Address", 10: "ingressInterface", 11: "destinationTransportPort", 12: "destinationIPv4Address",
         14: "egressInterface", 56: "sourceMacAddress", 58: "vlanId", 80: "destinationMacAddress",
         138: "observationPointId", 152: "flowStartMilliseconds", 256: "ethernetType", 305: "samplingPacketInterval"}
templates = {}


def value(ie, b):
    if ie in (8, 12):
        return socket.inet_ntoa(b)
    if ie in (56, 80):
        return ":".join(f"{x:02x}" for x in b)
    return int.from_bytes(b, "big")


def decode(d, out):
    if len(d) < 16:
        raise ValueError("short message")
    ver, length, export, seq, domain = struct.unpack("!HHIII", d[:16])
    if ver != 10:
        raise ValueError(f"version {ver}")
    if length != len(d):
        raise ValueError(f"length {length} != datagram {len(d)}")
    off = 16
    while off < len(d):
        sid, slen = struct.unpack("!HH", d[off:off + 4])
        if slen < 4 or off + slen > len(d):
            raise ValueError(f"set {sid} length {slen}")
        body = d[off + 4:off + slen]
        if sid == 2:
            p = 0
            while p + 4 <= len(body):
                tid, n = struct.unpack("!HH", body[p:p + 4])
                p += 4
                fields = []
                for _ in range(n):
                    ie, flen = struct.unpack("!HH", body[p:p + 4])
                    p += 4
                    if ie & 0x8000:
                        raise ValueError("enterprise elements not expected")
                    fields.append((ie, flen))
                templates[(domain, tid)] = fields
                out.append({"kind": "template", "domain": domain, "id": tid, "fields": len(fields)})
        elif sid >= 256:
            t = templates.get((domain, sid))
            if t is None:
                raise ValueError(f"data set {sid} before its template")
            rlen = sum(l for _, l in t)
            p = 0
            while p + rlen <= len(body):
                rec = {"kind": "data", "domain": domain, "seq": seq, "export_time": export}
                for ie, l in t:
                    rec[NAMES.get(ie, f"ie{ie}")] = value(ie, body[p:p + l])
                    p += l
                out.append(rec)
        off += slen


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    with open(path, "a") as f:
        while True:
            d, _ = s.recvfrom(65535)
            out = []
            try:
                decode(d, out)
            except Exception as e:  # a bad message is a test failure, recorded
                out.append({"error": str(e)})
            for r in out:
                f.write(json.dumps(r) + "\n")
            f.flush()


if __name__ == "__main__":
    main()

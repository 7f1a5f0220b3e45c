#!/usr/bin/env python3
"""A tiny NetFlow v5 / sFlow v5 collector for the telemetry tests.

    collector.py netflow|sflow PORT OUTFILE      (listens on 127.0.0.1:PORT until killed)

Every datagram is decoded independently of rvs's code and appended to OUTFILE as one JSON object per record /
sample (flushed at once), so the test can read what arrived at any time. A datagram that does not decode is written
as {"error": ...}: the test fails on those.

NetFlow v5: header (version 5, count, sys_uptime, unix_secs, unix_nsecs, flow_sequence, engine type/id, sampling)
and 48-byte records. sFlow v5: datagram header (version 5, IPv4 agent), flow samples (format 1) with raw packet
header records (format 1, Ethernet; IPv4 addresses and protocol pulled out of the header bytes) and counter samples
(format 2) with generic interface counters (format 1).
"""
import json
import socket
import struct
import sys


def ip(b):
    return socket.inet_ntoa(b)


def netflow(d):
    ver, count, uptime, secs, nsecs, seq, etype, eid, sampling = struct.unpack("!HHIIIIBBH", d[:24])
    if ver != 5:
        raise ValueError(f"version {ver}")
    if len(d) != 24 + 48 * count:
        raise ValueError(f"length {len(d)} for {count} records")
    out = []
    for i in range(count):
        r = d[24 + 48 * i:72 + 48 * i]
        (src, dst, nh, inp, outp, pkts, octets, first, last, sport, dport, _pad, flags, proto, tos, _sas, _das,
         _sm, _dm, _pad2) = struct.unpack("!4s4s4sHHIIIIHHBBBBHHBBH", r)
        out.append(dict(kind="netflow", seq=seq, engine_type=etype, engine_id=eid, uptime=uptime, src=ip(src),
                        dst=ip(dst), input=inp, output=outp, packets=pkts, bytes=octets, first=first, last=last,
                        sport=sport, dport=dport, tcp_flags=flags, proto=proto, tos=tos, unix_secs=secs))
    return out


def sflow(d):
    ver, atype = struct.unpack("!II", d[:8])
    if ver != 5 or atype != 1:
        raise ValueError(f"version {ver} address type {atype}")
    agent = ip(d[8:12])
    _sub, seq, uptime, n = struct.unpack("!IIII", d[12:28])
    off, out = 28, []
    for _ in range(n):
        fmt, length = struct.unpack("!II", d[off:off + 8])
        body = d[off + 8:off + 8 + length]
        if len(body) != length:
            raise ValueError("truncated sample")
        off += 8 + length
        if fmt == 1:
            sseq, src_id, rate, pool, drops, inp, outp, nrec = struct.unpack("!IIIIIIII", body[:32])
            roff = 32
            for _ in range(nrec):
                rfmt, rlen = struct.unpack("!II", body[roff:roff + 8])
                rb = body[roff + 8:roff + 8 + rlen]
                roff += 8 + rlen
                if rfmt != 1:
                    continue
                proto_, frame_len, stripped, hlen = struct.unpack("!IIII", rb[:16])
                h = rb[16:16 + hlen]
                s = dict(kind="flow", agent=agent, seq=sseq, source=src_id, rate=rate, pool=pool, input=inp,
                         output=outp, frame_len=frame_len, header_len=hlen)
                if len(h) >= 34 and h[12:14] == b"\x08\x00":
                    s.update(src=ip(h[26:30]), dst=ip(h[30:34]), proto=h[23])
                out.append(s)
        elif fmt == 2:
            sseq, src_id, nrec = struct.unpack("!III", body[:12])
            roff = 12
            for _ in range(nrec):
                rfmt, rlen = struct.unpack("!II", body[roff:roff + 8])
                rb = body[roff + 8:roff + 8 + rlen]
                roff += 8 + rlen
                if rfmt != 1:
                    continue
                if rlen != 88:
                    raise ValueError(f"generic counters of {rlen} bytes")
                ifindex, iftype, speed, direction, status, in_oct = struct.unpack("!IIQIIQ", rb[:32])
                in_ucast = struct.unpack("!I", rb[32:36])[0]
                out_oct = struct.unpack("!Q", rb[56:64])[0]
                out_ucast = struct.unpack("!I", rb[64:68])[0]
                out.append(dict(kind="counters", agent=agent, seq=sseq, source=src_id, ifindex=ifindex, status=status,
                                in_octets=in_oct, in_ucast=in_ucast, out_octets=out_oct, out_ucast=out_ucast))
        else:
            raise ValueError(f"sample format {fmt}")
    return out


def main():
    kind, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    decode = {"netflow": netflow, "sflow": sflow}[kind]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    with open(path, "a") as f:
        while True:
            d, _ = s.recvfrom(65535)
            try:
                recs = decode(d)
            except (ValueError, struct.error) as e:
                recs = [dict(error=str(e), hex=d[:64].hex())]
            for r in recs:
                f.write(json.dumps(r) + "\n")
            f.flush()


if __name__ == "__main__":
    main()

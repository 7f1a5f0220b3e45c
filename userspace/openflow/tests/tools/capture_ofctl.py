#!/usr/bin/env python3
"""Capture the OpenFlow messages Debian's ovs-ofctl sends to a switch.

A minimal fake switch listens on 127.0.0.1, runs `ovs-ofctl -O VERSION CMD tcp:127.0.0.1:PORT
ARGS...`, answers what ovs-ofctl waits for (hello, echo, features, get-config, barrier, empty
multipart replies) and prints every message received from ovs-ofctl, one hex string per line.

Usage: capture_ofctl.py OpenFlow13 add-flow "tcp,tp_dst=80,actions=output:2"
"""
import socket
import struct
import subprocess
import sys
import threading

VERSIONS = {"OpenFlow10": 1, "OpenFlow13": 4}


def msg(ver, mtype, xid, body=b""):
    return struct.pack("!BBHI", ver, mtype, 8 + len(body), xid) + body


def prop(ptype, data):
    p = struct.pack("!HH", ptype, 4 + len(data)) + data
    return p + b"\0" * (-len(p) % 8)


def table_props():
    ids = lambda xs: b"".join(struct.pack("!HH", x, 4) for x in xs)
    oxm = lambda xs: b"".join(struct.pack("!I", 0x80000000 | x << 9 | w) for x, w in xs)
    fields = [(0, 4), (3, 6), (4, 6), (5, 2), (6, 2), (10, 1), (11, 4), (12, 4), (13, 2), (14, 2)]
    acts = [0, 17, 18, 22, 23, 24, 25]
    return (prop(0, ids([1, 2, 3, 4, 5, 6])) + prop(2, bytes(range(1, 254)))
            + prop(4, ids(acts)) + prop(6, ids(acts)) + prop(8, oxm(fields))
            + prop(10, oxm(fields)) + prop(12, oxm(fields)) + prop(14, oxm(fields)))


def reply(ver, mtype, xid, body):
    """The switch's answer to one request, or None."""
    if mtype == 2:  # echo request
        return msg(ver, 3, xid, body)
    if mtype == 5:  # features request
        if ver == 1:
            return msg(ver, 6, xid, struct.pack("!QIB3xII", 1, 256, 254, 0xc7, 0xfff))
        return msg(ver, 6, xid, struct.pack("!QIBB2xII", 1, 256, 254, 0, 0x4f, 0))
    if mtype == 7:  # get config
        return msg(ver, 8, xid, struct.pack("!HH", 0, 128))
    if ver == 1 and mtype == 18 or ver == 4 and mtype == 20:  # barrier
        return msg(ver, mtype + 1, xid)
    if ver == 1 and mtype == 16:  # stats request: empty reply of the same type
        return msg(ver, 17, xid, body[:2] + b"\0\0")
    if ver == 4 and mtype == 18 and body[:2] == b"\0\x0c":  # table features: one table
        tf = struct.pack("!HB5x32sQQII", 0, 0, b"t0", 0, 0, 0, 1000000)
        tf += table_props()
        tf = struct.pack("!H", len(tf)) + tf[2:]
        return msg(ver, 19, xid, body[:2] + b"\0\0\0\0\0\0" + tf)
    if ver == 4 and mtype == 18:  # multipart request
        return msg(ver, 19, xid, body[:2] + b"\0\0\0\0\0\0")
    if ver == 4 and mtype == 24:  # role request
        return msg(ver, 25, xid, body)
    return None


def serve(srv, ver, out):
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        serve_one(conn, ver, out)


def serve_one(conn, ver, out):
    conn.settimeout(5)
    conn.sendall(msg(ver, 0, 0, struct.pack("!HHI", 1, 8, 1 << ver)))
    buf = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 8:
                length = struct.unpack("!H", buf[2:4])[0]
                if len(buf) < length:
                    break
                m, buf = buf[:length], buf[length:]
                out.append(m.hex())
                r = reply(ver, m[1], struct.unpack("!I", m[4:8])[0], m[8:])
                if r is not None:
                    conn.sendall(r)
    except (socket.timeout, ConnectionResetError):
        pass
    conn.close()


def main():
    ver_name, *rest = sys.argv[1:]
    opts = [a for a in rest if a.startswith("--")]
    cmd, *args = [a for a in rest if not a.startswith("--")]
    ver = VERSIONS[ver_name]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    out = []
    t = threading.Thread(target=serve, args=(srv, ver, out), daemon=True)
    t.start()
    p = subprocess.Popen(
        ["ovs-ofctl", "-O", ver_name, *(["-F", "openflow10"] if ver == 1 else []), *opts, cmd, f"tcp:127.0.0.1:{port}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _, err = p.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    srv.close()
    t.join(1)
    if p.returncode != 0:
        print(f"# ovs-ofctl exit {p.returncode}: {err.strip()}", file=sys.stderr)
    for m in out:
        print(m)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sends malformed OpenFlow messages to a switch over a unix or tcp socket and checks that each one is
answered with the OpenFlow error the specification names, and that the connection then still answers an
echo request. Usage: badmsg.py unix:PATH|tcp:IP:PORT. Prints one line per check; exits 1 on a failure."""
import socket
import struct
import sys

OF13 = 4


def connect(target):
    kind, _, rest = target.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(rest)
    else:
        host, _, port = rest.rpartition(":")
        s = socket.create_connection((host, int(port)))
    s.settimeout(5)
    return s


def recv_msg(s):
    hdr = b""
    while len(hdr) < 8:
        chunk = s.recv(8 - len(hdr))
        if not chunk:
            raise EOFError("connection closed")
        hdr += chunk
    _, typ, length, xid = struct.unpack("!BBHI", hdr)
    body = b""
    while len(body) < length - 8:
        chunk = s.recv(length - 8 - len(body))
        if not chunk:
            raise EOFError("connection closed")
        body += chunk
    return typ, xid, body


def wait_for(s, xid):
    while True:
        typ, rxid, body = recv_msg(s)
        if rxid == xid and typ != 2:  # skip echo requests the switch may send
            return typ, body


def msg(typ, xid, body=b"", version=OF13, length=None):
    n = 8 + len(body) if length is None else length
    return struct.pack("!BBHI", version, typ, n, xid) + body


def main():
    s = connect(sys.argv[1])
    s.sendall(msg(0, 1))  # hello
    typ, _, _ = recv_msg(s)
    assert typ == 0, "expected hello"
    failed = 0
    # (name, bytes, expected (type, code)) -- OpenFlow 1.3 numbers.
    cases = [
        ("unknown message type", msg(200, 10), (1, 1)),  # OFPBRC_BAD_TYPE
        ("multipart of unknown type", msg(18, 11, struct.pack("!HH4x", 0x7777, 0)), (1, 2)),  # OFPBRC_BAD_MULTIPART
        ("flow-mod cut short", msg(14, 12, b"\0" * 8), (1, 6)),  # OFPBRC_BAD_LEN
        ("role request with a bad role", msg(24, 13, struct.pack("!I4xQ", 9, 0)), (11, 2)),  # OFPRRFC_BAD_ROLE
        ("set-config with bad flags", msg(9, 14, struct.pack("!HH", 0x40, 128)), (10, 0)),  # OFPSCFC_BAD_FLAGS
        ("features reply sent to the switch", msg(6, 15, b"\0" * 24), (1, 1)),  # OFPBRC_BAD_TYPE
    ]
    for name, data, want in cases:
        s.sendall(data)
        try:
            typ, body = wait_for(s, struct.unpack("!I", data[4:8])[0])
        except (EOFError, OSError) as e:
            print(f"FAIL: {name}: no answer ({e})")
            return 1
        got = struct.unpack("!HH", body[:4]) if typ == 1 and len(body) >= 4 else None
        if got == want:
            print(f"PASS: {name} -> error type {want[0]} code {want[1]}")
        else:
            print(f"FAIL: {name}: expected error {want}, got message type {typ} {got}")
            failed = 1
    s.sendall(msg(2, 99, b"ping"))
    try:
        typ, body = wait_for(s, 99)
        ok = typ == 3 and body == b"ping"
    except (EOFError, OSError):
        ok = False
    print(("PASS" if ok else "FAIL") + ": connection still answers echo after the bad messages")
    return failed or (0 if ok else 1)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A TCP stream whose gaps are measured, for the graceful-restart tests.

  tcp-stream.py server PORT OUTFILE   accept ONE connection, read until EOF, then write
                                      "bytes=N max_gap_ms=G accepts=1" to OUTFILE
  tcp-stream.py client HOST PORT SECS send 100 bytes every 20 ms for SECS seconds, then close;
                                      exits 1 on any socket error (a reset stream fails)
"""
import socket
import sys
import time


def server(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    c, _ = s.accept()
    total, last, gap = 0, None, 0.0
    while True:
        d = c.recv(65536)
        now = time.monotonic()
        if not d:
            break
        if last is not None:
            gap = max(gap, now - last)
        last = now
        total += len(d)
    with open(out, "w") as f:
        f.write("bytes=%d max_gap_ms=%d accepts=1\n" % (total, int(gap * 1000)))


def client(host, port, secs):
    c = socket.create_connection((host, port), timeout=5)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    end = time.monotonic() + secs
    sent = 0
    while time.monotonic() < end:
        c.sendall(b"x" * 100)
        sent += 100
        time.sleep(0.02)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
    print("sent=%d" % sent)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3])
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))

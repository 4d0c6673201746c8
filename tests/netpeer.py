"""netpeer.py: the host end of the network tests' TCP transfers, run inside
the test's network namespace (`ip netns exec NS python3 netpeer.py ...`):

  recv ADDR PORT           accept one connection on ADDR:PORT, read to EOF,
                           print "RECV <bytes> <crc32 hex> <seconds>"
  send ADDR PORT MIB       connect (retrying for up to 120 s while the guest
                           starts listening), send MIB MiB, print "SENT ..."

Each step is bounded: sockets time out after 120 s of silence."""
import os
import socket
import sys
import time
import zlib

TIMEOUT = 120


def recv(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("LISTENING", flush=True)
    c, _ = ls.accept()
    c.settimeout(TIMEOUT)
    got, crc, t0 = 0, 0, None
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        t0 = t0 or time.monotonic()
        crc = zlib.crc32(b, crc)
        got += len(b)
    c.close()
    print(f"RECV {got} {crc:08x} {time.monotonic() - (t0 or time.monotonic()):.3f}", flush=True)


def send(addr, port, mib):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.settimeout(TIMEOUT)
    block = os.urandom(1 << 20)
    crc, t0 = 0, time.monotonic()
    for _ in range(mib):
        s.sendall(block)
        crc = zlib.crc32(block, crc)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    print(f"SENT {mib << 20} {crc:08x} {time.monotonic() - t0:.3f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))

"""nlm_client.py: the client side of NLM for kvmini's lock-service tests:
argument packing for NLM v1/v3/v4 and NSM calls, and a scripted client
host (a port mapper on port 111 and a lock manager) that takes the
server's GRANTED callbacks and _RES messages, answering as told.

Used inside a network namespace of the test's own (`inside()`), where the
server listens on 127.0.0.1 and the client host is 127.0.0.2."""
import ctypes
import os
import socket
import struct
import threading
import time
from contextlib import contextmanager

from nfs_client import Packer, Rpc, Unpacker, auth_sys

NLM, NSM = 100021, 100024
(TEST, LOCK, CANCEL, UNLOCK, GRANTED, TEST_MSG, LOCK_MSG, CANCEL_MSG, UNLOCK_MSG, GRANTED_MSG,
 TEST_RES, LOCK_RES, CANCEL_RES, UNLOCK_RES, GRANTED_RES) = range(1, 16)
SHARE, UNSHARE, NM_LOCK, FREE_ALL = 20, 21, 22, 23
SM_STAT, SM_MON, SM_UNMON, SM_UNMON_ALL, SM_SIMU_CRASH, SM_NOTIFY = range(1, 7)
(GRANTED_OK, DENIED, DENIED_NOLOCKS, BLOCKED, DENIED_GRACE_PERIOD, DEADLCK, ROFS, STALE_FH,
 FBIG, FAILED) = range(10)

CLIENT_ADDR = "127.0.0.2"
CLONE_NEWNET = 0x40000000


@contextmanager
def inside(netns_name):
    """Runs the calling thread (and the threads and processes it starts)
    in the named network namespace, then moves it back."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns_name}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(target)


def lock_desc(fh, oh, svid, offset, length, vers=4, caller="client"):
    p = Packer().opaque(caller).opaque(fh).opaque(oh).u32(svid)
    if vers == 4:
        return p.u64(offset).u64(length)
    return p.u32(offset).u32(length)


def lockargs(cookie, lock, block=False, excl=True, reclaim=False, state=3):
    return (Packer().opaque(cookie).u32(block).u32(excl).raw(lock.bytes())
            .u32(reclaim).u32(state).bytes())


def testargs(cookie, lock, excl=True):
    return Packer().opaque(cookie).u32(excl).raw(lock.bytes()).bytes()


def cancargs(cookie, lock, block=True, excl=True):
    return Packer().opaque(cookie).u32(block).u32(excl).raw(lock.bytes()).bytes()


def unlockargs(cookie, lock):
    return Packer().opaque(cookie).raw(lock.bytes()).bytes()


def shareargs(cookie, fh, oh, mode, access, reclaim=False, caller="client"):
    return (Packer().opaque(cookie).opaque(caller).opaque(fh).opaque(oh).u32(mode).u32(access)
            .u32(reclaim).bytes())


class Server(Rpc):
    """A TCP connection to the server from the client host's address."""

    def __init__(self, port, host="127.0.0.1", source=CLIENT_ADDR):
        self.sock = socket.create_connection((host, port), timeout=30,
                                             source_address=(source, 0))
        self.cred = auth_sys(machine="client")
        self.xid = 0x2000

    def nlm(self, proc, args, vers=4):
        """Returns (cookie, stat, rest) of an nlm_res-shaped reply."""
        u = self.call(NLM, vers, proc, args)
        cookie = u.opaque()
        return cookie, u.u32(), u


def parse_call(data):
    """(xid, prog, vers, proc, args Unpacker) of an RPC call."""
    u = Unpacker(data)
    xid, mtype, _rpcvers, prog, vers, proc = (u.u32() for _ in range(6))
    assert mtype == 0
    u.u32()
    u.opaque()
    u.u32()
    u.opaque()
    return xid, prog, vers, proc, Unpacker(u.rest())


def accepted(xid, body=b""):
    return Packer().u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0).raw(body).bytes()


class ClientHost:
    """The client machine as the server sees it: a port mapper on
    CLIENT_ADDR:111 (UDP and TCP) and a lock manager (TCP) there.
    `granted_answer`: GRANTED_OK / DENIED to answer GRANTED calls with, or
    None to not register the lock manager with the port mapper at all."""

    def __init__(self):
        self.calls = []            # (time, proc, vers, cookie, svid)
        self.cv = threading.Condition()
        self.granted_answer = GRANTED_OK
        self.stop = False
        self.nlm_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.nlm_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.nlm_sock.bind((CLIENT_ADDR, 0))
        self.nlm_sock.listen(8)
        self.nlm_port = self.nlm_sock.getsockname()[1]
        self.pmap_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.pmap_udp.bind((CLIENT_ADDR, 111))
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._pmap_loop, self._accept_loop)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stop = True
        self.nlm_sock.close()
        self.pmap_udp.close()

    def _pmap_loop(self):
        while not self.stop:
            try:
                data, peer = self.pmap_udp.recvfrom(65536)
            except OSError:
                return
            xid, prog, _vers, proc, u = parse_call(data)
            port = 0
            if prog == 100000 and proc == 3:
                want, _wvers, prot = u.u32(), u.u32(), u.u32()
                if want == NLM and prot == socket.IPPROTO_TCP and self.granted_answer is not None:
                    port = self.nlm_port
            self.pmap_udp.sendto(accepted(xid, Packer().u32(port).bytes()), peer)

    def _accept_loop(self):
        while not self.stop:
            try:
                conn, _ = self.nlm_sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        rpc = Rpc.__new__(Rpc)
        rpc.sock = conn
        try:
            while True:
                xid, _prog, vers, proc, u = parse_call(rpc.recv_record())
                cookie = u.opaque()
                svid = None
                if proc in (GRANTED, GRANTED_MSG):
                    u.u32()            # exclusive
                    u.opaque()         # caller_name
                    u.opaque()         # fh
                    u.opaque()         # oh
                    svid = u.u32()
                stat = u.u32() if proc >= TEST_RES else None
                with self.cv:
                    self.calls.append((time.monotonic(), proc, vers, cookie, svid, stat))
                    self.cv.notify_all()
                body = b""
                if proc == GRANTED:
                    body = Packer().opaque(cookie).u32(self.granted_answer).bytes()
                rpc.send_record(accepted(xid, body))
        except (ConnectionError, OSError, struct.error):
            conn.close()

    def wait_call(self, proc, timeout=10.0, after=0):
        """The first call of `proc` received after index `after`."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for c in self.calls[after:]:
                    if c[1] == proc:
                        return c
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def count(self, proc):
        with self.cv:
            return sum(1 for c in self.calls if c[1] == proc)

"""nfs_client.py: a hand-written ONC RPC / NFSv3 client for kvmini nfsd's
tests, plus a helper that starts and stops `kvmini nfsd`.

Only what the tests need: XDR packing, record marking over TCP, UDP calls,
MOUNT v3 MNT and the NFSv3 procedures with their status codes. Replies are
parsed just far enough to get status, handles and a few attributes."""
import os
import signal
import socket
import struct
import subprocess
import time

from conftest import kvmini_path

PMAP, MOUNT, NFS = 100000, 100005, 100003
AUTH_NONE, AUTH_SYS = 0, 1

# accept_stat
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = 0, 1, 2, 3, 4

# NFSv3 procedures
(NULL, GETATTR, SETATTR, LOOKUP, ACCESS, READLINK, READ, WRITE, CREATE, MKDIR, SYMLINK, MKNOD,
 REMOVE, RMDIR, RENAME, LINK, READDIR, READDIRPLUS, FSSTAT, FSINFO, PATHCONF, COMMIT) = range(22)

NFS3_OK, NFS3ERR_NOENT, NFS3ERR_ACCES, NFS3ERR_EXIST = 0, 2, 13, 17
NFS3ERR_ROFS, NFS3ERR_NOT_SYNC, NFS3ERR_BADHANDLE, NFS3ERR_STALE = 30, 10002, 10001, 70


class Packer:
    def __init__(self):
        self.parts = []

    def u32(self, v):
        self.parts.append(struct.pack(">I", v & 0xffffffff))
        return self

    def u64(self, v):
        self.parts.append(struct.pack(">Q", v))
        return self

    def fixed(self, b):
        self.parts.append(b + b"\0" * ((4 - len(b) % 4) % 4))
        return self

    def opaque(self, b):
        if isinstance(b, str):
            b = b.encode()
        return self.u32(len(b)).fixed(b)

    def raw(self, b):
        self.parts.append(b)
        return self

    def bytes(self):
        return b"".join(self.parts)


class Unpacker:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def u32(self):
        v, = struct.unpack_from(">I", self.data, self.pos)
        self.pos += 4
        return v

    def u64(self):
        v, = struct.unpack_from(">Q", self.data, self.pos)
        self.pos += 8
        return v

    def fixed(self, n):
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("short reply")
        self.pos += n + (4 - n % 4) % 4
        return b

    def opaque(self):
        return self.fixed(self.u32())

    def fattr(self):
        keys = ["type", "mode", "nlink", "uid", "gid"]
        a = {k: self.u32() for k in keys}
        a["size"] = self.u64()
        a["used"] = self.u64()
        a["rdev"] = (self.u32(), self.u32())
        a["fsid"] = self.u64()
        a["fileid"] = self.u64()
        a["atime"] = (self.u32(), self.u32())
        a["mtime"] = (self.u32(), self.u32())
        a["ctime"] = (self.u32(), self.u32())
        return a

    def post_attr(self):
        return self.fattr() if self.u32() else None

    def wcc(self):
        if self.u32():
            self.u64()
            self.fixed(16)
        return self.post_attr()

    def rest(self):
        return self.data[self.pos:]


def auth_sys(uid=0, gid=0, gids=(), machine="test"):
    body = Packer().u32(0).opaque(machine).u32(uid).u32(gid).u32(len(gids))
    for g in gids:
        body.u32(g)
    return AUTH_SYS, body.bytes()


def call_header(xid, prog, vers, proc, cred=None):
    flavor, body = cred if cred else (AUTH_NONE, b"")
    return (Packer().u32(xid).u32(0).u32(2).u32(prog).u32(vers).u32(proc)
            .u32(flavor).opaque(body).u32(AUTH_NONE).u32(0).bytes())


class RpcError(Exception):
    pass


class Reply:
    """A decoded reply: accepted (stat, body) or denied."""

    def __init__(self, data):
        u = Unpacker(data)
        self.xid = u.u32()
        assert u.u32() == 1, "not a reply"
        self.denied = u.u32() == 1
        if self.denied:
            self.reject = u.u32()
            self.detail = [u.u32()] if self.reject == 1 else [u.u32(), u.u32()]
            self.stat = None
            self.body = Unpacker(b"")
            return
        u.u32()
        u.opaque()
        self.stat = u.u32()
        self.body = Unpacker(u.rest())


class Rpc:
    """One TCP connection to the server, with record marking."""

    def __init__(self, port, host="127.0.0.1", cred=None, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.cred = cred if cred is not None else auth_sys()
        self.xid = 0x1000

    def close(self):
        self.sock.close()

    def send_record(self, payload, fragments=1):
        step = max(1, (len(payload) + fragments - 1) // fragments)
        chunks = [payload[i:i + step] for i in range(0, len(payload), step)] or [b""]
        for i, c in enumerate(chunks):
            last = 0x80000000 if i == len(chunks) - 1 else 0
            self.sock.sendall(struct.pack(">I", last | len(c)) + c)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def recv_record(self):
        data = b""
        while True:
            hdr, = struct.unpack(">I", self.recv_exact(4))
            data += self.recv_exact(hdr & 0x7fffffff)
            if hdr & 0x80000000:
                return data

    def call_raw(self, prog, vers, proc, args=b"", cred="default", fragments=1):
        self.xid += 1
        self.send_record(call_header(self.xid, prog, vers, proc,
                                     self.cred if cred == "default" else cred) + args, fragments)
        while True:
            r = Reply(self.recv_record())
            if r.xid == self.xid:
                return r

    def call(self, prog, vers, proc, args=b""):
        r = self.call_raw(prog, vers, proc, args)
        if r.denied or r.stat != SUCCESS:
            raise RpcError(f"rpc error denied={r.denied} stat={r.stat}")
        return r.body

    # --- MOUNT ---
    def mount(self, path):
        u = self.call(MOUNT, 3, 1, Packer().opaque(path).bytes())
        st = u.u32()
        if st:
            return st, None
        return 0, u.opaque()

    # --- NFS ---
    def nfs(self, proc, args):
        u = self.call(NFS, 3, proc, args)
        return u.u32(), u

    def getattr(self, fh):
        st, u = self.nfs(GETATTR, Packer().opaque(fh).bytes())
        return st, (u.fattr() if st == 0 else None)

    def lookup(self, dirfh, name):
        st, u = self.nfs(LOOKUP, Packer().opaque(dirfh).opaque(name).bytes())
        if st:
            return st, None
        return st, u.opaque()

    def create(self, dirfh, name, mode=0o644, how=0):
        p = Packer().opaque(dirfh).opaque(name).u32(how)
        if how == 2:
            p.fixed(b"verifier")
        else:
            p.u32(1).u32(mode).u32(0).u32(0).u32(0).u32(0).u32(0)
        st, u = self.nfs(CREATE, p.bytes())
        if st:
            return st, None
        return st, (u.opaque() if u.u32() else None)

    def mkdir(self, dirfh, name, mode=0o755):
        p = Packer().opaque(dirfh).opaque(name).u32(1).u32(mode).u32(0).u32(0).u32(0).u32(0).u32(0)
        st, u = self.nfs(MKDIR, p.bytes())
        if st:
            return st, None
        return st, (u.opaque() if u.u32() else None)

    def symlink(self, dirfh, name, target):
        p = Packer().opaque(dirfh).opaque(name).u32(0).u32(0).u32(0).u32(0).u32(0).u32(0).opaque(target)
        st, u = self.nfs(SYMLINK, p.bytes())
        if st:
            return st, None
        return st, (u.opaque() if u.u32() else None)

    def readlink(self, fh):
        st, u = self.nfs(READLINK, Packer().opaque(fh).bytes())
        if st:
            return st, None
        u.post_attr()
        return st, u.opaque().decode()

    def write(self, fh, offset, data, stable=2):
        p = Packer().opaque(fh).u64(offset).u32(len(data)).u32(stable).opaque(data)
        st, u = self.nfs(WRITE, p.bytes())
        if st:
            return st, None
        u.wcc()
        count, committed = u.u32(), u.u32()
        return st, (count, committed, u.fixed(8))

    def read(self, fh, offset, count):
        st, u = self.nfs(READ, Packer().opaque(fh).u64(offset).u32(count).bytes())
        if st:
            return st, None
        u.post_attr()
        n, eof = u.u32(), u.u32()
        data = u.opaque()
        assert len(data) == n
        return st, (data, bool(eof))

    def commit(self, fh):
        st, u = self.nfs(COMMIT, Packer().opaque(fh).u64(0).u32(0).bytes())
        if st:
            return st, None
        u.wcc()
        return st, u.fixed(8)

    def remove(self, dirfh, name, proc=REMOVE):
        st, _ = self.nfs(proc, Packer().opaque(dirfh).opaque(name).bytes())
        return st

    def rename(self, fromfh, fromname, tofh, toname):
        st, _ = self.nfs(RENAME, Packer().opaque(fromfh).opaque(fromname).opaque(tofh).opaque(toname).bytes())
        return st

    def link(self, fh, dirfh, name):
        st, _ = self.nfs(LINK, Packer().opaque(fh).opaque(dirfh).opaque(name).bytes())
        return st

    def setattr_mode(self, fh, mode, guard=None):
        p = Packer().opaque(fh).u32(1).u32(mode).u32(0).u32(0).u32(0).u32(0).u32(0)
        if guard is None:
            p.u32(0)
        else:
            p.u32(1).u32(guard[0]).u32(guard[1])
        st, _ = self.nfs(SETATTR, p.bytes())
        return st

    def readdirplus(self, dirfh):
        names, cookie = {}, 0
        while True:
            p = Packer().opaque(dirfh).u64(cookie).fixed(b"\0" * 8).u32(4096).u32(8192)
            st, u = self.nfs(READDIRPLUS, p.bytes())
            if st:
                return st, None
            u.post_attr()
            u.fixed(8)
            while u.u32():
                u.u64()
                name = u.opaque().decode()
                cookie = u.u64()
                attrs = u.post_attr()
                fh = u.opaque() if u.u32() else None
                names[name] = (attrs, fh)
            if u.u32():
                return 0, names


class Nfsd:
    """`kvmini nfsd` on 127.0.0.1 with a free port (and no port mapper on
    111, which belongs to the host), stopped with SIGTERM."""

    def __init__(self, export, state_dir, *extra, wrapper=()):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.export = str(export)
        self.proc = subprocess.Popen(
            [*wrapper, kvmini_path(), "nfsd", "--export", self.export, "--listen", "127.0.0.1:0",
             "--state-dir", str(state_dir), "--portmap", "none", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("nfsd: port="):
            self.proc.kill()
            raise RuntimeError("nfsd did not start: " + line + self.proc.stderr.read())
        fields = dict(f.split("=") for f in line.split()[1:])
        self.port = int(fields["port"])
        self.portmap = int(fields["portmap"])

    def url(self, path="", **params):
        q = {"nfsport": self.port, "mountport": self.port, **params}
        return f"nfs://127.0.0.1{self.export}{path}?" + "&".join(f"{k}={v}" for k, v in q.items())

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Stops the server; returns (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err


def wait_until(fn, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False

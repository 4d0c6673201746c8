"""test_nfsd_portmap.py: the port mapper of `kvmini nfsd --portmap` on the
standard port 111, inside a network namespace this test creates (so it
clashes with no rpcbind): rpcinfo lists the programs, showmount sees the
export and the mounts, and libnfs finds MOUNT and NFS with no ports in its
URL. Plus every NFSv3 procedure once through the hand-written client."""
import os
import shutil
import subprocess

import pytest

from conftest import kvmini_path
from nfs_client import (ACCESS, FSINFO, FSSTAT, MKNOD, NFS3ERR_EXIST, PATHCONF, READDIR, Nfsd,
                        Packer, Rpc, auth_sys)

NS = f"kvmini-nfs-{os.getpid()}"


def have_netns():
    return os.geteuid() == 0 and shutil.which("ip") is not None


@pytest.fixture
def netns():
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], check=True)
        yield ["ip", "netns", "exec", NS]
    finally:
        subprocess.run(["ip", "netns", "del", NS])


@pytest.mark.skipif(not have_netns(), reason="needs root and iproute2 for a network namespace")
@pytest.mark.skipif(not shutil.which("nfs-ls") or not shutil.which("rpcinfo"),
                    reason="libnfs-utils or rpcinfo (nfs-common/rpcbind) is not installed")
def test_portmap_on_111_in_netns(netns, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "hello").write_text("hi")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    kv = kvmini_path()
    srv = subprocess.Popen(netns + [kv, "nfsd", "--export", str(export), "--listen", "127.0.0.1:2049",
                                    "--portmap", "127.0.0.1:111", "--state-dir", str(tmp_path / "st")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = srv.stdout.readline()
        assert line.startswith("nfsd: port=2049 portmap=111"), line + srv.stderr.read()
        p = subprocess.run(netns + ["rpcinfo", "-p", "127.0.0.1"], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        rows = {tuple(r.split()[:4]) for r in p.stdout.splitlines()[1:]}
        for prog in ("100003", "100005", "100000"):
            assert any(r[0] == prog and r[2] == "tcp" and r[3] == "2049" for r in rows), p.stdout
            assert any(r[0] == prog and r[2] == "udp" and r[3] == "2049" for r in rows), p.stdout
        p = subprocess.run(netns + ["nfs-ls", f"nfs://127.0.0.1{export}"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0 and "hello" in p.stdout, p.stderr
        if shutil.which("showmount"):
            p = subprocess.run(netns + ["showmount", "-e", "127.0.0.1"], capture_output=True,
                               text=True, timeout=30)
            assert p.returncode == 0 and str(export) in p.stdout, p.stdout + p.stderr
    finally:
        srv.terminate()
        out, err = srv.communicate(timeout=30)
    assert srv.returncode == 0, err
    assert "Sanitizer" not in err and "runtime error" not in err, err


def test_every_procedure(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    srv = Nfsd(export, tmp_path / "state", "--no-root-squash")
    rpc = Rpc(srv.port, cred=auth_sys(0, 0))
    _, root = rpc.mount(srv.export)
    for proc in (FSSTAT, FSINFO, PATHCONF):
        st, _ = rpc.nfs(proc, Packer().opaque(root).bytes())
        assert st == 0, proc
    st, u = rpc.nfs(ACCESS, Packer().opaque(root).u32(0x3f).bytes())
    assert st == 0
    u.post_attr()
    assert u.u32() == 0x1f  # no EXECUTE on a directory
    # CREATE: GUARDED refuses an existing name, EXCLUSIVE is idempotent.
    assert rpc.create(root, "g", how=1)[0] == 0
    assert rpc.create(root, "g", how=1)[0] == NFS3ERR_EXIST
    assert rpc.create(root, "g", how=0)[0] == 0
    st, fh1 = rpc.create(root, "x", how=2)
    st2, fh2 = rpc.create(root, "x", how=2)
    assert st == 0 and st2 == 0 and fh1 == fh2
    # WRITE at each stability level; COMMIT returns the same verifier.
    verfs = set()
    for stable in (0, 1, 2):
        st, (count, committed, verf) = rpc.write(fh1, stable * 10, b"0123456789", stable=stable)
        assert st == 0 and count == 10 and committed == stable
        verfs.add(verf)
    st, verf = rpc.commit(fh1)
    verfs.add(verf)
    assert st == 0 and len(verfs) == 1
    assert (export / "x").read_bytes() == b"0123456789" * 3
    # MKNOD: a FIFO; a regular file is not something MKNOD makes.
    args = Packer().opaque(root).opaque("fifo").u32(7).u32(1).u32(0o600).u32(0).u32(0).u32(0).u32(0).u32(0)
    st, _ = rpc.nfs(MKNOD, args.bytes())
    assert st == 0 and (export / "fifo").is_fifo()
    args = Packer().opaque(root).opaque("reg").u32(1)
    st, _ = rpc.nfs(MKNOD, args.bytes())
    assert st == 10007  # NFS3ERR_BADTYPE
    # READDIR in small pieces follows the cookies to the end.
    for i in range(40):
        (export / f"n{i:02d}").write_text("")
    seen, cookie = set(), 0
    for _ in range(100):
        st, u = rpc.nfs(READDIR, Packer().opaque(root).u64(cookie).fixed(b"\0" * 8).u32(512).bytes())
        assert st == 0
        u.post_attr()
        u.fixed(8)
        while u.u32():
            u.u64()
            seen.add(u.opaque().decode())
            cookie = u.u64()
        if u.u32():
            break
    assert {f"n{i:02d}" for i in range(40)} | {"g", "x", "fifo", ".", ".."} <= seen
    # A count too small for one entry.
    st, _ = rpc.nfs(READDIR, Packer().opaque(root).u64(0).fixed(b"\0" * 8).u32(100).bytes())
    assert st == 10005  # NFS3ERR_TOOSMALL
    # A file removed behind the server's back: its handle is stale.
    os.unlink(export / "x")
    assert rpc.getattr(fh1)[0] == 70  # NFS3ERR_STALE
    rpc.close()
    status, err = srv.stop()
    assert status == 0, err


def test_mount_dump_umnt_export(tmp_path):
    export = tmp_path / "export"
    (export / "sub").mkdir(parents=True)
    srv = Nfsd(export, tmp_path / "state")
    rpc = Rpc(srv.port)

    def dump():
        u = rpc.call(100005, 3, 2)
        out = []
        while u.u32():
            out.append((u.opaque().decode(), u.opaque().decode()))
        return out

    assert dump() == []
    assert rpc.mount(srv.export)[0] == 0
    st, sub = rpc.mount(srv.export + "/sub")
    assert st == 0 and rpc.getattr(sub)[1]["type"] == 2
    assert sorted(dump()) == [("127.0.0.1", srv.export), ("127.0.0.1", srv.export + "/sub")]
    rpc.call(100005, 3, 3, Packer().opaque(srv.export).bytes())  # UMNT
    assert dump() == [("127.0.0.1", srv.export + "/sub")]
    rpc.call(100005, 3, 4)  # UMNTALL
    assert dump() == []
    u = rpc.call(100005, 3, 5)  # EXPORT
    assert u.u32() == 1 and u.opaque().decode() == srv.export
    assert rpc.mount(srv.export + "/missing")[0] == 2  # MNT3ERR_NOENT
    rpc.close()
    status, err = srv.stop()
    assert status == 0, err

"""test_nfsd_libnfs.py: `kvmini nfsd` against a real user-space NFS client
(libnfs's nfs-ls, nfs-cat, nfs-cp) on loopback, and the procedures the
utilities do not reach (rename, remove, symlink, link, mkdir) through the
hand-written client in nfs_client.py. Also: handles survive a restart,
the write verifier does not, root_squash and --read-only."""
import hashlib
import os
import shutil
import subprocess

import pytest

from nfs_client import (NFS3ERR_ACCES, NFS3ERR_NOENT, NFS3ERR_NOT_SYNC, NFS3ERR_ROFS, Nfsd, Packer, Rpc,
                        auth_sys)

pytestmark = pytest.mark.skipif(not shutil.which("nfs-cp"), reason="libnfs-utils is not installed")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_random(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


def run(*args, timeout=300):
    p = subprocess.run(list(args), capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def export(tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    d.chmod(0o777)  # the squashed client (nobody) may create files
    return d


@pytest.fixture
def server(export, tmp_path):
    srv = Nfsd(export, tmp_path / "state")
    yield srv
    status, err = srv.stop()
    assert status == 0, err
    assert "Sanitizer" not in err and "runtime error" not in err, err


def test_listing(server, export):
    (export / "a.txt").write_text("alpha")
    (export / "sub").mkdir()
    (export / "sub" / "b.bin").write_bytes(b"x" * 1234)
    rc, out, err = run("nfs-ls", server.url())
    assert rc == 0, err
    names = [line.split()[-1] for line in out.decode().splitlines()]
    assert "a.txt" in names and "sub" in names
    rc, out, err = run("nfs-ls", server.url("/sub"))
    assert rc == 0, err
    line = [ln for ln in out.decode().splitlines() if ln.endswith("b.bin")][0]
    assert " 1234 " in line


@pytest.mark.parametrize("size", [0, 1, 1 << 20, 256 << 20], ids=["0B", "1B", "1MiB", "256MiB"])
def test_copy_both_ways(server, export, tmp_path, size):
    src = tmp_path / "src"
    write_random(src, size)
    rc, _, err = run("nfs-cp", str(src), server.url("/up"))
    assert rc == 0, err
    assert (export / "up").stat().st_size == size
    assert sha256(export / "up") == sha256(src)
    back = tmp_path / "back"
    rc, _, err = run("nfs-cp", server.url("/up"), str(back))
    assert rc == 0, err
    assert sha256(back) == sha256(src)
    os.unlink(export / "up")


def test_sparse_file(server, export, tmp_path):
    sparse = export / "sparse"
    with open(sparse, "wb") as f:
        f.seek(1 << 20)
        f.write(b"middle")
        f.truncate(64 << 20)
    blocks_before = sparse.stat().st_blocks
    back = tmp_path / "back"
    rc, _, err = run("nfs-cp", server.url("/sparse"), str(back))
    assert rc == 0, err
    assert back.stat().st_size == 64 << 20
    assert sha256(back) == sha256(sparse)
    # Reading the holes did not fill them in.
    assert sparse.stat().st_blocks == blocks_before
    # A write far past the end makes a hole on the server too.
    rpc = Rpc(server.port, cred=auth_sys(1000, 1000))
    _, root = rpc.mount(server.export)
    st, fh = rpc.create(root, "holey")
    assert st == 0
    assert rpc.write(fh, 32 << 20, b"end")[0] == 0
    st, (data, eof) = rpc.read(fh, 1 << 20, 4096)
    assert data == b"\0" * 4096 and not eof
    assert (export / "holey").stat().st_size == (32 << 20) + 3
    assert (export / "holey").stat().st_blocks * 512 < (1 << 20)
    rpc.close()


def test_symlinks(server, export, tmp_path):
    (export / "target.txt").write_text("through the link")
    os.symlink("target.txt", export / "inside")
    os.symlink("/etc/passwd", export / "outside")
    os.symlink("../../../../../../etc/passwd", export / "dotdot")
    rc, out, err = run("nfs-cat", server.url("/inside"))
    assert rc == 0, err
    assert out == b"through the link"
    # The client resolves links itself, inside the export: no way out.
    for link in ("outside", "dotdot"):
        rc, out, _ = run("nfs-cat", server.url("/" + link))
        assert b"root:" not in out
    rpc = Rpc(server.port)
    _, root = rpc.mount(server.export)
    st, fh = rpc.symlink(root, "made", "some/where")
    assert st == 0
    assert rpc.readlink(fh) == (0, "some/where")
    assert os.readlink(export / "made") == "some/where"
    st, fh = rpc.lookup(root, "outside")
    assert st == 0 and rpc.readlink(fh) == (0, "/etc/passwd")
    rpc.close()


def test_rename_remove_link_mkdir(server, export):
    rpc = Rpc(server.port, cred=auth_sys(1000, 1000))
    _, root = rpc.mount(server.export)
    st, fh = rpc.create(root, "old")
    assert st == 0
    assert rpc.write(fh, 0, b"payload")[0] == 0
    st, sub = rpc.mkdir(root, "dir")
    assert st == 0
    assert rpc.rename(root, "old", sub, "new") == 0
    assert not (export / "old").exists()
    assert (export / "dir" / "new").read_bytes() == b"payload"
    assert (export / "dir" / "new").stat().st_uid == 1000
    rc, out, err = run("nfs-ls", server.url("/dir"))
    assert rc == 0 and b"new" in out, err
    assert rpc.link(fh, root, "hard") == 0
    assert (export / "hard").stat().st_nlink == 2
    assert rpc.remove(sub, "new") == 0
    assert rpc.remove(root, "hard") == 0
    assert rpc.remove(root, "hard") == NFS3ERR_NOENT
    assert rpc.remove(root, "dir", proc=13) == 0  # RMDIR
    assert sorted(os.listdir(export)) == []
    rc, out, err = run("nfs-ls", server.url())
    assert rc == 0, err
    assert b"new" not in out and b"dir" not in out
    rpc.close()


def test_readdirplus_and_guarded_setattr(server, export):
    for i in range(300):
        (export / f"file-{i:03d}").write_text(str(i))
    rpc = Rpc(server.port)
    _, root = rpc.mount(server.export)
    st, names = rpc.readdirplus(root)
    assert st == 0
    assert {f"file-{i:03d}" for i in range(300)} <= set(names)
    attrs, fh = names["file-007"]
    assert attrs["size"] == 1 and fh
    ctime = attrs["ctime"]
    rpc2 = Rpc(server.port, cred=auth_sys(0, 0))
    # root is squashed: nobody may not chmod root's file.
    assert rpc2.setattr_mode(fh, 0o600) != 0
    os.chown(export / "file-007", 65534, 65534)
    st, now = rpc.getattr(fh)
    assert rpc2.setattr_mode(fh, 0o600, guard=(0, 0)) == NFS3ERR_NOT_SYNC
    assert rpc2.setattr_mode(fh, 0o600, guard=now["ctime"]) == 0
    assert (export / "file-007").stat().st_mode & 0o777 == 0o600
    assert ctime is not None
    rpc.close()
    rpc2.close()


def test_handles_survive_restart_and_verifier_changes(export, tmp_path):
    (export / "keep").write_text("still here")
    srv = Nfsd(export, tmp_path / "state")
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    st, fh = rpc.lookup(root, "keep")
    assert st == 0
    st, verf1 = rpc.commit(fh)
    assert st == 0
    rpc.close()
    assert srv.stop()[0] == 0
    srv = Nfsd(export, tmp_path / "state")
    rpc = Rpc(srv.port)
    st, attrs = rpc.getattr(fh)
    assert st == 0 and attrs["size"] == 10
    st, (data, eof) = rpc.read(fh, 0, 100)
    assert data == b"still here" and eof
    st, verf2 = rpc.commit(fh)
    assert st == 0 and verf2 != verf1
    rpc.close()
    assert srv.stop()[0] == 0
    # Another state directory means another key: the old handle is refused.
    srv = Nfsd(export, tmp_path / "other-state")
    rpc = Rpc(srv.port)
    st, _ = rpc.getattr(fh)
    assert st != 0
    rpc.close()
    assert srv.stop()[0] == 0


def test_root_squash_and_read_only(export, tmp_path):
    (export / "secret").write_text("root only")
    (export / "secret").chmod(0o600)
    srv = Nfsd(export, tmp_path / "state")
    rc, out, _ = run("nfs-cat", srv.url("/secret"))
    assert rc != 0 and out != b"root only"
    assert srv.stop()[0] == 0
    srv = Nfsd(export, tmp_path / "state", "--no-root-squash")
    rc, out, err = run("nfs-cat", srv.url("/secret"))
    assert rc == 0 and out == b"root only", err
    assert srv.stop()[0] == 0
    srv = Nfsd(export, tmp_path / "state", "--read-only", "--no-root-squash")
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    assert rpc.create(root, "new")[0] == NFS3ERR_ROFS
    assert rpc.remove(root, "secret") == NFS3ERR_ROFS
    st, fh = rpc.lookup(root, "secret")
    assert rpc.write(fh, 0, b"x")[0] == NFS3ERR_ROFS
    assert rpc.read(fh, 0, 100)[1][0] == b"root only"
    rc, _, _ = run("nfs-cp", str(export / "secret"), srv.url("/copy"))
    assert rc != 0 and not (export / "copy").exists()
    rpc.close()
    assert srv.stop()[0] == 0
    assert NFS3ERR_ACCES == 13


def test_owner_may_write_own_read_only_file(server, export):
    """As with knfsd: a file created 0444 (git objects, tar) can still be
    written and truncated by its owner; others still cannot."""
    rpc = Rpc(server.port, cred=auth_sys(1000, 1000))
    _, root = rpc.mount(server.export)
    st, fh = rpc.create(root, "ro", mode=0o444, how=1)
    assert st == 0
    assert rpc.write(fh, 0, b"written after create")[0] == 0
    assert (export / "ro").read_bytes() == b"written after create"
    assert (export / "ro").stat().st_mode & 0o777 == 0o444
    other = Rpc(server.port, cred=auth_sys(1001, 1001))
    assert other.write(fh, 0, b"intruder")[0] == NFS3ERR_ACCES
    # UNCHECKED create of someone else's file with size 0 does not truncate it.
    p = Packer().opaque(root).opaque("ro").u32(0).u32(0).u32(0).u32(0).u32(1).u64(0).u32(0).u32(0)
    st, _ = other.nfs(8, p.bytes())
    assert st != 0
    assert (export / "ro").read_bytes() == b"written after create"
    other.close()
    rpc.close()

"""test_nfsd_bad_input.py: malformed RPC and NFS traffic against `kvmini
nfsd` from a hand-written client. Every case gets an error reply or a
closed connection, the server keeps serving other clients, and nothing
outside the export is touched."""
import os
import shutil
import socket
import struct

import pytest

from nfs_client import (GARBAGE_ARGS, MOUNT, NFS, NFS3ERR_ACCES, NFS3ERR_BADHANDLE, PMAP,
                        PROC_UNAVAIL, PROG_MISMATCH, PROG_UNAVAIL, Nfsd, Packer, Reply, Rpc,
                        auth_sys, call_header)


@pytest.fixture
def env(tmp_path):
    export = tmp_path / "export"
    outside = tmp_path / "outside"
    export.mkdir()
    outside.mkdir()
    export.chmod(0o777)
    outside.chmod(0o777)
    (export / "file").write_text("inside")
    (outside / "secret").write_text("outside")
    os.symlink(str(outside), export / "escape")
    srv = Nfsd(export, tmp_path / "state", "--no-root-squash")
    yield srv, export, outside
    assert srv.alive(), "the server died"
    status, err = srv.stop()
    assert status == 0, err
    assert "Sanitizer" not in err and "runtime error" not in err, err
    assert sorted(os.listdir(outside)) == ["secret"], "something was made outside the export"
    assert (outside / "secret").read_text() == "outside"


def still_serving(srv):
    rpc = Rpc(srv.port)
    try:
        st, root = rpc.mount(srv.export)
        assert st == 0
        st, attrs = rpc.getattr(root)
        assert st == 0 and attrs["type"] == 2
    finally:
        rpc.close()


def closed_by_server(sock):
    sock.settimeout(20)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True


def test_truncated_record_then_close(env):
    srv, _, _ = env
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(struct.pack(">I", 0x80000000 | 100) + b"x" * 10)
    s.close()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"\x80\x00")  # half a fragment header
    s.close()
    still_serving(srv)


def test_truncated_call_is_dropped_and_connection_survives(env):
    srv, _, _ = env
    rpc = Rpc(srv.port)
    full = call_header(7, NFS, 3, 0, auth_sys())
    for cut in (0, 3, 8, 20, 30, len(full) - 1):
        rpc.send_record(full[:cut])
    r = rpc.call_raw(NFS, 3, 0)  # the connection still answers
    assert r.stat == 0
    rpc.close()
    still_serving(srv)


@pytest.mark.parametrize("length", [0x7fffffff, (1 << 20) + (64 << 10) + 1])
def test_oversized_fragment_closes_connection(env, length):
    srv, _, _ = env
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(struct.pack(">I", 0x80000000 | length) + b"\0" * 4096)
    assert closed_by_server(s)
    s.close()
    still_serving(srv)


def test_too_many_fragments_closes_connection(env):
    srv, _, _ = env
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(struct.pack(">I", 0) * 2000)  # empty, never-last fragments
    assert closed_by_server(s)
    s.close()
    still_serving(srv)


def test_fragmented_call_is_reassembled(env):
    srv, _, _ = env
    rpc = Rpc(srv.port)
    r = rpc.call_raw(MOUNT, 3, 1, Packer().opaque(srv.export).bytes(), fragments=7)
    assert r.stat == 0 and r.body.u32() == 0
    rpc.close()


def test_unknown_programs_versions_procedures(env):
    srv, _, _ = env
    rpc = Rpc(srv.port)
    assert rpc.call_raw(123456, 1, 0).stat == PROG_UNAVAIL
    for vers in (2, 4):
        r = rpc.call_raw(NFS, vers, 0)
        assert r.stat == PROG_MISMATCH
        assert (r.body.u32(), r.body.u32()) == (3, 3)
    assert rpc.call_raw(NFS, 3, 22).stat == PROC_UNAVAIL
    assert rpc.call_raw(NFS, 3, 0xffffffff).stat == PROC_UNAVAIL
    assert rpc.call_raw(MOUNT, 3, 99).stat == PROC_UNAVAIL
    assert rpc.call_raw(PMAP, 2, 5).stat == PROC_UNAVAIL  # CALLIT is not offered
    rpc.xid += 1
    rpc.send_record(Packer().u32(rpc.xid).u32(0).u32(3).u32(NFS).u32(3).u32(0)
                    .u32(0).u32(0).u32(0).u32(0).bytes())
    r = Reply(rpc.recv_record())
    assert r.denied and r.reject == 0 and r.detail == [2, 2]  # RPC_MISMATCH
    rpc.close()
    still_serving(srv)


def test_bad_credentials(env):
    srv, _, _ = env
    rpc = Rpc(srv.port)
    r = rpc.call_raw(NFS, 3, 0, cred=(6, b"gss"))  # RPCSEC_GSS: too weak for us
    assert r.denied and r.reject == 1 and r.detail == [5]
    too_many_gids = Packer().u32(0).opaque("m").u32(0).u32(0).u32(17)
    for g in range(17):
        too_many_gids.u32(g)
    r = rpc.call_raw(NFS, 3, 0, cred=(1, too_many_gids.bytes()))
    assert r.denied and r.detail == [1]  # AUTH_BADCRED
    long_name = Packer().u32(0).u32(300).fixed(b"a" * 300).u32(0).u32(0).u32(0)
    r = rpc.call_raw(NFS, 3, 0, cred=(1, long_name.bytes()))
    assert r.denied and r.detail == [1]
    # The credential's length runs past the end of the message.
    rpc.xid += 1
    rpc.send_record(Packer().u32(rpc.xid).u32(0).u32(2).u32(NFS).u32(3).u32(0)
                    .u32(1).u32(400).bytes() + b"\0" * 16)
    r = Reply(rpc.recv_record())
    assert r.denied and r.detail == [1]
    rpc.close()
    still_serving(srv)


def test_lengths_larger_than_message(env):
    srv, _, _ = env
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    # A name whose length says 4 GiB.
    r = rpc.call_raw(NFS, 3, 3, Packer().opaque(root).u32(0xffffffff).bytes() + b"abcd")
    assert r.stat == GARBAGE_ARGS
    # A handle longer than NFS3_FHSIZE.
    r = rpc.call_raw(NFS, 3, 1, Packer().opaque(b"\1" * 65).bytes())
    assert r.stat == GARBAGE_ARGS
    _, fh = rpc.lookup(root, "file")
    # WRITE whose data length runs past the message.
    args = Packer().opaque(fh).u64(0).u32(1 << 20).u32(0).u32(1 << 20).bytes() + b"z" * 100
    assert rpc.call_raw(NFS, 3, 7, args).stat == GARBAGE_ARGS
    # WRITE whose count is larger than its data.
    args = Packer().opaque(fh).u64(0).u32(100).u32(0).opaque(b"z" * 10).bytes()
    assert rpc.call_raw(NFS, 3, 7, args).stat == GARBAGE_ARGS
    # A bool that is neither 0 nor 1 (sattr3.set_mode).
    args = Packer().opaque(fh).u32(7).bytes()
    assert rpc.call_raw(NFS, 3, 2, args).stat == GARBAGE_ARGS
    # Arguments cut short.
    assert rpc.call_raw(NFS, 3, 6, Packer().opaque(fh).u32(0).bytes()).stat == GARBAGE_ARGS
    assert rpc.call_raw(MOUNT, 3, 1, Packer().u32(5000).bytes()).stat == GARBAGE_ARGS
    assert (srv.export and open(os.path.join(srv.export, "file")).read()) == "inside"
    rpc.close()
    still_serving(srv)


def test_forged_file_handles(env):
    srv, export, _ = env
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    _, fh = rpc.lookup(root, "file")
    forged = []
    for i in range(len(fh)):
        b = bytearray(fh)
        b[i] ^= 0x01
        forged.append(bytes(b))
    forged += [b"", b"\0" * 64, os.urandom(64), fh[:-1], fh + b"\0"]
    # The parent of the export, as ext4 would name it (inode + generation),
    # in our layout with a made-up MAC.
    st = os.stat(os.path.dirname(export))
    forged.append(fh[:12] + struct.pack("<II", st.st_ino, 0) + b"\0" * 16)
    for f in forged:
        st, attrs = rpc.getattr(f)
        assert st != 0, f"forged handle {f.hex()} accepted"
        assert rpc.create(f, "planted")[0] != 0
    assert rpc.getattr(fh)[0] == 0
    rpc.close()
    still_serving(srv)


def test_dotdot_and_symlink_escapes(env):
    srv, export, outside = env
    rpc = Rpc(srv.port)
    st, root = rpc.mount(srv.export)
    _, root_attrs = rpc.getattr(root)
    # ".." of the root is the root.
    st, up = rpc.lookup(root, "..")
    assert st == 0 and rpc.getattr(up)[1]["fileid"] == root_attrs["fileid"]
    st, upup = rpc.lookup(up, "..")
    assert rpc.getattr(upup)[1]["fileid"] == root_attrs["fileid"]
    for name in ("../outside", "../outside/secret", "escape/secret", "/etc/passwd"):
        assert rpc.lookup(root, name)[0] != 0, name
        assert rpc.create(root, name)[0] == NFS3ERR_ACCES, name
        assert rpc.mkdir(root, name)[0] != 0, name
    # A symlink to a directory outside is a symlink, not a directory.
    st, link = rpc.lookup(root, "escape")
    assert st == 0
    assert rpc.lookup(link, "secret")[0] != 0
    assert rpc.create(link, "planted")[0] != 0
    assert rpc.symlink(link, "planted", "x")[0] != 0
    assert rpc.rename(root, "file", link, "moved") != 0
    assert rpc.link(rpc.lookup(root, "file")[1], link, "hard") != 0
    # MOUNT refuses paths that are not the export or beneath it.
    for path in (str(outside), srv.export + "/../outside", srv.export + "/escape", "/",
                 srv.export + "x"):
        assert rpc.mount(path)[0] != 0, path
    assert rpc.mount(srv.export + "/")[0] == 0
    rpc.close()
    still_serving(srv)


def udp_call(port, prog, vers, proc, args=b"", xid=77):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(call_header(xid, prog, vers, proc, auth_sys()) + args, ("127.0.0.1", port))
    data = s.recv(65536)
    s.close()
    return Reply(data)


def test_udp(env):
    srv, export, _ = env
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for junk in (b"", b"\1\2\3", os.urandom(1000)):
        s.sendto(junk, ("127.0.0.1", srv.port))
    s.close()
    r = udp_call(srv.port, PMAP, 2, 3, Packer().u32(NFS).u32(3).u32(17).u32(0).bytes())
    assert r.stat == 0 and r.body.u32() == srv.port
    r = udp_call(srv.port, PMAP, 2, 3, Packer().u32(NFS).u32(4).u32(6).u32(0).bytes())
    assert r.body.u32() == 0
    r = udp_call(srv.port, MOUNT, 3, 1, Packer().opaque(srv.export).bytes())
    assert r.stat == 0 and r.body.u32() == 0
    root = r.body.opaque()
    r = udp_call(srv.port, NFS, 3, 3, Packer().opaque(root).opaque("file").bytes())
    fh = r.body.u32() == 0 and r.body.opaque()
    r = udp_call(srv.port, NFS, 3, 6, Packer().opaque(fh).u64(0).u32(100).bytes())
    assert r.body.u32() == 0
    r.body.post_attr()
    assert r.body.u32() == 6 and r.body.u32() == 1 and r.body.opaque() == b"inside"
    # A larger READ: header and spliced data in one datagram, cut to 32 KiB.
    big = os.urandom(40001)
    (export / "big").write_bytes(big)
    r = udp_call(srv.port, NFS, 3, 3, Packer().opaque(root).opaque("big").bytes())
    fh = r.body.u32() == 0 and r.body.opaque()
    for offset, want in ((0, 32768), (32768, 40001 - 32768), (39999, 2)):
        r = udp_call(srv.port, NFS, 3, 6, Packer().opaque(fh).u64(offset).u32(65536).bytes())
        assert r.body.u32() == 0
        r.body.post_attr()
        count, eof = r.body.u32(), r.body.u32()
        assert count == want and bool(eof) == (offset + want == 40001)
        assert r.body.opaque() == big[offset:offset + want]
    assert udp_call(srv.port, 424242, 1, 0).stat == PROG_UNAVAIL
    still_serving(srv)


def test_streaming_client_does_not_starve_another(env):
    srv, export, _ = env
    with open(export / "big", "wb") as f:
        f.truncate(64 << 20)
    greedy = Rpc(srv.port)
    _, root = greedy.mount(srv.export)
    _, big = greedy.lookup(root, "big")
    # 64 pipelined 1 MiB READs that the greedy client does not read yet.
    for i in range(64):
        greedy.xid += 1
        greedy.send_record(call_header(greedy.xid, NFS, 3, 6, greedy.cred) +
                           Packer().opaque(big).u64(i << 20).u32(1 << 20).bytes())
    polite = Rpc(srv.port, timeout=20)
    for _ in range(50):
        assert polite.getattr(root)[0] == 0
    polite.close()
    got = 0
    for _ in range(64):
        r = Reply(greedy.recv_record())
        assert r.stat == 0 and r.body.u32() == 0
        got += 1
    assert got == 64
    greedy.close()
    assert NFS3ERR_BADHANDLE == 10001


def test_memory_cap_pauses_without_deadlock(tmp_path):
    """With a 2 MiB cap on buffered requests, a client pipelining 1 MiB
    WRITEs (sent from a thread, not reading replies) and idle clients
    holding half-sent records do not stop the server: every WRITE is
    answered and another client is still served."""
    import threading
    export = tmp_path / "export"
    export.mkdir()
    srv = Nfsd(export, tmp_path / "state", "--no-root-squash", "--max-buffered", "2M",
               "--max-inflight", "64", "--threads", "2")
    try:
        idle = []
        for _ in range(4):  # announce 1 MiB records, send 1 KiB of them
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(struct.pack(">I", 0x80000000 | (1 << 20)) + b"\0" * 1024)
            idle.append(s)
        greedy = Rpc(srv.port)
        _, root = greedy.mount(srv.export)
        _, fh = greedy.create(root, "sink")
        chunk = os.urandom(1 << 20)
        calls = []
        for i in range(24):
            greedy.xid += 1
            calls.append(record_bytes(call_header(greedy.xid, NFS, 3, 7, greedy.cred) +
                                      Packer().opaque(fh).u64(i << 20).u32(1 << 20).u32(0)
                                      .opaque(chunk).bytes()))
        sender = threading.Thread(target=lambda: greedy.sock.sendall(b"".join(calls)))
        sender.start()
        polite = Rpc(srv.port, timeout=30)
        for _ in range(20):
            assert polite.getattr(root)[0] == 0
        polite.close()
        for _ in range(24):
            r = Reply(greedy.recv_record())
            assert r.stat == 0 and r.body.u32() == 0
        sender.join(timeout=60)
        assert (export / "sink").stat().st_size == 24 << 20
        greedy.close()
        for s in idle:
            s.close()
    finally:
        status, err = srv.stop()
    assert status == 0, err
    assert "AddressSanitizer" not in err, err


def record_bytes(payload):
    return struct.pack(">I", 0x80000000 | len(payload)) + payload


def test_large_writes_spliced_and_lying_ones_refused(env):
    """WRITEs over 16 KiB go socket -> pipe -> file: check odd sizes,
    a count shorter than the data, a data length running past the record,
    and a client that leaves in the middle of the data."""
    srv, export, _ = env
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    _, fh = rpc.create(root, "bulk")
    blob = os.urandom(100003)
    st, (count, _, _) = rpc.write(fh, 0, blob)
    assert st == 0 and count == len(blob)
    assert (export / "bulk").read_bytes() == blob
    # count 100 of 40000 bytes: only 100 are written.
    args = Packer().opaque(fh).u64(200000).u32(100).u32(2).opaque(blob[:40000]).bytes()
    r = rpc.call_raw(NFS, 3, 7, args)
    assert r.stat == 0 and r.body.u32() == 0
    assert (export / "bulk").stat().st_size == 200100
    # The data length says 1 MiB, the record holds 20 KiB.
    args = Packer().opaque(fh).u64(0).u32(1 << 20).u32(0).u32(1 << 20).bytes() + b"z" * 20000
    assert rpc.call_raw(NFS, 3, 7, args).stat == GARBAGE_ARGS
    # More than NFS3_MAX_IO.
    args = Packer().opaque(fh).u64(0).u32(100).u32(0).u32((1 << 20) + 4).bytes() + b"z" * 20000
    assert rpc.call_raw(NFS, 3, 7, args).stat == GARBAGE_ARGS
    st, (data, _) = rpc.read(fh, 0, 200)
    assert data == blob[:200]
    rpc.close()
    # Half the data, then gone.
    s = socket.create_connection(("127.0.0.1", srv.port))
    payload = call_header(5, NFS, 3, 7, auth_sys()) + \
        Packer().opaque(fh).u64(0).u32(65536).u32(0).opaque(b"q" * 65536).bytes()
    s.sendall(struct.pack(">I", 0x80000000 | len(payload)) + payload[:30000])
    s.close()
    still_serving(srv)
    assert (export / "bulk").read_bytes()[:200] == blob[:200]


@pytest.mark.skipif(not shutil.which("prlimit"), reason="prlimit (util-linux) is not installed")
def test_out_of_descriptors(tmp_path):
    """With 48 descriptors, 80 connections: those the server cannot
    accept wait in the backlog and are served once others close."""
    export = tmp_path / "export"
    export.mkdir()
    srv = Nfsd(export, tmp_path / "state", "--threads", "2", wrapper=["prlimit", "--nofile=48:48"])
    try:
        conns = [Rpc(srv.port, timeout=30) for _ in range(80)]
        for c in conns[:60]:
            c.close()
        for c in conns[60:]:
            assert c.call_raw(NFS, 3, 0).stat == 0
            c.close()
        still_serving(srv)
    finally:
        status, err = srv.stop()
    assert status == 0, err
    assert "AddressSanitizer" not in err, err
    assert "out of file descriptors" in err, err


def test_directory_moved_out_gives_no_way_up(env):
    """A directory moved out of the export by the host keeps its handle
    (handles survive renames), but ".." from it is refused."""
    srv, export, outside = env
    (export / "wander").mkdir()
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    _, wander = rpc.lookup(root, "wander")
    _, up = rpc.lookup(wander, "..")
    assert rpc.getattr(up)[1]["fileid"] == rpc.getattr(root)[1]["fileid"]
    os.rename(export / "wander", outside / "wander")
    try:
        assert rpc.lookup(wander, "..")[0] == NFS3ERR_ACCES
        st, names = rpc.readdirplus(wander)
        assert st == 0 and names[".."][1] is None
    finally:
        os.rename(outside / "wander", export / "wander")
    rpc.close()


def test_pipelined_calls_in_one_send(tmp_path):
    """Calls sent back to back in one write (the server reads a record's
    header with the following bytes, so several records and the start of
    a WRITE's spliced data arrive together), with an in-flight cap of 2 so
    that reading stops with such bytes still buffered: every call is
    answered, and the WRITE's data lands intact."""
    export = tmp_path / "export"
    export.mkdir()
    (export / "f").write_bytes(bytes(range(256)) * 64)
    srv = Nfsd(export, tmp_path / "state", "--no-root-squash", "--max-inflight", "2")
    try:
        rpc = Rpc(srv.port)
        _, root = rpc.mount(srv.export)
        _, fh = rpc.lookup(root, "f")
        data = os.urandom(100000)
        calls, kinds = [], []
        for i in range(40):
            rpc.xid += 1
            if i == 20:
                args = Packer().opaque(fh).u64(1 << 20).u32(len(data)).u32(2).opaque(data)
                calls.append(record_bytes(call_header(rpc.xid, NFS, 3, 7, rpc.cred) + args.bytes()))
                kinds.append("write")
            elif i % 2:
                calls.append(record_bytes(call_header(rpc.xid, NFS, 3, 6, rpc.cred) +
                                          Packer().opaque(fh).u64(i * 100).u32(4096).bytes()))
                kinds.append(("read", i * 100))
            else:
                calls.append(record_bytes(call_header(rpc.xid, NFS, 3, 1, rpc.cred) +
                                          Packer().opaque(root).bytes()))
                kinds.append("getattr")
        first = rpc.xid - 39
        rpc.sock.sendall(b"".join(calls))
        content = bytes(range(256)) * 64
        replies = {}
        for _ in kinds:  # in any order (some run on workers)
            r = Reply(rpc.recv_record())
            replies[r.xid] = r
        assert sorted(replies) == list(range(first, first + len(kinds)))
        for i, kind in enumerate(kinds):
            r = replies[first + i]
            assert r.stat == 0 and r.body.u32() == 0, kind
            if kind == "write":
                r.body.wcc()
                assert r.body.u32() == len(data)
            elif kind != "getattr":
                r.body.post_attr()
                n, _ = r.body.u32(), r.body.u32()
                assert r.body.opaque() == content[kind[1]:kind[1] + n]
        assert (export / "f").read_bytes()[1 << 20:] == data
        rpc.close()
        still_serving(srv)
    finally:
        status, err = srv.stop()
        assert status == 0, err
        assert "Sanitizer" not in err and "runtime error" not in err, err


@pytest.mark.parametrize("size, segment", [(600000, 1000), (1 << 20, 100)])
def test_large_write_in_small_segments(env, size, segment):
    """A WRITE whose data arrives in many small TCP segments: each takes
    one pipe slot when spliced, so the pipe fills long before the data is
    in. The server grows the pipe, and past its limit takes the rest the
    ordinary way; it must not hang (a Linux client hung on this)."""
    srv, export, _ = env
    rpc = Rpc(srv.port)
    _, root = rpc.mount(srv.export)
    _, fh = rpc.create(root, "segments")
    blob = os.urandom(size)
    payload = call_header(9, NFS, 3, 7, auth_sys()) + \
        Packer().opaque(fh).u64(0).u32(len(blob)).u32(2).opaque(blob).bytes()
    data = record_bytes(payload)
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(data[:4096])
    for off in range(4096, len(data), segment):  # bounded: at most ~10500 sends
        s.sendall(data[off:off + segment])
    s.settimeout(30)
    hdr = s.recv(4)
    assert len(hdr) == 4, "no reply to the segmented WRITE"
    s.close()
    assert (export / "segments").read_bytes() == blob
    still_serving(srv)
    rpc.close()

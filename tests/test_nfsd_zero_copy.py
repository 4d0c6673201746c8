"""test_nfsd_zero_copy.py: READ and large WRITEs make no user-space copy.
strace follows `kvmini nfsd` while nfs-cat reads a file: the file data goes
through splice (file -> pipe -> socket), and no read()-family call on the
server returns file data (the only reads are 8-byte eventfd wake-ups). And
while nfs-cp writes one: the data goes socket -> pipe -> file by splice,
and recv() only sees the RPC headers."""
import hashlib
import os
import re
import shutil
import signal
import subprocess

import pytest

from nfs_client import Nfsd

pytestmark = [
    pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed"),
    pytest.mark.skipif(not shutil.which("nfs-cat"), reason="libnfs-utils is not installed"),
]

SIZE = 8 << 20


def trace_lines(prefix):
    """strace -ff writes one file per thread (PREFIX.TID): no call is split
    across lines by another thread's."""
    lines = []
    for f in prefix.parent.glob(prefix.name + ".*"):
        lines += f.read_text().splitlines()
    return lines
READS = ("read", "pread64", "readv", "preadv", "preadv2")


def test_read_is_spliced_not_copied(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    data = os.urandom(SIZE)
    (export / "data").write_bytes(data)
    srv = Nfsd(export, tmp_path / "state")
    trace = tmp_path / "strace.txt"
    st = subprocess.Popen(["strace", "-ff", "-p", str(srv.proc.pid), "-o", str(trace),
                           "-e", "trace=" + ",".join(READS + ("splice", "sendfile"))],
                          stderr=subprocess.PIPE, text=True)
    try:
        # strace says "Process N attached" once it traces the server.
        for _ in range(50):
            line = st.stderr.readline()
            if not line or "attached" in line:
                break
        assert "attached" in line, line
        p = subprocess.run(["nfs-cat", srv.url("/data")], capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(data).digest()
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
    status, err = srv.stop()
    assert status == 0, err
    lines = trace_lines(trace)
    spliced_in = spliced_out = 0
    for line in lines:
        m = re.search(r"splice\((\d+), (\[\d+\]|NULL), (\d+), NULL, \d+, [^)]*\)\s+= (\d+)", line)
        if m:
            if m.group(2) != "NULL":   # from the file (with an offset) into a pipe
                spliced_in += int(m.group(4))
            else:                      # from the pipe into the socket
                spliced_out += int(m.group(4))
        for call in READS:
            m = re.search(rf"\b{call}\(\d+, .*\)\s+= (\d+)", line)
            if m:
                assert int(m.group(1)) <= 8, "file data was read into user space: " + line
    assert spliced_in >= SIZE, f"only {spliced_in} bytes spliced from the file"
    assert spliced_out >= SIZE, f"only {spliced_out} bytes spliced into the socket"
    print(f"zero-copy READ of {SIZE} bytes: {spliced_in} spliced file->pipe, "
          f"{spliced_out} pipe->socket, no read() of file data")


def test_write_is_spliced_not_copied(tmp_path):
    """WRITE data goes socket -> pipe -> file. A 1 MiB pipe has 256 slots
    and a slow server (strace makes it one) receives small TCP segments,
    one slot each: such a WRITE fills its pipe early and is read the
    rest of its data is read the ordinary way (counted in the server's
    bulk_fallbacks; without strace about 7% of nfs-cp's 1 MiB WRITEs here).
    So: every byte lands, and most of it goes by splice."""
    export = tmp_path / "export"
    export.mkdir()
    export.chmod(0o777)
    src = tmp_path / "src"
    data = os.urandom(SIZE)
    src.write_bytes(data)
    srv = Nfsd(export, tmp_path / "state")
    trace = tmp_path / "strace.txt"
    st = subprocess.Popen(["strace", "-ff", "-p", str(srv.proc.pid), "-o", str(trace),
                           "-e", "trace=recvfrom,recvmsg,read,pread64,readv,splice,pwrite64,write"],
                          stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(50):
            line = st.stderr.readline()
            if not line or "attached" in line:
                break
        assert "attached" in line, line
        p = subprocess.run(["nfs-cp", str(src), srv.url("/up")], capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
    status, err = srv.stop()
    assert status == 0, err
    assert (export / "up").read_bytes() == data
    received = spliced_from_socket = spliced_to_file = 0
    for line in trace_lines(trace):
        m = re.search(r"\b(recvfrom|recvmsg|read|pread64|readv)\(\d+, .*\)\s+= (\d+)", line)
        if m:
            received += int(m.group(2))
        m = re.search(r"splice\((\d+), NULL, (\d+), (NULL|\[\d+\]), \d+, [^)]*\)\s+= (\d+)", line)
        if m:
            if m.group(3) == "NULL":   # socket -> pipe
                spliced_from_socket += int(m.group(4))
            else:                      # pipe -> file, at an offset
                spliced_to_file += int(m.group(4))
    print(f"zero-copy WRITE of {SIZE} bytes: {spliced_from_socket} spliced socket->pipe, "
          f"{spliced_to_file} pipe->file, {received} bytes received into user space")
    assert spliced_to_file >= SIZE // 2, "most WRITE data should go by splice"
    assert spliced_to_file + received >= SIZE

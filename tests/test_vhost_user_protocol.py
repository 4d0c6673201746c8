"""test_vhost_user_protocol.py: a scripted vhost-user frontend sends good
and malformed messages to `kvmini vhost-user blk`: replies are right, each
bad message drops only that connection, and the backend serves the next."""
import os
import signal
import socket
import struct
import subprocess

import pytest

from conftest import kvmini_path

GET_FEATURES, SET_MEM_TABLE, SET_VRING_NUM = 1, 5, 8
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_CONFIG = 15, 16, 17, 24


@pytest.fixture
def backend(tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(b"\0" * (1 << 20))
    sock = str(tmp_path / "vu.sock")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    p = subprocess.Popen([kvmini_path(), "vhost-user", "blk", "--socket", sock, "--disk",
                          f"{disk},queues=2"], stderr=subprocess.PIPE, text=True, env=env)
    for _ in range(500):
        if os.path.exists(sock):
            break
        subprocess.run(["sleep", "0.01"])
    yield sock, p
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    p.communicate(timeout=30)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def send(s, req, payload=b"", fds=(), flags=1):
    msg = struct.pack("<III", req, flags, len(payload)) + payload
    if fds:
        socket.send_fds(s, [msg], list(fds))
    else:
        s.sendall(msg)


def recv(s):
    try:
        hdr = s.recv(12, socket.MSG_WAITALL)
    except ConnectionResetError:
        return None  # the backend dropped us with our data unread
    if len(hdr) < 12:
        return None
    req, flags, size = struct.unpack("<III", hdr)
    return req, flags, s.recv(size, socket.MSG_WAITALL) if size else b""


def test_good_session_and_bad_messages(backend):
    path, proc = backend
    s = connect(path)
    send(s, GET_FEATURES)
    req, flags, p = recv(s)
    feats = struct.unpack("<Q", p)[0]
    assert req == GET_FEATURES and flags & 4
    assert feats & (1 << 32) and feats & (1 << 30)  # VERSION_1, PROTOCOL_FEATURES
    send(s, GET_PROTOCOL_FEATURES)
    pf = struct.unpack("<Q", recv(s)[2])[0]
    assert pf & 1 and pf & (1 << 3) and pf & (1 << 9)  # MQ, REPLY_ACK, CONFIG
    send(s, SET_PROTOCOL_FEATURES, struct.pack("<Q", (1 << 3) | (1 << 9)))
    send(s, GET_QUEUE_NUM)
    assert struct.unpack("<Q", recv(s)[2])[0] == 2
    send(s, GET_CONFIG, struct.pack("<III", 0, 8, 0) + b"\0" * 8)
    _, _, p = recv(s)
    assert struct.unpack("<Q", p[12:20])[0] == (1 << 20) // 512
    # Config read past the end: connection dropped.
    send(s, GET_CONFIG, struct.pack("<III", 56, 8, 0) + b"\0" * 8)
    assert recv(s) is None
    s.close()

    # Overlapping memory regions (two memfds): refused.
    s = connect(path)
    fds = [os.memfd_create("r0"), os.memfd_create("r1")]
    for fd in fds:
        os.ftruncate(fd, 1 << 20)
    regions = struct.pack("<QQQQ", 0, 1 << 20, 0x10000000, 0) + \
        struct.pack("<QQQQ", 1 << 19, 1 << 20, 0x20000000, 0)
    send(s, SET_MEM_TABLE, struct.pack("<II", 2, 0) + regions, fds=fds)
    for fd in fds:
        os.close(fd)
    assert recv(s) is None
    s.close()

    # Fd count not matching the region count: refused.
    s = connect(path)
    send(s, SET_MEM_TABLE, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 4096, 0, 0))
    assert recv(s) is None
    s.close()

    # Queue index out of range, and a bad queue size: refused.
    for payload in (struct.pack("<II", 99, 128), struct.pack("<II", 0, 100)):
        s = connect(path)
        send(s, SET_VRING_NUM, payload)
        assert recv(s) is None
        s.close()

    # REPLY_ACK: a good message with NEED_REPLY gets a zero ack.
    s = connect(path)
    send(s, SET_PROTOCOL_FEATURES, struct.pack("<Q", 1 << 3))
    send(s, SET_VRING_NUM, struct.pack("<II", 1, 128), flags=1 | 8)
    req, _, p = recv(s)
    assert req == SET_VRING_NUM and struct.unpack("<Q", p)[0] == 0
    # A payload bigger than any request: dropped.
    send(s, GET_FEATURES, b"\0" * 5000)
    assert recv(s) is None
    s.close()

    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "overlap" in err and "outside the 60-byte config space" in err
    assert err.count("frontend dropped: protocol error") >= 5  # each bad one, alone

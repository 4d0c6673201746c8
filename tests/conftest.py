"""conftest.py: shared fixtures for kvmini's orchestration tests.

KVMINI names the monitor binary under test (the sanitized build when run
through `make test`); guests are built into build/guests/."""
import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUESTS = ROOT / "build" / "guests"


def kvmini_path():
    return os.environ.get("KVMINI", str(ROOT / "build" / "kvmini"))


@pytest.fixture
def kvmini():
    return kvmini_path()


def have_kvm():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


needs_kvm = pytest.mark.skipif(not have_kvm(), reason="no usable /dev/kvm on this host")


def guest(name, fmt="elf"):
    return str(GUESTS / f"{name}.{fmt}")


def run_guest(args, timeout=60, input=None):
    """Runs `kvmini run ARGS` and returns (status, stdout, stderr)."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    p = subprocess.run([kvmini_path(), "run", *args], capture_output=True, text=True,
                       timeout=timeout, input=input, env=env)
    return p.returncode, p.stdout, p.stderr


def report(stdout):
    """Parses the test guests' "key: value" report lines into a dict
    (repeated keys collect into lists)."""
    out = {}
    for line in stdout.splitlines():
        if ": " not in line:
            continue
        k, v = line.split(": ", 1)
        if k in out:
            if not isinstance(out[k], list):
                out[k] = [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def ctl(sock, *args, timeout=30):
    """`kvmini ctl SOCK ARGS...`: (exit status, reply object or None, stderr)."""
    p = subprocess.run([kvmini_path(), "ctl", str(sock), *args], capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, (json.loads(p.stdout) if p.stdout else None), p.stderr


def api_request(sock, data, timeout=10):
    """Sends raw bytes (or a JSON object) to a control socket; the reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock))
    s.settimeout(timeout)
    s.sendall(data if isinstance(data, bytes) else json.dumps(data).encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    return json.loads(reply) if reply else None


class RunningGuest:
    """`kvmini run ARGS` in the background, talking to the test guest over
    the stdio console: until() reads its output, go_on() sends it a byte."""

    def __init__(self, args, wrap=list):
        """wrap: turns the command line into the one to start (e.g. inside
        a network namespace: netns.Netns.cmd)."""
        self.p = subprocess.Popen(wrap([kvmini_path(), "run", *args]), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""

    def until(self, needle, timeout=60):
        end = time.time() + timeout
        while needle not in self.out and time.time() < end:
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                break
            self.out += chunk
        assert needle in self.out, self.out.decode(errors="replace")

    def go_on(self):
        self.p.stdin.write(b"x")
        self.p.stdin.flush()

    def finish(self, timeout=60):
        """Waits for the end: (status, all stdout as text, stderr as text)."""
        try:
            out, err = self.p.communicate(timeout=timeout)
        finally:
            self.p.kill()
        return self.p.returncode, (self.out + out).decode(errors="replace"), err.decode()

    def kill(self):
        self.p.kill()
        self.p.wait()


class FdReader:
    """Accumulates what a file descriptor (pty, pipe, socket) delivers;
    until() waits for a marker and says whether it came."""

    def __init__(self, fd, timeout=20):
        self.fd, self.buf, self.timeout = fd, b"", timeout

    def until(self, needle, timeout=None):
        end = time.time() + (self.timeout if timeout is None else timeout)
        while needle not in self.buf and time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                break
            if not data:
                break
            self.buf += data
        return needle in self.buf

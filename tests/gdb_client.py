"""gdb_client.py: helpers for the GDB stub tests and benchmark: start
`kvmini run --gdb` on the gdbtarget guest, run real gdb in batch mode, and
a raw GDB remote-protocol client over a socket."""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def frame(payload) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return b"$" + payload + b"#%02x" % checksum(payload)


class Kvmini:
    """A `kvmini run --gdb SPEC` process; stdout and stderr go to files."""

    def __init__(self, kvmini, tmp_path, kernel, args=(), wait=True, spec=None):
        self.tmp = Path(tmp_path)
        self.sock = str(self.tmp / "gdb.sock")
        spec = spec or f"unix:{self.sock}"
        cmd = [kvmini, "run", "--kernel", kernel, "--gdb", spec, *args]
        if wait:
            cmd.append("--gdb-wait")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.out_path = self.tmp / "stdout.txt"
        self.err_path = self.tmp / "stderr.txt"
        self.out_f = open(self.out_path, "w")
        self.err_f = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out_f, stderr=self.err_f, env=env)
        self.address = self._wait_listening()

    def _wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"gdb: listening on (\S+)", self.stderr())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError("kvmini ended before listening: " + self.stderr())
            time.sleep(0.02)
        raise RuntimeError("kvmini did not start listening: " + self.stderr())

    def gdb_target(self):
        """The argument for gdb's `target remote`."""
        kind, rest = self.address.split(":", 1)
        return rest if kind == "unix" else rest

    def connect(self):
        kind, rest = self.address.split(":", 1)
        if kind == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(rest)
        else:
            host, port = rest.rsplit(":", 1)
            s = socket.create_connection((host, int(port)))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(20)
        return s

    def stdout(self):
        return self.out_path.read_text()

    def stderr(self):
        return self.err_path.read_text()

    def wait(self, timeout=60):
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.out_f.close()
        self.err_f.close()


def run_gdb(elf, target, commands, timeout=90):
    """Runs real gdb in batch mode; returns (status, combined output)."""
    args = ["gdb", "-batch", "-nx", "-ex", "set pagination off",
            "-ex", "set confirm off", "-ex", f"target remote {target}"]
    for c in commands:
        args += ["-ex", c]
    args.append(elf)
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


class RspClient:
    """A raw GDB remote-protocol client (ack mode unless told otherwise)."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.ack = True

    def close(self):
        self.s.close()

    def send(self, data: bytes):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("stub closed the connection")
        self.buf += chunk

    def read_byte(self) -> bytes:
        while not self.buf:
            self._fill()
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def read_packet(self) -> str:
        """Skips acks up to the next packet; returns its payload (checked)."""
        while True:
            while b"$" not in self.buf:
                self._fill()
            start = self.buf.index(b"$")
            while b"#" not in self.buf[start:] or len(self.buf) < self.buf.index(b"#", start) + 3:
                self._fill()
            end = self.buf.index(b"#", start)
            payload = self.buf[start + 1:end]
            cs = int(self.buf[end + 1:end + 3], 16)
            self.buf = self.buf[end + 3:]
            assert cs == checksum(payload), "bad checksum from the stub"
            if self.ack:
                try:
                    self.send(b"+")
                except OSError:
                    pass  # the stub may already be gone (after `k`)
            return payload.decode("latin-1")

    def command(self, payload) -> str:
        self.send(frame(payload))
        if self.ack:
            assert self.read_byte() == b"+"
        return self.read_packet()

    def no_ack_mode(self):
        assert self.command("QStartNoAckMode") == "OK"
        self.ack = False

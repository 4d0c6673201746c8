"""test_virtio_balloon.py: `kvmini run --balloon`: a polling test guest
drives virtio-balloon through the in-monitor virtio-pci transport. The
control socket sets a target, the guest inflates that many pages it had
filled, the host's guest-RAM memfd shrinks by them and balloon-stats counts
them released; lifting the target deflates and the pages read as zero."""
import json
import os
import subprocess
import time

from conftest import guest, kvmini_path, needs_kvm, report

pytestmark = needs_kvm

MIB = 1 << 20


def ram_memfd_bytes(pid):
    for fd in os.listdir(f"/proc/{pid}/fd"):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if os.readlink(path).startswith("/memfd:kvmini-guest-ram"):
                return os.stat(path).st_blocks * 512
        except OSError:
            continue
    raise AssertionError("no guest RAM memfd")


def ctl(sock, *args):
    r = subprocess.run([kvmini_path(), "ctl", sock, *args], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, json.loads(r.stdout or r.stderr)


class Guest:
    def __init__(self, tmp_path):
        self.sock = str(tmp_path / "api.sock")
        self.p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("virtio_balloon"),
                                   "--memory", "64M", "--balloon", "--api", f"unix:{self.sock}"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""

    def until(self, needle, timeout=60):
        end = time.time() + timeout
        while needle not in self.out and time.time() < end:
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                break
            self.out += chunk
        assert needle in self.out, self.out.decode()

    def go_on(self):
        self.p.stdin.write(b"x")
        self.p.stdin.flush()


def test_inflate_releases_and_deflate_gives_zeroed_pages(tmp_path):
    g = Guest(tmp_path)
    try:
        g.until(b"ready: waiting")
        rc, reply = ctl(g.sock, "balloon", "target=128M")
        assert rc == 1 and "error" in reply  # more than the guest has
        rc, reply = ctl(g.sock, "balloon", "target=56M")
        assert rc == 0, reply
        g.until(b"sync: touched")
        before = ram_memfd_bytes(g.p.pid)
        g.go_on()
        g.until(b"sync: inflated")
        after = ram_memfd_bytes(g.p.pid)
        rc, stats = ctl(g.sock, "balloon-stats")
        assert rc == 0, stats
        assert stats["actual"] == 2048 and stats["released_bytes"] >= 8 * MIB, stats
        assert before - after >= 8 * MIB, (before, after)
        rc, reply = ctl(g.sock, "balloon", "target=64M")
        assert rc == 0, reply
        g.go_on()
        out, err = g.p.communicate(timeout=60)
    finally:
        g.p.kill()
    rep = report((g.out + out).decode())
    assert g.p.returncode == 0, err
    assert rep["num_pages"] == "2048"
    assert rep["inflate_failures"] == "0" and rep["deflate_failures"] == "0"
    assert rep["deflated_nonzero"] == "0"


def test_no_balloon_without_the_option(tmp_path):
    sock = str(tmp_path / "api.sock")
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("virtio_balloon"),
                          "--memory", "64M", "--api", f"unix:{sock}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert report(out.decode())["error"] == "no usable virtio-balloon device"

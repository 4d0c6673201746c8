"""test_virtio_balloon.py: `kvmini run --balloon`: a polling test guest
drives virtio-balloon through the in-monitor virtio-pci transport. The
control socket sets a target, the guest inflates that many pages it had
filled, the host's guest-RAM memfd shrinks by them and balloon-stats counts
them released; lifting the target deflates and the pages read as zero."""
import os
import subprocess

from conftest import RunningGuest, ctl, guest, kvmini_path, needs_kvm, report

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


def test_inflate_releases_and_deflate_gives_zeroed_pages(tmp_path):
    sock = str(tmp_path / "api.sock")
    g = RunningGuest(["--kernel", guest("virtio_balloon"), "--memory", "64M", "--balloon",
                      "--api", f"unix:{sock}"])
    try:
        g.until(b"ready: waiting")
        rc, reply, _ = ctl(sock, "balloon", "target=128M")
        assert rc == 1 and "error" in reply, reply  # more than the guest has
        rc, reply, _ = ctl(sock, "balloon", "target=56M")
        assert rc == 0, reply
        g.until(b"sync: touched")
        before = ram_memfd_bytes(g.p.pid)
        g.go_on()
        g.until(b"sync: inflated")
        after = ram_memfd_bytes(g.p.pid)
        rc, stats, _ = ctl(sock, "balloon-stats")
        assert rc == 0, stats
        assert stats["actual"] == 2048 and stats["released_bytes"] >= 8 * MIB, stats
        assert before - after >= 8 * MIB, (before, after)
        rc, reply, _ = ctl(sock, "balloon", "target=64M")
        assert rc == 0, reply
        g.go_on()
    finally:
        status, out, err = g.finish()
    rep = report(out)
    assert status == 0, err
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

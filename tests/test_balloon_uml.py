"""test_balloon_uml.py: virtio-balloon with a real Linux driver: User Mode
Linux's virtio_balloon.ko talks to `kvmini vhost-user balloon` over
vhost-user (virtio_uml.device=SOCK:5). Free page reports arrive and give
the guest's freed memory back to the host; inflating and deflating from
the backend's control socket works; what the balloon takes is punched out
of UML's memory file (the frontend's memfd region, mapped in the backend)."""
import glob
import gzip
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import kvmini_path
import uml

UML = "/usr/bin/linux.uml"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
MODULES = sorted(glob.glob("/usr/lib/uml/modules/*/kernel/drivers/virtio/virtio_balloon.ko"))
M = 1 << 20

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mknod /dev/zero c 1 5
insmod /virtio_balloon.ko && echo "init: balloon loaded"
while read cmd arg; do
  case "$cmd" in
    touch) dd if=/dev/zero of=/fill bs=1M count=$arg 2>/dev/null; rm -f /fill; echo "done: touch";;
    mem) grep -E "MemTotal|MemFree" /proc/meminfo; echo "done: mem";;
    quit) break;;
  esac
done
poweroff -f
"""


def have_tools():
    if not (os.path.exists(UML) and MODULES and os.path.exists(BUSYBOX) and shutil.which("cpio")):
        return "needs user-mode-linux (with virtio_balloon.ko), busybox-static and cpio"
    p = subprocess.run([kvmini_path(), "vhost-user", "balloon", "--help"], capture_output=True)
    if p.returncode != 0:
        return "this kvmini has no vhost-user balloon backend"
    return None


pytestmark = pytest.mark.skipif(have_tools() is not None, reason=str(have_tools()))


def make_initrd(tmp_path):
    root = tmp_path / "root"
    for d in ("bin", "proc", "sys", "dev", "tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    shutil.copy(MODULES[-1], root / "virtio_balloon.ko")
    (root / "init").write_text(INIT)
    (root / "init").chmod(0o755)
    files = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc"], cwd=root, input=files,
                          capture_output=True, check=True).stdout
    path = tmp_path / "initrd.gz"
    path.write_bytes(gzip.compress(cpio, 1))
    return path


def api(sock, **req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.settimeout(10)
    s.sendall(json.dumps(req).encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def wait(cond, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    return cond()


class Uml:
    def __init__(self, tmp_path, vu_sock):
        self.out = b""
        self.p = subprocess.Popen(
            [UML, "mem=256M", f"initrd={make_initrd(tmp_path)}", "con=null", "con0=fd:0,fd:1",
             f"virtio_uml.device={vu_sock}:5"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, env=uml.env())
        os.set_blocking(self.p.stdout.fileno(), False)

    def read_until(self, needle, timeout=30):
        end = time.time() + timeout
        while needle not in self.out and time.time() < end:
            try:
                data = os.read(self.p.stdout.fileno(), 65536)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            if not data:
                break
            self.out += data
        return needle in self.out

    def cmd(self, line, done, timeout=60):
        self.out = b""
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        return self.read_until(done, timeout)

    def memory_file_bytes(self):
        """Bytes UML's memory file (on /dev/shm) holds on the host."""
        for fd in os.listdir(f"/proc/{self.p.pid}/fd"):
            try:
                if os.readlink(f"/proc/{self.p.pid}/fd/{fd}").startswith("/dev/shm/"):
                    return os.stat(f"/proc/{self.p.pid}/fd/{fd}").st_blocks * 512
            except OSError:
                pass
        return None

    def close(self):
        try:
            if self.p.poll() is None:
                self.p.stdin.write(b"quit\n")
                self.p.stdin.flush()
                self.p.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.p.poll() is None:
                os.killpg(self.p.pid, 9)
                self.p.wait(10)


def test_balloon_reports_inflates_deflates_and_releases(tmp_path):
    vu, ctl = str(tmp_path / "vu.sock"), str(tmp_path / "api.sock")
    backend = subprocess.Popen([kvmini_path(), "vhost-user", "balloon", "--socket", vu,
                                "--api", f"unix:{ctl}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    uml = None
    try:
        assert wait(lambda: os.path.exists(vu) and os.path.exists(ctl), 10), \
            backend.stderr.read().decode() if backend.poll() is not None else "no sockets"
        uml = Uml(tmp_path, vu)
        assert uml.read_until(b"init: balloon loaded"), uml.out.decode()[-2000:]
        st = api(ctl, cmd="balloon-stats")
        assert st["ok"] and 200 * M <= st["memory"] <= 256 * M + 8 * M, st

        # Free page reporting: memory the guest touched and freed goes back.
        assert uml.cmd("touch 96", b"done: touch")
        peak = uml.memory_file_bytes()
        st = wait(lambda: (lambda s: s if s["reported_bytes"] >= 32 * M else None)(
            api(ctl, cmd="balloon-stats")), 30)
        assert st, api(ctl, cmd="balloon-stats")
        assert st["free_page_reports"] > 0 and st["released_bytes"] >= 32 * M
        after = uml.memory_file_bytes()
        assert peak - after >= 32 * M, (peak, after)

        # Inflate to leave the guest 160 MiB, then deflate.
        memory = st["memory"]
        r = api(ctl, cmd="balloon", target=memory - 64 * M)
        assert r["ok"], r
        st = wait(lambda: (lambda s: s if s["actual"] * 4096 >= 64 * M else None)(
            api(ctl, cmd="balloon-stats")), 60)
        assert st, api(ctl, cmd="balloon-stats")
        assert st["inflated_pages"] >= 64 * M // 4096 and st["release_errors"] == 0
        assert uml.cmd("mem", b"done: mem")
        total_kib = int(uml.out.split(b"MemTotal:")[1].split()[0])
        assert total_kib * 1024 <= memory - 60 * M  # the balloon's pages left MemTotal
        r = api(ctl, cmd="balloon", target=memory)
        assert r["ok"], r
        st = wait(lambda: (lambda s: s if s["actual"] == 0 else None)(
            api(ctl, cmd="balloon-stats")), 60)
        assert st and st["deflated_pages"] >= 64 * M // 4096, api(ctl, cmd="balloon-stats")
        assert st["stats"].get("total-memory", 0) > 0  # the driver's statistics arrived

        # The broker sees a guest with memory to spare and inflates its balloon.
        p = subprocess.run([kvmini_path(), "memd", "--budget", "1G", "--step", "32M",
                            "--high", "40", "--rounds", "1", ctl], capture_output=True,
                           text=True, timeout=60)
        moves = [json.loads(l) for l in p.stdout.splitlines() if '"action"' in l]
        assert p.returncode == 0 and len(moves) == 1, p.stdout + p.stderr
        assert moves[0]["action"] == "balloon" and moves[0]["ok"] is True
        assert moves[0]["balloon_size"] == 32 * M
        assert wait(lambda: api(ctl, cmd="balloon-stats")["actual"] * 4096 >= 32 * M, 60)

        # Bad requests are refused and the backend keeps serving.
        for req, needle in [({"cmd": "balloon", "target": memory + 4096}, "larger than"),
                            ({"cmd": "balloon", "target": 4097}, "multiple of the 4 KiB"),
                            ({"cmd": "balloon"}, "missing size"),
                            ({"cmd": "mem-resize", "size": 0}, "unknown command")]:
            r = api(ctl, **req)
            assert r["ok"] is False and needle in r["error"], (req, r)
        assert api(ctl, cmd="balloon-stats")["ok"]
    finally:
        if uml:
            uml.close()
        backend.terminate()
        try:
            backend.wait(10)
        except subprocess.TimeoutExpired:
            backend.kill()
            backend.wait()

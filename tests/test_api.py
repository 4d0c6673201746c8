"""test_api.py: the control socket (`--api unix:PATH`) and `kvmini ctl`:
status, pause/resume keeping guest time continuous, strict refusal of bad
requests while serving on."""
import os
import subprocess
import time


from conftest import api_request, ctl, guest, kvmini_path, needs_kvm

pytestmark = needs_kvm


class VM:
    def __init__(self, tmp_path, action):
        self.sock = str(tmp_path / "api.sock")
        self.p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                                   "--api", f"unix:{self.sock}", "--cmdline", f"action={action}"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""
        for _ in range(200):
            if os.path.exists(self.sock):
                break
            time.sleep(0.02)

    def read_until(self, needle, count=1, timeout=20):
        end = time.time() + timeout
        while self.out.count(needle) < count and time.time() < end:
            data = os.read(self.p.stdout.fileno(), 4096)
            if not data:
                break
            self.out += data
        return self.out.count(needle) >= count

    def ctl(self, *args):
        return ctl(self.sock, *args, timeout=20)

    def raw(self, data):
        return api_request(self.sock, data)

    def finish(self):
        try:
            out, err = self.p.communicate(timeout=30)
        finally:
            self.p.kill()
        self.out += out
        return self.p.returncode, err.decode()


def test_status_pause_resume_keeps_guest_time(tmp_path):
    vm = VM(tmp_path, "clockloop")
    assert vm.read_until(b"tick:", 5)
    code, reply, _ = vm.ctl("status")
    assert code == 0 and reply["state"] == "running" and reply["cpus"] == 1
    assert reply["memory"] == 512 << 20
    code, reply, _ = vm.ctl("pause")
    assert code == 0 and reply["state"] == "paused"
    seen = vm.out.count(b"tick:")
    time.sleep(1.0)
    assert vm.ctl("status")[1]["state"] == "paused"
    code, reply, _ = vm.ctl("pause")
    assert code == 1 and reply["error"] == "already paused"
    code, reply, _ = vm.ctl("resume")
    assert code == 0 and reply["state"] == "running"
    status, err = vm.finish()
    assert status == 0, err
    ticks = [int(l.split()[1]) for l in vm.out.decode().splitlines() if l.startswith("tick:")]
    assert len(ticks) == 60 and seen < 60
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert all(g > 0 for g in gaps), "guest time went backwards"
    # the 1 s pause must not show up in guest time: no gap near a second
    assert max(gaps) < 500_000_000, f"guest clock jumped {max(gaps)} ns across the pause"


def test_bad_requests_refused_and_server_keeps_serving(tmp_path):
    vm = VM(tmp_path, "echo")
    try:
        assert vm.read_until(b"ready for input")
        bad = [
            (b"{not json\n", "malformed JSON request"),
            (b"[1,2]\n", "not an object"),
            (b"{}\n", "no \"cmd\" string"),
            (b'{"cmd": 7}\n', "no \"cmd\" string"),
            (b'{"cmd": "frobnicate"}\n', "unknown command"),
            (b'{"cmd": "status", "cmd": "quit"}\n', "malformed JSON request"),
            (b'{"cmd": "resume"}\n', "not paused"),
        ]
        for data, needle in bad:
            reply = vm.raw(data)
            assert reply["ok"] is False and needle in reply["error"], (data, reply)
        reply = vm.raw(b"x" * 70000)
        assert reply["ok"] is False and "longer than 64 KiB" in reply["error"]
        code, reply, _ = vm.ctl("help")
        assert code == 0 and {"status", "pause", "resume", "quit"} <= set(reply["commands"])
        code, reply, err = vm.ctl("status", "junk")
        assert code == 2 and "not key=value" in err
        assert vm.ctl("status")[1]["state"] == "running"
        code, reply, _ = vm.ctl("quit")
        assert code == 0
        status, err = vm.finish()
        assert status == 0, err
    finally:
        vm.p.kill()


def test_ctl_without_server(tmp_path):
    p = subprocess.run([kvmini_path(), "ctl", str(tmp_path / "none.sock"), "status"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "cannot connect to control socket" in p.stderr

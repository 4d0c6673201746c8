"""test_memd.py: `kvmini memd`, the memory broker, against fake VMs that
speak the control-socket protocol (so guest pressure is scripted), and
against a real kvmini VM with a hotplug region."""
import json
import os
import socket
import subprocess
import threading
import time


from conftest import guest, kvmini_path, needs_kvm

M = 1 << 20


class FakeVM:
    """A control socket with `memory`, `balloon-stats`, `mem-resize` and
    `balloon`, holding the sizes a real VM would report."""

    def __init__(self, path, requested, avail, total, balloon=False, memory=512 * M,
                 hotplug=True):
        self.path = str(path)
        self.state = dict(requested=requested, avail=avail, total=total, num_pages=0)
        self.balloon = balloon
        self.hotplug = hotplug
        self.memory = memory
        self.log = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def reply(self, req):
        s, cmd = self.state, req.get("cmd")
        self.log.append(req)
        if cmd == "memory" and self.hotplug:
            return dict(ok=True, memory=self.memory, hotplug=True, region_size=4096 * M,
                        block_size=2 * M, requested_size=s["requested"])
        if cmd == "balloon-stats" and self.balloon:
            return dict(ok=True, memory=self.memory, num_pages=s["num_pages"],
                        stats={"available-memory": s["avail"], "total-memory": s["total"]})
        if cmd == "mem-resize":
            s["requested"] = req["size"]
            return dict(ok=True, requested_size=req["size"])
        if cmd == "balloon" and self.balloon:
            s["num_pages"] = (self.memory - req["target"]) // 4096
            return dict(ok=True)
        return dict(ok=False, error="unknown command")

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            with conn:
                f = conn.makefile("rwb")
                for line in f:
                    f.write(json.dumps(self.reply(json.loads(line))).encode() + b"\n")
                    f.flush()

    def close(self):
        self.stop = True
        self.t.join(5)
        self.srv.close()


def memd(*args):
    p = subprocess.run([kvmini_path(), "memd", "--interval", "10", *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines()], p.stderr


def test_memory_moves_from_spare_to_pressured_guest(tmp_path):
    a = FakeVM(tmp_path / "a.sock", requested=1024 * M, avail=1200 * M, total=1536 * M,
               balloon=True)
    b = FakeVM(tmp_path / "b.sock", requested=0, avail=20 * M, total=512 * M, balloon=True)
    try:
        code, lines, err = memd("--budget", "2G", "--step", "256M", "--rounds", "1",
                                a.path, b.path)
        assert code == 0, err
        moves = [l for l in lines if "action" in l]
        assert {(m["vm"], m["action"], m.get("size")) for m in moves} == {
            (a.path, "mem-resize", 768 * M), (b.path, "mem-resize", 256 * M)}
        assert all(m["ok"] for m in moves)
        assert a.state["requested"] == 768 * M and b.state["requested"] == 256 * M
        assert lines[-1]["vms"] == 2 and lines[-1]["moves"] == 2
    finally:
        a.close()
        b.close()


def test_budget_caps_growth_and_balloon_deflates_first(tmp_path):
    a = FakeVM(tmp_path / "a.sock", requested=0, avail=10 * M, total=512 * M, balloon=True)
    a.state["num_pages"] = (64 * M) // 4096  # a 64 MiB balloon
    try:
        code, lines, err = memd("--budget", "512M", "--step", "256M", "--rounds", "2", a.path)
        assert code == 0, err
        moves = [l for l in lines if "action" in l]
        # round 1: the balloon gives its 64 MiB back (448M held -> 512M);
        # round 2: the budget is reached, nothing more
        assert len(moves) == 1 and moves[0]["action"] == "balloon"
        assert moves[0]["balloon_size"] == 0 and a.state["num_pages"] == 0
        assert a.state["requested"] == 0
    finally:
        a.close()


def test_balloon_only_backend_is_brokered(tmp_path):
    # like `kvmini vhost-user balloon --api`: no `memory` command
    a = FakeVM(tmp_path / "a.sock", requested=0, avail=900 * M, total=1024 * M, balloon=True,
               memory=1024 * M, hotplug=False)
    try:
        code, lines, err = memd("--budget", "4G", "--step", "128M", "--rounds", "1", a.path)
        assert code == 0, err
        moves = [l for l in lines if "action" in l]
        assert len(moves) == 1 and moves[0]["action"] == "balloon"
        assert moves[0]["balloon_size"] == 128 * M and a.state["num_pages"] == 128 * M // 4096
        assert lines[-1]["vms"] == 1
    finally:
        a.close()


def test_unreachable_vm_skipped(tmp_path):
    a = FakeVM(tmp_path / "a.sock", requested=512 * M, avail=100 * M, total=1024 * M,
               balloon=True)
    try:
        code, lines, err = memd("--budget", "8G", "--rounds", "1",
                                str(tmp_path / "gone.sock"), a.path)
        assert code == 0
        assert "cannot connect" in err
        assert lines[-1]["vms"] == 1
    finally:
        a.close()


def test_bad_arguments():
    for args in (["x.sock"], ["--budget", "1G"], ["--budget", "1G", "--low", "50", "x"],
                 ["--budget", "junk", "x"]):
        code, _, err = memd(*args)
        assert code == 2 and err, args


@needs_kvm
def test_real_vm_without_stats_is_only_counted(tmp_path):
    sock = str(tmp_path / "vm.sock")
    vm = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                           "--cmdline", "action=echo", "--api", f"unix:{sock}",
                           "--hotplug", "1G"], stdin=subprocess.PIPE,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(250):
            if os.path.exists(sock):
                break
            time.sleep(0.02)
        code, lines, err = memd("--budget", "4G", "--rounds", "1", sock)
        assert code == 0, err
        assert lines[-1] == {"round": 1, "vms": 1, "held": 512 * M, "budget": 4096 * M,
                             "moves": 0}
    finally:
        vm.kill()
        vm.wait(10)

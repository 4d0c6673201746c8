"""test_memory_api.py: the control socket's memory commands on a VM with a
virtio-mem hotplug region (`--hotplug`): `memory` reports the region,
`mem-resize` accepts block multiples inside it and refuses the rest with
clear errors, malformed requests are refused, and the socket keeps serving."""
import os
import subprocess
import time

import pytest

from conftest import api_request, guest, kvmini_path, needs_kvm

pytestmark = needs_kvm
M = 1 << 20
G = 1 << 30


class VM:
    def __init__(self, tmp_path, *extra):
        self.sock = str(tmp_path / "api.sock")
        self.p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                                   "--cmdline", "action=echo", "--api", f"unix:{self.sock}",
                                   *extra], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        for _ in range(250):
            if os.path.exists(self.sock) or self.p.poll() is not None:
                break
            time.sleep(0.02)

    def request(self, data):
        return api_request(self.sock, data)

    def close(self):
        self.p.kill()
        _, err = self.p.communicate(timeout=10)
        return err.decode()


def test_memory_reports_hotplug_region(tmp_path):
    vm = VM(tmp_path, "--memory", "256M", "--hotplug", "2G,block=4M")
    try:
        r = vm.request({"cmd": "memory"})
        assert r["ok"] and r["hotplug"] is True and r["memory"] == 256 * M
        assert r["region_addr"] == 4 * G  # above RAM and the 32-bit hole
        assert r["region_size"] == 2 * G and r["block_size"] == 4 * M
        assert r["requested_size"] == 0 and r["plugged_size"] == 0 and r["resident_size"] == 0
        r = vm.request({"cmd": "mem-resize", "size": "1G"})
        assert r["ok"] and r["requested_size"] == G
        r = vm.request({"cmd": "memory"})
        assert r["requested_size"] == G and r["usable_size"] >= G
        assert "mem-resize" in vm.request({"cmd": "help"})["commands"]
    finally:
        vm.close()


def test_bad_memory_requests_refused_and_server_keeps_serving(tmp_path):
    vm = VM(tmp_path, "--hotplug", "1G")
    try:
        bad = [
            ({"cmd": "mem-resize", "size": "2G"}, "larger than the hotplug region"),
            ({"cmd": "mem-resize", "size": 3 * M}, "not a multiple of the hotplug block size"),
            ({"cmd": "mem-resize", "size": 4096}, "not a multiple of the hotplug block size"),
            ({"cmd": "mem-resize", "size": -1}, "non-negative integer"),
            ({"cmd": "mem-resize", "size": "lots"}, "non-negative integer"),
            ({"cmd": "mem-resize"}, "missing size"),
            ({"cmd": "memory-resize", "size": 0}, "unknown command"),
            ({"cmd": "balloon", "target": "128M"}, "unknown command"),  # no balloon here
            (b'{"cmd": "mem-resize", "size": \n', "malformed JSON"),
            (b'{"cmd": "mem-resize", "size": 1, "size": 2}\n', "malformed JSON"),
        ]
        for req, needle in bad:
            r = vm.request(req)
            assert r["ok"] is False and needle in r["error"], (req, r)
        r = vm.request({"cmd": "memory"})
        assert r["ok"] and r["requested_size"] == 0
        r = vm.request({"cmd": "mem-resize", "size": "1G"})
        assert r["ok"]
        p = subprocess.run([kvmini_path(), "ctl", vm.sock, "mem-resize", "size=5M"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 1 and "not a multiple" in p.stdout
    finally:
        vm.close()


def test_vm_without_hotplug_refuses_resize(tmp_path):
    vm = VM(tmp_path)
    try:
        r = vm.request({"cmd": "memory"})
        assert r["ok"] and r["hotplug"] is False
        r = vm.request({"cmd": "mem-resize", "size": "2M"})
        assert r["ok"] is False and "no hotplug region" in r["error"]
    finally:
        vm.close()


@pytest.mark.parametrize("arg, needle", [
    ("junk", "give the region size"),
    ("1G,block=3M", "power of two"),
    ("1G,block=1K", "power of two"),
    ("1G,color=red", "unknown or bad field"),
    ("1G,block=64M,", "unknown or bad field"),
])
def test_bad_hotplug_option(arg, needle):
    p = subprocess.run([kvmini_path(), "run", "--hotplug", arg], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0 and needle in p.stderr, p.stderr

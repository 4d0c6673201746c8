"""test_cgroup.py: `kvmini run --cgroup PATH` puts the VM in a cgroup v2
with memory.max and cpu.max from --memory and --cpus, and refuses clearly
where cgroup v2 lacks those controllers."""
import os
import re
import subprocess
import time

import pytest

from conftest import guest, kvmini_path, needs_kvm, run_guest

pytestmark = needs_kvm


def cgroup2_root():
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2":
            return left.split()[4]
    return None


def controllers(root):
    try:
        return open(os.path.join(root, "cgroup.controllers")).read().split()
    except OSError:
        return []


ROOT = cgroup2_root()
USABLE = ROOT is not None and {"memory", "cpu"} <= set(controllers(ROOT)) and os.geteuid() == 0


@pytest.mark.skipif(USABLE, reason="cgroup v2 is usable here; the refusal path needs a host without it")
def test_refused_with_reason_without_v2_controllers():
    status, _, err = run_guest(["--kernel", guest("bootcheck"), "--cgroup", "kvmini-test"])
    assert status == 1
    assert re.search(r"--cgroup: (no cgroup v2 file system is mounted|cgroup v2 at \S+ has no "
                     r"memory and cpu controllers)", err), err


@pytest.mark.skipif(not USABLE, reason="cgroup v2 here has no memory and cpu controllers "
                    "(bound to cgroup v1 on this host) or we are not root")
def test_limits_applied_and_removed(tmp_path):
    name = f"kvmini-test-{os.getpid()}"
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"), "--cpus", "2",
                          "--memory", "256M", "--cgroup", name, "--cmdline", "action=echo"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    path = os.path.join(ROOT, name)
    try:
        out = b""
        while b"ready for input" not in out:
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, "guest ended early"
            out += chunk
        assert open(os.path.join(path, "memory.max")).read().strip() == str((256 + 64) << 20)
        assert open(os.path.join(path, "cpu.max")).read().split() == ["200000", "100000"]
        assert str(p.pid) in open(os.path.join(path, "cgroup.procs")).read().split()
        threads = open(os.path.join(path, "cgroup.threads")).read().split()
        assert len(threads) >= 3  # device loop + 2 vCPUs
        p.stdin.write(b"x\n")
        p.stdin.flush()
        assert p.wait(30) == 0
        time.sleep(0.1)
        assert not os.path.exists(path)
    finally:
        p.kill()
        p.communicate()

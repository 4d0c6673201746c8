"""test_seccomp.py: `kvmini run` runs its VM under a seccomp filter by
default, and without one when asked."""
import os
import subprocess

import pytest

from conftest import guest, kvmini_path, needs_kvm

pytestmark = needs_kvm


def seccomp_state(args):
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                          "--cmdline", "action=echo", *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = b""
        while b"ready for input" not in out:
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, "guest ended early"
            out += chunk
        states = {open(f"/proc/{p.pid}/task/{t}/status").read().split("Seccomp:")[1].split()[0]
                  for t in os.listdir(f"/proc/{p.pid}/task")}
        p.stdin.write(b"x\n")
        p.stdin.flush()
        assert p.wait(30) == 0
        return states
    finally:
        p.kill()
        p.communicate()


@pytest.mark.parametrize("args,state", [([], "2"), (["--seccomp", "kill"], "2"),
                                        (["--seccomp", "off"], "0")])
def test_filter_on_every_thread(args, state):
    assert seccomp_state(args) == {state}


def test_bad_mode():
    p = subprocess.run([kvmini_path(), "run", "--seccomp", "maybe"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "--seccomp 'maybe': use on, kill or off" in p.stderr

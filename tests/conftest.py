"""conftest.py: shared fixtures for kvmini's orchestration tests.

KVMINI names the monitor binary under test (the sanitized build when run
through `make test`); guests are built into build/guests/."""
import os
import subprocess
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

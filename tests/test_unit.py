"""test_unit.py: runs each cmocka unit-test binary (build/asan/tests/)."""
import os
import subprocess
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent.parent / "build" / "asan" / "tests"
BINARIES = sorted(p for p in UNIT_DIR.glob("test_*")
                  if p.is_file() and not p.suffix and os.access(p, os.X_OK))


@pytest.mark.parametrize("binary", BINARIES, ids=[b.name for b in BINARIES])
def test_cmocka(binary):
    p = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_unit_binaries_built():
    assert BINARIES, "no unit-test binaries: run `make test`"

"""test_nfs_fuzz.py: runs the libFuzzer target for the NFS server's RPC /
XDR decoding (build/fuzz/rpc_fuzz, `make fuzz`) for 20 seconds from a seed
corpus of well-formed calls; any crash or sanitizer report fails."""
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from nfs_client import MOUNT, NFS, Packer, auth_sys, call_header

ROOT = Path(__file__).resolve().parent.parent
FUZZER = ROOT / "build" / "fuzz" / "rpc_fuzz"


def record(payload):
    return struct.pack(">I", 0x80000000 | len(payload)) + payload


def seeds():
    fh = bytes([1, 8, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1]) + b"\0" * 24
    yield call_header(1, NFS, 3, 0)
    yield record(call_header(2, MOUNT, 3, 1, auth_sys(1000, 1000, (1, 2))) + Packer().opaque("/srv").bytes())
    for proc in range(22):
        args = Packer().opaque(fh).opaque("name").u32(0).u32(0).u32(0).u32(0).u32(0).u32(0).bytes()
        yield record(call_header(10 + proc, NFS, 3, proc, auth_sys()) + args)
    write = Packer().opaque(fh).u64(0).u32(5).u32(2).opaque(b"hello").bytes()
    yield record(call_header(40, NFS, 3, 7, auth_sys())[:20]) + record(write)


@pytest.mark.skipif(not shutil.which("clang"), reason="clang (libFuzzer) is not installed")
def test_rpc_fuzz(tmp_path):
    build = subprocess.run(["make", "-s", "fuzz"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, s in enumerate(seeds()):
        (corpus / f"seed{i}").write_bytes(s)
    p = subprocess.run([str(FUZZER), "-max_total_time=20", "-rss_limit_mb=1024", "-max_len=8192",
                        f"-artifact_prefix={tmp_path}/", str(corpus)],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-4000:]
    assert "Done" in p.stderr

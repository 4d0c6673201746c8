"""test_errors.py: every way `kvmini run` can be refused ends with one clear
line naming the cause and what to do, and a documented status."""
import os
import shutil
import subprocess

import pytest

from conftest import guest, kvmini_path, needs_kvm, run_guest


def one_error_line(err):
    lines = [l for l in err.splitlines() if l.startswith("kvmini: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare to hide /dev/kvm")
def test_no_dev_kvm():
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        f"mount -t tmpfs none /dev && exec {kvmini_path()} run"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "/dev/kvm does not exist: load kvm_intel or kvm_amd" in one_error_line(p.stderr)


@needs_kvm
@pytest.mark.skipif(os.geteuid() != 0 or (os.stat("/dev/kvm").st_mode & 0o006) != 0,
                    reason="needs root and a /dev/kvm closed to other users")
def test_no_permission():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        kvmini_path(), "run"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "no permission to open /dev/kvm: run as root or add your user to the kvm group" \
        in one_error_line(p.stderr)


@needs_kvm
@pytest.mark.parametrize("content", [b"garbage", b"MZ\x90\x00" + b"\x00" * 600, b"\x7fELF"])
def test_kernel_neither_bzimage_nor_elf(tmp_path, content):
    k = tmp_path / "kernel"
    k.write_bytes(content)
    status, _, err = run_guest(["--kernel", str(k)])
    assert status == 1
    line = one_error_line(err)
    assert "neither a bzImage nor an ELF64" in line or "ELF kernel truncated" in line


@needs_kvm
def test_kernel_missing(tmp_path):
    status, _, err = run_guest(["--kernel", str(tmp_path / "nope")])
    assert status == 1
    assert "cannot open kernel" in one_error_line(err)


@needs_kvm
def test_kernel_segment_outside_ram(tmp_path):
    """An ELF whose only segment sits at 1 GiB cannot load into 64 MiB."""
    import struct
    eh = bytearray(64)
    eh[0:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 2, 62, 1, 0x40000000, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x40000000, 0x40000000, 120, 0x1000, 0x1000)
    path = tmp_path / "far.elf"
    path.write_bytes(bytes(eh) + ph)
    status, _, err = run_guest(["--kernel", str(path), "--memory", "64M"])
    assert status == 1
    assert "lies outside guest RAM; give the guest more --memory" in one_error_line(err)


@needs_kvm
def test_memory_that_cannot_be_allocated():
    status, _, err = run_guest(["--kernel", guest("bootcheck"), "--memory", "1T"])
    assert status == 1
    assert "cannot allocate 1048576 MiB of guest memory" in one_error_line(err)


@pytest.mark.parametrize("args,needle", [
    (["--memory", "12X"], "--memory '12X'"),
    (["--memory", "1M"], "--memory '1M'"),
    (["--memory", "65537K"], "--memory '65537K'"),
    (["--cpus", "0"], "--cpus '0'"),
    (["--cpus", "256"], "--cpus '256'"),
    (["--cpus", "two"], "--cpus 'two'"),
    (["stray"], "unexpected argument 'stray'"),
])
def test_usage_errors(args, needle):
    status, _, err = run_guest(args)
    assert status == 2
    assert needle in one_error_line(err)


@needs_kvm
def test_unknown_console():
    status, _, err = run_guest(["--kernel", guest("bootcheck"), "--console", "serial9"])
    assert status == 1
    assert "unknown --console 'serial9'" in one_error_line(err)


@needs_kvm
def test_command_line_too_long():
    status, _, err = run_guest(["--kernel", guest("bootcheck", "bzImage"),
                                "--cmdline", "x" * 3000])
    assert status == 1
    assert "longer than the kernel accepts (2047)" in one_error_line(err)


def test_help_documents_every_option():
    out = subprocess.run([kvmini_path(), "run", "--help"], capture_output=True,
                         text=True).stdout
    for opt in ["--kernel", "--initrd", "--cmdline", "--cpus", "--memory", "--console",
                "--debug-exit", "Exit status"]:
        assert opt in out
    top = subprocess.run([kvmini_path(), "--help"], capture_output=True, text=True)
    assert top.returncode == 0 and "run" in top.stdout
    bad = subprocess.run([kvmini_path(), "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'frobnicate'" in bad.stderr

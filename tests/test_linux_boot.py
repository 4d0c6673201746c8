"""test_linux_boot.py: a stock Debian kernel (linux-image-amd64) with a
busybox initramfs boots under kvmini to /init, which checks that the
clocksource is kvm-clock, nproc equals --cpus and MemTotal matches --memory,
then powers off. Needs hardware virtualization: skips elsewhere."""
import glob
import os
import shutil
import subprocess

import pytest

from conftest import run_guest
from linux_host import hardware_virt_reason

REASON = hardware_virt_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

CPUS = 2
MEMORY_MIB = 512

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "LINUXBOOT clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "LINUXBOOT nproc=$(nproc)"
echo "LINUXBOOT memtotal_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
poweroff -f
"""


def stock_kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    if not kernels:
        pytest.fail("no /boot/vmlinuz-*: `scripts/install-deps.sh test` installs "
                    "linux-image-amd64 on hosts with hardware virtualization")
    return kernels[-1]


def make_initramfs(tmp_path):
    root = tmp_path / "root"
    for d in ("bin", "proc", "sys", "dev"):
        (root / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    (root / "init").write_text(INIT)
    os.chmod(root / "init", 0o755)
    out = tmp_path / "initrd.cpio.gz"
    subprocess.run(f"cd {root} && find . | cpio -o -H newc 2>/dev/null | gzip > {out}",
                   shell=True, check=True)
    return out


def test_stock_linux_boots_to_init(tmp_path):
    initrd = make_initramfs(tmp_path)
    status, out, err = run_guest(["--kernel", stock_kernel(), "--initrd", str(initrd),
                                  "--cpus", str(CPUS), "--memory", f"{MEMORY_MIB}M",
                                  "--cmdline", "console=ttyS0 panic=-1 quiet"],
                                 timeout=120)
    facts = dict(l.split(" ", 1)[1].split("=", 1) for l in out.splitlines()
                 if l.startswith("LINUXBOOT "))
    assert status == 0, err
    assert facts["clocksource"] == "kvm-clock"
    assert int(facts["nproc"]) == CPUS
    memtotal = int(facts["memtotal_kb"]) * 1024
    assert 0.85 * (MEMORY_MIB << 20) <= memtotal <= MEMORY_MIB << 20

"""test_boot.py: `kvmini run` boots the bootcheck test guest (as ELF vmlinux
and as bzImage) and the guest's report matches what was asked for."""
import os

import pytest

from conftest import guest, needs_kvm, report, run_guest

pytestmark = needs_kvm

FORMATS = ["elf", "bzImage"]
HOLE = 0xC0000000


def expected_e820(mem):
    low = min(mem, HOLE)
    table = [(0, 0x9FC00, 1), (0x9FC00, 0x60400, 2), (0x100000, low - 0x100000, 1)]
    if mem > HOLE:
        table.append((1 << 32, mem - HOLE, 1))
    return table


def parse_e820(rep):
    rows = rep["e820"] if isinstance(rep["e820"], list) else [rep["e820"]]
    return [tuple(int(x, 0) for x in r.split()) for r in rows]


@pytest.mark.parametrize("fmt", FORMATS)
def test_cmdline_and_reset(fmt):
    status, out, err = run_guest(["--kernel", guest("bootcheck", fmt),
                                  "--cmdline", "console=ttyS0 quiet kvmini.test=1"])
    rep = report(out)
    assert status == 0, err
    assert rep["cmdline"] == "console=ttyS0 quiet kvmini.test=1"
    assert rep["boot_protocol"] == "0x20f"
    assert "guest reset the machine (i8042)" in err


@pytest.mark.parametrize("mem", ["64M", "256M", "3G", "5G"])
def test_e820_matches_memory(mem):
    size = int(mem[:-1]) << (20 if mem[-1] == "M" else 30)
    status, out, err = run_guest(["--kernel", guest("bootcheck"), "--memory", mem])
    rep = report(out)
    assert status == 0, err
    assert parse_e820(rep) == expected_e820(size)
    assert int(rep["e820.ram"]) == size - 0x60400


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_cpuid_topology_and_madt(cpus):
    status, out, err = run_guest(["--kernel", guest("bootcheck"), "--cpus", str(cpus)])
    rep = report(out)
    assert status == 0, err
    assert rep["cpuid.hypervisor"] == "1"
    assert int(rep["cpuid.leaf1_logical"]) == cpus
    assert int(rep["cpuid.leafb_cpus"]) == cpus
    assert int(rep["acpi.madt_cpus"]) == cpus
    assert int(rep["mptable.cpus"]) == cpus
    assert rep["acpi.checksums"] == "ok"
    assert rep["acpi.pvpanic"] == "QEMU0001"


def test_kvm_leaves_and_kvmclock():
    status, out, err = run_guest(["--kernel", guest("bootcheck")])
    rep = report(out)
    assert status == 0, err
    assert rep["cpuid.kvm_signature"] == "KVMKVMKVM"
    assert int(rep["cpuid.kvm_max_leaf"], 0) >= 0x40000001
    features = int(rep["cpuid.kvm_features"], 0)
    for bit in (0, 3, 24):  # CLOCKSOURCE, CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT
        assert features & (1 << bit), f"KVM feature bit {bit} missing"
    assert rep["kvmclock.advances"] == "ok"
    assert int(rep["kvmclock.delta_ns"]) > 0
    assert rep["kvmclock.tsc_stable"] == "1"
    assert int(rep["kvmclock.wall_sec"]) > 1_600_000_000


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


@pytest.mark.parametrize("fmt", FORMATS)
def test_initrd_placed_high_and_intact(tmp_path, fmt):
    data = os.urandom(3000)
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(data)
    status, out, err = run_guest(["--kernel", guest("bootcheck", fmt), "--memory", "128M",
                                  "--initrd", str(initrd)])
    rep = report(out)
    assert status == 0, err
    assert int(rep["initrd.size"]) == len(data)
    assert int(rep["initrd.fnv1a"], 0) == fnv1a(data)
    addr = int(rep["initrd.addr"], 0)
    assert addr % 4096 == 0 and addr + len(data) <= 128 << 20
    assert addr >= (128 << 20) - 8192  # as high as the header allows


def test_initrd_that_does_not_fit(tmp_path):
    initrd = tmp_path / "big.img"
    with open(initrd, "wb") as f:
        f.truncate(40 << 20)
    status, _, err = run_guest(["--kernel", guest("bootcheck"), "--memory", "32M",
                                "--initrd", str(initrd)])
    assert status == 1
    assert "initrd of 40960 KiB does not fit" in err


@pytest.mark.parametrize("action,status,message", [
    ("poweroff", 0, "guest powered off (ACPI S5)"),
    ("reset", 0, "guest reset the machine (i8042)"),
    ("panic", 4, "guest kernel panicked (pvpanic)"),
    ("triplefault", 6, "triple fault; registers follow"),
])
def test_guest_endings(action, status, message):
    code, out, err = run_guest(["--kernel", guest("bootcheck"), "--cmdline", f"action={action}"])
    assert code == status, err
    assert message in err
    if action == "triplefault":
        assert "RIP=" in err and "CR3=0000000000009000" in err


@pytest.mark.parametrize("value", [0, 1, 21, 100])
def test_debug_exit(value):
    code, _, err = run_guest(["--kernel", guest("bootcheck"), "--debug-exit",
                              "--cmdline", f"action=debugexit exitcode={value}"])
    assert code == ((value << 1) | 1) & 0xFF, err


def test_debug_exit_port_absent_without_option():
    code, _, err = run_guest(["--kernel", guest("bootcheck"),
                              "--cmdline", "action=debugexit exitcode=5"])
    # without --debug-exit the write goes nowhere and the guest falls back to a reset
    assert code == 0, err
    assert "guest reset the machine" in err


def test_demo_guest_is_default():
    status, out, err = run_guest([])
    assert status == 0, err
    assert out.startswith("kvmini test guest: bootcheck")


def test_console_file(tmp_path):
    log = tmp_path / "console.log"
    status, out, err = run_guest(["--kernel", guest("bootcheck"), "--console", f"file:{log}"])
    assert status == 0, err
    assert out == ""
    assert "cpuid.kvm_signature: KVMKVMKVM" in log.read_text()

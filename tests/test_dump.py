"""test_dump.py: crash dumps written by kvmini (--dump-dir): the ELF core in
gdb with the guest's symbols, the kdump-compressed file page by page against
it, crash and makedumpfile on both, VMCOREINFO through fw_cfg, the fault
paths (missing or full directory, double panic, overlapping requests) and
dumps on demand (SIGUSR1)."""
import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ctl, guest, kvmini_path, needs_kvm, run_guest
from dumpfile import PAGE, ElfDump, KdumpDump, prstatus, qemu_state

pytestmark = needs_kvm

PANICKER = guest("panicker")
REGS = {"rbx": 0x1111111111111111, "r12": 0x1212121212121212, "r13": 0x1313131313131313,
        "r14": 0x1414141414141414, "r15": 0x1515151515151515}
MARKER = 0x6b766d696e693031


def dumps(d, ext=None):
    return sorted(p for p in Path(d).iterdir()
                  if not p.name.startswith(".") and (ext is None or p.suffix == ext))


def leftovers(d):
    return [p.name for p in Path(d).iterdir() if p.name.startswith(".")]


def panic_dump(tmp_path, fmt, *extra, memory="64M", cmdline=""):
    status, out, err = run_guest(["--kernel", PANICKER, "--memory", memory, "--dump-dir",
                                  str(tmp_path), "--dump-format", fmt, "--cmdline", cmdline,
                                  *extra])
    assert status == 4, err
    return out, err


def test_elf_dump_opens_in_gdb(tmp_path):
    panic_dump(tmp_path, "elf")
    (core,) = dumps(tmp_path)
    assert core.name.endswith("-panic.elf")
    p = subprocess.run(["gdb", "-batch", "-nx", str(PANICKER), str(core),
                        "-ex", "info registers", "-ex", "bt",
                        "-ex", "p/x guest_marker", "-ex", "p/x guest_table[3]"],
                       capture_output=True, text=True, timeout=60)
    out = p.stdout
    for reg, value in REGS.items():
        assert re.search(rf"^{reg}\s+0x{value:x}\b", out, re.M), out
    assert re.search(r"^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <crash_now\+\d+>", out, re.M), out
    # gdb prints frame #0 when it loads the core, then the whole backtrace
    frames = dict(re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+)", out, re.M))
    assert [frames.get(str(i)) for i in range(5)] == ["crash_now", "stage_two", "stage_one", "guest_main", "startup_64"], out
    assert f"$1 = 0x{MARKER:x}" in out
    assert "$2 = 0x303030303030303" in out
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("compress", ["zstd", "zlib"])
def test_kdump_holds_the_same_pages_as_elf(tmp_path, compress):
    panic_dump(tmp_path, "both", "--dump-compress", compress, cmdline="fill=4")
    (elf_path,) = dumps(tmp_path, ".elf")
    (kd_path,) = dumps(tmp_path, ".kdump")
    elf, kd = ElfDump(elf_path), KdumpDump(kd_path)
    try:
        assert kd.version == 6 and kd.block_size == PAGE and kd.machine == "x86_64"
        assert kd.status == {"zstd": 0x20, "zlib": 0x1}[compress]
        assert kd.nr_cpus == 1 and kd.dump_level == 1
        assert elf.ranges() == [(0, 64 << 20)]
        assert kd.max_mapnr_64 == (64 << 20) // PAGE
        compressed = zero = 0
        for pfn in range(kd.max_mapnr_64):
            assert kd.dumped(pfn)
            page = kd.read_page(pfn)
            assert page == elf.read_phys(pfn * PAGE, PAGE), f"page {pfn} differs"
            flags = kd.desc(pfn)[2]
            compressed += flags != 0
            zero += page == bytes(PAGE)
        assert compressed > 0 and zero > 0
        assert kd.notes == elf.notes
        assert os.path.getsize(kd_path) < 64 << 20
        # zero pages are holes in the ELF file
        assert os.stat(elf_path).st_blocks * 512 < 8 << 20
    finally:
        elf.close()
        kd.close()


def test_ram_above_the_4g_hole(tmp_path):
    panic_dump(tmp_path, "both", memory="5G")
    (elf_path,) = dumps(tmp_path, ".elf")
    (kd_path,) = dumps(tmp_path, ".kdump")
    elf, kd = ElfDump(elf_path), KdumpDump(kd_path)
    assert elf.ranges() == [(0, 3 << 30), (4 << 30, 2 << 30)]
    assert kd.max_mapnr_64 == (6 << 30) // PAGE
    hole = range((3 << 30) // PAGE, (4 << 30) // PAGE)
    assert kd.dumped(hole.start - 1) and not kd.dumped(hole.start)
    assert not kd.dumped(hole.stop - 1) and kd.dumped(hole.stop)
    assert kd.npages == (5 << 30) // PAGE
    for pfn in (0, 0x100, hole.stop, kd.max_mapnr_64 - 1):
        assert kd.read_page(pfn) == elf.read_phys(pfn * PAGE, PAGE)
    status, out, err = dump_info(kd_path)
    assert status == 0, err
    assert "memory ranges: 2" in out and "memory: 5120 MiB" in out
    assert "  0x0000000100000000-0x000000017fffffff 2048 MiB" in out
    elf.close()
    kd.close()


def test_notes_per_vcpu(tmp_path):
    panic_dump(tmp_path, "elf", "--cpus", "2")
    (core,) = dumps(tmp_path)
    elf = ElfDump(core)
    names = [(n, t) for n, t, _ in elf.notes]
    assert names == [("CORE", 1), ("CORE", 1), ("QEMU", 0), ("KVMINI", 0x4b56),
                     ("QEMU", 0), ("KVMINI", 0x4b56), ("KVMINI", 0x4b57)]
    (pid0, regs0), (pid1, _) = [prstatus(d) for n, _, d in elf.notes if n == "CORE"]
    assert (pid0, pid1) == (1, 2)
    q = qemu_state(elf.notes[2][2])
    assert q["version"] == 1 and q["size"] == 0x1b8 and len(elf.notes[2][2]) == 0x1b8
    assert q["rip"] == regs0["rip"] and q["rbx"] == REGS["rbx"]
    assert q["cr3"] == 0x9000 and q["cr0"] & 0x80000001 == 0x80000001
    elf.close()


def test_vmcoreinfo_from_fw_cfg(tmp_path):
    out, _ = panic_dump(tmp_path, "both", cmdline="vmcoreinfo=1")
    assert "fw_cfg.vmcoreinfo: ok" in out
    (elf_path,) = dumps(tmp_path, ".elf")
    (kd_path,) = dumps(tmp_path, ".kdump")
    elf, kd = ElfDump(elf_path), KdumpDump(kd_path)
    assert "OSRELEASE=6.1.0-kvmini-test\n" in elf.vmcoreinfo()
    assert kd.vmcoreinfo() == elf.vmcoreinfo()
    assert kd.phys_base == 0x100000  # NUMBER(phys_base) from the guest's VMCOREINFO
    assert kd.release == "6.1.0-kvmini-test"
    elf.close()
    kd.close()
    for path in (elf_path, kd_path):
        p = subprocess.run(["crash", "--osrelease", str(path)], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0 and p.stdout.strip() == "6.1.0-kvmini-test", p.stdout + p.stderr


@pytest.mark.parametrize("fmt,compress", [("elf", "zstd"), ("kdump", "zstd"), ("kdump", "zlib")])
def test_crash_reads_the_log_with_vmcoreinfo_alone(tmp_path, fmt, compress):
    """`crash --log DUMP` needs no vmlinux: it finds the log buffer through
    VMCOREINFO's symbols and NUMBER(phys_base), and reads it from the dump's
    memory (the guest keeps a Linux 3.5-5.9 style record log for it)."""
    panic_dump(tmp_path, fmt, "--dump-compress", compress, cmdline="vmcoreinfo=1")
    (core,) = dumps(tmp_path)
    p = subprocess.run(["crash", "--log", str(core)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().splitlines() == GUEST_LOG, p.stdout + p.stderr


def test_no_vmcoreinfo_without_the_guest(tmp_path):
    panic_dump(tmp_path, "elf")
    (core,) = dumps(tmp_path)
    elf = ElfDump(core)
    assert elf.vmcoreinfo() is None
    elf.close()


def test_makedumpfile_converts_the_elf_core(tmp_path):
    """Without kernel symbols makedumpfile can still read our ELF core and
    write a kdump-compressed file excluding zero pages (-d 1); its pages must
    be ours."""
    panic_dump(tmp_path, "elf")
    (core,) = dumps(tmp_path)
    out = tmp_path / "md.kdump"
    p = subprocess.run(["makedumpfile", "-c", "-d", "1", str(core), str(out)],
                       capture_output=True, text=True, timeout=120)
    assert "makedumpfile Completed" in p.stdout + p.stderr, p.stdout + p.stderr
    elf, kd = ElfDump(core), KdumpDump(out)
    checked = 0
    for pfn in range(kd.max_mapnr_64):
        page = elf.read_phys(pfn * PAGE, PAGE)
        if kd.dumped(pfn):
            assert kd.read_page(pfn) == page
            checked += 1
        else:
            assert page == bytes(PAGE), f"makedumpfile dropped non-zero page {pfn}"
    assert checked > 0
    elf.close()
    kd.close()


GUEST_LOG = ["[    1.500000] kvmini panicker: putting known values in place",
             "[    3.000000] Kernel panic - not syncing: kvmini test panic"]


@pytest.mark.parametrize("fmt", ["elf", "kdump"])
def test_makedumpfile_dumps_the_log(tmp_path, fmt):
    """makedumpfile --dump-dmesg walks the guest's printk ring buffer through
    VMCOREINFO, its kernel page tables (SYMBOL(init_top_pgt)) and our dump's
    memory. (Debian's makedumpfile reads zlib pages, not zstd.)"""
    panic_dump(tmp_path, fmt, "--dump-compress", "zlib", cmdline="vmcoreinfo=1")
    (core,) = dumps(tmp_path)
    out = tmp_path / "dmesg.txt"
    p = subprocess.run(["makedumpfile", "--dump-dmesg", str(core), str(out)],
                       capture_output=True, text=True, timeout=60)
    assert "makedumpfile Completed" in p.stdout + p.stderr, p.stdout + p.stderr
    assert out.read_text().strip().splitlines() == GUEST_LOG


@pytest.mark.parametrize("fmt", ["elf", "kdump"])
def test_makedumpfile_rewrites_our_dumps(tmp_path, fmt):
    """With VMCOREINFO, makedumpfile converts our ELF core and re-filters our
    kdump file (-d 1): what it writes holds our pages and our notes."""
    panic_dump(tmp_path, fmt, "--dump-compress", "zlib", cmdline="vmcoreinfo=1 fill=1")
    (core,) = dumps(tmp_path)
    out = tmp_path / "md.kdump"
    p = subprocess.run(["makedumpfile", "-c", "-d", "1", str(core), str(out)],
                       capture_output=True, text=True, timeout=120)
    assert "makedumpfile Completed" in p.stdout + p.stderr, p.stdout + p.stderr
    ours = ElfDump(core) if fmt == "elf" else KdumpDump(core)
    md = KdumpDump(out)
    for pfn in range(md.max_mapnr_64):
        page = ours.read_phys(pfn * PAGE, PAGE) if fmt == "elf" else ours.read_page(pfn)
        if md.dumped(pfn):
            assert md.read_page(pfn) == page, f"page {pfn}"
        else:
            assert page == bytes(PAGE), f"makedumpfile dropped non-zero page {pfn}"
    assert [n for n in md.notes if n[0] == "CORE"] == [n for n in ours.notes if n[0] == "CORE"]
    status, info, err = dump_info(out)
    assert status == 0 and info.rstrip().endswith(GUEST_LOG[1]), info + err
    ours.close()
    md.close()


def test_triple_fault_is_dumped(tmp_path):
    status, _, err = run_guest(["--kernel", PANICKER, "--memory", "32M", "--dump-dir",
                                str(tmp_path), "--cmdline", "action=triplefault"])
    assert status == 6, err
    (core,) = dumps(tmp_path)
    assert core.name.endswith("-triple-fault.kdump")


def test_dump_on_selects_events(tmp_path):
    status, _, err = run_guest(["--kernel", PANICKER, "--memory", "32M", "--dump-dir",
                                str(tmp_path), "--dump-on", "triple-fault"])
    assert status == 4, err
    assert dumps(tmp_path) == []
    status, _, err = run_guest(["--kernel", PANICKER, "--dump-dir", str(tmp_path),
                                "--dump-on", "panic,reboot"])
    assert status == 2 and "--dump-on 'panic,reboot'" in err


def test_missing_dump_dir(tmp_path):
    status, _, err = run_guest(["--kernel", PANICKER, "--dump-dir", str(tmp_path / "nope")])
    assert status == 1
    assert f"--dump-dir {tmp_path / 'nope'} is not a writable directory" in err


def test_panic_twice_gives_one_dump(tmp_path):
    """Two pvpanic writes (rep outsb): one complete dump. (KVM may exit once per
    byte, so the second write can also die with the VM; tests/unit/test_dump.c
    reports a second crash to the dumper directly.)"""
    status, _, err = run_guest(["--kernel", PANICKER, "--memory", "32M", "--dump-dir",
                                str(tmp_path), "--dump-format", "both",
                                "--cmdline", "action=panic2"])
    assert status == 4, err
    assert [p.suffix for p in dumps(tmp_path)] == [".elf", ".kdump"]
    assert err.count("dump written") == 2
    assert not leftovers(tmp_path)


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8M", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_full_dump_dir_leaves_no_file(small_tmpfs):
    status, _, err = run_guest(["--kernel", PANICKER, "--memory", "64M", "--dump-dir",
                                str(small_tmpfs), "--dump-format", "elf",
                                "--cmdline", "fill=16"])
    assert status == 4, err
    assert "the dump directory is full" in err and "No space left on device" in err
    assert list(small_tmpfs.iterdir()) == []


def dump_info(path, *args):
    p = subprocess.run([kvmini_path(), "dump-info", *args, str(path)], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("fmt,compress", [("elf", "zstd"), ("kdump", "zstd"), ("kdump", "zlib")])
def test_dump_info(tmp_path, fmt, compress):
    panic_dump(tmp_path, fmt, "--dump-compress", compress, "--cpus", "2",
               cmdline="vmcoreinfo=1")
    (core,) = dumps(tmp_path)
    status, out, err = dump_info(core)
    assert status == 0, err
    if fmt == "elf":
        assert "format: ELF64 core" in out
    else:
        assert "format: kdump-compressed (diskdump header version 6)" in out
        assert f"compression: {compress}" in out
        assert "phys_base: 0x100000" in out
    assert "reason: panic (vCPU 0)" in out
    assert "kernel phys_base: 0x100000 (from VMCOREINFO)" in out
    assert "KASLR offset: 0x2a000000" in out
    assert "  0x0000000000000000-0x0000000003ffffff 64 MiB" in out
    assert "vCPUs: 2" in out and "vCPU 0 (pid 1):" in out and "vCPU 1 (pid 2):" in out
    assert "RBX=1111111111111111" in out and "R15=1515151515151515" in out
    assert "CR3=0000000000009000" in out and "EFER=0000000000000500" in out
    assert "PAT=" in out and "DR7=" in out
    assert "OSRELEASE=6.1.0-kvmini-test" in out
    assert out.rstrip().endswith(f"  {GUEST_LOG[0]}\n  {GUEST_LOG[1]}")
    status, out, _ = dump_info(core, "--lines", "1")
    assert "test panic" in out and "known values" not in out


def test_dump_info_rejects_damaged_files(tmp_path):
    panic_dump(tmp_path, "both", cmdline="vmcoreinfo=1")
    for core in dumps(tmp_path):
        data = core.read_bytes()
        cases = {"truncated": data[:5000], "garbage": os.urandom(9000),
                 "empty": b"", "header-only": data[:64]}
        if core.suffix == ".kdump":
            bad = bytearray(data)
            bad[4096 + 96:4096 + 104] = (1 << 62).to_bytes(8, "little")  # max_mapnr_64
            cases["huge-mapnr"] = bytes(bad)
            bad = bytearray(data)
            bad[4096 + 48:4096 + 56] = (1 << 60).to_bytes(8, "little")  # offset_note
            cases["note-offset"] = bytes(bad)
        else:
            bad = bytearray(data)
            bad[64 + 32:64 + 40] = (1 << 40).to_bytes(8, "little")  # PT_NOTE p_filesz
            cases["note-size"] = bytes(bad)
        for name, content in cases.items():
            path = tmp_path / f"bad-{name}{core.suffix}"
            path.write_bytes(content)
            status, out, err = dump_info(path)
            assert status == 1, f"{name}: {out} {err}"
            assert "kvmini: error:" in err and "Sanitizer" not in err, f"{name}: {err}"


class Monitor:
    """A running `kvmini run` whose stderr is read line by line."""

    def __init__(self, args, log):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.log = log
        self.p = subprocess.Popen([kvmini_path(), "run", *args, "--console", f"file:{log}"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env)
        self.err = ""
        self._buf = b""

    def wait_console(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.exists() and text in self.log.read_text(errors="replace"):
                return
            assert self.p.poll() is None, f"kvmini ended: {self.p.returncode} {self.read_err()}"
            time.sleep(0.02)
        raise AssertionError(f"console never showed {text!r}")

    def wait_err(self, text, count=1, timeout=60):
        deadline = time.monotonic() + timeout
        while self.err.count(text) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"stderr never showed {text!r} x{count}: {self.err}"
            ready, _, _ = select.select([self.p.stderr], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self.p.stderr.fileno(), 65536)
                assert chunk, f"kvmini ended: {self.err}"
                self.err += chunk.decode(errors="replace")

    def read_err(self):
        return self.err

    def memfd(self):
        fd_dir = Path(f"/proc/{self.p.pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                if os.readlink(fd).startswith("/memfd:kvmini-guest-ram"):
                    return str(fd)
            except OSError:
                continue
        raise AssertionError("guest memfd not found")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rest = self.p.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            self.p.kill()
            rest = self.p.communicate()[1]
        self.err += rest.decode(errors="replace")
        return self.p.returncode


def symbol(name):
    out = subprocess.run(["nm", PANICKER], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        addr, _, sym = line.split()
        if sym == name:
            return int(addr, 16)
    raise KeyError(name)


def spin_counter_in(path):
    elf = ElfDump(path)
    try:
        return int.from_bytes(elf.read_phys(symbol("spin_counter"), 8), "little")
    finally:
        elf.close()


def test_sigusr1_dumps_and_the_guest_resumes(tmp_path):
    dumps_dir = tmp_path / "dumps"
    dumps_dir.mkdir()
    m = Monitor(["--kernel", PANICKER, "--memory", "64M", "--dump-dir", str(dumps_dir),
                 "--dump-format", "elf", "--cmdline", "action=spin"], tmp_path / "console")
    try:
        m.wait_console("action: spin")
        m.p.send_signal(signal.SIGUSR1)
        m.wait_err("dump written")
        (first,) = dumps(dumps_dir)
        assert first.name.endswith("-request.elf")
        before = spin_counter_in(first)
        assert before > 0
        # the guest runs again: its counter moves on in live memory
        with open(m.memfd(), "rb") as mem:
            deadline = time.monotonic() + 30
            while True:
                mem.seek(symbol("spin_counter"))
                now = int.from_bytes(mem.read(8), "little")
                if now > before:
                    break
                assert time.monotonic() < deadline, "the guest did not resume after the dump"
                time.sleep(0.01)
        m.p.send_signal(signal.SIGUSR1)
        m.wait_err("dump written", count=2)
        second = [p for p in dumps(dumps_dir) if p != first]
        assert len(second) == 1 and spin_counter_in(second[0]) >= now
        assert m.p.poll() is None
    finally:
        status = m.stop()
    assert status == 10, m.read_err()
    assert not leftovers(dumps_dir)


def test_sigusr1_while_a_dump_is_written_is_refused(tmp_path):
    dumps_dir = tmp_path / "dumps"
    dumps_dir.mkdir()
    m = Monitor(["--kernel", PANICKER, "--memory", "512M", "--dump-dir", str(dumps_dir),
                 "--dump-format", "both", "--dump-compress", "zlib",
                 "--cmdline", "action=spin"], tmp_path / "console")
    try:
        m.wait_console("action: spin")
        # 256 MiB of incompressible pages make the dump take seconds
        block = os.urandom(1 << 20)
        with open(m.memfd(), "r+b") as mem:
            mem.seek(64 << 20)
            for _ in range(256):
                mem.write(block)
        m.p.send_signal(signal.SIGUSR1)
        m.wait_err("dump (request): stopping the guest")
        m.p.send_signal(signal.SIGUSR1)
        m.wait_err("refused")
        m.wait_err("dump written", count=2, timeout=180)
        assert m.err.index("refused") < m.err.index("dump written")
        assert [p.suffix for p in dumps(dumps_dir)] == [".elf", ".kdump"]
        assert m.p.poll() is None
    finally:
        status = m.stop()
    assert status == 10, m.read_err()
    assert m.err.count("dump (request)") == 1
    assert not leftovers(dumps_dir)


@pytest.mark.skipif(os.path.exists("/sys/module/kvm_pvm") or not (
    os.path.exists("/sys/module/kvm_intel") or os.path.exists("/sys/module/kvm_amd")),
    reason="a stock Linux guest needs hardware virtualization (kvm_intel/kvm_amd); "
           "this host has a paravirtual KVM (PVM) that cannot boot one")
def test_crash_opens_a_linux_panic_dump(tmp_path):
    """Boots the host's stock Debian kernel with a busybox initramfs that loads
    pvpanic and qemu_fw_cfg (which hands VMCOREINFO over) and panics through
    sysrq; crash then opens the kdump file with the matching debug vmlinux
    and no extra flags (phys_base and KASLR come from the dump)."""
    release = os.uname().release
    kernel = Path(f"/boot/vmlinuz-{release}")
    vmlinux = Path(f"/usr/lib/debug/boot/vmlinux-{release}")
    if not kernel.exists() or not vmlinux.exists():
        pytest.skip(f"needs /boot/vmlinuz-{release} and its debug vmlinux (linux-image-*-dbg)")
    root = tmp_path / "root"
    for d in ("bin", "proc", "modules"):
        (root / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    modules = []
    for name in ("pvpanic", "pvpanic-mmio", "qemu_fw_cfg"):
        found = sorted(Path(f"/lib/modules/{release}").rglob(f"{name}.ko*"))
        if found:
            shutil.copy(found[0], root / "modules" / found[0].name)
            modules.append(found[0].name)
    (root / "init").write_text(
        "#!/bin/busybox sh\n/bin/busybox mount -t proc p /proc\n" +
        "".join(f"/bin/busybox insmod /modules/{m}\n" for m in modules) +
        "echo c > /proc/sysrq-trigger\n")
    (root / "init").chmod(0o755)
    initrd = tmp_path / "initrd.gz"
    subprocess.run(f"cd {root} && find . | cpio -o -H newc | gzip > {initrd}", shell=True,
                   check=True)
    dumps_dir = tmp_path / "dumps"
    dumps_dir.mkdir()
    status, _, err = run_guest(["--kernel", str(kernel), "--initrd", str(initrd), "--memory",
                                "1G", "--console", f"file:{tmp_path / 'console.log'}",
                                "--cmdline", "console=ttyS0 sysrq_always_enabled",
                                "--dump-dir", str(dumps_dir)], timeout=300)
    assert status == 4, err + (tmp_path / "console.log").read_text()[-3000:]
    (core,) = dumps(dumps_dir)
    assert "OSRELEASE=" + release in (KdumpDump(core).vmcoreinfo() or "")
    p = subprocess.run(["crash", "-s", str(vmlinux), str(core)], input="sys\nbt\nlog\nquit\n",
                       capture_output=True, text=True, timeout=300)
    assert "PANIC:" in p.stdout and "sysrq" in p.stdout.lower(), p.stdout + p.stderr
    status, out, _ = dump_info(core)
    assert status == 0 and "sysrq" in out.lower(), out


def test_dump_command_on_the_control_socket(tmp_path):
    """`kvmini ctl SOCK dump` dumps the running guest, names the files, and
    refuses a second request while the first is written; dump-status tells."""
    dumps_dir = tmp_path / "dumps"
    dumps_dir.mkdir()
    sock = tmp_path / "api.sock"
    m = Monitor(["--kernel", PANICKER, "--memory", "64M", "--dump-dir", str(dumps_dir),
                 "--dump-format", "both", "--api", f"unix:{sock}", "--cmdline", "action=spin"],
                tmp_path / "console")
    try:
        m.wait_console("action: spin")
        rc, reply, _ = ctl(sock, "dump")
        assert rc == 0 and reply["state"] == "writing", reply
        deadline = time.monotonic() + 60
        while True:
            rc, st, _ = ctl(sock, "dump-status")
            if not st["busy"] and "last_ok" in st:
                break
            assert time.monotonic() < deadline, st
            time.sleep(0.05)
        assert st["last_ok"] and st["last_seq"] == reply["seq"], st
        assert sorted(st["last_files"]) == sorted(reply["files"])
        assert sorted(str(p) for p in dumps(dumps_dir)) == sorted(reply["files"])
        assert spin_counter_in(next(p for p in dumps(dumps_dir) if p.suffix == ".elf")) > 0
        assert m.p.poll() is None
    finally:
        status = m.stop()
    assert status == 10, m.read_err()
    assert not leftovers(dumps_dir)


def test_dump_command_needs_a_dump_dir(tmp_path):
    sock = tmp_path / "api.sock"
    m = Monitor(["--kernel", PANICKER, "--memory", "64M", "--api", f"unix:{sock}",
                 "--cmdline", "action=spin"], tmp_path / "console")
    try:
        m.wait_console("action: spin")
        rc, reply, _ = ctl(sock, "dump")
        assert rc == 1 and "unknown command" in reply.get("error", ""), reply
    finally:
        m.stop()

#!/usr/bin/env python3
"""boot_time.py: how fast kvmini starts a guest and how little memory the
monitor itself uses, side by side with QEMU booting the same test guest
(bootcheck.elf carries a PVH note for QEMU's -kernel).

For each monitor, N runs (default 20; QEMU's pc machine, which goes through
SeaBIOS, 5): time from exec to the guest's first serial byte and to the
guest's reset (process exit), medians. QEMU's microvm has no i8042, so an
isa-debug-exit device at port 0x64 stands in for the reset there.
Then each monitor's own memory while the guest waits for input: VmHWM less
the guest RAM touched (RssShmem; both run with memfd-backed guest RAM).

usage: bench/boot_time.py [--runs N] [--kvmini build/kvmini]
Not a test: figures only, no assertions."""
import argparse
import os
import select
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QEMU_COMMON = ["-accel", "kvm", "-nodefaults", "-no-user-config", "-display", "none",
               "-serial", "stdio", "-no-reboot", "-m", "512M"]


def one_boot(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    first = p.stdout.read(1)
    t1 = time.perf_counter()
    p.stdout.read()
    p.wait()
    t2 = time.perf_counter()
    assert first, f"no serial output from {cmd[0]}"
    return (t1 - t0) * 1e3, (t2 - t0) * 1e3


def measure(name, cmd, runs):
    one_boot(cmd)  # warm caches
    rows = [one_boot(cmd) for _ in range(runs)]
    res = {k: statistics.median(r[i] for r in rows)
           for i, k in enumerate(("first_ms", "exit_ms"))}
    print(f"{name:28s} runs {runs:3d}  first byte {res['first_ms']:8.2f} ms  "
          f"exit {res['exit_ms']:8.2f} ms")
    return res


def status_kib(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if v.strip().endswith("kB"):
            fields[k] = int(v.split()[0])
    return fields


def own_memory(name, cmd):
    """VmHWM less guest RAM touched, sampled while the guest waits for input."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf, deadline = b"", time.time() + 30
    while b"ready for input" not in buf and time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            buf += os.read(p.stdout.fileno(), 4096)
    st = status_kib(p.pid)
    p.stdin.write(b"bye\r")
    p.stdin.flush()
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
    own = st["VmHWM"] - st.get("RssShmem", 0)
    print(f"{name:28s} VmHWM {st['VmHWM']:6d} KiB, guest RAM touched {st.get('RssShmem', 0):5d} "
          f"KiB: monitor memory {own:6d} KiB = {own / 1024:.2f} MiB")
    return own


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    ap.add_argument("--kernel", default=str(ROOT / "build" / "guests" / "bootcheck.elf"))
    a = ap.parse_args()
    k = measure("kvmini", [a.kvmini, "run", "--kernel", a.kernel], a.runs)
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        micro = measure("qemu microvm (PVH)", [qemu, "-M", "microvm", *QEMU_COMMON, "-kernel",
                        a.kernel, "-device", "isa-debug-exit,iobase=0x64,iosize=1"], a.runs)
        pc = measure("qemu pc (SeaBIOS, PVH)", [qemu, "-M", "pc", *QEMU_COMMON, "-kernel",
                     a.kernel], min(a.runs, 5))
        for name, q in (("microvm", micro), ("pc", pc)):
            print(f"kvmini vs qemu {name}: first byte {q['first_ms'] / k['first_ms']:.1f}x "
                  f"faster, exit {q['exit_ms'] / k['exit_ms']:.1f}x faster")
    else:
        print("qemu-system-x86_64 not installed: no peer comparison")
    own = own_memory("kvmini", [a.kvmini, "run", "--kernel", a.kernel,
                                "--cmdline", "action=echo"])
    print("  (aim < 4 MiB; Firecracker publishes < 5 MiB)")
    if qemu:
        q = own_memory("qemu microvm (memfd RAM)", [
            qemu, "-M", "microvm,memory-backend=mem", *QEMU_COMMON, "-object",
            "memory-backend-memfd,id=mem,size=512M", "-kernel", a.kernel,
            "-append", "action=echo"])
        print(f"kvmini vs qemu microvm: monitor memory {q / own:.1f}x smaller")


if __name__ == "__main__":
    main()

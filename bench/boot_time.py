#!/usr/bin/env python3
"""boot_time.py: how fast kvmini starts a guest and how little memory the
monitor itself uses.

- time from exec to the bootcheck guest's first serial byte, and to its
  reset (process exit), median and spread of N runs (default 20);
- the monitor's own memory: VmHWM and RSS less the guest RAM it touched
  (RssShmem: guest memory is a memfd), read while the guest waits for input.

usage: bench/boot_time.py [--runs N] [--kvmini build/kvmini]
Not a test: figures only, no assertions."""
import argparse
import os
import select
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_boot(kvmini, kernel):
    t0 = time.perf_counter()
    p = subprocess.Popen([kvmini, "run", "--kernel", kernel], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = p.stdout.read(1)
    t1 = time.perf_counter()
    p.stdout.read()
    p.wait()
    t2 = time.perf_counter()
    assert first and p.returncode == 0, "guest did not boot"
    return (t1 - t0) * 1e3, (t2 - t0) * 1e3


def status_kib(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if v.strip().endswith("kB"):
            fields[k] = int(v.split()[0])
    return fields


def monitor_memory(kvmini, kernel):
    p = subprocess.Popen([kvmini, "run", "--kernel", kernel, "--cmdline", "action=echo"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    deadline = time.time() + 30
    while b"ready for input" not in buf and time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            buf += os.read(p.stdout.fileno(), 4096)
    st = status_kib(p.pid)
    p.stdin.write(b"bye\n")
    p.stdin.flush()
    p.communicate(timeout=30)
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    ap.add_argument("--kernel", default=str(ROOT / "build" / "guests" / "bootcheck.elf"))
    a = ap.parse_args()
    one_boot(a.kvmini, a.kernel)  # warm the page cache
    runs = [one_boot(a.kvmini, a.kernel) for _ in range(a.runs)]
    first = [r[0] for r in runs]
    end = [r[1] for r in runs]
    print(f"runs: {a.runs}")
    print(f"exec -> first serial byte: median {statistics.median(first):.2f} ms "
          f"(min {min(first):.2f}, max {max(first):.2f})")
    print(f"exec -> guest reset (exit): median {statistics.median(end):.2f} ms "
          f"(min {min(end):.2f}, max {max(end):.2f})")
    st = monitor_memory(a.kvmini, a.kernel)
    own = st["VmHWM"] - st.get("RssShmem", 0)
    print(f"VmHWM {st['VmHWM']} KiB, RssAnon {st.get('RssAnon', 0)} KiB, "
          f"RssFile {st.get('RssFile', 0)} KiB, guest RAM touched (RssShmem) "
          f"{st.get('RssShmem', 0)} KiB")
    print(f"monitor memory (VmHWM - guest RAM touched): {own} KiB = {own / 1024:.2f} MiB "
          f"(aim < 4 MiB; Firecracker publishes < 5 MiB: ratio {own / 1024 / 5:.2f})")


if __name__ == "__main__":
    main()

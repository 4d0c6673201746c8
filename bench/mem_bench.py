#!/usr/bin/env python3
"""mem_bench.py: virtio-mem figures for kvmini, side by side with QEMU's
virtio-mem-pci running the same test guest (tests/guests/virtio_mem.c,
booted by QEMU through its PVH note):

  1. time to plug 1 GiB and to unplug it again (guest-measured with
     kvmclock, from the first request to the last answer; unplug after
     the guest wrote one word per 4 KiB page, so the host has 1 GiB to give
     back), and host memory given back per second (memfd blocks released
     over the unplug time);
  2. the monitor's added memory (VmHWM and VmRSS) for a 64 GiB hotplug
     region, against the same VM without one.

Usage: python3 bench/mem_bench.py [--size 1G] [--kvmini build/kvmini]"""
import argparse
import json
import os
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUESTS = ROOT / "build" / "guests"
QEMU_COMMON = ["-M", "pc", "-accel", "kvm", "-nodefaults", "-no-user-config", "-display",
               "none", "-serial", "stdio", "-no-reboot"]
G = 1 << 30


def parse_size(s):
    units = {"K": 10, "M": 20, "G": 30}
    return int(s[:-1]) << units[s[-1]] if s[-1] in units else int(s)


class Guest:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""

    def wait_for(self, needle, timeout=300):
        end = time.time() + timeout
        while needle not in self.out and time.time() < end:
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    break
                self.out += data
        if needle not in self.out:
            raise RuntimeError(f"{needle!r} never came: {self.out.decode()[-400:]}"
                               f"{self.p.stderr.read().decode()[-400:] if self.p.poll() is not None else ''}")

    def send(self, b):
        self.p.stdin.write(b)
        self.p.stdin.flush()

    def report(self):
        return dict(l.split(": ", 1) for l in self.out.decode().splitlines() if ": " in l)

    def finish(self):
        try:
            self.p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.communicate()


def memfd_blocks(pid, name):
    """Bytes held by the process's memfd whose link contains `name`."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if name in os.readlink(f"/proc/{pid}/fd/{fd}"):
                return os.stat(f"/proc/{pid}/fd/{fd}").st_blocks * 512
        except OSError:
            pass
    return None


def ctl(sock, **req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(json.dumps(req).encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        data += s.recv(65536)
    s.close()
    return json.loads(data)


def plug_run(name, cmd, memfd_name, size, sock=None):
    g = Guest(cmd)
    if sock:
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        r = ctl(sock, cmd="mem-resize", size=size)
        assert r["ok"], r
    g.wait_for(b"sync: touched")
    before = memfd_blocks(g.p.pid, memfd_name)
    g.send(b"x")
    g.wait_for(b"done: virtio_mem")
    after = memfd_blocks(g.p.pid, memfd_name)
    g.finish()
    r = g.report()
    plug_us, unplug_us = int(r["bench.plug_us"]), int(r["bench.unplug_us"])
    released = (before or 0) - (after or 0)
    rate = released / (unplug_us / 1e6) / G if unplug_us else 0
    print(f"{name:22s} plug {int(r['bench.plugged']) >> 20} MiB: {plug_us / 1000:8.2f} ms   "
          f"unplug: {unplug_us / 1000:8.2f} ms   memfd {(before or 0) >> 20} -> {(after or 0) >> 20} "
          f"MiB   given back {rate:6.2f} GiB/s   (guest touch {r['bench.touch_ms']} ms)")
    return plug_us, unplug_us, rate


def host_run(size):
    """kvmini's monitor side without a guest (bench/vmem_host_bench.c): the
    monitor has no virtio-pci transport yet, so no guest can drive it."""
    objs = [str(p) for p in (ROOT / "build" / "obj").rglob("*.o") if p.name != "main.o"]
    exe = f"/tmp/kvmini-vmem-host-bench-{os.getpid()}"
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-D_GNU_SOURCE", f"-I{ROOT / 'src'}", "-o", exe,
                    str(ROOT / "bench" / "vmem_host_bench.c"), *objs, "-pthread", "-lutil",
                    "-luring", "-lseccomp", "-lz", "-lzstd", "-llz4", "-ljansson"], check=True)
    try:
        r = json.loads(subprocess.run([exe, str(size >> 20)], capture_output=True, text=True,
                                      check=True).stdout)
    finally:
        os.unlink(exe)
    released = r["before"] - r["after"]
    rate = released / (r["unplug_us"] / 1e6) / G
    print(f"{'kvmini (monitor side)':22s} plug {size >> 20} MiB: {r['plug_us'] / 1000:8.2f} ms   "
          f"unplug: {r['unplug_us'] / 1000:8.2f} ms   memfd {r['before'] >> 20} -> {r['after'] >> 20} "
          f"MiB   given back {rate:6.2f} GiB/s   (host touch {r['touch_ms']} ms)")
    return r["plug_us"], r["unplug_us"], rate


def status_kib(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if v.strip().endswith("kB"):
            out[k] = int(v.split()[0])
    return out


def idle_memory(cmd):
    g = Guest(cmd)
    g.wait_for(b"ready for input", 60)
    st = status_kib(g.p.pid)
    g.send(b"bye\r")
    g.finish()
    return st["VmHWM"], st["VmRSS"]


def overhead(name, base_cmd, region_cmd):
    hwm0, rss0 = idle_memory(base_cmd)
    hwm1, rss1 = idle_memory(region_cmd)
    print(f"{name:22s} 64 GiB hotplug region adds VmHWM {hwm1 - hwm0:6d} KiB, "
          f"VmRSS {rss1 - rss0:6d} KiB  (without: VmHWM {hwm0} KiB)")
    return hwm1 - hwm0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1G")
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    ap.add_argument("--guest", action="store_true",
                    help="drive kvmini with the test guest (needs a virtio-pci transport)")
    a = ap.parse_args()
    size = parse_size(a.size)
    region = max(2 * size, 2 * G)
    guest = str(GUESTS / "virtio_mem.elf")
    boot = str(GUESTS / "bootcheck.elf")
    qemu = shutil.which("qemu-system-x86_64")
    sock = f"/tmp/kvmini-mem-bench-{os.getpid()}.sock"

    print(f"== plug and unplug {size >> 20} MiB (2 MiB blocks, 64 per request)")
    if a.guest:
        k = plug_run("kvmini", [a.kvmini, "run", "--kernel", guest, "--cmdline", "mode=bench",
                                "--hotplug", str(region), "--api", f"unix:{sock}"],
                     "kvmini-hotplug-mem", size, sock)
    else:
        k = host_run(size)
    if qemu:
        q = plug_run("qemu virtio-mem-pci", [
            qemu, *QEMU_COMMON, "-m", f"512M,maxmem={512 * (1 << 20) + region},slots=1",
            "-object", f"memory-backend-memfd,id=hp0,size={region}",
            "-device", f"virtio-mem-pci,id=vm0,memdev=hp0,block-size=2M,requested-size={size}",
            "-kernel", guest, "-append", "mode=bench"], "memory-backend-memfd", size)
        print("  (qemu's times are the guest's, request exits included; kvmini's monitor side only)")
        print(f"kvmini vs qemu: plug {q[0] / max(k[0], 1):.1f}x faster, unplug "
              f"{q[1] / max(k[1], 1):.1f}x faster, memory given back "
              f"{k[2] / q[2] if q[2] else 0:.1f}x the rate")
    else:
        print("qemu-system-x86_64 not installed: no peer comparison")

    print("== monitor memory added by a 64 GiB hotplug region (guest idle)")
    ko = overhead("kvmini", [a.kvmini, "run", "--kernel", boot, "--cmdline", "action=echo"],
                  [a.kvmini, "run", "--kernel", boot, "--cmdline", "action=echo",
                   "--hotplug", "64G"])
    if qemu:
        base = [qemu, *QEMU_COMMON, "-kernel", boot, "-append", "action=echo"]
        qo = overhead("qemu virtio-mem-pci", base + ["-m", "512M"], base + [
            "-m", f"512M,maxmem={512 + 65536}M,slots=1",
            "-object", "memory-backend-memfd,id=hp0,size=64G",
            "-device", "virtio-mem-pci,id=vm0,memdev=hp0,block-size=2M,requested-size=0"])
        print(f"kvmini vs qemu: added memory {qo / max(ko, 1):.1f}x smaller")


if __name__ == "__main__":
    main()

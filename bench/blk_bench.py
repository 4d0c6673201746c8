#!/usr/bin/env python3
"""blk_bench.py: kvmini's vhost-user-blk backend side by side with
qemu-storage-daemon's vhost-user-blk export, each driven by the same User
Mode Linux guest (virtio_uml + virtio_blk) in the same run:

- sequential 1 MiB writes and reads, O_DIRECT, and 4 KiB random reads at
  queue depth 32 (Linux AIO, O_DIRECT), with bench/uml_blkio.c built static
  and put in the initramfs (busybox dd cannot time or queue);
- CPU seconds each backend process spent (utime+stime from /proc).

usage: bench/blk_bench.py [--size-mib 512] [--seconds 5] [--rounds 2]
Not a test: prints figures and ratios only."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import uml  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def start_backend(kind, sock, image):
    if kind == "kvmini":
        cmd = [str(ROOT / "build" / "kvmini"), "vhost-user", "blk", "--socket", sock,
               "--disk", image]
    else:
        cmd = ["qemu-storage-daemon", "--blockdev",
               f"driver=file,node-name=f0,filename={image},cache.direct=off",
               "--export", f"type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,"
               f"addr.path={sock},writable=on"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if os.path.exists(sock):
            return p
        time.sleep(0.02)
    p.kill()
    raise RuntimeError(f"{kind} did not start")


def run_guest(work, sock, script, randread):
    initrd = uml.build_initramfs(work, script, modules=["virtio_blk"],
                                 files={"/bin/blkio": randread})
    rc, out = uml.boot(initrd, [(sock, 2)], mem="512M", timeout=600)
    return out


def measure(kind, work, image, size_mib, seconds, randread):
    sock = os.path.join(work, f"{kind}.sock")
    p = start_backend(kind, sock, image)
    cpu0 = cpu_seconds(p.pid)
    script = f"""
/bin/blkio write /dev/vda {size_mib}
/bin/blkio read /dev/vda {size_mib}
/bin/blkio randread /dev/vda {seconds} 32
"""
    out = run_guest(work, sock, script, randread)
    cpu = cpu_seconds(p.pid) - cpu0
    p.terminate()
    p.wait()
    os.unlink(sock) if os.path.exists(sock) else None
    try:
        return {"write_mbs": float(re.search(r"WRITE_MBS ([\d.]+)", out).group(1)),
                "read_mbs": float(re.search(r"READ_MBS ([\d.]+)", out).group(1)),
                "iops": float(re.search(r"IOPS (\d+)", out).group(1)), "cpu_s": cpu}
    except AttributeError:
        sys.exit(f"{kind}: the guest did not report figures:\n{out[-2000:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    if uml.available() or not shutil.which("qemu-storage-daemon"):
        sys.exit("needs user-mode-linux, busybox-static and qemu-storage-daemon")
    with tempfile.TemporaryDirectory() as work:
        randread = os.path.join(work, "blkio")
        subprocess.run(["gcc", "-O2", "-static", "-o", randread,
                        str(ROOT / "bench" / "uml_blkio.c")], check=True)
        image = os.path.join(work, "disk.img")
        subprocess.run(["truncate", "-s", f"{a.size_mib + 64}M", image], check=True)
        results = {"kvmini": [], "qsd": []}
        for _ in range(a.rounds):
            for kind in ("kvmini", "qsd"):
                results[kind].append(measure(kind, work, image, a.size_mib, a.seconds, randread))
        best = {k: {m: max(r[m] for r in v) if m != "cpu_s" else min(r[m] for r in v)
                    for m in v[0]} for k, v in results.items()}
    print(f"UML guest, dd 1 MiB O_DIRECT x {a.size_mib}, randread 4 KiB QD32 {a.seconds}s; "
          f"best of {a.rounds} rounds")
    print(f"{'':14s}{'write MB/s':>12s}{'read MB/s':>12s}{'4K IOPS':>10s}{'CPU s':>8s}")
    for k in ("kvmini", "qsd"):
        b = best[k]
        print(f"{k:14s}{b['write_mbs']:12.1f}{b['read_mbs']:12.1f}{b['iops']:10.0f}{b['cpu_s']:8.2f}")
    k, q = best["kvmini"], best["qsd"]
    print(f"kvmini/qsd: write {k['write_mbs'] / q['write_mbs']:.2f}x, read "
          f"{k['read_mbs'] / q['read_mbs']:.2f}x, IOPS {k['iops'] / q['iops']:.2f}x, CPU "
          f"{k['cpu_s'] / q['cpu_s']:.2f}x (lower is better)")


if __name__ == "__main__":
    main()

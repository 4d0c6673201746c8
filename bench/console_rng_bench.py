#!/usr/bin/env python3
"""console_rng_bench.py: kvmini's vhost-user console and rng backends
driven by a User Mode Linux guest, each beside the peer UML itself has for
the same job, in the same run and the same guest boot:

- entropy: reading /dev/hwrng with rng_current = virtio_rng.0 (kvmini
  vhost-user rng, rate limit set far above what is reached) and with
  UML's own hw_random driver (reads the host's /dev/random);
- console output: writing to /dev/hvc0 (virtio-console port 0, kvmini
  writing into /dev/null) and to /dev/tty1 (UML's own line driver on an
  inherited /dev/null descriptor).

Needs build/kvmini and build/uml/virtio-rng.ko (scripts/build-uml-virtio-rng.sh).
usage: bench/console_rng_bench.py [--mib 8] [--rounds 2]
Not a test: prints figures and ratios only."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import uml  # noqa: E402

KVMINI = ROOT / "build" / "kvmini"
RNG_MODULE = ROOT / "build" / "uml" / "virtio-rng.ko"

SCRIPT = """
insmod /lib/modules/virtio-rng.ko
for i in $(seq 100); do [ -e /dev/hvc0 ] && break; sleep 0.1; done
for round in $(seq {rounds}); do
  for rng in virtio_rng.0 hw_random; do
    echo $rng > /sys/class/misc/hw_random/rng_current
    echo "START rng $rng $(( {rng_blocks} * 4096 ))"
    dd if=/dev/hwrng of=/dev/null bs=4096 count={rng_blocks} 2>/dev/null
    echo "END"
  done
  for tty in hvc0 tty1; do
    stty -F /dev/$tty raw 2>/dev/null
    echo "START console $tty $(( {con_blocks} * 4096 ))"
    dd if=/dev/zero of=/dev/$tty bs=4096 count={con_blocks} 2>/dev/null
    echo "END"
  done
done
"""


def timed_lines(proc, timeout):
    """(host monotonic time, line) for each line the guest prints: busybox
    date has no sub-second clock, so the host times the markers."""
    end = time.monotonic() + timeout
    for raw in iter(proc.stdout.readline, b""):
        yield time.monotonic(), raw.decode(errors="replace").rstrip("\r\n")
        if time.monotonic() > end:
            proc.kill()
            return


def run(mib, rounds):
    work = Path(tempfile.mkdtemp(prefix="kvmini-conbench-"))
    con_sock, rng_sock = str(work / "con.sock"), str(work / "rng.sock")
    null = os.open("/dev/null", os.O_WRONLY)
    con = subprocess.Popen([str(KVMINI), "vhost-user", "console", "--socket", con_sock,
                            "--console", "file:/dev/null"], stderr=subprocess.DEVNULL)
    rng = subprocess.Popen([str(KVMINI), "vhost-user", "rng", "--socket", rng_sock,
                            "--rate", "4G,burst=64K"], stderr=subprocess.PIPE, text=True)
    try:
        for path in (con_sock, rng_sock):
            for _ in range(500):
                if os.path.exists(path):
                    break
                time.sleep(0.01)
        script = SCRIPT.format(rounds=rounds, rng_blocks=mib * 256 // 4,
                               con_blocks=mib * 256)
        initrd = uml.build_initramfs(work, script, modules=["virtio_console"],
                                     files={"/lib/modules/virtio-rng.ko": RNG_MODULE})
        args = [uml.UML, "mem=256M", f"initrd={initrd}", "con=null", "con0=fd:0,fd:1",
                f"con1=fd:{null}", "quiet", f"virtio_uml.device={con_sock}:3",
                f"virtio_uml.device={rng_sock}:4"]
        guest = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, pass_fds=(null,), env=uml.env())
        lines = list(timed_lines(guest, 600))
        guest.wait(60)
    finally:
        con.terminate()
        rng.terminate()
        con.wait(30)
        _, rng_err = rng.communicate(timeout=30)
        os.close(null)
    results, start = {}, None
    for t, line in lines:
        m = re.match(r"START (\w+) (\S+) (\d+)", line)
        if m:
            start = (t, m.group(1), m.group(2), int(m.group(3)))
        elif line == "END" and start:
            t0, kind, dev, nbytes = start
            results.setdefault((kind, dev), []).append(nbytes / (t - t0) / 1e6)
            start = None
    if not results:
        sys.exit("no results; guest output:\n" + "\n".join(line for _, line in lines))
    return results, rng_err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=8, help="MiB written to each console")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    if uml.available() or not RNG_MODULE.exists() or not KVMINI.exists():
        sys.exit("needs UML, build/kvmini and build/uml/virtio-rng.ko")
    results, rng_err = run(a.mib, a.rounds)
    print(f"UML guest, {a.rounds} rounds; rng {a.mib // 4} MiB from /dev/hwrng, "
          f"console {a.mib} MiB with dd bs=4096 (best of rounds, MB/s)")
    best = {k: max(v) for k, v in results.items()}
    for (kind, dev), v in sorted(best.items()):
        print(f"  {kind:8s} {dev:14s} {v:10.2f}")
    print(f"rng: kvmini virtio-rng / UML hw_random = "
          f"{best[('rng', 'virtio_rng.0')] / best[('rng', 'hw_random')]:.2f}x")
    print(f"console: kvmini hvc0 / UML tty1 = "
          f"{best[('console', 'hvc0')] / best[('console', 'tty1')]:.2f}x")
    print("backend:", rng_err.strip().splitlines()[-1] if rng_err.strip() else "")


if __name__ == "__main__":
    main()

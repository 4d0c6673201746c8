#!/usr/bin/env python3
"""gdb_bench.py: the GDB stub's speed against QEMU's gdbstub, in one run.

Measures, over a raw remote-protocol client in ack mode (QEMU 7.2 has no
QStartNoAckMode; kvmini is also measured in no-ack mode):
  - round-trip time of an `m` packet reading 64 bytes (median of N),
  - single-steps per second (`s` packet, stop reply awaited each time),
and, with real gdb in batch mode, the wall time of `stepi K`.

kvmini runs the gdbtarget test guest (release build, --gdb-wait: stopped at
its 64-bit entry). QEMU (`qemu-system-x86_64 -accel tcg -S`) cannot enter
that ELF in 64-bit mode without firmware help, so it runs stopped at the
reset vector (SeaBIOS, real mode): the memory read is the same packet on
RAM, the steps are BIOS instructions. Usage: bench/gdb_bench.py [-n N]."""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from gdb_client import Kvmini, RspClient, frame  # noqa: E402

ELF = str(ROOT / "build" / "guests" / "gdbtarget.elf")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect(port, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(20)
            return s
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(client, n, steps, addr, no_ack):
    client.command("qSupported")
    client.command("?")
    if no_ack:
        client.no_ack_mode()
    rtts = []
    for _ in range(n):
        t = time.perf_counter()
        reply = client.command(f"m{addr:x},40")
        rtts.append(time.perf_counter() - t)
        assert len(reply) == 128, reply
    t = time.perf_counter()
    for _ in range(steps):
        client.send(frame("s"))
        stop = client.read_packet()
        assert stop.startswith("T05"), stop
    rate = steps / (time.perf_counter() - t)
    return statistics.median(rtts), rate


def gdb_stepi_time(target, k, elf=None):
    """Seconds gdb needs for `stepi k` beyond an otherwise equal session."""
    if not k:
        return 0.0

    def run(count):
        args = ["gdb", "-batch", "-nx", "-ex", "set pagination off",
                "-ex", f"target remote {target}"]
        if count:
            args += ["-ex", f"stepi {count}"]
        args += ["-ex", "detach"] + ([elf] if elf else [])
        t = time.perf_counter()
        subprocess.run(args, capture_output=True, timeout=300, check=True)
        return time.perf_counter() - t
    return run(k) - run(0)


def bench_kvmini(n, steps, k, no_ack):
    kvmini = str(ROOT / "build" / "kvmini")
    with tempfile.TemporaryDirectory() as tmp:
        vm = Kvmini(kvmini, tmp, ELF, args=["--cmdline", "action=spin"],
                    spec="tcp:127.0.0.1:0")
        try:
            c = RspClient(vm.connect())
            rtt, rate = measure(c, n, steps, 0x100200, no_ack)
            c.command("k")
            c.close()
        finally:
            vm.close()
        vm = Kvmini(kvmini, tmp, ELF, args=["--cmdline", "action=spin"],
                    spec="tcp:127.0.0.1:0")
        try:
            gdb_t = gdb_stepi_time(vm.address[len("tcp:"):], k, ELF)
        finally:
            vm.close()
    return rtt, rate, gdb_t


def start_qemu(port):
    return subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-S", "-gdb", f"tcp:127.0.0.1:{port}",
         "-display", "none", "-nodefaults", "-m", "128", "-no-reboot"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_qemu(n, steps, k):
    port = free_port()
    q = start_qemu(port)
    try:
        c = RspClient(connect(port))
        rtt, rate = measure(c, n, steps, 0x100200, False)
        c.close()
    finally:
        q.kill()
        q.wait()
    port = free_port()
    q = start_qemu(port)
    try:
        connect(port).close()  # listening; QEMU accepts the next client
        gdb_t = gdb_stepi_time(f"127.0.0.1:{port}", k)
    finally:
        q.kill()
        q.wait()
    return rtt, rate, gdb_t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="memory reads (median taken)")
    ap.add_argument("--steps", type=int, default=2000, help="single-steps timed")
    ap.add_argument("--gdb-steps", type=int, default=500, help="K for gdb's `stepi K`")
    a = ap.parse_args()
    if not os.path.exists(ELF):
        sys.exit("build first: make")
    n_rtt, n_rate, _ = bench_kvmini(a.n, a.steps, 0, True)
    print(f"kvmini (no-ack): m-packet RTT median {n_rtt * 1e6:.1f} us; "
          f"{n_rate:.0f} single-steps/s")
    k_rtt, k_rate, k_gdb = bench_kvmini(a.n, a.steps, a.gdb_steps, False)
    print(f"kvmini (ack): m-packet RTT median {k_rtt * 1e6:.1f} us over {a.n}; "
          f"{k_rate:.0f} single-steps/s over {a.steps}; "
          f"gdb stepi {a.gdb_steps}: {k_gdb:.2f} s ({a.gdb_steps / k_gdb:.0f} steps/s)")
    try:
        q_rtt, q_rate, q_gdb = bench_qemu(a.n, a.steps, a.gdb_steps)
    except (OSError, subprocess.SubprocessError, EOFError, AssertionError) as e:
        print(f"qemu: not measured ({e})")
        return
    print(f"qemu (tcg, gdbstub, ack): m-packet RTT median {q_rtt * 1e6:.1f} us; "
          f"{q_rate:.0f} single-steps/s; gdb stepi {a.gdb_steps}: {q_gdb:.2f} s "
          f"({a.gdb_steps / q_gdb:.0f} steps/s)")
    print(f"ratio kvmini/qemu: RTT {k_rtt / q_rtt:.2f}x (lower is better), "
          f"steps/s {k_rate / q_rate:.2f}x, gdb stepi {q_gdb / k_gdb:.2f}x (higher is better)")


if __name__ == "__main__":
    main()

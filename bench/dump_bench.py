#!/usr/bin/env python3
"""dump_bench.py: time and size of kvmini's crash dumps for guests with 1 GiB
and 4 GiB of RAM, half of it holding data (pages of the host's own binaries and
text, i.e. realistic code and data), half zero; for each format (ELF core,
kdump with zstd, kdump with zlib), against the disk's raw write speed: dd of
the same size with conv=fsync into the same directory.

The guest is the panicker test guest spinning (action=spin); the bench fills
half of its RAM through the monitor's memfd (/proc/PID/fd), asks for a dump
with SIGUSR1 and reads the time kvmini reports (pause to rename, fsync
included)."""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUEST = ROOT / "build" / "guests" / "panicker.elf"
FORMATS = [("elf", ["--dump-format", "elf"]),
           ("kdump-zstd", ["--dump-format", "kdump", "--dump-compress", "zstd"]),
           ("kdump-zlib", ["--dump-format", "kdump", "--dump-compress", "zlib"])]


def corpus(size=64 << 20):
    """Up to `size` bytes of /usr/lib and /usr/share/doc files, page aligned."""
    chunks, total = [], 0
    for base in ("/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/share/doc"):
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                try:
                    if os.path.islink(path) or os.path.getsize(path) < 4096:
                        continue
                    data = open(path, "rb").read(4 << 20)
                except OSError:
                    continue
                data = data[:len(data) // 4096 * 4096]
                chunks.append(data)
                total += len(data)
                if total >= size:
                    return b"".join(chunks)[:size]
    return b"".join(chunks)


def dd(directory, size):
    path = Path(directory) / "dd.raw"
    subprocess.run(["sync"])
    t = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=4M", f"count={size >> 22}",
                    "conv=fsync", "status=none"], check=True)
    elapsed = time.monotonic() - t
    path.unlink()
    return elapsed


def memfd_of(pid):
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith("/memfd:kvmini-guest-ram"):
                return fd
        except OSError:
            pass
    raise RuntimeError("guest memfd not found")


def wait_for(p, pattern, timeout):
    buf, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(p.stderr.fileno(), 65536).decode(errors="replace")
            if not chunk:
                break
            buf += chunk
            m = re.search(pattern, buf)
            if m:
                return m
    raise RuntimeError(f"no {pattern!r} in: {buf}")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_dump(kvmini, size, fmt_args, directory, data):
    log = Path(directory) / "console.log"
    p = subprocess.Popen([kvmini, "run", "--kernel", str(GUEST), "--memory", str(size),
                          "--dump-dir", directory, *fmt_args, "--cmdline", "action=spin",
                          "--console", f"file:{log}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while "action: spin" not in (log.read_text() if log.exists() else ""):
            if time.monotonic() > deadline:
                raise RuntimeError("guest did not start")
            time.sleep(0.05)
        with open(memfd_of(p.pid), "r+b") as mem:
            mem.seek(32 << 20)
            left = size // 2
            while left:
                n = min(left, len(data))
                mem.write(data[:n])
                left -= n
        subprocess.run(["sync"])
        t, cpu = time.monotonic(), cpu_seconds(p.pid)
        p.send_signal(signal.SIGUSR1)
        m = wait_for(p, r"dump written: (\S+) \(.*in ([0-9.]+) s\)", 600)
        wall = time.monotonic() - t
        cpu = cpu_seconds(p.pid) - cpu  # the guest is paused: this is the dump's CPU
        path = Path(m.group(1))
        st = path.stat()
        result = (float(m.group(2)), wall, cpu, st.st_size, st.st_blocks * 512)
        path.unlink()
        return result
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        log.unlink(missing_ok=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1G,4G")
    ap.add_argument("--dir", default="/var/tmp/kvmini-dump-bench")
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    data = corpus()
    print(f"# half of RAM filled with {len(data) >> 20} MiB of host binaries/docs, repeated")
    print(f"# load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'RAM':>5} {'format':<11} {'dump s':>7} {'wall s':>7} {'cpu s':>6} {'file MiB':>9} "
          f"{'disk MiB':>9} {'dd s':>6} {'dump/dd':>8}")
    for s in args.sizes.split(","):
        size = int(s[:-1]) << {"M": 20, "G": 30}[s[-1]]
        ddt = min(dd(args.dir, size) for _ in range(args.repeat))
        print(f"{s:>5} {'dd (raw)':<11} {ddt:7.2f} {'':>7} {'':>6} {size >> 20:9} "
              f"{size >> 20:9} {ddt:6.2f} {1.0:8.2f}")
        for name, fmt_args in FORMATS:
            runs = [one_dump(args.kvmini, size, fmt_args, args.dir, data)
                    for _ in range(args.repeat)]
            dump_s, wall, cpu, apparent, allocated = min(runs)
            print(f"{s:>5} {name:<11} {dump_s:7.2f} {wall:7.2f} {cpu:6.2f} {apparent >> 20:9} "
                  f"{allocated >> 20:9} {ddt:6.2f} {dump_s / ddt:8.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""nfs_bench.py: kvmini's NFS server side by side with nfs-ganesha (VFS
backend), exporting the same host directory, in one run:

  1. sequential READ throughput of a 1 GiB cached file with nfs-cat (libnfs)
     into /dev/null (the data is checked once more, untimed, by checksum),
  2. 4 KiB random READs per second from several concurrent clients
     (bench/nfs_randread.c, libnfs, one READ in flight per client),
  3. CPU seconds per GiB served by each server process (utime + stime),
  4. evidence that kvmini's READ makes no user-space copy: `strace -c -f` of
     the server while nfs-cat reads a file (splice/sendfile, no read()).

Each server runs in its own network namespace created here (loopback only):
ganesha with an rpcbind of its own, kvmini with its built-in port mapper.
usage: bench/nfs_bench.py [--size-mib 1024] [--clients 4] [--seconds 5]
       [--rounds 3] [--kvmini build/kvmini]
Not a test: figures and ratios only."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import netns  # noqa: E402
GANESHA_CONF = """
NFS_CORE_PARAM {{ NFS_Port = 2049; MNT_Port = 20048; Protocols = 3; Enable_NLM = false;
                  Enable_RQUOTA = false; }}
NFSV4 {{ Graceless = true; }}
EXPORT {{ Export_Id = 1; Path = {export}; Pseudo = {export}; Access_Type = RW;
          Squash = No_Root_Squash; Protocols = 3; Transports = TCP; SecType = sys;
          FSAL {{ Name = VFS; }} }}
LOG {{ Default_Log_Level = WARN; }}
"""


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(ns, port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-ltn", f"sport = :{port}"],
                             capture_output=True, text=True).stdout
        if f":{port}" in out:
            return True
        time.sleep(0.1)
    return False


class Netns(netns.Netns):
    """A test-style namespace (tests/netns.py) that also ends what it started."""

    def __init__(self, tag):
        super().__init__(f"nfsbench-{tag}")
        self.procs = []

    def spawn(self, argv, **kw):
        p = self.popen(argv, **kw)
        self.procs.append(p)
        return p

    def run(self, args, **kw):
        kw.setdefault("check", False)
        return super().run(args, **kw)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.delete()


def start_ganesha(work, export):
    ns = Netns("ganesha")
    conf = work / "ganesha.conf"
    conf.write_text(GANESHA_CONF.format(export=export))
    ns.spawn(["rpcbind", "-f", "-w"])
    wait_port(ns.name, 111)
    server = ns.spawn(["ganesha.nfsd", "-F", "-f", str(conf), "-L", str(work / "ganesha.log"),
                       "-p", str(work / "ganesha.pid"), "-N", "NIV_WARN"])
    if not wait_port(ns.name, 2049):
        ns.close()
        sys.exit("ganesha did not start: see " + str(work / "ganesha.log"))
    time.sleep(1)  # MOUNT registers after NFS
    return ns, server


def start_kvmini(kvmini, work, export):
    ns = Netns("kvmini")
    server = ns.spawn([kvmini, "nfsd", "--export", str(export), "--no-root-squash",
                       "--state-dir", str(work / "kvmini-state")],
                      stdout=subprocess.DEVNULL, stderr=open(work / "kvmini.log", "w"))
    if not wait_port(ns.name, 2049):
        ns.close()
        sys.exit("kvmini nfsd did not start: see " + str(work / "kvmini.log"))
    return ns, server


def seq_read(ns, server, url, rounds, size, digest):
    """nfs-cat into /dev/null (a Python pipe would be the bottleneck), best of
    `rounds`; one more, untimed run checks the bytes against `digest`."""
    best, cpu = 0.0, []
    for _ in range(rounds):
        c0, t0 = cpu_seconds(server.pid), time.perf_counter()
        r = ns.run(["nfs-cat", url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if r.returncode:
            sys.exit(f"nfs-cat {url}: {r.stderr.decode()}")
        cpu.append((cpu_seconds(server.pid) - c0) / (size / 2**30))
        best = max(best, size / dt / 1e6)
    check = ns.run(["sh", "-c", f"nfs-cat '{url}' | sha256sum"], capture_output=True, text=True)
    if check.stdout.split()[:1] != [digest]:
        sys.exit(f"nfs-cat {url}: the data read back differs from the file")
    return best, min(cpu)


def rand_read(ns, server, client, url, clients, seconds):
    c0 = cpu_seconds(server.pid)
    procs = [ns.spawn([str(client), url, str(seconds), str(i + 1)], stdout=subprocess.PIPE)
             for i in range(clients)]
    ops = 0
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 60)
        if p.returncode:
            sys.exit(f"nfs_randread failed against {url}")
        ops += int(out)
    gib = ops * 4096 / 2**30
    return ops / seconds, (cpu_seconds(server.pid) - c0) / gib if gib else 0.0


def copy_evidence(ns, server, url):
    """strace -c of the server while nfs-cat reads: syscall counts."""
    trace = subprocess.Popen(["strace", "-c", "-f", "-e", "trace=read,readv,pread64,preadv,splice,"
                              "sendfile,sendmsg,writev,write,vmsplice", "-p", str(server.pid)],
                             stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    ns.run(["nfs-cat", url], stdout=subprocess.DEVNULL)
    trace.send_signal(signal.SIGINT)
    _, err = trace.communicate(timeout=30)
    return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    a = ap.parse_args()
    for tool in ("ganesha.nfsd", "rpcbind", "nfs-cat", "strace"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind "
                     "libnfs-utils libnfs-dev strace")
    work = Path(tempfile.mkdtemp(prefix="kvmini-nfsbench-", dir="/var/tmp"))
    export = work / "export"
    export.mkdir()
    client = work / "nfs_randread"
    subprocess.run(["gcc", "-O2", "-o", str(client), str(ROOT / "bench" / "nfs_randread.c"),
                    "-lnfs"], check=True)
    size = a.size_mib << 20
    subprocess.run(["dd", "if=/dev/urandom", f"of={export / 'big.bin'}", "bs=1M",
                    f"count={a.size_mib}", "status=none"], check=True)
    digest = subprocess.run(["sha256sum", str(export / "big.bin")], capture_output=True,
                            text=True, check=True).stdout.split()[0]  # also caches it
    url = f"nfs://127.0.0.1{export}/big.bin?version=3"
    print(f"1 GiB-class file: {a.size_mib} MiB, page-cached; {a.clients} random-read clients "
          f"x {a.seconds}s; best of {a.rounds} sequential rounds")
    results = {}
    try:
        for name, start in (("ganesha", lambda: start_ganesha(work, export)),
                            ("kvmini", lambda: start_kvmini(a.kvmini, work, export))):
            ns, server = start()
            try:
                mbps, cpu_seq = seq_read(ns, server, url, a.rounds, size, digest)
                iops, cpu_rand = rand_read(ns, server, client, url, a.clients, a.seconds)
                evidence = copy_evidence(ns, server, url) if name == "kvmini" else None
            finally:
                ns.close()
            results[name] = (mbps, cpu_seq, iops, cpu_rand)
            print(f"{name:8s} seq READ {mbps:8.1f} MB/s  CPU {cpu_seq:6.2f} s/GiB   "
                  f"4K random READ {iops:8.0f} ops/s  CPU {cpu_rand:6.1f} s/GiB")
            if evidence:
                print("kvmini server syscalls while nfs-cat read the file (strace -c -f):")
                print(evidence.rstrip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    k, g = results["kvmini"], results["ganesha"]
    print(f"kvmini/ganesha: seq READ {k[0] / g[0]:.2f}x, CPU per GiB {k[1] / g[1]:.2f}x "
          f"(lower is better), 4K READ ops/s {k[2] / g[2]:.2f}x, CPU per GiB {k[3] / g[3]:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""nlm_bench.py: how long a Linux client's F_SETLKW waits after the lock
holder unlocks, with kvmini nfsd and with nfs-ganesha (VFS FSAL) as the
server, in the same run. Two User Mode Linux clients on a bridge in a
private network namespace (10.0.2.15 and .16, the server on 10.0.2.1).

  host:  a host process holds the lock on the exported file; guest B waits
         (blocked on the server); the host process unlocks
  guests: guest A holds the lock; guest B waits; guest A unlocks

Delay, on the host's clock: when guest B's "F_SETLKW returned" line came
out of its console minus when the host process unlocked, or minus when
guest A's "about to unlock" line came out of its console (the guests'
own clocks are several ms apart, so they are not compared).
Usage: bench/nlm_bench.py [--rounds N] [--kvmini PATH]"""
import argparse
import fcntl
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import nfs_guest  # noqa: E402
import uml_net  # noqa: E402

HOLDER = """
while read cmd; do
  case $cmd in
    hold) locktool holdfile /mnt/bench.lock 0 0 /tmp/release & HOLDER=$! ;;
    release) touch /tmp/release; wait $HOLDER; rm -f /tmp/release ;;
    quit) break ;;
  esac
done
echo GUEST_DONE
"""
WAITER = """
while read cmd; do
  case $cmd in
    wait) locktool wait /mnt/bench.lock 0 0 0 ;;
    quit) break ;;
  esac
done
echo GUEST_DONE
"""

GANESHA_CONF = """
NFS_CORE_PARAM {{ Protocols = 3; Enable_NLM = true; Enable_RQUOTA = false;
                 Bind_addr = {addr}; }}
NFSV4 {{ Graceless = true; }}
EXPORT {{ Export_Id = 1; Path = {export}; Pseudo = {export}; Protocols = 3;
         Transports = TCP; Access_Type = RW; Squash = No_Root_Squash;
         FSAL {{ Name = VFS; }} }}
LOG {{ Default_Log_Level = EVENT; }}
"""

# Ganesha needs the system's rpcbind and rpc.statd: in the namespace, with a
# private /run so the host's rpcbind socket is left alone.
GANESHA_RUN = """
mount -t tmpfs none /run
mkdir -p /run/rpcbind /run/ganesha {state}/sm {state}/sm.bak
rpcbind -w
rpc.statd -L -P {state}
exec ganesha.nfsd -F -f {conf} -L {log} -p /run/ganesha/ganesha.pid
"""


class Kvmini:
    name = "kvmini nfsd"

    def __init__(self, ns, export, work, binary):
        os.environ["KVMINI"] = binary
        self.srv = nfs_guest.Nfsd(ns, export, work / "state")

    def stop(self):
        self.srv.stop()


class Ganesha:
    name = "nfs-ganesha"

    def __init__(self, ns, export, work):
        conf = work / "ganesha.conf"
        conf.write_text(GANESHA_CONF.format(addr=uml_net.HOST_ADDR, export=export))
        script = GANESHA_RUN.format(state=work / "statd", conf=conf, log=work / "ganesha.log")
        self.ns = ns
        self.proc = ns.popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            r = ns.run(["rpcinfo", "-T", "tcp", uml_net.HOST_ADDR, "100021", "4"],
                       capture_output=True, check=False)
            if r.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("ganesha did not register NLM")

    def stop(self):
        # Everything in the namespace is ours: ganesha, rpcbind, rpc.statd.
        pids = subprocess.run(["ip", "netns", "pids", self.ns.name], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 15)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)


def measure(server_cls, rounds, work, *args):
    work.mkdir(parents=True)
    export = work / "export"
    export.mkdir()
    path = export / "bench.lock"
    path.write_bytes(b"\0" * 4096)
    ns = uml_net.NetNs("nlmbench", taps=2)
    guests, srv = [], None
    try:
        srv = server_cls(ns, export, work, *args)
        ports = server_cls is Kvmini
        a = nfs_guest.Guest(ns, work / "a", export, HOLDER, tap=ns.taps[0], addr="10.0.2.15",
                            hostname="guest-a", ports=ports)
        guests.append(a)
        b = nfs_guest.Guest(ns, work / "b", export, WAITER, tap=ns.taps[1], addr="10.0.2.16",
                            hostname="guest-b", ports=ports)
        guests.append(b)
        a.wait_for("NFS_MOUNTED", 120)
        b.wait_for("NFS_MOUNTED", 120)
        host, between = [], []
        for i in range(1, rounds + 1):
            with open(path, "r+b") as f:
                fcntl.lockf(f, fcntl.LOCK_EX, 0, 0)
                b.type("wait")
                b.wait_for("WAITING", 60, nth=2 * i - 1)
                time.sleep(0.3)
                t = time.monotonic()
                fcntl.lockf(f, fcntl.LOCK_UN, 0, 0)
            host.append(b.wait_timed("GOT_AT", 60, nth=2 * i - 1)[0] - t)
            b.wait_for("RELEASED", 60, nth=2 * i - 1)
            a.type("hold")
            a.wait_for("LOCKED", 60, nth=i)
            b.type("wait")
            b.wait_for("WAITING", 60, nth=2 * i)
            time.sleep(0.3)
            a.type("release")
            got = b.wait_timed("GOT_AT", 60, nth=2 * i)[0]
            between.append(got - a.wait_timed("UNLOCK_AT", 60, nth=i)[0])
            b.wait_for("RELEASED", 60, nth=2 * i)
        for g in guests:
            g.type("quit")
            g.finish(60)
        return host, between
    except Exception:
        for g in guests:
            print("---- guest console:\n" + g.text()[-3000:], file=sys.stderr)
        raise
    finally:
        for g in guests:
            g.kill()
        if srv:
            srv.stop()
        ns.close()


def summary(secs):
    return f"median {statistics.median(secs) * 1000:8.2f} ms  max {max(secs) * 1000:8.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--kvmini", default=str(ROOT / "build" / "kvmini"))
    args = ap.parse_args()
    why = nfs_guest.available()
    if why:
        sys.exit(f"nlm_bench: {why}")
    work = Path(tempfile.mkdtemp(prefix="nlm-bench-"))
    try:
        results = {"kvmini": measure(Kvmini, args.rounds, work / "kvmini", args.kvmini)}
        if shutil.which("ganesha.nfsd"):
            results["ganesha"] = measure(Ganesha, args.rounds, work / "ganesha")
        else:
            print("nfs-ganesha is not installed: no peer to compare with")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"unlock -> F_SETLKW returns in the waiting guest, {args.rounds} rounds each")
    for label, idx in (("host process unlocks", 0), ("other guest unlocks", 1)):
        for name, res in results.items():
            print(f"  {label:22s} {name:8s} {summary(res[idx])}")
        if "ganesha" in results:
            ratio = statistics.median(results["ganesha"][idx]) / statistics.median(
                results["kvmini"][idx])
            print(f"  {label:22s} ganesha/kvmini median ratio: {ratio:.1f}")


if __name__ == "__main__":
    main()

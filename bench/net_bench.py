#!/usr/bin/env python3
"""net_bench.py: TCP throughput between a User Mode Linux guest and the host,
over kvmini's vhost-user-net backend (virtio_uml + virtio_net, TAP with
offloads; and with offload=off) side by side with UML's own TAP transport
(`eth0=tuntap,TAP`), in the same run, in a network namespace made for it:

- guest -> host and host -> guest, MIB MiB each way per round, with
  tests/uml/netio.c at both ends (static C, `fast`: no checksum);
- CPU seconds the kvmini backend process spent per GiB moved (utime+stime
  from /proc, both directions together).

usage: bench/net_bench.py [--mib 1024] [--rounds 2]
Not a test: prints figures and ratios only (best round of each)."""
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
import netns  # noqa: E402
import uml  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
HOST, GUEST = "10.77.0.1", "10.77.0.2"
MODULES = ["failover", "net_failover", "virtio_net"]


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def start_backend(ns, sock, offload):
    p = ns.popen([str(ROOT / "build" / "kvmini"), "vhost-user", "net", "--socket", sock,
                  "--tap", f"kvtap0,offload={offload}"], stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    for _ in range(300):
        if os.path.exists(sock):
            return p
        time.sleep(0.02)
    p.kill()
    raise RuntimeError("kvmini vhost-user net did not start")


def one_round(work, netio, kind, mib):
    """Boots one guest that sends MIB MiB to the host then receives as many."""
    with netns.Netns("netbench", tap="kvtap0", host=f"{HOST}/24") as ns:
        sock = os.path.join(work, "net.sock")
        backend = start_backend(ns, sock, "off" if kind == "kvmini-nooffload" else "on") \
            if kind.startswith("kvmini") else None
        host = ns.popen(["sh", "-c", f"timeout 600 {netio} recv 5001 fast && "
                         f"timeout 600 {netio} send {GUEST} 5002 {mib} fast"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        script = f"""
ip link set eth0 up
ip addr add {GUEST}/24 dev eth0
ping -c 1 -W 5 {HOST} >/dev/null
timeout 300 /bin/netio send {HOST} 5001 {mib} fast
timeout 300 /bin/netio recv 5002 fast
"""
        initrd = uml.build_initramfs(work, script, modules=MODULES if backend else (),
                                     files={"/bin/netio": netio})
        args = [uml.UML, "mem=512M", f"initrd={initrd}", "con=null", "con0=fd:0,fd:1",
                "quiet"]
        args += [f"virtio_uml.device={sock}:1"] if backend else ["eth0=tuntap,kvtap0"]
        cpu0 = cpu_seconds(backend.pid) if backend else 0
        out = subprocess.run(ns.cmd(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=900, env=uml.env()).stdout.decode()
        cpu = cpu_seconds(backend.pid) - cpu0 if backend else None
        host_out = host.communicate(timeout=120)[0].decode()
        if backend:
            backend.terminate()
            backend.wait()
    sent = re.search(r"SENT (\d+) \S+ ([\d.]+)", out)
    recv = re.search(r"RECV (\d+) \S+ ([\d.]+)", out)
    if not sent or not recv or int(recv.group(1)) != mib << 20:
        sys.exit(f"{kind}: the guest did not report figures:\n{out[-2000:]}\nhost:\n{host_out}")
    mbs = lambda m: int(m.group(1)) / float(m.group(2)) / 1e6  # noqa: E731
    return {"g2h": mbs(sent), "h2g": mbs(recv),
            "cpu_per_gib": cpu / (2 * mib / 1024) if cpu is not None else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    reason = uml.available() or netns.available()
    if reason:
        sys.exit(f"net_bench: {reason}")
    kinds = ["kvmini", "kvmini-nooffload", "uml-tuntap"]
    best = {}
    with tempfile.TemporaryDirectory() as work:
        netio = os.path.join(work, "netio")
        subprocess.run(["gcc", "-static", "-O2", "-o", netio,
                        str(ROOT / "tests" / "uml" / "netio.c")], check=True)
        for r in range(a.rounds):
            for kind in kinds:
                res = one_round(work, netio, kind, a.mib)
                print(f"round {r + 1} {kind:17s} guest->host {res['g2h']:8.1f} MB/s  "
                      f"host->guest {res['h2g']:8.1f} MB/s"
                      + (f"  backend CPU {res['cpu_per_gib']:.3f} s/GiB"
                         if res["cpu_per_gib"] is not None else ""), flush=True)
                b = best.setdefault(kind, dict(res))
                b["g2h"] = max(b["g2h"], res["g2h"])
                b["h2g"] = max(b["h2g"], res["h2g"])
                if res["cpu_per_gib"] is not None:
                    b["cpu_per_gib"] = min(b["cpu_per_gib"], res["cpu_per_gib"])
    print(f"\nTCP over {a.mib} MiB each way, best of {a.rounds} rounds (MB/s):")
    print(f"{'transport':28s} {'guest->host':>12s} {'host->guest':>12s} {'CPU s/GiB':>10s}")
    names = {"kvmini": "kvmini vhost-user-net", "kvmini-nooffload": "kvmini, offload=off",
             "uml-tuntap": "UML tuntap (eth0=tuntap)"}
    for kind in kinds:
        b = best[kind]
        cpu = f"{b['cpu_per_gib']:10.3f}" if b["cpu_per_gib"] is not None else f"{'-':>10s}"
        print(f"{names[kind]:28s} {b['g2h']:12.1f} {b['h2g']:12.1f} {cpu}")
    ref = best["uml-tuntap"]
    for kind in ("kvmini", "kvmini-nooffload"):
        print(f"ratio {names[kind]} / UML tuntap: guest->host "
              f"{best[kind]['g2h'] / ref['g2h']:.2f}x, host->guest "
              f"{best[kind]['h2g'] / ref['h2g']:.2f}x")


if __name__ == "__main__":
    main()

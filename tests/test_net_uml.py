"""test_net_uml.py: `kvmini vhost-user net` driven by a real Linux kernel
(User Mode Linux's virtio_uml + virtio_net) over a TAP inside a network
namespace the test creates: the guest takes a static address, pings the
host side, and moves 256 MiB over TCP each way with matching CRC32s, once
with the checksum/segmentation offloads negotiated and once with
`offload=off` (kvmini then stops offering them; busybox has no ethtool).
Also: MAC and MTU from the config space, the control queue's queue-pair
command with a multiqueue TAP, and a backend serving a second guest."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import netns
import uml
from conftest import kvmini_path

ROOT = Path(__file__).resolve().parent.parent
REASON = uml.available() or netns.available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

HOST, GUEST = "10.77.0.1", "10.77.0.2"
MODULES = ["failover", "net_failover", "virtio_net"]
MIB = 256


def build_netio(tmp_path):
    out = tmp_path / "netio"
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out),
                    str(ROOT / "tests" / "uml" / "netio.c")], check=True)
    return out


class Backend:
    def __init__(self, ns, tmp_path, tap_spec):
        self.sock = str(tmp_path / "vun.sock")
        self.api = str(tmp_path / "api.sock")
        self.p = ns.popen([kvmini_path(), "vhost-user", "net", "--socket", self.sock, "--tap",
                           tap_spec, "--api", f"unix:{self.api}"], stderr=subprocess.PIPE)
        for _ in range(250):
            if os.path.exists(self.sock) and os.path.exists(self.api):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("backend did not start: " + self.p.stderr.read().decode())

    def net(self):
        out = subprocess.run([kvmini_path(), "ctl", self.api, "net"], capture_output=True,
                             text=True, check=True, timeout=30).stdout
        return json.loads(out)

    def stop(self):
        self.p.terminate()
        _, err = self.p.communicate(timeout=30)
        return self.p.returncode, err.decode()


def guest_script(extra=""):
    return f"""
ip link set eth0 up
ip addr add {GUEST}/24 dev eth0
cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu
ping -c 2 -W 5 {HOST} && echo PING_OK
{extra}
"""


def lines(text, tag):
    return [line.split() for line in text.splitlines() if line.startswith(tag + " ")]


@pytest.mark.parametrize("offload", ["on", "off"])
def test_tcp_both_ways_with_offloads(tmp_path, offload):
    netio = build_netio(tmp_path)
    mtu = 1500 if offload == "on" else 1400
    mac = "52:54:00:12:34:56" if offload == "on" else "52:54:00:ab:cd:ef"
    with netns.Netns("net", tap="kvtap0") as ns:
        backend = Backend(ns, tmp_path, f"kvtap0,mac={mac},mtu={mtu},offload={offload}")
        peer_cmd = ["timeout", "300", "/usr/bin/python3", str(ROOT / "tests" / "netpeer.py")]
        peer = ns.popen(["sh", "-c", f"{' '.join(peer_cmd)} recv {HOST} 5001 && "
                         f"{' '.join(peer_cmd)} send {GUEST} 5002 {MIB}"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            script = guest_script(f"/bin/netio send {HOST} 5001 {MIB}\n/bin/netio recv 5002")
            initrd = uml.build_initramfs(tmp_path, script, modules=MODULES,
                                         files={"/bin/netio": netio})
            rc, out = uml.boot(initrd, [(backend.sock, 1)], timeout=400)
            peer_out = peer.communicate(timeout=60)[0].decode()
            stats = backend.net()["stats"]
        finally:
            if peer.poll() is None:
                peer.kill()
            status, err = backend.stop()
    assert "PING_OK" in out, out
    assert mac in out and f"\n{mtu}\n" in out.replace("\r", ""), out
    sent, recv = lines(out, "SENT"), lines(out, "RECV")
    host_recv, host_sent = lines(peer_out, "RECV"), lines(peer_out, "SENT")
    assert sent and host_recv, out + peer_out
    assert sent[0][1:3] == host_recv[0][1:3] == [str(MIB << 20), sent[0][2]]  # guest -> host
    assert recv and host_sent, out + peer_out
    assert recv[0][1:3] == host_sent[0][1:3]  # host -> guest
    assert int(recv[0][1]) == MIB << 20
    for k in ("tx_bad_chain", "tx_short", "tx_oversized", "tx_bad_header", "tx_errors",
              "rx_bad_chain", "rx_truncated", "ctrl_errors"):
        assert stats[k] == 0, (k, stats)
    # Segmentation offload shows in the frame sizes the TAP handed over.
    rx_avg = stats["rx_bytes"] / stats["rx_packets"]
    tx_avg = stats["tx_bytes"] / stats["tx_packets"]
    if offload == "on":
        assert rx_avg > 4 * mtu and tx_avg > 4 * mtu, stats
    else:
        assert rx_avg <= mtu + 18 and tx_avg <= mtu + 18, stats
    assert status == 0, err


def test_multiqueue_tap_and_a_second_guest(tmp_path):
    """queues=2 over a multi_queue TAP: UML (one CPU) uses one pair; the
    control queue answers its RX mode, MAC table and queue-pair commands,
    and a new MAC set by the driver (`ip link set address`) is the one the
    RX filter lets through. The backend then serves a second guest after
    the first one left."""
    with netns.Netns("netmq", tap="kvtap0", multi_queue=True) as ns:
        backend = Backend(ns, tmp_path, "kvtap0,queues=2")
        try:
            initrd = uml.build_initramfs(tmp_path, "ip link set eth0 address 52:54:00:00:00:99\n"
                                         + guest_script(), modules=MODULES)
            rc, out1 = uml.boot(initrd, [(backend.sock, 1)], timeout=120)
            info = backend.net()
            rc, out2 = uml.boot(initrd, [(backend.sock, 1)], timeout=120)
        finally:
            status, err = backend.stop()
    assert "PING_OK" in out1 and "PING_OK" in out2, out1 + out2
    assert info["features"] & (1 << 22) and info["features"] & (1 << 17), info  # MQ, CTRL_VQ
    assert info["queues"] == 2 and info["active_queues"] == 1, info
    assert "52:54:00:00:00:99" in out1, out1  # CTRL_MAC_ADDR_SET accepted (else EOPNOTSUPP)
    assert info["stats"]["ctrl_commands"] >= 3 and info["stats"]["ctrl_errors"] == 0, info
    assert status == 0, err


def test_vhost_user_net_refuses_bad_options(tmp_path):
    p = subprocess.run([kvmini_path(), "vhost-user", "net", "--socket",
                        str(tmp_path / "s"), "--tap", "x,queues=99"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "queues=99" in p.stderr
    p = subprocess.run([kvmini_path(), "vhost-user", "net", "--socket",
                        str(tmp_path / "s"), "--disk", "x"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "takes no --disk" in p.stderr

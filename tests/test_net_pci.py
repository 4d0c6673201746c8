"""test_net_pci.py: `kvmini run --net` puts virtio-net on PCI over a TAP in a
network namespace the test creates (kvmini runs inside it). A polling test
guest reads the config space (MAC, link status, MTU, queue pairs) through
the in-monitor virtio-pci transport, then resolves the host's MAC with ARP
and pings it over the receive and transmit queues."""
import os
import subprocess

import pytest

import netns
from conftest import guest, kvmini_path, needs_kvm, report

REASON = netns.available()
pytestmark = [needs_kvm, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


def run_in(ns, args, timeout=60):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    p = ns.run([kvmini_path(), "run", *args], capture_output=True, text=True,
               timeout=timeout, check=False, env=env)
    return p.returncode, p.stdout, p.stderr


def test_named_tap_config_arp_and_ping():
    with netns.Netns("netpci", tap="kvtap0", host="10.77.0.1/24") as ns:
        status, out, err = run_in(ns, ["--kernel", guest("virtio_net"), "--net",
                                       "tap=kvtap0,mac=52:54:00:12:34:56,mtu=1400",
                                       "--cmdline", "ip=10.77.0.2 host=10.77.0.1"])
        tap_mac = ns.run(["cat", "/sys/class/net/kvtap0/address"], capture_output=True,
                         text=True).stdout.strip()
        tap_mtu = ns.run(["cat", "/sys/class/net/kvtap0/mtu"], capture_output=True,
                         text=True).stdout.strip()
    rep = report(out)
    assert status == 0, err
    assert rep["net.mac"] == "52:54:00:12:34:56"
    assert rep["net.status"] == "1"  # VIRTIO_NET_S_LINK_UP
    assert rep["net.mtu"] == "1400" and tap_mtu == "1400"  # mtu= set on the TAP too
    assert rep["net.host_mac"] == tap_mac
    assert rep["net.ping"] == ["reply", "reply"], out
    offered = int(rep["net.offered"], 16)
    assert offered & (1 << 0) and offered & (1 << 11)  # CSUM, HOST_TSO4
    assert not offered & (1 << 22)  # one vCPU: no multiqueue


def test_kvmini_creates_a_private_tap_with_one_queue_per_cpu():
    with netns.Netns("netpci") as ns:
        status, out, err = run_in(ns, ["--kernel", guest("virtio_net"), "--cpus", "2",
                                       "--net", "tap,host=10.78.0.1/24,offload=off",
                                       "--cmdline", "ip=10.78.0.2 host=10.78.0.1"])
        left = ns.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    rep = report(out)
    assert status == 0, err
    assert "created TAP kvmini0: host 10.78.0.1/24, guest 10.78.0.2, MTU 1500" in err, err
    assert rep["net.max_pairs"] == "2" and int(rep["net.offered"], 16) & (1 << 22)  # MQ
    assert not int(rep["net.offered"], 16) & 0x7f87  # offload=off: no CSUM/TSO/ECN/UFO, no CTRL_GUEST_OFFLOADS
    assert rep["net.ping"] == ["reply", "reply"], out
    assert "kvmini0" not in left  # the TAP went away with kvmini


def test_bad_net_options():
    for spec, msg in [("tap=kvtap0,mac=01:00:00:00:00:01", "multicast"),
                      ("tap=kvtap0,queues=0", "queues=0"), ("vde", "use tap"),
                      ("tap=kvtap0,speed=10", "unknown network option 'speed=10'")]:
        p = subprocess.run([kvmini_path(), "run", "--net", spec], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 2 and msg in p.stderr, (spec, p.stderr)

"""uml_net.py: a private network for tests that put User Mode Linux on a
network: a network namespace of the test's own (`kvmini-<tag>-<pid>`) with
a TAP device and the host-side address on it, so the guest (booted inside
the namespace with `eth0=tuntap,TAP`) and host-side servers talk over
addresses that exist only there. Delete it with close()."""
import os
import subprocess

import netns

HOST_ADDR = "10.0.2.1"
GUEST_ADDR = "10.0.2.15"
PREFIX = 24


available = netns.available


def NetNs(tag, tap="kvtap0", host_addr=HOST_ADDR, prefix=PREFIX, taps=1):
    """The namespace (tests/netns.py) with the host address of this network."""
    return netns.Netns(tag, tap=tap, host=f"{host_addr}/{prefix}", taps=taps)


def program_files(binary):
    """A dynamically linked host program and the shared libraries ldd
    names, as {path in the guest: host file} for uml.build_initramfs."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = [binary]
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            paths.append(parts[2])
        elif parts and parts[0].startswith("/"):
            paths.append(parts[0])
    return {p: os.path.realpath(p) for p in paths}

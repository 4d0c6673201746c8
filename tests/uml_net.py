"""uml_net.py: a private network for tests that put User Mode Linux on a
network: a network namespace of the test's own (`kvmini-<tag>-<pid>`) with
a TAP device and the host-side address on it, so the guest (booted inside
the namespace with `eth0=tuntap,TAP`) and host-side servers talk over
addresses that exist only there. Delete it with close()."""
import os
import shutil
import subprocess

HOST_ADDR = "10.0.2.1"
GUEST_ADDR = "10.0.2.15"
PREFIX = 24


def available():
    """None if namespaces and TAP devices can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root for network namespaces and TAP devices"
    if not shutil.which("ip"):
        return "iproute2 (ip) is not installed"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    return None


class NetNs:
    def __init__(self, tag, tap="kvtap0", host_addr=HOST_ADDR, prefix=PREFIX, taps=1):
        """tap=None: loopback only. taps > 1: that many TAP devices (tap0,
        tap1, ...) on a bridge that holds the host address, one per guest."""
        self.name = f"kvmini-{tag}-{os.getpid()}"
        self.tap = tap
        self.taps = [tap] if taps == 1 else [f"{tap}{i}" for i in range(taps)]
        self.host_addr = host_addr
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.ip("link", "set", "lo", "up")
            if tap is None:
                return
            for t in self.taps:
                self.ip("tuntap", "add", "dev", t, "mode", "tap")
            owner = self.taps[0]
            if taps > 1:
                owner = "kvbr0"
                self.ip("link", "add", owner, "type", "bridge")
                for t in self.taps:
                    self.ip("link", "set", t, "master", owner)
                    self.ip("link", "set", t, "up")
            self.ip("addr", "add", f"{host_addr}/{prefix}", "dev", owner)
            self.ip("link", "set", owner, "up")
        except Exception:
            self.close()
            raise

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True)

    def cmd(self, args):
        """`args` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *[str(a) for a in args]]

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), **kw)

    def run(self, args, **kw):
        return subprocess.run(self.cmd(args), **kw)

    def close(self):
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


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

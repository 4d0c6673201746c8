"""netns.py: a network namespace of the test's own (`kvmini-<tag>-<pid>`),
optionally with a TAP device and a host address inside, deleted at the
end. The network tests use no other addresses than the ones in here."""
import itertools
import os
import shutil
import subprocess

_count = itertools.count()


def available():
    """None if network namespaces and TAP devices can be used, else why not."""
    if os.geteuid() != 0:
        return "network namespaces and TAP devices need root"
    if not shutil.which("ip"):
        return "iproute2 (ip) is not installed"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    return None


class Netns:
    def __init__(self, tag, tap=None, host="10.77.0.1/24", multi_queue=False, taps=1):
        """tap=None: loopback only. taps > 1: that many TAP devices (TAP0,
        TAP1, ...) on a bridge that holds the host address, one per guest."""
        self.name = f"kvmini-{tag}-{os.getpid()}-{next(_count)}"
        self.tap = tap
        self.taps = [] if tap is None else [tap] if taps == 1 else [f"{tap}{i}" for i in range(taps)]
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            for t in self.taps:
                self.run(["ip", "tuntap", "add", "dev", t, "mode", "tap"]
                         + (["multi_queue"] if multi_queue else []))
            if self.taps:
                self._address(host)
        except Exception:
            self.delete()
            raise

    def _address(self, host):
        owner = self.taps[0]
        if len(self.taps) > 1:
            owner = "kvbr0"
            self.run(["ip", "link", "add", owner, "type", "bridge"])
            for t in self.taps:
                self.run(["ip", "link", "set", t, "master", owner])
                self.run(["ip", "link", "set", t, "up"])
        self.run(["ip", "addr", "add", host, "dev", owner])
        self.run(["ip", "link", "set", owner, "up"])

    def cmd(self, args):
        """`args` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *[str(a) for a in args]]

    def run(self, args, **kw):
        kw.setdefault("check", True)
        return subprocess.run(self.cmd(args), **kw)

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), **kw)

    def delete(self):
        subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)

    close = delete

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()

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
    def __init__(self, tag, tap=None, host="10.77.0.1/24", multi_queue=False):
        self.name = f"kvmini-{tag}-{os.getpid()}-{next(_count)}"
        self.tap = tap
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            if tap:
                self.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"]
                         + (["multi_queue"] if multi_queue else []))
                self.run(["ip", "addr", "add", host, "dev", tap])
                self.run(["ip", "link", "set", tap, "up"])
        except Exception:
            self.delete()
            raise

    def cmd(self, args):
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, args, **kw):
        kw.setdefault("check", True)
        return subprocess.run(self.cmd(args), **kw)

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), **kw)

    def delete(self):
        subprocess.run(["ip", "netns", "delete", self.name], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()

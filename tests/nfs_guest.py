"""nfs_guest.py: a User Mode Linux NFS client of `kvmini nfsd`, both inside
a network namespace of the test's own: the server on 10.0.2.1 (NFS, MOUNT,
NLM, NSM and a port mapper on port 111), the guest on 10.0.2.15 over a TAP
device, with the kernel's NFS client and lockd, and the guest-side rpcbind
and rpc.statd that Linux's lock client needs (copied from the host with
their libraries). The guest runs a shell script; the test reads its
console as it goes and can type lines into it."""
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import uml
import uml_net
from conftest import kvmini_path

NFS_MODULES = ["sunrpc", "nfs_acl", "grace", "lockd", "netfs", "fscache", "nfs", "nfsv3"]
GUEST_PROGRAMS = ["/usr/sbin/rpcbind", "/usr/sbin/rpc.statd"]
LOCKTOOL_SRC = Path(__file__).resolve().parent / "guest_tools" / "locktool.c"


def available():
    """None if the guest can be built and networked here, else why not."""
    why = uml.available() or uml_net.available()
    if why:
        return why
    for p in GUEST_PROGRAMS:
        if not os.path.exists(p):
            return f"{p} is missing (apt-get install rpcbind nfs-common)"
    if not shutil.which("gcc"):
        return "gcc is not installed"
    return None


def build_locktool(workdir):
    out = Path(workdir) / "locktool"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(out), str(LOCKTOOL_SRC)], check=True)
    return out


class Nfsd:
    """`kvmini nfsd` inside the namespace; stderr goes to a file."""

    def __init__(self, ns, export, state_dir, *extra):
        self.ns = ns
        self.args = [kvmini_path(), "nfsd", "--export", str(export), "--listen",
                     f"{uml_net.HOST_ADDR}:2049", "--portmap", f"{uml_net.HOST_ADDR}:111",
                     "--state-dir", str(state_dir), "--no-root-squash", *extra]
        self.log = Path(state_dir).parent / "nfsd.log"
        self.start()

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.err = open(self.log, "a")
        self.proc = self.ns.popen(self.args, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                  env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("nfsd: port="):
            self.proc.kill()
            raise RuntimeError("nfsd did not start: " + line + self.log.read_text())

    def stop(self):
        """Stops it with SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.err.close()
        return self.proc.returncode

    def log_text(self):
        return self.log.read_text()


class Guest:
    """UML booted in the namespace with `script` after the network, rpcbind,
    rpc.statd and the NFS mount of the export on /mnt are up."""

    def __init__(self, ns, workdir, export, script, mount_opts="", tap=None,
                 addr=uml_net.GUEST_ADDR, hostname="nfsguest", ports=True):
        """ports=False: the kernel asks the server's port mapper for the
        NFS and MOUNT ports instead of using 2049."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        files = {"/bin/locktool": build_locktool(workdir)}
        for prog in GUEST_PROGRAMS:
            files.update(uml_net.program_files(prog))
        for f in ("/etc/netconfig", "/etc/services", "/etc/protocols"):
            if os.path.exists(f):
                files[f] = f
        (workdir / "passwd").write_text("root:x:0:0::/root:/bin/sh\n"
                                        "_rpc:x:102:65534::/run/rpcbind:/bin/false\n"
                                        "statd:x:103:65534::/var/lib/nfs:/bin/false\n")
        (workdir / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
        files["/etc/passwd"] = workdir / "passwd"
        files["/etc/group"] = workdir / "group"
        opts = (f"vers=3,proto=tcp,addr={uml_net.HOST_ADDR},mountaddr={uml_net.HOST_ADDR},"
                f"mountproto=tcp{',port=2049,mountport=2049' if ports else ''}{mount_opts}")
        prologue = f"""
ip link set lo up
ip addr add {addr}/{uml_net.PREFIX} dev eth0
ip link set eth0 up
hostname {hostname}
mkdir -p /run/rpcbind /var/lib/nfs/sm /var/lib/nfs/sm.bak /var/run
rpcbind -w
rpc.statd -L
mount -t nfs -o {opts} {uml_net.HOST_ADDR}:{export} /mnt && echo NFS_MOUNTED
"""
        epilogue = "\nsync\numount /mnt && echo NFS_UNMOUNTED\n"
        initrd = uml.build_initramfs(workdir, prologue + script + epilogue, modules=NFS_MODULES,
                                     files=files)
        args = [uml.UML, "mem=256M", f"initrd={initrd}", "con=null", "con0=fd:0,fd:1", "quiet",
                f"eth0=tuntap,{tap or ns.taps[0]}"]
        self.out = b""
        self.lines = []      # (host monotonic time it arrived, complete line)
        self.cv = threading.Condition()
        self.proc = ns.popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True, env=uml.env())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            with self.cv:
                if not chunk:
                    self.cv.notify_all()
                    return
                now = time.monotonic()
                done = self.out.count(b"\n")
                self.out += chunk
                for raw in self.out.split(b"\n")[done:-1]:
                    self.lines.append((now, raw.decode(errors="replace").replace("\r", "")))
                self.cv.notify_all()

    def text(self):
        with self.cv:
            return self.out.decode(errors="replace").replace("\r", "")

    def wait_for(self, marker, timeout=60, nth=1):
        """Waits until a console line starts with the word `marker` (its nth
        time); returns that line."""
        return self.wait_timed(marker, timeout, nth)[1]

    def wait_timed(self, marker, timeout=60, nth=1):
        """Like wait_for(), also giving the host's time.monotonic() when the
        line came out of the guest's console."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                found = [(t, line) for t, line in self.lines
                         if line == marker or line.startswith(marker + " ")]
                if len(found) >= nth:
                    return found[nth - 1]
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.reader.is_alive():
                    text = self.out.decode(errors="replace").replace("\r", "")
                    raise AssertionError(f"guest never printed {marker!r}:\n{text}")
                self.cv.wait(min(left, 0.5))

    def type(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout=120):
        """Waits for the guest to power off (killing it after `timeout`)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.reader.join(timeout=5)
        return self.text()

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()

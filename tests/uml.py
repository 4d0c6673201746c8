"""uml.py: User Mode Linux as a real Linux guest for device tests: a busybox
initramfs with chosen modules and an init script, booted with virtio_uml
devices pointing at vhost-user sockets."""
import glob
import os
import shutil
import subprocess
from pathlib import Path

UML = "/usr/bin/linux.uml"
BUSYBOX = "/bin/busybox"
ROOT = Path(__file__).resolve().parent.parent
SHIM_SRC = ROOT / "tests" / "uml" / "xstate_shim.c"
SHIM = ROOT / "build" / "tests" / "uml_xstate_shim.so"


def env():
    """The environment UML runs in: with the XSAVE shim preloaded (see
    tests/uml/xstate_shim.c; needed on hosts with AMX, harmless elsewhere)."""
    if not SHIM.exists() or SHIM.stat().st_mtime < SHIM_SRC.stat().st_mtime:
        SHIM.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-o", str(SHIM), str(SHIM_SRC), "-ldl"], check=True)
    e = dict(os.environ)
    e["LD_PRELOAD"] = str(SHIM)
    return e


def modules_dir():
    dirs = sorted(glob.glob("/usr/lib/uml/modules/*"))
    return Path(dirs[-1]) if dirs else None


def available():
    """None if UML can be used, else why not."""
    if not os.path.exists(UML):
        return "User Mode Linux is not installed (apt-get install user-mode-linux)"
    if not modules_dir():
        return "no UML modules under /usr/lib/uml/modules"
    if not os.path.exists(BUSYBOX):
        return "busybox-static is not installed"
    return None


def module_path(name):
    found = list(modules_dir().rglob(f"{name}.ko"))
    if not found:
        raise FileNotFoundError(f"UML module {name}.ko")
    return found[0]


def build_initramfs(workdir, init_script, modules=(), files=None):
    """A gzip'd newc cpio with busybox, `modules` (.ko names, loaded in
    order by the init script's `load_modules`), `files` {dest: src}."""
    root = Path(workdir) / "initramfs"
    if root.exists():
        shutil.rmtree(root)
    for d in ("bin", "sbin", "proc", "sys", "dev", "mnt", "tmp", "lib/modules"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    loads = []
    for m in modules:
        shutil.copy(module_path(m), root / "lib" / "modules" / f"{m}.ko")
        loads.append(f"insmod /lib/modules/{m}.ko")
    for dest, src in (files or {}).items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, target)
    init = ("#!/bin/busybox sh\n/bin/busybox --install -s /bin\n"
            "mount -t proc proc /proc\nmount -t sysfs sysfs /sys\n"
            "mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
            + "\n".join(loads) + "\n" + init_script + "\npoweroff -f\n")
    (root / "init").write_text(init)
    os.chmod(root / "init", 0o755)
    out = Path(workdir) / "initrd.gz"
    subprocess.run(f"cd {root} && find . | cpio -o -H newc 2>/dev/null | gzip -1 > {out}",
                   shell=True, check=True)
    return out


def boot(initrd, devices=(), mem="256M", timeout=120, extra=()):
    """Boots UML; devices are (socket_path, virtio_id). Returns (rc, output)."""
    args = [UML, f"mem={mem}", f"initrd={initrd}", "con=null", "con0=fd:0,fd:1", "quiet"]
    args += [f"virtio_uml.device={sock}:{vid}" for sock, vid in devices]
    args += list(extra)
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, env=env())
    return p.returncode, p.stdout.decode(errors="replace")


def start(initrd, devices=(), mem="256M", extra=()):
    """Boots UML in the background; returns the Popen (stdout piped)."""
    args = [UML, f"mem={mem}", f"initrd={initrd}", "con=null", "con0=fd:0,fd:1", "quiet"]
    args += [f"virtio_uml.device={sock}:{vid}" for sock, vid in devices]
    args += list(extra)
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env())

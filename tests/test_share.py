"""test_share.py: `kvmini run --share DIR`: kvmini's NFS server for the
guest on the VM's private TAP link (created by kvmini inside a network
namespace this test makes), and the mount information on the guest's
command line. Here the guest is the bootcheck test guest, which prints its
command line and waits; a libnfs client in the namespace plays the guest's
NFS client. Where hardware virtualization is present, a stock Linux guest
mounts the share itself."""
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import RunningGuest, guest, kvmini_path, needs_kvm, run_guest
import netns
from linux_host import hardware_virt_reason

pytestmark = needs_kvm


def can_make_netns():
    return os.geteuid() == 0 and shutil.which("ip") and shutil.which("nfs-ls")


needs_netns = pytest.mark.skipif(not can_make_netns(),
                                 reason="needs root, iproute2 and libnfs-utils (nfs-ls)")


@pytest.fixture
def ns():
    with netns.Netns("share") as n:
        yield n


def in_ns(ns, *argv):
    return ns.run(argv, capture_output=True, text=True, timeout=60, check=False)


class SharedGuest(RunningGuest):
    """bootcheck (action=echo) under `kvmini run --share` in `ns`."""

    def __init__(self, ns, share):
        super().__init__(["--kernel", guest("bootcheck"), "--cmdline", "action=echo",
                          "--share", share], wrap=ns.cmd)
        self.until(b"ready for input")
        self.cmdline = re.search(rb"cmdline: (.*)", self.out).group(1).decode()

    def finish(self):
        """Ends the guest (it echoes a line, then resets): (status, stderr)."""
        if self.p.poll() is None:
            self.p.stdin.write(b"bye\n")
            self.p.stdin.flush()
        status, _, err = super().finish()
        return status, err


def words(cmdline):
    return dict(w.split("=", 1) for w in cmdline.split() if "=" in w)


@needs_netns
def test_share_serves_the_directory_on_the_vm_link(tmp_path, ns):
    share = tmp_path / "share"
    share.mkdir()
    share.chmod(0o777)
    (share / "hello.txt").write_text("hello from the host\n")
    g = SharedGuest(ns, f"{share},tag=data")
    try:
        w = words(g.cmdline)
        guest_ip, _, host_ip, mask, _, dev, autoconf = w["ip"].split(":")
        assert dev == "eth0" and autoconf == "off" and mask == "255.255.255.0"
        assert w["kvmini.share.data"] == f"{host_ip}:{share}"
        assert "vers=3" in w["kvmini.share_opts"] and "port=2049" in w["kvmini.share_opts"]
        url = f"nfs://{host_ip}{share}"
        r = in_ns(ns, "nfs-cat", f"{url}/hello.txt?version=3")
        assert r.returncode == 0 and r.stdout == "hello from the host\n", r.stderr
        src = tmp_path / "from-guest.txt"
        src.write_text("written over the link\n")
        r = in_ns(ns, "nfs-cp", str(src), f"{url}/from-guest.txt?version=3")
        assert r.returncode == 0, r.stderr
        assert (share / "from-guest.txt").read_text() == "written over the link\n"
        # the server answers on the VM's link only
        r = in_ns(ns, "nfs-ls", f"nfs://127.0.0.1{share}?version=3")
        assert r.returncode != 0
    finally:
        status, err = g.finish()
    assert status == 0, err
    assert "NFSv3 on" in err
    # the server went with the VM
    assert not subprocess.run(["pgrep", "-f", f"nfsd --export {share}"],
                              capture_output=True).stdout


@needs_netns
def test_share_read_only_and_root_tag(tmp_path, ns):
    share = tmp_path / "rootfs"
    share.mkdir()
    (share / "etc").mkdir()
    g = SharedGuest(ns, f"{share},tag=root,ro")
    try:
        w = words(g.cmdline)
        host_ip = w["ip"].split(":")[2]
        assert w["root"] == "/dev/nfs" and " ro" in g.cmdline
        assert w["nfsroot"].startswith(f"{host_ip}:{share},vers=3,proto=tcp")
        src = tmp_path / "x"
        src.write_text("x")
        r = in_ns(ns, "nfs-cp", str(src), f"nfs://{host_ip}{share}/x?version=3")
        assert r.returncode != 0 and not (share / "x").exists()
    finally:
        status, err = g.finish()
    assert status == 0, err


@needs_netns
def test_two_vms_share_on_their_own_links(tmp_path, ns):
    """Each VM's TAP gets its own private subnet, and each server answers
    for its own directory there."""
    guests, hosts = [], []
    try:
        for name in ("a", "b"):
            d = tmp_path / name
            d.mkdir()
            (d / "who.txt").write_text(name)
            guests.append(SharedGuest(ns, str(d)))
            hosts.append(words(guests[-1].cmdline)["ip"].split(":")[2])
        assert hosts[0].rsplit(".", 1)[0] != hosts[1].rsplit(".", 1)[0], hosts
        for name, host in zip(("a", "b"), hosts):
            r = in_ns(ns, "nfs-cat", f"nfs://{host}{tmp_path / name}/who.txt?version=3")
            assert r.returncode == 0 and r.stdout == name, r.stderr
    finally:
        for g in guests:
            status, err = g.finish()
            assert status == 0, err


@pytest.mark.parametrize("spec, message", [
    ("/nonexistent-kvmini-share", "No such file or directory"),
    ("{tmp},tag=a/b", "tag 'a/b'"),
    ("{tmp},colour=blue", "unknown option 'colour=blue'"),
    ("{file}", "is not a directory"),
])
def test_bad_share_specs(tmp_path, spec, message):
    (tmp_path / "f").write_text("")
    spec = spec.format(tmp=tmp_path, file=tmp_path / "f")
    status, _, err = run_guest(["--kernel", guest("bootcheck"), "--share", spec])
    assert status == 2 and message in err, err


STOCK_REASON = hardware_virt_reason()

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m; done
for w in $(cat /proc/cmdline); do
  case $w in
    ip=*) ip=${w#ip=} ;;
    kvmini.share.data=*) src=${w#kvmini.share.data=} ;;
    kvmini.share_opts=*) opts=${w#kvmini.share_opts=} ;;
  esac
done
addr=${ip%%:*}; rest=${ip#*::}; mask=$(echo $rest | cut -d: -f2)
ifconfig eth0 $addr netmask $mask up
mkdir -p /mnt
mount -t nfs -o $opts $src /mnt && echo "SHARE mounted"
echo "SHARE content=$(cat /mnt/hello.txt)"
echo guest-wrote > /mnt/from-guest.txt && sync && echo "SHARE wrote"
umount /mnt
poweroff -f
"""

NFS_MODULES = ["virtio_net", "nfsv3"]


def stock_modules(root, release):
    """Copies virtio_net and the NFS client with their dependencies
    (decompressed) into the initramfs; returns the insmod order."""
    deps = subprocess.run(["modprobe", "--show-depends", "-S", release, *NFS_MODULES],
                          capture_output=True, text=True, check=True).stdout
    order = []
    for line in deps.splitlines():
        if not line.startswith("insmod "):
            continue
        src = Path(line.split()[1])
        name = src.name.split(".ko")[0] + ".ko"
        dest = root / "lib" / "modules" / name
        if src.suffix == ".xz":
            dest.write_bytes(subprocess.run(["xz", "-dc", src], capture_output=True,
                                            check=True).stdout)
        else:
            shutil.copy(src, dest)
        if name not in order:
            order.append(name)
    return order


@pytest.mark.skipif(STOCK_REASON is not None, reason=STOCK_REASON or "")
@needs_netns
def test_stock_linux_mounts_the_share(tmp_path, ns):
    kernel = sorted(glob.glob("/boot/vmlinuz-*"))[-1]
    release = kernel.split("vmlinuz-", 1)[1]
    share = tmp_path / "share"
    share.mkdir()
    share.chmod(0o777)
    (share / "hello.txt").write_text("hello")
    root = tmp_path / "root"
    for d in ("bin", "proc", "sys", "dev", "lib/modules"):
        (root / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    (root / "modules.order").write_text("\n".join(stock_modules(root, release)) + "\n")
    (root / "init").write_text(INIT)
    os.chmod(root / "init", 0o755)
    initrd = tmp_path / "initrd.gz"
    subprocess.run(f"cd {root} && find . | cpio -o -H newc 2>/dev/null | gzip > {initrd}",
                   shell=True, check=True)
    r = in_ns(ns, kvmini_path(), "run", "--kernel", kernel, "--initrd", str(initrd),
              "--memory", "512M", "--cmdline", "console=ttyS0 panic=-1 quiet",
              "--share", f"{share},tag=data", "--console", "stdio")
    assert r.returncode == 0, r.stderr
    assert "SHARE mounted" in r.stdout and "SHARE content=hello" in r.stdout, r.stdout
    assert "SHARE wrote" in r.stdout
    assert (share / "from-guest.txt").read_text() == "guest-wrote\n"

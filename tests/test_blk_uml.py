"""test_blk_uml.py: `kvmini vhost-user blk` driven by a real Linux kernel
(User Mode Linux's virtio_uml + virtio_blk): a file system written and
checked from both sides, read-only disks, flush reaching the file, and a
backend that serves one frontend after another."""
import hashlib
import os
import subprocess
import time

import pytest

import uml
from conftest import kvmini_path

REASON = uml.available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


class Backend:
    def __init__(self, tmp_path, disk_spec):
        self.sock = str(tmp_path / "vub.sock")
        self.p = subprocess.Popen([kvmini_path(), "vhost-user", "blk", "--socket", self.sock,
                                   "--disk", disk_spec], stderr=subprocess.PIPE)
        for _ in range(200):
            if os.path.exists(self.sock):
                return
            time.sleep(0.02)
        raise RuntimeError("backend did not start")

    def stop(self):
        self.p.terminate()
        _, err = self.p.communicate(timeout=30)
        return self.p.returncode, err.decode()


def make_ext4(path, size="64M"):
    subprocess.run(["truncate", "-s", size, str(path)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(path)], check=True)


def debugfs_cat(image, name):
    return subprocess.run(["debugfs", "-R", f"cat {name}", str(image)], capture_output=True,
                          check=True).stdout


WRITE_FILES = """
mount /dev/vda /mnt && echo MOUNTED
seq 1 50000 > /mnt/seq.txt
dd if=/dev/urandom of=/mnt/rand.bin bs=4096 count=1024 2>/dev/null
mkdir -p /mnt/dir/sub && echo hello > /mnt/dir/sub/hello.txt
sha256sum /mnt/seq.txt /mnt/rand.bin /mnt/dir/sub/hello.txt
cat /sys/block/vda/serial 2>/dev/null; echo
dd if=/dev/urandom of=/mnt/junk bs=1048576 count=8 2>/dev/null; sync; rm /mnt/junk
fstrim -v /mnt && echo TRIMMED
sync
umount /mnt && echo UNMOUNTED
"""


def guest_sums(out):
    sums = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64 and parts[1].startswith("/mnt/"):
            sums[parts[1][len("/mnt"):]] = parts[0]
    return sums


def test_ext4_written_by_linux_checks_out(tmp_path):
    image = tmp_path / "disk.img"
    make_ext4(image)
    backend = Backend(tmp_path, f"{image},serial=kvmini-test-1")
    try:
        initrd = uml.build_initramfs(tmp_path, WRITE_FILES, modules=["virtio_blk"])
        rc, out = uml.boot(initrd, [(backend.sock, 2)])
    finally:
        status, err = backend.stop()
    assert "MOUNTED" in out and "UNMOUNTED" in out, out
    assert "kvmini-test-1" in out  # GET_ID reached the guest
    assert "TRIMMED" in out  # discard requests served
    sums = guest_sums(out)
    assert len(sums) == 3, out
    fsck = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    for name, digest in sums.items():
        assert hashlib.sha256(debugfs_cat(image, name)).hexdigest() == digest, name
    assert debugfs_cat(image, "/seq.txt") == "".join(f"{i}\n" for i in range(1, 50001)).encode()
    assert status == 0, err


def test_readonly_disk_refuses_writes(tmp_path):
    image = tmp_path / "ro.img"
    make_ext4(image)
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    backend = Backend(tmp_path, f"{image},readonly")
    script = """
cat /sys/block/vda/ro
mount -o ro /dev/vda /mnt && ls /mnt && echo RO_MOUNTED
umount /mnt
dd if=/dev/zero of=/dev/vda bs=4096 count=1 2>/dev/null && echo WRITE_OK || echo WRITE_REFUSED
"""
    try:
        initrd = uml.build_initramfs(tmp_path, script, modules=["virtio_blk"])
        rc, out = uml.boot(initrd, [(backend.sock, 2)])
    finally:
        backend.stop()
    assert "RO_MOUNTED" in out and "lost+found" in out, out
    assert "WRITE_REFUSED" in out and "WRITE_OK" not in out, out
    assert "\n1\n" in out.replace("\r", "")  # /sys/block/vda/ro
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before


def test_flush_reaches_the_file_and_backend_serves_again(tmp_path):
    """The guest writes with conv=fsync (a FLUSH) and waits; the host sees the
    bytes in the image while the guest still runs. Then a second UML boots
    against the same backend and reads them back."""
    image = tmp_path / "raw.img"
    subprocess.run(["truncate", "-s", "16M", str(image)], check=True)
    backend = Backend(tmp_path, str(image))
    marker = b"kvmini-flush-marker-0123456789"
    write = f"""
printf '{marker.decode()}' | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null && echo FLUSHED
sleep 3
"""
    read = "dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -c 40; echo; echo READ_DONE"
    try:
        initrd = uml.build_initramfs(tmp_path, write, modules=["virtio_blk"])
        p = uml.start(initrd, [(backend.sock, 2)])
        out = b""
        deadline = time.time() + 60
        while b"FLUSHED" not in out and time.time() < deadline:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
        assert b"FLUSHED" in out, out
        with open(image, "rb") as f:
            f.seek(100 * 512)
            assert f.read(len(marker)) == marker  # on the file while the guest lives
        p.communicate(timeout=60)
        initrd2 = uml.build_initramfs(tmp_path, read, modules=["virtio_blk"])
        rc, out2 = uml.boot(initrd2, [(backend.sock, 2)])
        assert marker.decode() in out2 and "READ_DONE" in out2, out2
    finally:
        status, err = backend.stop()
    assert status == 0, err

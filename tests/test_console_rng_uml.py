"""test_console_rng_uml.py: `kvmini vhost-user console` and `kvmini
vhost-user rng` driven by real Linux drivers: User Mode Linux's
virtio_console.ko (virtio_uml.device=SOCK:3) and virtio-rng
(virtio_uml.device=SOCK:4). Text goes through hvc0 both ways, the terminal
size reaches the guest and follows a resize (SIGWINCH), a named port shows
up in /sys/class/virtio-ports with data through it both ways, and the
guest reads /dev/hwrng from the virtio rng.

Debian's UML has virtio_console as a module but no virtio-rng at all
(CONFIG_HW_RANDOM_VIRTIO is not set): scripts/build-uml-virtio-rng.sh
builds it from the matching linux-source package into build/uml/."""
import fcntl
import os
import pty
import signal
import socket
import struct
import subprocess
import termios
import time

import pytest

import uml
from conftest import ROOT, FdReader, kvmini_path

REASON = uml.available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
RNG_MODULE = ROOT / "build" / "uml" / "virtio-rng.ko"


def wait_path(path, proc, timeout=20):
    end = time.time() + timeout
    while not os.path.exists(path) and time.time() < end and proc.poll() is None:
        time.sleep(0.02)
    assert os.path.exists(path), f"{path} never appeared"


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


CONSOLE_SCRIPT = """
for i in $(seq 100); do [ -e /dev/hvc0 ] && break; sleep 0.1; done
exec 3<>/dev/hvc0
stty -echo <&3
echo "SIZE1 $(stty size <&3)"
echo GUEST-HELLO-HVC >&3
read -r line <&3
echo "GOT-HVC: $line"
for i in $(seq 150); do s=$(stty size <&3); [ "$s" = "40 120" ] && break; sleep 0.1; done
echo "SIZE2 $s"
for d in /sys/class/virtio-ports/*; do
  echo "PORT $(basename $d) $(cat $d/name 2>/dev/null)"
  [ "$(cat $d/name 2>/dev/null)" = org.kvmini.test ] && P=/dev/$(basename $d)
done
head -n1 $P | sed 's/^/GOT-PORT: /'
echo PORT-OUT-FROM-GUEST > $P
echo CONSOLE-DONE
"""


def test_console_hvc0_resize_and_named_port(tmp_path):
    sock = str(tmp_path / "con.sock")
    port_sock = str(tmp_path / "port.sock")
    master, slave = pty.openpty()
    set_winsize(slave, 30, 100)
    backend = subprocess.Popen(
        [kvmini_path(), "vhost-user", "console", "--socket", sock,
         "--port", f"org.kvmini.test=unix:{port_sock}"],
        stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    client = None
    try:
        wait_path(port_sock, backend)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(port_sock)
        client.sendall(b"PORT-IN-FROM-HOST\n")  # waits in the device until the guest opens it
        wait_path(sock, backend)
        initrd = uml.build_initramfs(tmp_path, CONSOLE_SCRIPT, modules=["virtio_console"])
        guest = uml.start(initrd, [(sock, 3)])
        out = FdReader(guest.stdout.fileno(), timeout=60)
        host = FdReader(master, timeout=60)
        assert host.until(b"GUEST-HELLO-HVC"), host.buf + out.buf
        os.write(master, b"HOST-LINE-TO-HVC\n")
        assert out.until(b"GOT-HVC:"), out.buf
        set_winsize(slave, 40, 120)
        backend.send_signal(signal.SIGWINCH)
        port = FdReader(client.fileno(), timeout=60)
        assert port.until(b"PORT-OUT-FROM-GUEST"), out.buf
        assert out.until(b"CONSOLE-DONE"), out.buf
        guest.communicate(timeout=60)
    finally:
        if client:
            client.close()
        backend.send_signal(signal.SIGTERM)
        _, err = backend.communicate(timeout=30)
        os.close(master)
        os.close(slave)
    text = out.buf.decode(errors="replace").replace("\r", "")
    assert "SIZE1 30 100" in text, text
    assert "GOT-HVC: HOST-LINE-TO-HVC" in text, text
    assert "SIZE2 40 120" in text, text
    assert "org.kvmini.test" in text, text
    assert "GOT-PORT: PORT-IN-FROM-HOST" in text, text
    assert backend.returncode == 0, err.decode()


RNG_SCRIPT = """
insmod /lib/modules/virtio-rng.ko
echo "AVAILABLE $(cat /sys/class/misc/hw_random/rng_available)"
echo virtio_rng.0 > /sys/class/misc/hw_random/rng_current  # UML's own hw_random comes first
echo "CURRENT $(cat /sys/class/misc/hw_random/rng_current)"
echo "BYTES $(dd if=/dev/hwrng bs=1024 count=16 2>/dev/null | wc -c)"
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n' | sed 's/^/SAMPLE1 /'; echo
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n' | sed 's/^/SAMPLE2 /'; echo
echo RNG-DONE
"""


@pytest.mark.skipif(not RNG_MODULE.exists(),
                    reason="UML has no virtio-rng; build it: scripts/build-uml-virtio-rng.sh")
def test_rng_hwrng_reads_from_kvmini(tmp_path):
    sock = str(tmp_path / "rng.sock")
    backend = subprocess.Popen([kvmini_path(), "vhost-user", "rng", "--socket", sock,
                                "--rate", "256K,burst=4K"], stderr=subprocess.PIPE)
    try:
        wait_path(sock, backend)
        initrd = uml.build_initramfs(tmp_path, RNG_SCRIPT,
                                     files={"/lib/modules/virtio-rng.ko": RNG_MODULE})
        rc, out = uml.boot(initrd, [(sock, 4)])
    finally:
        backend.send_signal(signal.SIGTERM)
        _, err = backend.communicate(timeout=30)
    out = out.replace("\r", "")
    assert "CURRENT virtio_rng.0" in out, out
    assert "BYTES 16384" in out, out
    samples = [line.split()[1] for line in out.splitlines()
               if line.startswith("SAMPLE") and len(line.split()) == 2]
    assert len(samples) == 2 and all(len(s) == 64 for s in samples), out
    assert samples[0] != samples[1]
    assert backend.returncode == 0, err.decode()
    served = [line for line in err.decode().splitlines() if "virtio-rng:" in line]
    assert served and int(served[-1].split("virtio-rng: ")[1].split()[0]) >= 16384 + 64, err

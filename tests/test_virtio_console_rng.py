"""test_virtio_console_rng.py: virtio-console and virtio-rng on the
in-monitor virtio-pci transport, driven by polling test guests: random
bytes from `--rng`, capped by the burst of `--rng-rate`; text through
port 0 (hvc0) with `--console virtio` in both directions, emergency
writes, and the MULTIPORT control handshake with a named `--port`. Bad
buffers (the wrong direction, short control messages) fail alone."""
import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

import pytest

from conftest import guest, kvmini_path, needs_kvm, report, run_guest

pytestmark = needs_kvm


def test_rng_gives_random_bytes():
    status, out, err = run_guest(["--kernel", guest("virtio_rng"), "--rng"])
    rep = report(out)
    assert status == 0, err
    assert rep["rng.used1"] == "64" and rep["rng.used2"] == "64", out
    assert rep["rng.nonzero"] == "1" and rep["rng.differ"] == "1", out
    assert rep["rng.readable.used"] == "0", out  # a device-readable buffer fails
    assert rep["rng.big.used"] == "512", out
    assert "virtio-rng" in err and "1 bad requests" in err, err


def test_rng_rate_limit_caps_a_request_at_the_burst():
    """256 bytes of burst at 1 KiB/s: the 512-byte request gets what the
    bucket holds (256); the requests after the first 64-byte ones wait for
    tokens instead of failing."""
    status, out, err = run_guest(["--kernel", guest("virtio_rng"),
                                  "--rng-rate", "1K,burst=256"])
    rep = report(out)
    assert status == 0, err
    assert rep["rng.used1"] == "64" and rep["rng.used2"] == "64", out
    assert rep["rng.big.used"] == "256", out
    assert rep["rng.big.nonzero"] == "1", out


def test_no_rng_no_device():
    status, out, err = run_guest(["--kernel", guest("virtio_rng")])
    assert status == 0, err
    assert report(out)["virtio_rng"] == "no device"


def test_bad_rng_rate():
    status, _, err = run_guest(["--kernel", guest("virtio_rng"), "--rng-rate", "fast"])
    assert status == 2 and "--rng-rate 'fast'" in err


def test_hvc0_is_the_console_both_ways():
    status, out, err = run_guest(["--kernel", guest("virtio_console"), "--console", "virtio",
                                  "--cmdline", "mode=single"],
                                 input="typed into hvc0\n")
    rep = report(out)
    assert status == 0, err
    assert "hvc0 says hello through port 0" in out, out
    assert "emergency line via emerg_wr" in out, out
    assert rep["con.writable_tx.used"] == "0", out
    assert rep["con.rx"] == "typed into hvc0", out
    assert rep["con.max_nr_ports"] == "1", out
    assert rep["con.cols"] == "0" and rep["con.rows"] == "0", out  # not a terminal


def test_hvc0_size_from_the_terminal():
    """stdio on a terminal: F_SIZE is offered and the configuration space
    holds the terminal's columns and rows; Ctrl-A x still quits."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("virtio_console"),
                          "--console", "virtio", "--cmdline", "mode=single"],
                         stdin=slave, stdout=slave, stderr=slave)
    buf = b""
    try:
        end = time.time() + 30
        while b"con.rx.used" not in buf and b"con.writable_tx" not in buf and time.time() < end:
            if select.select([master], [], [], 0.2)[0]:
                buf += os.read(master, 4096)
        os.write(master, b"x\r")  # the guest waits for a line on hvc0
        while b"virtio_console: done" not in buf and time.time() < end:
            if select.select([master], [], [], 0.2)[0]:
                buf += os.read(master, 4096)
        assert p.wait(20) == 0
    finally:
        p.kill()
        os.close(master)
        os.close(slave)
    rep = report(buf.decode(errors="replace").replace("\r", ""))
    assert rep["con.cols"] == "111" and rep["con.rows"] == "33", buf
    assert int(rep["con.features"], 16) & 1, buf  # VIRTIO_CONSOLE_F_SIZE


def test_multiport_handshake_and_named_port(tmp_path):
    port_file = tmp_path / "port1.txt"
    status, out, err = run_guest(["--kernel", guest("virtio_console"), "--console", "virtio",
                                  "--port", f"org.kvmini.test.0=file:{port_file}",
                                  "--cmdline", "mode=multiport"])
    rep = report(out)
    assert status == 0, err
    assert rep["con.port_add"] == ["0", "1"], out
    assert rep["con.console_port"] == "0", out
    assert rep["con.port_name"] == "org.kvmini.test.0", out
    assert rep["con.host_open.1"] == "1", out
    assert "console port 0 in multiport mode" in out, out
    assert port_file.read_text() == "named port 1 says hello\n"
    assert "virtio-console" in err and "reported once" in err, err


def test_named_port_without_virtio_console(tmp_path):
    port_file = tmp_path / "p.txt"
    status, out, err = run_guest(["--kernel", guest("virtio_console"),
                                  "--port", f"only.port=file:{port_file}",
                                  "--cmdline", "mode=multiport"])
    rep = report(out)
    assert status == 0, err
    assert rep["con.port_add"] == "1", out  # no console port: the UART stays the console
    assert "con.console_port" not in rep
    assert "console port 0 in multiport mode" not in out  # port 0 has no back end
    assert port_file.read_text() == "named port 1 says hello\n"


@pytest.mark.parametrize("spec,message", [
    ("=file:/tmp/x", "use NAME=KIND"),
    ("bad/name=pty", "letters, digits"),
    ("a=stdio", "stdio is taken"),
    ("a=carrier-pigeon", "unknown --console"),
])
def test_bad_port_option(spec, message):
    status, _, err = run_guest(["--kernel", guest("virtio_console"), "--port", spec])
    assert status == 1 and message in err, err

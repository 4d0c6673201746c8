"""test_console.py: the console back ends: stdio in raw mode (input reaches
the guest, Ctrl-A x quits and restores the terminal), pty and unix socket."""
import os
import pty
import re
import socket
import subprocess
import termios
import time

from conftest import FdReader, guest, kvmini_path, needs_kvm

pytestmark = needs_kvm


def spawn_on_pty(args):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([kvmini_path(), "run", *args], stdin=slave, stdout=slave,
                         stderr=slave)
    return p, master, slave, before


def test_stdio_input_reaches_guest():
    p, master, slave, _ = spawn_on_pty(["--kernel", guest("bootcheck"), "--cmdline", "action=echo"])
    r = FdReader(master)
    try:
        assert r.until(b"ready for input"), r.buf
        os.write(master, b"hello kvmini\r")
        assert r.until(b"echo: hello kvmini"), r.buf
        assert p.wait(20) == 0
    finally:
        p.kill()
        os.close(master)
        os.close(slave)


def test_ctrl_a_x_quits_and_restores_terminal():
    p, master, slave, before = spawn_on_pty(["--kernel", guest("bootcheck"),
                                             "--cmdline", "action=spin"])
    r = FdReader(master)
    try:
        assert r.until(b"action: spin"), r.buf
        os.write(master, b"\x01x")
        assert p.wait(20) == 0
        assert r.until(b"quit (Ctrl-A x)")
        assert termios.tcgetattr(slave) == before
    finally:
        p.kill()
        os.close(master)
        os.close(slave)


def test_pty_console():
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                          "--console", "pty", "--cmdline", "action=echo"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
        m = re.search(r"console on (/dev/pts/\d+)", line)
        assert m, line
        fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
        r = FdReader(fd)
        assert r.until(b"ready for input"), r.buf
        os.write(fd, b"via pty\r")
        assert r.until(b"echo: via pty"), r.buf
        assert p.wait(20) == 0
        os.close(fd)
    finally:
        p.kill()
        p.communicate()


def test_unix_console(tmp_path):
    path = str(tmp_path / "console.sock")
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", guest("bootcheck"),
                          "--console", f"unix:{path}", "--cmdline", "action=echo"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        r = FdReader(s.fileno())
        assert r.until(b"ready for input"), r.buf
        s.sendall(b"via socket\n")
        assert r.until(b"echo: via socket"), r.buf
        assert p.wait(20) == 0
        s.close()
    finally:
        p.kill()
        p.communicate()

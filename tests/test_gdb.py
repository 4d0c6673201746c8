"""test_gdb.py: the GDB stub (`kvmini run --gdb`) against real gdb in batch
mode and a raw protocol client, on the gdbtarget test guest (built with -g).
"""
import re
import shutil
import socket
import time

import pytest

from conftest import guest, kvmini_path, needs_kvm
from gdb_client import Kvmini, RspClient, frame, run_gdb

pytestmark = [needs_kvm,
              pytest.mark.skipif(not shutil.which("gdb"), reason="gdb is not installed")]

ELF = guest("gdbtarget")


@pytest.fixture
def vm_factory(tmp_path):
    made = []

    def make(args=(), wait=True, spec=None, sub="vm"):
        d = tmp_path / f"{sub}{len(made)}"
        d.mkdir()
        vm = Kvmini(kvmini_path(), d, ELF, args=args, wait=wait, spec=spec)
        made.append(vm)
        return vm

    yield make
    for vm in made:
        vm.close()


def sixth_instruction(out):
    """Address of the 6th line of `x/6i add_numbers`."""
    addrs = re.findall(r"^\s*(?:=> )?(0x[0-9a-f]+) <add_numbers\+?\d*>:", out, re.M)
    return int(addrs[5], 16)


def test_break_step_hbreak_watch_setvar_detach(vm_factory):
    vm = vm_factory()
    status, out = run_gdb(ELF, vm.gdb_target(), [
        "break add_numbers", "continue",
        "printf \"arg a=%d\\n\", a",
        "printf \"global=%d\\n\", global_counter",
        "x/6i add_numbers",
        "stepi 5",
        "printf \"pc after stepi 5=0x%lx\\n\", $pc",
        "next",
        "printf \"local_sum=%d\\n\", local_sum",
        "hbreak hw_target", "continue",
        "watch watched_value", "continue",
        "printf \"watched=0x%lx\\n\", watched_value",
        "delete",
        "set var magic_value = 1234",
        "detach",
    ])
    assert status == 0, out
    assert "Breakpoint 1, add_numbers (a=a@entry=3, b=b@entry=4)" in out
    assert "arg a=3" in out and "global=7" in out
    pc = int(re.search(r"pc after stepi 5=(0x[0-9a-f]+)", out).group(1), 16)
    assert pc == sixth_instruction(out), out
    assert "local_sum=7" in out
    assert re.search(r"Breakpoint 2, hw_target \(\)", out), out
    assert "Hardware watchpoint 3: watched_value" in out
    assert "Old value = 0" in out and "New value = 4660" in out
    assert "watched=0x1234" in out
    assert "[Inferior 1 (Remote target) detached]" in out
    assert vm.wait() == 0, vm.stderr()
    rep = vm.stdout()
    assert "magic: 1234" in rep  # the guest acted on the value gdb set
    assert "sum: 7" in rep and "done: reset" in rep


def test_registers_monitor_and_target_description(vm_factory):
    vm = vm_factory()
    status, out = run_gdb(ELF, vm.gdb_target(), [
        "info registers rip cs cr0 cr3 efer fs_base",
        "p $xmm0.uint128",
        "monitor help",
        "monitor info registers",
        "set var $rax = 0x1122334455667788",
        "p/x $rax",
        "x/4xb 0x100200",
        "detach",
    ])
    assert status == 0, out
    assert re.search(r"rip\s+0x100200\s+0x100200 <startup_64>", out), out
    assert re.search(r"cs\s+0x10\s+16", out)
    assert re.search(r"cr0\s+0x80000031", out) and re.search(r"cr3\s+0x9000", out)
    assert re.search(r"efer\s+0x500", out)
    assert "kvmini monitor commands" in out
    assert "CR0=0000000080000031 CR2=0000000000000000 CR3=0000000000009000" in out
    assert "0x1122334455667788" in out
    assert "0xfa" in out  # startup_64 begins with cli
    assert vm.wait() == 0, vm.stderr()


@pytest.mark.parametrize("spec", ["tcp:127.0.0.1:0", "tcp:localhost:0"])
def test_tcp_endpoint(vm_factory, spec):
    vm = vm_factory(spec=spec)
    assert vm.address.startswith("tcp:127.0.0.1:")
    status, out = run_gdb(ELF, vm.gdb_target(), ["break add_numbers", "continue", "detach"])
    assert status == 0, out
    assert "Breakpoint 1, add_numbers" in out
    assert vm.wait() == 0, vm.stderr()


def test_two_vcpus_are_two_threads(vm_factory):
    vm = vm_factory(args=["--cpus", "2"])
    status, out = run_gdb(ELF, vm.gdb_target(), [
        "info threads", "thread 2", "info registers rip", "thread 1", "detach"])
    assert status == 0, out
    assert re.search(r"\* 1\s+Thread 1 \(vCPU 0 \[running\]\)", out), out
    assert re.search(r"2\s+Thread 2 \(vCPU 1 \[[a-zA-Z -]+\]\)", out), out
    assert "Switching to thread 2" in out
    assert vm.wait() == 0, vm.stderr()


def read_u64(client, addr):
    reply = client.command(f"m{addr:x},8")
    return int.from_bytes(bytes.fromhex(reply), "little")


def symbol(name):
    import subprocess
    out = subprocess.run(["nm", ELF], capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^([0-9a-f]+) \w {name}$", out, re.M).group(1), 16)


def test_ctrl_c_stops_a_spinning_guest(vm_factory):
    vm = vm_factory(args=["--cpus", "2", "--cmdline", "action=spin"], wait=False)
    counter = symbol("spin_count")
    c = RspClient(vm.connect())
    try:
        assert c.command("?").startswith("T05thread:")
        assert c.command("qfThreadInfo") == "m1,2"
        c.send(frame("vCont;c"))
        assert c.read_byte() == b"+"
        deadline = time.monotonic() + 30
        while True:  # let the guest reach its spin loop
            time.sleep(0.3)
            c.send(b"\x03")
            stop = c.read_packet()
            assert stop.startswith("T02thread:"), stop
            if read_u64(c, counter) > 0 or time.monotonic() > deadline:
                break
            c.send(frame("c"))
            assert c.read_byte() == b"+"
        first = read_u64(c, counter)
        assert first > 0
        time.sleep(0.3)
        assert read_u64(c, counter) == first  # really stopped
        deadline = time.monotonic() + 30
        while True:  # continue, interrupt again: it ran in between
            c.send(frame("c"))
            assert c.read_byte() == b"+"
            time.sleep(0.2)
            c.send(b"\x03")
            assert c.read_packet().startswith("T02thread:")
            now = read_u64(c, counter)
            if now > first or time.monotonic() > deadline:
                break
        assert now > first
        assert c.command("k") == "OK"
    finally:
        c.close()
    assert vm.wait() == 0, vm.stderr()


def test_protocol_robustness(vm_factory):
    vm = vm_factory(args=["--cmdline", "action=spin"])
    c = RspClient(vm.connect())
    # A bad checksum is NAKed; the same packet then goes through.
    c.send(b"$qSupported#00")
    assert c.read_byte() == b"-"
    supported = c.command("qSupported:xmlRegisters=i386")
    assert "PacketSize=1000" in supported and "qXfer:features:read+" in supported
    for feature in ("swbreak+", "hwbreak+", "vContSupported+", "QStartNoAckMode+"):
        assert feature in supported
    # Unknown packets get the empty reply.
    assert c.command("qKvminiNoSuchThing") == ""
    assert c.command("vMustReplyEmpty") == ""
    # An overlong packet is refused with an error, and the stub goes on.
    c.send(frame("m" + "0" * 6000))
    assert c.read_byte() == b"+"
    assert c.read_packet().startswith("E")
    assert c.command("?").startswith("T05thread:1;")
    # Malformed and out-of-range requests fail cleanly.
    assert c.command("mzz,4").startswith("E")
    assert c.command("m100000,zz").startswith("E")
    assert c.command("mffffffffff000000,10").startswith("E")
    assert c.command("Hg99").startswith("E")
    assert c.command("p1000").startswith("E")
    assert c.command("Z0,ffffffffff000000,1").startswith("E")
    assert c.command("M100000,4:zz").startswith("E")
    # target.xml through qXfer, in pieces.
    xml, off = "", 0
    while True:
        part = c.command(f"qXfer:features:read:target.xml:{off:x},200")
        xml += part[1:]
        off += len(part) - 1
        if part[0] == "l":
            break
    for name in ("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
                 "org.gnu.gdb.i386.segments", '"cr3"', '"efer"', '"fs_base"'):
        assert name in xml
    # No-ack mode: no more '+' from the stub.
    c.no_ack_mode()
    assert c.command("qAttached") == "1"
    # A client that vanishes in the middle of a packet.
    c.send(b"$m1002")
    c.close()
    time.sleep(0.2)
    c = RspClient(vm.connect())
    try:
        assert c.command("?").startswith("T05thread:")
        assert c.command("qC") == "QC1"
        before = c.command("m100200,4")
        assert before[:2] == "fa"  # cli
        # The guest ran on while nobody was attached; let its loop end soon.
        limit = symbol("spin_limit")
        assert c.command(f"M{limit:x},8:" + (0).to_bytes(8, "little").hex()) == "OK"
        assert c.command("D") == "OK"
    finally:
        c.close()
    assert vm.wait() == 0, vm.stderr()  # the guest was not harmed
    assert "spin: limit reached" in vm.stdout() and "done: reset" in vm.stdout()


def test_binary_write_and_sw_breakpoint_raw(vm_factory):
    vm = vm_factory()
    c = RspClient(vm.connect())
    try:
        magic = symbol("magic_value")
        data = (99).to_bytes(8, "little")
        esc = bytearray()
        for b in data:
            esc += bytes([0x7D, b ^ 0x20]) if b in b"#$}*" else bytes([b])
        c.send(frame(f"X{magic:x},8:".encode() + bytes(esc)))
        assert c.read_byte() == b"+"
        assert c.read_packet() == "OK"
        assert read_u64(c, magic) == 99
        add = symbol("add_numbers")
        assert c.command(f"Z0,{add:x},1") == "OK"
        c.send(frame("vCont;c:1"))
        assert c.read_byte() == b"+"
        assert c.read_packet() == "T05thread:1;swbreak:;"
        assert c.command(f"z0,{add:x},1") == "OK"
        assert c.command("D") == "OK"
    finally:
        c.close()
    assert vm.wait() == 0, vm.stderr()
    assert "magic: 99" in vm.stdout()


@pytest.mark.parametrize("action,signal,status", [
    ("panic", "SIGABRT", 0),
    ("triplefault", "SIGSEGV", 6),
])
def test_guest_death_stops_for_gdb(vm_factory, action, signal, status):
    vm = vm_factory(args=["--cmdline", f"action={action}"])
    code, out = run_gdb(ELF, vm.gdb_target(), ["continue", "info registers rip", "detach"])
    assert code == 0, out
    assert f"received signal {signal}" in out, out
    assert vm.wait() == status, vm.stderr()
    if action == "panic":
        assert "after_panic: resumed" in vm.stdout()  # detach lets the guest run on


def test_gdb_wait_needs_gdb():
    import subprocess
    p = subprocess.run([kvmini_path(), "run", "--gdb-wait"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "--gdb-wait needs --gdb" in p.stderr


@pytest.mark.parametrize("spec", ["tcp:nohost", "tcp:127.0.0.1:99999", "serial:x", "unix:"])
def test_bad_gdb_spec(spec):
    import subprocess
    p = subprocess.run([kvmini_path(), "run", "--kernel", ELF, "--gdb", spec],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert "--gdb" in p.stderr


def test_serial2_file(tmp_path):
    from conftest import run_guest
    log = tmp_path / "com2.log"
    status, out, err = run_guest(["--kernel", ELF, "--serial2", f"file:{log}"])
    assert status == 0, err
    assert log.read_text() == "com2: hello\n"
    assert "com2: hello" not in out  # COM1 stays on the console


def test_serial2_pty(vm_factory):
    import os
    import select
    vm = vm_factory(args=["--serial2", "pty"])
    pty = re.search(r"COM2 on (/dev/pts/\d+)", vm.stderr()).group(1)
    fd = os.open(pty, os.O_RDONLY | os.O_NOCTTY)
    c = RspClient(vm.connect())
    try:
        fin = symbol("finish")
        assert c.command(f"Z0,{fin:x},1") == "OK"
        c.send(frame("vCont;c"))
        assert c.read_byte() == b"+"
        assert c.read_packet() == "T05thread:1;swbreak:;"
        data = b""
        while not data.endswith(b"\n") and select.select([fd], [], [], 10)[0]:
            data += os.read(fd, 100)
        assert data == b"com2: hello\n"
        assert c.command(f"z0,{fin:x},1") == "OK"
        assert c.command("D") == "OK"
    finally:
        c.close()
        os.close(fd)
    assert vm.wait() == 0, vm.stderr()


@pytest.mark.parametrize("spec", ["stdio", "tcp:x"])
def test_serial2_bad_spec(spec):
    from conftest import run_guest
    status, _, err = run_guest(["--kernel", ELF, "--serial2", spec])
    assert status == 2
    assert "--serial2" in err


def monitor(client, cmd):
    reply = client.command("qRcmd," + cmd.encode().hex())
    return bytes.fromhex(reply).decode()


def test_vcont_per_thread_actions(vm_factory):
    vm = vm_factory(args=["--cpus", "2", "--cmdline", "action=spin"])
    c = RspClient(vm.connect())
    try:
        assert c.command("vCont?") == "vCont;c;C;s;S"
        extra = bytes.fromhex(c.command("qThreadExtraInfo,2")).decode()
        assert extra.startswith("vCPU 1 [")
        assert c.command("Hg2") == "OK"
        assert len(c.command("g")) > 1000  # the AP's registers
        assert c.command("Hg1") == "OK"
        rip0 = c.command("p10")
        c.send(frame("vCont;s:1"))  # thread 2 has no action: it stays stopped
        assert c.read_byte() == b"+"
        assert c.read_packet() == "T05thread:1;"
        assert c.command("p10") != rip0
        assert "vCPU 1 (thread 2) held" in monitor(c, "info cpus")
        c.send(frame("vCont;c"))  # both run again
        assert c.read_byte() == b"+"
        time.sleep(0.1)
        c.send(b"\x03")
        assert c.read_packet().startswith("T02thread:")
        assert "held" not in monitor(c, "info cpus")
        assert "unknown monitor command" in monitor(c, "frobnicate")
        assert c.command("vCont;x") == "E22"
        assert c.command("vCont;c:9") == "E22"
        limit = symbol("spin_limit")
        assert c.command(f"M{limit:x},8:" + bytes(8).hex()) == "OK"
        assert c.command("D") == "OK"
    finally:
        c.close()
    assert vm.wait() == 0, vm.stderr()


def regnum(client, name):
    xml, off = "", 0
    while True:
        part = client.command(f"qXfer:features:read:target.xml:{off:x},400")
        xml, off = xml + part[1:], off + len(part) - 1
        if part[0] == "l":
            return int(re.search(rf'name="{name}"[^>]* regnum="(\d+)"', xml).group(1))


def test_memory_through_guest_page_tables(vm_factory):
    """Maps the kernel-style address 0xffffffff80000000 (a 2 MiB page onto 0)
    and 0xffffffff80200000 (a 4 KiB page onto magic_value's page) into the
    guest's own page tables through the stub, then reads and writes through
    those mappings."""
    vm = vm_factory()
    c = RspClient(vm.connect())

    def put(addr, value):
        assert c.command(f"M{addr:x},8:" + value.to_bytes(8, "little").hex()) == "OK"

    try:
        cr3 = int.from_bytes(bytes.fromhex(c.command(f"p{regnum(c, 'cr3'):x}")), "little")
        assert cr3 == 0x9000
        magic = symbol("magic_value")
        pdpt, pd, pt = 0x1000000, 0x1001000, 0x1002000
        put(cr3 + 511 * 8, pdpt | 3)
        put(pdpt + 510 * 8, pd | 3)
        put(pd + 0 * 8, 0x0 | 0x83)              # 2 MiB page onto 0
        put(pd + 1 * 8, pt | 3)
        put(pt + 0 * 8, (magic & ~0xFFF) | 3)    # 4 KiB page
        ident = c.command("m100200,10")
        assert ident.startswith("fa")
        assert c.command("mffffffff80100200,10") == ident
        assert c.command("mffffffff80201000,4").startswith("E")  # PT entry 1 absent
        virt = 0xffffffff80200000 + (magic & 0xFFF)
        assert read_u64(c, virt) == 42
        assert c.command(f"M{virt:x},8:" + (77).to_bytes(8, "little").hex()) == "OK"
        assert read_u64(c, magic) == 77
        put(cr3 + 511 * 8, 0)
        assert c.command("mffffffff80100200,4").startswith("E")
        assert c.command("D") == "OK"
    finally:
        c.close()
    assert vm.wait() == 0, vm.stderr()
    assert "magic: 77" in vm.stdout()


def test_serial2_unix(tmp_path):
    import os
    import subprocess
    path = tmp_path / "com2.sock"
    p = subprocess.Popen([kvmini_path(), "run", "--kernel", ELF, "--serial2", f"unix:{path}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:  # the socket file appears at bind(), before listen()
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(20)
            try:
                s.connect(str(path))
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        s.close()
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert data == b"com2: hello\n"
        assert "kvmini test guest: gdbtarget" in out
        assert not os.path.exists(path)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()


def test_sigterm_with_gdb_attached_ends_cleanly(vm_factory):
    import signal
    vm = vm_factory()
    c = RspClient(vm.connect())
    try:
        assert c.command("?").startswith("T05")
        vm.proc.send_signal(signal.SIGTERM)
        assert vm.wait() == 10, vm.stderr()  # "stopped by a signal", via the signalfd
        assert c.read_packet() == "W0a"  # gdb is told the VM ended
    finally:
        c.close()

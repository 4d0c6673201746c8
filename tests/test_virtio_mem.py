"""test_virtio_mem.py: a polling test guest drives virtio-mem through the
in-monitor virtio-pci transport: it plugs what the control socket asks
for, writes a pattern, unplugs, touches an unplugged block (refused) and
plugs again (zeroed); the host checks the region's memfd grows and shrinks."""
import os

from conftest import RunningGuest, ctl, guest, needs_kvm, report

pytestmark = needs_kvm

MIB = 1 << 20


def hotplug_memfd_bytes(pid):
    """Allocated bytes of the hotplug region's memfd (st_blocks)."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if "hotplug" in os.readlink(path):
                return os.stat(path).st_blocks * 512
        except OSError:
            continue
    raise AssertionError("no hotplug memfd")


class Guest(RunningGuest):
    def __init__(self, tmp_path):
        self.sock = str(tmp_path / "api.sock")
        super().__init__(["--kernel", guest("virtio_mem"), "--hotplug", "256M",
                          "--api", f"unix:{self.sock}", "--cmdline", "mode=test"])

    def resize(self, size):
        rc, reply, err = ctl(self.sock, "mem-resize", f"size={size}")
        assert rc == 0, (reply, err)


def test_plug_write_unplug_replug(tmp_path):
    g = Guest(tmp_path)
    try:
        g.until(b"ready: waiting")
        g.resize("64M")
        g.until(b"sync: plugged")
        assert hotplug_memfd_bytes(g.p.pid) >= 64 * MIB
        g.resize("0")
        g.go_on()
        g.until(b"sync: unplugged")
        assert hotplug_memfd_bytes(g.p.pid) < 4 * MIB  # given back to the host
        g.resize("64M")
        g.go_on()
    finally:
        status, out, err = g.finish()
    rep = report(out)
    assert status == 0, err
    assert rep["region.size"] == str(256 * MIB) and rep["region.block_size"] == str(2 * MIB)
    assert rep["plug_failures"] == "0" and rep["pattern_bad"] == "0"
    assert rep["state_after_plug"] == "0" and rep["state_after_unplug"] == "1"
    assert rep["unplugged_read"] == "0x0"  # the write to an unplugged block was refused
    assert "guest wrote unplugged memory" in err
    assert rep["replug_failures"] == "0" and rep["replug_nonzero"] == "0"  # zeroed again
    for key in ("misaligned_plug", "zero_plug", "outside_state", "unplug_unplugged"):
        assert rep[key] == "error"
    assert rep["over_request_plug"] == "nack"

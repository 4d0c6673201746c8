"""test_virtio_pci.py: `kvmini run --disk` puts a virtio-blk device on PCI;
a polling test guest finds it through configuration space, sets up a queue
through the modern virtio-pci registers and reads known data."""
import pytest

from conftest import guest, needs_kvm, report, run_guest

pytestmark = needs_kvm


@pytest.mark.parametrize("readonly", [False, True])
def test_guest_reads_a_known_sector(tmp_path, readonly):
    disk = tmp_path / "disk.img"
    data = bytearray(1 << 20)
    text = b"sector-one: hello from the host!"
    data[512:512 + len(text)] = text
    disk.write_bytes(bytes(data))
    spec = f"{disk},serial=pci-serial-7" + (",readonly" if readonly else "")
    status, out, err = run_guest(["--kernel", guest("virtio_blk"), "--disk", spec])
    rep = report(out)
    assert status == 0, err
    assert rep["blk.capacity"] == str((1 << 20) // 512)
    assert rep["blk.serial"] == "pci-serial-7"
    assert rep["blk.read.status"] == "0" and rep["blk.read.used"] == "513"
    assert rep["blk.sector1"] == text.decode()
    assert rep["blk.beyond.status"] == "1"  # a read past the end fails alone


def test_no_disk_no_device():
    status, out, err = run_guest(["--kernel", guest("virtio_blk")])
    assert status == 0, err
    assert report(out)["virtio_blk"] == "no device"


def test_bad_disk_option(tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(b"\0" * 4096)
    status, _, err = run_guest(["--kernel", guest("virtio_blk"), "--disk", f"{disk},fast"])
    assert status == 1 and "unknown disk option 'fast'" in err
    status, _, err = run_guest(["--kernel", guest("virtio_blk"), "--disk",
                                str(tmp_path / "missing.img")])
    assert status == 1 and "cannot open disk" in err

"""test_nfs_uml.py: `kvmini nfsd` with Linux's own NFS client (User Mode
Linux over a TAP device in a network namespace the test makes): a file tree
written by each side and checked by the other, POSIX locks through NLM
(two guest processes; a guest process waiting for a host process's lock,
granted by the GRANTED callback), and locks reclaimed after the server
restarts (SM_NOTIFY to the guest's statd, reclaim in the grace period).

The unlock-to-grant delays the guest sees are printed (run pytest with -s),
not asserted: bench/ is where timings are compared."""
import fcntl
import hashlib
import os
import re
import struct
import time

import pytest

import nfs_guest
import uml_net

REASON = nfs_guest.available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture
def rig(tmp_path, request):
    export = tmp_path / "export"
    export.mkdir()
    ns = uml_net.NetNs("nfsuml", taps=getattr(request, "param", 1))
    servers, guests = [], []

    class Rig:
        pass

    r = Rig()
    r.export, r.tmp, r.ns = export, tmp_path, ns

    def server(*extra):
        s = nfs_guest.Nfsd(ns, export, tmp_path / "state", *extra)
        servers.append(s)
        return s

    def guest(script, workdir=tmp_path, **kw):
        g = nfs_guest.Guest(ns, workdir, export, script, **kw)
        guests.append(g)
        return g

    r.server, r.guest = server, guest
    try:
        yield r
    finally:
        for g in guests:
            g.kill()
        for s in servers:
            s.stop()
        ns.close()


def sums_in(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64 and parts[1].startswith("/mnt/"):
            out[parts[1][len("/mnt/"):]] = parts[0]
    return out


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_tree_both_ways(rig):
    host_files = {"hostdir/a.txt": b"from the host\n" * 1000,
                  "hostdir/deep/b.bin": os.urandom(300000),
                  "hostdir/empty": b""}
    for name, data in host_files.items():
        (rig.export / name).parent.mkdir(parents=True, exist_ok=True)
        (rig.export / name).write_bytes(data)
    srv = rig.server()
    script = """
cd /mnt && find hostdir -type f | sort | while read f; do sha256sum "/mnt/$f"; done
mkdir -p /mnt/guestdir/sub/subsub
seq 1 100000 > /mnt/guestdir/seq.txt
dd if=/dev/urandom of=/mnt/guestdir/sub/rand.bin bs=65536 count=40 2>/dev/null
echo small > /mnt/guestdir/sub/subsub/small.txt
ln -s sub/rand.bin /mnt/guestdir/link
mv /mnt/guestdir/seq.txt /mnt/guestdir/numbers.txt
sync
cd /
for f in guestdir/numbers.txt guestdir/sub/rand.bin guestdir/sub/subsub/small.txt; do sha256sum /mnt/$f; done
echo TREE_DONE
"""
    g = rig.guest(script)
    out = g.finish()
    assert "NFS_MOUNTED" in out and "TREE_DONE" in out and "NFS_UNMOUNTED" in out, out
    sums = sums_in(out)
    for name, data in host_files.items():
        assert sums.get(name) == hashlib.sha256(data).hexdigest(), (name, out)
    for name in ("guestdir/numbers.txt", "guestdir/sub/rand.bin", "guestdir/sub/subsub/small.txt"):
        assert sha(rig.export / name) == sums[name], name
    assert (rig.export / "guestdir/numbers.txt").read_text() == "".join(
        f"{i}\n" for i in range(1, 100001))
    assert (rig.export / "guestdir/sub/rand.bin").stat().st_size == 40 * 65536
    assert os.readlink(rig.export / "guestdir/link") == "sub/rand.bin"
    assert not (rig.export / "guestdir/seq.txt").exists()
    assert srv.stop() == 0


def stamp(out, name):
    """(monotonic µs, realtime µs) of the locktool line `name`."""
    m = re.search(rf"^{name} (\d+) (\d+)$", out, re.M)
    assert m, (name, out)
    return int(m.group(1)), int(m.group(2))


def test_fcntl_lock_between_guest_processes(rig):
    (rig.export / "shared.lock").write_bytes(b"\0" * 4096)
    srv = rig.server()
    script = """
locktool hold /mnt/shared.lock 0 0 1500 > /tmp/holder.out &
HOLDER=$!
sleep 0.5
locktool try /mnt/shared.lock 100 10
locktool test /mnt/shared.lock 0 0
locktool wait /mnt/shared.lock 0 0 200 > /tmp/waiter.out
wait $HOLDER
cat /tmp/holder.out /tmp/waiter.out
locktool try /mnt/shared.lock 0 0
echo LOCKS_DONE
"""
    g = rig.guest(script)
    out = g.finish()
    assert "LOCKS_DONE" in out, out
    assert "BUSY" in out and "HELD type=write start=0 len=0" in out, out
    unlock, _ = stamp(out, "UNLOCK_AT")
    waiting, _ = stamp(out, "WAITING")
    got, _ = stamp(out, "GOT_AT")
    assert waiting < unlock < got, out
    print(f"\nguest process waiting in F_SETLKW got the lock {(got - unlock) / 1000:.2f} ms "
          "after the other process unlocked")
    assert srv.stop() == 0
    log = srv.log_text()
    m = re.search(r"nlm: (\d+) locks granted", log)
    assert m and int(m.group(1)) >= 3, log


def test_guest_waits_for_host_process_lock(rig):
    """The lock is held by a host process, so the guest's LOCK blocks on the
    server; the host unlocks and the server grants it through the GRANTED
    callback to the guest's lockd."""
    path = rig.export / "hostheld.lock"
    path.write_bytes(b"\0" * 4096)
    srv = rig.server()
    holder = open(path, "r+b")
    fcntl.lockf(holder, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
    script = """
locktool try /mnt/hostheld.lock 0 10
locktool test /mnt/hostheld.lock 50 10
locktool wait /mnt/hostheld.lock 0 0 100
locktool try /mnt/hostheld.lock 0 0
echo HOSTLOCK_DONE
"""
    g = rig.guest(script)
    try:
        g.wait_for("WAITING", timeout=90)
        time.sleep(1.0)  # the guest sits in F_SETLKW, blocked on the server
        unlocked = time.monotonic()
        fcntl.lockf(holder, fcntl.LOCK_UN, 100, 0)
        got = g.wait_timed("GOT_AT", timeout=60)[0]
    finally:
        holder.close()
    out = g.finish()
    assert "HOSTLOCK_DONE" in out, out
    assert "BUSY" in out and "HELD type=write start=0 len=100" in out, out
    print(f"\nguest F_SETLKW returned {(got - unlocked) * 1000:.2f} ms after the host "
          "process unlocked (host clock; console lines timed as they arrive)")
    # Free again for host processes once the guest released it.
    with open(path, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)
    assert srv.stop() == 0
    log = srv.log_text()
    m = re.search(r"(\d+) blocked, \d+ denied; (\d+) GRANTED callbacks answered, (\d+) failed", log)
    assert m, log
    assert int(m.group(1)) >= 1 and int(m.group(2)) >= 1 and int(m.group(3)) == 0, log


FLOCK = "=hh4xqqi4x"  # struct flock on x86-64


def host_can_lock(path):
    """F_GETLK from a host process: would a write lock on the whole file be
    granted? (Asks without taking it, so it never races a reclaim.)"""
    with open(path, "r+b") as f:
        req = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        l_type = struct.unpack(FLOCK, fcntl.fcntl(f, fcntl.F_GETLK, req))[0]
        return l_type == fcntl.F_UNLCK


def wait_until(fn, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def test_lock_reclaimed_after_server_restart(rig):
    path = rig.export / "reclaim.lock"
    path.write_bytes(b"\0" * 4096)
    srv = rig.server("--grace", "5")
    script = """
locktool holdfile /mnt/reclaim.lock 0 0 /tmp/release &
HOLDER=$!
read line
touch /tmp/release
wait $HOLDER
locktool try /mnt/reclaim.lock 0 0
echo RECLAIM_DONE
"""
    g = rig.guest(script)
    g.wait_for("LOCKED", timeout=90)
    assert not host_can_lock(path)  # the guest's lock is real on the host
    assert srv.stop() == 0
    assert host_can_lock(path)      # the server's locks went with it
    srv2 = rig.server("--grace", "5")
    # SM_NOTIFY reaches the guest's statd, its lockd reclaims the lock.
    assert wait_until(lambda: not host_can_lock(path), 40), srv2.log_text() + g.text()
    g.type("release")
    g.wait_for("RECLAIM_DONE", timeout=60)
    out = g.finish()
    assert "UNLOCK_AT" in out and "GOT" in out.split("UNLOCKED")[-1], out
    assert host_can_lock(path)
    assert srv2.stop() == 0
    log = srv2.log_text()
    assert "may reclaim locks" in log and "notified 10.0.2.15" in log, log
    reclaimed = re.findall(r"locks granted \((\d+) reclaimed\)", log)
    assert reclaimed and int(reclaimed[-1]) >= 1, log  # the restarted server's count


@pytest.mark.parametrize("rig", [2], indirect=True)
def test_lock_passes_between_two_guests(rig):
    """Two Linux clients: the second's F_SETLKW blocks on the server until
    the first unlocks, then the server's GRANTED callback wakes it."""
    (rig.export / "between.lock").write_bytes(b"\0" * 4096)
    srv = rig.server()
    holder = rig.guest("""
locktool holdfile /mnt/between.lock 0 0 /tmp/release &
HOLDER=$!
read line
touch /tmp/release
wait $HOLDER
echo HOLDER_DONE
""", workdir=rig.tmp / "a", tap=rig.ns.taps[0], addr="10.0.2.15", hostname="guest-a")
    holder.wait_for("LOCKED", timeout=120)
    waiter = rig.guest("""
locktool wait /mnt/between.lock 0 0 100
echo WAITER_DONE
""", workdir=rig.tmp / "b", tap=rig.ns.taps[1], addr="10.0.2.16", hostname="guest-b")
    waiter.wait_for("WAITING", timeout=120)
    time.sleep(1.0)  # blocked on the server, not in either guest
    holder.type("release")
    got = waiter.wait_timed("GOT_AT", timeout=60)[0]
    unlocking = holder.wait_timed("UNLOCK_AT", timeout=60)[0]
    out_a, out_b = holder.finish(), waiter.finish()
    assert "HOLDER_DONE" in out_a and "WAITER_DONE" in out_b, out_a + out_b
    print(f"\nguest-b F_SETLKW returned {(got - unlocking) * 1000:.2f} ms after guest-a "
          "began to unlock (host clock; console lines timed as they arrive)")
    assert srv.stop() == 0
    log = srv.log_text()
    m = re.search(r"(\d+) blocked, \d+ denied; (\d+) GRANTED callbacks answered, (\d+) failed", log)
    assert m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1 and int(m.group(3)) == 0, log


def test_killed_waiter_leaves_no_lock(rig):
    """A guest process blocked in F_SETLKW on a host process's lock is
    killed: the client CANCELs, and when the host process unlocks nothing
    is granted to the dead waiter (the file stays free for everyone)."""
    path = rig.export / "cancel.lock"
    path.write_bytes(b"\0" * 4096)
    srv = rig.server()
    holder = open(path, "r+b")
    fcntl.lockf(holder, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)
    script = """
locktool wait /mnt/cancel.lock 0 0 0 &
WAITER=$!
sleep 1
kill $WAITER
wait $WAITER
echo WAITER_KILLED
read line
locktool try /mnt/cancel.lock 0 0
echo CANCEL_DONE
"""
    g = rig.guest(script)
    try:
        g.wait_for("WAITER_KILLED", timeout=90)
        time.sleep(0.5)
        fcntl.lockf(holder, fcntl.LOCK_UN, 0, 0)
    finally:
        holder.close()
    time.sleep(1.0)  # a wrong grant would be made (and called back) by now
    assert host_can_lock(path)
    g.type("go")
    g.wait_for("CANCEL_DONE", timeout=60)
    out = g.finish()
    assert "WAITING" in out and "GOT_AT" not in out, out
    assert re.search(r"^GOT$", out, re.M), out
    assert srv.stop() == 0

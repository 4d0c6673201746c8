"""test_nlm_protocol.py: kvmini nfsd's lock service (NLM, NSM) driven call by
call from a scripted client host, inside a network namespace of the test's
own (server 127.0.0.1, client 127.0.0.2 with its port mapper on port 111):
conflicts and holders, blocked locks granted through GRANTED callbacks,
CANCEL, a refused or undeliverable callback taking the lock back, re-sent
LOCKs, the _MSG/_RES forms, versions 1 and 3, shares, FREE_ALL and
SM_NOTIFY, locks against host processes, the grace period after a restart,
and malformed calls."""
import fcntl
import os
import time

import pytest

import nlm_client as N
import uml_net
from nfs_client import Nfsd, Packer

REASON = uml_net.available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


class Env:
    pass


@pytest.fixture
def env(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    for name in ("a", "b", "c"):
        (export / name).write_bytes(b"\0" * 8192)
    ns = uml_net.NetNs("nlmproto", tap=None)
    e = Env()
    e.export, e.tmp = export, tmp_path
    try:
        with N.inside(ns.name):
            e.client = N.ClientHost()
            e.srv = Nfsd(export, tmp_path / "state", "--grace", "2")
            e.rpc = N.Server(e.srv.port)
            st, root = e.rpc.mount(str(export))
            assert st == 0
            e.fh = {n: e.rpc.lookup(root, n)[1] for n in ("a", "b", "c")}
            e.restart = lambda *extra: restart(e, *extra)
            yield e
            e.rpc.close()
            status, err = e.srv.stop()
            e.client.close()
            assert status == 0, err
            assert "ERROR: AddressSanitizer" not in err, err
    finally:
        ns.close()


def restart(e, *extra):
    e.rpc.close()
    status, err = e.srv.stop()
    assert status == 0, err
    e.srv = Nfsd(e.export, e.tmp / "state", *extra)
    e.rpc = N.Server(e.srv.port)


def lk(e, name, svid, off=0, length=0, vers=4):
    return N.lock_desc(e.fh[name], f"owner{svid}".encode(), svid, off, length, vers)


def lock(e, name, svid, off=0, length=0, block=False, excl=True, **kw):
    return e.rpc.nlm(N.LOCK, N.lockargs(b"ck", lk(e, name, svid, off, length), block, excl,
                                        **kw))[1]


def unlock(e, name, svid, off=0, length=0):
    return e.rpc.nlm(N.UNLOCK, N.unlockargs(b"ck", lk(e, name, svid, off, length)))[1]


def nlm_test(e, name, svid, off=0, length=0, excl=True):
    """(stat, holder dict or None)."""
    _, st, u = e.rpc.nlm(N.TEST, N.testargs(b"ck", lk(e, name, svid, off, length), excl))
    if st != N.DENIED:
        return st, None
    return st, {"excl": u.u32(), "svid": u.u32(), "oh": u.opaque(), "off": u.u64(),
                "len": u.u64()}


def test_conflicts_and_holders(env):
    assert nlm_test(env, "a", 1)[0] == N.GRANTED_OK
    assert lock(env, "a", 1, 100, 50) == N.GRANTED_OK
    st, h = nlm_test(env, "a", 2, 120, 1)
    assert st == N.DENIED and h == {"excl": 1, "svid": 1, "oh": b"owner1", "off": 100, "len": 50}
    assert nlm_test(env, "a", 2, 150, 10)[0] == N.GRANTED_OK   # just past the range
    assert nlm_test(env, "a", 1, 0, 0)[0] == N.GRANTED_OK      # own lock never conflicts
    assert lock(env, "a", 2, 0, 0) == N.DENIED
    # Shared locks share; an exclusive one waits for both.
    assert lock(env, "b", 1, excl=False) == N.GRANTED_OK
    assert lock(env, "b", 2, excl=False) == N.GRANTED_OK
    assert lock(env, "b", 3) == N.DENIED
    assert unlock(env, "b", 1) == N.GRANTED_OK
    assert lock(env, "b", 3) == N.DENIED
    assert unlock(env, "b", 2) == N.GRANTED_OK
    assert lock(env, "b", 3) == N.GRANTED_OK
    # Unlocking the middle of a lock splits it.
    assert unlock(env, "a", 1, 110, 10) == N.GRANTED_OK
    assert nlm_test(env, "a", 2, 112, 2)[0] == N.GRANTED_OK
    assert nlm_test(env, "a", 2, 105, 1)[1]["len"] == 10
    assert nlm_test(env, "a", 2, 125, 1)[1] == {"excl": 1, "svid": 1, "oh": b"owner1",
                                               "off": 120, "len": 30}
    # Offsets past 2^63 and lengths running off the end mean "to EOF".
    assert lock(env, "c", 4, 2**64 - 10, 100) == N.GRANTED_OK
    assert unlock(env, "c", 4, 2**64 - 10, 100) == N.GRANTED_OK


def test_locks_are_real_on_the_host(env):
    path = env.export / "a"
    assert lock(env, "a", 1, 0, 10) == N.GRANTED_OK
    with open(path, "r+b") as f:
        with pytest.raises(OSError):
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20)  # beyond it: fine
        # A host process's lock is a holder NLM reports, with its pid.
        st, h = nlm_test(env, "a", 2, 25, 1)
        assert st == N.DENIED and h["svid"] == os.getpid() and h["off"] == 20
        assert lock(env, "a", 2, 25, 1) == N.DENIED
    assert unlock(env, "a", 1, 0, 10) == N.GRANTED_OK
    with open(path, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)


def test_blocked_lock_granted_by_callback(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    assert lock(env, "a", 2, block=True) == N.BLOCKED
    assert lock(env, "a", 2, block=True) == N.BLOCKED      # re-sent: still one waiter
    assert lock(env, "a", 3, block=True) == N.BLOCKED
    t0 = time.monotonic()
    assert unlock(env, "a", 1) == N.GRANTED_OK
    call = env.client.wait_call(N.GRANTED)
    assert call and call[4] == 2                         # the first waiter first
    print(f"\nGRANTED callback {1000 * (call[0] - t0):.2f} ms after UNLOCK")
    assert nlm_test(env, "a", 1)[1]["svid"] == 2
    assert lock(env, "a", 2, block=True) == N.GRANTED_OK  # re-sent after the grant
    assert env.client.count(N.GRANTED) == 1
    assert unlock(env, "a", 2) == N.GRANTED_OK
    call = env.client.wait_call(N.GRANTED, after=1)
    assert call and call[4] == 3
    assert unlock(env, "a", 3) == N.GRANTED_OK
    assert nlm_test(env, "a", 9)[0] == N.GRANTED_OK


def test_waiting_for_a_host_process(env):
    with open(env.export / "b", "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)
        assert lock(env, "b", 1, block=True) == N.BLOCKED
        time.sleep(0.3)
        assert env.client.count(N.GRANTED) == 0
        t0 = time.monotonic()
        fcntl.lockf(f, fcntl.LOCK_UN, 0, 0)
    call = env.client.wait_call(N.GRANTED)
    assert call and call[4] == 1
    print(f"\nGRANTED callback {1000 * (call[0] - t0):.2f} ms after the host process unlocked")
    assert nlm_test(env, "b", 2)[1]["svid"] == 1


def test_cancel(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    assert lock(env, "a", 2, block=True) == N.BLOCKED
    _, st, _ = env.rpc.nlm(N.CANCEL, N.cancargs(b"ck", lk(env, "a", 2)))
    assert st == N.GRANTED_OK
    assert unlock(env, "a", 1) == N.GRANTED_OK
    time.sleep(0.5)
    assert env.client.count(N.GRANTED) == 0
    assert nlm_test(env, "a", 3)[0] == N.GRANTED_OK
    # CANCEL of something never asked for is harmless.
    _, st, _ = env.rpc.nlm(N.CANCEL, N.cancargs(b"ck", lk(env, "c", 7)))
    assert st == N.GRANTED_OK


def test_deadlock_is_refused(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    assert lock(env, "b", 2) == N.GRANTED_OK
    assert lock(env, "c", 3) == N.GRANTED_OK
    assert lock(env, "b", 1, block=True) == N.BLOCKED     # 1 waits for 2
    assert lock(env, "c", 2, block=True) == N.BLOCKED     # 2 waits for 3
    assert lock(env, "a", 3, block=True) == N.DEADLCK     # 3 would wait for 1
    assert lock(env, "a", 4, block=True) == N.BLOCKED     # no cycle through 4
    for name, svid in (("a", 1), ("b", 2), ("c", 3)):
        assert unlock(env, name, svid) == N.GRANTED_OK
    assert env.client.wait_call(N.GRANTED)


def test_refused_callback_takes_the_lock_back(env):
    """The client answers GRANTED with "nobody waits for that here": the
    server releases the grant and gives the owner back what it held."""
    env.client.granted_answer = N.DENIED
    assert lock(env, "a", 1, 0, 100, excl=False) == N.GRANTED_OK
    assert lock(env, "a", 3, 0, 10, excl=False) == N.GRANTED_OK
    assert lock(env, "a", 3, 0, 100, excl=True, block=True) == N.BLOCKED
    assert unlock(env, "a", 1) == N.GRANTED_OK
    assert env.client.wait_call(N.GRANTED)
    deadline = time.monotonic() + 5
    while nlm_test(env, "a", 9, 50, 1)[0] != N.GRANTED_OK and time.monotonic() < deadline:
        time.sleep(0.05)
    assert nlm_test(env, "a", 9, 50, 1)[0] == N.GRANTED_OK
    assert nlm_test(env, "a", 9, 0, 100)[1] == {"excl": 0, "svid": 3, "oh": b"owner3", "off": 0,
                                                 "len": 10}


def test_unreachable_client_then_resent_lock(env):
    """The client's lock manager is not registered: the callback fails and
    is retried while the lock is kept; the client's own re-sent LOCK then
    gets GRANTED."""
    env.client.granted_answer = None
    assert lock(env, "b", 1) == N.GRANTED_OK
    assert lock(env, "b", 2, block=True) == N.BLOCKED
    assert unlock(env, "b", 1) == N.GRANTED_OK
    time.sleep(1.0)
    assert nlm_test(env, "b", 1)[1]["svid"] == 2              # kept for the client
    assert lock(env, "b", 2, block=True) == N.GRANTED_OK
    assert unlock(env, "b", 2) == N.GRANTED_OK
    assert nlm_test(env, "b", 1)[0] == N.GRANTED_OK


def test_unreachable_client_loses_the_grant(env):
    env.client.granted_answer = None
    assert lock(env, "c", 1) == N.GRANTED_OK
    assert lock(env, "c", 2, block=True) == N.BLOCKED
    assert unlock(env, "c", 1) == N.GRANTED_OK
    deadline = time.monotonic() + 30
    while nlm_test(env, "c", 3)[0] != N.GRANTED_OK and time.monotonic() < deadline:
        time.sleep(0.2)
    assert nlm_test(env, "c", 3)[0] == N.GRANTED_OK
    status, err = env.srv.stop()
    assert "does not take the GRANTED callback" in err
    env.srv = Nfsd(env.export, env.tmp / "state")
    env.rpc = N.Server(env.srv.port)


def test_msg_forms_answer_through_res_calls(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    r = env.rpc.call_raw(N.NLM, 4, N.LOCK_MSG, N.lockargs(b"cookie-1", lk(env, "a", 2)))
    assert r.stat == 0
    call = env.client.wait_call(N.LOCK_RES)
    assert call and call[3] == b"cookie-1" and call[5] == N.DENIED
    env.rpc.call_raw(N.NLM, 4, N.TEST_MSG, N.testargs(b"cookie-2", lk(env, "a", 2)))
    call = env.client.wait_call(N.TEST_RES)
    assert call and call[3] == b"cookie-2" and call[5] == N.DENIED
    env.rpc.call_raw(N.NLM, 4, N.UNLOCK_MSG, N.unlockargs(b"cookie-3", lk(env, "a", 1)))
    call = env.client.wait_call(N.UNLOCK_RES)
    assert call and call[3] == b"cookie-3" and call[5] == N.GRANTED_OK
    assert nlm_test(env, "a", 2)[0] == N.GRANTED_OK


def test_versions_1_and_3(env):
    for vers in (1, 3):
        l1 = N.lock_desc(env.fh["a"], b"o1", 1, 10, 10, vers)
        l2 = N.lock_desc(env.fh["a"], b"o2", 2, 15, 1, vers)
        _, st, _ = env.rpc.nlm(N.LOCK, N.lockargs(b"c", l1), vers)
        assert st == N.GRANTED_OK
        _, st, u = env.rpc.nlm(N.TEST, N.testargs(b"c", l2), vers)
        assert st == N.DENIED
        assert (u.u32(), u.u32(), u.opaque(), u.u32(), u.u32()) == (1, 1, b"o1", 10, 10)
        _, st, _ = env.rpc.nlm(N.UNLOCK, N.unlockargs(b"c", l1), vers)
        assert st == N.GRANTED_OK
    # SHARE exists from version 3 on.
    r = env.rpc.call_raw(N.NLM, 1, N.SHARE, N.shareargs(b"c", env.fh["a"], b"o", 0, 1))
    assert r.stat == 3  # PROC_UNAVAIL


def test_shares(env):
    def share(oh, mode, access, proc=N.SHARE):
        u = env.rpc.call(N.NLM, 4, proc, N.shareargs(b"c", env.fh["b"], oh, mode, access))
        u.opaque()
        return u.u32()

    assert share(b"reader", 2, 1) == N.GRANTED_OK       # read, deny writers
    assert share(b"other-reader", 0, 1) == N.GRANTED_OK
    assert share(b"writer", 0, 2) == N.DENIED
    assert share(b"reader", 0, 0, N.UNSHARE) == N.GRANTED_OK
    assert share(b"writer", 0, 2) == N.GRANTED_OK
    assert share(b"excl", 3, 3) == N.DENIED


def test_client_reboot_releases_its_locks(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    assert lock(env, "b", 2) == N.GRANTED_OK
    # SM_NOTIFY from the rebooted client's statd (its address).
    env.rpc.call(N.NSM, 1, N.SM_NOTIFY, Packer().opaque("client").u32(5).bytes())
    assert nlm_test(env, "a", 9)[0] == N.GRANTED_OK
    assert nlm_test(env, "b", 9)[0] == N.GRANTED_OK
    assert lock(env, "c", 3) == N.GRANTED_OK
    env.rpc.call(N.NLM, 4, N.FREE_ALL, Packer().opaque("client").u32(7).bytes())
    assert nlm_test(env, "c", 9)[0] == N.GRANTED_OK
    u = env.rpc.call(N.NSM, 1, N.SM_STAT, Packer().opaque("x").bytes())
    assert u.u32() == 0 and u.u32() % 2 == 1


def test_grace_period_after_restart(env):
    assert lock(env, "a", 1) == N.GRANTED_OK
    env.restart("--grace", "2")
    assert lock(env, "b", 2) == N.DENIED_GRACE_PERIOD
    assert nlm_test(env, "b", 2)[0] == N.DENIED_GRACE_PERIOD
    assert lock(env, "a", 1, reclaim=True) == N.GRANTED_OK
    with open(env.export / "a", "r+b") as f:
        with pytest.raises(OSError):
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)
    time.sleep(2.5)
    assert lock(env, "b", 2) == N.GRANTED_OK
    assert lock(env, "c", 3, reclaim=True) == N.DENIED_GRACE_PERIOD
    state = int((env.tmp / "state" / "nsm_state").read_text())
    assert state % 2 == 1 and state >= 5


def test_malformed_calls(env):
    full = N.lockargs(b"ck", lk(env, "a", 1))
    for cut in (0, 3, 8, len(full) - 4, len(full) - 1):
        r = env.rpc.call_raw(N.NLM, 4, N.LOCK, full[:cut])
        assert r.stat == 4, cut  # GARBAGE_ARGS
    big = Packer().opaque(b"ck").u32(0).u32(1).opaque("x").opaque(b"\0" * 2000).bytes()
    assert env.rpc.call_raw(N.NLM, 4, N.LOCK, big).stat == 4
    bad_bool = Packer().opaque(b"ck").u32(7).raw(lk(env, "a", 1).bytes()).bytes()
    assert env.rpc.call_raw(N.NLM, 4, N.TEST, bad_bool).stat == 4
    # A handle that names nothing.
    l = N.lock_desc(b"\1" * 40, b"o", 1, 0, 0)
    assert env.rpc.nlm(N.LOCK, N.lockargs(b"c", l))[1] == N.STALE_FH
    assert env.rpc.call_raw(N.NLM, 4, 17).stat == 3      # PROC_UNAVAIL
    assert env.rpc.call_raw(N.NLM, 2, N.LOCK, full).stat == 2  # PROG_MISMATCH
    assert lock(env, "a", 1) == N.GRANTED_OK             # still serving


def test_read_only_export(env):
    env.restart("--read-only")
    assert lock(env, "a", 1, excl=True) == N.ROFS
    assert lock(env, "a", 1, excl=False) == N.GRANTED_OK
    assert nlm_test(env, "a", 2, excl=True)[1]["svid"] == 1
    assert unlock(env, "a", 1) == N.GRANTED_OK

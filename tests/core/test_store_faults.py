"""I/O errors and a full filesystem: every filesystem call of an operation fails once.

A FaultFs (passed to Store as ``fs=``) fails its k-th call (open, write, read,
close, remove, mkdir, listdir, size...) with EIO or ENOSPC; each store
operation is run with k = 1, 2, ... until it passes untouched. Each time the
operation must raise StoreError (StoreFull for ENOSPC) or succeed, and the
store on disk and in memory must be exactly the state before or after it.
"""

from portable import part_crc, rmtree, tmpdir
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store
from smtpmtm.store import fsutil
from smtpmtm.errors import StoreError, StoreFull
from faultfs import FaultFs



EIO = 5


def _setup(root):
    st = store.Store(root)
    a = st.create(E.Entry(parent=E.OUTBOX, description="a", sending_state=E.SEND_WAITING),
                  parts={"header": b"H" * 40, "body": b"B" * 1500})
    st.create(E.Entry(parent=a, type=E.TYPE_ATTACHMENT), parts={"data": b"D" * 100})
    return a


OPS = (
    ("create", lambda st, a: st.create(E.Entry(parent=E.DRAFTS, description="new"),
                                       parts={"header": b"h", "body": b"b" * 900})),
    ("update", lambda st, a: st.update(st.get(a).copy(sending_state=E.SEND_SENT, attempts=1))),
    ("move", lambda st, a: st.move(a, E.SENT)),
    ("copy", lambda st, a: st.copy(a, E.DRAFTS)),
    ("delete", lambda st, a: st.delete(a)),
    ("purge", lambda st, a: st.purge(a)),
    ("write_part", lambda st, a: st.write_part(a, "body", [b"new body"] * 50)),
    ("compact", lambda st, a: st.compact()),
)


def _dump_with_data(st):
    out = []
    for eid, enc, parts in st.dump():
        datas = [part_crc(st, eid, name)[1] for name, size in parts]
        out.append((eid, enc, parts, tuple(datas)))
    return out


def sweep(name, op, errno, limit=400):
    """Fail each call of `op` in turn; return (points tried, failures as strings)."""
    ref = tmpdir()
    a = _setup(ref)
    st = store.Store(ref)
    before = _dump_with_data(st)
    op(st, a)
    after = _dump_with_data(st)
    bad = []
    k = 1
    while k < limit:
        root = tmpdir()
        a = _setup(root)
        fs = FaultFs(0, errno)
        st = store.Store(root, fs=fs)
        fs.n = 0
        fs.fail_at = k
        try:
            op(st, a)
            ok = True
        except StoreError as e:
            ok = False
            if errno == fsutil.ENOSPC and not isinstance(e, StoreFull):
                bad.append("%s k=%d: %r is not StoreFull" % (name, k, e))
        except Exception as e:
            bad.append("%s k=%d: raised %r" % (name, k, e))
            ok = False
        if not fs.failed:
            break
        fs.fail_at = 0
        mem = _dump_with_data(st)
        disk = _dump_with_data(store.Store(root))
        if mem != disk:
            bad.append("%s k=%d: memory and disk differ" % (name, k))
        if disk != after and (ok or disk != before):
            bad.append("%s k=%d ok=%s: state is neither before nor after" % (name, k, ok))
        st.create(E.Entry(parent=E.INBOX, description="still usable"))
        if _dump_with_data(store.Store(root)) != _dump_with_data(st):
            bad.append("%s k=%d: not usable after the error" % (name, k))
        rmtree(root)  # each point's store goes: a board's small flash would fill
        k += 1
    rmtree(root)
    rmtree(ref)
    return k, bad


def _run(names, errno):
    for name, op in OPS:
        if name in names:
            points, bad = sweep(name, op, errno)
            assert points > 3, (name, points)
            assert not bad, bad


def test_eio_create_update_move():
    _run(("create", "update", "move"), EIO)


def test_eio_copy_delete_purge():
    _run(("copy", "delete", "purge"), EIO)


def test_eio_write_part_compact():
    _run(("write_part", "compact"), EIO)


def test_enospc_every_operation():
    _run(("create", "copy", "write_part", "compact", "purge"), fsutil.ENOSPC)


def test_open_with_io_error_raises_store_error_then_recovers():
    root = tmpdir()
    _setup(root)
    for k in range(1, 12):
        try:
            store.Store(root, fs=FaultFs(k))
        except StoreError:
            pass
    st = store.Store(root)
    assert len(st.children(E.OUTBOX)) == 1


def test_atomic_write_with_a_fault_at_every_call_keeps_old_or_new():
    root = tmpdir()
    p = root + "/settings"
    store.atomic_write(p, b"old" * 100)
    store.atomic_write(p, b"older" * 10)
    store.atomic_write(p, b"old" * 100)
    for errno in (EIO, fsutil.ENOSPC):
        k = 1
        while True:
            fs = FaultFs(k, errno)
            try:
                store.atomic_write(p, [b"new" * 100, b"!"], fs=fs)
                ok = True
            except StoreError as e:
                ok = False
                assert errno == EIO or isinstance(e, StoreFull)
            if not fs.failed:
                break
            got = store.read_file(p)
            assert got == (b"new" * 100 + b"!" if ok else b"old" * 100) or \
                (not ok and got == b"new" * 100 + b"!"), (k, got[:10])
            store.atomic_write(p, b"old" * 100)
            k += 1
        assert k > 5


class FullFs(fsutil.Fs):
    """A filesystem with no free space: opening for writing raises ENOSPC until
    `free` becomes True (a remove frees space)."""

    def __init__(self):
        self.free = False

    def open(self, path, mode):
        if "r" not in mode and not self.free:
            raise OSError(fsutil.ENOSPC)
        return open(path, mode)

    def remove(self, path):
        fsutil.Fs.remove(self, path)
        self.free = True


def test_full_flash_with_a_torn_index_tail_still_opens_then_recovers():
    root = tmpdir()
    a = _setup(root)
    st = store.Store(root)
    before = _dump_with_data(st)
    slot = root + "/index.%d" % st._slot
    with open(slot, "ab") as f:
        f.write(b"\x05torn")  # a record cut short by a power loss
    fs = FullFs()
    st = store.Store(root, fs=fs)  # must not raise at boot
    assert st.report["degraded"] and st.report["dropped_bytes"] == 5
    assert _dump_with_data(st) == before and len(st.children(E.OUTBOX)) == 1
    e = None
    try:
        st.create(E.Entry(parent=E.DRAFTS))
    except StoreFull as x:
        e = x
    assert e is not None and _dump_with_data(st) == before
    st.purge(a)  # frees its parts first, then rewrites the index
    assert st.children(E.OUTBOX) == [] and not st._degraded
    st.create(E.Entry(parent=E.DRAFTS, description="after"))
    assert _dump_with_data(store.Store(root)) == _dump_with_data(st)

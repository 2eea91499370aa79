"""Flash full and live power cuts on small images, inside the MicroPython unix port.

    micropython -X heapsize=16m blockdev_full.py full KIND BLOCKS
    micropython -X heapsize=48m blockdev_full.py live KIND SEED N...

``full``: a small image (BLOCKS x 4096 bytes) is filled with saved messages
until the store raises StoreFull; the state (and a settings file) must be
unchanged, on reopen too, and after purging one message a save must work
again. Prints ``FULL ok saved=.. kind=..`` or ``FULL FAIL ...``.

``live``: the live-cut mode of blockdev.CutDevice (writes after N dropped,
the workload keeps running and may see errors): the image must stay exactly as
it was at the cut, and the store must open from it and reopen the same. Prints
``LIVE ok points=..`` or ``LIVE FAIL ...``.
"""

import sys

from blockdev import CutDevice
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store
from smtpmtm.errors import StoreFull, StoreError

M = "/f"


def full(kind, blocks):
    dev = CutDevice(blocks=blocks)
    CutDevice.format(dev, kind)
    dev.mount(M)
    st = store.Store(M + "/mail")
    store.atomic_write(M + "/settings", b"keep me " * 40)
    saved = []
    err = None
    i = 0
    while i < 500:
        i += 1
        e = E.Entry(parent=E.OUTBOX, description="m%d" % i, sending_state=E.SEND_WAITING)
        before = st.dump()
        try:
            saved.append(st.create(e, parts={"header": b"H" * 80,
                                             "body": [b"B" * 512] * (1 + i % 5)}))
        except StoreFull as x:
            err = x
            break
    fails = []
    if err is None:
        fails.append("never ran out")
    if st.dump() != before:
        fails.append("state changed by the failed save")
    try:
        store.atomic_write(M + "/settings", b"new " * 2000)
        fails.append("big settings write did not fail")
    except StoreFull:
        pass
    if store.read_file(M + "/settings") != b"keep me " * 40:
        fails.append("settings lost")
    st2 = store.Store(M + "/mail")
    if st2.dump() != before:
        fails.append("reopened state differs")
    try:
        st2.purge(saved[0])
        st2.purge(saved[1])
        st2.create(E.Entry(parent=E.OUTBOX, description="after"), parts={"body": b"x" * 600})
        st2.compact()
    except StoreError as x:
        fails.append("not usable after freeing space: %r" % x)
    if len(st2.children(E.OUTBOX)) != len(saved) - 1:
        fails.append("wrong count after recovery")
    CutDevice.umount(M)
    print("FULL %s saved=%d kind=%s err=%r %s" % (
        "FAIL" if fails else "ok", len(saved), kind, err, "; ".join(fails)))


def live(kind, seed, points):
    """Cut live at write n: nothing after it may reach the image; the store recovers."""
    from powercut_run import workload
    bad = []
    tried = 0
    for n in points:
        for torn in (False, True):
            dev = CutDevice(blocks=256)
            CutDevice.format(dev, kind)
            dev.writes = 0
            dev.cut_at, dev.torn, dev.keep_cut = n, torn, True
            dev.mount("/w")
            try:
                workload(12, seed, lambda st: None)
            except Exception:
                pass  # the board lost power: whatever the code saw no longer matters
            CutDevice.umount("/w")
            if dev.at_cut is None:
                continue  # the workload made fewer than n writes
            tried += 1
            if dev.data != dev.at_cut:
                bad.append("n=%d torn=%d: written after the cut" % (n, torn))
                continue
            d = CutDevice(data=bytearray(dev.data))
            d.mount("/c", kind)
            try:
                first = store.Store("/c/mail").dump()
                if store.Store("/c/mail").dump() != first:
                    bad.append("n=%d torn=%d: reopen differs" % (n, torn))
            except Exception as e:
                bad.append("n=%d torn=%d: %r" % (n, torn, e))
            CutDevice.umount("/c")
    print("LIVE %s points=%d %s" % ("FAIL" if bad or not tried else "ok", tried, " ".join(bad)))


if sys.argv[1] == "full":
    full(sys.argv[2], int(sys.argv[3]))
elif sys.argv[1] == "live":
    live(sys.argv[2], int(sys.argv[3]), [int(a) for a in sys.argv[4:]])

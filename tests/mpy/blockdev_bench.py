"""Store measurements on a littlefs2/FAT RAM image in the MicroPython unix port.

    micropython -X heapsize=8m blockdev_bench.py INDEXFILE

INDEXFILE is an index slot file (a sealed snapshot of 1,000 entries) built on
the host; it is copied into a fresh 2 MiB littlefs2 image as a store, then the
store is opened (timed, best of 5). Then on fresh littlefs and FAT images,
ten 1 KB messages are queued (create in Outbox, header + 1 KB body, state
Waiting) and the block writes (writeblocks calls) each one costs are counted.
Last, on littlefs, a 64 KiB attachment written in 100-byte rows through the
store's PartWriter (straight into the part file), against the way it was done
before: spool the rows to a temporary file, then copy that into the store.
Prints one line ``BENCH {json}``.
"""

import gc
import sys
import time

from blockdev import CutDevice
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store


def open_1000(path):
    dev = CutDevice(blocks=512)
    CutDevice.format(dev, "lfs")
    dev.mount("/b")
    import os
    os.mkdir("/b/mail")
    os.mkdir("/b/mail/p")
    with open(path, "rb") as src, open("/b/mail/index.0", "wb") as dst:
        buf = bytearray(512)
        while True:
            n = src.readinto(buf)
            if not n:
                break
            dst.write(memoryview(buf)[:n])
    best = None
    heap = 0
    for i in range(5):
        gc.collect()
        before = gc.mem_alloc()
        r0 = dev.reads
        t0 = time.ticks_us()
        st = store.Store("/b/mail")
        dt = time.ticks_diff(time.ticks_us(), t0)
        gc.collect()
        reads = dev.reads - r0
        if best is None or dt < best:
            best = dt
        n = len(st.ids())
    # heap a store keeps: open a second one while the first stays alive (exact
    # with a conservative GC, which may keep a just-dropped store around)
    gc.collect()
    before = gc.mem_alloc()
    st2 = store.Store("/b/mail")
    gc.collect()
    heap = gc.mem_alloc() - before
    del st, st2
    CutDevice.umount("/b")
    return best / 1000.0, n, heap, reads


def queue_writes(kind):
    dev = CutDevice(blocks=256)
    CutDevice.format(dev, kind)
    dev.mount("/q")
    st = store.Store("/q/mail")
    counts = []
    erases = []
    for i in range(10):
        w0, e0 = dev.writes, dev.erases
        e = E.Entry(parent=E.OUTBOX, mtm=E.MTM_SMTP, description="Report %d" % i,
                    details="ops@example.com", date=1732790000 + i, size=1200,
                    sending_state=E.SEND_WAITING)
        st.create(e, parts={"header": b"To: ops@example.com\r\nSubject: Report\r\n" * 3,
                            "body": b"x" * 1024})
        counts.append(dev.writes - w0)
        erases.append(dev.erases - e0)
    CutDevice.umount("/q")
    return sum(counts) / len(counts), sum(erases) / len(erases)


def _chunks(f):
    while True:
        b = f.read(512)
        if not b:
            return
        yield b


def rows_writes():
    """(block writes: PartWriter, spool + copy) for 64 KiB written in 100-byte rows."""
    dev = CutDevice(blocks=256)
    CutDevice.format(dev, "lfs")
    dev.mount("/r")
    st = store.Store("/r/mail")
    mid = st.create(E.Entry(parent=E.DRAFTS, mtm=E.MTM_SMTP), parts={"header": b"x"})
    row = b"%099d" % 0
    got = []
    for way in ("writer", "spool"):
        w0 = dev.writes
        if way == "writer":
            w = st.part_writer(mid, "a1")
            for _ in range(655):
                w.write(row)
            w.commit()
        else:
            with open("/r/mail/w-tmp", "wb") as f:
                for _ in range(655):
                    f.write(row)
            with open("/r/mail/w-tmp", "rb") as f:
                st.write_part(mid, "a2", _chunks(f))
            import os
            os.remove("/r/mail/w-tmp")
        got.append(dev.writes - w0)
    CutDevice.umount("/r")
    return got


ms, n, heap, reads = open_1000(sys.argv[1])
rw = rows_writes()
lw, le = queue_writes("lfs")
fw, fe = queue_writes("fat")
print("BENCH {\"open_ms\": %.2f, \"entries\": %d, \"open_heap\": %d, \"open_reads\": %d, "
      "\"lfs_writes\": %.1f, \"lfs_erases\": %.1f, \"fat_writes\": %.1f, \"fat_erases\": %.1f, "
      "\"rows_writer\": %d, \"rows_spool\": %d}" % (ms, n, heap, reads, lw, le, fw, fe, rw[0], rw[1]))

"""`make bench` section: the message store's index size, open time and write cost.

Figures: index_bytes_per_entry (sealed snapshot bytes / entries) vs
json_bytes_per_entry (compact JSON of the same entries, every field),
store_open_1000_ms_cpy (host disk) and store_open_1000_ms_mpy (MicroPython
unix port, 2 MiB littlefs2 RAM image), block_writes_per_1k_message (littlefs
writeblocks calls to queue one message with a 1 KB body; FAT alongside),
block_writes_64k_attachment_in_rows (a 64 KiB attachment written in 100-byte rows
through Store.part_writer, as Client.create_attachment does) against the same
spooled to a temporary file and copied in (the ``_spooled`` figure).
"""

import json
import os
import re
import shutil
import sys
import tempfile
import time

from host import mpy

sys.path.insert(0, os.path.join(mpy.ROOT, "shared"))

from smtpmtm.store import entry as E
from smtpmtm.store import index as X  # noqa: E402
from smtpmtm.store.tree import Store  # noqa: E402


def _entries(n=1000):
    out = []
    for i in range(n):
        folder = (E.OUTBOX, E.SENT, E.DRAFTS, E.INBOX)[i % 4]
        out.append(E.Entry(
            parent=folder, service=0x100000, mtm=E.MTM_SMTP, date=1732790000 + 60 * i,
            size=900 + (i * 37) % 4000, description="Pump house report %d" % i,
            details="ops%d@example.com" % (i % 7),
            flags=E.PRIORITY_MEDIUM | (E.FLAG_ATTACHMENT if i % 3 == 0 else 0),
            sending_state=E.SEND_SENT if folder == E.SENT else E.SEND_WAITING,
            attempts=i % 3))
    return out


def _build(root, entries):
    st = Store(root)
    svc = st.create(E.Entry(parent=E.ROOT, type=E.TYPE_SERVICE, mtm=E.MTM_SMTP, details="Work"))
    ids = []
    for e in entries:
        e.service = svc
        st._st.entries[st._st.next_id] = X.encode(e.copy(id=st._st.next_id))  # bulk load
        ids.append(st._st.next_id)
        st._st.next_id += 1
    st.compact()
    return st, os.path.join(root, "index.%d" % st._slot)


def run(argv):
    tmp = tempfile.mkdtemp(prefix="b_store")
    try:
        entries = _entries()
        st, slot = _build(os.path.join(tmp, "s"), entries)
        n = len(st.ids())
        idx_bytes = os.path.getsize(slot) / float(len(entries))
        fields = [dict((k, getattr(X.decode(b), k)) for k in E.FIELDS)
                  for b in st._st.entries.values()]
        json_bytes = sum(len(json.dumps(f, separators=(",", ":"))) for f in fields) / float(n)
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            Store(os.path.join(tmp, "s"))
            dt = (time.perf_counter() - t0) * 1000
            best = dt if best is None else min(best, dt)
        proc = mpy.run("tests/mpy/blockdev_bench.py", [slot], heap="8m", path=("tests/mpy",),
                       timeout=600)
        out = proc.stdout.decode() + proc.stderr.decode()
        m = re.search(r"BENCH (\{.*\})", out)
        if not m:
            raise RuntimeError("MicroPython bench failed: " + out[-2000:])
        mp = json.loads(m.group(1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {
        "index_bytes_per_entry": round(idx_bytes, 1),
        "json_bytes_per_entry": round(json_bytes, 1),
        "store_open_1000_ms_cpy": round(best, 2),
        "store_open_1000_ms_mpy": mp["open_ms"],
        "store_open_1000_heap_bytes_mpy": mp["open_heap"],
        "block_writes_per_1k_message": mp["lfs_writes"],
        "block_writes_per_1k_message_fat": mp["fat_writes"],
        "block_writes_64k_attachment_in_rows": mp["rows_writer"],
        "block_writes_64k_attachment_in_rows_spooled": mp["rows_spool"],
    }
    rows = [
        {"section": "store", "measure": "index bytes per entry (vs JSON of the same entry)",
         "smtpmtm": figures["index_bytes_per_entry"], "peer": "JSON, compact",
         "peer value": figures["json_bytes_per_entry"], "target": "far smaller than JSON"},
        {"section": "store", "measure": "open a store of %d entries, CPython, ms" % n,
         "smtpmtm": figures["store_open_1000_ms_cpy"], "peer": "", "peer value": "",
         "target": "fast boot"},
        {"section": "store", "measure": "open a store of %d entries, MicroPython littlefs2, ms"
         % mp["entries"], "smtpmtm": figures["store_open_1000_ms_mpy"],
         "peer": "heap kept by the open store (bytes, 64-bit port)", "peer value": mp["open_heap"], "target": "< 1 s"},
        {"section": "store", "measure": "block writes to queue one 1 KB message (littlefs2)",
         "smtpmtm": figures["block_writes_per_1k_message"], "peer": "same on FAT",
         "peer value": figures["block_writes_per_1k_message_fat"], "target": "few"},
        {"section": "store", "measure": "block writes: a 64 KiB attachment written in 100-byte rows"
         " (littlefs2)", "smtpmtm": figures["block_writes_64k_attachment_in_rows"],
         "peer": "spooled to a temporary file, then copied in",
         "peer value": figures["block_writes_64k_attachment_in_rows_spooled"], "target": "fewer"},
    ]
    return rows, figures

"""Bench section "client": the smallest MicroPython heap that composes and queues a message.

The workload (run inside the MicroPython unix port): open a store, create an
account, create a message with a 1 MiB attachment copied from a file, a 64 KiB
body from a file, a reply (streamed "> " quoting) and a forward (attachment
copied again), save and queue them. The section bisects ``-X heapsize`` for
the smallest heap that completes it, twice: with the core compiled from
source at import (what the test harness does) and with .mpy files from
mpy-cross (closer to a board, where the code is frozen into flash and costs
no heap at all). It also reports the heap taken by the imported code alone.

The peer column is empty: none of the embedded peers (uMail, ESP-Mail-Client,
...) has a message store or a client MTM to compare with.
"""

import os
import shutil
import tempfile

from host import mpy
from host.mpytable import compile_all

SCRIPT = r'''
import gc, os, sys
root = sys.argv[1]
mode = sys.argv[2]
gc.collect()
base = gc.mem_alloc()
from smtpmtm.store.tree import Store
from smtpmtm.accounts import Accounts
from smtpmtm.settings import SmtpSettings
from smtpmtm.client.mtm import Client
from smtpmtm.client import compose
gc.collect()
print("CODE", gc.mem_alloc() - base)
if mode == "import":
    print("OK")
    sys.exit(0)
st = Store(root + "/store")
ac = Accounts(st)
ac.set_default(ac.create("b", SmtpSettings(server="smtp.example.com", starttls=True,
                                            email_address="b@example.com")))
c = Client(st, ac, lambda: 1700000000)
c.create_message()
c.add_addressee("ann@example.com", "to", "Ann")
c.subject = "bench"
c.set_body_text(path=root + "/body.txt")
c.add_attachment(root + "/big.bin")
c.save_message()
mid = c.queue()
c.reply(to_all=True)
c.switch(mid)
c.forward()
c.save_message()
print("OK")
'''


def _prepare(tmp):
    with open(os.path.join(tmp, "big.bin"), "wb") as f:
        block = bytes(range(256)) * 16
        for _ in range(256):  # 1 MiB
            f.write(block)
    with open(os.path.join(tmp, "body.txt"), "wb") as f:
        for i in range(1024):  # 64 KiB of 64-byte lines
            f.write(b"%063d\n" % i)
    path = os.path.join(tmp, "w.py")
    with open(path, "w") as f:
        f.write(SCRIPT)
    return path


def _ok(script, tmp, heap_k, path, mode="work"):
    work = os.path.join(tmp, "run%d" % heap_k)
    shutil.rmtree(work, ignore_errors=True)
    os.mkdir(work)
    for n in ("big.bin", "body.txt"):
        os.link(os.path.join(tmp, n), os.path.join(work, n))
    p = mpy.run(script, [work, mode], heap="%dk" % heap_k, path=path, timeout=300)
    out = p.stdout.decode()
    code = None
    for line in out.splitlines():
        if line.startswith("CODE "):
            code = int(line.split()[1])
    return "OK" in out and p.returncode == 0, code


def _min_heap(script, tmp, path):
    lo, hi = 16, 512  # KiB: lo fails, hi works
    if not _ok(script, tmp, hi, path)[0]:
        return None
    while hi - lo > 4:
        mid = (lo + hi) // 2
        if _ok(script, tmp, mid, path)[0]:
            hi = mid
        else:
            lo = mid
    return hi


def run(argv):
    tmp = tempfile.mkdtemp(prefix="bclient")
    try:
        script = _prepare(tmp)
        src_heap = _min_heap(script, tmp, ())
        code_src = _ok(script, tmp, 512, (), "import")[1]
        lib = os.path.join(tmp, "mpylib")
        compile_all(None, lib, sources=("shared",))
        mpy_heap = _min_heap(script, tmp, (lib,))
        code_mpy = _ok(script, tmp, 512, (lib,), "import")[1]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    work_k = (mpy_heap - code_mpy // 1024) if mpy_heap and code_mpy else None
    rows = [
        {"section": "client", "measure": "min heap: 1 MiB attachment + reply + forward (source)",
         "smtpmtm": "%s KiB" % src_heap, "peer": "-", "peer value": "-", "target": "-"},
        {"section": "client", "measure": "min heap: same workload (.mpy)",
         "smtpmtm": "%s KiB" % mpy_heap, "peer": "-", "peer value": "-", "target": "-"},
        {"section": "client", "measure": "working heap beyond the code (.mpy; ~ frozen board)",
         "smtpmtm": "%s KiB" % work_k, "peer": "-", "peer value": "-", "target": "<= 64 KiB"},
        {"section": "client", "measure": "heap held by store+accounts+client code (source / .mpy)",
         "smtpmtm": "%s / %s KiB" % (code_src // 1024 if code_src else "?",
                                     code_mpy // 1024 if code_mpy else "?"),
         "peer": "-", "peer value": "-", "target": "0 when frozen"},
    ]
    figs = {"client_min_heap_kb_src": src_heap, "client_min_heap_kb_mpy": mpy_heap,
            "client_code_heap_bytes_src": code_src, "client_code_heap_bytes_mpy": code_mpy,
            "client_working_heap_kb": work_k}
    return rows, figs

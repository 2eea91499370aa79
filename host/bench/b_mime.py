"""`make bench` section: the MIME builder alone (no network), MicroPython heap and speed, CPython.

MicroPython with 64 KiB of free heap, the mime stack precompiled with mpy-cross and loaded
first, as on a board where it is frozen (tests/mpy/budget.py then pins all the heap but one
64 KiB region; a bare -X heapsize=64k would also hold the code): a message with a 100 KB, 1 MB and 16 MB attachment (written by the
host); the live heap growth while streaming (gc.collect() + gc.mem_alloc() every 32
chunks, minus the heap before build()), and the builder's output rate against the
ceiling of reading the same file and running binascii.b2a_base64 on it in the same run
(interleaved, best of 3; the rate counts the builder's output bytes, CRLFs included).
The peer on MicroPython is what the small-board examples do (ESP32-CAM mail_image.py,
uMail users): read the whole file and b2a_base64 it in RAM; the row says the largest of
the three sizes that survives at 64k.
CPython: the 16 MB message through the core (build + chunks) and through
email.message.EmailMessage + as_bytes(): best of 2 wall times, tracemalloc peaks.
"""

import os
import sys
import tempfile
import time
import tracemalloc

from host import mpy
from host.mpytable import compile_all

if os.path.join(mpy.ROOT, "shared") not in sys.path:
    sys.path.insert(0, os.path.join(mpy.ROOT, "shared"))

# the mime builder and what it imports (tests/host/test_mime_heap.py compiles the same)
STACK = ("__init__", "compat", "errors", "syntax", "mime/__init__", "mime/headers", "mime/encoders",
         "mime/filetypes")
SIZES = (("100k", 100 * 1024), ("1m", 1 << 20), ("16m", 16 << 20))

SCRIPT = """
import gc, sys, time, binascii
import budget
from smtpmtm import mime
budget.preload(extra=())
path, mode = sys.argv[1], sys.argv[2]
ballast = budget.pin_all_but(65536)
if mode == "naive":
    try:
        with open(path, "rb") as f:
            enc = binascii.b2a_base64(f.read())
        print("RESULT ok", len(enc))
    except MemoryError:
        print("RESULT MemoryError 0")
    sys.exit(0)
m = mime.Message(sender="cam@example.com", to=["ann@example.com"], subject="bench",
                 date=1732790000, message_id="<bench@example.com>")
m.set_text("picture attached")
m.attach(path, name="pic.jpg")
if mode == "ceiling":
    buf = bytearray(342)
    t = time.ticks_ms()
    n = 0
    with open(path, "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            n += len(binascii.b2a_base64(memoryview(buf)[:k], newline=False))
    print("RESULT", n, time.ticks_diff(time.ticks_ms(), t))
    sys.exit(0)
gc.collect()
base = gc.mem_alloc()
t = time.ticks_ms()
b = mime.build(m)
n = peak = i = 0
if mode == "heap":
    for c in b.chunks():
        n += len(c)
        i += 1
        if i % 32 == 0:
            gc.collect()
            peak = max(peak, gc.mem_alloc() - base)
else:
    for c in b.chunks():
        n += len(c)
ms = time.ticks_diff(time.ticks_ms(), t)
if n != b.size:
    sys.exit(3)
print("RESULT", n, peak if mode == "heap" else ms)
"""


def compile_stack(out):
    """The mime stack (STACK) as .mpy in out/smtpmtm/; the rest of the core is left out."""
    compile_all(None, out, sources=("shared",), only=["smtpmtm/%s.py" % n for n in STACK])


def _write(path, size):
    block = bytes((i * 7) & 255 for i in range(65536))
    with open(path, "wb") as f:
        for off in range(0, size, len(block)):
            f.write(block[:min(len(block), size - off)])


def _mp(script, libdir, path, mode):
    proc = mpy.run(script, [path, mode], heap="1m", path=(libdir, os.path.join(mpy.ROOT, "tests", "mpy")),
                   timeout=600)
    out = proc.stdout.decode() + proc.stderr.decode()
    line = [x for x in out.splitlines() if x.startswith("RESULT")]
    if proc.returncode or not line:
        raise RuntimeError("micropython %s failed: %s" % (mode, out[-500:]))
    return line[0].split()[1:]


def _cpython(path):
    from email.message import EmailMessage

    from smtpmtm import mime

    def core():
        m = mime.Message(sender="cam@example.com", to=["ann@example.com"], subject="bench",
                         date=1732790000, message_id="<bench@example.com>")
        m.set_text("picture attached")
        m.attach(path, name="pic.jpg")
        n = 0
        for c in mime.build(m).chunks():
            n += len(c)
        return n

    def peer():
        e = EmailMessage()
        e["From"], e["To"], e["Subject"] = "cam@example.com", "ann@example.com", "bench"
        e.set_content("picture attached")
        with open(path, "rb") as f:
            e.add_attachment(f.read(), maintype="image", subtype="jpeg", filename="pic.jpg")
        return len(e.as_bytes())

    res = {}
    for name, fn in (("core", core), ("peer", peer)):
        best = None
        for _ in range(2):
            t = time.perf_counter()
            fn()
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        res[name] = (best, peak)
    return res


def run(argv):
    tmp = tempfile.mkdtemp(prefix="bmime")
    lib = os.path.join(tmp, "lib")
    compile_stack(lib)
    script = os.path.join(tmp, "bench_mime.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    figs, growth, naive_ok = {}, [], "none"
    for label, size in SIZES:
        path = os.path.join(tmp, "f_%s.bin" % label)
        _write(path, size)
        g = int(_mp(script, lib, path, "heap")[1])
        figs["mime_mpy_heap_growth_%s" % label] = g
        growth.append("%s: %.1f KiB" % (label, g / 1024.0))
        if _mp(script, lib, path, "naive")[0] == "ok":
            naive_ok = label
    big = os.path.join(tmp, "f_16m.bin")
    ms = cms = None
    for _ in range(3):  # interleaved, best of 3: both see the same machine load
        n, t = (int(x) for x in _mp(script, lib, big, "time"))
        ms = t if ms is None else min(ms, t)
        cn, t = (int(x) for x in _mp(script, lib, big, "ceiling"))
        cms = t if cms is None else min(cms, t)
    mbps = n / 1e6 / max(ms, 1) * 1000
    ceil = cn / 1e6 / max(cms, 1) * 1000
    figs["mime_mpy_mbps"] = round(mbps, 1)
    figs["mime_mpy_ceiling_ratio"] = round(mbps / ceil, 3)
    cp = _cpython(big)
    figs["mime_cpy_time_ratio_vs_email"] = round(cp["core"][0] / cp["peer"][0], 3)
    figs["mime_cpy_mem_ratio_vs_email"] = round(cp["core"][1] / cp["peer"][1], 4)
    for f in os.listdir(tmp):
        if f.endswith(".bin"):
            os.remove(os.path.join(tmp, f))
    rows = [
        {"section": "mime", "measure": "MicroPython 64k: live heap growth while streaming",
         "smtpmtm": ", ".join(growth), "peer": "whole file + b2a_base64 in RAM",
         "peer value": "largest that fits: %s" % naive_ok, "target": "flat, < 16 KiB"},
        {"section": "mime", "measure": "MicroPython 64k: 16 MB message output rate",
         "smtpmtm": "%.1f MB/s" % mbps, "peer": "read + b2a_base64 only (ceiling)",
         "peer value": "%.1f MB/s (ratio %.2f)" % (ceil, mbps / ceil), "target": ">= 0.5 of ceiling"},
        {"section": "mime", "measure": "CPython: 16 MB message, time / peak memory",
         "smtpmtm": "%.2f s / %.0f KiB" % (cp["core"][0], cp["core"][1] / 1024.0),
         "peer": "email.message + as_bytes()",
         "peer value": "%.2f s / %.0f KiB" % (cp["peer"][0], cp["peer"][1] / 1024.0),
         "target": "faster, 1/10 memory"},
    ]
    return rows, figs

"""The 1 MB streaming scenario of tests/core/test_mime_stream.py with 64 KiB of free heap.

Host-only: it precompiles the mime stack and the scenario with mpy-cross and runs them in
the MicroPython unix port through host.mpy, then reads the heap figures the run prints.
As on a board with the code frozen into flash, the code is loaded first and then
tests/mpy/budget.py pins all the heap but one contiguous 64 KiB region for the data.
(A bare ``-X heapsize=64k`` holds the code too, and then the margin depends on how long
the temporary paths of the machine are: CI once failed at 62 of 64 KiB.)
"""

import os

from host import mpy
from host.bench.b_mime import compile_stack
from host.mpytable import compile_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
import gc, sys
import budget
import test_mime_stream as t
from portable import tmpdir
budget.preload(extra=())
d = tmpdir()
ballast = budget.pin_all_but(65536)
for size in (100 << 10, 1 << 20):
    t.write_pattern(d + "/f.bin", size)
    gc.collect()
    b, total, pos, peak = t.stream(d + "/f.bin")
    if pos != size or total != b.size:
        sys.exit(1)
    print("RESULT", size, b.size, peak)
    b = None
"""


def run_in_64k(tmp_path):
    out = str(tmp_path / "mpy")
    compile_stack(out)
    compile_all(None, out, sources=("tests/core",), only=("portable.py", "test_mime_stream.py"))
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = mpy.run(str(script), heap="1m", path=(out, os.path.join(ROOT, "tests", "mpy")),
                   env={"SMTPMTM_TEST_TMP": str(tmp_path)}, timeout=300)
    text = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, text
    rows = [line.split()[1:] for line in text.splitlines() if line.startswith("RESULT")]
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


def test_one_megabyte_in_64k_of_free_heap_with_flat_memory(tmp_path):
    got = run_in_64k(tmp_path)
    small, big = got[100 << 10], got[1 << 20]
    assert big[0] > (1 << 20) * 4 // 3
    assert big[1] < 16384 and small[1] < 16384  # live heap growth while streaming
    assert abs(big[1] - small[1]) < 1024  # the same for 100 KB and 1 MB

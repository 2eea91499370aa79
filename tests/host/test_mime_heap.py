"""The 1 MB streaming scenario of tests/core/test_mime_stream.py at -X heapsize=64k.

Host-only: it precompiles the mime stack and the scenario with mpy-cross (as a board runs
frozen or .mpy code; compiling the sources on the 64-bit unix port alone needs more than
64 KB) and runs them in the MicroPython unix port through host.mpy, then reads the
heap figures the run prints.
"""

import os
import subprocess

from host import mpy
from host.mpytable import mpy_cross

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK = ("__init__", "compat", "errors", "headers", "encoders", "mimeparts", "mimehead", "mime")

SCRIPT = """
import gc, sys
import test_mime_stream as t
from portable import tmpdir
d = tmpdir()
for size in (100 << 10, 1 << 20):
    t.write_pattern(d + "/f.bin", size)
    gc.collect()
    b, total, pos, peak = t.stream(d + "/f.bin")
    if pos != size or total != b.size:
        sys.exit(1)
    print("RESULT", size, b.size, peak)
    b = None
"""


def compile_stack(out):
    os.makedirs(os.path.join(out, "smtpmtm"))
    for name in STACK:
        subprocess.run([mpy_cross(), "-o", os.path.join(out, "smtpmtm", name + ".mpy"),
                        os.path.join(ROOT, "shared", "smtpmtm", name + ".py")], check=True)
    for name in ("portable", "test_mime_stream"):
        subprocess.run([mpy_cross(), "-o", os.path.join(out, name + ".mpy"),
                        os.path.join(ROOT, "tests", "core", name + ".py")], check=True)


def run_at_64k(tmp_path):
    out = str(tmp_path / "mpy")
    compile_stack(out)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = mpy.run(str(script), heap="64k", path=(out,),
                   env={"SMTPMTM_TEST_TMP": str(tmp_path)}, timeout=300)
    text = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, text
    rows = [line.split()[1:] for line in text.splitlines() if line.startswith("RESULT")]
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


def test_one_megabyte_at_64k_heap_with_flat_memory(tmp_path):
    got = run_at_64k(tmp_path)
    small, big = got[100 << 10], got[1 << 20]
    assert big[0] > (1 << 20) * 4 // 3
    assert big[1] < 16384 and small[1] < 16384  # live heap growth while streaming
    assert abs(big[1] - small[1]) < 1024  # the same for 100 KB and 1 MB

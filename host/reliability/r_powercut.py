"""`make reliability` section: power cuts at every block write, I/O errors at every call.

Power loss: tests/mpy/powercut_run.py in the MicroPython unix port, on
littlefs2 and on FAT (1 MiB, 4096-byte blocks; FAT also on 512-byte
sectors as on an SD card), every write of the seeded
workload cut clean and torn, and every write of each recovery cut again.
I/O errors: every filesystem call of every store operation fails once with
EIO, then with ENOSPC (tests/core/test_store_faults.sweep, CPython).
Flash full: blockdev_full.py on small littlefs2 and FAT images.
Figures: powercut_points(_fat, _fat512), powercut_failures(_fat, _fat512),
powercut_recovery_points(_fat, _fat512),
io_error_points, io_error_failures.
"""

import os
import re
import sys
import tempfile

from host import mpy

SEEDS = (1, 2)


def _powercut(kind, seed):
    proc = mpy.run("tests/mpy/powercut_run.py", [kind, seed, "all", "all", 24], heap="48m",
                   path=("tests/mpy", "tests/core"), timeout=3600)
    out = proc.stdout.decode() + proc.stderr.decode()
    m = re.search(r"POWERCUT kind=\w+ writes=(\d+) points=(\d+) checks=(\d+) "
                  r"recovery_checks=(\d+) failures=(\d+)", out)
    if not m or proc.returncode:
        raise RuntimeError("powercut run failed: " + out[-2000:])
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    return [int(x) for x in m.groups()], fails


def _io_errors():
    sys.path.insert(0, os.path.join(mpy.ROOT, "tests", "core"))
    sys.path.insert(0, os.path.join(mpy.ROOT, "shared"))
    os.environ["SMTPMTM_TEST_TMP"] = tempfile.mkdtemp(prefix="r_io")
    import test_store_faults as T
    from smtpmtm.store import fsutil

    points = 0
    bad = []
    for name, op in T.OPS:
        for errno in (T.EIO, fsutil.ENOSPC):
            k, b = T.sweep(name, op, errno)
            points += k - 1
            bad += b
    return points, bad


def _full(kind, blocks):
    proc = mpy.run("tests/mpy/blockdev_full.py", ["full", kind, blocks], heap="16m",
                   path=("tests/mpy", "tests/core"), timeout=600)
    return "FULL ok" in proc.stdout.decode()


def run(argv):
    rows = []
    figures = {}
    for kind, suffix in (("lfs", ""), ("fat", "_fat"), ("fat512", "_fat512")):
        checks = rchecks = fails = 0
        notes = []
        for seed in SEEDS:
            (writes, points, c, rc, f), lines = _powercut(kind, seed)
            checks += c
            rchecks += rc
            fails += f
            notes.append("seed %d: %d writes" % (seed, writes))
            for line in lines[:3]:
                notes.append(line)
        figures["powercut_points" + suffix] = checks
        figures["powercut_recovery_points" + suffix] = rchecks
        figures["powercut_failures" + suffix] = fails
        rows.append({"suite": "power cut, %s (every write, clean+torn)" % kind,
                     "cases": checks, "failures": fails, "notes": "; ".join(notes)})
        rows.append({"suite": "power cut during recovery, %s" % kind, "cases": rchecks,
                     "failures": "(in the line above)", "notes": "every write of each recovery"})
    points, bad = _io_errors()
    figures["io_error_points"] = points
    figures["io_error_failures"] = len(bad)
    rows.append({"suite": "I/O error (EIO, ENOSPC) at every fs call of every operation",
                 "cases": points, "failures": len(bad), "notes": "; ".join(bad[:3])})
    full = [_full("lfs", 24), _full("fat", 40)]
    figures["flash_full_failures"] = full.count(False)
    rows.append({"suite": "flash full (littlefs2 96 KiB, FAT 160 KiB)", "cases": 2,
                 "failures": full.count(False), "notes": "StoreFull, state unchanged, usable"})
    return rows, figures

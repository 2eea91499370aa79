"""Power loss on real littlefs2 and FAT (MicroPython unix port), seeded CI subset.

Host-only: each test starts the MicroPython unix port as a subprocess running
tests/mpy/powercut_run.py or blockdev_full.py over a RAM block device that
records every block write (tests/mpy/blockdev.py) and needs a heap of tens of
MiB. `make reliability` (host/reliability/r_powercut.py) runs every cut point.
"""

import re

import pytest

from host import mpy


def _run(script, args, heap="48m"):
    proc = mpy.run("tests/mpy/" + script, args, heap=heap, path=("tests/mpy", "tests/core"), timeout=600)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out[-3000:]
    return out


def powercut(kind, seed, points, recovery, ops=24, mutant=None):
    args = [kind, seed, points, recovery, ops] + ([mutant] if mutant else [])
    out = _run("powercut_run.py", args)
    m = re.search(r"POWERCUT kind=\w+ writes=(\d+) points=(\d+) checks=(\d+) "
                  r"recovery_checks=(\d+) failures=(\d+)", out)
    assert m, out[-3000:]
    writes, points, checks, rchecks, fails = (int(x) for x in m.groups())
    return {"writes": writes, "points": points, "checks": checks, "recovery_checks": rchecks,
            "failures": fails, "out": out}


@pytest.mark.parametrize("kind,seed", [("lfs", 11), ("fat", 12), ("lfs", 13), ("fat", 14),
                                       ("fat512", 15)])
def test_powercut_sample(kind, seed):
    r = powercut(kind, seed, 80, 3)
    assert r["writes"] > 100 and r["checks"] == 160 and r["recovery_checks"] > 0
    assert r["failures"] == 0, r["out"][-3000:]


def test_powercut_every_point_fat_small_workload():
    r = powercut("fat", 5, "all", 0, ops=10)
    assert r["points"] == r["writes"] and r["failures"] == 0, r["out"][-3000:]


def test_suite_catches_a_store_that_splits_transactions():
    # proof the suite can fail: each op of a transaction as its own record
    for kind in ("lfs", "fat"):
        r = powercut(kind, 11, 80, 0, mutant="split")
        assert r["failures"] > 0, kind


def test_suite_catches_inplace_compaction_on_fat():
    # rewriting the live index slot is safe on littlefs (copy on write), not on FAT
    r = powercut("fat", 1, "all", 0, mutant="inplace")
    assert r["failures"] > 0


@pytest.mark.parametrize("kind,blocks", [("lfs", 24), ("fat", 40)])
def test_flash_full_leaves_store_unchanged_and_usable(kind, blocks):
    out = _run("blockdev_full.py", ["full", kind, blocks], heap="16m")
    assert "FULL ok" in out, out[-3000:]


@pytest.mark.parametrize("kind", ["lfs", "fat"])
def test_live_cut_device_matches_replay(kind):
    out = _run("blockdev_full.py", ["live", kind, 3, 1, 7, 40, 90, 150])
    assert re.search(r"LIVE ok points=([6-9]|10)\b", out), out[-3000:]

"""Date headers queued with an unset clock: cases on CPython and on MicroPython (.mpy, 256 KB heap).

Host-only wrapper of tests/mpy/device_datefix_cases.py: the MicroPython run
loads the store, accounts and client precompiled, as a board would.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in ("device", "tests/mpy", "tests/core"):
    if os.path.join(ROOT, p) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, p))

import device_datefix_cases as cases  # noqa: E402
from host import mpy  # noqa: E402
from host.mpytable import compile_all  # noqa: E402

NAMES = sorted(n for n in dir(cases) if n.startswith("test_"))


@pytest.mark.parametrize("name", NAMES)
def test_case_cpython(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SMTPMTM_TEST_TMP", str(tmp_path))
    getattr(cases, name)()


def test_cases_micropython(tmp_path):
    out_dir = str(tmp_path / "mpy")
    compile_all(None, out_dir)
    r = mpy.run("tests/mpy/device_run.py", ["device_datefix_cases"], heap="256k",
                path=(out_dir, "tests/mpy", "tests/core"), env={"SMTPMTM_TEST_TMP": str(tmp_path)})
    out = r.stdout.decode() + r.stderr.decode()
    assert "SUMMARY %d 0" % len(NAMES) in out, out

"""Modem connect hook: the AT dialogue cases on CPython and on the MicroPython unix port.

Host-only wrapper: it imports the portable cases of tests/mpy/device_modem_cases.py
(in-memory modem, fake clock) and runs each on CPython, then all of them in one
MicroPython subprocess at a 128 KB heap (the test module, the fake modem and
link.py are compiled from source in the same heap; the hook itself is small).
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in ("device", "tests/mpy"):
    if os.path.join(ROOT, p) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, p))

import device_modem_cases as cases  # noqa: E402
from host import mpy  # noqa: E402

NAMES = sorted(n for n in dir(cases) if n.startswith("test_"))


@pytest.mark.parametrize("name", NAMES)
def test_case_cpython(name):
    getattr(cases, name)()


def test_cases_micropython():
    r = mpy.run("tests/mpy/device_run.py", ["device_modem_cases"], heap="128k", path=("tests/mpy",))
    out = r.stdout.decode() + r.stderr.decode()
    assert "SUMMARY %d 0" % len(NAMES) in out, out

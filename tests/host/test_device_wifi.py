"""Wi-Fi connect hook: cases of tests/mpy/device_wifi_cases.py on CPython and MicroPython.

Host-only wrapper (a fake ``network`` module and fake clock; the MicroPython
run is a subprocess at a 128 KB heap because the test module is compiled from source).
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in ("device", "tests/mpy", "tests/core"):
    if os.path.join(ROOT, p) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, p))

import device_wifi_cases as cases  # noqa: E402
from host import mpy  # noqa: E402

NAMES = sorted(n for n in dir(cases) if n.startswith("test_"))


@pytest.mark.parametrize("name", NAMES)
def test_case_cpython(name):
    getattr(cases, name)()


def test_cases_micropython():
    r = mpy.run("tests/mpy/device_run.py", ["device_wifi_cases"], heap="128k",
                path=("tests/mpy", "tests/core"))
    out = r.stdout.decode() + r.stderr.decode()
    assert "SUMMARY %d 0" % len(NAMES) in out, out

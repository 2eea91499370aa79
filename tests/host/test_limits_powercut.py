"""A seeded subset of `make reliability`'s limit and coalesce power-cut suites (tests/mpy/limits_run.py).

Host-only: runs the MicroPython unix port on a littlefs2 RAM device that loses
power at sampled writes; the full run is host/reliability/r_limits.py.
"""

import re

from host import mpy


def _run(suite):
    proc = mpy.run("tests/mpy/limits_run.py", [suite, 3, 3], heap="64m",
                   path=("tests/mpy", "tests/core"), timeout=900)
    out = proc.stdout.decode() + proc.stderr.decode()
    m = re.search(r"cases=(\d+) failures=(\d+) messages=(\d+)", out)
    assert proc.returncode == 0 and m, out[-2000:]
    return [int(x) for x in m.groups()], out


def test_alarm_bursts_against_a_limit_with_power_cuts():
    (cases, failures, msgs), out = _run("limits")
    assert cases == 7 and failures == 0 and msgs > 0, out[-2000:]


def test_alarm_bursts_coalesced_with_power_cuts():
    (cases, failures, msgs), out = _run("coalesce")
    assert cases == 7 and failures == 0 and msgs > 0, out[-2000:]

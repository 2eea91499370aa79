"""Modem hook on MicroPython against host/modemsim.py's simulated modem on a real pty.

Host-only: the simulated SIM800-class modem runs in a CPython thread on a
pseudo-terminal; the hook (device/smtpmtm_board/modem.py + modem_at.py) runs in the
MicroPython unix port over that pty, as it would over machine.UART on a
board: no SIM, SIM PIN, no registration, no signal, wrong APN, a modem still
booting, a dropped call (NO CARRIER) and a hang-up with +++ and ATH.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from host import mpy  # noqa: E402

modemsim = pytest.importorskip("host.modemsim")

CASES = [
    ("ok", {}, "UP 18 home"),
    ("roaming", {"registration": "roaming", "searching_polls": 2}, "UP 18 roaming"),
    ("booting", {"silent_ats": 2}, "UP 18 home"),
    ("no-sim", {"sim": "absent"}, "ERR no-sim"),
    ("pin-needed", {"sim": "pin"}, "ERR sim-pin"),
    ("pin-given", {"sim": "pin"}, "UP 18 home"),
    ("puk", {"sim": "puk"}, "ERR sim-puk"),
    ("denied", {"registration": "denied"}, "ERR no-registration"),
    ("searching", {"registration": "searching"}, "ERR no-registration"),
    ("no-signal", {"registration": "searching", "rssi": 99}, "ERR no-signal"),
    ("wrong-apn", {"apns": ("other.apn",)}, "ERR wrong-apn"),
    ("drop", {"drop_after": 16}, "DROPPED no-carrier"),
    ("hangup", {}, "DOWN False down"),
]


@pytest.mark.parametrize("case,kw,expect", CASES, ids=[c[0] for c in CASES])
def test_modem_dialogue_on_a_pty(case, kw, expect):
    m = modemsim.Modem(**kw).start()
    try:
        r = mpy.run("tests/mpy/device_modem_pty.py", [m.pty, case], heap="128k", timeout=60)
    finally:
        m.stop()
    out = r.stdout.decode() + r.stderr.decode()
    assert expect in out, (out, m.log)
    if case == "hangup":
        assert m.log[-1].upper() == "ATH" and m.mode == "command", m.log
    if expect.startswith("UP"):
        assert "ATD*99#" in m.log and m.apn == "internet"

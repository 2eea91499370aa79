"""The board App as the MicroPython scripts build it (device_repl_flow.py, soak_run.py).

``make_app(root, **more)`` opens the App (device/smtpmtm_board/app.py) with its store,
clock file, log and Wi-Fi file under ``root`` (``more`` overrides config keys), one
hand-switched link "wifi" (smtpmtm.outbox.manualhook) and the REPL commands attached
to it. ``run_until_idle(a, n, nap)`` ticks the engine until it is idle.

Example::

    a, link = make_app("/flash")
    link.set(True)
    run_until_idle(a, 4000, 0.01, strict=True)
"""

import time

from smtpmtm_board import console
from smtpmtm_board.app import App, DEFAULTS
from smtpmtm.outbox.manualhook import ManualHook


def make_app(root, **more):
    """(the App, its link) over the files under root."""
    cfg = dict(DEFAULTS)
    cfg.update({"store": root + "/store", "clock_file": root + "/clock.dat", "log_file": root + "/log.txt",
                "wifi_file": root + "/wifi.json", "ntp": None})
    cfg.update(more)
    link = ManualHook("wifi")
    a = App(cfg, hooks=[link])
    console.attach(a)
    return a, link


def run_until_idle(a, n, nap, strict=False):
    """Tick ``a`` (sleeping at most ``nap`` s between ticks) until no send runs, none is
    asked for and the engine would wait; at most n ticks. ``strict``: RuntimeError when it
    never got there (a soak must not read figures mid-send)."""
    for _ in range(n):
        w = a.tick()
        if a.job is None and not a.requested and w >= 0.5:
            return
        if w:
            time.sleep(min(w, nap))
    if strict:
        raise RuntimeError("the engine never went idle")

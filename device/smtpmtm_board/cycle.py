"""One battery send cycle: wake, send what is due within a budget, take the link down, sleep.

A battery board spends its life in deep sleep. At each wake ``run(app)``:

1. looks at the Outbox (store on flash: ``next_try`` of every message survives
   deep sleep there); with nothing due it returns at once and the link is
   never brought up;
2. brings up the preferred link (the account's ``connect_prefs`` order) within
   the budget; if none comes up the messages are left as they are (no attempt
   counted: a board that wakes every 15 minutes without coverage must not
   use up its retries);
3. drains what is due (the App's send engine, step by step) until done or the
   budget is spent: then the send stops after the message on the wire, which
   goes on to its end (a budget shorter than a big message's time over the
   link must not cut it at every wake), and the rest wait for the next wake;
4. takes down the link it brought up, saves the clock estimate (clock file),
   and returns the seconds until the next due retry, capped by the configured
   wake interval (at least 1 s).

``main.py`` with ``"background": "cycle"`` calls ``wake(app)`` once per boot
(the cycle, never raising: a board that fails to sleep empties its battery)
and then ``machine.deepsleep(seconds * 1000)``; ``cycle()`` at the REPL runs one cycle
and prints the result. A board awake for 50 ms a wake has no time to take a
Ctrl-C: after a reset by hand or a power-on (not a deep-sleep wake) ``held()``
first waits ``grace_s`` seconds for one, and a Ctrl-C then leaves the board
awake at the REPL (the engine stopped; ``send()`` or ``cycle()`` by hand, or
edit /config.json). Config (``/config.json``)::

    {"background": "cycle", "cycle": {"budget_s": 60, "wake_s": 900, "grace_s": 5}}

Example::

    import machine
    from smtpmtm_board import cycle
    r = cycle.run(app)       # {"due": 1, "link": "wifi", "sent": 1, "sleep_s": 900, ...}
    machine.deepsleep(r["sleep_s"] * 1000)
"""

import time

from smtpmtm.outbox import sendwhen as W

from .app import mono
from smtpmtm.compat import ticks_diff, ticks_ms
from smtpmtm.errors import InputError, whole

DEFAULTS = {"budget_s": 60, "wake_s": 900, "grace_s": 5}
_POLL_S = 0.05


def outlook(store, now):
    """(messages due now, earliest future next_try or None) over every account."""
    return W.waiting(store, None, now)


def _prefs(app):
    for a in app.accounts.list():
        p = app.accounts.load(a).connect_prefs
        if p:
            return p
    return None


def _link(app, deadline, budget):
    """(the preferred link, whether this cycle brought it up, None), brought up before the
    deadline; or (None, False, why not) with nothing left half up."""
    from smtpmtm.errors import LinkDown

    acq = app.links.acquire(_prefs(app), True)
    while True:
        app.wdt.feed()
        try:
            h = acq.step()
        except LinkDown as e:  # no hook could come up (no access point, no SIM ...)
            return None, False, str(e)
        if h is not None:
            return h, acq.brought, None
        if mono() >= deadline:
            t = acq.trying()
            if t is not None:
                t.down()
            return None, False, "no link within %d s" % budget
        time.sleep(_POLL_S)


def _drain(app, deadline):
    app.send_now()
    cancelled = False
    while True:
        w = app.tick()
        if app.job is None and not app.requested:
            return cancelled
        if mono() >= deadline and app.job is not None and not cancelled:
            app.job.stop()  # the message on the wire goes on to its end; the rest wait
            cancelled = True
        if w:
            time.sleep(min(w, _POLL_S))


def _seconds(name, v):
    """A budget or a wake interval: whole seconds, 1 or more (InputError naming it)."""
    return whole(name, v, 1, "whole seconds")


def run(app, budget_s=None, wake_s=None):
    """One cycle (see the module docstring); returns a dict with ``sleep_s``."""
    t0 = ticks_ms()
    cfg = dict(DEFAULTS)
    cfg.update(app.cfg.get("cycle") or {})
    budget = _seconds("budget_s", cfg["budget_s"] if budget_s is None else budget_s)
    wake = _seconds("wake_s", cfg["wake_s"] if wake_s is None else wake_s)
    due, nxt = outlook(app.store, int(app.clock()))
    r = {"due": due, "link": None, "sent": 0, "left": due, "cancelled": False, "why": None}
    if due:
        deadline = mono() + budget
        hook, brought, r["why"] = _link(app, deadline, budget)
        if hook is not None:
            r["link"] = hook.name
            r["cancelled"] = _drain(app, deadline)
            r["sent"] = len((app.last or {}).get("sent", ()))
            if brought:
                hook.down()
        else:
            app.log("cycle: %s; %d waiting" % (r["why"], due))
        r["left"], nxt = outlook(app.store, int(app.clock()))
    sleep = wake
    if nxt is not None and not r["left"]:
        sleep = max(1, min(wake, nxt - int(app.clock())))
    r["sleep_s"] = sleep
    if app.clock.valid:
        app.clock.save()
    r["awake_ms"] = ticks_diff(ticks_ms(), t0)
    app.log("cycle: %d due, %d sent, link %s, sleep %d s" % (due, r["sent"], r["link"] or "-", sleep))
    return r


def held(app, deep_sleep_wake):
    """Before the first cycle after a reset by hand or a power-on: wait ``grace_s`` for a
    Ctrl-C (the watchdog fed). True when one came: stay awake at the REPL. A deep-sleep
    wake does not wait (the battery)."""
    grace = (app.cfg.get("cycle") or {}).get("grace_s", DEFAULTS["grace_s"])
    if deep_sleep_wake or type(grace) is not int or grace <= 0:
        return False
    print("battery mode: a send cycle, then deep sleep; Ctrl-C within %d s stays at the REPL" % grace)
    try:
        for _ in range(grace * 10):
            app.wdt.feed()
            time.sleep_ms(100)
    except KeyboardInterrupt:
        print("staying awake: the engine is stopped (send() or cycle() by hand); "
              "/config.json's \"background\" decides the next boot")
        return True
    return False


def wake(app):
    """One cycle for main.py: the seconds to deep sleep, whatever happens (logged)."""
    try:
        return run(app)["sleep_s"]
    except Exception as e:  # noqa: BLE001 - sleep anyway, try again at the next wake
        try:
            app.log("cycle: %s" % e)
        except Exception:  # noqa: BLE001
            pass
        try:  # /config.json's interval, unless that is what was wrong: a board must sleep
            return _seconds("wake_s", (app.cfg.get("cycle") or {}).get("wake_s", DEFAULTS["wake_s"]))
        except InputError:
            return DEFAULTS["wake_s"]

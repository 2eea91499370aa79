"""Board start-up: open the app, bring up the boot-time links, run the engine in the background.

``start(path)`` (called by main.py) loads ``/config.json``, opens the App
(store check and recovery, accounts, clock), gives it to the REPL commands,
brings up the links listed in ``up_at_boot`` (default ["wifi"]: a free link;
never the paid modem unless listed), and starts the background engine:

- "timer": a machine.Timer schedules ``app.tick()`` every 200 ms
  (micropython.schedule, so it runs in the main thread between REPL keys and
  between main.py's own bytecodes; a tick sends for up to 100 ms, timeslice.py;
  if the main thread hangs, the watchdog is no longer fed and resets);
- "thread": a _thread loop (the unix port / virtual board), with the app lock
  held around each tick (and its flash writes) and each REPL command that
  touches the store or the flash. No GIL: ``mpremote fs`` runs without the app
  lock (littlefs stays whole: host/vboard_boot.py), so leave the store alone;
- "asyncio": main.py runs ``asyncio.run(loop(app))`` and does not return
  to the REPL (headless boards that read sensors in other tasks);
- "cycle": a battery board: main.py runs one send cycle (device/smtpmtm_board/cycle.py)
  and deep sleeps until the next is due;
- "none": nothing in the background; ``send()`` at the REPL drives it.

"auto" (default) is "thread" on the unix port and "timer" elsewhere. A start
failure is printed and the REPL still comes up (``app`` is then None).
"""

import sys
import time  # here, not in the engine thread: see _thread_loop


def _mode(want):
    if want != "auto":
        return want
    if sys.platform == "linux":
        return "thread"
    try:
        from machine import Timer  # noqa: F401

        return "timer"
    except ImportError:
        return "none"


def _thread_loop(app):
    # Everything this thread does, including logging to flash, happens under app.lock:
    # the unix port has no GIL and littlefs is not safe against two threads at once.
    # Not even an import: `import time` looks for a time.py on the flash first (time is an
    # extensible built-in), so it is imported with this module, before the thread begins;
    # importing it here read littlefs beside the command that had started the engine.
    while app.background == "thread":
        with app.lock:
            try:
                w = app.tick()
            except BaseException as e:  # noqa: BLE001 - the engine thread must never die
                w = 1
                try:
                    app.log("tick: %r" % e)
                except BaseException:  # noqa: BLE001
                    pass
        time.sleep(min(max(w, 0.01), 0.5))


_CTRL_C = ("smtpmtm: Ctrl-C came while the engine ran in the background and stopped it there "
           "(a send ends; its mail waits for the next one): Ctrl-C again stops your code")


def _start_timer(app, Timer=None):
    """The "timer" engine; ``Timer`` is machine.Timer (a test on the unix port, which has
    none, passes a stand-in with its signature)."""
    import micropython

    if Timer is None:
        from machine import Timer

    def run(_):
        if app.lock.acquire(0):
            try:
                app.tick()
            except KeyboardInterrupt:  # typed while this tick ran: spent here (MicroPython would
                # print it as a traceback; a scheduled callback cannot pass it on), any send ended
                # cleanly (sender.Job._abort: its message waits again)
                if app.send_waits:  # for send() waiting at the REPL: its Ctrl-C cancels the send
                    print("cancelling ...")
                    app.cancel(True)
                else:
                    print(_CTRL_C)
            except Exception as e:  # noqa: BLE001
                app.log("tick: %r" % e)
            finally:
                app.lock.release()

    def irq(_):
        try:
            micropython.schedule(run, None)
        except RuntimeError:  # schedule queue full: skip this beat
            pass

    for tid in (-1, 0):
        try:
            app.timer = Timer(tid, period=200, mode=Timer.PERIODIC, callback=irq)
            return
        except (ValueError, TypeError, OSError):
            continue
    raise OSError("no timer for the background engine")


async def loop(app):
    """The engine as an asyncio task (mode "asyncio"): each tick in a worker thread where the
    port has threads (a tick may stream a whole attachment), holding app.lock."""
    import asyncio

    from .engine_async import _thread, in_thread

    while True:
        w = (await in_thread(app.tick, app.lock)) if _thread is not None else app.tick()
        await asyncio.sleep(w)


def start(path="/config.json"):
    """Open everything and start the background engine; returns the App (or None)."""
    from . import console
    from .app import App, load_config

    cfg = load_config(path)
    try:
        app = App(cfg)
    except Exception as e:  # noqa: BLE001 - the REPL must come up whatever happens
        print("smtpmtm: cannot start:", e)
        sys.print_exception(e) if hasattr(sys, "print_exception") else None
        return None
    console.attach(app)
    for h in app.hooks:
        if h.name in cfg.get("up_at_boot", ["wifi"]):
            try:
                h.up()
            except Exception as e:  # noqa: BLE001 - e.g. no Wi-Fi credentials yet
                app.log("%s: %s" % (h.name, e))
    n = app.outbox_counts()  # before the engine runs: no concurrent store access
    mode = _mode(cfg.get("background", "auto"))
    app.log("boot: %d waiting in the Outbox, clock %s, engine %s" % (n["waiting"], app.clock.iso(), mode))
    if mode == "thread":
        import _thread

        # import in this thread what the engine imports lazily: the unix port has no GIL
        # and two threads importing at once is not safe there
        for name in ("smtpmtm.outbox.sender", "smtpmtm.mime", "smtpmtm.wire.session",
                     "smtpmtm_board.datefix", "smtpmtm_board.net"):
            try:
                __import__(name)
            except ImportError:
                pass
        app.background = "thread"
        _thread.start_new_thread(_thread_loop, (app,))
    elif mode == "timer":
        app.background = "timer"
        _start_timer(app)
    elif mode == "asyncio":
        app.background = "asyncio"
    elif mode == "cycle":  # main.py runs one send cycle (cycle.py), then deep sleep
        app.background = "cycle"
    held = "".join(", %d %s" % (n[k], k) for k in ("failed", "suspended") if n[k])  # until retry(id)
    print("smtpmtm ready: %d waiting%s, engine %s. Type help()" % (n["waiting"], held, mode))
    return app


def stop(app):
    """Stop the background engine (tests, or before a firmware update)."""
    if app is None:
        return
    if getattr(app, "timer", None) is not None:
        app.timer.deinit()
    app.background = None

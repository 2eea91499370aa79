"""main.py: open the store, set the clock, start the send engine, then the REPL commands.

Everything happens in smtpmtm_board.start.start(); the names this file
leaves behind (``app`` and the commands of smtpmtm_board.repl) are what a person
has at the REPL afterwards. With ``"background": "asyncio"`` in
/config.json this runs the engine forever instead (Ctrl-C for the REPL); with
``"background": "cycle"`` it runs one send cycle (device/smtpmtm_board/cycle.py) and deep
sleeps until the next one is due (a battery board).
"""

from smtpmtm_board import start as _start

app = _start.start()
if app is not None and app.background == "cycle":  # a battery board: one send cycle, then sleep
    from smtpmtm_board import cycle
    import machine

    if cycle.held(app, machine.reset_cause() == machine.DEEPSLEEP_RESET):  # Ctrl-C after a reset
        app.background = None
    else:
        machine.deepsleep(cycle.wake(app) * 1000)
if app is not None and app.background == "asyncio":
    import asyncio

    try:
        asyncio.run(_start.loop(app))
    except KeyboardInterrupt:
        app.background = None
from smtpmtm_board.repl import *  # noqa: E402,F401,F403

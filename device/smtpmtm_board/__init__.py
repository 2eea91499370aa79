"""The board's firmware side of smtpmtm, one package so nothing lands at the top of /lib.

``app`` (the board application: store, accounts, client, clock, hooks, engine),
``start`` (what main.py runs), ``repl`` with ``console``, ``commands_show`` and
``commands_acct`` (the REPL commands), ``net`` (sockets and verified TLS),
``wifi``, ``modem``/``modem_at`` (connect hooks), ``clock`` (RTC, NTP),
``datefix``, ``applog``, ``watchdog``, ``timeslice`` (engine steps per tick),
``engine_async`` (asyncio runner).
A user's own ``/net.py`` or ``/app.py`` on the flash can no longer shadow
them. ``boot.py`` and ``main.py`` stay the board's two top-level files, and
``umail`` a top-level module (its contract), built on ``smtpmtm_board.net``.

Example::

    from smtpmtm_board.net import connect
    from smtpmtm_board.app import App
"""

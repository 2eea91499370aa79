"""Run the send engine under asyncio (MicroPython and CPython): mail goes out while the
board's main loop keeps reading sensors.

The core (shared/smtpmtm/outbox/sender.py) may not import asyncio, so it is step-wise:
``job.step()`` does one piece (a link poll, a connection, a command or a flight of
them, one 2 KB or BDAT chunk of a body, a look of up to 20 ms for a reply) and says how
long to wait. Steps run in slices of up to ``timeslice.SLICE_MS`` (timeslice.py), and
the waits become ``await asyncio.sleep(w)`` (``sleep(0)`` between slices gives the other
tasks a turn, also in the middle of a big attachment or while a server is slow to
answer). A step that connects can still take long (the TCP connect and the TLS
handshake: up to their timeout, 30 s, over a stalled 2G link), so where the port has threads
(``_thread``: ESP32, RP2040, the unix port, CPython) each slice runs in a
worker thread while the event loop goes on, polling for its end every
``POLL_S``; elsewhere a slice blocks the loop that long. Pass ``lock`` (a
``_thread`` lock the application also takes around its own store writes)
when other tasks write the store while mail goes out: littlefs and FAT must
not be written from two threads at once.

``AutoSend`` is the outbox watcher Symbian lacked (its "send on next connection"
was autosend.exe started by POP/IMAP): each ``tick()`` looks at the hooks and the
outbox and, by ``settings.send_option`` (sendwhen.decide), starts a send:
immediately (bringing a link up), on next connection (only when a hook reports a
link coming up, or a retry falls due while one is up), or on request.

Example::

    import asyncio
    from smtpmtm_board.engine_async import AutoSend, send
    auto = AutoSend(sender, poll_s=2)
    asyncio.create_task(auto.loop())
    auto.request()                      # "send now" from the REPL
    result = await send(sender)         # or one send, awaited
"""

import asyncio

from smtpmtm.outbox import sendwhen as W
from smtpmtm.outbox.sendwhen import waiting

from . import timeslice

try:
    import _thread
except ImportError:  # a port without threads: steps run inline
    _thread = None

POLL_S = 0.01  # how often the event loop looks whether a threaded step has ended


async def in_thread(fn, lock=None):
    """Run fn() in a worker thread (holding `lock` if given) and await its result."""
    box = []

    def work():
        try:
            if lock is not None:
                lock.acquire()
            try:
                box.append((True, fn()))
            finally:
                if lock is not None:
                    lock.release()
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            box.append((False, e))

    _thread.start_new_thread(work, ())
    while not box:
        await asyncio.sleep(POLL_S)
    ok, value = box[0]
    if not ok:
        raise value
    return value


async def run(job, threaded=None, lock=None, slice_ms=timeslice.SLICE_MS):
    """Drive a Job to its end; returns job.result. threaded=None: a thread if the port has one.
    ``slice_ms``: how long the engine goes on before the other tasks get a turn."""
    if threaded is None:
        threaded = _thread is not None

    def a_slice():
        return timeslice.run(job.step, slice_ms)

    while True:
        w = (await in_thread(a_slice, lock)) if threaded else a_slice()
        if w is None:
            return job.result
        await asyncio.sleep(w)


async def send(sender, ids=(), bring_up=True, threaded=None, lock=None, slice_ms=timeslice.SLICE_MS):
    return await run(sender.start(ids, bring_up), threaded, lock, slice_ms)


class AutoSend:
    def __init__(self, sender, poll_s=2.0):
        self.sender = sender
        self.poll_s = poll_s
        self.watcher = W.Watcher(sender.links)
        self.requested = False
        self.stopped = False
        self.busy = False
        self.runs = 0
        self.last = None

    def request(self, on=True):
        """Ask for a send at the next tick (the "on request" option, or "send now")."""
        self.requested = on

    def stop(self):
        self.stopped = True

    async def tick(self):
        """One look at hooks and outbox; sends if the send option says so. Returns the
        send's result, or None when nothing was started."""
        s = self.sender
        came = self.watcher.poll()
        due, _ = waiting(s.store, s.service, s.clock())
        go, bring_up = W.decide(s.settings.send_option, due, came, self.requested, s.links,
                                s.settings.connect_prefs)
        if not go:
            return None
        self.requested = False
        self.busy = True
        try:
            self.last = await send(s, (), bring_up)
        finally:
            self.busy = False
        self.runs += 1
        return self.last

    async def loop(self):
        while not self.stopped:
            await self.tick()
            await asyncio.sleep(self.poll_s)

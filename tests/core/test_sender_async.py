"""device/smtpmtm_board/engine_async.py: the step-wise engine under asyncio, and AutoSend's send options."""

import asyncio
import sys

try:
    from smtpmtm_board import engine_async
except ImportError:  # CPython: device/ is on MICROPYPATH for MicroPython only
    sys.path.append(__file__.rsplit("/tests/", 1)[0] + "/device")
    from smtpmtm_board import engine_async
AutoSend, send = engine_async.AutoSend, engine_async.send
from smtpmtm.store import entry as E
from smtpmtm.outbox import link as L
from smtpmtm.outbox.manualhook import ManualHook
from smtpmtm.outbox.sender import Sender
from smtpmtm.errors import Timeout
from portable import FakeClock, needs
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings




def make(option, hooks):
    st = new_store()
    srv = FakeServer()
    clock = FakeClock()
    cfg = settings(send_option=option, connect_prefs=[h.name for h in hooks])
    s = Sender(st, cfg, SERVICE, srv.connect, clock, links=L.Links(hooks, clock), rand=lambda: 0.5)
    return st, srv, s


def test_send_runs_alongside_another_task():
    st, srv, s = make("immediately", [L.AlwaysUp("eth")])
    ids = [queue(st, n=i) for i in range(3)]
    ticks = []

    async def sensor():
        for i in range(50):
            ticks.append(i)
            await asyncio.sleep(0)

    async def main():
        t = asyncio.create_task(sensor())
        r = await send(s)
        await t
        return r

    r = asyncio.run(main())
    assert r["sent"] == ids
    assert len(ticks) == 50


def test_other_tasks_get_turns_in_the_middle_of_a_message_body():
    """Without a thread (as on a port that has none: the emulated board runs this) the engine
    goes in slices (timeslice.py): another task runs between two pieces of one message's
    body and sees it part-sent. (Before, a step sent the whole message: the other task ran
    only between messages.) A slice of 0 ms is one step, so it does not depend on speed."""
    st, srv, s = make("immediately", [L.AlwaysUp("eth")])
    a = queue(st, n=1, text=(b"x" * 60 + b"\r\n") * 30)  # ~2 KB in pieces of 256 bytes (64 KiB heap)
    seen = []
    done = []

    async def sensor():
        while not done:
            p = s.progress
            if p.msg_id == a and 0 < p.bytes_sent < p.bytes_to_send:
                seen.append(p.bytes_sent)
            await asyncio.sleep(0)

    async def main():
        t = asyncio.create_task(sensor())
        r = await send(s, threaded=False, slice_ms=0)
        done.append(1)
        await t
        return r

    r = asyncio.run(main())
    assert r["sent"] == [a] and len(srv.messages) == 1, (r, s.progress.error_text)
    assert len(set(seen)) >= 5, seen


class GateServer(FakeServer):
    """A server whose first reply waits until the test opens the gate: a step that blocked
    the event loop would never let the task that opens it run, and would time out."""

    def __init__(self, gate):
        FakeServer.__init__(self)
        self.gate = gate

    def connect(self, *a, **kw):
        stream = FakeServer.connect(self, *a, **kw)
        read, gate = stream.read, self.gate

        def gated_read(max_bytes, timeout_s=None):
            spins = 0
            while not gate[0] and spins < 20000000:  # a bounded wait in the worker thread
                spins += 1
            if not gate[0]:
                raise Timeout("gate never opened: the step held the event loop")
            return read(max_bytes, timeout_s)

        stream.read = gated_read
        return stream


@needs("_thread", None, "_thread: the emulated board's port (ports/qemu) has no threads; ESP32 and RP2040 do")
def test_a_long_step_runs_in_a_thread_while_other_tasks_go_on():
    gate = [False]
    st = new_store()
    srv = GateServer(gate)
    clock = FakeClock()
    s = Sender(st, settings(send_option="immediately", connect_prefs=["eth"]), SERVICE, srv.connect,
               clock, links=L.Links([L.AlwaysUp("eth")], clock), rand=lambda: 0.5)
    a = queue(st)
    ticks = []

    async def sensor():
        for i in range(5):
            ticks.append(i)
            await asyncio.sleep(0)
        gate[0] = True  # only reachable if the send's step is not holding the event loop

    async def main():
        t = asyncio.create_task(sensor())
        r = await send(s, threaded=True)
        await t
        return r

    r = asyncio.run(main())
    assert ticks == [0, 1, 2, 3, 4]
    assert r["sent"] == [a], r


def test_autosend_immediately_brings_the_link_up():
    wifi = ManualHook("wifi", up_after=0)
    st, srv, s = make("immediately", [wifi])
    auto = AutoSend(s, poll_s=0)
    assert asyncio.run(auto.tick()) is None  # nothing queued: no link brought up
    assert wifi.ups == 0
    a = queue(st)
    r = asyncio.run(auto.tick())
    assert r["sent"] == [a] and wifi.ups == 1


def test_autosend_next_connection_waits_for_a_link():
    wifi = ManualHook("wifi")
    st, srv, s = make("next-connection", [wifi])
    auto = AutoSend(s, poll_s=0)
    a = queue(st)
    assert asyncio.run(auto.tick()) is None and wifi.ups == 0 and srv.connections == 0
    wifi.set(True)
    r = asyncio.run(auto.tick())
    assert r["sent"] == [a] and wifi.ups == 0
    b = queue(st, n=2)  # link still up: a newly due message goes too
    assert asyncio.run(auto.tick())["sent"] == [b]


def test_autosend_on_request_only_when_asked():
    wifi = ManualHook("wifi", up=True)
    st, srv, s = make("on-request", [wifi])
    auto = AutoSend(s, poll_s=0)
    a = queue(st, state=E.SEND_WAITING)
    assert asyncio.run(auto.tick()) is None
    auto.request()
    assert asyncio.run(auto.tick())["sent"] == [a]
    assert auto.runs == 1 and not auto.requested

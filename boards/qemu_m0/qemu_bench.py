"""Heap figures measured on the emulated board (host/qemuboard.py runs these over the raw REPL).

- ``held_after_import(names, probe)``: heap held after importing ``names``: what
  device/main.py and the REPL commands import (main.py imports smtpmtm_board.start
  and ``from smtpmtm_board.repl import *``), or what a uMail script imports; frozen
  or, when the .mpy files are on the disk, from there (``""`` is first on sys.path);
- ``queue_send_1m()``: the live-heap peak (gc.collect + gc.mem_alloc, sampled at
  every write to the server and every progress event) while the client queues a
  message with a 1 MB attachment on littlefs2 and the Sender sends it to the
  tests' in-memory scripted SMTP server (the core is sans-I/O), store, index and
  progress included.

Each prints ``QBENCH name value``. Run after qemu_run.mount() on a fresh soft reset.
Example: import qemu_bench; qemu_bench.held_after_import(["smtpmtm_board.repl"], "smtpmtm_board.repl")
"""

import gc

ATTACHMENT_BYTES = 1024 * 1024


def _held():
    gc.collect()
    return gc.mem_alloc()


def held_after_import(names, probe):
    """Import ``names`` (the host passes an import closure, imports inside functions
    included: of start and repl for the board app, of umail for uMail scripts); a module
    needing what ports/qemu lacks (socket, network) is listed after the figure, where a
    real board would hold more. ``probe`` names the module whose file is reported: frozen,
    or the .mpy file on the disk."""
    before = _held()
    lacking = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            lacking.append(name)
    __import__(probe)
    import sys

    print("QBENCH held_after_import", _held() - before, sys.modules[probe].__file__, " ".join(lacking))


def queue_send_1m():
    from smtpmtm.outbox.sender import Sender
    from portable import FakeClock, tmpdir
    from sender_fakes import FakeServer, FakeStream, client_for, new_store

    peak = [_held()]

    def sample(*_):
        a = _held()
        if a > peak[0]:
            peak[0] = a

    class CountingStream(FakeStream):
        """The fake server's stream, keeping only the last bytes of a body (a 1 MB body
        does not fit in a board's RAM), sampling the heap at every write."""

        def write(self, data):
            sample()
            FakeStream.write(self, data)

        def body(self, n):
            self.data = b"\0" + self.data[-4:]  # enough to find CRLF.CRLF; never ".\r\n"
            self.srv.body_bytes += n
            return FakeStream.body(self, n)

    class CountingServer(FakeServer):
        body_bytes = 0

        def connect(self, *a, **kw):
            FakeServer.connect(self, *a, **kw)
            self.streams[-1] = s = CountingStream(self)
            return s

    path = tmpdir() + "/big.bin"
    block = bytes(range(256)) * 16
    with open(path, "wb") as f:
        for _ in range(ATTACHMENT_BYTES // len(block)):
            f.write(block)
    del block
    sample()
    st = new_store()
    clock = FakeClock(1732790000)
    accts, acct, c = client_for(st, clock)
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.subject = "log"
    c.set_body_text("the log, attached")
    c.add_attachment(path)
    sample()
    c.save_message()
    c.queue()
    sample()
    srv = CountingServer(chunking=False)
    s = Sender(st, accts.load(acct), acct.service, srv.connect, clock, rand=lambda: 0.5)
    s.progress.subscribe(sample)
    r = s.send_all()
    sample()
    if r["sent"] != [mid] or srv.body_bytes < ATTACHMENT_BYTES:
        raise RuntimeError("not sent: %r, %d body bytes" % (r, srv.body_bytes))
    print("QBENCH peak_queue_send_1m", peak[0])

"""The send engine in time slices: steps for a few milliseconds, then a turn for the rest.

A Job's step (shared/smtpmtm/outbox/sender.py) is one piece of a send: a link
poll, a connection, a command or a flight of them, one piece of a body (a 2 KB
chunk with DATA, a BDAT chunk of about 4 KB), or a look of up to 20 ms for a
reply that has not come.
``run(step, ms)`` calls ``step()`` again while it returns 0 ("go on at once")
and the slice of ``ms`` milliseconds is not used up, and returns what the last
call returned (seconds to wait, or None when the job is finished). So a board
whose engine runs from a timer in the main thread sends at nearly full speed
and the REPL and main.py still get a turn between slices while a big
attachment goes out, and an engine thread or task lets the others at the store
between slices, also while a server takes its time to answer. At least one step
runs, so ``ms=0`` is one step per call; a step that connects (TCP, and the TLS
handshake) still blocks up to its timeout.

Example::

    from smtpmtm_board import timeslice
    w = timeslice.run(job.step, 100)   # None: finished; else sleep w seconds
"""

from smtpmtm.compat import ticks_diff, ticks_ms

SLICE_MS = 100  # a timer beat is 200 ms: half of it for sending, half for the REPL and main.py


def run(step, ms=SLICE_MS):
    """Call step() while it returns 0 for up to ms milliseconds; return its last result."""
    t0 = ticks_ms()
    while True:
        w = step()
        if w != 0 or ticks_diff(ticks_ms(), t0) >= ms:
            return w

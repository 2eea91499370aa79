"""Date headers queued while the clock was unset: mark them, fix them once it is valid.

``WallClock`` never gives a nonsense time, but before NTP it is an estimate
(last known good time + uptime). ``mark(store, id, clock)`` (called by the
REPL's ``queue()`` when ``clock.valid`` is False) records, in a small part
``date-est`` of the message, the boot it was queued in. ``fix(store, clock)``
runs when the clock becomes valid, before sending, on every marked Outbox
message that was never attempted (a message that went out once keeps its
Date and Message-ID, so a resend stays recognisable, RFC 1047):

- queued in this boot: Date += clock.correction (exactly the queue time);
- queued in an earlier boot: Date = now (send time), the best honest value.

The entry date follows the header. Messages queued with a valid clock have
no mark and are never touched.

Example::

    if not clk.valid: datefix.mark(store, mid, clk)
    ...  # later, after NTP:
    n = datefix.fix(store, clk)
"""

from smtpmtm import entry as E
from smtpmtm import message as M

PART = "date-est"


def mark(store, msg_id, clock):
    store.write_part(msg_id, PART, [clock.boot_id.encode()])


def fix(store, clock):
    """Fix the marked Outbox messages; returns how many Date headers changed."""
    if not clock.valid:
        return 0
    n = 0
    for e in store.children(E.OUTBOX):
        if e.type != E.TYPE_MESSAGE or PART not in store.parts(e.id):
            continue
        if e.attempts:
            store.remove_part(e.id, PART)  # it went out once: its Date is final
            continue
        with store.open_part(e.id, PART) as f:
            boot = f.read(16).decode()
        h = M.read_header(store, e.id)
        if boot == clock.boot_id and clock.correction is not None and h.get("date"):
            new = h["date"] + clock.correction  # ints: exact at any Unix time
        else:
            new = clock.now()
        h["date"] = new
        e.date = new
        store.update(e, {M.HEADER: M.header_chunks(h), PART: None})
        n += 1
    return n

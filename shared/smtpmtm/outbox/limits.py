"""Per-account sending limits (messages and recipients per minute, hour, day), kept on flash.

Providers lock an account that sends too much (Gmail: 500 recipients a day for
a consumer account; providers.py has the presets). ``settings.limits`` names
the limits of an account, any subset of::

    {"messages_per_minute": 10, "messages_per_hour": 100, "messages_per_day": 500,
     "recipients_per_minute": 0, "recipients_per_hour": 0, "recipients_per_day": 500}

(0 or absent = no limit). The send engine asks ``Limiter.admit`` right before
it sends a message: the message is counted (durably, before any byte goes
out) or held back. It also asks, without counting, before it brings the link
up: when every due message is held, no link comes up and no session opens.
A held message stays in the Outbox, state "scheduled",
``next_try`` = the moment the limit lets it go, the reason in its result part
(``error held 0 messages_per_day 500 reached``: show(id)); nothing is
dropped. A message that can never fit (more recipients than a whole window
allows) fails with that reason instead of waiting for ever.

Counting: each window (60 s, 3600 s, 86400 s) has buckets of 1/12 of it (13
slots, so the slot reused is always one that has left the window).
A bucket counts while any part of it overlaps the window, so the sum
over-counts by at most one bucket and never under-counts: nothing is sent
past a limit, at the price of waiting up to 1/12 of a window longer. A message
is counted when it is admitted, before its data is sent, and never uncounted
(a send that fails afterwards still counts: a provider may have seen it), so a
power cut can only make the counts higher. The counters live in
``<store root>/limits-<service hex>``, written with fsutil.atomic_write (two
CRC-checked slots: a cut leaves the old or the new counts). The byte layout is
store/SPEC.md section 12; a store without the file starts with zero counts.

Example::

    lim = Limiter(store, service, {"messages_per_minute": 2})
    lim.wait(now, rcpts=1)      # 0: may go now
    lim.take(now, rcpts=1)      # counted, on flash
    lim.usage(now)              # {"messages_per_minute": (1, 2)}
"""

from ..compat import const
from ..errors import InputError, NotFound, StoreError
from ..settings import LIMIT_KEYS, LIMIT_KINDS, LIMIT_WINDOWS, check_limits
from ..store import fsutil

_NBUCKETS = const(12)  # a bucket is 1/12 of its window
_NSLOTS = const(13)  # one more slot than buckets: a slot is reused only once its bucket left the window
_VERSION = const(1)
_REC = const(12)  # bytes per bucket: start, messages, recipients (u32 LE each)


def path_for(store, service):
    return "%s/limits-%x" % (store.root, service)


def _encode(buckets):
    out = bytearray((_VERSION, len(LIMIT_WINDOWS), _NSLOTS, 0))
    for b in buckets:
        for v in b:
            out += fsutil.u32(v)
    return out


def _decode(data, where):
    if len(data) != 4 + len(LIMIT_WINDOWS) * _NSLOTS * _REC or data[0] != _VERSION \
            or data[1] != len(LIMIT_WINDOWS) or data[2] != _NSLOTS:
        raise StoreError("limits: %s is not a version %d counter file" % (where, _VERSION))
    g = fsutil.get_u32
    return [[g(data, i), g(data, i + 4), g(data, i + 8)] for i in range(4, len(data), _REC)]


class Limiter:
    """The sending limits of one account and their counters on flash."""

    def __init__(self, store, service, limits):
        check_limits(limits)
        self.limits = limits
        self.path = path_for(store, service)
        self._fs = getattr(store, "fs", None)
        try:
            self.buckets = _decode(fsutil.read_file(self.path, self._fs), self.path)
        except NotFound:
            self.buckets = [[0, 0, 0] for _ in range(len(LIMIT_WINDOWS) * _NSLOTS)]

    def _each(self, now):
        """(kind, key, limit, window span, the window's live buckets oldest first) for
        each limit set; a bucket is live while it overlaps [now - span, now]."""
        for w in range(len(LIMIT_WINDOWS)):
            span = LIMIT_WINDOWS[w][1]
            live = []
            for b in self.buckets[w * _NSLOTS:(w + 1) * _NSLOTS]:
                # a bucket from a clock that ran ahead (start beyond the window) still counts
                if (b[1] or b[2]) and b[0] + span // _NBUCKETS > now - span:
                    live.append(b)
            live.sort()
            for k in range(len(LIMIT_KINDS)):
                key = LIMIT_KEYS[k * len(LIMIT_WINDOWS) + w]
                lim = self.limits.get(key) or 0
                if lim:
                    yield k, key, lim, span, live

    def usage(self, now):
        """{limit key: (used, limit)} for each limit set."""
        out = {}
        for k, key, lim, _, live in self._each(int(now)):
            out[key] = (sum(b[1 + k] for b in live), lim)
        return out

    def wait(self, now, rcpts=1):
        """0 if a message with ``rcpts`` recipients may go now, else the seconds to wait.

        Raises InputError when it can never go (it alone exceeds a limit)."""
        return self.admit(now, rcpts, False)[0]

    def admit(self, now, rcpts=1, take=True):
        """(0, None) and the message counted (unless ``take`` is False); or (seconds to
        wait, why) and nothing counted.

        Raises InputError when the message can never go."""
        now = int(now)
        until = now
        why = None
        for k, key, lim, span, live in self._each(now):
            need = rcpts if k else 1
            if need > lim:
                raise InputError("limits: %d %s in one message, %s is %d"
                                 % (need, LIMIT_KINDS[k], key, lim))
            used = sum(b[1 + k] for b in live)
            t = now
            for b in live:  # oldest first: when enough of them have left the window
                if used + need <= lim:
                    break
                used -= b[1 + k]
                t = b[0] + span // _NBUCKETS + span
            if t > until:
                until = t
                why = "%s %d reached" % (key, lim)
        if until == now and take:
            self.take(now, rcpts)
        return until - now, why

    def take(self, now, rcpts=1):
        """Count one message with ``rcpts`` recipients, durably (on flash) before it goes."""
        now = int(now)
        for w in range(len(LIMIT_WINDOWS)):
            size = LIMIT_WINDOWS[w][1] // _NBUCKETS
            start = now - now % size
            b = self.buckets[w * _NSLOTS + (now // size) % _NSLOTS]
            if b[0] != start:
                b[0], b[1], b[2] = start, 0, 0
            b[1] += 1
            b[2] += rcpts
        fsutil.atomic_write(self.path, _encode(self.buckets), self._fs)

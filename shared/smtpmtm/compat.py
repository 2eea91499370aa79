"""The one place that knows which interpreter runs.

Everything interpreter-specific the core needs lives here: ``const``,
millisecond ticks, random bytes, and the offset between the port's time
epoch and the Unix epoch (some MicroPython ports count from 2000-01-01).
Every time here is an int (Unix seconds, monotonic seconds or ms): the
boards' single-precision floats hold a Unix time only to 128 s.
Nothing else in the core looks at ``sys.implementation``.

Example::

    from smtpmtm.compat import const, urandom
    _LIMIT = const(512)
"""

import sys
import time

MICROPYTHON = sys.implementation.name == "micropython"

try:
    from micropython import const  # noqa: F401  (folds constants when compiled)
except ImportError:

    def const(value):
        return value


try:
    from os import urandom  # CPython and most MicroPython ports
except ImportError:  # pragma: no cover - ports without os.urandom
    import random as _random

    def urandom(n):
        return bytes(_random.getrandbits(8) for _ in range(n))


# Seconds to add to the port's time.time() to get Unix time.
EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


def is_ascii(s):
    """True when every character of s is US-ASCII (str.isascii is not on MicroPython)."""
    for c in s:
        if ord(c) > 127:
            return False
    return True


def to_text(b):
    """Decode bytes as UTF-8; bytes that are not valid UTF-8 come out with every non-ASCII
    byte as "?" (MicroPython's decode has no errors= argument). Server replies, find."""
    try:
        return b.decode()
    except UnicodeError:
        return "".join(chr(c) if c < 128 else "?" for c in b)


def unix_time():
    """Unix time in whole seconds from the port's clock (for device/host code: the core
    itself never reads a clock, it is given one)."""
    return int(time.time()) + EPOCH_OFFSET


try:
    from time import ticks_ms, ticks_diff  # noqa: F401  MicroPython
except ImportError:

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


_mono = [0, None]  # milliseconds accumulated, last ticks_ms reading


def monotonic_ms():
    """Monotonic milliseconds as an int, for device code (the core itself is given its clock).

    Accumulates ticks_diff between calls, so it stays right across the
    ticks_ms wrap-around (2**30 ms, about 12 days, on MicroPython) as long as
    it is read at least every few days; a plain ticks_diff(now, start)
    goes wrong after about 6 days of uptime. An int, never a float: a board's
    single-precision float would hold it only to 1 s after 194 days.
    """
    now = ticks_ms()
    if _mono[1] is not None:
        _mono[0] += ticks_diff(now, _mono[1])
    _mono[1] = now
    return _mono[0]


def monotonic():
    """Monotonic whole seconds (an int) for device deadlines counted in seconds."""
    return monotonic_ms() // 1000

"""Simulated ``machine`` additions of the virtual board (MicroPython unix port only).

Extends the unix port's own machine module (``from umachine import *``) with
what the project's device code uses on a board: ``UART`` (the simulated modem
on the host's second pty, VBOARD_MODEM), ``reset()`` (a hard reset: the host
relay restarts the board), ``deepsleep(ms)`` (the process ends, the relay starts
it again after ms with the flash kept; ``reset_cause()`` is then DEEPSLEEP_RESET), ``WDT`` (recorded, never bites), ``RTC``, ``Pin``,
``SPI`` (pins recorded, for network.LAN), ``unique_id()``, ``freq()``, ``reset_cause()``.

    from machine import UART
    u = UART(1, 115200, tx=4, rx=5, timeout=0)
    u.write(b"AT\\r"); u.read()   # -> b"\\r\\nOK\\r\\n" or None
"""

import sys
import select
from umachine import *  # noqa: F401,F403
from umachine import soft_reset as _soft  # noqa: F401
import _vboard

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


def reset():
    sys.exit(126)  # the host relay restarts the unix port as a hard reset


def deepsleep(ms=0):
    """Deep sleep: the process ends; the host relay starts it again after ``ms`` (the flash kept,
    RAM lost, reset_cause() DEEPSLEEP_RESET). 0 = until the host wakes it (power_cycle).

    <state>/sleep_ms tells the relay (host/vboard_pty.py). The process ends by a signal from
    a child shell: sys.exit() does not end the unix port while it runs main.py under -i."""
    import gc
    import os
    import time

    gc.collect()  # as a reset: files left open are closed, their data on the flash
    f = _vboard.host_open(_vboard.STATE + "/sleep_ms", "w")
    f.write(str(int(ms)))
    f.close()
    os.system("kill -TERM $PPID")
    while True:
        time.sleep(1)


def lightsleep(ms=0):
    import time

    time.sleep_ms(int(ms))


def soft_reset():
    sys.exit(0)


def reset_cause():
    import os

    return DEEPSLEEP_RESET if os.getenv("VBOARD_WAKE") == "deepsleep" else PWRON_RESET


def unique_id():
    return b"\x76\x62\x6f\x61\x72\x64"


def freq(hz=None):
    return 240000000 if hz is None else None


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._v = value or 0

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0

    def on(self):
        self._v = 1

    def off(self):
        self._v = 0

    def __call__(self, v=None):
        return self.value(v)


class SPI:
    """An SPI bus (for an SPI Ethernet chip: network.LAN(spi=...)); records its pins only."""

    def __init__(self, id, baudrate=1000000, **pins):
        self.id = id
        self.pins = pins


class WDT:
    feeds = 0

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        WDT.feeds += 1


class RTC:
    def __init__(self, id=0):
        pass

    def datetime(self, dt=None):
        if dt is not None:
            return None
        import time

        t = time.localtime()
        return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)


class UART:
    """The modem's UART: the host pty of the simulated modem; read() never blocks (timeout=0)."""

    def __init__(self, id, baudrate=115200, **kw):
        self.id = id
        self.f = None
        self.init(baudrate, **kw)

    def init(self, baudrate=115200, timeout=0, **kw):
        self.baudrate = baudrate
        self.timeout = timeout
        if self.f is None:
            if not _vboard.MODEM:
                raise OSError("vboard: no modem on this board (start the sim with --modem)")
            self.f = _vboard.host_open(_vboard.MODEM, "r+b")
            self.poll = select.poll()
            self.poll.register(self.f, select.POLLIN)

    def any(self):
        return 1 if self.poll.poll(0) else 0

    def read(self, n=-1):
        out = bytearray()
        wait = self.timeout
        while n < 0 or len(out) < n:
            if not self.poll.poll(wait):
                break
            out += self.f.read(1)
            wait = 0
        return bytes(out) if out else None

    def readinto(self, buf, n=None):
        data = self.read(len(buf) if n is None else n)
        if not data:
            return None
        buf[: len(data)] = data
        return len(data)

    def readline(self):
        out = bytearray()
        while True:
            c = self.read(1)
            if not c:
                break
            out += c
            if c == b"\n":
                break
        return bytes(out) if out else None

    def write(self, data):
        return self.f.write(data)

    def flush(self):
        pass

    def deinit(self):
        if self.f is not None:
            self.f.close()
            self.f = None

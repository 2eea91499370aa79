"""A tiny watchdog wrapper: machine.WDT where the port has one, a no-op elsewhere.

The send loop and the main loop call ``feed()``; a hung send (a stalled TLS
read with no timeout, a wedged modem) then resets the board instead of
leaving it dead in the pump house. Disabled (``timeout_ms=0``) or on a port
without machine.WDT (the unix port, the virtual board) it only counts feeds.
Note: once started, a hardware WDT cannot be stopped; pick a timeout longer
than the longest blocking step (DNS + TLS handshake: 30 s is a safe floor).

Example::

    from smtpmtm_board.watchdog import Watchdog
    wdt = Watchdog(60000)
    while True:
        wdt.feed(); step()
"""


class Watchdog:
    def __init__(self, timeout_ms=60000, wdt_class=None):
        self.timeout_ms = timeout_ms
        self.feeds = 0
        self.hw = None
        if timeout_ms:
            if wdt_class is None:
                try:
                    from machine import WDT as wdt_class
                except ImportError:
                    wdt_class = None
            if wdt_class is not None:
                try:
                    self.hw = wdt_class(timeout=timeout_ms)
                except (TypeError, ValueError, OSError):
                    self.hw = wdt_class(0, timeout_ms)  # older ports: WDT(id, timeout)

    @property
    def active(self):
        return self.hw is not None

    def feed(self):
        self.feeds += 1
        if self.hw is not None:
            self.hw.feed()

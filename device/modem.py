"""Cellular modem connect hook (SIM800/SIM7600 class on a UART): AT dialogue, then PPP.

``ModemHook`` drives the pure ``modem_at.Dialer`` over a UART-like object
(``write(bytes)``; ``read()`` non-blocking, returning bytes or None, as
``machine.UART(..., timeout=0)``). When the modem answers CONNECT the UART
is handed to ``network.PPP`` (on a board); with ``ppp=False`` (host tests,
the virtual board's pty modem) the hook stops at the data call. ``down()``
leaves data mode (guard, ``+++``, guard) and hangs up with ATH. A dropped
call (NO CARRIER, or PPP no longer connected) makes ``is_up()`` False and
``error`` a ModemError(code="no-carrier").

It is a smtpmtm.link.ConnectHook: ``up()`` only starts the dialogue (no
blocking), ``is_up()`` advances it one step and says whether the link is up
(never raises: a failure is kept in ``error`` and ``status()``), ``down()``
hangs up. ``start()``/``poll()`` are the same steps with errors raised;
``connect(timeout)`` is the blocking convenience that calls ``idle()``
(default: sleep 10 ms) between polls.

Example::

    from machine import UART
    from modem import ModemHook
    hook = ModemHook(UART(1, 115200, tx=4, rx=5, timeout=0), apn="internet", pin="1234")
    try:
        hook.connect(timeout=90)
    except ModemError as e:
        print(e.code, e)       # no-sim / sim-pin / no-signal / no-registration / wrong-apn ...
"""

from smtpmtm.compat import monotonic_ms
from smtpmtm.link import ConnectHook
from modem_at import Dialer, ModemError  # noqa: F401  (ModemError re-exported)


def _idle():
    import time

    if hasattr(time, "sleep_ms"):
        time.sleep_ms(10)
    else:
        time.sleep(0.01)


def _board_ppp(uart, user=None, password=None):
    """network.PPP over the UART. MicroPython >= 1.24: connect(security=, user=, key=);
    older ESP32 firmware: active(True) then connect(authmode=, username=, password=)."""
    import network

    ppp = network.PPP(uart)
    if hasattr(ppp, "active"):
        try:
            ppp.active(True)
        except (OSError, ValueError, TypeError):
            pass
    if not user:
        ppp.connect()
        return ppp
    try:
        ppp.connect(security=getattr(ppp, "SEC_PAP", 1), user=user, key=password or "")
    except TypeError:
        ppp.connect(authmode=getattr(ppp, "AUTH_PAP", 1), username=user, password=password or "")
    return ppp


class ModemHook(ConnectHook):
    """Connect hook for a UART modem; see the module docstring."""

    def __init__(self, uart, apn, pin=None, name="modem", ppp=None, clock_ms=None,
                 idle=None, ppp_timeout=30, guard=1.1, ppp_user=None, ppp_password=None,
                 **dialer_options):
        self.uart = uart
        self.apn = apn
        self.pin = pin
        self.name = name
        self._ppp_factory = _board_ppp if ppp is None else ppp
        self._clock = clock_ms  # int milliseconds (timeouts below are seconds)
        self._idle = idle or _idle
        self.ppp_timeout = ppp_timeout
        self.ppp_user = ppp_user
        self.ppp_password = ppp_password
        self.guard_ms = int(guard * 1000)  # seconds given, kept as int ms
        self._options = dialer_options
        self.dialer = None
        self.ppp = None
        self.stage = "down"  # down, dialling, ppp, up
        self.error = None
        self._since = 0

    def now(self):
        """Monotonic milliseconds, an int (the Dialer's ``now`` too)."""
        if self._clock is not None:
            return self._clock()
        return monotonic_ms()

    def _read(self):
        data = self.uart.read()
        return data or b""

    # -- bringing the link up ---------------------------------------------------
    def start(self):
        """Begin the dialogue (non-blocking); then call poll()."""
        self.error = None
        self.ppp = None
        self.dialer = Dialer(self.apn, self.pin, **self._options)
        self.stage = "dialling"
        self._read()  # drop stale bytes
        self.uart.write(self.dialer.step(self.now()))

    def poll(self):
        """One step: True when up, False while pending; raises ModemError."""
        if self.stage == "up":
            return True
        if self.stage == "dialling":
            try:
                out = self.dialer.step(self.now(), self._read())
            except ModemError as e:
                self.stage = "down"
                self.error = e
                raise
            if out:
                self.uart.write(out)
            if self.dialer.state != "up":
                return False
            if self._ppp_factory is False:
                self.stage = "up"
                return True
            if self._ppp_factory is _board_ppp:
                self.ppp = _board_ppp(self.uart, self.ppp_user, self.ppp_password)
            else:
                self.ppp = self._ppp_factory(self.uart)
            self.stage = "ppp"
            self._since = self.now()
        if self.stage == "ppp":
            if self.ppp.isconnected():
                self.stage = "up"
                return True
            if self.now() - self._since >= self.ppp_timeout * 1000:
                self._drop_ppp()
                self.stage = "down"
                self.error = ModemError("PPP did not come up (wrong APN or credentials?)", "timeout")
                raise self.error
            return False
        raise ModemError("modem hook not started", "link-down")

    def up(self):
        """ConnectHook: start bringing the link up (returns at once)."""
        if self.stage == "down":
            self.start()

    def connect(self, timeout=120):
        """Bring the link up, blocking (polling + idle); raises ModemError."""
        if self.is_up():
            return True
        self.start()
        begin = self.now()
        while not self.poll():
            if self.now() - begin >= timeout * 1000:
                self.stage = "down"
                self.error = ModemError("modem link not up after %ss (%s)" % (timeout, self.dialer.state), "timeout")
                raise self.error
            self._idle()
        return True

    def is_up(self):
        """True while the call (and PPP) is up; notices NO CARRIER / PPP loss.

        While the link is coming up this advances the dialogue one step."""
        if self.stage in ("dialling", "ppp"):
            try:
                return self.poll()
            except ModemError:
                return False
        if self.stage != "up":
            return False
        if self.ppp is not None:
            lost = not self.ppp.isconnected()
        else:
            lost = self.dialer.carrier_lost(self._read())
        if lost:
            self.stage = "down"
            self.error = ModemError("link dropped (NO CARRIER)", "no-carrier")
            return False
        return True

    # -- taking it down -----------------------------------------------------------
    def _drop_ppp(self):
        if self.ppp is not None:
            for m in ("disconnect", "active"):
                try:
                    getattr(self.ppp, m)(*(() if m == "disconnect" else (False,)))
                except Exception:  # noqa: BLE001 - best effort on every port
                    pass
            self.ppp = None

    def _wait_ms(self, ms):
        t = self.now()
        while self.now() - t < ms:
            self._idle()

    def down(self, timeout=10):
        """Leave data mode (+++ with guard times) and hang up (ATH). Never raises."""
        was = self.stage
        self._drop_ppp()
        self.stage = "down"
        if self.dialer is None or was == "down" and self.dialer.state != "up":
            return
        if was in ("up", "ppp") or self.dialer.state == "up":
            self._wait_ms(self.guard_ms)
            self.uart.write(b"+++")
            self._wait_ms(self.guard_ms)
            self._read()  # the OK to +++
        out = self.dialer.hangup(self.now())
        self.uart.write(out)
        begin = self.now()
        while self.dialer.state == "hangup" and self.now() - begin < timeout * 1000:
            self._idle()
            out = self.dialer.step(self.now(), self._read())
            if out:
                self.uart.write(out)

    def status(self):
        """A small dict for the REPL's status(): stage, signal, registration, error."""
        d = self.dialer
        return {
            "hook": self.name,
            "stage": self.stage,
            "signal": d.signal if d else None,
            "registration": d.registration if d else None,
            "error": self.error.code if self.error else None,
        }

"""AT dialogue for SIM800/SIM7600-class modems, as a pure step-wise state machine.

``Dialer`` never reads, writes or sleeps: ``step(now, data)`` takes the bytes
the modem sent and the time (monotonic ms, an int; its timeouts are given in
seconds), and returns the bytes to write next. The hook
that drives it over a UART and hands the line to PPP is device/modem.py.
Tests drive the same code with a fake modem and a fake clock: no sleeps.

Dialogue (3GPP TS 27.007 / V.250)::

    AT -> OK            (retried: the modem may still be booting)
    ATE0 -> OK          (no echo)
    AT+CPIN? -> +CPIN: READY      (SIM PIN: AT+CPIN="<pin>" if a pin is given)
    AT+CSQ -> +CSQ: <rssi>,<ber>  (99 = no signal)
    AT+CREG? / AT+CEREG? -> stat 1 (home) or 5 (roaming); 2 = searching: poll again
    AT+CGDCONT=1,"IP","<apn>" -> OK
    ATD*99# -> CONNECT            (NO CARRIER / ERROR here: the APN was refused)

Errors are ``ModemError`` (a ``LinkDown``, so transient for the sender) whose
``code`` names the case: no-modem, no-sim, sim-pin, sim-puk, no-signal,
no-registration, wrong-apn, no-carrier, timeout.

Example::

    d = Dialer(apn="internet")
    out = d.step(now)                 # b"AT\r"
    out = d.step(now, b"\r\nOK\r\n")  # b"ATE0\r" ... until d.state == "up"
"""

from smtpmtm.errors import LinkDown

REGISTERED = ("1", "5")  # 1 home, 5 roaming (27.007 section 7.2)


class ModemError(LinkDown):
    """The modem could not bring the link up; ``code`` names the case."""

    code = "modem"


class Dialer:
    """The AT dialogue as data: ``step(now, data) -> bytes to write``.

    ``state`` is one of at, ate0, cpin, pin, csq, creg, cereg, cgdcont, dial,
    up, failed, hangup, down. ``signal`` is the last rssi (0..31, 99 unknown),
    ``registration`` "home" or "roaming", ``error`` the ModemError raised.
    """

    def __init__(self, apn, pin=None, cmd_timeout=5, at_tries=5,
                 reg_timeout=60, reg_poll=2, dial_timeout=30, dial="ATD*99#"):
        self.apn = apn
        self.pin = pin
        self.cmd_timeout = cmd_timeout
        self.at_tries = at_tries
        self.reg_timeout = reg_timeout
        self.reg_poll = reg_poll
        self.dial_timeout = dial_timeout
        self.dial = dial
        self.state = "at"
        self.signal = None
        self.registration = None
        self.error = None
        self.log = []  # (sent or received) lines, for status() and errors
        self._buf = b""
        self._info = []  # +XXX: lines of the current command
        self._sent = None  # time the current command went out (None = to send)
        self._wait = None  # time before which nothing is sent
        self._tries = 0
        self._reg_start = None
        self._pin_sent = False

    # -- commands of each state ---------------------------------------------
    def _command(self):
        s = self.state
        if s == "at":
            return b"AT\r"
        if s == "ate0":
            return b"ATE0\r"
        if s == "cpin":
            return b"AT+CPIN?\r"
        if s == "pin":
            return ('AT+CPIN="%s"\r' % self.pin).encode()
        if s == "csq":
            return b"AT+CSQ\r"
        if s == "creg":
            return b"AT+CREG?\r"
        if s == "cereg":
            return b"AT+CEREG?\r"
        if s == "cgdcont":
            return ('AT+CGDCONT=1,"IP","%s"\r' % self.apn).encode()
        if s == "dial":
            return (self.dial + "\r").encode()
        if s == "hangup":
            return b"ATH\r"
        return b""

    def _go(self, state, now, wait=0):
        self.state = state
        self._info = []
        self._sent = None
        self._wait = now + wait * 1000 if wait else None

    def _error(self, code, text):
        self.state = "failed"
        self.error = ModemError(text, code)
        raise self.error

    # -- the step ---------------------------------------------------------------
    def step(self, now, data=b""):
        """Feed what the modem sent (may be b"" or None); return bytes to write."""
        if self.state in ("failed", "down"):
            if self.error is not None and self.state == "failed":
                raise self.error
            return b""
        if data:
            self._buf += data
            while True:
                i = self._buf.find(b"\n")
                if i < 0:
                    # CONNECT may arrive without a line end before PPP frames start
                    if self.state == "dial" and self._buf.strip().startswith(b"CONNECT"):
                        i = len(self._buf) - 1
                    else:
                        break
                line = self._buf[:i + 1].strip()
                self._buf = self._buf[i + 1:]
                if line:
                    self._line(line.decode("ascii", "replace"), now)
                    if self.state in ("up", "failed", "down"):
                        break
        return self._tick(now)

    def _tick(self, now):
        s = self.state
        if s in ("up", "failed", "down"):
            return b""
        if self._wait is not None and now < self._wait:
            return b""
        if self._sent is None:
            self._sent = now
            self._wait = None
            if s in ("creg", "cereg") and self._reg_start is None:
                self._reg_start = now
            cmd = self._command()
            self.log.append("> " + cmd.decode().strip())
            del self.log[:-12]
            return cmd
        limit = self.dial_timeout if s == "dial" else self.cmd_timeout
        if now - self._sent >= limit * 1000:
            if s == "at":
                self._tries += 1
                if self._tries >= self.at_tries:
                    self._error("no-modem", "modem does not answer AT (power, baud rate, wiring?)")
                self._go("at", now)
                return self._tick(now)
            if s == "hangup":
                self._go("down", now)
                return b""
            self._error("timeout", "modem timed out in %s" % s)
        return b""

    def _line(self, line, now):
        self.log.append("< " + line)
        del self.log[:-12]
        s = self.state
        if line.startswith("AT") and s != "at":
            return  # echo before ATE0 took effect
        if s == "dial":
            if line.startswith("CONNECT"):
                self._go("up", now)
            elif line in ("NO CARRIER", "ERROR", "BUSY", "NO ANSWER") or "ERROR" in line:
                self._error("wrong-apn", "data call refused (%s): check the APN %r" % (line, self.apn))
            return
        if line.startswith("+") and not line.startswith("+CME ERROR") and not line.startswith("+CMS ERROR"):
            self._info.append(line)
            return
        if line == "OK":
            self._ok(now)
        elif "ERROR" in line:
            self._err(line, now)
        # anything else (RING, URCs, banners) is ignored

    def _field(self, prefix, index):
        for line in self._info:
            if line.startswith(prefix):
                parts = line[len(prefix):].strip().split(",")
                if len(parts) > index:
                    return parts[index].strip().strip('"')
        return None

    def _ok(self, now):
        s = self.state
        if s == "at":
            self._go("ate0", now)
        elif s == "ate0":
            self._go("cpin", now)
        elif s == "cpin":
            v = self._field("+CPIN:", 0)
            if v == "READY":
                self._go("csq", now)
            elif v == "SIM PIN":
                if self.pin is None:
                    self._error("sim-pin", "SIM PIN required: set the modem pin in the settings")
                if self._pin_sent:
                    self._error("sim-pin", "SIM PIN rejected")
                self._go("pin", now)
            elif v in ("SIM PUK", "SIM PUK2"):
                self._error("sim-puk", "SIM locked (PUK required)")
            elif v in (None, "NOT INSERTED", "NOT READY"):
                self._error("no-sim", "no SIM card (%s)" % (v or "no answer"))
            else:
                self._error("no-sim", "SIM not ready: %s" % v)
        elif s == "pin":
            self._pin_sent = True
            self._go("cpin", now, 1)
        elif s == "csq":
            v = self._field("+CSQ:", 0)
            self.signal = int(v) if v and v.isdigit() else None
            self._go("creg", now)
        elif s == "creg":
            self._reg(self._field("+CREG:", 1), now, "cereg")
        elif s == "cereg":
            self._reg(self._field("+CEREG:", 1), now, None)
        elif s == "cgdcont":
            self._go("dial", now)
        elif s == "hangup":
            self._go("down", now)

    def _reg(self, stat, now, other):
        if stat in REGISTERED:
            self.registration = "home" if stat == "1" else "roaming"
            self._go("cgdcont", now)
        elif stat == "3":
            self._error("no-registration", "network registration denied (SIM barred or not activated?)")
        elif other:
            self._go(other, now)  # 2G modems answer CREG, LTE ones CEREG
        elif now - self._reg_start >= self.reg_timeout * 1000:
            if self.signal in (None, 99, 0):
                self._error("no-signal", "no signal (CSQ %s): check the antenna" % self.signal)
            self._error("no-registration", "not registered on a network (CSQ %s)" % self.signal)
        else:
            self._go("csq", now, self.reg_poll)  # searching: ask again later

    def _err(self, line, now):
        s = self.state
        if s == "cpin":
            if "10" in line or "SIM not inserted" in line or line == "ERROR":
                self._error("no-sim", "no SIM card (%s)" % line)
            if "11" in line or "PIN" in line:
                self._error("sim-pin", "SIM PIN required (%s)" % line)
            self._error("no-sim", "SIM failure (%s)" % line)
        if s == "pin":
            self._error("sim-pin", "SIM PIN rejected (%s)" % line)
        if s in ("creg", "cereg"):
            # CREG missing on an LTE-only modem, CEREG on a 2G-only one
            self._reg(None, now, "cereg" if s == "creg" else None)
            return
        if s == "cgdcont":
            self._error("wrong-apn", "APN %r rejected (%s)" % (self.apn, line))
        if s == "hangup":
            self._go("down", now)
            return
        if s == "at":
            return  # let the retry timer handle it
        self._error("timeout" if s == "csq" else "no-registration", "%s failed: %s" % (s, line))

    def hangup(self, now):
        """Start hanging up (call after +++ escaped data mode, or from command mode)."""
        self.error = None
        self._go("hangup", now)
        return self._tick(now)

    def carrier_lost(self, data):
        """True if data (read while in data mode, before PPP owns the UART) says NO CARRIER."""
        self._buf += data or b""
        if b"NO CARRIER" in self._buf:
            self._buf = b""
            self.state = "failed"
            self.error = ModemError("link dropped (NO CARRIER)", "no-carrier")
            return True
        self._buf = self._buf[-16:]
        return False

"""A simulated SIM800/SIM7600-class cellular modem answering AT commands on a pseudo-terminal.

Host-only (CPython: pty, a thread). The virtual board's ``machine.UART(1, ...)``
opens ``Modem.pty``; so can picocom or a test. It answers the V.250 / 3GPP TS
27.007 dialogue the project's modem hook speaks (device/smtpmtm_board/modem_at.py):

    AT, ATE0/ATE1, ATI, AT+CPIN? / AT+CPIN="1234", AT+CSQ, AT+CREG?, AT+CEREG?,
    AT+CGDCONT=1,"IP","<apn>", ATD*99# (CONNECT, then data mode), +++ (guard
    time: back to command mode, OK), ATO (back online), ATH (hang up)

and, scripted, the faults a person meets in the field:

- ``sim="ready" | "absent" | "pin" | "puk"``   (absent: +CME ERROR: SIM not inserted)
- ``pin="1234"``                              (the PIN that unlocks sim="pin")
- ``registration="home" | "roaming" | "searching" | "denied"``,
  ``searching_polls=N``                       (N answers of "searching" before registering)
- ``rssi=0..31 | 99``                         (99: no signal)
- ``apns=("internet",)`` or None              (a data call to another APN: NO CARRIER)
- ``dial="connect" | "no-carrier" | "busy" | "error"``
- ``silent_ats=N``                            (the first N ATs are not answered: still booting)
- ``drop_after=N``                            (after N data bytes from the board: NO CARRIER)
- ``drop()`` from the host at any time; with ``link_file`` (the virtual board's
  <state>/link) a link switched "down" means no coverage: registration
  searching, and a call in progress drops with NO CARRIER.

In data mode the board's bytes are counted (``data_in``), not routed anywhere:
PPP itself is the board firmware's business; the simulated ``network.PPP``
reports up while the call holds and the host link is up.

Example::

    m = Modem(sim="ready", registration="home", apns=("internet",)).start()
    u = serial.Serial(m.pty); u.write(b"AT\\r")   # -> b"AT\\r\\r\\nOK\\r\\n" (echo on)
    m.drop(); m.stop(); print(m.log)
"""

import os
import select
import threading
import time
import tty

GUARD_S = 0.5  # +++ needs this much silence before and after (real modems: ~1 s)


class Modem:
    def __init__(self, sim="ready", pin="1234", registration="home", searching_polls=0, rssi=18,
                 apns=None, dial="connect", silent_ats=0, drop_after=None, link_file=None,
                 echo=True, guard_s=GUARD_S):
        self.sim = sim
        self.pin = pin
        self.registration = registration
        self.searching_polls = searching_polls
        self.rssi = rssi
        self.apns = apns
        self.dial = dial
        self.silent_ats = silent_ats
        self.drop_after = drop_after
        self.link_file = link_file
        self.echo = echo
        self.guard_s = guard_s
        self.log = []          # commands received, in order
        self.data_in = 0       # bytes received in data mode
        self.calls = 0         # successful CONNECTs
        self.apn = None
        self.mode = "command"  # command / data / online-command (after +++)
        self.started = False
        self._line = b""
        self._plus = b""
        self._last_rx = 0.0
        self._stop = False
        self._lock = threading.Lock()
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.pty = os.ttyname(self._slave)
        self._thread = None

    # -- host side -----------------------------------------------------------------
    def start(self):
        self.started = True
        self._thread = threading.Thread(target=self._run, name="modemsim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop = True
        if self._thread:
            self._thread.join(2)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def drop(self):
        """The network drops the call: NO CARRIER, back to command mode."""
        with self._lock:
            if self.mode != "command":
                self.mode = "command"
                self._send(b"\r\nNO CARRIER\r\n")

    def _link_up(self):
        if not self.link_file:
            return True
        try:
            with open(self.link_file) as f:
                return f.read().strip() == "up"
        except OSError:
            return False

    def _send(self, data):
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def _run(self):
        next_link_check = 0.0
        while not self._stop:
            wait = 0.05
            if self._plus == b"+++":  # wake exactly when the guard time after +++ is over
                wait = max(0.0, min(wait, self._last_rx + self.guard_s - time.monotonic()))
            try:
                r, _, _ = select.select([self.master], [], [], wait)
            except (OSError, ValueError):
                return
            now = time.monotonic()
            if r:
                try:
                    data = os.read(self.master, 1024)
                except OSError:
                    data = b""
                if data:
                    with self._lock:
                        self._feed(data, now)
            with self._lock:
                # +++ is only an escape when followed by a guard time of silence
                if self._plus == b"+++" and now - self._last_rx >= self.guard_s:
                    self._plus = b""
                    self.mode = "online-command"
                    self._send(b"\r\nOK\r\n")
            if self.link_file and self.mode != "command" and now >= next_link_check:
                next_link_check = now + 0.1
                if not self._link_up():
                    self.drop()

    # -- the modem -----------------------------------------------------------------
    def _feed(self, data, now):
        if self.mode == "data":
            quiet = now - self._last_rx >= self.guard_s
            self._last_rx = now
            if data.strip(b"+") == b"" and (self._plus or quiet) and len(self._plus + data) <= 3:
                self._plus += data
                return
            if self._plus:
                self.data_in += len(self._plus)
                self._plus = b""
            self.data_in += len(data)
            if self.drop_after is not None and self.data_in >= self.drop_after:
                self.mode = "command"
                self._send(b"\r\nNO CARRIER\r\n")
            return
        self._last_rx = now
        for c in data:
            b = bytes((c,))
            if self.echo:
                self._send(b)
            if b == b"\r":
                line, self._line = self._line.strip(), b""
                if line:
                    self._command(line.decode("ascii", "replace"))
            elif b != b"\n":
                self._line += b
            if self.mode == "data":
                return  # bytes after ATD's \r belong to the data call

    def _ok(self, *info):
        out = b"".join(b"\r\n" + i.encode() + b"\r\n" for i in info)
        self._send(out + b"\r\nOK\r\n")

    def _error(self, text=None):
        self._send(b"\r\n" + (("+CME ERROR: " + text) if text else "ERROR").encode() + b"\r\n")

    def _reg_stat(self):
        if not self._link_up():
            return 2
        if self.searching_polls > 0:
            self.searching_polls -= 1
            return 2
        return {"home": 1, "roaming": 5, "searching": 2, "denied": 3}.get(self.registration, 0)

    def _command(self, cmd):
        self.log.append(cmd)
        u = cmd.upper()
        if u == "AT":
            if self.silent_ats > 0:
                self.silent_ats -= 1
                return
            self._ok()
        elif u in ("ATE0", "ATE1"):
            self.echo = u == "ATE1"
            self._ok()
        elif u == "ATI":
            self._ok("SIMCOM_SIM800 (smtpmtm modem simulator)")
        elif u == "AT+CPIN?":
            if self.sim == "absent":
                self._error("SIM not inserted")
            else:
                state = {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK"}.get(self.sim, "NOT READY")
                self._ok("+CPIN: " + state)
        elif u.startswith("AT+CPIN="):
            if self.sim == "absent":
                self._error("SIM not inserted")
            elif self.sim == "pin" and cmd[8:].strip('"') == self.pin:
                self.sim = "ready"
                self._ok()
            else:
                self._error("incorrect password")
        elif u == "AT+CSQ":
            rssi = self.rssi if self._link_up() else 99
            self._ok("+CSQ: %d,0" % rssi)
        elif u in ("AT+CREG?", "AT+CEREG?", "AT+CGREG?"):
            if self.sim != "ready":
                self._error("SIM not inserted" if self.sim == "absent" else "SIM PIN required")
                return
            self._ok("+%s: 0,%d" % (u[3:-1], self._reg_stat()))
        elif u.startswith("AT+CGDCONT="):
            parts = cmd.split(",")
            self.apn = parts[2].strip('"') if len(parts) > 2 else ""
            self._ok()
        elif u.startswith("ATD*99") or u.startswith("AT+CGDATA") or u.startswith("ATD*98"):
            if self.dial == "busy":
                self._send(b"\r\nBUSY\r\n")
            elif self.dial == "error":
                self._error()
            elif (self.dial != "connect" or self.sim != "ready" or self._reg_stat() not in (1, 5)
                  or (self.apns is not None and self.apn not in self.apns)):
                self._send(b"\r\nNO CARRIER\r\n")
            else:
                self.calls += 1
                self.mode = "data"
                self._last_rx = time.monotonic()
                self._send(b"\r\nCONNECT 115200\r\n")
        elif u == "ATO":
            if self.mode == "online-command":
                self.mode = "data"
                self._send(b"\r\nCONNECT 115200\r\n")
            else:
                self._send(b"\r\nNO CARRIER\r\n")
        elif u in ("ATH", "ATH0"):
            self.mode = "command"
            self._ok()
        elif u.startswith("AT"):
            self._ok()  # everything else a modem accepts (AT&F, AT+CMEE=2, ...)
        else:
            self._error()

"""An in-memory SIM800/SIM7600-like modem with a UART face, for the modem hook tests.

Portable (CPython and MicroPython). ``FakeModem(**behaviour)`` answers the AT
commands the hook sends; ``read()`` returns pending bytes or None like
``machine.UART(timeout=0)``. ``Clock`` is a fake clock whose ``idle()``
advances time, so the blocking ``up()`` loop runs without sleeping.
"""


class Clock:
    """Monotonic milliseconds as an int (the hooks' clock_ms); seconds() for a Links."""

    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t

    def seconds(self):
        return self.t // 1000

    def idle(self):
        self.t += 50


class FakeModem:
    def __init__(self, sim="READY", pin="1234", csq=20, reg=("1",), creg=True, cereg=True,
                 apns=("internet",), deaf=0, echo=True, ppp_fail=False, cme_no_sim=False):
        self.sim = sim
        self.pin = pin
        self.csq = csq
        self.reg = list(reg)  # successive stat answers; the last one repeats
        self.creg = creg
        self.cereg = cereg
        self.apns = apns
        self.deaf = deaf  # ignore this many first commands (modem booting)
        self.echo = echo
        self.cme_no_sim = cme_no_sim
        self.apn = None
        self.cur = "0"
        self.out = b""
        self.inbuf = b""
        self.data_mode = False
        self.connected = False
        self.commands = []
        self.raw = b""

    # UART face
    def write(self, data):
        self.raw += data
        if self.data_mode:
            if data == b"+++":
                self.data_mode = False
                self._say("OK")
            return len(data)
        self.inbuf += data
        while b"\r" in self.inbuf:
            i = self.inbuf.index(b"\r")
            cmd = self.inbuf[:i].decode()
            self.inbuf = self.inbuf[i + 1:]
            self._command(cmd)
        return len(data)

    def read(self):
        if not self.out:
            return None
        data, self.out = self.out, b""
        return data

    def _say(self, *lines):
        for line in lines:
            self.out += b"\r\n" + line.encode() + b"\r\n"

    def drop(self):
        self.connected = False
        self.data_mode = False
        self._say("NO CARRIER")

    def _stat(self):
        return self.reg.pop(0) if len(self.reg) > 1 else self.reg[0]

    def _command(self, cmd):
        self.commands.append(cmd)
        if self.deaf:
            self.deaf -= 1
            return
        if self.echo:
            self.out += cmd.encode() + b"\r"
        if cmd == "AT":
            self._say("OK")
        elif cmd == "ATE0":
            self.echo = False
            self._say("OK")
        elif cmd == "AT+CPIN?":
            if self.sim is None:
                self._say("+CME ERROR: 10" if self.cme_no_sim else "+CPIN: NOT INSERTED", "OK")
                if self.cme_no_sim:
                    self.out = self.out.replace(b"\r\nOK\r\n", b"")
            else:
                self._say("+CPIN: " + self.sim, "OK")
        elif cmd.startswith('AT+CPIN="'):
            if cmd[9:-1] == self.pin:
                self.sim = "READY"
                self._say("OK")
            else:
                self._say("+CME ERROR: 16")
        elif cmd == "AT+CSQ":
            self._say("+CSQ: %d,0" % self.csq, "OK")
        elif cmd == "AT+CREG?":
            if self.creg:
                self.cur = self._stat()
                self._say("+CREG: 0," + self.cur, "OK")
            else:
                self._say("ERROR")
        elif cmd == "AT+CEREG?":
            if self.cereg:
                if not self.creg:
                    self.cur = self._stat()
                self._say("+CEREG: 0," + self.cur, "OK")
            else:
                self._say("ERROR")
        elif cmd.startswith("AT+CGDCONT=1,"):
            self.apn = cmd.split(",")[2].strip('"')
            self._say("OK")
        elif cmd == "ATD*99#":
            if self.apn in self.apns:
                self.data_mode = True
                self.connected = True
                self._say("CONNECT 115200")
            else:
                self._say("NO CARRIER")
        elif cmd == "ATH":
            self.connected = False
            self._say("OK")
        else:
            self._say("ERROR")

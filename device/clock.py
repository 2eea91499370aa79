"""Wall clock for the board: NTP without blocking, "clock valid" tracking, a sane estimate.

A board boots with its RTC at 2000-01-01 (or whatever survived a reset).
``WallClock`` says whether the time is real (``valid``: set by NTP or by
hand, or an RTC already past 2024) and, until it is, gives a *sane estimate*:
the last known good time saved on flash (``/clock.dat``, power-cut safe via
smtpmtm.fsutil) plus the ticks elapsed since boot. So a Date header is never
1970 or 2000; a message queued with an estimated time is recorded as such
(``stamp()`` returns ``(unix, exact)``) so the sender may refresh its Date
at send time only if it was never fixed by a valid clock.

NTP (RFC 5905 section 7.3, SNTP client mode per RFC 4330): ``ntp_start()``
sends one 48-byte request on a non-blocking UDP socket and returns;
``ntp_poll()`` looks for the answer (True when set, False while waiting,
raises on timeout). ``ntp_packet()`` / ``ntp_parse()`` are pure and tested
on both interpreters. The answer is accepted only if it is a server reply
(mode 4) from a synchronised server (LI != 3, stratum 1..15) whose origin
timestamp echoes our transmit timestamp (RFC 4330 section 5).

On a board ``set()`` writes machine.RTC (so time.time() and TLS certificate
date checks see it); on the unix port it keeps an offset. The clock object
is a callable returning Unix seconds as an int: pass it to the client and the
sender. Uptime is counted in integer ms: a board's single-precision float
holds a Unix time only to 128 s, so no float ever meets one here.

Example::

    from clock import WallClock
    clk = WallClock()            # reads /clock.dat
    clk.ntp_start("pool.ntp.org")
    while not clk.ntp_poll(): do_other_things()
    print(clk.valid, clk.iso())
"""

import struct

from smtpmtm.compat import EPOCH_OFFSET, ticks_diff, ticks_ms, urandom

MIN_VALID = 1704067200  # 2024-01-01T00:00:00Z: anything earlier is an unset clock
NTP_DELTA = 2208988800  # seconds from 1900-01-01 to 1970-01-01
_NTP_PORT = 123


class NtpError(OSError):
    """No usable NTP answer (timeout, wrong mode, unsynchronised server, spoofed)."""


def ntp_packet(transmit_unix):
    """A 48-byte SNTP client request (LI 0, VN 4, mode 3) carrying our transmit time
    (whole Unix seconds; the fraction field is random, so a reply that echoes it
    answers this request and no other, RFC 4330 section 5)."""
    secs = int(transmit_unix) + NTP_DELTA
    return b"\x23" + bytes(39) + struct.pack("!I", secs & 0xFFFFFFFF) + urandom(4)


def ntp_parse(reply, request):
    """Unix milliseconds (an int) from a server reply to our request; raises NtpError."""
    if len(reply) < 48:
        raise NtpError("short NTP reply")
    li, mode, stratum = reply[0] >> 6, reply[0] & 7, reply[1]
    if mode != 4 or li == 3 or not 1 <= stratum <= 15:
        raise NtpError("unusable NTP reply (mode %d, LI %d, stratum %d)" % (mode, li, stratum))
    if reply[24:32] != request[40:48]:
        raise NtpError("NTP reply does not answer our request")
    secs, frac = struct.unpack("!II", reply[40:48])
    if secs < 0x80000000:  # RFC 4330 section 3: era 1 after 2036
        secs += 4294967296
    return (secs - NTP_DELTA) * 1000 + (frac * 1000 >> 32)


class WallClock:
    """Unix time for the board; see the module docstring."""

    def __init__(self, path="/clock.dat", rtc=None, time_fn=None, ticks=None):
        import time

        self.path = path
        self._rtc = rtc
        self._time = time_fn or (lambda: int(time.time()) + EPOCH_OFFSET)
        self._ticks = ticks or ticks_ms
        self._offset = 0  # added to time_fn where no RTC can be written
        self._up_ms = 0  # uptime in ms, an int (ticks wrap: call now() now and then)
        self._last_ticks = self._ticks()
        self.last_good = self._load()
        self.source = "rtc" if self._raw() >= MIN_VALID else None
        self.boot_id = "%08x" % int.from_bytes(urandom(4), "big")
        self.correction = None  # real - estimate, learnt when set() fixes an unset clock
        self._sock = None
        self._req = None
        self._sent_ms = 0
        self._deadline_ms = 0
        self.error = None

    # -- reading -------------------------------------------------------------
    def _raw(self):
        return int(self._time()) + self._offset

    def _uptime_ms(self):
        t = self._ticks()
        self._up_ms += ticks_diff(t, self._last_ticks)
        self._last_ticks = t
        return self._up_ms

    @property
    def valid(self):
        """True once the time is real (NTP, set by hand, or an RTC past 2024)."""
        return self._raw() >= MIN_VALID

    def now(self):
        """Unix seconds as an int: real when valid, else the last good time + whole seconds
        of uptime (never < 2024). Never a float: a board's holds a Unix time only to 128 s."""
        up_ms = self._uptime_ms()
        t = self._raw()
        if t >= MIN_VALID:
            return t
        return max(self.last_good or MIN_VALID, MIN_VALID) + up_ms // 1000

    __call__ = now

    def stamp(self):
        """(unix seconds as int, exact) for queueing a message; exact False = estimated."""
        return self.now(), self.valid

    def iso(self, t=None):
        import time

        y, mo, d, h, mi, s = time.gmtime((self.now() if t is None else int(t)) - EPOCH_OFFSET)[:6]
        return "%04d-%02d-%02dT%02d:%02d:%02dZ%s" % (y, mo, d, h, mi, s, "" if self.valid else " (estimated)")

    # -- setting ---------------------------------------------------------------
    def set(self, unix, source="manual"):
        """Set the wall clock (and the RTC on a board) to ``unix`` whole seconds; saves it
        as last known good."""
        unix = int(unix)
        if not self.valid:
            self.correction = unix - self.now()  # estimates made this boot are off by this
        rtc = self._rtc
        if rtc is None:
            try:
                import machine

                rtc = machine.RTC()
            except (ImportError, AttributeError):
                rtc = False
        self._offset = 0
        if rtc:
            import time

            tm = time.gmtime(unix - EPOCH_OFFSET)
            rtc.datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))
        if abs(self._raw() - unix) > 2:  # no RTC, or it did not take: keep an offset
            self._offset = unix - int(self._time())
        self.source = source
        self.save()

    def save(self):
        """Persist the current time as last known good (call after a send, hourly)."""
        if not self.valid:
            return
        from smtpmtm import fsutil

        self.last_good = self._raw()
        try:
            fsutil.atomic_write(self.path, [b"%d" % self.last_good])
        except Exception:  # noqa: BLE001 - a full flash must not stop the clock
            pass

    def _load(self):
        from smtpmtm import fsutil

        try:
            return int(fsutil.read_file(self.path))
        except Exception:  # noqa: BLE001 - missing or damaged: no estimate base
            return None

    # -- NTP, non-blocking ------------------------------------------------------
    def ntp_start(self, host="pool.ntp.org", timeout=5, sock=None, addr=None):
        """Send one NTP request and return at once; then call ntp_poll()."""
        self.ntp_close()
        self.error = None
        if sock is None:
            import socket

            addr = addr or socket.getaddrinfo(host, _NTP_PORT, 0, socket.SOCK_DGRAM)[0][-1]
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
        self._sock = sock
        self._req = ntp_packet(self._raw())
        self._sent_ms = self._uptime_ms()
        self._deadline_ms = self._sent_ms + int(timeout * 1000)
        sock.sendto(self._req, addr)

    def ntp_poll(self):
        """True once the clock is set from the answer; False while waiting; NtpError on timeout."""
        if self._sock is None:
            return self.valid
        try:
            data = self._sock.recv(64)
        except OSError:  # EAGAIN: nothing yet
            data = None
        up_ms = self._uptime_ms()
        if data:
            try:
                server = ntp_parse(data, self._req)
            except NtpError as e:
                self.error = e
                data = None
            else:
                self.ntp_close()
                # half the round trip, rounded to the nearest whole second
                self.set((server + (up_ms - self._sent_ms) // 2 + 500) // 1000, "ntp")
                return True
        if up_ms >= self._deadline_ms:
            self.ntp_close()
            self.error = self.error or NtpError("no NTP answer")
            raise self.error
        return False

    def ntp_close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def status(self):
        return {"valid": self.valid, "source": self.source, "now": self.iso(),
                "error": str(self.error) if self.error else None}

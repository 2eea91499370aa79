"""Clock (NTP, valid tracking, estimate) and watchdog cases; fake time, ticks, RTC, socket.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

import struct

from clock import MIN_VALID, NTP_DELTA, NtpError, WallClock, ntp_packet, ntp_parse
from portable import tmpdir
from watchdog import Watchdog

NOW = 1732790000  # 2024-11-28
LATER = 1796000000  # 2026-11-30: a single-precision float holds this only to 128 s


class T:
    """Fake port time: an RTC in whole seconds (as a board's) and ticks in ms, both ints."""

    def __init__(self, t=946684800):  # RTC at 2000-01-01 after boot
        self.t = t
        self.ms = 0

    def time(self):
        return self.t + self.ms // 1000

    def ticks(self):
        return self.ms

    def advance(self, s):
        self.advance_ms(s * 1000)

    def advance_ms(self, ms):
        self.ms += ms


class FakeRTC:
    def __init__(self, t):
        self.t = t
        self.set_to = None

    def datetime(self, dt):
        self.set_to = dt
        if dt[:3] == (2024, 11, 28):  # the RTC now counts from the time it was given
            self.t.t = NOW - self.t.ms // 1000


def reply_for(req, server_unix, mode=4, li=0, stratum=2, frac=0):
    secs = server_unix + NTP_DELTA
    pkt = bytes([(li << 6) | (4 << 3) | mode, stratum]) + bytes(22) + req[40:48] + bytes(8)
    return pkt + struct.pack("!II", secs, frac)


def clock(t=None, path=None, rtc=False):
    t = t or T()
    c = WallClock(path=path or tmpdir("clk") + "/clock.dat", rtc=rtc, time_fn=t.time, ticks=t.ticks)
    return c, t


def test_ntp_packet_and_parse():
    req = ntp_packet(NOW)
    assert len(req) == 48 and req[0] == 0x23
    assert struct.unpack("!I", req[40:44])[0] == NOW + NTP_DELTA
    ms = ntp_parse(reply_for(req, LATER + 100, frac=0xC0000000), req)  # .75 s
    assert ms == (LATER + 100) * 1000 + 750 and type(ms) is int


def test_ntp_parse_rejects():
    req = ntp_packet(NOW)
    for bad in (reply_for(req, NOW, mode=3), reply_for(req, NOW, li=3),
                reply_for(req, NOW, stratum=0), reply_for(ntp_packet(NOW + 1), NOW),
                reply_for(ntp_packet(NOW), NOW),  # same second, another request (random fraction)
                b"\x24" * 20):
        try:
            ntp_parse(bad, req)
        except NtpError:
            continue
        raise AssertionError("accepted a bad reply")


def test_unset_clock_is_estimated_never_2000():
    c, t = clock()
    assert not c.valid
    assert c.now() >= MIN_VALID
    stamp, exact = c.stamp()
    assert not exact and stamp >= MIN_VALID
    assert "estimated" in c.iso()


def test_estimate_uses_last_good_plus_uptime():
    path = tmpdir("clk") + "/clock.dat"
    c, t = clock(T(NOW), path=path)
    assert c.valid
    c.save()
    # reboot: RTC back at 2000, 100 s of uptime later
    c2, t2 = clock(T(), path=path)
    t2.advance(100)
    assert not c2.valid
    assert c2.now() == NOW + 100
    assert c2.stamp() == (NOW + 100, False)


def test_set_without_rtc_keeps_offset_and_persists():
    path = tmpdir("clk") + "/clock.dat"
    c, t = clock(path=path)
    c.set(NOW, "manual")
    assert c.valid and int(c.now()) == NOW and c.source == "manual"
    t.advance(5)
    assert int(c.now()) == NOW + 5
    c2, _ = clock(path=path)
    assert c2.last_good == NOW


def test_set_writes_rtc():
    t = T()
    rtc = FakeRTC(t)
    c, _ = clock(t, rtc=rtc)
    c.set(NOW)
    assert rtc.set_to[0] == 2024 and rtc.set_to[1] == 11
    assert c._offset == 0 and int(c.now()) == NOW


class FakeSock:
    def __init__(self):
        self.sent = []
        self.inbox = []
        self.closed = False

    def sendto(self, data, addr):
        self.sent.append((data, addr))

    def recv(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)

    def close(self):
        self.closed = True


def test_ntp_nonblocking_sets_clock():
    c, t = clock()
    s = FakeSock()
    c.ntp_start(sock=s, addr=("10.0.0.1", 123))
    assert len(s.sent) == 1
    assert not c.ntp_poll() and not c.ntp_poll()  # nothing yet: returns at once
    t.advance_ms(200)
    s.inbox.append(b"garbage")  # ignored, keep waiting
    assert not c.ntp_poll()
    t.advance_ms(1200)
    s.inbox.append(reply_for(s.sent[0][0], LATER, frac=0x80000000))  # LATER + .5 s
    assert c.ntp_poll()
    assert c.valid and c.source == "ntp" and s.closed
    # .5 s + half the 1.4 s round trip = 1.2 s: rounded to LATER + 1, whole seconds, an int
    assert c.now() == LATER + 1 and type(c.now()) is int
    t.advance(3)
    assert c.now() == LATER + 4


def test_ntp_timeout():
    c, t = clock()
    s = FakeSock()
    c.ntp_start(sock=s, addr=("10.0.0.1", 123), timeout=3)
    t.advance(4)
    try:
        c.ntp_poll()
    except NtpError:
        assert s.closed and not c.valid
        return
    raise AssertionError("no timeout")


class FakeWDT:
    def __init__(self, timeout):
        self.timeout = timeout
        self.n = 0

    def feed(self):
        self.n += 1


def test_watchdog():
    w = Watchdog(30000, wdt_class=FakeWDT)
    w.feed()
    w.feed()
    assert w.active and w.hw.n == 2 and w.hw.timeout == 30000
    off = Watchdog(0)
    off.feed()
    assert not off.active and off.feeds == 1
    none = Watchdog(1000)  # no machine.WDT on the host / unix port
    none.feed()
    assert none.feeds == 1


def test_estimate_at_2026_is_exact_whole_seconds():
    # Before NTP the clock is the last good time + uptime. With a float uptime, a board's
    # single-precision float would round 1796000000 + 123.456 to a multiple of 128.
    path = tmpdir("clk") + "/clock.dat"
    c, _ = clock(T(LATER), path=path)
    c.save()
    c2, t2 = clock(T(), path=path)  # reboot: RTC back at 2000
    for _ in range(1234):  # 123.4 s of uptime in 100 ms ticks
        t2.advance_ms(100)
        c2.now()
    now = c2.now()
    assert not c2.valid and now == LATER + 123 and type(now) is int
    stamp = c2.stamp()
    assert stamp == (LATER + 123, False) and type(stamp[0]) is int
    assert c2.iso().startswith("2026-11-30T")
    assert c2.iso().split("T")[1][:8] == "%02d:%02d:%02d" % ((LATER + 123) // 3600 % 24,
                                                            (LATER + 123) // 60 % 60, (LATER + 123) % 60)
    # NTP then says the real time is 40 s later than the estimate: the correction is exact
    c2.set(LATER + 163)
    assert c2.correction == 40 and type(c2.correction) is int and c2.now() == LATER + 163


def test_valid_rtc_time_is_an_int_even_from_a_float_port_clock():
    # The unix port's time.time() is a float; the clock hands the core whole seconds.
    c = WallClock(path=tmpdir("clk") + "/clock.dat", rtc=False, time_fn=lambda: LATER + 0.75,
                  ticks=lambda: 0)
    assert c.valid and c.now() == LATER and type(c.now()) is int
    c.set(LATER + 10)  # no RTC: kept as an offset, an int too
    assert c.now() == LATER + 10 and type(c.now()) is int and type(c._offset) is int

"""Session faults: per-command deadlines on a fake clock, stalls, drops, hostile replies -> nothing sent."""

from smtpmtm.errors import ConnectionLost, ProtocolError, Timeout
from smtpmtm.wire.session import Session
from portable import FakeClock, raises
from smtp_fake import FakeServer, open_session



BODY = b"Subject: hi\r\n\r\nline\r\n"


def start(open_=True, timeouts=None, **kw):
    return open_session(clock=FakeClock(1000), timeouts=timeouts, opened=open_, **kw)


def send(s, dots=None):
    return s.send_message("a@x.org", ["b@y.org"], [BODY], len(BODY),
                          before_final_dot=(lambda: dots.append(1)) if dots is not None else None)


def test_greeting_stall_times_out_at_5_minutes():
    s, srv, clock = start(False, greeting="")
    srv.out[:] = b""
    e = raises(Timeout, s.open)
    assert e.transient and srv.read_timeouts == [300] and clock() == 1300.0 and srv.closed
    assert str(e) == "no reply to the greeting within 300 s (RFC 5321 4.5.3.2)", str(e)  # was "GREET"


def test_each_stage_uses_its_timeout():
    cases = [("MAIL", 300, []), ("RCPT", 300, []), ("DATA", 120, []), ("DOT", 600, ["PIPELINING"]),
             ("BDATL", 600, ["CHUNKING", "PIPELINING"])]
    for verb, limit, caps in cases:
        s, srv, clock = start(stall=(verb,), caps=caps)
        t0 = clock()
        dots = []
        e = raises(Timeout, send, s, dots)
        assert isinstance(e, Timeout) and srv.read_timeouts[-1] == limit, (verb, srv.read_timeouts)
        assert clock() - t0 >= limit and s.closed
        assert (srv.messages == []) == (verb in ("MAIL", "RCPT", "DATA")), verb  # after the dot: uncertain
        assert (dots == []) == (verb in ("MAIL", "RCPT", "DATA")), verb
        # the reply named as on the wire (show(id) printed "while waiting for BDATL")
        said = {"DOT": "the final dot", "BDATL": "BDAT LAST"}.get(verb, verb)
        assert str(e) == "no reply to %s within %d s (RFC 5321 4.5.3.2)" % (said, limit), str(e)
        raises(ConnectionLost, send, s)


def test_configured_timeouts_and_remaining_time():
    s, srv, clock = start(False, timeouts={"greeting": 30, "mail": 7})
    s.open()
    assert srv.read_timeouts[0] == 30
    srv.stall = ("MAIL",)
    srv.caps = []
    raises(Timeout, send, s)
    assert srv.read_timeouts[-1] == 7


def test_slow_trickle_cannot_extend_the_deadline():
    class Trickle(FakeServer):
        def read(self, n, timeout):
            self.read_timeouts.append(timeout)
            self.clock.advance(100)  # one byte every 100 s
            if not self.out:
                raise Timeout("t")
            b = bytes(self.out[:1])
            self.out[0:1] = b""
            return b

    clock = FakeClock(0)
    srv = Trickle(clock, tls=True, greeting="220 " + "x" * 20)
    s = Session(srv, clock, "board")
    raises(Timeout, s.open)
    assert srv.read_timeouts[:4] == [300, 200, 100] or srv.read_timeouts[:3] == [300, 200, 100]
    assert clock() <= 400
    clock = FakeClock(0)
    srv = Trickle(clock, tls=True, greeting="220 " + "x" * 20)
    e = raises(Timeout, Session(srv, clock, "board", timeouts={"greeting": 250}).open)
    assert "the greeting within 250 s" in str(e), str(e)  # the limit the deadline used


def test_connection_dropped_at_each_stage():
    for verb in ("MAIL", "RCPT", "DATA", "DOT"):
        s, srv, clock = start(drop=(verb,), caps=[])
        e = raises(ConnectionLost, send, s)
        assert e.transient and s.closed and (srv.messages == []) == (verb != "DOT")
        assert str(e).endswith(" waiting for %s" % ("the final dot" if verb == "DOT" else verb)), str(e)


def test_hostile_replies_protocol_error_nothing_reported_sent():
    hostile = [b"250 " + b"A" * 600 + b"\r\n", b"250-x\r\n" * 150 + b"250 end\r\n", b"\x00\xff garbage\r\n",
               b"250-a\r\n550 b\r\n", b"2500 ok\r\n", b"250-" + b"B" * 1000]
    for verb in ("MAIL", "RCPT", "DATA", "DOT"):
        for raw in hostile:
            s, srv, clock = start(caps=["PIPELINING"], raw={verb: raw})
            dots = []
            e = raises(ProtocolError, send, s, dots)
            assert e.code == "protocol" and s.closed and srv.closed, (verb, raw[:20])
            assert s.client.state == "ERROR"
            raises(ConnectionLost, send, s)


def test_hostile_greeting_and_ehlo():
    for raw in (b"220-" + b"x" * 600, b"abc\r\n", b"220-a\r\n" * 200):
        s, srv, clock = start(False, greeting="")
        srv.out[:] = raw
        raises(ProtocolError, s.open)
    s, srv, clock = start(False, raw={"EHLO": b"250-mx\r\n250-" + b"Z" * 700 + b"\r\n"})
    raises(ProtocolError, s.open)


def test_greeting_554_refused():
    from smtpmtm.errors import ReplyError

    s, srv, clock = start(False, greeting="554 5.7.1 no service")
    e = raises(ReplyError, s.open)
    assert e.reply_code == 554 and not e.transient and s.closed
    s, srv, clock = start(False, greeting="421 4.3.2 busy")
    e = raises(ReplyError, s.open)
    assert e.reply_code == 421 and e.transient and s.closed


def test_write_failure_is_connection_lost():
    s, srv, clock = start()
    srv.closed = True
    raises(ConnectionLost, send, s)

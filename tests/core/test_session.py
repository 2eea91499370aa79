"""Session over a scripted in-memory server: pipelining, BDAT, round trips, STARTTLS, AUTH, policy."""

from smtpmtm.errors import InputError, ReplyError, TlsError, ConnectionLost
from smtpmtm.session import Session
from portable import FakeClock, raises
from smtp_fake import FakeServer, BASE_CAPS

MPY_HEAP = "128k"  # the smtp modules (~48 KB of bytecode on the 64-bit unix port) and this file compiled from .py source; frozen on a board

BODY = b"From: a@x.org\r\nTo: b@y.org\r\nSubject: hi\r\n\r\nline one\r\n.dot line\r\nend\r\n"


def chunks(body=BODY, n=17):
    return [body[i:i + n] for i in range(0, len(body), n)]


def make(caps=None, tls=True, **kw):
    clock = FakeClock()
    srv = FakeServer(clock, caps=caps, tls=tls, **kw)
    s = Session(srv, clock, "board")
    s.open()
    return s, srv, clock


def test_open_reads_capabilities():
    s, srv, _ = make()
    c = s.capabilities
    assert c["SIZE"] == 1000000 and "PIPELINING" in c and c["AUTH"] == ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"]
    assert srv.log == ["EHLO board"]
    assert s.round_trips == 2


def test_helo_fallback():
    s, srv, _ = make(esmtp=False)
    assert srv.log == ["EHLO board", "HELO board"] and s.capabilities == {}
    r = s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert r["accepted"] == ["b@y.org"] and srv.messages[0][2] == BODY


def test_pipelined_data_two_round_trips():
    s, srv, _ = make()
    before = s.round_trips
    calls = []
    r = s.send_message("a@x.org", ["b@y.org", "c@y.org"], chunks(), len(BODY),
                       on_bytes=lambda a, b: calls.append((a, b)), before_final_dot=lambda: calls.append("dot"))
    assert s.round_trips - before == 2
    assert r == {"accepted": ["b@y.org", "c@y.org"], "refused": {}, "reply": (250, "2.0.0", "queued as 1")}
    assert srv.log[1:] == ["MAIL FROM:<a@x.org> SIZE=%d" % len(BODY), "RCPT TO:<b@y.org>", "RCPT TO:<c@y.org>", "DATA"]
    assert srv.messages == [("a@x.org", ["b@y.org", "c@y.org"], BODY)]
    assert calls[-1] == "dot" and calls[-2] == (len(BODY), len(BODY))


def test_chunking_one_round_trip_and_ten_messages():
    s, srv, _ = make(caps=BASE_CAPS + ["CHUNKING"])
    before = s.round_trips
    for i in range(10):
        s.send_message("a@x.org", ["b@y.org", "c@y.org"], chunks(), len(BODY))
    assert (s.round_trips - before) == 10 and srv.turns + 1 == s.round_trips  # +1: the greeting
    assert len(srv.messages) == 10 and srv.messages[9][2] == BODY
    assert srv.log[-1] == "BDAT %d LAST" % len(BODY)


def test_chunking_big_message_pipelines_chunks():
    s, srv, _ = make(caps=BASE_CAPS + ["CHUNKING"])
    s.bdat_size = 512
    srv.wire = None
    body = b"".join(b"line %d of the big body\n" % i for i in range(100))
    before = s.round_trips
    s.send_message("a@x.org", ["b@y.org"], chunks(body, 300), len(body))
    assert srv.messages[0][2] == body.replace(b"\n", b"\r\n")
    bdats = [l for l in srv.log if l.startswith("BDAT")]
    assert len(bdats) >= 4 and bdats[-1].endswith("LAST")
    assert s.round_trips - before < len(bdats)


def test_chunking_without_pipelining():
    s, srv, _ = make(caps=["CHUNKING", "8BITMIME"])
    before = s.round_trips
    s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert s.round_trips - before == 3  # MAIL, RCPT, BDAT LAST
    assert srv.messages[0][2] == BODY


def test_no_extensions_round_trips():
    s, srv, _ = make(caps=[])
    before = s.round_trips
    s.send_message("a@x.org", ["b@y.org", "c@y.org"], chunks(), len(BODY))
    assert s.round_trips - before == 5  # MAIL, RCPT, RCPT, DATA, dot
    assert srv.log[1] == "MAIL FROM:<a@x.org>"


def test_some_recipients_refused():
    s, srv, _ = make(replies={"RCPT": ["250 ok", "550 5.1.1 no such user", "250 ok"]})
    r = s.send_message("a@x.org", ["b@y.org", "bad@y.org", "c@y.org"], chunks(), len(BODY))
    assert r["accepted"] == ["b@y.org", "c@y.org"]
    assert r["refused"] == {"bad@y.org": (550, "5.1.1", "no such user")}
    assert srv.messages[0][1] == ["b@y.org", "c@y.org"]


def test_all_recipients_refused_pipelined_then_next_message_works():
    for caps in (BASE_CAPS, BASE_CAPS + ["CHUNKING"], []):
        s, srv, _ = make(caps=caps, replies={"RCPT": ["550 5.1.1 no", "452 4.2.2 full"]})
        dots = []
        e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org", "c@y.org"], chunks(), len(BODY),
                   before_final_dot=lambda: dots.append(1))
        assert e.command == "RCPT" and e.reply_code == 452 and e.transient
        assert e.refused == {"b@y.org": (550, "5.1.1", "no"), "c@y.org": (452, "4.2.2", "full")}
        assert srv.messages == [] and (dots == [] or "CHUNKING" in caps)
        r = s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
        assert r["accepted"] == ["b@y.org"] and len(srv.messages) == 1


def test_mail_refused():
    for caps in (BASE_CAPS, [], BASE_CAPS + ["CHUNKING"]):
        s, srv, _ = make(caps=caps, replies={"MAIL": ["553 5.1.8 bad sender"]})
        e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
        assert e.command == "MAIL" and e.reply_code == 553 and not e.transient and e.enhanced == "5.1.8"
        assert srv.messages == []
        s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
        assert len(srv.messages) == 1
        if "PIPELINING" in caps:
            assert "RSET" in srv.log


def test_data_and_final_refusals():
    s, srv, _ = make(replies={"DATA": ["451 4.3.0 later"]})
    e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert e.command == "DATA" and e.transient
    s, srv, _ = make(replies={"DOT": ["554 5.7.1 spam"]})
    e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert e.command == "DATA-END" and e.reply_code == 554 and srv.messages == []
    s, srv, _ = make(caps=BASE_CAPS + ["CHUNKING"], replies={"BDATL": ["552 5.3.4 too big"]})
    e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert e.command == "BDAT" and e.reply_code == 552


def test_421_closes_and_is_transient():
    s, srv, _ = make(replies={"RCPT": ["421 4.3.2 shutting down"]})
    e = raises(ReplyError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert e.reply_code == 421 and e.transient and srv.closed and s.closed
    raises(ConnectionLost, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))


def test_size_8bit_smtputf8_checked_before_anything_is_sent():
    s, srv, _ = make(caps=["SIZE 100", "PIPELINING"])
    n = len(srv.wire)
    e = raises(InputError, s.send_message, "a@x.org", ["b@y.org"], chunks(), 101)
    assert e.code == "size-exceeded"
    e = raises(InputError, s.send_message, "a@x.org", ["b@y.org"], chunks(), 10, needs_8bit=True)
    assert e.code == "8bitmime-not-offered"
    e = raises(InputError, s.send_message, "a@x.org", ["b\xfc@y.org"], chunks(), 10)
    assert e.code == "smtputf8-not-offered"
    e = raises(InputError, s.send_message, "a@x.org", ["b@y.org>\r\nDATA"], chunks(), 10)
    assert e.code == "address"
    assert len(srv.wire) == n


def test_mail_parameters():
    s, srv, _ = make()
    s.send_message("a@x.org", ["b\xfc@y.org"], chunks(), len(BODY), needs_8bit=True,
                   dsn={"ret": "hdrs", "envid": "id+1", "notify": "success,failure"})
    assert srv.log[1] == "MAIL FROM:<a@x.org> SIZE=%d BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1" % len(BODY)
    assert srv.log[2] == "RCPT TO:<b\xfc@y.org> NOTIFY=SUCCESS,FAILURE"


def test_rset_rides_with_the_next_group():
    s, srv, _ = make()
    s.rset()
    before = s.round_trips
    s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert s.round_trips - before == 2 and srv.log[1] == "RSET" and srv.log[2].startswith("MAIL")
    s, srv, _ = make(caps=[])
    s.rset()
    assert srv.log[-1] == "RSET"
    s, srv, _ = make()
    s.rset()
    s.login("u", "p")  # the deferred RSET is sent and answered before AUTH
    assert srv.log[-2:] == ["RSET", "AUTH PLAIN AHUAcA=="]
    assert s.noop().code == 250
    s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert len(srv.messages) == 1


def test_body_iterator_failure_closes_without_final_dot():
    def bad():
        yield b"Subject: x\r\n\r\npart"
        raise InputError("file vanished")

    s, srv, _ = make()
    raises(InputError, s.send_message, "a@x.org", ["b@y.org"], bad(), 100)
    assert srv.closed and srv.messages == [] and not bytes(srv.wire).endswith(b"\r\n.\r\n")


def test_quit():
    s, srv, _ = make()
    s.quit()
    assert srv.log[-1] == "QUIT" and srv.closed and s.closed
    s.quit()


def test_cancel_before_final_dot_never_sends_the_message():
    from smtpmtm.errors import Cancelled

    def cancel():
        raise Cancelled("user")

    for caps in (BASE_CAPS, BASE_CAPS + ["CHUNKING"], ["CHUNKING"], []):
        s, srv, _ = make(caps=caps)
        raises(Cancelled, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY), before_final_dot=cancel)
        assert srv.messages == [], caps
        assert not bytes(srv.wire).endswith(b"\r\n.\r\n") and b"LAST" not in bytes(srv.wire)
        if not s.closed:  # nothing owed (CHUNKING alone): the session stays usable, RSET first
            s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
            assert len(srv.messages) == 1 and srv.log[-4] == "RSET"
        else:
            assert "PIPELINING" in caps or "CHUNKING" not in caps

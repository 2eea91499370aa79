"""Session over a scripted in-memory server: capabilities, HELO, PIPELINING, refusals, 421, parameters."""

from smtpmtm.errors import InputError, ReplyError, ConnectionLost
from portable import FakeClock, raises
from smtp_fake import BASE_CAPS, BODY, chunks, open_session as make



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


def test_sending_step_by_step_is_send_message():
    """Session.sending yields after each piece of the body (DATA: each chunk; BDAT: each
    BDAT chunk but the last) and returns what send_message returns, with the same bytes
    on the wire; the body that has gone out by each yield only grows."""
    for caps in (BASE_CAPS, BASE_CAPS + ["CHUNKING"], []):
        whole, srv1, _ = make(caps=caps)
        r1 = whole.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
        s, srv, _ = make(caps=caps)
        if "CHUNKING" in caps:
            s.bdat_size = 20
        seen = []
        steps = s.sending("a@x.org", ["b@y.org"], chunks(), len(BODY), on_bytes=lambda a, b: seen.append(a))
        n = 0
        try:
            while True:
                assert next(steps) == 0
                n += 1
                assert len(seen) == n  # one piece written per step
        except StopIteration as done:
            r = done.value
        assert r == r1 and srv.messages == srv1.messages == [("a@x.org", ["b@y.org"], BODY)], caps
        # 17-byte chunks; BDATs of 34, 34 and the LAST one (no step after it: the reply is next)
        want = (len(BODY) + 16) // 17 if "CHUNKING" not in caps else 2
        assert n == want and seen == sorted(seen), (caps, n, seen)


def test_opening_starting_tls_and_logging_in_step_by_step():
    """opening(), starting_tls() and logging_in() yield 0 at each look that found no reply
    yet (a slow server) and end where open(), starttls() and login() end: those drive them.
    The send engine runs them, so a board's REPL gets turns while a server is slow to greet."""
    from sender_fakes import FakeServer as SlowServer
    from smtpmtm.wire.session import Session

    clock = FakeClock()
    srv = SlowServer(tls="ok", tokens={"ann": "t0k"}, slow=2, clock=clock)
    s = Session(srv.connect("h", 25), clock, "board")
    ends = []
    for steps in (s.opening(), s.starting_tls("h"), s.logging_in("ann", token="t0k")):
        n = 0
        try:
            while True:
                assert next(steps) == 0
                n += 1
        except StopIteration as done:
            ends.append((n, done.value))
    # greeting + EHLO, STARTTLS + EHLO again, AUTH: two empty looks for each reply
    assert [n for n, _ in ends] == [4, 4, 2] and srv.looks == 10, ends
    assert "STARTTLS" in ends[0][1] and ends[1][1] is None and ends[2][1] == "XOAUTH2", ends
    assert s.stream.is_tls and "STARTTLS" not in s.capabilities and srv.auths == [("XOAUTH2", "ann", "t0k")]

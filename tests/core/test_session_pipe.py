"""Session over a scripted in-memory server: round trips and flights: CHUNKING/BDAT, no extensions, RSET riding, cancel, quit."""

from smtpmtm.errors import InputError
from portable import raises
from smtp_fake import BASE_CAPS, BODY, chunks, open_session as make



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

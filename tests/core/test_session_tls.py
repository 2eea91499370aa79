"""Session TLS policy, STARTTLS failing closed (not offered, 454, injection, bad cert) and AUTH on the wire."""

from smtpmtm.errors import ReplyError, TlsError
from smtpmtm.wire.session import Session
from portable import FakeClock, needs_md5, raises
from smtp_fake import FakeServer, open_session as make



BODY = b"Subject: hi\r\n\r\nline\r\n"


def chunks():
    return [BODY]


@needs_md5  # login() picks CRAM-MD5 from the fake server's offer
def test_plaintext_policy_nothing_on_the_wire():
    s, srv, _ = make(tls=False)
    n = len(srv.wire)
    e = raises(TlsError, s.login, "u", "p")
    assert e.code == "tls-required"
    e = raises(TlsError, s.send_message, "a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert e.code == "tls-required"
    assert len(srv.wire) == n
    clock = FakeClock()
    srv = FakeServer(clock, tls=False)
    s = Session(srv, clock, "board", allow_plaintext=True)
    s.open()
    s.login("u", "p")
    s.send_message("a@x.org", ["b@y.org"], chunks(), len(BODY))
    assert len(srv.messages) == 1


def test_starttls_then_ehlo_again():
    s, srv, _ = make(tls=False)
    s.starttls("mx.example.org")
    assert srv.is_tls and srv.log == ["EHLO board", "STARTTLS", "EHLO board"]
    assert "STARTTLS" not in s.capabilities and "AUTH" in s.capabilities
    assert s.login("u", "p") == "PLAIN"
    assert srv.auth_lines == ["AUTH PLAIN AHUAcA=="]


def test_starttls_fails_closed():
    s, srv, _ = make(tls=False, caps=["PIPELINING", "AUTH PLAIN"])
    e = raises(TlsError, s.starttls, "mx")
    assert e.code == "tls-not-offered"
    s, srv, _ = make(tls=False, replies={"STARTTLS": ["454 4.7.0 TLS not available"]})
    e = raises(TlsError, s.starttls, "mx")
    assert e.code == "tls-refused" and e.transient and not srv.is_tls
    s, srv, _ = make(tls=False, inject=b"250 injected\r\n")
    e = raises(TlsError, s.starttls, "mx")
    assert e.code == "tls-injection" and srv.closed and not srv.is_tls
    s, srv, _ = make(tls=False, tls_error="tls-unknown-ca")
    e = raises(TlsError, s.starttls, "mx")
    assert e.code == "tls-unknown-ca" and srv.closed
    assert srv.log[-1] == "STARTTLS"


def test_injection_split_across_reads():
    s, srv, _ = make(tls=False, inject=b"250 injected\r\n", segment=7)
    e = raises(TlsError, s.starttls, "mx")
    assert e.code == "tls-injection"


@needs_md5
def test_auth_mechanisms_on_the_wire():
    s, srv, _ = make()
    assert s.login("tim", "tanstaaftanstaaf", mechanisms=["CRAM-MD5"]) == "CRAM-MD5"
    assert srv.auth_lines == ["AUTH CRAM-MD5", "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"]
    s, srv, _ = make()
    s.login("ann", "pw", mechanisms=["LOGIN"])
    assert srv.auth_lines == ["AUTH LOGIN", "YW5u", "cHc="]
    s, srv, _ = make()
    s.login("ann@x.org", token="tok")
    assert srv.auth_lines == ["AUTH XOAUTH2 dXNlcj1hbm5AeC5vcmcBYXV0aD1CZWFyZXIgdG9rAQE="]


def test_long_token_goes_after_an_empty_challenge():
    s, srv, _ = make()
    tok = "t" * 600
    s.login("ann@x.org", token=tok)
    assert srv.auth_lines[0] == "AUTH XOAUTH2" and len(srv.auth_lines[1]) > 800


def test_auth_failure_is_reply_error():
    s, srv, _ = make(replies={"AUTH": ["535 5.7.8 bad credentials"]})
    e = raises(ReplyError, s.login, "u", "p")
    assert e.command == "AUTH" and e.reply_code == 535 and e.enhanced == "5.7.8"
    s.login("u", "p")  # the session is still usable

"""The send engine logging in with an OAuth2 access token (XOAUTH2 / OAUTHBEARER).

Against the in-memory server of tests/core/sender_fakes.py, which checks the
token as host/server.py does (the real aiosmtpd run is tests/host/test_e2e_oauth.py).
"""

from smtpmtm import entry as E
from smtpmtm.sender import Sender
from portable import FakeClock
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings

USER = "pump@example.com"


def make(st, srv, clock=None, **kw):
    clock = clock or FakeClock()
    kw.setdefault("auth", True)
    kw.setdefault("login", USER)
    cfg = settings(**kw)
    return Sender(st, cfg, SERVICE, srv.connect, clock, rand=lambda: 0.5), clock


def test_a_static_token_logs_in_with_xoauth2_and_sends():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.good"})
    i = queue(st)
    s, _ = make(st, srv, oauth_token="ya29.good", password="not-used")
    r = s.send_all()
    assert r["sent"] == [i] and r["error"] is None
    assert srv.auths == [("XOAUTH2", USER, "ya29.good")]
    assert len(srv.messages) == 1 and st.get(i).sending_state == E.SEND_SENT


def test_oauthbearer_when_the_account_asks_for_it():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.good"})
    i = queue(st)
    s, _ = make(st, srv, oauth_token="ya29.good", auth_mechanisms=["OAUTHBEARER"])
    assert s.send_all()["sent"] == [i]
    assert srv.auths == [("OAUTHBEARER", USER, "ya29.good")]


def test_a_long_token_goes_after_an_empty_challenge():
    # RFC 4954 section 4: an initial response that would pass 512 octets waits for "334 "
    long_token = "ya29." + "x" * 1500  # Microsoft's access tokens are JWTs of 1-3 KB
    st = new_store()
    srv = FakeServer(tokens={USER: long_token})
    i = queue(st)
    s, _ = make(st, srv, oauth_token=long_token)
    assert s.send_all()["sent"] == [i]
    assert [c for c in srv.commands if c.startswith("AUTH")] == ["AUTH XOAUTH2"]
    assert srv.auths == [("XOAUTH2", USER, long_token)]


def test_a_refused_static_token_fails_like_a_bad_password():
    # no refresh settings: nothing to refresh with, so 535 is final (RFC 5321 4.2.1)
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    i = queue(st)
    s, _ = make(st, srv, oauth_token="ya29.expired")
    r = s.send_all()
    assert r["failed"] == [i] and srv.messages == []
    e = st.get(i)
    assert e.sending_state == E.SEND_FAILED and e.error == 535
    assert "535" in s.progress.error_text
    assert len(srv.auths) == 1  # one try, the JSON challenge answered, then 535

"""The send engine logging in with an OAuth2 access token (XOAUTH2 / OAUTHBEARER).

Against the in-memory server of tests/core/sender_fakes.py, which checks the
token as host/server.py does (the real aiosmtpd run is tests/host/test_e2e_oauth.py).
"""

from smtpmtm.store import entry as E
from smtpmtm.outbox import plan as sendplan
from smtpmtm.accounts import Accounts
from smtpmtm.outbox.sender import Sender
from smtpmtm.store.tree import Store
from smtpmtm.outbox.tokensource import TokenSource
from portable import FakeClock
from oauth_fakes import FakeEndpoint, http, ok, refused
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings

USER = "pump@example.com"


def make(st, srv, clock=None, tokens=None, **kw):
    clock = clock or FakeClock()
    kw.setdefault("auth", True)
    kw.setdefault("login", USER)
    cfg = settings(**kw)
    return Sender(st, cfg, SERVICE, srv.connect, clock, rand=lambda: 0.5,
                  tokens=tokens), clock


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
    assert sendplan.read_result(st, i)["error"][1] == 535  # show(id) says why


# -- refresh (RFC 6749 section 6): a TokenSource injected into the Sender ------------------

NOW = 1700000000
LATER = 1796000000  # 2026-11-30: a single-precision float holds this only to 128 s
URL = "https://oauth2.example.com/token"


def account(st, now=NOW, **kw):
    """An account with refresh settings, as device/smtpmtm_board/app.py builds it; returns (accounts, acct, cfg)."""
    d = dict(auth=True, login=USER, password="", oauth_token="ya29.old", oauth_expires=now - 5,
             oauth_token_url=URL, oauth_client_id="id-1", oauth_client_secret="cs",
             oauth_refresh_token="1//refresh")
    d.update(kw)
    ac = Accounts(st)
    a = ac.create("gmail", settings(**d))
    return ac, a, ac.load(a)


def engine(st, srv, ep, now=NOW, **kw):
    ac, a, cfg = account(st, now, **kw)
    clock = FakeClock(now)
    ts = TokenSource(cfg, ep.connect, clock, ac, a)
    s = Sender(st, cfg, a.service, srv.connect, clock, rand=lambda: 0.5, tokens=ts)
    return s, ts, ac, a


def test_expired_token_is_refreshed_before_connecting_and_saved():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    ep = FakeEndpoint([ok("ya29.new", 3599, "1//rotated")])
    s, ts, ac, a = engine(st, srv, ep)
    i = queue(st, service=a.service)
    r = s.send_all()
    assert r["sent"] == [i] and r["error"] is None
    assert srv.auths == [("XOAUTH2", USER, "ya29.new")]  # the old token never reached the server
    assert len(ep.requests) == 1 and b"grant_type=refresh_token&refresh_token=1%2F%2Frefresh" in ep.requests[0]
    assert ep.seen == [("oauth2.example.com", 443, "implicit", None, "oauth2.example.com")]
    saved = Accounts(Store(st.root)).load(a)  # what a reboot finds
    assert saved.oauth_token == "ya29.new" and saved.oauth_expires == int(NOW) + 3599
    assert saved.oauth_refresh_token == "1//rotated" and ts.save_error is None
    assert saved.password == "" and saved.oauth_client_secret == "cs"  # the rest untouched


def test_refresh_only_when_missing_or_within_60_s():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.old"})
    ep = FakeEndpoint([])  # any refresh would fail: no answer scripted
    s, ts, ac, a = engine(st, srv, ep, oauth_expires=int(NOW) + 61)
    i = queue(st, service=a.service)
    assert s.send_all()["sent"] == [i] and ep.requests == [] and ts.refreshed == 0
    for kw in ({"oauth_expires": int(NOW) + 59}, {"oauth_token": ""}):
        st = new_store()
        srv = FakeServer(tokens={USER: "ya29.fresh"})
        ep = FakeEndpoint([ok("ya29.fresh")])
        s, ts, ac, a = engine(st, srv, ep, **kw)
        i = queue(st, service=a.service)
        assert s.send_all()["sent"] == [i] and len(ep.requests) == 1, kw
        assert Accounts(st).load(a).oauth_refresh_token == "1//refresh"  # not rotated: kept


def test_token_expiry_and_retry_time_at_2026_are_exact_whole_seconds():
    # With float time a board rounds 1796000000 + 59 and + 61 to the same multiple of 128 s,
    # so the 60 s refresh margin could not tell them apart; expiry and next_try are ints.
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.old"})
    s, ts, ac, a = engine(st, srv, FakeEndpoint([]), now=LATER, oauth_expires=LATER + 61)
    i = queue(st, service=a.service)
    assert s.send_all()["sent"] == [i] and ts.refreshed == 0  # 61 s left: no refresh
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.fresh"})
    ep = FakeEndpoint([http(500, b"busy"), ok("ya29.fresh", 3599)])
    s, ts, ac, a = engine(st, srv, ep, now=LATER, oauth_expires=LATER + 59)
    i = queue(st, service=a.service)
    assert s.send_all()["deferred"] == [i] and len(ep.requests) == 1  # 59 s left: refresh, 500
    e = st.get(i)
    # backoff 60 s, rand 0.5: 30 + 15 whole seconds after LATER, as an int
    assert e.next_try == LATER + 45 and type(e.next_try) is int and e.first_try == LATER
    s.clock.advance(45)
    assert s.send_all()["sent"] == [i]
    saved = Accounts(Store(st.root)).load(a)
    assert saved.oauth_expires == LATER + 45 + 3599 and type(saved.oauth_expires) is int


def test_535_refreshes_once_and_logs_in_again():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    ep = FakeEndpoint([ok("ya29.new")])
    s, ts, ac, a = engine(st, srv, ep, oauth_expires=0)  # expiry unknown: used until refused
    i = queue(st, service=a.service)
    r = s.send_all()
    assert r["sent"] == [i]
    assert [x[2] for x in srv.auths] == ["ya29.old", "ya29.new"] and srv.connections == 1
    assert len(ep.requests) == 1 and Accounts(st).load(a).oauth_token == "ya29.new"


def test_535_after_the_refresh_fails_without_a_loop():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.right"})
    ep = FakeEndpoint([ok("ya29.wrong-too"), ok("never-asked")])
    s, ts, ac, a = engine(st, srv, ep, oauth_expires=0)
    i = queue(st, service=a.service)
    r = s.send_all()
    assert r["failed"] == [i] and st.get(i).error == 535
    assert len(srv.auths) == 2 and len(ep.requests) == 1


def test_invalid_grant_fails_with_a_clear_error_and_keeps_everything():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    ep = FakeEndpoint([refused(400, "invalid_grant", "Token has been expired or revoked.")])
    s, ts, ac, a = engine(st, srv, ep)
    i = queue(st, service=a.service)
    before = Accounts(st).load(a)
    r = s.send_all()
    assert r["failed"] == [i] and r["error"] == "oauth-invalid-grant"
    assert srv.connections == 0  # no token, no SMTP connection
    p = s.progress
    assert p.error == "oauth-invalid-grant" and "new refresh token" in p.error_text
    assert "expired or revoked" in p.error_text and p.consistent()
    e = st.get(i)
    assert e.sending_state == E.SEND_FAILED and e.parent == E.OUTBOX  # kept, retry() after re-authorising
    code, _, text = sendplan.read_result(st, i)["error"]  # what show(id) prints
    assert code == "oauth-invalid-grant" and "new refresh token" in text
    assert Accounts(Store(st.root)).load(a) == before  # nothing saved, nothing lost


def test_transient_refresh_failures_defer_like_a_connection_failure():
    for answer, code in ((http(500, b"oops"), "oauth-http"), ("drop", "oauth-bad-response"),
                         ("refuse", "connection-lost"), (b"HTTP/1.1 200 OK\r\n\r\n<html>", "oauth-bad-response"),
                         (http(200, b"x" * 9000), "oauth-bad-response")):
        st = new_store()
        srv = FakeServer(tokens={USER: "ya29.new"})
        ep = FakeEndpoint([answer, ok("ya29.new")])
        s, ts, ac, a = engine(st, srv, ep)
        i = queue(st, service=a.service)
        r = s.send_all()
        assert r["deferred"] == [i] and r["error"] == code, (code, r, s.progress.error_text)
        e = st.get(i)
        assert e.sending_state == E.SEND_WAITING and e.next_try > NOW and srv.connections == 0
        assert sendplan.read_result(st, i)["error"] is None  # deferred: no extra flash write
        s.clock.advance(e.next_try - NOW)  # the retry time comes: the refresh works now
        assert s.send_all()["sent"] == [i], code
        assert Accounts(st).load(a).oauth_token == "ya29.new"


def test_a_token_endpoint_that_does_not_verify_defers_and_says_why():
    # a portal or proxy answering for the token endpoint: retried like the SMTP server's TLS
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    ep = FakeEndpoint(["tls-unknown-ca", ok("ya29.new")])
    s, ts, ac, a = engine(st, srv, ep)
    i = queue(st, service=a.service)
    r = s.send_all()
    assert r["deferred"] == [i] and r["error"] == "tls-unknown-ca" and srv.connections == 0, r
    code, _, text = sendplan.read_result(st, i)["error"]  # what show(id) prints
    assert code == "tls-unknown-ca" and "token endpoint" in text, text
    e = st.get(i)
    assert e.sending_state == E.SEND_WAITING and e.attempts == 1
    s.clock.advance(e.next_try - NOW)
    assert s.send_all()["sent"] == [i] and Accounts(st).load(a).oauth_token == "ya29.new"


def test_a_failed_save_keeps_the_token_for_this_send():
    st = new_store()
    srv = FakeServer(tokens={USER: "ya29.new"})
    ep = FakeEndpoint([ok("ya29.new")])
    ac, a, cfg = account(st)
    ro = ac.create("ro", cfg, read_only=True)  # save() refuses a read-only account
    clock = FakeClock(NOW)
    ts = TokenSource(cfg, ep.connect, clock, ac, ro)
    s = Sender(st, cfg, ro.service, srv.connect, clock, rand=lambda: 0.5, tokens=ts)
    i = queue(st, service=ro.service)
    assert s.send_all()["sent"] == [i]
    assert "read-only" in str(ts.save_error) and cfg.oauth_token == "ya29.new"
    assert ac.load(ro).oauth_token == "ya29.old"

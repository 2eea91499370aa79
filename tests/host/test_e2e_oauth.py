"""OAuth2 end to end: the send engine logs in to aiosmtpd with XOAUTH2 / OAUTHBEARER.

Host-only: the real local server (host/server.py, ``oauth=``) over STARTTLS verified
with the test CA, CPython's sockets and ssl (host/net.py), and the same core the
tests/core/test_sender_oauth.py cases run on both interpreters against an in-memory
server. What the server received is parsed with CPython's ``email`` package.
"""

import os

import pytest

from host import net
from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.outbox.sender import Sender
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store
from servers import certs, mpy_path, mpy_script, smtp_server  # noqa: F401  (pytest fixtures)
from servers import marks as board_marks

USER = "pump@example.com"
SERVICE = 0x100


def _settings(certs, port, **kw):
    d = dict(server="127.0.0.1", port=port, starttls=True, cafile=certs.ca, tls_domain="localhost",
             email_address=USER, auth=True, login=USER, max_attempts=3)
    d.update(kw)
    return SmtpSettings(**d)


def _queue(st, subject="oauth", service=SERVICE):
    h = M.new_header()
    h["to"] = [("", "ann@example.com")]
    h["subject"] = subject
    h["message_id"] = "<oauth.%s@example.com>" % subject
    h["date"] = 1732790000
    h["text"] = "text"
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=service, mtm=E.MTM_SMTP,
                description=subject, details="ann@example.com", sending_state=E.SEND_WAITING)
    return st.create(e, parts={"header": M.header_chunks(h), "text": [b"Pressure low\r\n"]})


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_engine_sends_with_a_static_token(smtp_server, certs, tmp_path, mech):
    srv = smtp_server("starttls", require_auth=True, oauth={USER: "ya29.good-token"})
    st = Store(str(tmp_path / "store"))
    i = _queue(st)
    cfg = _settings(certs, srv.port, oauth_token="ya29.good-token", auth_mechanisms=[mech])
    r = Sender(st, cfg, SERVICE, net.connect, __import__("time").time).send_all()
    assert r["sent"] == [i], r
    got = srv.wait_messages(1)[0]
    assert got.tls and got.user == USER
    assert got.parse()["Subject"] == "oauth"
    auth = [l for l in srv.commands() if l.startswith(b"AUTH")]
    assert auth and auth[0].startswith(b"AUTH " + mech.encode() + b" ")


@pytest.mark.parametrize("mech,answer", [("XOAUTH2", b""), ("OAUTHBEARER", b"AQ==")])
def test_engine_refused_token_gets_the_json_challenge_then_535(smtp_server, certs, tmp_path, mech,
                                                              answer):
    srv = smtp_server("starttls", require_auth=True, oauth={USER: "ya29.current"})
    st = Store(str(tmp_path / "store"))
    i = _queue(st)
    cfg = _settings(certs, srv.port, oauth_token="ya29.expired", auth_mechanisms=[mech])
    s = Sender(st, cfg, SERVICE, net.connect, __import__("time").time)
    r = s.send_all()
    assert r["failed"] == [i] and srv.messages == []
    assert st.get(i).error == 535 and "5.7.8" in s.progress.error_text
    assert srv.oauth_refused == 1
    lines = srv.commands()
    k = next(n for n, l in enumerate(lines) if l.startswith(b"AUTH " + mech.encode()))
    # the answer to the JSON challenge: an empty line (XOAUTH2), %x01 (RFC 7628 3.2.3)
    assert lines[k + 1] == answer
    assert not [l for l in lines if l.startswith((b"MAIL", b"RCPT"))]
    assert os.path.isdir(str(tmp_path / "store"))


# -- refresh over HTTPS (host/tokenserver.py), the token saved to the account ------------------

import time  # noqa: E402

from host.tokenserver import TokenServer  # noqa: E402
from smtpmtm.accounts import Accounts  # noqa: E402
from smtpmtm.outbox.oauth2 import OAuthError  # noqa: E402
from smtpmtm.outbox.tokensource import TokenSource, refresh  # noqa: E402


def _refresh_settings(certs, ts, port=25, **kw):
    d = dict(oauth_token="ya29.expired", oauth_expires=int(time.time()) - 100,
             oauth_token_url=ts.url, oauth_client_id=ts.client_id,
             oauth_client_secret=ts.client_secret, oauth_refresh_token=ts.refresh_token,
             oauth_scope="https://mail.google.com/")
    d.update(kw)
    return _settings(certs, port, **d)


def _engine(tmp_path, cfg):
    st = Store(str(tmp_path / "store"))
    ac = Accounts(st)
    a = ac.create("gmail", cfg)
    cfg = ac.load(a)
    tokens = TokenSource(cfg, net.connect, time.time, ac, a)
    s = Sender(st, cfg, a.service, net.connect, time.time, tokens=tokens)
    return st, ac, a, s, tokens


def test_engine_refreshes_an_expired_token_and_saves_it(smtp_server, certs, tmp_path):
    with TokenServer(certs, rotate=True, token_size=1500) as ts:  # a JWT-sized token
        srv = smtp_server("starttls", require_auth=True, oauth=ts.check)
        st, ac, a, s, tokens = _engine(tmp_path, _refresh_settings(certs, ts, srv.port))
        i = _queue(st, "refreshed", a.service)
        r = s.send_all()
        assert r["sent"] == [i], (r, s.progress.error_text)
        got = srv.wait_messages(1)[0]
        assert got.tls and got.user == USER and got.parse()["Subject"] == "refreshed"
        assert len(ts.requests) == 1 and srv.oauth_refused == 0  # the old token never tried
        req = ts.requests[0]
        assert req["form"]["grant_type"] == "refresh_token" and req["form"]["refresh_token"] == "1//refresh-1"
        assert req["form"]["scope"] == "https://mail.google.com/" and req["host"] == "127.0.0.1:%d" % ts.port
        assert req["content_type"] == "application/x-www-form-urlencoded"
        saved = Accounts(Store(str(tmp_path / "store"))).load(a)  # what a reboot reads
        assert saved.oauth_token == ts.issued[0] and len(saved.oauth_token) > 1000
        assert abs(saved.oauth_expires - (time.time() + 3600)) < 60
        assert saved.oauth_refresh_token == ts.refresh_token == "1//refresh-2"  # rotated, kept
        # the next send within the hour uses the saved token: no second refresh
        tokens2 = TokenSource(saved, net.connect, time.time, ac, a)
        j = _queue(st, "second", a.service)
        s2 = Sender(st, saved, a.service, net.connect, time.time, tokens=tokens2)
        assert s2.send_all()["sent"] == [j] and len(ts.requests) == 1


def test_engine_535_refreshes_once_then_sends(smtp_server, certs, tmp_path):
    with TokenServer(certs) as ts:
        srv = smtp_server("starttls", require_auth=True, oauth=ts.check)
        cfg = _refresh_settings(certs, ts, srv.port, oauth_token="ya29.revoked",
                                oauth_expires=int(time.time()) + 3000)
        st, ac, a, s, tokens = _engine(tmp_path, cfg)
        i = _queue(st, "after-535", a.service)
        assert s.send_all()["sent"] == [i]
        assert srv.oauth_refused == 1 and len(ts.requests) == 1
        assert ac.load(a).oauth_token == ts.issued[0]


def test_engine_invalid_grant_fails_clearly_and_never_dials_smtp(smtp_server, certs, tmp_path):
    with TokenServer(certs, script=["invalid_grant"]) as ts:
        srv = smtp_server("starttls", require_auth=True, oauth=ts.check)
        st, ac, a, s, tokens = _engine(tmp_path, _refresh_settings(certs, ts, srv.port))
        i = _queue(st, "revoked", a.service)
        before = ac.load(a)
        r = s.send_all()
        assert r["failed"] == [i] and r["error"] == "oauth-invalid-grant"
        assert "new refresh token" in s.progress.error_text and srv.log == []
        assert Accounts(Store(str(tmp_path / "store"))).load(a) == before
        assert st.get(i).sending_state == E.SEND_FAILED  # still there for retry() later


@pytest.mark.parametrize("action,code,transient", [
    ("garbage", "oauth-bad-response", True), ("drop", "oauth-bad-response", True),
    ("huge", "oauth-bad-response", True), ("500", "oauth-http", True),
    ("notjson", "oauth-bad-response", True), ("invalid_client", "oauth-refused", False)])
def test_refresh_driver_against_a_misbehaving_endpoint(certs, action, code, transient):
    with TokenServer(certs, script=[action]) as ts:
        cfg = _refresh_settings(certs, ts)
        e = pytest.raises(OAuthError, refresh, cfg, net.connect, time.time, 10).value
        assert (e.code, e.transient) == (code, transient), str(e)


def test_refresh_driver_reads_chunked_and_verifies_the_certificate(certs):
    with TokenServer(certs, script=["chunked"]) as ts:
        r = refresh(_refresh_settings(certs, ts), net.connect, time.time, 10)
        assert r["access_token"] == ts.issued[0] and r["expires_in"] == 3600
    with TokenServer(certs, cert_case="unknown-ca") as ts:
        e = pytest.raises(OAuthError, refresh, _refresh_settings(certs, ts), net.connect, time.time, 10).value
        assert e.code == "tls-unknown-ca" and "127.0.0.1" in str(e) and ts.requests == []


def test_board_refreshes_over_https_and_sends_on_micropython(smtp_server, certs, tmp_path, mpy_path):
    """The board (device/smtpmtm_board/app.py + REPL + device/smtpmtm_board/net.py's mbedtls) on the MicroPython unix port:
    account() with an expired token and refresh settings, a message queued, the link up."""
    from host import mpy

    with TokenServer(certs, rotate=True, token_size=1200) as ts:
        srv = smtp_server("starttls", require_auth=True, oauth=ts.check)
        r = mpy.run(mpy_script("device_repl_flow.py"),
                    ["oauth", str(tmp_path), srv.port, certs.ca, ts.url], heap="384k",
                    timeout=120, path=mpy_path)
        out = r.stdout.decode() + r.stderr.decode()
        assert r.returncode == 0, out
        marks = board_marks(out)
        assert marks["sent_after"] == "1", out
        got = srv.wait_messages(1)[0]
        assert got.tls and got.user == USER and got.parse()["Subject"] == "OAuth alarm"
        assert marks["token"] == ts.issued[0] and len(ts.requests) == 1, out  # saved; test() reused it
        assert 3500 < int(marks["expires_in"]) <= 3600, out
        assert marks["refresh"] == ts.refresh_token == "1//refresh-2", out
        assert marks["test"] == "True" and "auth    ok (pump@example.com, XOAUTH2)" in out, out
        assert "oauth: access token refreshed" in out and "send: 1 sent" in out, out
        for secret in ("client-secret-1", "1//refresh-1", "1//refresh-2", ts.issued[0], "ya29.expired"):
            assert secret not in out.replace("MARK token " + ts.issued[0], "").replace(
                "MARK refresh 1//refresh-2", ""), secret  # account() and the log hide them
        assert "oauth_refresh_token" in out and "oauth_token_url" in out

"""OAuth2 end to end: the send engine logs in to aiosmtpd with XOAUTH2 / OAUTHBEARER.

Host-only: the real local server (host/server.py, ``oauth=``) over STARTTLS verified
with the test CA, CPython's sockets and ssl (host/net.py), and the same core the
tests/core/test_sender_oauth.py cases run on both interpreters against an in-memory
server. What the server received is parsed with CPython's ``email`` package.
"""

import os

import pytest

from host import net
from smtpmtm import entry as E
from smtpmtm import message as M
from smtpmtm.sender import Sender
from smtpmtm.settings import SmtpSettings
from smtpmtm.store import Store
from servers import certs, smtp_server  # noqa: F401  (pytest fixtures)

USER = "pump@example.com"
SERVICE = 0x100


def _settings(certs, port, **kw):
    d = dict(server="127.0.0.1", port=port, starttls=True, cafile=certs.ca, tls_domain="localhost",
             email_address=USER, auth=True, login=USER, max_attempts=3)
    d.update(kw)
    return SmtpSettings(**d)


def _queue(st, subject="oauth"):
    h = M.new_header()
    h["to"] = [("", "ann@example.com")]
    h["subject"] = subject
    h["message_id"] = "<oauth.%s@example.com>" % subject
    h["date"] = 1732790000
    h["text"] = "text"
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=SERVICE, mtm=E.MTM_SMTP,
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

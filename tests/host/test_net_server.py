"""The local test server (host/server.py): scripted faults, BDAT, AUTH, SIZE, maildir, byte log.

Host-only: aiosmtpd on 127.0.0.1 driven by raw sockets and smtplib, so the
server other tests rely on (the sender's outcome table, the TLS tests) is
itself checked: every scripted action does what it says.
"""

import os
import smtplib
import socket
import ssl

import pytest

from servers import PASSWORD, USER, certs, smtp_server  # noqa: F401


class Raw:
    """A tiny line client for exact control of what the server sees."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def reply(self, timeout=5):
        """One whole reply as (code, last line), or None on close; raises socket.timeout."""
        self.s.settimeout(timeout)
        while True:
            lines = self.buf.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if line[3:4] == b" ":
                    self.buf = b"\r\n".join(lines[i + 1:])
                    return int(line[:3]), line
            d = self.s.recv(4096)
            if not d:
                return None
            self.buf += d

    def ehlo(self):
        """Send EHLO and return the whole multi-line reply as received."""
        self.s.sendall(b"EHLO t\r\n")
        ehlo = b""
        while b"250 " not in ehlo:
            ehlo += self.s.recv(4096)
        return ehlo

    def cmd(self, line, timeout=5, end=b"\r\n"):
        self.s.sendall(line + end)
        return self.reply(timeout)

    def close(self):
        self.s.close()


def _until(r, verb):
    """Walk a plain session forward to just before ``verb``."""
    steps = [b"EHLO t", b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.com>", b"DATA"]
    if verb in (b"QUIT", b"STARTTLS", b"AUTH"):
        steps = [b"EHLO t"]
    for step in steps:
        if step.startswith(verb):
            return
        code, _ = r.cmd(step)
        assert code in (250, 354), step


@pytest.mark.parametrize("verb", ["GREETING", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
                                  "DOT", "QUIT"])
@pytest.mark.parametrize("action", ["451 4.3.0 try later", "421 4.3.2 closing", "drop", "stall"])
def test_fault_actions(smtp_server, verb, action):
    srv = smtp_server("starttls" if verb == "STARTTLS" else "plain", faults={verb: action})
    r = Raw(srv.port)
    if verb != "GREETING":
        assert r.reply()[0] == 220
        _until(r, {"DOT": b"DOT"}.get(verb, verb.encode()))
        if verb == "DOT":
            r.s.sendall(b"Subject: x\r\n\r\nbody\r\n")
        send = {"EHLO": b"EHLO t", "STARTTLS": b"STARTTLS", "AUTH": b"AUTH PLAIN AGFubgBzM2NyZXQ=",
                "MAIL": b"MAIL FROM:<a@example.com>", "RCPT": b"RCPT TO:<b@example.com>",
                "DATA": b"DATA", "DOT": b".", "QUIT": b"QUIT"}[verb]
        r.s.sendall(send + b"\r\n")
    if action == "stall":
        with pytest.raises(socket.timeout):
            r.reply(timeout=0.3)
    elif action == "drop":
        assert r.reply() is None
    else:
        code, _ = r.reply()
        assert code == int(action[:3])
        if action.startswith("421"):
            assert r.reply() is None
    r.close()
    assert srv.messages == []


def test_per_recipient_and_one_shot_faults(smtp_server):
    srv = smtp_server("plain", faults={"RCPT bad@example.com": "550 5.1.1 unknown",
                                       "MAIL": ["452 4.3.1 full"]})
    r = Raw(srv.port)
    r.reply()
    r.cmd(b"EHLO t")
    assert r.cmd(b"MAIL FROM:<a@example.com>")[0] == 452
    assert r.cmd(b"MAIL FROM:<a@example.com>")[0] == 250  # the list was used up
    assert r.cmd(b"RCPT TO:<Bad@Example.com>")[0] == 550
    assert r.cmd(b"RCPT TO:<good@example.com>")[0] == 250
    assert r.cmd(b"DATA")[0] == 354
    assert r.cmd(b"hi\r\n.")[0] == 250
    assert srv.wait_messages(1)[0].rcpt_tos == ["good@example.com"]


def test_bdat_chunks_and_ehlo(smtp_server):
    srv = smtp_server("plain")
    r = Raw(srv.port)
    r.reply()
    ehlo = r.ehlo()
    for cap in (b"PIPELINING", b"CHUNKING", b"SIZE", b"8BITMIME"):
        assert cap in ehlo
    assert r.cmd(b"BDAT 3 LAST\r\nabc", end=b"")[0] == 503  # no transaction: refused, data consumed
    body = b"Subject: t\r\n\r\n.line\r\nCRLF.CRLF\r\n.\r\nend\r\n"
    assert r.cmd(b"MAIL FROM:<a@example.com>")[0] == 250
    assert r.cmd(b"RCPT TO:<b@example.com>")[0] == 250
    assert r.cmd(b"BDAT 10\r\n" + body[:10], end=b"")[0] == 250
    assert r.cmd(b"BDAT %d LAST\r\n" % (len(body) - 10) + body[10:], end=b"")[0] == 250
    assert r.cmd(b"BDAT 0 LAST")[0] == 503  # the transaction is over
    got = srv.wait_messages(1)[0]
    assert got.data == body and got.via == "BDAT"  # no dot-unstuffing in BDAT


def test_without_chunking(smtp_server):
    srv = smtp_server("plain", chunking=False)
    r = Raw(srv.port)
    r.reply()
    ehlo = r.ehlo()
    assert b"CHUNKING" not in ehlo
    assert r.cmd(b"BDAT 0 LAST")[0] == 500


def test_size_limit_data_and_bdat(smtp_server):
    srv = smtp_server("plain", size_limit=100)
    r = Raw(srv.port)
    r.reply()
    r.cmd(b"EHLO t")
    r.cmd(b"MAIL FROM:<a@example.com>")
    r.cmd(b"RCPT TO:<b@example.com>")
    r.cmd(b"DATA")
    assert r.cmd(b"x" * 200 + b"\r\n.")[0] == 552
    r.cmd(b"MAIL FROM:<a@example.com>")
    r.cmd(b"RCPT TO:<b@example.com>")
    assert r.cmd(b"BDAT 200 LAST\r\n" + b"y" * 200, end=b"")[0] == 552
    assert srv.messages == []


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_mechanisms_over_starttls(smtp_server, certs, mech):
    srv = smtp_server("starttls", require_auth=True)
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        c.ehlo()
        assert "auth" not in c.esmtp_features  # AUTH only after TLS
        c.starttls(context=ssl.create_default_context(cafile=certs.ca))
        c.ehlo()
        assert mech in c.esmtp_features["auth"].split()
        with pytest.raises(smtplib.SMTPAuthenticationError):
            c.user, c.password = USER, "wrong"
            c.auth(mech, getattr(c, "auth_" + mech.lower().replace("-", "_")))
        c.user, c.password = USER, PASSWORD
        code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower().replace("-", "_")))
        assert code == 235
        c.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nhi\r\n")
    got = srv.wait_messages(1)[0]
    assert got.user == USER and got.tls
    assert srv.log[0]["tls_after"] == 2  # EHLO, STARTTLS in plaintext; the rest inside TLS


def test_require_auth_refuses_mail(smtp_server, certs):
    srv = smtp_server("implicit", require_auth=True)
    ctx = ssl.create_default_context(cafile=certs.ca)
    with smtplib.SMTP_SSL("127.0.0.1", srv.port, context=ctx, timeout=5) as c:
        c.ehlo()
        code, _ = c.mail("a@example.com")
        assert code == 530


def test_maildir_and_byte_log(smtp_server, tmp_path):
    box = tmp_path / "box"
    srv = smtp_server("plain", maildir=str(box))
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        c.sendmail("a@example.com", ["b@example.com"], b"Subject: readable\r\n\r\n.dot\r\n")
    got = srv.wait_messages(1)[0]
    assert got.data == b"Subject: readable\r\n\r\n.dot\r\n"  # un-stuffed, CRLF kept
    files = os.listdir(box / "new")
    assert len(files) == 1 and b"readable" in (box / "new" / files[0]).read_bytes()
    lines = srv.commands()
    assert b"..dot" in lines  # the log has the raw (stuffed) bytes
    assert [l.split()[0].upper() for l in srv.leaked()] == [b"MAIL", b"RCPT", b"DATA"]


def test_stop_with_a_stalled_client(smtp_server):
    srv = smtp_server("plain", faults={"EHLO": "stall"})
    r = Raw(srv.port)
    r.reply()
    r.s.sendall(b"EHLO t\r\n")
    with pytest.raises(socket.timeout):
        r.reply(timeout=0.2)
    srv.stop()  # returns; the stalled connection is closed
    assert r.reply() is None


def test_bdat_fault_still_reads_the_chunk(smtp_server):
    srv = smtp_server("plain", faults={"BDAT": ["452 4.3.1 no room"]})
    r = Raw(srv.port)
    r.reply()
    r.cmd(b"EHLO t")
    r.cmd(b"MAIL FROM:<a@example.com>")
    r.cmd(b"RCPT TO:<b@example.com>")
    assert r.cmd(b"BDAT 8\r\nQUIT\r\nXY", end=b"")[0] == 452  # the chunk is not a command
    assert r.cmd(b"NOOP")[0] == 250
    assert r.cmd(b"RSET")[0] == 250

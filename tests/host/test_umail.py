"""umail compatibility: uMail-style scripts run unchanged against the local aiosmtpd server.

Host-only: it starts host.server.SmtpServer (STARTTLS, implicit TLS, plain) with
the test CA and runs each script in a subprocess on the MicroPython unix port
(and, for the README cases, also on CPython over host/net.py). A short prelude
plays the part of DNS: it points the scripts' host names at 127.0.0.1:<port>
and sets umail.CAFILE to the test CA; the script bodies are the uMail README
and examples' calls, unchanged.
"""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import certs, smtp_server  # noqa: E402,F401
from host import mpy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRELUDE = """
import umail
umail.CAFILE = %(ca)r
_real = umail._connect
def _dns(host, port, tls, cafile, timeout):
    return _real("localhost", %(port)d, tls, cafile, timeout)
umail._connect = _dns
"""

# uMail README "bare minimal" (port 587: STARTTLS, then AUTH)
README = """
import umail
smtp = umail.SMTP('smtp.gmail.com', 587, username='my@gmail.com', password='mypassword')
smtp.to('someones@gmail.com')
smtp.send("This is an example.")
smtp.quit()
"""

# uMail examples/example_ssl.py (port 465, implicit TLS, login(), write() in pieces)
SSL = """
import umail
smtp = umail.SMTP('smtp.gmail.com', 465, ssl=True)
smtp.login('bob@gmail.com', 'bobspassword')
smtp.to('alice@gmail.com')
smtp.write("From: Bob <bob@gmail.com>\\n")
smtp.write("To: Alice <alice@gmail.com>\\n")
smtp.write("Subject: Poem\\n\\n")
smtp.write("Roses are red.\\n")
smtp.write("Violets are blue.\\n")
smtp.write("...\\n")
smtp.send()
smtp.quit()
"""

# uMail examples/example_mail_from.py (MAIL FROM differs from the login name)
MAIL_FROM = """
import umail
smtp = umail.SMTP('email-smtp.us-west-2.amazonaws.com', 587, username='myusername', password='mypassword')
smtp.to('someones@gmail.com', mail_from='my@gmail.com')
smtp.send("This is an example.")
smtp.quit()
"""

USERS = {"my@gmail.com": "mypassword", "bob@gmail.com": "bobspassword", "myusername": "mypassword"}


# on CPython the harness gives umail the host's stream (CPython's ssl): umail itself only
# knows the firmware's (smtpmtm_board.net)
CPYTHON_STREAM = """
from host.net import connect as _host_connect
def _real(host, port, tls, cafile, timeout):
    return _host_connect(host, port, tls=tls, cafile=cafile, server_hostname=host, timeout=timeout)
"""


_COMPILED = []


def _compiled():
    """shared/ and device/ as .mpy, once: a board runs compiled code (compiling the core
    from source does not fit the 128 KiB heap these scripts get)."""
    if not _COMPILED:
        import tempfile

        from host.mpytable import compile_all

        out = tempfile.mkdtemp(prefix="umail-mpy-")
        compile_all(None, out)
        _COMPILED.append(out)
    return _COMPILED[0]


def run(script, port, ca, interp="micropython", tmp=None):
    text = PRELUDE % {"ca": ca, "port": port}
    if interp != "micropython":
        text = text.replace("_real = umail._connect\n", CPYTHON_STREAM)
    text += script
    path = os.path.join(tmp, "script_%s.py" % interp)
    with open(path, "w") as f:
        f.write(text)
    if interp == "micropython":
        r = mpy.run(path, heap="128k", timeout=60, path=(_compiled(),))
    else:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "shared"), os.path.join(ROOT, "device"), ROOT])
        r = subprocess.run([sys.executable, path], env=env, capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode() + r.stderr.decode()


@pytest.mark.parametrize("interp", ["micropython", "cpython"])
def test_readme_example_starttls_587(smtp_server, certs, tmp_path, interp):
    srv = smtp_server("starttls", users=USERS, require_auth=True)
    rc, out = run(README, srv.port, certs.ca, interp, str(tmp_path))
    assert rc == 0, out
    msg = srv.wait_messages(1)[0]
    assert msg.mail_from == "my@gmail.com" and msg.rcpt_tos == ["someones@gmail.com"]
    assert msg.tls and msg.user == "my@gmail.com"
    assert msg.data.rstrip(b"\r\n") == b"This is an example."


@pytest.mark.parametrize("interp", ["micropython", "cpython"])
def test_ssl_example_465_streams_with_write(smtp_server, certs, tmp_path, interp):
    srv = smtp_server("implicit", users=USERS)
    rc, out = run(SSL, srv.port, certs.ca, interp, str(tmp_path))
    assert rc == 0, out
    msg = srv.wait_messages(1)[0]
    assert msg.tls and msg.user == "bob@gmail.com" and msg.mail_from == "bob@gmail.com"
    assert msg.data.startswith(b"From: Bob <bob@gmail.com>\r\nTo: Alice <alice@gmail.com>\r\nSubject: Poem\r\n\r\n")
    # "...\n" is dot-stuffed on the wire and arrives as written
    assert msg.data.endswith(b"Violets are blue.\r\n...\r\n")
    import email

    assert email.message_from_bytes(msg.data)["Subject"] == "Poem"


def test_mail_from_example(smtp_server, certs, tmp_path):
    srv = smtp_server("starttls", users=USERS)
    rc, out = run(MAIL_FROM, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    msg = srv.wait_messages(1)[0]
    assert msg.user == "myusername" and msg.mail_from == "my@gmail.com"


def test_plain_server_and_dot_stuffing(smtp_server, certs, tmp_path):
    srv = smtp_server("plain", users={})
    script = """
import umail
smtp = umail.SMTP('mail.lan', 25)
print('NOOP', smtp.cmd('NOOP'))
print('VRFY', smtp.cmd('VRFY a@x.org'))
print(smtp.to(['a@x.org', 'b@x.org'], mail_from='pump@x.org'))
smtp.write("Subject: dots\\n\\nline one\\n.\\n")
smtp.write("..two dots\\n.")
smtp.write("\\nlast line\\n")
print(smtp.send())
smtp.quit()
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    assert "(354," in out and "(250," in out
    assert "NOOP (250," in out and "VRFY (252," in out, out
    msg = srv.wait_messages(1)[0]
    assert not msg.tls and msg.rcpt_tos == ["a@x.org", "b@x.org"]
    # a lone "." line did not end the mail early (uMail would have cut it there)
    assert msg.data == b"Subject: dots\r\n\r\nline one\r\n.\r\n..two dots\r\n.\r\nlast line\r\n"


def test_refused_recipient_is_reported_others_get_it(smtp_server, certs, tmp_path):
    srv = smtp_server("plain", users={}, faults={"RCPT bad@x.org": "550 5.1.1 no such user"})
    script = """
import umail
smtp = umail.SMTP('mail.lan', 25)
smtp.to(['bad@x.org', 'good@x.org'], mail_from='pump@x.org')
print(smtp.send('hello'))
try:
    smtp.to('bad@x.org', mail_from='pump@x.org')
except AssertionError as e:
    print('refused-all', e.code)
smtp.quit()
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    assert "bad@x.org refused" in out and "refused-all 550" in out
    assert srv.wait_messages(1)[0].rcpt_tos == ["good@x.org"]


def test_certificate_is_checked(smtp_server, certs, tmp_path):
    srv = smtp_server("implicit", users=USERS, cert_case="unknown-ca")
    script = """
import umail
try:
    umail.SMTP('smtp.gmail.com', 465, ssl=True)
except Exception as e:
    print('error', e.code)
umail.CAFILE = '/nonexistent/ca.pem'
try:
    umail.SMTP('smtp.gmail.com', 465, ssl=True)
except Exception as e:
    print('error', e.code, e)
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    # a missing bundle (mip installs none) is named as such, not as "OSError(2,)"
    assert "(/nonexistent/ca.pem): no such file: copy a CA bundle there" in out, out
    assert "error tls-unknown-ca" in out and "error tls-no-ca" in out, out
    assert not srv.messages


def test_password_never_sent_in_plaintext(smtp_server, certs, tmp_path):
    srv = smtp_server("plain", users=USERS)
    script = """
import umail
try:
    umail.SMTP('mail.lan', 25, username='my@gmail.com', password='mypassword')
except AssertionError as e:
    print('refused:', e)
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    assert "refused: refusing to send the password without TLS" in out
    assert not srv.leaked(), srv.leaked()


# uMail examples/example_ssl.py again, against servers offering one multi-step mechanism only
@pytest.mark.parametrize("interp", ["micropython", "cpython"])
@pytest.mark.parametrize("mech", ["LOGIN", "CRAM-MD5"])
def test_login_answers_every_challenge(smtp_server, certs, tmp_path, interp, mech):
    """Finding 1 of issue 10: AUTH LOGIN and CRAM-MD5 need more than one exchange; umail
    sent "AUTH LOGIN" and never the user name (and never answered CRAM-MD5's challenge)."""
    srv = smtp_server("implicit", users=USERS, require_auth=True, auth_mechanisms=[mech])
    rc, out = run(SSL, srv.port, certs.ca, interp, str(tmp_path))
    assert rc == 0, out
    msg = srv.wait_messages(1)[0]
    assert msg.user == "bob@gmail.com" and msg.tls
    assert any(l.startswith(b"AUTH " + mech.encode()) for l in srv.commands()), srv.commands()


def test_wrong_password_with_login_is_a_clear_refusal(smtp_server, certs, tmp_path):
    srv = smtp_server("implicit", users=USERS, auth_mechanisms=["LOGIN"])
    script = """
import umail
smtp = umail.SMTP('smtp.gmail.com', 465, ssl=True)
try:
    smtp.login('bob@gmail.com', 'wrong')
except AssertionError as e:
    print('refused', e.code)
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    assert "refused 535" in out, out


def test_password_over_plaintext_to_a_lan_relay(smtp_server, certs, tmp_path):
    """Finding 9 of issue 10: a uMail script logging in to a relay on the local network
    (an IP address of a private range) runs without umail.ALLOW_PLAINTEXT."""
    srv = smtp_server("plain", users=USERS, auth_mechanisms=["LOGIN"])
    script = """
import umail
smtp = umail.SMTP('192.168.1.20', 25, username='my@gmail.com', password='mypassword')
smtp.to('someones@gmail.com')
smtp.send("This is an example.")
smtp.quit()
"""
    rc, out = run(script, srv.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0, out
    assert srv.wait_messages(1)[0].user == "my@gmail.com"


def test_ssl_that_does_not_match_the_port_gets_a_hint(smtp_server, certs, tmp_path):
    """uMail's commonest slip (the survey's pain point 1): ssl=True to a STARTTLS port gave
    "TLS handshake ... failed: OSError(-29184, 'MBEDTLS_ERR_SSL_INVALID_RECORD')", and
    ssl=False to port 465 "no reply to GREET in time", neither saying what to change."""
    starttls = smtp_server("starttls", users=USERS)
    script = """
try:
    umail.SMTP('smtp.gmail.com', 587, ssl=True, username='my@gmail.com', password='mypassword')
except Exception as e:
    print('error', e.code, e)
"""
    rc, out = run(script, starttls.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0 and "error tls-handshake " in out, out
    assert "as a STARTTLS port (587) does: ssl=False?" in out, out
    implicit = smtp_server("implicit", users=USERS)
    script = """
try:
    umail.SMTP('smtp.gmail.com', 465, username='my@gmail.com', password='mypassword', timeout=2)
except Exception as e:
    print('error', e.code, e)
"""
    rc, out = run(script, implicit.port, certs.ca, "micropython", str(tmp_path))
    assert rc == 0 and "error timeout no reply to the greeting" in out, out
    assert "an implicit-TLS port (465) waits for TLS first: ssl=True?" in out, out
    assert not starttls.messages and not implicit.messages

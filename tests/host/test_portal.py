"""The hostile network of `make chaos` portal (host/portal.py) against host/server.py.

Host-only (threads, sockets, real TLS with the test CA). The project's sender
(host/cli_send.py over the core's Session) meets the portal in each mode and
stops with the TLS code that names it, and the portal records no leak; then
clients that do not stop (a TLS context that accepts any certificate, AUTH in
plain text) are recorded as leaks: the measurement `make chaos` relies on can fail.
"""

import smtplib
import ssl

import pytest

from host.cli_send import deliver, make_message
from host.portal import CLIENT_CODE, MODES, Portal, strip_starttls
from host.simlink import SimLink
from servers import PASSWORD, USER, certs, smtp_server  # noqa: F401
from smtpmtm.errors import TlsError



@pytest.fixture
def portal(smtp_server, certs):  # noqa: F811
    srv = smtp_server("starttls", require_auth=True)
    p = Portal(("127.0.0.1", srv.port), certs).start()
    p.server = srv
    yield p
    p.stop()


def _wait_closed(portal):
    """The portal thread records until the connection closes: wait for its last bytes."""
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(r.done for r in portal.intercepts):
        time.sleep(0.02)


@pytest.mark.parametrize("mode", MODES)
def test_the_sender_stops_at_the_portal_and_nothing_leaks(portal, certs, mode):  # noqa: F811
    portal.mode = mode
    msg = make_message("pump@example.com", ["ann@example.com"], subject="secret", body="x")
    with pytest.raises(TlsError) as info:
        deliver("127.0.0.1", portal.port, "starttls", msg, cafile=certs.ca, user=USER,
                password=PASSWORD, server_name="localhost", timeout=10)
    assert info.value.code == CLIENT_CODE[mode], str(info.value)
    _wait_closed(portal)
    assert portal.met() == {mode: 1}
    assert portal.leaks() == []
    assert portal.server.messages == []


@pytest.mark.parametrize("mode", [m for m in MODES if m != "strip"])
def test_a_client_that_goes_on_past_the_tls_point_is_recorded(portal, certs, mode):  # noqa: F811
    portal.mode = mode
    ctx = ssl.create_default_context(cafile=certs.ca)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # accepts the portal's certificate
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # as the boards' mbedtls: EHLO waits for the server
    # through a link with latency, as in `make chaos`: the client's EHLO comes after the real
    # server's TLS 1.3 session ticket has reached the portal (which once waited on that)
    with SimLink(("127.0.0.1", portal.port), rtt_s=0.1) as link:
        s = smtplib.SMTP("127.0.0.1", link.port, timeout=10)
        s.starttls(context=ctx)
        s.login(USER, PASSWORD)
        s.sendmail("pump@example.com", ["ann@example.com"], "Subject: secret\r\n\r\nx\r\n")
        s.quit()
    _wait_closed(portal)
    leaks = portal.leaks()
    assert len(leaks) == 1 and leaks[0].startswith(mode + ": "), leaks
    if mode != "inject":  # the man in the middle read it all, and passed it on unseen
        inside = bytes(portal.intercepts[0].inside)
        assert b"AUTH" in inside and b"mail FROM:<pump@example.com>" in inside, inside  # smtplib: "mail"
        assert len(portal.server.messages) == 1


def test_auth_in_plain_text_after_starttls_was_stripped_is_recorded(portal):
    portal.mode = "strip"
    s = smtplib.SMTP("127.0.0.1", portal.port, timeout=10)
    s.ehlo()
    assert not s.has_extn("starttls")
    s.docmd("AUTH", "PLAIN AGFubgBzM2NyZXQ=")
    s.quit()
    _wait_closed(portal)
    assert portal.leaks() == ["strip: b'AUTH PLAIN AGFubgBzM2NyZXQ=\\r' in plain text"]


def test_strip_starttls_keeps_the_reply_well_formed():
    assert strip_starttls(b"250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n") == b"250-mx\r\n250 PIPELINING\r\n"
    assert strip_starttls(b"250-mx\r\n250-STARTTLS\r\n250 8BITMIME\r\n") == b"250-mx\r\n250 8BITMIME\r\n"

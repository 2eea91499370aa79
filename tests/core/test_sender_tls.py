"""A TLS failure while the session opens: fails closed, and the Outbox waits instead of failing.

Against the in-memory server of tests/core/sender_fakes.py: STARTTLS stripped
(tls-not-offered) and plaintext injected after the 220 (tls-injection) are found
by the real Session; a certificate that does not verify is the TlsError code
host/net.py and device/smtpmtm_board/net.py raise (the same cases against a real
TLS server with test certificates: tests/host/test_sender_outcomes.py). Each
retried code leaves every due message waiting with its retry time and the attempt
counted, with nothing of AUTH or MAIL on the wire; max_attempts still ends it
(failed with the TLS reason, or suspended by give_up); tls-required, tls-no-ca
and a refused password fail at once.
"""

from smtpmtm import errors
from smtpmtm.store import entry as E
from smtpmtm.outbox import plan as sendplan
from smtpmtm.outbox.sender import Sender
from portable import FakeClock
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings

NOW = 1700000000
# settings() backs off 60 s after the first failure; rand 0.5: 30 + 15
FIRST_DELAY = 45
# what depends on the network path, the server or the clock (errors.CODES)
CERT_CODES = ("tls-self-signed", "tls-unknown-ca", "tls-expired", "tls-hostname", "tls-handshake", "tls")
STARTTLS = dict(starttls=True, allow_plaintext=False)


def engine(st, srv, clock=None, **kw):
    cfg = settings(**kw)
    return Sender(st, cfg, SERVICE, srv.connect, clock or FakeClock(NOW), rand=lambda: 0.5)


def nothing_went_out(srv):
    """No AUTH, MAIL, RCPT, DATA or BDAT line reached the server, and no message."""
    sent = [c for c in srv.commands if c.split(" ")[0].upper() in ("AUTH", "MAIL", "RCPT", "DATA", "BDAT")]
    return sent == [] and srv.messages == [] and srv.auths == []


def waits(st, ids, code, attempts=1, next_try=NOW + FIRST_DELAY):
    """Each message waits for its retry time, this attempt counted, the TLS error kept for show(id)."""
    for i in ids:
        e = st.get(i)
        got = (E.SEND_STATE_NAMES[e.sending_state], e.attempts, e.next_try, e.flag(E.FLAG_FAILED))
        assert got == ("waiting", attempts, next_try, False), (code, got)
        err = sendplan.read_result(st, i)["error"]
        assert err is not None and err[0] == code, (code, err)
    return True


def test_which_tls_codes_are_retried():
    for code in CERT_CODES + ("tls-not-offered", "tls-injection"):
        assert errors.TlsError("x", code).transient, code
    for code in ("tls-required", "tls-no-ca"):
        assert not errors.TlsError("x", code).transient, code
    # a refused STARTTLS goes by its reply (RFC 5321 section 4.2.1)
    assert errors.TlsError("x", "tls-refused", 400 <= 454 < 500, 454).transient
    assert not errors.TlsError("x", "tls-refused", 400 <= 501 < 500, 501).transient


def test_a_certificate_that_does_not_verify_leaves_every_message_waiting():
    for mode in ("starttls", "implicit"):
        for code in CERT_CODES:
            st = new_store()
            ids = [queue(st, n=1), queue(st, n=2, to=("bob@example.com",))]
            srv = FakeServer(tls=code, tokens={})
            cfg = dict(STARTTLS, auth=True, login="u", password="pw") if mode == "starttls" else \
                dict(port=465, tls=True, allow_plaintext=False, auth=True, login="u", password="pw")
            s = engine(st, srv, **cfg)
            r = s.send_all()
            assert r["deferred"] == ids and r["failed"] == [] and r["error"] == code, (mode, r)
            assert srv.handshakes == 1 and nothing_went_out(srv), (mode, code, srv.commands)
            assert waits(st, ids, code)
            assert "handshake failed" in sendplan.read_result(st, ids[0])["error"][2]
            p = s.progress
            assert p.error == code and p.consistent() and p.sent == 0, (mode, code)


def test_starttls_stripped_or_injected_waits_too():
    # a network that removes STARTTLS from the EHLO reply (the server itself offers none here)
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer()
    r = engine(st, srv, **STARTTLS).send_all()
    assert r["deferred"] == ids and r["error"] == "tls-not-offered" and nothing_went_out(srv)
    assert waits(st, ids, "tls-not-offered")
    # plaintext injected after the 220 to STARTTLS (CVE-2011-0411): the handshake never starts
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer(tls="ok", faults={"STARTTLS": "220 2.0.0 go ahead\r\n250 2.0.0 injected"})
    r = engine(st, srv, **STARTTLS).send_all()
    assert r["deferred"] == ids and r["error"] == "tls-injection" and nothing_went_out(srv)
    assert srv.handshakes == 0 and waits(st, ids, "tls-injection")


def test_once_the_certificate_verifies_the_waiting_messages_go():
    # a board whose clock was not set yet: the server's certificate looked not yet valid
    st = new_store()
    ids = [queue(st, n=1), queue(st, n=2)]
    srv = FakeServer(tls="tls-expired")
    clock = FakeClock(NOW)
    s = engine(st, srv, clock, **STARTTLS)
    assert s.send_all()["deferred"] == ids
    assert s.send_all()["error"] == "no-messages"  # not due yet: nothing tried
    clock.t = st.get(ids[0]).next_try
    srv.tls = "ok"  # the clock is right now
    r = s.send_all()
    assert r["sent"] == ids and len(srv.messages) == 2 and srv.handshakes == 2
    assert [st.get(i).attempts for i in ids] == [2, 2]
    # show(id) of a sent message no longer prints the TLS error an earlier try left
    assert [sendplan.read_result(st, i)["error"] for i in ids] == [None, None]
    assert sendplan.read_result(st, ids[0])["rcpt"]  # the recipients' replies are kept


def test_a_link_coming_up_does_not_hurry_a_message_that_waits_for_tls():
    # a Wi-Fi that drops and rejoins the same captive portal made every waiting message due at
    # each rejoin: max_attempts spent in minutes, not by the backoff
    from smtpmtm.outbox.sendwhen import waiting_ids

    st = new_store()
    tls = queue(st, n=1)
    srv = FakeServer(tls="tls-unknown-ca")
    clock = FakeClock(NOW)
    assert engine(st, srv, clock, **STARTTLS).send_all()["deferred"] == [tls]
    other = queue(st, n=2)  # waiting for a link, no TLS failure: a link coming up sends it
    assert waiting_ids(st, SERVICE, clock.t) == [other]
    assert waiting_ids(st, SERVICE) == [tls, other]  # send() asked for: all of them
    clock.t = st.get(tls).next_try  # its retry time has come: due like any other
    assert waiting_ids(st, SERVICE, clock.t) == [tls, other]


def test_after_max_attempts_the_messages_fail_with_the_tls_reason():
    st = new_store()
    ids = [queue(st, n=1), queue(st, n=2)]
    srv = FakeServer(tls="tls-unknown-ca")
    clock = FakeClock(NOW)
    s = engine(st, srv, clock, max_attempts=3, **STARTTLS)
    seen = []
    for _ in range(3):
        r = s.send_all()
        seen.append((len(r["deferred"]), len(r["failed"]),
                     [E.SEND_STATE_NAMES[st.get(i).sending_state] for i in ids]))
        if st.get(ids[0]).next_try:
            clock.t = st.get(ids[0]).next_try
    assert seen == [(2, 0, ["waiting"] * 2), (2, 0, ["waiting"] * 2), (0, 2, ["failed"] * 2)], seen
    for i in ids:
        e = st.get(i)
        assert e.attempts == 3 and e.flag(E.FLAG_FAILED) and e.next_try == 0
        code, _, text = sendplan.read_result(st, i)["error"]
        assert code == "tls-unknown-ca" and "handshake failed" in text
    assert nothing_went_out(srv) and srv.handshakes == 3
    assert s.send_all()["error"] == "no-messages"  # failed ones wait for retry(id)


def test_give_up_suspend_keeps_them_after_the_last_tls_attempt():
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer(tls="tls-hostname")
    clock = FakeClock(NOW)
    s = engine(st, srv, clock, max_attempts=2, give_up="suspend", **STARTTLS)
    assert s.send_all()["deferred"] == ids
    clock.t = st.get(ids[0]).next_try
    r = s.send_all()
    assert r["suspended"] == ids and r["failed"] == [] and r["deferred"] == []
    e = st.get(ids[0])
    assert e.sending_state == E.SEND_SUSPENDED and not e.flag(E.FLAG_FAILED) and e.next_try == 0
    assert sendplan.read_result(st, ids[0])["error"][0] == "tls-hostname"


def test_too_old_keeps_the_tls_reason():
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer(tls="tls-expired")
    clock = FakeClock(NOW)
    s = engine(st, srv, clock, max_attempts=0, max_age_s=3600, **STARTTLS)
    assert s.send_all()["deferred"] == ids
    clock.t = NOW + 3600  # the retry time passed max_age_s while the board slept
    r = s.send_all()
    assert r["failed"] == ids and srv.handshakes == 1
    code, _, text = sendplan.read_result(st, ids[0])["error"]
    assert code == "too-old" and "last error tls-expired: fake: TLS handshake failed" in text, text


def test_settings_and_credentials_fail_at_once():
    # no TLS and plaintext not allowed: the account's own settings, tls-required
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer(tokens={})
    r = engine(st, srv, auth=True, login="u", password="pw", allow_plaintext=False).send_all()
    assert r["failed"] == ids and r["error"] == "tls-required" and nothing_went_out(srv)
    assert sendplan.read_result(st, ids[0])["error"][0] == "tls-required"
    # no usable CA file on the board (the stream refuses to start the handshake)
    st = new_store()
    ids = [queue(st, n=1)]
    srv = FakeServer(tls="tls-no-ca")
    r = engine(st, srv, **STARTTLS).send_all()
    assert r["failed"] == ids and r["error"] == "tls-no-ca" and nothing_went_out(srv)
    # a wrong password over good TLS: retrying could lock the account at the provider
    st = new_store()
    ids = [queue(st, n=1), queue(st, n=2)]
    srv = FakeServer(tls="ok", tokens={}, faults={"AUTH": "535 5.7.8 bad credentials"})
    r = engine(st, srv, auth=True, login="u", password="pw", **STARTTLS).send_all()
    assert r["failed"] == ids and r["deferred"] == [] and srv.messages == []
    assert [st.get(i).error for i in ids] == [535, 535]



def _two_links(st, portal, good, clock, **kw):
    """A board with Wi-Fi (up, in front of ``portal``) and a modem (down; once up, it carries
    the connections, to ``good``)."""
    from smtpmtm.outbox import link as L
    from smtpmtm.outbox.manualhook import ManualHook

    wifi, modem = ManualHook("wifi", up=True), ManualHook("modem", up_after=2)

    def connect(*a, **k):
        return (good if modem.is_up() else portal).connect(*a, **k)

    cfg = settings(connect_prefs=["wifi", "modem"], **dict(STARTTLS, **kw))
    s = Sender(st, cfg, SERVICE, connect, clock, links=L.Links([wifi, modem], clock),
               rand=lambda: 0.5)
    return s, modem


def test_a_portal_on_the_wifi_sends_over_the_next_link():
    # a Wi-Fi in front of a captive portal (its own certificate) is up, so it was always used:
    # every queued message waited (and after max_attempts failed) while the modem could send
    # them; now the next connection preference is tried in the same run, as CImIAPPreferences
    st = new_store()
    ids = [queue(st, n=1), queue(st, n=2)]
    clock = FakeClock(NOW)
    portal, good = FakeServer(tls="tls-self-signed"), FakeServer(tls="ok")
    s, modem = _two_links(st, portal, good, clock)
    r = s.send_all(idle=clock.advance)
    assert r["sent"] == ids and r["hook"] == "modem" and r["link_errors"] == ["wifi: tls-self-signed"], r
    assert nothing_went_out(portal) and len(good.messages) == 2 and modem.ups == 1
    assert [st.get(i).attempts for i in ids] == [1, 1]


def test_no_other_link_keeps_the_first_links_failure():
    # the modem cannot come up: the Wi-Fi's TLS failure is what the messages record (a
    # link-down would count no attempt and hide the portal), and they wait as before
    st = new_store()
    ids = [queue(st, n=1)]
    clock = FakeClock(NOW)
    portal, good = FakeServer(tls="tls-self-signed"), FakeServer(tls="ok")
    s, modem = _two_links(st, portal, good, clock)
    modem.can_come_up = False
    r = s.send_all(idle=clock.advance)
    assert r["deferred"] == ids and r["error"] == "tls-self-signed" and modem.ups == 1, r
    assert waits(st, ids, "tls-self-signed") and nothing_went_out(portal) and not good.connections
    # a failure that is the server's or the settings' own does not move to another link
    for srv, kw, code in ((FakeServer(tls="tls-no-ca"), {}, "tls-no-ca"),
                          (FakeServer(tls="ok", tokens={}, faults={"AUTH": "535 5.7.8 no"}),
                           dict(auth=True, login="u", password="pw"), "reply")):
        st = new_store()
        ids = [queue(st, n=1)]
        s, modem = _two_links(st, srv, good, FakeClock(NOW), **kw)
        r = s.send_all(idle=clock.advance)
        assert r["failed"] == ids and r["error"] == code and modem.ups == 0 and r["link_errors"] == [], r

"""Provider presets (providers.py) and port fallback (portfallback.py), both interpreters."""

from smtpmtm.store import entry as E
from smtpmtm.outbox import portfallback
from smtpmtm.errors import ConnectionLost, SettingsError, Timeout, TlsError
from smtpmtm.providers import PROVIDERS, names, preset
from smtpmtm.outbox.sender import Sender
from smtpmtm.settings import SmtpSettings
from portable import FakeClock, raises
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings


def test_gmail_preset_fills_server_port_tls_oauth_and_limits():
    s = SmtpSettings(password="app-password", **preset("gmail", "pump@gmail.com"))
    s.validate()
    assert (s.server, s.port, s.starttls, s.tls) == ("smtp.gmail.com", 587, True, False)
    assert s.fallback_ports == [[465, "implicit"]]
    assert s.auth and s.login == s.email_address == "pump@gmail.com"
    assert s.oauth_token_url == "https://oauth2.googleapis.com/token"
    assert s.oauth_scope == "https://mail.google.com/"
    assert s.limits == {"messages_per_day": 500, "recipients_per_day": 500}
    assert s.provider == "gmail"
    back = SmtpSettings.from_dict(s.to_dict())
    assert back == s and back.limits is not s.limits


def test_gmail_consumer_and_workspace_limits_differ():
    a = preset("gmail", "a@gmail.com")["limits"]
    b = preset("google-workspace", "a@example.com")["limits"]
    assert a["recipients_per_day"] == 500 and b["recipients_per_day"] == 10000
    assert a["messages_per_day"] < b["messages_per_day"]


def test_every_preset_is_valid_and_never_plaintext():
    assert len(names()) >= 8
    for n in names():
        s = SmtpSettings(password="app-password", **preset(n, "me@example.com"))
        s.validate()
        assert s.secure() in ("implicit", "starttls"), n
        for port, mode in s.fallback_ports:
            assert mode in ("implicit", "starttls") and port in (465, 587), n
        assert s.limits, n


def test_unknown_provider_is_named():
    e = raises(SettingsError, preset, "hotmial", "me@example.com")
    assert "hotmial" in str(e) and "gmail" in str(e)
    assert "hotmial" not in PROVIDERS


def test_plaintext_or_bad_fallback_port_is_refused():
    for bad in ([[25, "plain"]], [[0, "implicit"]], [465], "465"):
        e = raises(SettingsError, settings(fallback_ports=bad).validate)
        assert "fallback_ports" in str(e)


def test_remember_puts_the_working_port_first():
    s = settings(port=587, starttls=True, fallback_ports=[[465, "implicit"], [2525, "starttls"]])
    portfallback.remember(s, 465, "implicit")
    assert (s.port, s.tls, s.starttls) == (465, True, False)
    assert s.fallback_ports == [[587, "starttls"], [2525, "starttls"]]
    assert portfallback.candidates(s) == [(465, "implicit"), (587, "starttls"), (2525, "starttls")]


def _blocking(srv, blocked, tried):
    def connect(host, port, tls=None, **kw):
        tried.append((port, tls))
        how = blocked.get(port)
        if how == "refuse":
            raise ConnectionLost("refused")
        if how == "silent":
            raise Timeout("no SYN-ACK")
        if how == "tls":
            raise TlsError("certificate verify failed")
        return srv.connect(host, port, tls=tls, **kw)
    return connect


def _sender(st, connect, cfg):
    return Sender(st, cfg, SERVICE, connect, FakeClock(), rand=lambda: 0.5)


def test_refused_port_falls_back_and_the_working_one_is_remembered():
    for how in ("refuse", "silent"):
        st = new_store()
        srv = FakeServer()
        tried = []
        cfg = settings(port=587, starttls=True, fallback_ports=[[465, "implicit"]])
        ids = [queue(st, n=1)]
        r = _sender(st, _blocking(srv, {587: how}, tried), cfg).send_all()
        assert r["sent"] == ids and r["port"] == [465, "implicit"], how
        assert tried == [(587, "starttls"), (465, "implicit")]
        assert (cfg.port, cfg.tls, cfg.fallback_ports) == (465, True, [[587, "starttls"]])
        # the next send starts with the port that worked
        queue(st, n=2)
        del tried[:]
        r = _sender(st, _blocking(srv, {587: how}, tried), cfg).send_all()
        assert tried == [(465, "implicit")] and "port" not in r


def test_a_tls_failure_is_not_a_blocked_port():
    st = new_store()
    tried = []
    cfg = settings(port=465, tls=True, fallback_ports=[[587, "starttls"]])
    ids = [queue(st)]
    r = _sender(st, _blocking(FakeServer(), {465: "tls"}, tried), cfg).send_all()
    assert tried == [(465, "implicit")] and r["error"] == "tls"
    # retried later like the other TLS failures (errors.CODES), but on the same port: a
    # certificate that does not verify is never worked around by trying another
    assert cfg.port == 465 and "port" not in r and r["deferred"] == ids
    assert st.get(ids[0]).sending_state == E.SEND_WAITING


def test_every_port_blocked_defers_with_the_last_error_and_no_plaintext_try():
    st = new_store()
    tried = []
    cfg = settings(port=587, starttls=True, fallback_ports=[[465, "implicit"]])
    ids = [queue(st)]
    r = _sender(st, _blocking(FakeServer(), {587: "refuse", 465: "silent"}, tried), cfg).send_all()
    assert tried == [(587, "starttls"), (465, "implicit")]
    assert r["error"] == "timeout" and r["deferred"] == ids and "port" not in r
    assert st.get(ids[0]).sending_state == E.SEND_WAITING and cfg.port == 587


def test_each_port_is_tried_in_a_step_of_its_own():
    """Job.step() tries one port: a port that drops packets silently costs a whole connect
    timeout (30 s), and a board's engine gives the REPL, main.py and the watchdog their turn
    between two (all the ports in one step held the board up to 90 s, longer than the 30 s
    the watchdog's docstring calls a safe floor)."""
    st = new_store()
    tried = []
    cfg = settings(port=587, starttls=True, fallback_ports=[[465, "implicit"], [2465, "implicit"]])
    ids = [queue(st)]
    job = _sender(st, _blocking(FakeServer(), {587: "silent", 465: "silent"}, tried), cfg).start()
    per_step = []
    while True:
        n = len(tried)
        if job.step() is None:
            break
        per_step.append(len(tried) - n)
    assert tried == [(587, "starttls"), (465, "implicit"), (2465, "implicit")], tried
    assert max(per_step) == 1 and per_step.count(1) == 3, per_step
    assert job.result["sent"] == ids and job.result["port"] == [2465, "implicit"]

"""REPL commands about the board rather than a message: account, test, status, log, wifi.

Imported by repl.py (``from smtpmtm_board.repl import *`` brings them). ``account()`` shows the
default account with the password and the OAuth2 secrets hidden;
``account(server=..., port=..., user=..., password=..., email=..., name=...,
tls="starttls"|"implicit"|"none", send="next-connection"|"immediately"|"on-request",
cafile=...)`` changes it; ``account(provider="gmail", user="me@gmail.com",
password=...)`` fills server, port, TLS, fallback ports, OAuth2 endpoint and
sending limits from smtpmtm.providers first (creating it the first time: port 587, STARTTLS,
send on next connection), validating before saving. Any other SmtpSettings field can be given
by its own name, e.g. ``oauth_token=`` or the refresh settings ``oauth_token_url=,
oauth_client_id=, oauth_client_secret=, oauth_refresh_token=, oauth_scope=``.
"""

from . import console as _c

_ALIASES = {"user": "login", "email": "email_address", "name": "alias", "send": "send_option"}


def _default():
    from smtpmtm.errors import NotFound

    try:
        return _c.app.accounts.default()
    except NotFound:
        return None


_SHOWN = ("server", "port", "tls", "auth", "login", "password", "email_address",
          "alias", "send_option", "cafile", "allow_plaintext", "connect_prefs", "max_attempts",
          "provider", "fallback_ports", "limits")
_TLS_SHOWN = {"implicit": "implicit", "starttls": "starttls", "plain": "none"}  # as tls= takes it
_OAUTH = ("oauth_token", "oauth_expires", "oauth_token_url", "oauth_client_id",
          "oauth_client_secret", "oauth_refresh_token", "oauth_scope")


def _show(s, acct):
    from smtpmtm.settings import SECRETS

    print("account %r (service %d)" % (acct.name, acct.service))
    from .net import CAFILE

    d = s.to_dict(secrets=False)  # every secret already "***" (or "" when not set)
    d["tls"] = _TLS_SHOWN[s.secure()]
    if s.cafile is None:
        d["cafile"] = CAFILE + " (the board's bundle)"
    for k in _SHOWN + (_OAUTH if s.oauth_token or s.oauth_refresh_token else ()):
        if k in d:
            v = d[k]
            if k in SECRETS and not v:
                v = "(none)"
            print("  %-19s %s" % (k, v))


@_c.ready
def account(**kw):
    """Show (no arguments) or change the default account."""
    from smtpmtm.errors import SettingsError
    from smtpmtm.settings import SEND_ON_NEXT_CONNECTION, SmtpSettings

    app = _c.app
    with app.lock:
        try:
            acct = _default()
            # a new account submits as mail clients do today: port 587 with STARTTLS (RFC 6409,
            # RFC 3207), sending on the next connection; Symbian's port 25 in the clear could not send
            s = app.accounts.load(acct) if acct is not None else SmtpSettings(
                send_option=SEND_ON_NEXT_CONNECTION, port=587, starttls=True)
            if not kw:
                if acct is None:
                    print("no account yet: account(server=..., port=..., user=..., password=..., email=...)")
                    return None
                _show(s, acct)
                return
            notes = []
            if "provider" in kw or s.provider and kw.get("server", s.server) != s.server:
                from smtpmtm.providers import PROVIDERS, cleared, preset

                p = kw.pop("provider", None)
                fields = {}
                if p:  # the preset first; any other argument overrides it
                    fields = preset(p, kw.get("user") or kw.get("login") or s.login)
                elif s.provider:  # provider="" / None, or another server: the preset's extras go
                    notes.append("provider %r cleared: its fallback ports, sending limits and "
                                 "OAuth2 endpoint were for %s"
                                 % (s.provider, PROVIDERS.get(s.provider, (s.server,))[0]))
                    fields = cleared()
                for k, v in fields.items():
                    setattr(s, k, v)
            for k in kw:
                v = kw[k]
                k = _ALIASES.get(k, k)
                if k == "tls":
                    if isinstance(v, str):
                        v = v.lower()  # tls='STARTTLS' as the provider's page spells it
                    if v not in ("starttls", "implicit", "none", None, False):
                        raise SettingsError("tls: must be 'starttls', 'implicit' or 'none', not %r" % (v,))
                    s.starttls = v == "starttls"
                    s.tls = v == "implicit"
                    # the other mode's standard port follows, as mail clients do, unless port= says
                    swap = {(True, 587): 465, (False, 465): 587}.get((s.tls, s.port))
                    if swap and s.starttls != s.tls and "port" not in kw:
                        s.port = swap
                        notes.append("port %d: %s's port (port= sets another)" % (swap, v))
                    continue
                if k == "login" and v:
                    s.auth = True
                if not hasattr(s, k):
                    raise SettingsError("no setting %r (account() lists them)" % k)
                setattr(s, k, v)
            s.validate(for_sending=False)
            if acct is None:
                acct = app.accounts.create(kw.get("account_name", "default"), s)
                app.accounts.set_default(acct)
            else:
                app.accounts.save(acct, s)
        except Exception as e:  # noqa: BLE001
            _c.err(e)
            return None
    print("saved")
    for note in notes:
        print(note)
    _show(s, acct)
    try:
        s.validate()  # saved half-made is fine (set it in steps), but say what sending still needs
    except SettingsError as e:
        print("not ready to send yet: %s" % e)


@_c.ready
def test(timeout=60):
    """Try the default account's connection step by step; True if it all works."""
    with _c.Reading():  # reads the CA file on flash: not beside a running send step
        return _test(timeout)


def _test(timeout):
    import time

    from smtpmtm.compat import monotonic
    from smtpmtm.wire.session import Session

    app = _c.app
    acct = _default()
    if acct is None:
        print("error (settings): no account")
        return False
    s = app.accounts.load(acct)
    stage = "link"
    stream = None
    try:
        acq = app.links.acquire(s.connect_prefs or None, True)
        t0 = monotonic()  # whole seconds, an int
        while True:
            app.wdt.feed()
            h = acq.step()
            if h is not None:
                break
            if monotonic() - t0 > timeout:
                raise OSError("no link within %ds" % timeout)
            time.sleep(0.25)
        print("link    %s up" % h.name)
        stage = "tcp"
        stream = app.connect(s.server, s.port, tls=s.secure(), cafile=s.cafile,
                             server_hostname=s.tls_domain or s.server, timeout=30)
        print("tcp     %s:%d%s" % (s.server, s.port, " (TLS)" if stream.is_tls else ""))
        stage = "greeting"
        ses = Session(stream, app.clock, hostname=app.cfg["hostname"], allow_plaintext=s.allow_plaintext)
        ses.open()
        print("ehlo    %s" % " ".join(sorted(ses.capabilities)))
        if s.starttls:
            stage = "starttls"
            ses.starttls(s.tls_domain or s.server)
            print("tls     ok")
        if s.auth:
            stage = "auth"
            tokens = app.tokens_for(acct, s)  # OAuth2 refresh settings: a fresh token if due
            token = tokens.token(app.clock()) if tokens is not None else (s.oauth_token or None)
            mech = ses.login(s.login, s.password, s.auth_mechanisms, token)
            print("auth    ok (%s, %s)" % (s.login, mech))
        ses.quit()
        print("ok")
        return True
    except Exception as e:  # noqa: BLE001
        print("failed at %s:" % stage, end=" ")
        _c.err(e)
        hint = _tls_mode_hint(s, stage, e)
        if hint:
            print("hint: " + hint)
        return False
    finally:
        if stream is not None:
            stream.close()


def _tls_mode_hint(s, stage, e):
    """The likeliest cause when TLS mode and port do not match (the commonest slip: 587 with
    tls='implicit', 465 with tls='starttls'), or None."""
    code = getattr(e, "code", "")
    if s.tls and code == "tls-handshake" and ("INVALID_RECORD" in str(e) or "WRONG_VERSION" in str(e)):
        return ("the server answered in plain text, as a STARTTLS port (587) does: "
                "account(tls='starttls')?")
    if not s.tls and stage == "greeting" and code in ("connection-lost", "timeout"):
        return ("no greeting came: an implicit-TLS port (465) waits for TLS first: "
                "account(tls='implicit')?")
    return None


@_c.ready
def status():
    """Links, clock, engine, Outbox counts, free heap and flash."""
    with _c.Reading():
        _status()


def _status():
    import gc
    import os

    app = _c.app
    for h in app.hooks:
        st = h.status() if hasattr(h, "status") else {"stage": "up" if h.is_up() else "down"}
        extra = " ".join("%s=%s" % (k, st[k]) for k in st if k not in ("hook", "stage") and st[k] is not None)
        print("link    %-6s %-9s %s" % (h.name, st.get("stage"), extra))
    c = app.clock.status()
    print("clock   %s%s%s" % (c["now"], (" via " + c["source"]) if c["source"] else " (not set)",
                              (" ntp: " + app.ntp) if app.ntp else ""))
    print("engine  %s (%s, %d ticks)" % (_c.bar(app.progress) if app.job is not None else "idle",
                                        app.background or "not running: send() sends", app.ticks))
    n = app.outbox_counts()
    print("outbox  %d waiting, %d failed, %d suspended, %d uncertain" % (
        n["waiting"], n["failed"], n["suspended"], n["uncertain"]))
    if app.last is not None and app.job is None:  # the last send's outcome, why, what next
        for line in _c.outcome(app.last, app.progress):
            print("last    " + line)
    gc.collect()
    try:
        flash = flash_free(os.statvfs(app.cfg["store"]))
    except (OSError, AttributeError):
        flash = "?"
    heap = gc.mem_free() if hasattr(gc, "mem_free") else 0
    print("memory  heap %d B free, flash %s" % (heap, flash))


def flash_free(v):
    """status()'s flash line from an os.statvfs() tuple. littlefs can count more blocks in
    use than it has (a file left open counts twice; seen too on a flash filled to the last
    block): its free count then wraps round as unsigned, which means full, not "?"."""
    total = v[0] * v[2] // 1024
    if v[3] > v[2]:
        return ("0 KB free of %d KB: full by littlefs's count (close files left open, "
                "remove files of your own, tidy())" % total)
    return "%d KB free of %d KB" % (v[0] * v[3] // 1024, total)


@_c.ready
def log(n=20):
    """The last n events, from before a reset too (the tail of the log file)."""
    if not _c.count("n", n, "how many events to show"):
        return
    with _c.Reading():
        lines = _c.app.log.lines(n)
    for line in lines:
        print(line)
    if not lines:
        print("(empty)")


@_c.ready
def wifi(ssid=None, password=""):
    """Show the Wi-Fi network in use, or save new credentials (then reconnects)."""
    from . import wifi as _w

    app = _c.app
    path = app.cfg["wifi_file"]
    if ssid is None:
        nets = _w.load_credentials(path)
        print("wifi: %s" % (", ".join(n for n, _ in nets) or "no credentials (%s)" % path))
        return
    with app.lock:
        try:
            _w.save_credentials(path, ssid, password)
        except Exception as e:  # noqa: BLE001 - bad input or a full flash: the old file stays
            _c.err(e)
            return
    for h in app.hooks:
        if h.name == "wifi":
            try:
                h.down()
                h.up()
            except Exception as e:  # noqa: BLE001
                _c.err(e)
    print("wifi credentials saved for %r" % ssid)

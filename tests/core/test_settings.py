"""SmtpSettings: defaults, validation errors naming the field, persistence, password hiding."""

from portable import raises

from smtpmtm import settings as S
from smtpmtm.errors import InputError, SettingsError


def good(**kw):
    d = dict(server="smtp.example.com", port=587, starttls=True, email_address="pump@example.com",
             auth=True, login="pump", password="hunter2-secret")
    d.update(kw)
    return S.SmtpSettings(**d)


def test_defaults_are_symbians():
    s = S.SmtpSettings()
    assert s.port == 25 and s.server == "" and not s.starttls and not s.tls
    assert s.send_option == S.SEND_IMMEDIATELY and s.send_copy_to_self == S.COPY_NONE
    assert s.body_encoding == S.ENCODING_MIME and s.to_cc_include_limit == 0
    assert not s.allow_plaintext and s.connect_prefs == [] and s.cafile is None
    assert not s.add_signature and not s.add_vcard and not s.request_receipts and not s.auth
    assert s.max_attempts >= 1 and s.backoff_max_s >= s.backoff_base_s
    s2 = S.SmtpSettings()
    s.connect_prefs.append("wifi")
    assert s2.connect_prefs == []  # lists are not shared between instances


def test_unknown_field_is_refused():
    e = raises(SettingsError, S.SmtpSettings, servr="x")
    assert "servr" in str(e)


def test_valid_settings_pass():
    assert good().validate() is not None
    good(port=465, starttls=False, tls=True).validate()
    good(port=25, starttls=False, auth=False, login="", allow_plaintext=True).validate()  # a relay
    S.SmtpSettings().validate(for_sending=False)


def _field_error(field, **kw):
    e = raises(SettingsError, good(**kw).validate)
    assert str(e).startswith(field), (field, str(e))
    assert e.code == "settings" and isinstance(e, InputError)
    return e


def test_validation_names_the_field():
    _field_error("port", port=0)
    _field_error("port", port=70000)
    _field_error("port", port="25")
    _field_error("port", port=True)
    _field_error("starttls/tls", tls=True)
    _field_error("server", server="")
    _field_error("server", server="smtp example.com")
    e = _field_error("server", server="smtp.example.com:587")  # the port given with the host
    assert "server 'smtp.example.com', port 587" in str(e), str(e)
    good(server="fd00::25").validate()  # an IPv6 address is not a port
    # neither STARTTLS nor TLS, plaintext not allowed: the session would refuse MAIL, every time
    e = _field_error("tls", starttls=False)
    assert "allow_plaintext" in str(e), str(e)
    good(starttls=False).validate(for_sending=False)  # set in steps: saved, not yet ready
    _field_error("email_address", email_address="pump")
    _field_error("email_address", email_address="pump@")
    _field_error("email_address", email_address="a b@example.com")
    _field_error("reply_to", reply_to="@example.com")
    _field_error("receipt_address", receipt_address="x@@y")
    _field_error("body_encoding", body_encoding="uuencode")
    _field_error("send_copy_to_self", send_copy_to_self="me")
    _field_error("send_option", send_option="later")
    _field_error("login", login="")
    # AUTH with nothing to log in with would only be refused (535) at every send
    _field_error("password", password="")
    good(password="", oauth_token="ya29.static").validate()
    good(password="", oauth_refresh_token="1//r", oauth_token_url="https://oauth2.example.com/t",
         oauth_client_id="c").validate()
    good(password="").validate(for_sending=False)  # set in steps: saved, not yet ready
    _field_error("to_cc_include_limit", to_cc_include_limit=-1)
    _field_error("max_attempts", max_attempts=0)
    _field_error("backoff_max_s", backoff_base_s=100, backoff_max_s=10)
    _field_error("connect_prefs", connect_prefs="wifi")
    _field_error("connect_prefs", connect_prefs=["wifi", ""])
    _field_error("auth", auth="yes")
    _field_error("alias", alias="Pump\r\nBcc: evil@example.com")
    _field_error("cafile", cafile=5)
    _field_error("charset", charset="")


def test_starttls_and_tls_setters_are_exclusive():
    s = good()
    s.set_tls()
    assert s.tls and not s.starttls and s.secure() == "implicit"
    s.set_starttls()
    assert s.starttls and not s.tls and s.secure() == "starttls"
    s.set_starttls(False)
    assert s.secure() == "plain"


def test_password_never_in_repr_or_str():
    s = good(password="hunter2-secret")
    for text in (repr(s), str(s), "%s" % s, "%r" % [s]):
        assert "hunter2" not in text, text
        assert "***" in text
    assert "hunter2" not in repr(s.to_dict(secrets=False))
    assert "password" not in repr(S.SmtpSettings())  # nothing set, nothing shown
    e = raises(SettingsError, good(password="hunter2-secret", port=0).validate)
    assert "hunter2" not in str(e)


def test_round_trip_through_dict():
    s = good(alias="Pump House", connect_prefs=["wifi", "modem"], to_cc_include_limit=3,
             signature="--\nPump", add_signature=True, cafile="/flash/ca.pem")
    d = s.to_dict()
    assert d["version"] == S.VERSION and d["password"] == "hunter2-secret"
    t = S.SmtpSettings.from_dict(d)
    assert t == s and not (t != s)
    t.port = 25
    assert t != s
    c = s.copy()
    assert c == s and c is not s and c.connect_prefs is not s.connect_prefs


def test_from_dict_versions():
    d = good().to_dict()
    d["version"] = S.VERSION + 1
    raises(SettingsError, S.SmtpSettings.from_dict, d)
    d = {"server": "a.example", "future_field": 1}  # unknown keys ignored, missing keys default
    s = S.SmtpSettings.from_dict(d)
    assert s.server == "a.example" and s.port == 25


def test_reset_and_helpers():
    s = good(reply_to="ops@example.com")
    assert s.receipt_to() == "ops@example.com"
    s.receipt_address = "rcpt@example.com"
    assert s.receipt_to() == "rcpt@example.com"
    s.reset()
    assert s == S.SmtpSettings()


def oauth(**kw):
    d = dict(password="", oauth_token="ya29.access-secret", oauth_expires=1700003600,
             oauth_token_url="https://oauth2.example.com/token", oauth_client_id="board-1",
             oauth_client_secret="client-secret-xyz", oauth_refresh_token="1//refresh-secret",
             oauth_scope="https://mail.google.com/")
    d.update(kw)
    return good(**d)


def test_oauth_secrets_hidden_like_the_password():
    s = oauth()
    hidden = ("ya29.access-secret", "client-secret-xyz", "1//refresh-secret")
    for text in (repr(s), str(s), repr(s.to_dict(secrets=False))):
        for secret in hidden:
            assert secret not in text, text
        assert "oauth_token='***'" in text or "'oauth_token': '***'" in text
    assert "board-1" in repr(s)  # the client id is no secret
    d = s.to_dict()  # what is persisted keeps them
    assert d["oauth_token"] == "ya29.access-secret" and d["oauth_refresh_token"] == "1//refresh-secret"
    assert S.SmtpSettings.from_dict(d) == s
    assert "oauth" not in repr(S.SmtpSettings())  # nothing set, nothing shown
    e = raises(SettingsError, oauth(oauth_token_url="http://x.example/token").validate)
    for secret in hidden:
        assert secret not in str(e)


def test_oauth_validation_names_the_field():
    oauth().validate()
    good(oauth_token="ya29.static").validate()  # a token alone (no refresh) is fine
    for field in ("oauth_token", "oauth_client_id", "oauth_client_secret", "oauth_refresh_token",
                  "oauth_scope", "oauth_token_url"):
        _field_error(field, **{field: "a\r\nRCPT TO:<evil@example.com>"})
        _field_error(field, **{field: "a\0b"})
        _field_error(field, **{field: 5})
    _field_error("oauth_token", oauth_token="tok\x01auth=Bearer other")
    _field_error("oauth_token", oauth_token="two words")
    _field_error("oauth_expires", oauth_expires=-1)
    _field_error("oauth_expires", oauth_expires="soon")
    for url in ("http://oauth2.example.com/token", "oauth2.example.com/token", "https://",
                "https:///token", "ftp://x.example/"):
        e = _field_error("oauth_token_url", oauth_token_url=url)
        assert "https://" in str(e)
    # a refresh token needs the endpoint and the client id
    _field_error("oauth_token_url", oauth_refresh_token="1//r", oauth_client_id="id-1")
    _field_error("oauth_token_url", oauth_refresh_token="1//r",
                 oauth_token_url="https://oauth2.example.com/token")


def test_one_whole_number_check_for_every_layer():
    """errors.whole is the one check of a count, a limit or seconds (settings, tidy's keeps,
    coalescing's hold, the REPL's arguments, a battery cycle's seconds, the host CLI's
    --timeout): an int of at least ``least``; a bool, a float or a text is refused with an
    error naming the value, of the class the caller asks for."""
    from smtpmtm.errors import whole

    assert whole("n", 0) == 0 and whole("budget_s", 60, 1, "whole seconds") == 60
    for v in (-1, True, 1.0, "5", None):
        e = raises(InputError, whole, "n", v)
        assert str(e) == "n: a whole number, 0 or more, not %r" % (v,), str(e)
    e = raises(InputError, whole, "wake_s", 0, 1, "whole seconds")
    assert str(e) == "wake_s: whole seconds, 1 or more, not 0", str(e)
    e = raises(SettingsError, good(max_attempts=2.5).validate)  # the settings' own class
    assert str(e) == "max_attempts: a whole number, 0 or more, not 2.5", str(e)
    e = raises(SettingsError, S.check_limits, {"messages_per_day": -5})
    assert str(e) == "limits: messages_per_day: a whole number, 0 or more, not -5", str(e)

"""SMTP service settings: every CImSmtpSettings field, plus what a board needs.

After Symbian's CImBaseEmailSettings + CImSmtpSettings (smtpset.h): server,
port (25 by default, RFC 5321 section 4.5.4; 587 submission, RFC 6409; 465
implicit TLS, RFC 8314 section 3.3), addresses, body encoding, charset,
signature, vCard, receipts, send-copy-to-self, send option, STARTTLS
(RFC 3207) or TLS from connect (mutually exclusive, as SecureSockets and
SSLWrapper), TLS domain, AUTH (RFC 4954), login, password, To/Cc include
limit. Added for boards: ``cafile``, ``allow_plaintext`` (default False: no
password over an unencrypted link, RFC 8314 section 4), ``connect_prefs``
(ordered connect-hook names, the modern CImIAPPreferences), and the retry
policy (``max_attempts``, ``max_age_s``, ``backoff_base_s``, ``backoff_max_s``, and
``give_up``: "fail" or "suspend" a message past either limit).
Provider presets and limits: ``provider`` (the providers.py preset the account
came from), ``fallback_ports`` (``[[465, "implicit"], ...]``, tried in order
when the port cannot be reached: portfallback.py; never plaintext) and
``limits`` (sending limits per minute/hour/day: limits.py).

OAuth2 (Gmail, Microsoft 365 refuse passwords): ``oauth_token`` (an access
token; when set, AUTH uses XOAUTH2/OAUTHBEARER), ``oauth_expires`` (its
expiry, Unix seconds, 0 = unknown) and, to refresh it (RFC 6749 section 6;
smtpmtm.outbox.oauth2), ``oauth_token_url`` (https only), ``oauth_client_id``,
``oauth_client_secret``, ``oauth_refresh_token`` and ``oauth_scope``.

The secrets (password, oauth_token, oauth_client_secret, oauth_refresh_token)
never appear in ``repr``/``str`` (they show as ``'***'``); ``to_dict()``
includes them (it is what gets persisted) unless ``secrets=False``.

Example::

    from smtpmtm.settings import SmtpSettings
    s = SmtpSettings(server="smtp.example.com", port=587, starttls=True,
                     email_address="pump@example.com", auth=True,
                     login="pump", password="s3cret")
    s.validate()             # raises SettingsError naming the field
    d = s.to_dict()          # {"version": 1, ...}; SmtpSettings.from_dict(d)
"""

from .syntax import valid_address
from .errors import SettingsError, whole

VERSION = 1

# The choices of the text fields that take one (validate() checks them):
# body_encoding, TMsgOutboxBodyEncoding: "default" (= MIME), "none" (plain RFC 822,
# NoAlgorithm), "mime" (quoted-printable text, base64 attachments), "mhtml" (HTML in
# UTF-8, MHTMLAsMIME), "mhtml-alternative" (text + HTML, multipart/alternative);
# send_copy_to_self, TImSMTPSendCopyToSelf: "none", "to", "cc", "bcc";
# send_option, TImSMTPSendMessageOption: "immediately", "next-connection", "on-request";
# give_up, what the send engine does with a message past max_attempts / max_age_s
# (outbox/sender.py): "fail" or "suspend".
ENCODING_MIME = "mime"
COPY_NONE = "none"
SEND_IMMEDIATELY = "immediately"
SEND_ON_NEXT_CONNECTION = "next-connection"
SEND_ON_REQUEST = "on-request"

# (name, default)
FIELDS = (
    ("server", ""),
    ("port", 25),  # KSMTPDefaultPortNumber
    ("email_address", ""),
    ("alias", ""),
    ("reply_to", ""),
    ("receipt_address", ""),
    ("body_encoding", "mime"),
    ("charset", "utf-8"),
    ("add_signature", False),
    ("signature", ""),
    ("add_vcard", False),
    ("vcard", ""),
    ("request_receipts", False),
    ("send_copy_to_self", "none"),
    ("send_option", "immediately"),
    ("starttls", False),  # SecureSockets
    ("tls", False),  # SSLWrapper: TLS from connect
    ("tls_domain", ""),
    ("auth", False),
    ("auth_mechanisms", None),  # None = any the server offers, strongest first
    ("login", ""),
    ("password", ""),
    ("to_cc_include_limit", 0),
    ("bearer_mobility", False),
    ("cafile", None),
    ("allow_plaintext", False),
    ("connect_prefs", None),  # list of connect-hook names, tried in order
    ("helo_name", ""),
    ("max_attempts", 10),
    ("max_age_s", 3 * 24 * 3600),
    ("give_up", "fail"),  # past either limit: "fail" or "suspend" (kept for retry(id))
    ("backoff_base_s", 30),
    ("backoff_max_s", 3600),
    ("oauth_token", ""),  # OAuth2 access token (secret)
    ("oauth_expires", 0),  # its expiry, Unix seconds; 0 = unknown
    ("oauth_token_url", ""),  # https://... token endpoint, for refreshing
    ("oauth_client_id", ""),
    ("oauth_client_secret", ""),  # secret
    ("oauth_refresh_token", ""),  # secret
    ("oauth_scope", ""),  # optional
    ("provider", ""),  # a providers.py preset name, "" = none
    ("fallback_ports", None),  # [[port, "implicit"|"starttls"], ...] (portfallback.py)
    ("limits", None),  # sending limits {"messages_per_day": 500, ...} (limits.py)
)
_NAMES = tuple(f[0] for f in FIELDS)
SECRETS = ("password", "oauth_token", "oauth_client_secret", "oauth_refresh_token")

# sending limits (outbox/limits.py counts them): "<kind>_per_<window>" -> a whole number
LIMIT_WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86400))
LIMIT_KINDS = ("messages", "recipients")
LIMIT_KEYS = tuple(k + "_per_" + w for k in LIMIT_KINDS for (w, _) in LIMIT_WINDOWS)


def check_limits(limits):
    """Raise SettingsError naming a bad limit; ``limits`` is a dict as above."""
    if not isinstance(limits, dict):
        raise SettingsError("limits: must be a dict like {'messages_per_day': 500}")
    for k in limits:
        if k not in LIMIT_KEYS:
            raise SettingsError("limits: unknown limit %r (one of %s)" % (k, ", ".join(LIMIT_KEYS)))
        whole("limits: " + k, limits[k], error=SettingsError)


class SmtpSettings:
    """The settings of one SMTP account (CImSmtpSettings and more)."""

    def __init__(self, **kw):
        for n, default in FIELDS:
            setattr(self, n, default)
        for k in kw:
            if k not in _NAMES:
                raise SettingsError("%s: unknown setting" % k)
            setattr(self, k, kw[k])
        if self.connect_prefs is None:
            self.connect_prefs = []
        if self.fallback_ports is None:
            self.fallback_ports = []

    # -- Symbian-like helpers -------------------------------------------------
    def reset(self):
        """Back to the defaults (CImSmtpSettings::Reset)."""
        self.__init__()

    def copy(self):
        return SmtpSettings.from_dict(self.to_dict())

    def set_starttls(self, on=True):
        """SetSecureSockets: switching STARTTLS on clears TLS from connect."""
        self.starttls = bool(on)
        if on:
            self.tls = False

    def set_tls(self, on=True):
        """SetSSLWrapper: switching TLS from connect on clears STARTTLS."""
        self.tls = bool(on)
        if on:
            self.starttls = False

    def secure(self):
        """"implicit", "starttls" or "plain": how the link is to be opened."""
        return "implicit" if self.tls else ("starttls" if self.starttls else "plain")

    def receipt_to(self):
        """Where receipts go: receipt address, else reply-to, else the sender."""
        return self.receipt_address or self.reply_to or self.email_address

    # -- validation -----------------------------------------------------------
    def validate(self, for_sending=True):
        """Raise SettingsError naming the first bad field; return self if fine.

        ``for_sending`` also requires a server and a sender address.
        """
        # the names as tuples of constants: a .split() made ~35 new strings per call
        for n in ("add_signature", "add_vcard", "request_receipts", "starttls", "tls", "auth",
                  "bearer_mobility", "allow_plaintext"):
            if getattr(self, n) not in (0, 1):  # False == 0, True == 1
                raise SettingsError("%s: must be True or False" % n)
        for n in ("give_up", "server", "email_address", "alias", "reply_to", "receipt_address",
                  "charset", "signature", "vcard", "tls_domain", "login", "password", "helo_name",
                  "oauth_token", "oauth_token_url", "oauth_client_id", "oauth_client_secret",
                  "oauth_refresh_token", "oauth_scope", "provider"):
            v = getattr(self, n)
            if not isinstance(v, str):
                raise SettingsError("%s: must be a string" % n)
            # no header or command injection; the signature and the vCard are multi-line
            if n not in ("signature", "vcard") and ("\r" in v or "\n" in v or "\0" in v):
                raise SettingsError("%s: must not contain CR, LF or NUL" % n)
        v = self.oauth_token  # ^A separates XOAUTH2's fields (auth.py): no injection
        if "\x01" in v or " " in v:
            raise SettingsError("oauth_token: must not contain spaces or ^A")
        v = self.port
        if not _port(v) or isinstance(v, bool):
            raise SettingsError("port: must be 1..65535, not %r" % (v,))
        if self.starttls and self.tls:
            raise SettingsError("starttls/tls: STARTTLS and TLS from connect are mutually exclusive")
        v = self.server
        if for_sending and not v:
            raise SettingsError("server: no SMTP server set")
        if " " in v or "/" in v or "@" in v:
            raise SettingsError("server: bad host name %r" % v)
        if v.count(":") == 1:  # "host:port"; an IPv6 address has two colons or more
            h, _, p = v.partition(":")
            raise SettingsError("server: %r has a port in it: server %r, port %s" % (v, h, p))
        for n in ("email_address", "reply_to", "receipt_address"):
            v = getattr(self, n)
            if (v or for_sending and n == "email_address") and not valid_address(v):
                raise SettingsError("%s: invalid address %r" % (n, v))
        for n, choices in (
            ("body_encoding", "default none mime mhtml mhtml-alternative"),
            ("send_copy_to_self", "none to cc bcc"),
            ("send_option", "immediately next-connection on-request"),
            ("give_up", "fail suspend"),
        ):
            choices = choices.split()
            if getattr(self, n) not in choices:
                raise SettingsError("%s: one of %s" % (n, ", ".join(choices)))
        if not self.charset:
            raise SettingsError("charset: empty")
        if self.auth and not self.login:
            raise SettingsError("login: AUTH is on but no login name is set")
        if for_sending and not (self.tls or self.starttls or self.allow_plaintext):
            raise SettingsError("tls: neither STARTTLS nor TLS is on, and allow_plaintext is off: "
                                "nothing could be sent (a relay on a trusted network: allow_plaintext)")
        if for_sending and self.auth and not (self.password or self.oauth_token or
                                              self.oauth_refresh_token):
            raise SettingsError("password: AUTH is on but no password (or OAuth2 token) is set")
        for n in ("to_cc_include_limit", "max_attempts", "max_age_s", "backoff_base_s",
                  "backoff_max_s", "oauth_expires"):
            whole(n, getattr(self, n), error=SettingsError)
        if self.max_attempts < 1:
            raise SettingsError("max_attempts: must be at least 1")
        if self.backoff_max_s < self.backoff_base_s:
            raise SettingsError("backoff_max_s: smaller than backoff_base_s")
        if self.cafile is not None and not isinstance(self.cafile, str):
            raise SettingsError("cafile: must be a path or None")
        v = self.connect_prefs
        if not isinstance(v, (list, tuple)):
            raise SettingsError("connect_prefs: must be a list of connect-hook names")
        for h in v:
            if not isinstance(h, str) or not h:
                raise SettingsError("connect_prefs: bad hook name %r" % (h,))
        v = self.oauth_token_url
        if v and (not v.startswith("https://") or len(v) < 9 or v[8] in "/:?#"):
            raise SettingsError("oauth_token_url: must be an https:// URL with a host, not %r" % v)
        if self.oauth_refresh_token and not (v and self.oauth_client_id):
            raise SettingsError("oauth_token_url: refreshing a token needs oauth_token_url and "
                                "oauth_client_id")
        v = self.auth_mechanisms
        if v is not None and not isinstance(v, (list, tuple)):
            raise SettingsError("auth_mechanisms: must be a list of names or None")
        v = self.fallback_ports
        if not isinstance(v, (list, tuple)):
            raise SettingsError("fallback_ports: must be a list of [port, tls mode]")
        for fp in v:  # never plaintext (RFC 8314 section 4)
            if (not isinstance(fp, (list, tuple)) or len(fp) != 2 or not _port(fp[0])
                    or fp[1] not in ("implicit", "starttls")):
                raise SettingsError("fallback_ports: each must be [port, 'implicit'|'starttls'], "
                                    "not %r" % (fp,))
        if self.limits:
            check_limits(self.limits)
        return self

    # -- persistence ----------------------------------------------------------
    def to_dict(self, secrets=True):
        d = {"version": VERSION}
        for n in _NAMES:
            v = getattr(self, n)
            if isinstance(v, (tuple, list)):
                v = [list(x) if isinstance(x, (tuple, list)) else x for x in v]  # no aliasing
            elif isinstance(v, dict):
                v = dict(v)
            d[n] = v
        if not secrets:
            for n in SECRETS:
                d[n] = "***" if d[n] else ""
        return d

    @classmethod
    def from_dict(cls, d):
        v = d.get("version", VERSION)
        if not isinstance(v, int) or v > VERSION:
            raise SettingsError("version: settings version %r is newer than %d" % (v, VERSION))
        kw = {}
        for n in _NAMES:  # unknown keys from a newer minor version are ignored
            if n in d:
                kw[n] = d[n]
        return cls(**kw)

    def __eq__(self, other):  # (!= is its negation on both interpreters)
        # operator== of CImSmtpSettings ignores TlsSslDomain; here every field counts.
        if not isinstance(other, SmtpSettings):
            return False
        for n in _NAMES:
            if getattr(self, n) != getattr(other, n):
                return False
        return True

    def __repr__(self):
        parts = []
        for n, default in FIELDS:
            v = getattr(self, n)
            if n in SECRETS:
                if v:
                    parts.append("%s='***'" % n)
                continue
            if v != default and not (default is None and v in ([], {})):
                parts.append("%s=%r" % (n, v))
        return "SmtpSettings(%s)" % ", ".join(parts)

    __str__ = __repr__


def _port(p):
    return isinstance(p, int) and 0 < p < 65536

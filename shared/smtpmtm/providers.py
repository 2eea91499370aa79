"""Provider presets: server, submission ports, TLS mode, OAuth2 endpoint and sending limits.

``preset("gmail", "pump@gmail.com")`` returns the SmtpSettings fields for a
big provider's submission service (RFC 6409), so a person types a provider
name and a user instead of looking up host, port and TLS mode:

- ``server``, ``port`` and the TLS mode of the first submission port; the
  other ports go to ``fallback_ports`` (portfallback.py tries them when the
  first cannot be reached). Only 465 implicit TLS (RFC 8314 section 3.3) and
  587 STARTTLS (RFC 3207) appear: never a plaintext port (RFC 8314 section 4);
- ``auth`` on, ``login`` and ``email_address`` = the user;
- ``oauth_token_url`` and ``oauth_scope`` where the provider takes OAuth2
  (RFC 6749; Gmail and Microsoft refuse plain passwords for most accounts);
  the client id and refresh token stay the person's own;
- ``limits``: the provider's published sending limits (limits.py enforces
  them). Gmail counts differently for a consumer account (``gmail``) and a
  Google Workspace one (``google-workspace``); Outlook.com and Microsoft 365
  likewise. The figures are the documented ones at the time of writing
  (2024-2026 help pages: Google "Gmail sending limits" / "Sending limits in
  Google Workspace", Microsoft "Sending limits in Outlook.com" / "Exchange
  Online limits", Yahoo, Apple "iCloud Mail storage and sending limits",
  Fastmail "Sending limits", Zoho, GMX); a plan with other limits overrides
  them with ``account(limits={...})``.

The table is data only, imported by the REPL's ``account(provider=...)``,
never by the send path.

Example::

    from smtpmtm.providers import preset
    s = SmtpSettings(**preset("gmail", "pump@gmail.com"))
    s.server, s.port, s.starttls          # 'smtp.gmail.com', 587, True
    s.limits["recipients_per_day"]        # 500
    s.__dict__.update(cleared())          # the account no longer follows a provider
"""

from .errors import SettingsError

_GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
_MS_SCOPE = "https://outlook.office.com/SMTP.Send offline_access"

# name: (server, [(port, tls mode)], oauth token url, oauth scope, limits)
PROVIDERS = {
    "gmail": ("smtp.gmail.com", ((587, "starttls"), (465, "implicit")), _GOOGLE_TOKEN,
              "https://mail.google.com/",
              {"messages_per_day": 500, "recipients_per_day": 500}),
    "google-workspace": ("smtp.gmail.com", ((587, "starttls"), (465, "implicit")), _GOOGLE_TOKEN,
                         "https://mail.google.com/",
                         {"messages_per_day": 2000, "recipients_per_day": 10000}),
    "outlook": ("smtp-mail.outlook.com", ((587, "starttls"),),
                "https://login.microsoftonline.com/consumers/oauth2/v2.0/token", _MS_SCOPE,
                {"messages_per_day": 300, "recipients_per_day": 5000}),
    "office365": ("smtp.office365.com", ((587, "starttls"),),
                  "https://login.microsoftonline.com/common/oauth2/v2.0/token", _MS_SCOPE,
                  {"messages_per_minute": 30, "recipients_per_day": 10000}),
    "yahoo": ("smtp.mail.yahoo.com", ((465, "implicit"), (587, "starttls")),
              "https://api.login.yahoo.com/oauth2/get_token", "mail-w",
              {"messages_per_hour": 100, "messages_per_day": 500}),
    "icloud": ("smtp.mail.me.com", ((587, "starttls"),), "", "",
               {"messages_per_day": 1000, "recipients_per_day": 1000}),
    "fastmail": ("smtp.fastmail.com", ((465, "implicit"), (587, "starttls")), "", "",
                 {"recipients_per_hour": 2000, "recipients_per_day": 8000}),
    "zoho": ("smtp.zoho.com", ((465, "implicit"), (587, "starttls")), "", "",
             {"messages_per_minute": 10, "messages_per_day": 500}),
    "gmx": ("mail.gmx.net", ((587, "starttls"), (465, "implicit")), "", "",
            {"messages_per_hour": 100, "messages_per_day": 500}),
    "aol": ("smtp.aol.com", ((465, "implicit"), (587, "starttls")), "", "",
            {"messages_per_day": 500}),
}


def names():
    """The provider names, sorted."""
    return sorted(PROVIDERS)


def preset(name, user):
    """The SmtpSettings fields for provider ``name`` and login ``user`` (an address)."""
    p = PROVIDERS.get(name)
    if p is None:
        raise SettingsError("provider: unknown %r (one of %s)" % (name, ", ".join(names())))
    server, ports, token_url, scope, limits = p
    port, mode = ports[0]
    return {
        "provider": name,
        "server": server,
        "port": port,
        "starttls": mode == "starttls",
        "tls": mode == "implicit",
        "fallback_ports": [[q, m] for (q, m) in ports[1:]],
        "auth": True,
        "login": user,
        "email_address": user,
        "oauth_token_url": token_url,
        "oauth_scope": scope,
        "limits": dict(limits),
    }


def cleared():
    """The SmtpSettings fields a preset fills that belong to its provider alone, as an account
    without a provider has them: what ``account(provider="")``, or a server that is not the
    provider's, resets (the server, port, TLS mode and login stay as set)."""
    return {"provider": "", "fallback_ports": [], "limits": None, "oauth_token_url": "",
            "oauth_scope": ""}

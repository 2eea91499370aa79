"""Fresh OAuth2 access tokens for the send engine: the blocking refresh driver and the TokenSource.

``refresh(settings, connect, clock)`` runs oauth2.py's exchange (RFC 6749
section 6) over a stream from the same ``connect(host, port, tls=, cafile=,
server_hostname=, timeout=)`` the Sender uses (host/net.py, device/smtpmtm_board/net.py), so
the token endpoint's certificate is verified exactly as the SMTP server's:
CERT_REQUIRED, the host name, ``settings.cafile`` (which must then also hold
the endpoint's root CA). The whole exchange has one deadline (``timeout``).
Errors: oauth2.OAuthError, or the stream's own (TlsError, ConnectionLost,
Timeout), re-raised as OAuthError with the same code and transient flag and a
message that names the token endpoint.

``TokenSource`` is what whoever builds a Sender injects (``Sender(...,
tokens=TokenSource(...))``) when the account has refresh settings; the engine
(outbox/sender.py's Job) calls ``token(now)`` before it connects, which refreshes
when the token is missing or expires within ``margin`` seconds (60) by the Sender's
clock, and ``token(now, force=True)`` once when the server refuses the token
(535). A refreshed token, its expiry and a rotated refresh token are written
into the settings object and saved to the account (``accounts.save``, the
store's own file, atomically), so a reboot does not refresh again; a failed
save keeps the token in RAM for this send and is noted in ``save_error``.
This module is imported only by whoever builds the Sender: it is not part of
the send path (host/bench/b_board.py).

Example::

    tokens = TokenSource(settings, net.connect, clock, accounts, account)
    s = Sender(store, settings, account.service, net.connect, clock, tokens=tokens)
"""

from . import oauth2
from ..errors import ConnectionLost, SmtpMtmError

MARGIN_S = 60


def refresh(settings, connect, clock, timeout=30, read_size=512):
    """One refresh_token grant; returns oauth2.result()'s dict."""
    host, port, path = oauth2.split_url(settings.oauth_token_url)
    req = oauth2.request(settings)
    stream = None
    try:
        deadline = clock() + timeout
        stream = connect(host, port, tls="implicit", cafile=settings.cafile, server_hostname=host,
                         timeout=timeout)
        stream.write(req)
        resp = oauth2.Response()
        while not resp.done:
            left = deadline - clock()
            if left <= 0:
                raise oauth2.OAuthError("token endpoint %s: no whole answer within %d s"
                                        % (host, timeout), "timeout", True)
            data = stream.read(read_size, left)
            if not data:
                resp.eof()
            else:
                resp.feed(data)
    except oauth2.OAuthError:
        raise
    except SmtpMtmError as e:  # TLS, connection, timeout: the same codes as for SMTP
        raise oauth2.OAuthError("token endpoint %s: %s" % (host, e), e.code, e.transient)
    except OSError as e:
        raise oauth2.OAuthError("token endpoint %s: %s" % (host, ConnectionLost(str(e))),
                                "connection-lost", True)
    finally:
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a broken stream must not hide the real error
                pass
    return oauth2.result(resp)


class TokenSource:
    """Access tokens for one account: refreshed when due, saved to the account."""

    def __init__(self, settings, connect, clock, accounts=None, account=None, margin=MARGIN_S,
                 timeout=30):
        self.settings = settings
        self.connect = connect
        self.clock = clock
        self.accounts = accounts
        self.account = account
        self.margin = margin
        self.timeout = timeout
        self.refreshed = 0
        self.save_error = None

    def token(self, now, force=False):
        """The access token to use at ``now``; refreshes first if forced, missing or due."""
        s = self.settings
        if force or not s.oauth_token or (s.oauth_expires and s.oauth_expires - now < self.margin):
            self.refresh(now)
        return s.oauth_token

    def refresh(self, now):
        s = self.settings
        r = refresh(s, self.connect, self.clock, self.timeout)
        s.oauth_token = r["access_token"]
        s.oauth_expires = int(now) + r["expires_in"] if r["expires_in"] else 0
        if r["refresh_token"]:  # rotated (RFC 6749 6): the old one may stop working
            s.oauth_refresh_token = r["refresh_token"]
        self.refreshed += 1
        self._save()

    def _save(self):
        if self.accounts is None:
            return
        s = self.settings
        try:  # the account as stored (the REPL may have changed other fields), plus the token
            cur = self.accounts.load(self.account)
            cur.oauth_token = s.oauth_token
            cur.oauth_expires = s.oauth_expires
            cur.oauth_refresh_token = s.oauth_refresh_token
            self.accounts.save(self.account, cur)
            self.save_error = None
        except Exception as e:  # noqa: BLE001 - flash full, read-only account: keep it in RAM
            self.save_error = e

"""OAuth2 access-token refresh (RFC 6749 section 6), sans-I/O: the request bytes and a bounded parser.

Gmail and Microsoft 365 refuse passwords over SMTP; they take an access token
(XOAUTH2 / OAUTHBEARER, auth.py) that expires after about an hour. A board
gets a new one from the provider's token endpoint with its refresh token:

    POST /token HTTP/1.1                               (RFC 9112; HTTPS only)
    Content-Type: application/x-www-form-urlencoded    (RFC 6749 appendix B)

    grant_type=refresh_token&refresh_token=..&client_id=..&client_secret=..[&scope=..]

The client secret goes in the body (RFC 6749 section 2.3.1, as Google's and
Microsoft's documentation show it). This module only turns settings into those
bytes (``request``) and bytes into a result (``Response`` + ``result``); the
blocking driver that runs them over a TLS stream is tokensource.py.

``Response`` parses incrementally, split anywhere: the status line, headers,
then a body framed by Content-Length, chunked coding (RFC 9112 section 7.1) or
the end of the connection; any 1xx response is skipped (section 15.2). It is
bounded: a line past MAX_LINE, a head past MAX_HEAD or a body past MAX_BODY
raises, so a hostile endpoint cannot exhaust the heap (a Microsoft access token
is 1-3 KB of JWT, hence a few KB and not less).

``result`` reads the JSON (RFC 6749 section 5.1): ``access_token``, ``expires_in``
(seconds; 0 when absent = unknown) and an optional rotated ``refresh_token``.
A refusal (section 5.2) raises ``OAuthError`` naming the provider's ``error`` and
``error_description``. ``invalid_grant`` (the refresh token is expired or
revoked: a person must authorise the board again) and the other client errors
are permanent; 429, 5xx, a malformed or truncated answer are transient.

Example::

    host, port, path = split_url(settings.oauth_token_url)
    stream.write(request(settings))
    r = Response()
    while not r.done:
        data = stream.read(512, 10)
        r.eof() if not data else r.feed(data)
    tok = result(r)      # {"access_token": ..., "expires_in": 3599, "refresh_token": None}
"""

import json

from ..compat import const
from ..errors import SmtpMtmError

MAX_LINE = const(2048)  # a status, header or chunk-size line
MAX_HEAD = const(8192)  # status line + headers
MAX_BODY = const(8192)  # the JSON
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# RFC 6749 5.2 error codes that say "try later" (server_error, temporarily_unavailable
# come from section 4.1.2.1; some token endpoints return them too)
_TRANSIENT = ("server_error", "temporarily_unavailable", "slow_down")


class OAuthError(SmtpMtmError):
    """The token endpoint refused or failed; ``error`` is its RFC 6749 5.2 code, if any.

    Codes: oauth-invalid-grant (a new refresh token is needed), oauth-refused (another
    5.2 error: client id/secret, scope), oauth-http (an HTTP status without a usable
    body), oauth-bad-response (malformed, too large, truncated), oauth-url."""

    code = "oauth"

    def __init__(self, message, code="oauth", transient=False, error=None, status=0):
        super().__init__(message, code, transient)
        self.error = error
        self.status = status


def _bad(what, transient=True):
    return OAuthError("token endpoint: %s" % what, "oauth-bad-response", transient)


def split_url(url):
    """(host, port, path) of an https:// URL; OAuthError (oauth-url) for anything else."""
    if not isinstance(url, str) or not url.startswith("https://"):
        raise OAuthError("oauth_token_url: must be https://, not %r" % (url,), "oauth-url")
    rest = url[8:]
    i = 0
    while i < len(rest) and rest[i] not in "/?#":
        i += 1
    hostport, path = rest[:i], rest[i:].split("#")[0] or "/"
    if path[0] == "?":
        path = "/" + path
    host, port = hostport, 443
    if hostport.startswith("["):  # an IPv6 literal (RFC 3986 3.2.2)
        j = hostport.find("]")
        host, tail = hostport[1:j], hostport[j + 1:]
        if j < 0 or (tail and tail[0] != ":"):
            host = ""
        elif tail:
            port = tail[1:]
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    try:
        port = int(port)
    except ValueError:
        port = 0
    if not host or not 0 < port < 65536 or "@" in host:
        raise OAuthError("oauth_token_url: bad host or port in %r" % url, "oauth-url")
    return host, port, path


def quote(value):
    """Percent-encode for application/x-www-form-urlencoded: all but unreserved characters."""
    out = []
    for b in value.encode():
        out.append(chr(b) if b in _UNRESERVED else "%%%02X" % b)
    return "".join(out)


def request(settings):
    """The HTTP/1.1 POST that refreshes the access token of ``settings`` (bytes)."""
    host, port, path = split_url(settings.oauth_token_url)
    body = "grant_type=refresh_token&refresh_token=%s&client_id=%s" % (
        quote(settings.oauth_refresh_token), quote(settings.oauth_client_id))
    if settings.oauth_client_secret:
        body += "&client_secret=" + quote(settings.oauth_client_secret)
    if settings.oauth_scope:
        body += "&scope=" + quote(settings.oauth_scope)
    if ":" in host:
        host = "[%s]" % host
    if port != 443:  # RFC 9110 7.2: Host carries a port that is not the scheme's default
        host = "%s:%d" % (host, port)
    return ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Accept: application/json\r\nContent-Length: %d\r\nConnection: close\r\n"
            "User-Agent: smtpmtm\r\n\r\n%s" % (path, host, len(body), body)).encode()


class Response:
    """An HTTP/1.1 response parsed from bytes fed in pieces; ``done`` once it is whole."""

    def __init__(self, max_head=MAX_HEAD, max_body=MAX_BODY):
        self.max_head = max_head
        self.max_body = max_body
        self.status = 0
        self.body = bytearray()
        self.done = False
        self._buf = b""
        self._state = "status"  # head, length, size, data, crlf, trailer, close
        self._head = 0
        self._left = 0  # body bytes still expected (length, data)
        self._length = None
        self._chunked = False

    def feed(self, data):
        """Take the next bytes; raises OAuthError on anything malformed or past the bounds."""
        if self.done:
            return
        self._buf += data
        while self._buf and not self.done:
            st = self._state
            if st in ("length", "data", "close"):
                self._body_bytes(st)
                continue
            i = self._buf.find(b"\n")
            if i < 0:
                if len(self._buf) > MAX_LINE:
                    raise _bad("a line longer than %d bytes" % MAX_LINE)
                return
            line, self._buf = self._buf[:i], self._buf[i + 1:]
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > MAX_LINE:
                raise _bad("a line longer than %d bytes" % MAX_LINE)
            if st in ("status", "head", "trailer"):
                self._head += len(line) + 2
                if self._head > self.max_head:
                    raise _bad("headers longer than %d bytes" % self.max_head)
            self._line(st, line)

    def eof(self):
        """The connection closed: the end of a close-delimited body, else a truncation."""
        if self._state == "close" or self.done:
            self.done = True
            return
        raise OAuthError("token endpoint closed the connection before the whole response",
                         "oauth-bad-response", True, status=self.status)

    def _add(self, data):
        if len(self.body) + len(data) > self.max_body:
            raise _bad("response body larger than %d bytes" % self.max_body)
        self.body += data

    def _body_bytes(self, st):
        if st == "close":
            self._add(self._buf)
            self._buf = b""
            return
        take = self._buf[:self._left]
        self._buf = self._buf[len(take):]
        self._add(take)
        self._left -= len(take)
        if not self._left:
            if st == "length":
                self.done = True
            else:
                self._state = "crlf"

    def _line(self, st, line):
        if st == "status":
            w = line.split(b" ", 2)
            if len(w) < 2 or not w[0].startswith(b"HTTP/1.") or len(w[1]) != 3 or not w[1].isdigit():
                raise _bad("not an HTTP response: %r" % bytes(line[:40]))
            self.status = int(w[1])
            self._state = "head"
        elif st == "head":
            if line:
                self._header(line)
            elif self.status < 200:  # 1xx (RFC 9110 15.2): another response follows
                self._state = "status"
                self._length, self._chunked = None, False
            elif self._chunked:
                self._state = "size"
            elif self._length is not None:
                self._left = self._length
                self._state = "length"
                self.done = not self._left
            else:
                self._state = "close"  # RFC 9112 6.3: read until the connection closes
        elif st == "size":
            n = line.split(b";")[0].strip()
            try:
                size = int(n, 16)
            except ValueError:
                raise _bad("bad chunk size %r" % bytes(n[:20]))
            if size < 0 or len(self.body) + size > self.max_body:
                raise _bad("response body larger than %d bytes" % self.max_body)
            self._left = size
            self._state = "data" if size else "trailer"
        elif st == "crlf":
            if line:
                raise _bad("chunk not followed by CRLF")
            self._state = "size"
        elif not line:  # the end of the trailer section
            self.done = True

    def _header(self, line):
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise _bad("malformed header line %r" % bytes(line[:40]))
        name = name.lower()
        value = value.strip()
        if name == b"content-length":
            if not value.isdigit() or (self._length is not None and self._length != int(value)):
                raise _bad("bad Content-Length %r" % bytes(value[:20]))
            self._length = int(value)
            if self._length > self.max_body:
                raise _bad("response body larger than %d bytes" % self.max_body)
        elif name == b"transfer-encoding":
            if value.lower() != b"chunked":  # the only coding we can read (RFC 9112 6.1)
                raise _bad("unsupported Transfer-Encoding %r" % bytes(value[:20]))
            self._chunked = True  # it wins over Content-Length (RFC 9112 6.3)


def _text(value):
    """A provider's string for a message: printable ASCII, at most 200 characters."""
    s = str(value)[:200]
    return "".join(c if " " <= c <= "~" else "?" for c in s)


def result(resp):
    """{"access_token", "expires_in", "refresh_token"} of a whole Response; else OAuthError."""
    status = resp.status
    try:
        data = json.loads(bytes(resp.body).decode())
    except (ValueError, UnicodeError):
        data = None
    if not isinstance(data, dict):
        data = None
    if status == 200:
        if data is None:
            raise _bad("HTTP 200 without a JSON object")
        tok = data.get("access_token")
        if not isinstance(tok, str) or not tok:
            raise _bad("no access_token in the answer")
        for c in tok:  # it goes into XOAUTH2's ^A-separated fields and the settings file
            if c <= " " or c > "~":
                raise _bad("access_token with characters a token cannot have", False)
        kind = data.get("token_type", "Bearer")
        if not isinstance(kind, str) or kind.lower() != "bearer":  # RFC 6749 7.1
            raise _bad("token_type %s, not Bearer" % _text(kind), False)
        exp = data.get("expires_in", 0)
        try:
            exp = int(exp)
        except (TypeError, ValueError):
            exp = 0
        new = data.get("refresh_token")
        if not isinstance(new, str) or not new or "\r" in new or "\n" in new or "\0" in new:
            new = None
        return {"access_token": tok, "expires_in": exp if exp > 0 else 0, "refresh_token": new}
    err = data.get("error") if data is not None else None
    if isinstance(err, str) and err:
        desc = data.get("error_description")
        text = "token endpoint refused the refresh (HTTP %d): %s%s" % (
            status, _text(err), (" (%s)" % _text(desc)) if desc else "")
        if err == "invalid_grant":  # RFC 6749 5.2: expired, revoked or not ours
            return _raise(text + "; a new refresh token is needed: authorise the board again",
                          "oauth-invalid-grant", False, err, status)
        return _raise(text, "oauth-refused", err in _TRANSIENT or status >= 500 or status == 429,
                      err, status)
    return _raise("token endpoint answered HTTP %d" % status, "oauth-http",
                  status >= 500 or status == 429 or status == 408, None, status)


def _raise(text, code, transient, err, status):
    raise OAuthError(text, code, transient, err, status)

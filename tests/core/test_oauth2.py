"""oauth2.py: the refresh request (RFC 6749 section 6) and the bounded HTTP/1.1 response parser."""

from portable import raises

from smtpmtm.outbox import oauth2 as O
from smtpmtm.settings import SmtpSettings
from oauth_fakes import http, ok, refused


def cfg(**kw):
    d = dict(oauth_token_url="https://oauth2.example.com/token", oauth_client_id="id-1.apps",
             oauth_client_secret="s3 cr/et", oauth_refresh_token="1//0g-abc+/=",
             oauth_scope="https://mail.google.com/")
    d.update(kw)
    return SmtpSettings(**d)


def parse(data, pieces=None):
    r = O.Response()
    if pieces is None:
        r.feed(data)
    else:
        for p in pieces:
            r.feed(p)
    if not r.done:
        r.eof()
    return r


def test_request_is_a_form_post_with_percent_encoded_values():
    req = O.request(cfg())
    head, body = req.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /token HTTP/1.1"
    assert b"Host: oauth2.example.com" in lines and b"Connection: close" in lines
    assert b"Content-Type: application/x-www-form-urlencoded" in lines
    assert b"Content-Length: %d" % len(body) in lines
    assert body == (b"grant_type=refresh_token&refresh_token=1%2F%2F0g-abc%2B%2F%3D&client_id=id-1.apps"
                    b"&client_secret=s3%20cr%2Fet&scope=https%3A%2F%2Fmail.google.com%2F")
    req = O.request(cfg(oauth_token_url="https://127.0.0.1:8443/o/t?x=1", oauth_client_secret="",
                        oauth_scope="", oauth_refresh_token="ü"))
    assert req.startswith(b"POST /o/t?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n")
    assert req.endswith(b"\r\n\r\ngrant_type=refresh_token&refresh_token=%C3%BC&client_id=id-1.apps")


def test_split_url():
    assert O.split_url("https://login.microsoftonline.com/common/oauth2/v2.0/token") == (
        "login.microsoftonline.com", 443, "/common/oauth2/v2.0/token")
    assert O.split_url("https://127.0.0.1:4443") == ("127.0.0.1", 4443, "/")
    assert O.split_url("https://[::1]:4443/t#frag") == ("::1", 4443, "/t")
    for bad in ("http://x.example/t", "https://", "https://x.example:0/", "https://x.example:99999/",
                "https://x.example:abc/", "https://user@x.example/", None):
        e = raises(O.OAuthError, O.split_url, bad)
        assert e.code == "oauth-url" and "oauth_token_url" in str(e)


GOOD = ok("ya29.new-token", 3599, "1//rotated")


def test_a_200_split_at_every_byte_boundary():
    want = {"access_token": "ya29.new-token", "expires_in": 3599, "refresh_token": "1//rotated"}
    assert O.result(parse(GOOD)) == want
    for i in range(len(GOOD) + 1):
        assert O.result(parse(None, [GOOD[:i], GOOD[i:]])) == want, i
    assert O.result(parse(None, [GOOD[i:i + 1] for i in range(len(GOOD))])) == want


def test_chunked_close_delimited_and_1xx():
    body = b'{"access_token":"tok-c","token_type":"bearer","expires_in":"3600"}'
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
               b"10;ext=1\r\n" + body[:16] + b"\r\n" + b"%x\r\n" % (len(body) - 16) + body[16:]
               + b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
    for i in range(len(chunked) + 1):
        r = parse(None, [chunked[:i], chunked[i:]])
        assert r.done and bytes(r.body) == body, i
    assert O.result(parse(chunked)) == {"access_token": "tok-c", "expires_in": 3600,
                                        "refresh_token": None}
    close = b"HTTP/1.0 200 OK\nContent-Type: application/json\n\n" + body  # bare LF, no length
    r = parse(close)
    assert bytes(r.body) == body and O.result(r)["access_token"] == "tok-c"
    cont = b"HTTP/1.1 100 Continue\r\n\r\n" + GOOD
    assert O.result(parse(cont))["access_token"] == "ya29.new-token"
    r = O.Response()
    r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert r.done and r.body == bytearray()


def bad(data, code="oauth-bad-response", transient=True, pieces=None):
    e = raises(O.OAuthError, lambda: O.result(parse(data, pieces)))
    assert e.code == code and e.transient == transient, (e.code, e.transient, str(e))
    return e


def _fed(head, piece, n, tail=b""):
    """head, then piece n times, then tail: fed one by one, as a stream reads them (the
    test's own data stays small, so that the 64 KiB on MicroPython measure the parser)."""
    yield head
    for _ in range(n):
        yield piece
    yield tail


def test_bounds_a_hostile_endpoint_cannot_exhaust_memory():
    big = O.MAX_BODY + 1
    ok200 = b"HTTP/1.1 200 OK\r\n"
    assert "larger" in str(bad(ok200 + b"Content-Length: %d\r\n\r\n" % big))
    # close-delimited, one byte over
    assert "larger" in str(bad(None, pieces=_fed(ok200 + b"\r\n", b"x" * 512, big // 512, b"x")))
    assert "larger" in str(bad(ok200 + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % big))
    chunk = b"800\r\n" + b"y" * 0x800 + b"\r\n"
    assert "larger" in str(bad(None, pieces=_fed(ok200 + b"Transfer-Encoding: chunked\r\n\r\n",
                                                 chunk, 5)))
    line = b"a" * 256
    assert "line longer" in str(bad(None, pieces=_fed(ok200 + b"X: ", line, O.MAX_LINE // 256)))
    assert "line longer" in str(bad(None, pieces=_fed(ok200 + b"X: ", line, O.MAX_LINE // 256,
                                                      b"\r\n")))
    many = _fed(ok200, b"X-many: " + b"v" * 100 + b"\r\n", 100, b"\r\n")
    assert "headers longer" in str(bad(None, pieces=many))
    # a feed never keeps more than a line plus what it was given
    r = O.Response()
    r.feed(b"HTTP/1.1 200 OK\r\n")
    e = raises(O.OAuthError, r.feed, b"Z" * (O.MAX_LINE + 1))
    assert e.transient


def test_every_error_is_named():
    e = bad(refused(400, "invalid_grant", "Token has been expired or revoked."),
            "oauth-invalid-grant", False)
    assert e.error == "invalid_grant" and e.status == 400
    assert "invalid_grant" in str(e) and "expired or revoked" in str(e)
    assert "new refresh token" in str(e)
    e = bad(refused(401, "invalid_client", "The OAuth client was not found."), "oauth-refused", False)
    assert "invalid_client" in str(e) and "HTTP 401" in str(e)
    bad(refused(400, "invalid_scope", None), "oauth-refused", False)
    bad(refused(503, "temporarily_unavailable", "busy"), "oauth-refused", True)
    assert "HTTP 500" in str(bad(http(500, b"<html>oops</html>"), "oauth-http", True))
    bad(http(429, b""), "oauth-http", True)
    bad(http(404, b"not here"), "oauth-http", False)
    bad(http(302, b"", ["Location: https://elsewhere.example/"]), "oauth-http", False)
    assert "not an HTTP response" in str(bad(b"SSH-2.0-OpenSSH\r\n\r\n"))
    bad(b"HTTP/1.1 2000 OK\r\n\r\n")
    assert "JSON" in str(bad(http(200, b"<html>captive portal</html>")))
    bad(http(200, b"[1, 2]"))
    bad(http(200, b"\xff\xfe{}"))
    assert "access_token" in str(bad(http(200, b'{"token_type": "Bearer"}')))
    assert "Bearer" in str(bad(http(200, b'{"access_token": "t", "token_type": "mac"}'), transient=False))
    bad(http(200, b'{"access_token": "t\\u0001auth=Bearer x"}'), transient=False)
    bad(http(200, b'{"access_token": "t\\r\\nMAIL FROM:<x>"}'), transient=False)
    assert "closed" in str(bad(GOOD[:-5]))  # truncated: EOF inside the body
    bad(GOOD[:20])  # EOF inside the status line
    bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY")
    bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
    bad(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    bad(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
    bad(b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n")
    e = bad(refused(400, "invalid_grant", "\x1b[31m" + "d" * 500), "oauth-invalid-grant", False)
    assert "\x1b" not in str(e) and len(str(e)) < 400


def test_expires_in_absent_or_odd_means_unknown():
    for body in (b'{"access_token": "t"}', b'{"access_token": "t", "expires_in": "soon"}',
                 b'{"access_token": "t", "expires_in": -5}'):
        assert O.result(parse(http(200, body))) == {"access_token": "t", "expires_in": 0,
                                                    "refresh_token": None}

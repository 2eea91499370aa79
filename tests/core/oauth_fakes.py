"""A scripted OAuth2 token endpoint for core tests (both interpreters); the real one is host/tokenserver.py.

``FakeEndpoint([answer, ...])``: ``ep.connect`` has net.connect's signature; each
connection takes the next answer: HTTP response bytes (given back in pieces of
``piece`` bytes), "drop" (the connection closes after the request) or "refuse"
(connect fails). ``ep.requests`` keeps every request received, ``ep.seen`` the
connect arguments. ``ok()`` and ``refused()`` build the usual answers.
"""

import json

from smtpmtm.errors import ConnectionLost, TlsError


def http(status, body, headers=()):
    head = "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
        status, len(body))
    for h in headers:
        head += h + "\r\n"
    return head.encode() + b"\r\n" + body


def ok(token, expires_in=3600, refresh=None):
    d = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
         "scope": "https://mail.google.com/"}
    if refresh:
        d["refresh_token"] = refresh
    return http(200, json.dumps(d).encode())


def refused(status=400, error="invalid_grant", desc="Token has been expired or revoked."):
    return http(status, json.dumps({"error": error, "error_description": desc}).encode())


class FakeEndpoint:
    def __init__(self, answers, piece=7):
        self.answers = list(answers)
        self.piece = piece
        self.requests = []
        self.seen = []

    def connect(self, host, port, tls=None, cafile=None, server_hostname=None, timeout=None):
        self.seen.append((host, port, tls, cafile, server_hostname))
        a = self.answers.pop(0)
        if isinstance(a, str) and a == "refuse":
            raise ConnectionLost("fake: connection refused")
        if isinstance(a, str) and a.startswith("tls-"):  # its certificate does not verify
            raise TlsError("fake: TLS certificate check failed", a)
        return _Stream(self, a)


class _Stream:
    is_tls = True

    def __init__(self, ep, answer):
        self.ep = ep
        self.answer = answer
        self.req = b""
        self.pos = 0  # an offset, not a slice per read: no 9 KB copies in a 64 KiB heap
        self.closed = False

    def write(self, data):
        self.req += bytes(data)
        if b"\r\n\r\n" in self.req:
            head, body = self.req.split(b"\r\n\r\n", 1)
            n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(body) >= n:
                self.ep.requests.append(self.req)

    def read(self, max_bytes, timeout_s=None):
        if isinstance(self.answer, str) or self.closed:  # "drop"
            return b""
        n = min(max_bytes, self.ep.piece)
        d = self.answer[self.pos:self.pos + n]
        self.pos += len(d)
        return d

    def close(self):
        self.closed = True

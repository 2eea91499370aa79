"""A local OAuth2 token endpoint over HTTPS for tests (RFC 6749 section 6, refresh_token grant).

Host-only (CPython http.server + ssl). Listens on 127.0.0.1 only, with a server
certificate from host/testca.py (the "good" case: 127.0.0.1 and localhost), so
the board verifies it with the same CA file as the SMTP server. It answers a
form POST (any path) with a fresh access token for ``user`` when the refresh
token, client id and client secret match; ``rotate=True`` hands out a new
refresh token each time and forgets the old one. ``check(user, token)`` is what
host/server.py's ``oauth=`` takes: the tokens issued so far are accepted.

``script`` (a list, one action per request, then normal behaviour) makes it
misbehave: "ok", "chunked" (the same answer in chunked coding), "invalid_grant"
(400), "invalid_client" (401), "500", "garbage" (not HTTP), "drop" (close
without answering), "huge" (a body far past what a board accepts), "notjson"
(200 with an HTML page).

Example::

    with TokenServer(certs, rotate=True) as ts:
        settings.oauth_token_url = ts.url           # https://127.0.0.1:PORT/token
        srv = SmtpServer(..., oauth=ts.check)
"""

import json
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: tests read .requests instead
        pass

    def do_POST(self):
        ts = self.server.ts
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 65536)).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        with ts.lock:
            ts.requests.append({"path": self.path, "host": self.headers.get("Host"),
                                "content_type": self.headers.get("Content-Type"), "form": form})
            action = ts.script.pop(0) if ts.script else "ok"
            status, answer = ts.answer(form, action)
        if action == "drop":
            self.close_connection = True
            return
        if action == "garbage":
            self.wfile.write(b"SSH-2.0-definitely not HTTP\r\n\r\n")
            self.close_connection = True
            return
        if action == "huge":
            answer = {"access_token": "x" * (1 << 20)}
        data = json.dumps(answer).encode() if not isinstance(answer, bytes) else answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if action != "notjson" else "text/html")
        self.send_header("Cache-Control", "no-store")  # RFC 6749 5.1
        self.send_header("Connection", "close")
        if action == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 17):
                piece = data[i:i + 17]
                self.wfile.write(b"%x;n=%d\r\n%s\r\n" % (len(piece), i, piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        self.close_connection = True


class TokenServer:
    """The endpoint, served from a thread; a context manager. ``url`` once started."""

    def __init__(self, certs, user="pump@example.com", client_id="board-1",
                 client_secret="client-secret-1", refresh_token="1//refresh-1", lifetime=3600,
                 rotate=False, script=None, token_size=48, cert_case="good"):
        self.certs = certs
        self.user = user
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.lifetime = lifetime
        self.rotate = rotate
        self.script = list(script or [])
        self.token_size = token_size  # Microsoft's JWTs run to 1-3 KB: try token_size=1500
        self.cert_case = cert_case
        self.requests = []  # {"path", "host", "content_type", "form"} per request
        self.issued = []  # access tokens handed out, in order
        self.valid = set()
        self.lock = threading.Lock()
        self.port = 0
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        return "https://127.0.0.1:%d/token" % self.port

    def check(self, user, token):
        """For host/server.py's ``oauth=``: an access token this endpoint issued for ``user``."""
        with self.lock:
            return user == self.user and token in self.valid

    def answer(self, form, action):
        """(status, JSON-able answer) for one request (called with the lock held)."""
        if action == "invalid_grant":
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if action == "invalid_client":
            return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}
        if action == "500":
            return 500, b"<html><body>Internal Server Error</body></html>"
        if action == "notjson":
            return 200, b"<html><body>Sign in to the Wi-Fi</body></html>"
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        token = "ya29." + secrets.token_urlsafe(self.token_size)[:self.token_size]
        self.issued.append(token)
        self.valid.add(token)
        out = {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer",
               "scope": form.get("scope") or "https://mail.google.com/"}
        if self.rotate:
            self.refresh_token = "1//refresh-%d" % (len(self.issued) + 1)
            out["refresh_token"] = self.refresh_token
        return 200, out

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.ts = self
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs.chain(self.cert_case), self.certs.key(self.cert_case))
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="token-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(10)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

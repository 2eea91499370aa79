"""A local SMTP server for tests, the demo and the benchmark (aiosmtpd, host-only).

Listens on 127.0.0.1 (port 0 = any free port) in one of three modes:

    "starttls"  plain 220, STARTTLS offered (RFC 3207), AUTH only after TLS
    "implicit"  TLS from the first byte (port-465 style, RFC 8314)
    "plain"     no TLS at all (AUTH allowed over plaintext, for allow_plaintext tests)

What it adds to aiosmtpd's SMTP class:
- AUTH PLAIN, LOGIN and CRAM-MD5 against a ``users`` dict; ``require_auth``;
  ``auth_mechanisms=["LOGIN"]`` offers only those;
- AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) when given ``oauth``: a dict {user: valid
  access token} or a callable (user, token) -> bool (host/tokenserver.py's ``check``).
  A refused token gets what Gmail sends: a 334 challenge carrying a base64 JSON error
  (XOAUTH2: {"status":"401","schemes":"bearer","scope":...}; OAUTHBEARER, RFC 7628
  section 3.2.2: {"status":"invalid_token",...}), then, after the client's empty line
  (XOAUTH2) or %x01 (OAUTHBEARER, section 3.2.3), ``535 5.7.8``. Without ``oauth``
  neither mechanism is offered;
- SIZE (``size_limit``), PIPELINING advertised, CHUNKING with a BDAT verb (RFC 3030);
- scripted faults per command: ``faults={"RCPT bob@x.org": "550 5.1.1 no such user",
  "DATA": "drop", "DOT": "stall", "STARTTLS": "inject", "GREETING": "421 busy"}``.
  Keys: GREETING, EHLO, HELO, STARTTLS, AUTH, MAIL, RCPT, "RCPT <addr>", DATA, BDAT,
  DOT (the final dot or BDAT LAST), RSET, QUIT. Actions: a reply ("451 4.3.0 try later";
  a 2xx reply means "behave normally"), "drop" (close the connection), "stall" (never
  answer), "pause N" (wait N seconds, then behave normally: a greeting pause, a content
  scan after the dot), and for STARTTLS "inject" (send "220" with plaintext appended, then TLS) and
  "cut" (send "220", then close: the client's TLS handshake meets EOF).
  A value may be a list: one action per occurrence, then normal behaviour.
- every byte received is logged per connection (``server.log``: dicts with ``tls``
  and ``lines``) so tests can prove no AUTH/MAIL byte reached the server;
- each accepted message is kept in ``server.messages`` (``Received``: mail_from,
  rcpt_tos, data = raw bytes as received after dot-unstuffing, user, tls,
  mail_options) and written to a maildir folder a person can read.

Example::

    with SmtpServer(mode="starttls", certs=make_certs(tmp), users={"u": "pw"}) as srv:
        ... connect to ("127.0.0.1", srv.port) ...
        msg = srv.wait_messages(1)[0]
    # command line: python -m host serve --mode starttls --port 2525
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import mailbox
import os
import threading
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

CRLF = b"\r\n"
LOG_LIMIT = 1 << 20  # bytes of raw log kept per connection


class Received:
    """One accepted message: the envelope and the raw bytes the server got."""

    def __init__(self, mail_from, rcpt_tos, data, user, tls, mail_options, via):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data
        self.user = user
        self.tls = tls
        self.mail_options = list(mail_options)
        self.via = via  # "DATA" or "BDAT"
        self.path = None  # the maildir file, when saved

    def parse(self):
        import email
        import email.policy

        return email.message_from_bytes(self.data, policy=email.policy.default)

    def __repr__(self):
        return "<Received from=%r to=%r %d bytes via %s>" % (
            self.mail_from, self.rcpt_tos, len(self.data), self.via)


class _Handler:
    def __init__(self, server):
        self.srv = server

    async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
        session.host_name = hostname
        extra = ["250-PIPELINING"]
        if self.srv.chunking:
            extra.append("250-CHUNKING")
        return responses[:-1] + extra + responses[-1:]

    async def handle_DATA(self, smtp, session, envelope):
        return await self.srv._deliver(smtp, session, envelope, "DATA")

    async def handle_exception(self, error):
        # Kept (server.errors) instead of logged: failed TLS handshakes are what tests do.
        self.srv.errors.append(error)
        return "500 Error: (%s) %s" % (type(error).__name__, error)


class _Protocol(SMTP):
    """aiosmtpd's SMTP plus byte logging, faults, BDAT and CRAM-MD5."""

    def __init__(self, srv, handler, **kw):
        self.srv = srv
        self._greeted = False
        self._inject = None
        self._bdat = None  # bytearray while a BDAT transaction is open
        self._log = {"tls": False, "lines": [], "bytes": 0, "partial": b""}
        super().__init__(handler, **kw)
        self._smtp_methods = {verb: self._wrap(verb, m) for verb, m in self._smtp_methods.items()}
        self._smtp_methods["BDAT"] = self._wrap("BDAT", self.smtp_BDAT)

    # -- logging every byte ------------------------------------------------
    def connection_made(self, transport):
        if self.transport is None:
            self.srv._conns.add(self)
            self._log["tls"] = self.srv.mode == "implicit"
            self.srv.log.append(self._log)
        else:
            self._log_flush()
            self._log["tls_after"] = len(self._log["lines"])
        super().connection_made(transport)

    def connection_lost(self, error):
        self.srv._conns.discard(self)
        self._log_flush()
        super().connection_lost(error)

    def data_received(self, data):
        log = self._log
        if log["bytes"] < LOG_LIMIT:
            log["bytes"] += len(data)
            buf = log["partial"] + data
            parts = buf.split(CRLF)
            log["partial"] = parts.pop()
            log["lines"].extend(parts)
        super().data_received(data)

    def _log_flush(self):
        if self._log["partial"]:
            self._log["lines"].append(self._log["partial"])
            self._log["partial"] = b""

    @property
    def secure(self):
        return self.srv.mode == "implicit" or self._tls_protocol is not None

    # -- faults -------------------------------------------------------------
    def _wrap(self, verb, method):
        async def wrapped(arg):
            key = verb
            if verb == "RCPT" and arg:
                addr = arg.partition("<")[2].partition(">")[0].lower()
                if self.srv._has_fault("RCPT " + addr):
                    key = "RCPT " + addr
            action = await self.fault(key)
            if action is None or action[:1] == "2":
                return await method(arg)
            if action == "cut" and verb == "STARTTLS":  # 220, then closed: the handshake meets EOF
                await SMTP.push(self, "220 2.0.0 Ready to start TLS")
                return await self.act("drop")
            if action == "inject" and verb == "STARTTLS":
                self._inject = b"250-injected by a man in the middle\r\n250 PIPELINING\r\n"
                return await method(arg)
            if verb == "BDAT" and action[:1] in "45":
                # RFC 3030 section 2: the chunk is read even when it is refused
                size = (arg or "").split()[:1]
                if size and size[0].isdigit():
                    await self._reader.readexactly(int(size[0]))
                self._bdat = None
            await self.act(action)

        return wrapped

    async def fault(self, key):
        """The scripted action for key, or None after a "pause N" has been waited out."""
        action = self.srv._take_fault(key)
        if action is not None and action.startswith("pause "):
            await asyncio.sleep(float(action[6:]))
            return None
        return action

    async def act(self, action):
        """Carry out a fault: a reply, "drop" or "stall"."""
        if action == "drop":
            self.transport.close()
            await asyncio.Event().wait()  # cancelled when the connection is gone
        elif action == "stall":
            await asyncio.Event().wait()
        else:
            await SMTP.push(self, action)
            if action.startswith("421"):  # RFC 5321 3.8: 421 then close
                self.transport.close()
                await asyncio.Event().wait()

    async def push(self, status):
        if not self._greeted:
            self._greeted = True
            action = await self.fault("GREETING")
            if action is not None and action[:1] != "2":
                return await self.act(action)
        if self._inject is not None and str(status).startswith("220"):
            status = status.encode() + CRLF + self._inject.rstrip(CRLF)
            self._inject = None
        return await super().push(status)

    # -- CRAM-MD5 (RFC 2195) -------------------------------------------------
    async def auth_CRAM__MD5(self, _, args):
        challenge = ("<%d.%d@smtpmtm.test>" % (os.getpid(), time.time_ns())).encode()
        reply = await self.challenge_auth(challenge)
        if not isinstance(reply, bytes):
            return AuthResult(success=False, handled=False)
        user, _, digest = reply.partition(b" ")
        password = self.srv.users.get(user.decode("utf-8", "replace"))
        if password is not None:
            want = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest().encode()
            if hmac.compare_digest(want, digest):
                return AuthResult(success=True, auth_data=LoginPassword(user, b""))
        return AuthResult(success=False, handled=False)

    # -- XOAUTH2 / OAUTHBEARER (Google's SASL XOAUTH2; RFC 7628) ----------------
    async def auth_XOAUTH2(self, _, args):
        return await self._oauth(args, False)

    async def auth_OAUTHBEARER(self, _, args):
        return await self._oauth(args, True)

    async def _oauth(self, args, bearer):
        # RFC 4954 4: a SASL response line may be 12288 octets (a JWT-sized token sent after
        # an empty challenge); aiosmtpd's reader stops at its 1001-octet text-line limit
        limit = self._reader._limit
        self._reader._limit = max(limit, 12288)
        try:
            return await self._oauth_exchange(args, bearer)
        finally:
            self._reader._limit = limit

    async def _oauth_exchange(self, args, bearer):
        if len(args) > 1:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except ValueError:
                await self.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:  # no initial response (a long token, RFC 4954 section 4): an empty challenge
            blob = await self.challenge_auth(b"", encode_to_b64=False)
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        user, token = _oauth_fields(blob, bearer)
        if user is not None and self.srv._token_ok(user, token):
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        if bearer:  # RFC 7628 3.2.2: the error as a JSON challenge; the client answers %x01
            err = {"status": "invalid_token", "scope": "https://mail.google.com/"}
        else:  # Google's XOAUTH2: the same idea, answered with an empty line
            err = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        self.srv.oauth_refused += 1
        if not isinstance(await self.challenge_auth(json.dumps(err, separators=(",", ":"))), bytes):
            return AuthResult(success=False, handled=True)  # "*" or bad base64: 501 already sent
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not accepted (token)")

    # -- BDAT (RFC 3030) ------------------------------------------------------
    async def smtp_BDAT(self, arg):
        if not self.srv.chunking:
            return await self.push('500 Error: command "BDAT" not recognized')
        if await self.check_helo_needed() or await self.check_auth_needed("BDAT"):
            return
        words = (arg or "").split()
        if not words or not words[0].isdigit() or len(words) > 2 or (
                len(words) == 2 and words[1].upper() != "LAST"):
            return await self.push("501 5.5.4 Syntax: BDAT size [LAST]")
        size = int(words[0])
        last = len(words) == 2
        chunk = await self._reader.readexactly(size) if size else b""
        if not self.envelope.rcpt_tos:
            self._bdat = None
            return await self.push("503 5.5.1 Error: need RCPT command")
        if self._bdat is None:
            self._bdat = bytearray()
        limit = self.data_size_limit
        if limit and len(self._bdat) + size > limit:
            self._bdat = None
            self._set_post_data_state()
            return await self.push("552 5.3.4 Error: too much mail data")
        self._bdat += chunk
        if not last:
            return await self.push("250 2.0.0 %d octets received" % size)
        content = bytes(self._bdat)
        self._bdat = None
        self.envelope.content = self.envelope.original_content = content
        status = await self.srv._deliver(self, self.session, self.envelope, "BDAT")
        self._set_post_data_state()
        await self.push(status)

    async def smtp_RSET(self, arg):
        self._bdat = None
        return await super().smtp_RSET(arg)


class _NoDeprecationNotes(logging.Filter):
    """aiosmtpd 1.4 logs "Session.login_data is deprecated" itself at every AUTH: not ours."""

    def filter(self, record):
        return "is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_NoDeprecationNotes())


class SmtpServer:
    """The server, run on its own asyncio loop in a thread; a context manager."""

    def __init__(self, mode="starttls", certs=None, cert_case="good", users=None,
                 require_auth=False, size_limit=33554432, chunking=True, faults=None,
                 maildir=None, host="127.0.0.1", port=0, hostname="smtp.test", timeout=60,
                 on_message=None, oauth=None, auth_mechanisms=None):
        if mode not in ("starttls", "implicit", "plain"):
            raise ValueError("mode must be starttls, implicit or plain")
        if mode != "plain" and certs is None:
            raise ValueError("mode %s needs certs (host.testca.make_certs)" % mode)
        self.mode = mode
        self.certs = certs
        self.cert_case = cert_case
        self.users = dict(users or {})
        self.oauth = oauth  # None, {user: token} or callable(user, token) -> bool
        self.oauth_refused = 0  # tokens refused so far
        self.auth_mechanisms = auth_mechanisms  # offer only these (e.g. ["LOGIN"]); None: all
        self.require_auth = require_auth
        self.size_limit = size_limit
        self.chunking = chunking
        self.faults = {}
        self.set_faults(faults or {})
        self.maildir = maildir
        self.host = host
        self.port = port
        self.hostname = hostname
        self.timeout = timeout
        self.on_message = on_message  # called with each Received (in the server thread)
        self.messages = []
        self.errors = []  # exceptions inside sessions (e.g. a client refusing our certificate)
        self.log = []
        self._conns = set()
        self._cond = threading.Condition()
        self._loop = None
        self._thread = None
        self._server = None
        self._box = mailbox.Maildir(maildir, create=True) if maildir else None

    # -- faults -------------------------------------------------------------
    def set_faults(self, faults):
        """Replace the fault script (see the module docstring)."""
        with_lists = {}
        for key, value in faults.items():
            key = key.split(" ", 1)
            key = key[0].upper() + ("" if len(key) == 1 else " " + key[1].lower())
            with_lists[key] = list(value) if isinstance(value, (list, tuple)) else value
        self.faults = with_lists

    def _has_fault(self, key):
        value = self.faults.get(key)
        return bool(value) if isinstance(value, list) else value is not None

    def _take_fault(self, key):
        value = self.faults.get(key)
        if isinstance(value, list):
            return value.pop(0) if value else None
        return value

    # -- delivery -------------------------------------------------------------
    async def _deliver(self, smtp, session, envelope, via):
        action = await smtp.fault("DOT")
        if action is not None and action[:1] != "2":
            if action in ("drop", "stall") or action.startswith("421"):
                await smtp.act(action)  # never returns: the connection is gone or stalled
            return action
        auth = session.auth_data
        user = auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None
        msg = Received(envelope.mail_from, envelope.rcpt_tos, envelope.original_content, user,
                       smtp.secure, envelope.mail_options, via)
        if self._box is not None:
            msg.path = os.path.join(self.maildir, "new", self._box.add(msg.data))
        if self.on_message is not None:
            self.on_message(msg)
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()
        return "250 2.0.0 OK queued as %d" % len(self.messages)

    def wait_messages(self, n, timeout=30):
        """Block until at least n messages were accepted; return the list."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise TimeoutError("server got %d of %d messages" % (len(self.messages), n))
            return list(self.messages)

    def commands(self):
        """Every line received on every connection (bytes), in order."""
        return [line for conn in self.log for line in conn["lines"]]

    def leaked(self, verbs=(b"AUTH", b"MAIL", b"RCPT", b"DATA", b"BDAT")):
        """Lines that begin with one of ``verbs`` (case-insensitive): should be []."""
        return [l for l in self.commands() if l[:4].upper() in verbs]

    # -- life cycle -------------------------------------------------------------
    def _authenticator(self, server, session, envelope, mechanism, data):
        if isinstance(data, LoginPassword):
            want = self.users.get(data.login.decode("utf-8", "replace"))
            if want is not None and hmac.compare_digest(want.encode(), data.password):
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    def _token_ok(self, user, token):
        if callable(self.oauth):
            return bool(self.oauth(user, token))
        want = (self.oauth or {}).get(user)
        return want is not None and hmac.compare_digest(want.encode(), token.encode())

    def _excluded(self):
        out = [] if self.oauth is not None else ["XOAUTH2", "OAUTHBEARER"]
        if self.auth_mechanisms is not None:
            out += [m for m in ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER")
                    if m not in self.auth_mechanisms and m not in out]
        return out

    def _factory(self):
        tls_ctx = None
        if self.mode == "starttls":
            tls_ctx = self.certs.server_context(self.cert_case)
        with warnings.catch_warnings():
            # implicit TLS: the whole connection is TLS, aiosmtpd just cannot tell
            warnings.simplefilter("ignore", UserWarning)
            return self._protocol(tls_ctx)

    def _protocol(self, tls_ctx):
        return _Protocol(
            self, _Handler(self),
            data_size_limit=self.size_limit or None,
            hostname=self.hostname,
            tls_context=tls_ctx,
            auth_required=self.require_auth,
            auth_require_tls=self.mode == "starttls",
            authenticator=self._authenticator,
            auth_exclude_mechanism=self._excluded(),
            timeout=self.timeout,
            enable_SMTPUTF8=True,
            loop=self._loop,
        )

    def start(self):
        ready = threading.Event()
        failure = []

        def main():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            ssl_ctx = self.certs.server_context(self.cert_case) if self.mode == "implicit" else None
            try:
                self._server = self._loop.run_until_complete(self._loop.create_server(
                    self._factory, host=self.host, port=self.port, ssl=ssl_ctx))
            except Exception as e:  # reported to start()
                failure.append(e)
                ready.set()
                return
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            for conn in list(self._conns):
                if conn.transport is not None:
                    conn.transport.close()
            self._loop.run_until_complete(self._server.wait_closed())
            pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=main, name="smtp-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self):
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _oauth_fields(blob, bearer):
    """(user, token) from an XOAUTH2 or OAUTHBEARER initial response; (None, None) if malformed."""
    text = blob.decode("utf-8", "replace")
    fields = text.split("\x01")
    user = token = None
    if bearer:  # RFC 7628 3.1: gs2-header "n,a=user," first
        gs2 = fields.pop(0).split(",")
        if len(gs2) < 3 or gs2[0] not in ("n", "y") or not gs2[1].startswith("a="):
            return None, None
        user = gs2[1][2:].replace("=2C", ",").replace("=3D", "=")
    for f in fields:
        if f.startswith("user=") and not bearer:
            user = f[5:]
        elif f.startswith("auth=Bearer "):
            token = f[12:]
    if not user or not token or not text.endswith("\x01\x01"):
        return None, None
    return user, token

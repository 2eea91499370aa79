"""A scripted in-memory SMTP server behind the Stream interface (for core tests).

Not a mock of the client: a small server of its own that parses the command
lines it receives, answers them in order (so PIPELINING works as on a real
server), un-stuffs DATA, counts BDAT bytes, and records the transcript, the
messages it accepted and how many turns (reads after writes) the client made.
Runs on CPython and MicroPython.

    srv = FakeServer(clock, caps=["PIPELINING", "SIZE 1000"], replies={"RCPT": ["550 5.1.1 no"]})
    s = Session(srv, clock, "board", allow_plaintext=True)

``open_session(...)`` starts a Session on a fresh FakeServer and FakeClock;
``BODY``/``chunks()`` are the small message the session tests send.
"""

from smtpmtm.errors import Timeout, TlsError
from smtpmtm.wire.session import Session
from portable import FakeClock

BODY = b"From: a@x.org\r\nTo: b@y.org\r\nSubject: hi\r\n\r\nline one\r\n.dot line\r\nend\r\n"


def chunks(body=BODY, n=17):
    """The body in n-byte pieces (a chunk boundary falls inside lines)."""
    return [body[i:i + n] for i in range(0, len(body), n)]


def open_session(caps=None, tls=True, clock=None, timeouts=None, opened=True, **kw):
    """(Session, FakeServer, FakeClock): a session to a fresh fake server, opened by default."""
    clock = clock or FakeClock()
    srv = FakeServer(clock, caps=caps, tls=tls, **kw)
    s = Session(srv, clock, "board", timeouts=timeouts)
    if opened:
        s.open()
    return s, srv, clock

BASE_CAPS = ["PIPELINING", "8BITMIME", "SIZE 1000000", "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2",
             "STARTTLS", "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"]


class FakeServer:
    def __init__(self, clock=None, caps=None, replies=None, esmtp=True, greeting="220 fake.example ESMTP",
                 tls=False, segment=0, inject=b"", tls_error=None, stall=(), drop=(), raw=None, sink=False):
        self.clock = clock
        self.caps = BASE_CAPS if caps is None else caps
        self.replies = dict(replies or {})  # VERB -> list of reply strings (consumed) / one string
        self.esmtp = esmtp
        self.is_tls = tls
        self.segment = segment  # >0: hand out replies in pieces of this many bytes
        self.inject = inject  # bytes sent right after the 220 to STARTTLS
        self.tls_error = tls_error
        self.stall = stall  # from this verb on nothing is answered (the client must time out)
        self.drop = drop  # verbs at which the server closes the connection instead of answering
        self.raw = raw  # VERB -> raw bytes to send as the reply (hostile servers)
        self.sink = sink  # keep no body (count its bytes): big messages on a small heap
        self.body_bytes = 0
        self.out = bytearray()
        self.inbuf = b""
        self.mode = "cmd"
        self.bdat_left = 0
        self.bdat_last = False
        self.closed = False
        self.lost = False
        self.log = []  # command lines received, as str
        self.wire = bytearray()  # every byte received
        self.messages = []  # (mail_from, [rcpts], body bytes)
        self.turns = 0
        self.wrote = False
        self.read_timeouts = []
        self.tx = None
        self.stalled = False
        self.auth_lines = []
        self.challenges = []
        self._send(greeting)

    # -- Stream interface ----------------------------------------------------
    def write(self, data):
        if self.closed:
            raise OSError(32, "closed")
        if self.wire is not None:  # None: do not keep a copy (big messages on a small heap)
            self.wire.extend(data)
        self.wrote = True
        if self.lost:
            return
        self.inbuf += bytes(data)
        self._process()

    def read(self, n, timeout):
        self.read_timeouts.append(timeout)
        if self.sink and len(self.read_timeouts) > 16:
            self.read_timeouts.pop(0)
        if self.wrote:
            self.turns += 1
            self.wrote = False
        if not self.out:
            if self.lost or self.closed:
                return b""
            if self.clock is not None:
                self.clock.advance(timeout)
            raise Timeout("fake read timed out")
        k = min(n, self.segment or n, len(self.out))
        data = bytes(self.out[:k])
        self.out[0:k] = b""
        return data

    def starttls(self, server_hostname):
        if self.tls_error:
            raise TlsError("fake TLS failure", code=self.tls_error)
        self.is_tls = True
        self.inbuf = b""

    def close(self):
        self.closed = True

    # -- the server ------------------------------------------------------------
    def _send(self, text):
        if self.stalled:
            return
        if isinstance(text, str):
            text = text.encode()
        self.out.extend(text)
        if not text.endswith(b"\n"):
            self.out.extend(b"\r\n")

    def _reply(self, verb, default):
        if verb in self.drop:  # close without answering
            self.lost = True
            return
        if verb in self.stall:  # answer nothing more, ever
            self.stalled = True
        if self.stalled:
            return
        if self.raw and verb in self.raw:
            self.out.extend(self.raw[verb])
            return
        r = self.replies.get(verb)
        if isinstance(r, list):
            r = r.pop(0) if r else None
        self._send(r if r is not None else default)

    def _process(self):
        while not self.lost:
            if self.mode == "data":
                i = self.inbuf.find(b"\r\n.\r\n")
                if self.inbuf.startswith(b".\r\n"):
                    i = -2
                if i == -1:
                    if self.sink and len(self.inbuf) > 8:
                        self.body_bytes += len(self.inbuf) - 4
                        self.inbuf = self.inbuf[-4:]
                    return
                raw = self.inbuf[: i + 2] if i >= 0 else b""
                self.inbuf = self.inbuf[i + 5:]
                if raw.startswith(b".") and not self.sink:  # sink: counts wire bytes
                    raw = raw[1:]
                self.body_bytes += len(raw)
                self.tx[2] = b"" if self.sink else raw.replace(b"\r\n.", b"\r\n")
                self.mode = "cmd"
                self._end_message("DOT")
                continue
            if self.mode == "bdat":
                k = min(self.bdat_left, len(self.inbuf))
                if self.tx is not None:
                    if self.sink:
                        self.body_bytes += k
                    else:
                        self.tx[2].extend(self.inbuf[:k])
                self.inbuf = self.inbuf[k:]
                self.bdat_left -= k
                if self.bdat_left:
                    return
                self.mode = "cmd"
                if self.tx is None or not self.tx[1]:
                    self._send("503 5.5.1 no transaction")  # RFC 3030: data read and discarded
                    self.tx = None
                elif self.bdat_last:
                    self._end_message("BDATL")
                elif self._ok("BDAT"):
                    self._reply("BDAT", "250 2.0.0 chunk ok")
                else:
                    self._reply("BDAT", "")
                    self.tx = None
                continue
            i = self.inbuf.find(b"\r\n")
            if i < 0:
                return
            line = self.inbuf[:i].decode()
            self.inbuf = self.inbuf[i + 2:]
            self.log.append(line)
            if self.sink and len(self.log) > 16:
                self.log.pop(0)
            self._command(line)

    def _peek(self, verb):
        r = self.replies.get(verb)
        if isinstance(r, list):
            return r[0] if r else None
        return r

    def _ok(self, verb, cls="2"):
        r = self._peek(verb)
        return r is None or str(r)[0] == cls

    def _end_message(self, verb):
        if self.tx and self.tx[0] is not None and self.tx[1]:
            if self._ok(verb):
                self.messages.append((self.tx[0], list(self.tx[1]), bytes(self.tx[2])))
            self._reply(verb, "250 2.0.0 queued as 1")
        else:
            self._reply("NOTX", "554 5.5.1 no valid recipients")
        self.tx = None

    def _command(self, line):
        verb = line.split(" ", 1)[0].upper()
        if self.mode == "auth":
            self.auth_lines.append(line)
            if self.challenges:
                self._send("334 " + self.challenges.pop(0))
            else:
                self.mode = "cmd"
                self._reply("AUTH", "235 2.7.0 ok")
            return
        if verb == "EHLO":
            if not self.esmtp:
                self._reply("EHLO", "502 5.5.2 what")
                return
            caps = [c for c in self.caps if c != "STARTTLS" or not self.is_tls]
            lines = ["fake.example hello"] + caps
            text = "".join("250%s%s\r\n" % ("-" if k < len(lines) - 1 else " ", t) for k, t in enumerate(lines))
            self._reply("EHLO", text)
        elif verb == "HELO":
            self._reply("HELO", "250 fake.example")
        elif verb == "STARTTLS":
            ok = self._ok("STARTTLS")
            self._reply("STARTTLS", "220 2.0.0 go ahead")
            if self.inject and ok:
                self.out.extend(self.inject)
        elif verb == "AUTH":
            parts = line.split(" ")
            self.auth_lines.append(line)
            mech = parts[1].upper()
            self.challenges = {"LOGIN": ["VXNlcm5hbWU6", "UGFzc3dvcmQ6"],
                               "CRAM-MD5": ["PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"]
                               }.get(mech, [""])
            if len(parts) > 2:
                self.challenges = []
            if self.challenges:
                self.mode = "auth"
                self._send("334 " + self.challenges.pop(0))
            else:
                self._reply("AUTH", "235 2.7.0 ok")
        elif verb == "MAIL":
            self.tx = [line[11:].split(">")[0], [], bytearray()] if self._ok("MAIL") else None
            self._reply("MAIL", "250 2.1.0 ok")
        elif verb == "RCPT":
            if self.tx is None:
                self._send("503 5.5.1 need MAIL")
                return
            if self._ok("RCPT"):
                self.tx[1].append(line[9:].split(">")[0])
            self._reply("RCPT", "250 2.1.5 ok")
        elif verb == "DATA":
            if self.tx is None or not self.tx[1]:
                self._send("554 5.5.1 no valid recipients")
                return
            if self._ok("DATA", "3"):
                self.mode = "data"
            else:
                self.tx = None
            self._reply("DATA", "354 go ahead")
        elif verb == "BDAT":
            parts = line.split(" ")
            self.bdat_left = int(parts[1])
            self.bdat_last = len(parts) > 2 and parts[2].upper() == "LAST"
            self.mode = "bdat"
        elif verb == "RSET":
            self.tx = None
            self._reply("RSET", "250 2.0.0 ok")
        elif verb == "NOOP":
            self._reply("NOOP", "250 2.0.0 ok")
        elif verb == "QUIT":
            self._reply("QUIT", "221 2.0.0 bye")
            self.lost = True
        else:
            self._send("500 5.5.1 unknown command")

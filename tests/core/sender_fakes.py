"""Fakes for the sender's core tests (both interpreters): a scripted in-memory SMTP server.

``FakeServer(faults={...})`` plays the server side of a Stream: ``srv.connect``
has host/net.connect's signature and returns a ``FakeStream``. Fault keys as in
host/server.py: GREETING, EHLO, MAIL, RCPT, "RCPT <addr>", DATA, BDAT, DOT, RSET, QUIT,
plus "DATA_BYTES" (drop after that many body bytes). Actions: a reply line,
"drop" (connection closed) or "stall" (no answer: the read deadline fires).
A list value gives one action per occurrence.

``FakeServer(tls=...)`` plays TLS as host/net.py reports it: "ok" offers STARTTLS and
upgrades; a code (e.g. "tls-unknown-ca") offers STARTTLS, answers it 220 and then fails
the handshake with TlsError(code), and fails an implicit-TLS connect the same way (the
certificate cases against a real TLS server: tests/host/test_sender_outcomes.py).

``FakeServer(slow=k, clock=clock)`` hands out streams with ``ready(ms)``: what the server
says after each write (and its greeting) shows only at the k+1st look, and each look that
finds nothing moves ``clock`` by its ``ms`` (a server slow to greet or to take a message;
with "stall" nothing ever shows). ``srv.looks`` counts the looks that found nothing.

``FakeServer(tokens={user: token})`` also offers AUTH XOAUTH2 and OAUTHBEARER and
answers them as host/server.py does (a refused token: a 334 JSON challenge, then
535 5.7.8 after the client's answer); ``srv.auths`` lists (mechanism, user, token).
"""

import binascii

from smtpmtm.errors import ConnectionLost, Timeout, TlsError
from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.store.tree import Store
from smtpmtm.settings import SmtpSettings
from portable import tmpdir


class FakeServer:
    def __init__(self, faults=None, pipelining=True, chunking=False, tokens=None, tls=None, slow=None,
                 clock=None):
        self.faults = dict(faults or {})
        self.slow = slow  # None: streams without ready() (a read waits as long as it must)
        self.clock = clock
        self.looks = 0
        self.tls = tls  # None: no TLS; "ok"; or the TlsError code the handshake fails with
        self.handshakes = 0
        self.tokens = tokens  # None: no AUTH offered; else {user: valid access token}
        self.auths = []
        self.pipelining = pipelining
        self.chunking = chunking
        self.messages = []  # (mail_from, [rcpts], data bytes)
        self.commands = []
        self.connections = 0
        self.streams = []

    def take(self, key):
        if key not in self.faults:
            return None
        a = self.faults[key]
        if isinstance(a, list):
            if not a:
                return None
            a = a.pop(0)
        return a

    def handshake(self):
        """A TLS handshake: fails as the server's TLS case says (a certificate that does
        not verify, no TLS at all)."""
        self.handshakes += 1
        if self.tls != "ok":
            raise TlsError("fake: TLS handshake failed (%s)" % self.tls, self.tls)

    def connect(self, host, port, tls=None, cafile=None, server_hostname=None, timeout=None):
        self.connections += 1
        a = self.take("CONNECT")
        if a == "refuse":
            raise ConnectionLost("fake: connection refused")
        implicit = tls == "implicit" and self.tls is not None  # (tls None: a plain stream, as ever)
        if implicit:
            self.handshake()
        s = FakeStream(self) if self.slow is None else SlowStream(self)
        s.is_tls = implicit
        self.streams.append(s)
        return s


class FakeStream:
    is_tls = False

    def __init__(self, srv):
        self.srv = srv
        self.inb = b""
        self.out = b""
        self.dead = False
        self.stalled = False
        self.closed = False
        self.mode = "cmd"
        self.need = 0
        self.last = False
        self.data = b""
        self.env = None
        self.rcpts = []
        self.body_bytes = 0
        self.auth = None  # the mechanism while AUTH waits for a client line
        self.act("GREETING", "220 fake.example ESMTP")

    def act(self, key, normal):
        """Answer normally (True), or as the script says: a reply, "drop" or "stall"."""
        a = self.srv.take(key)
        if a is None or a[:1] == "2":
            self.out += (a or normal).encode() + b"\r\n"
            return True
        if a == "drop":
            self.dead = True
            return False
        if a == "stall":
            self.stalled = True
            return False
        self.out += a.encode() + b"\r\n"
        return False

    def write(self, data):
        if self.dead or self.closed:
            raise ConnectionLost("fake: connection closed")
        if self.stalled:
            return
        self.inb += bytes(data)
        self.process()

    def read(self, max_bytes, timeout_s=None):
        if self.out:
            d = self.out[:max_bytes]
            self.out = self.out[max_bytes:]
            return d
        if self.dead or self.closed:
            return b""
        raise Timeout("fake: no reply within %s s" % timeout_s)

    def starttls(self, server_hostname=None):
        if self.srv.tls is None:
            raise ConnectionLost("fake: no TLS")
        self.srv.handshake()
        self.is_tls = True

    def close(self):
        self.closed = True

    def body(self, n):
        lim = self.srv.faults.get("DATA_BYTES")
        if lim is not None and self.body_bytes + n > lim:
            self.dead = True
            return False
        self.body_bytes += n
        return True

    def process(self):
        while not (self.dead or self.stalled):
            if self.mode == "data":
                if not self.body(len(self.inb)):
                    return
                start = max(0, len(self.data) - 4)
                self.data += self.inb
                self.inb = b""
                i = -2 if self.data[:3] == b".\r\n" else self.data.find(b"\r\n.\r\n", start)
                if i < 0:
                    return
                self.inb = self.data[i + 5 :]
                self.mode = "cmd"
                self.finish(self.data[: i + 2].replace(b"\r\n..", b"\r\n."))
                continue
            if self.mode == "bdat":
                if len(self.inb) < self.need:
                    return
                self.data += self.inb[: self.need]
                self.inb = self.inb[self.need :]
                self.mode = "cmd"
                if self.last:
                    self.finish(self.data)
                else:
                    self.act("BDAT", "250 2.0.0 chunk ok")
                continue
            i = self.inb.find(b"\r\n")
            if i < 0:
                return
            line = self.inb[:i].decode()
            self.inb = self.inb[i + 2 :]
            if self.auth is not None:
                self.auth_line(line)
            else:
                self.command(line)

    def auth_line(self, line):
        mech, self.auth = self.auth, None
        if mech.startswith("!"):  # the client's answer to our error challenge
            self.out += b"535 5.7.8 Username and Password not accepted\r\n"
        else:
            self.auth_check(mech, line)

    def auth_check(self, mech, b64):
        blob = binascii.a2b_base64(b64).decode()
        parts = blob.split("\x01")
        user = token = None
        for p in parts:
            if p.startswith("user="):
                user = p[5:]
            elif p.startswith("n,a="):
                user = p[4:-1]
            elif p.startswith("auth=Bearer "):
                token = p[12:]
        self.srv.auths.append((mech, user, token))
        if token is not None and self.srv.tokens.get(user) == token:
            self.out += b"235 2.7.0 Accepted\r\n"
            return
        self.out += b"334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n"
        self.auth = "!" + mech

    def finish(self, data):
        if self.act("DOT", "250 2.0.0 queued as %d" % len(self.srv.messages)):
            if self.rcpts:
                self.srv.messages.append((self.env, list(self.rcpts), data))
        self.env = None
        self.rcpts = []
        self.data = b""

    def command(self, line):
        self.srv.commands.append(line)
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            caps = ["250-fake.example", "250-8BITMIME", "250-SIZE 10000000"]
            if self.srv.pipelining:
                caps.append("250-PIPELINING")
            if self.srv.chunking:
                caps.append("250-CHUNKING")
            if self.srv.tls is not None and not self.is_tls:
                caps.append("250-STARTTLS")
            if self.srv.tokens is not None:
                caps.append("250-AUTH PLAIN XOAUTH2 OAUTHBEARER")
            caps.append("250 SMTPUTF8")
            self.act("EHLO", "\r\n".join(caps))
        elif verb == "HELO":
            self.act("HELO", "250 fake.example")
        elif verb == "MAIL":
            if self.act("MAIL", "250 2.1.0 ok"):
                self.env = line[10:].split(">")[0].lstrip("<")
        elif verb == "RCPT":
            addr = line[8:].split(">")[0].lstrip("<")
            key = "RCPT " + addr
            if self.env is None:
                self.out += b"503 5.5.1 need MAIL first\r\n"
                return
            ok = self.act(key, "250 2.1.5 ok") if key in self.srv.faults else self.act("RCPT", "250 2.1.5 ok")
            if ok:
                self.rcpts.append(addr)
        elif verb == "DATA":
            if not self.rcpts:
                self.out += b"554 5.5.1 no valid recipients\r\n"
            elif self.act("DATA", "354 go ahead"):
                self.mode = "data"
                self.data = b""
        elif verb == "BDAT":
            w = line.split(" ")
            self.need = int(w[1])
            self.last = len(w) > 2 and w[2].upper() == "LAST"
            self.mode = "bdat"
        elif verb == "RSET":
            self.env = None
            self.rcpts = []
            self.act("RSET", "250 2.0.0 ok")
        elif verb == "AUTH" and self.srv.tokens is not None:
            w = line.split(" ")
            a = self.srv.take("AUTH")
            if a is not None:  # a scripted fault: a reply, "drop" or "stall"
                self.dead, self.stalled = a == "drop", a == "stall"
                if not (self.dead or self.stalled):
                    self.out += a.encode() + b"\r\n"
                return
            if len(w) > 2:
                self.auth_check(w[1].upper(), w[2])
            else:
                self.out += b"334 \r\n"
                self.auth = w[1].upper()
        elif verb == "STARTTLS":
            self.act("STARTTLS", "220 2.0.0 ready for TLS")
        elif verb == "NOOP":
            self.out += b"250 ok\r\n"
        elif verb == "QUIT":
            if self.act("QUIT", "221 bye"):
                self.closed = True
        else:
            self.out += b"502 5.5.2 unknown\r\n"


SERVICE = 0x100


def settings(**kw):
    d = dict(server="smtp.example.com", port=25, email_address="pump@example.com",
             alias="Pump House", allow_plaintext=True, max_attempts=3, backoff_base_s=60,
             backoff_max_s=3600)
    d.update(kw)
    return SmtpSettings(**d)


def new_store():
    st = Store(tmpdir("snd"))
    return st


def client_for(st, clock, name="pump", **kw):
    """(accounts, account, client): a default account ``name`` with settings(**kw), and the
    Client that composes and queues for it (imported here: most sender tests need neither)."""
    from smtpmtm.accounts import Accounts
    from smtpmtm.client.mtm import Client

    accts = Accounts(st)
    acct = accts.create(name, settings(**kw))
    accts.set_default(acct)
    return accts, acct, Client(st, accts, clock)


def queue(st, to=("ann@example.com",), cc=(), bcc=(), subject="hello", text=b"Pressure low\r\n",
          state=E.SEND_WAITING, n=1, service=SERVICE, date=1732790000):
    """Put a message into the Outbox as the client would (Message-ID and Date fixed)."""
    h = M.new_header()
    h["to"] = [("", a) for a in to]
    h["cc"] = [("", a) for a in cc]
    h["bcc"] = [("", a) for a in bcc]
    h["subject"] = subject
    h["message_id"] = "<m%d.%d@example.com>" % (date, n)
    h["date"] = date
    h["text"] = "text"
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=service, mtm=E.MTM_SMTP,
                description=subject, details=(to or bcc)[0])
    e.sending_state = state
    return st.create(e, parts={"header": M.header_chunks(h), "text": [text]})


class SlowStream(FakeStream):
    """A FakeStream with ready(ms), for FakeServer(slow=k): see the module's docstring."""

    def __init__(self, srv):
        self.hold = srv.slow  # empty looks before what is there shows
        FakeStream.__init__(self, srv)

    def write(self, data):
        FakeStream.write(self, data)
        self.hold = self.srv.slow

    def ready(self, ms):
        if (self.out and self.hold <= 0) or self.dead or self.closed:
            return True
        self.hold -= 1
        self.srv.looks += 1
        if self.srv.clock is not None:
            self.srv.clock.advance(ms / 1000)
        return False

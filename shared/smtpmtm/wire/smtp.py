"""Sans-I/O SMTP client protocol (h11 style): bytes in, events out, bytes to send.

No sockets and no clock: the driver (``session.Session`` or an async one) feeds
received bytes to ``receive_data()``, takes events from ``next_event()`` (an
``Event`` per server reply, or ``NEED_DATA``), writes ``data_to_send()`` and
asks ``deadline(now)`` when it must give up waiting (``now`` whole seconds, an int:
the deadline is then an int too).  Commands are queued with
``ehlo() helo() starttls() auth() mail() rcpt() data() body() end_body() bdat()
rset() noop() quit()``; several may be queued before any reply (RFC 2920
PIPELINING): replies are matched to commands in order.  After the 220 to
STARTTLS (an Event of kind "upgrade") the driver upgrades the stream and calls
``tls_started()``.  ``pieces_to_send()`` gives the output unjoined (bounded
RAM); ``choose_auth()`` picks the SASL mechanism (auth.choose).

All protocol state is the data in ``_T`` and ``_R`` (state x command or reply
-> state); ``ERROR`` is a state nothing leaves (a malformed reply, STARTTLS
injection, a timeout or a lost connection told through ``fail()``).  A 421
reply anywhere moves to ``CLOSED`` (RFC 5321 section 3.8: the server is
closing). ``rset_owed`` tells the driver the server may still hold a mail
transaction (MAIL sent, no 2xx to its final dot yet, or an RSET asked for): it
sends RSET before the next one.

The command lines: ``check_line_safe`` refuses anything that could break a
command line (CR, LF, NUL, "<", ">": no command injection), ``mail_line()`` and
``rcpt_line()`` build MAIL/RCPT with the parameters the server offers (RFC 1870
SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN) and raise InputError
before anything is sent when the message cannot go (size over the limit,
8BITMIME or SMTPUTF8 needed and not offered); ``parse_capabilities`` reads an
EHLO reply (RFC 5321 4.1.1.1).

RFCs: 5321 (SMTP; 4.5.3.2 timeouts, 4.5.3.1 size limits), 1869/5321 EHLO with
HELO fallback, 3207 (STARTTLS), 4954 (AUTH), 2920 (PIPELINING), 3030
(CHUNKING/BDAT), 1870 (SIZE), 6152 (8BITMIME), 6531 (SMTPUTF8), 3461 (DSN),
2034/3463 (enhanced status codes).

Example::

    c = Client("board")
    c.receive_data(b"220 mx ESMTP\\r\\n")
    ev = c.next_event()            # Event GREET 220
    c.ehlo(); wire = c.data_to_send()   # b"EHLO board\\r\\n"
    parse_capabilities(["mx hello", "SIZE 1000", "8BITMIME"])   # {"SIZE": 1000, "8BITMIME": []}
"""

import binascii

from ..compat import const, is_ascii
from ..errors import InputError, ProtocolError, TlsError
from .dotstuff import Encoder
from .replies import ReplyParser

NEED_DATA = "NEED_DATA"

# RFC 5321 4.5.3.2 defaults, seconds.  "command" covers EHLO, STARTTLS, AUTH, RSET.
# "quit" is ours: the mail is delivered by then and the reply changes nothing, so a
# connection that died silently (a cellular NAT after a long body) is not waited for 5 minutes.
TIMEOUTS = {"greeting": 300, "command": 300, "mail": 300, "rcpt": 300, "data": 120,
            "block": 180, "dot": 600, "quit": 10}
_TIMEOUT_OF = {"GREET": "greeting", "MAIL": "mail", "RCPT": "rcpt", "DATA": "data",
               "BDAT": "block", "DOT": "dot", "BDATL": "dot", "QUIT": "quit"}

# The transition table, as two dicts.  _T[STATE][CMD]: the state after sending CMD in
# STATE (a command with no entry is refused).  _R[CMD]: the state a reply to CMD is
# awaited in, then the states after a 2xx, a 3xx and a 4xx/5xx reply ("-": the state
# stays; a reply in another state, or to a command with no entry, leaves it too).
_T = {
    "REFUSED": {"QUIT": "QUIT"},
    "GREETED": {"EHLO": "EHLO", "HELO": "HELO", "QUIT": "QUIT"},
    "READY": {"EHLO": "EHLO", "STARTTLS": "STARTTLS", "AUTH": "AUTH", "MAIL": "MAIL",
              "RSET": "READY", "NOOP": "READY", "QUIT": "QUIT"},
    "UPGRADE": {"TLSOK": "GREETED"},  # RFC 3207 4.2: forget everything, EHLO again
    "MAIL": {"RCPT": "MAIL", "DATA": "DATA", "BDAT": "BDAT", "BDATL": "DOT", "RSET": "READY",
             "QUIT": "QUIT"},
    "BODY": {"DOT": "DOT"},
    "BDAT": {"BDAT": "BDAT", "BDATL": "DOT", "RSET": "READY", "QUIT": "QUIT"},
}
_R = {
    "GREET": ("CONNECT", "GREETED", "REFUSED", "REFUSED"),
    "EHLO": ("EHLO", "READY", "GREETED", "GREETED"),
    "HELO": ("HELO", "READY", "GREETED", "GREETED"),
    "STARTTLS": ("STARTTLS", "UPGRADE", "READY", "READY"),
    "AUTH": ("AUTH", "READY", "-", "READY"),  # a 3xx is the next SASL challenge
    "MAIL": ("MAIL", "-", "READY", "READY"),
    "DATA": ("DATA", "READY", "BODY", "READY"),
    "DOT": ("DOT", "READY", "READY", "READY"),
    "BDAT": ("BDAT", "-", "READY", "READY"),  # RFC 3030 2: no BDAT after a failed one
    "BDATL": ("DOT", "READY", "READY", "READY"),
    "QUIT": ("QUIT", "CLOSED", "CLOSED", "CLOSED"),
}

_MAX_LINE = const(512)  # RFC 5321 4.5.3.1.4: command line incl. CRLF
_MAX_AUTH_STEPS = const(6)


class Event:
    """A server reply matched to the command it answers.

    ``command``: GREET, EHLO, HELO, STARTTLS, AUTH, MAIL, RCPT, DATA, DOT (the
    final reply after the body), BDAT, BDATL (BDAT ... LAST), RSET, NOOP, QUIT
    or UNSOLICITED; ``reply`` the replies.Reply with its ``code``, ``enhanced``
    and ``text``; ``arg`` the address for MAIL/RCPT; ``kind`` is "upgrade" for
    the 220 to STARTTLS (call ``stream.starttls()`` then ``tls_started()``).
    """

    def __init__(self, command, reply, arg=None, kind="reply"):
        self.command = command
        self.reply = reply
        self.code = reply.code
        self.enhanced = reply.enhanced
        self.text = reply.text
        self.arg = arg
        self.kind = kind

    def ok(self):
        return 200 <= self.code < 300

    def __repr__(self):
        return "Event(%s %d %s)" % (self.command, self.code, self.arg or "")


def check_line_safe(addr):
    """Refuse an address that could break the command line (CR, LF, NUL, <, >)."""
    if not isinstance(addr, str):
        raise InputError("address must be a str: %r" % (addr,), "address")
    for ch in addr:
        o = ord(ch)
        if o < 32 or o == 127 or ch in "<>":
            raise InputError("bad character in address %r" % addr, "address")
    if len(addr.encode()) > 254:  # RFC 5321 4.5.3.1.3: path <= 256 octets incl. <>
        raise InputError("address too long", "address")


def _need(caps, ext, why):
    """InputError (nothing queued) when extension ``ext`` is needed and not offered: code
    "8bitmime-not-offered" or "smtputf8-not-offered" (errors.CODES)."""
    if ext not in caps:
        raise InputError("the message needs %s%s and the server does not offer it" % (ext, why),
                         ext.lower() + "-not-offered")


def parse_capabilities(lines):
    """EHLO reply lines (first is the greeting) -> dict keyword -> params.

    SIZE -> int (0 = no limit announced), AUTH -> list of mechanisms (also the
    old "AUTH=" form), every other keyword -> list of its parameters.
    """
    caps = {}
    for line in lines[1:]:
        words = line.split()
        if not words:
            continue
        key = words[0].upper()
        params = words[1:]
        if key.startswith("AUTH="):
            params.insert(0, key[5:])
            key = "AUTH"
        if key == "SIZE":
            caps[key] = int(params[0]) if params and params[0].isdigit() else 0
        elif key == "AUTH":
            mechs = caps.setdefault(key, [])
            for p in params:
                p = p.upper()
                if p not in mechs:
                    mechs.append(p)
        else:
            caps[key] = params
    return caps


_AS_READ = {"DOT": "the final dot", "BDATL": "BDAT LAST", "GREET": "the greeting"}  # waiting_for


class Client:
    def __init__(self, hostname="localhost", timeouts=None):
        check_line_safe(hostname)
        if " " in hostname or not hostname:
            raise InputError("bad EHLO host name %r" % hostname, "hostname")
        self.hostname = hostname
        self.timeouts = dict(TIMEOUTS)
        if timeouts:
            self.timeouts.update(timeouts)
        self.parser = ReplyParser()
        self.state = "CONNECT"
        self.capabilities = {}
        self.tls = False
        self.error = None
        self._pending = [("GREET", None)]
        self._out = []
        self._since = None
        self._mech = None
        self._auth_initial = None
        self._auth_steps = 0
        self._enc = None
        self.rset_owed = False  # a transaction may be open on the server side

    # -- bookkeeping -------------------------------------------------------
    def fail(self, exc):
        """Move to ERROR (nothing leaves it) and return exc for the caller to raise."""
        if self.state != "ERROR":
            self.state = "ERROR"
            self.error = exc
            self._out = []
            self._pending = []
        return self.error

    def _queue(self, name, line, arg=None):
        if self.state == "ERROR":
            raise self.error
        new = _T.get(self.state, {}).get(name)
        if not new:
            raise InputError("cannot send %s in state %s" % (name, self.state), "state")
        self.state = new
        if line:
            wire = line.encode() + b"\r\n"
            if len(wire) > _MAX_LINE:
                raise InputError("command line longer than 512 octets", "line-too-long")
            self._out.append(wire)
        self._pending.append((name, arg))
        self._since = None

    @property
    def waiting_for(self):
        """The command whose reply is awaited next, as a person reads it (for error texts:
        "BDAT LAST", "the final dot", "the greeting", not the table's BDATL/DOT/GREET), or None."""
        cmd = self._pending[0][0] if self._pending else None
        return _AS_READ.get(cmd, cmd)

    @property
    def pending(self):
        """Number of replies still expected."""
        return len(self._pending)

    def reply_timeout(self):
        """Seconds allowed for the reply awaited next (its RFC 5321 4.5.3.2 timeout)."""
        return self.timeouts[_TIMEOUT_OF.get(self._pending[0][0], "command")]

    def deadline(self, now):
        """Absolute time (``now``'s unit, whole seconds) by which the next expected reply
        must be complete, or None."""
        if not self._pending:
            return None
        if self._since is None:
            self._since = now
        return self._since + self.reply_timeout()

    # -- I/O ---------------------------------------------------------------
    def receive_data(self, data):
        if self.state == "ERROR":
            raise self.error
        if self.state == "UPGRADE" and data:
            # RFC 3207 4.2 / CVE-2011-0411: plaintext after the 220 is an injection
            raise self.fail(TlsError("data received after 220 to STARTTLS (injection)", "tls-injection"))
        self.parser.feed(data)

    def pieces_to_send(self):
        """What is queued, as a list of pieces, so big body pieces are never copied
        into one buffer (bounded RAM)."""
        out = self._out
        self._out = []
        return out

    def data_to_send(self):
        """What is queued, as one bytes."""
        out = self.pieces_to_send()
        return out[0] if len(out) == 1 else b"".join(out)

    def next_event(self):
        """The next Event, or NEED_DATA when a reply is incomplete."""
        while True:
            if self.state == "ERROR":
                raise self.error
            try:
                r = self.parser.next()
            except ProtocolError as e:
                raise self.fail(e)
            if r is None:
                return NEED_DATA
            code = r.code
            if not self._pending:
                if code == 421:
                    self.state = "CLOSED"
                    return Event("UNSOLICITED", r)
                raise self.fail(ProtocolError("unexpected reply %d with no command pending" % code))
            cmd, arg = self._pending.pop(0)
            self._since = None
            if code == 421:  # RFC 5321 3.8: service closing; nothing more will be answered
                self.state = "CLOSED"
                self._pending = []
                return Event(cmd, r, arg)
            k = 1 if code < 300 else 2 if code < 400 else 3  # 2xx, 3xx, 4xx/5xx: _R's column
            if cmd == "AUTH" and k == 2 and self.state == "AUTH":
                self._auth_step(r)
                continue
            row = _R.get(cmd)
            if row and row[0] == self.state and row[k] != "-":
                self.state = row[k]
            if cmd == "EHLO":
                if k == 1:
                    self.capabilities = parse_capabilities(r.lines)
                elif code in (500, 502):
                    self.helo()  # RFC 5321 3.2: fall back to HELO
                    continue
            elif cmd == "HELO" and k == 1:
                self.capabilities = {}
            elif cmd == "AUTH":
                self._mech = None
            elif cmd == "STARTTLS" and k == 1:
                if self.parser.buffered():
                    raise self.fail(TlsError("data pipelined after 220 to STARTTLS (injection)",
                                             "tls-injection"))
                return Event(cmd, r, arg, "upgrade")
            elif cmd == "DATA" and k == 2:
                self._enc = Encoder(True)
            elif (cmd == "DOT" or cmd == "BDATL") and k == 1:
                self.rset_owed = False  # the transaction is complete
            return Event(cmd, r, arg)

    # -- commands ----------------------------------------------------------
    def ehlo(self):
        self._queue("EHLO", "EHLO " + self.hostname)

    def helo(self):
        self._queue("HELO", "HELO " + self.hostname)

    def starttls(self):
        self._queue("STARTTLS", "STARTTLS")
        self.rset_owed = False  # RFC 3207 4.2: the server resets its state anyway

    def tls_started(self):
        """The driver upgraded the stream: forget all state learnt before (RFC 3207 4.2)."""
        if self.state != "UPGRADE":
            raise InputError("tls_started() outside UPGRADE", "state")
        self.state = _T["UPGRADE"]["TLSOK"]
        self.parser.reset()
        self._out = []
        self.capabilities = {}
        self.tls = True

    def auth(self, mech):
        """Start AUTH with a mechanism object from smtpmtm.wire.auth (RFC 4954)."""
        init = mech.initial()
        line = "AUTH " + mech.name
        self._auth_initial = None
        if init is not None:
            b64 = _b64(init)
            # RFC 4954 4: no initial response if the command would pass 512 octets
            if len(line) + len(b64) + 3 <= _MAX_LINE:
                line += " " + (b64 or "=")
            else:
                self._auth_initial = init
        self._queue("AUTH", line)
        self._mech = mech
        self._auth_steps = 0

    def _auth_step(self, r):
        self._auth_steps += 1
        if self._auth_steps > _MAX_AUTH_STEPS:
            raise self.fail(ProtocolError("too many AUTH challenges"))
        resp = self._auth_initial
        if resp is not None:
            self._auth_initial = None
        else:
            try:
                ch = binascii.a2b_base64(r.text.strip())
            except ValueError:
                raise self.fail(ProtocolError("AUTH challenge is not base64"))
            resp = self._mech.step(ch)
        self._out.append(_b64(resp).encode() + b"\r\n")
        self._pending.append(("AUTH", None))
        self._since = None

    def mail(self, addr, size=None, body8=False, smtputf8=False, ret=None, envid=None):
        """MAIL FROM with the ESMTP parameters the server offers (RFC 1870, 6152, 6531, 3461)."""
        self._queue("MAIL", self.mail_line(addr, size, body8, smtputf8, ret, envid), addr)
        self.rset_owed = True  # until the final reply accepts the message

    def mail_line(self, addr, size=None, body8=False, smtputf8=False, ret=None, envid=None):
        """The MAIL command line; raises InputError (nothing queued) if it cannot be sent."""
        caps = self.capabilities
        check_line_safe(addr)
        line = "MAIL FROM:<%s>" % addr
        if size is not None and "SIZE" in caps:
            if caps["SIZE"] and size > caps["SIZE"]:
                # RFC 1870 6: do not send a message larger than the announced limit
                raise InputError("message of %d bytes is over the server's SIZE %d" % (size, caps["SIZE"]),
                                 "size-exceeded")
            line += " SIZE=%d" % size
        if body8:
            _need(caps, "8BITMIME", "")
            line += " BODY=8BITMIME"
        if smtputf8 or not is_ascii(addr):
            _need(caps, "SMTPUTF8", " (non-ASCII address)")
            line += " SMTPUTF8"
        if "DSN" in caps:
            if ret:
                ret = ret.upper()
                if ret not in ("FULL", "HDRS"):
                    raise InputError("DSN RET must be FULL or HDRS", "dsn")
                line += " RET=" + ret
            if envid:
                line += " ENVID="  # RFC 3461 4: as xtext
                for b in envid.encode():
                    line += chr(b) if 33 <= b <= 126 and b != 43 and b != 61 else "+%02X" % b
        return line

    def rcpt(self, addr, notify=None):
        self._queue("RCPT", self.rcpt_line(addr, notify), addr)

    def rcpt_line(self, addr, notify=None):
        """The RCPT command line; raises InputError (nothing queued) if it cannot be sent."""
        caps = self.capabilities
        check_line_safe(addr)
        if not is_ascii(addr):
            _need(caps, "SMTPUTF8", " (non-ASCII recipient %s)" % addr)
        line = "RCPT TO:<%s>" % addr
        if notify and "DSN" in caps:
            n = notify.upper().replace(" ", "")
            for w in n.split(","):
                if w not in ("NEVER", "SUCCESS", "FAILURE", "DELAY"):
                    raise InputError("bad DSN NOTIFY %r" % notify, "dsn")
            line += " NOTIFY=" + n
        return line

    def data(self):
        self._queue("DATA", "DATA")

    def body(self, chunk):
        """Queue a body chunk after 354: CRLF-normalised and dot-stuffed."""
        if self.state != "BODY":
            raise InputError("body outside DATA", "state")
        out = self._enc.feed(chunk)
        if out:
            self._out.append(out)

    def end_body(self):
        """Queue the end of the body and the terminating ".CRLF" (RFC 5321 4.1.1.4)."""
        if self.state != "BODY":
            raise InputError("end_body outside DATA", "state")
        self._out.append(self._enc.end())
        self._enc = None
        self._queue("DOT", None)

    def bdat(self, data, last=False):
        """Queue "BDAT n [LAST]" and exactly these bytes (RFC 3030 2; already CRLF-normalised).
        ``data`` is bytes or a list of bytes pieces (not joined: no extra copy)."""
        parts = data if isinstance(data, list) else [data]
        n = 0
        for p in parts:
            n += len(p)
        self._queue("BDATL" if last else "BDAT", "BDAT %d%s" % (n, " LAST" if last else ""))
        for p in parts:
            if p:
                self._out.append(p)

    def rset(self):
        self._queue("RSET", "RSET")
        self.rset_owed = False

    def noop(self):
        self._queue("NOOP", "NOOP")

    def quit(self):
        self._queue("QUIT", "QUIT")

    def choose_auth(self, user, password=None, token=None, mechanisms=None):
        """The best offered SASL mechanism (see auth.choose); imported lazily to save RAM."""
        from . import auth

        return auth.choose(self.capabilities.get("AUTH"), self.tls, user, password, token, mechanisms)


def _b64(data):
    return binascii.b2a_base64(data, newline=False).decode() if data else ""

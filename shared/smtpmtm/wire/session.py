"""SMTP session: runs the sans-I/O ``smtp.Client`` over a Stream, blocking or step by step.

A Stream has ``write(data)``, ``read(max_bytes, timeout_s)`` (b"" = closed,
raises errors.Timeout), ``starttls(server_hostname)``, ``is_tls``, ``close()``
and, optionally, ``ready(ms)``: True once a read would not wait, after waiting up
to ``ms`` milliseconds (host/net.py, device/smtpmtm_board/net.py, or a test fake).  ``clock()`` returns
whole seconds as an int (a board's single-precision float holds a Unix time only
to 128 s); every wait gets the whole seconds left before the command's deadline
(RFC 5321 4.5.3.2 defaults, configurable with ``timeouts``).

Step by step: ``opening()``, ``starting_tls()``, ``logging_in()``, ``sending()`` and
``quitting()`` are generators that do what ``open()``, ``starttls()``, ``login()``,
``send_message()`` and ``quit()`` do (those drive them to their end) and yield 0 after each piece
of a body written and, over a Stream with ``ready()``, after each look of up to
20 ms for a reply that has not come: the send engine gives the board's REPL and
main.py a turn in between, also while a server is slow to greet or to take a
message. Only the connect and the TLS handshake still block.

Policy: AUTH and MAIL are refused over a stream that is not TLS unless
``allow_plaintext`` (TlsError code "tls-required"); nothing goes on the wire.
STARTTLS fails closed (tls-not-offered, tls-refused, tls-injection).

Round trips: ``round_trips`` counts each wait for replies after writing.  With
PIPELINING (RFC 2920) a message is MAIL+RCPT*+DATA in one flight, then the
body and the dot: 2 waits.  With PIPELINING+CHUNKING (RFC 3030) a message that
fits one chunk is MAIL+RCPT*+BDAT n LAST in one flight: 1 wait; bigger ones
pipeline several BDAT chunks.  An RSET asked for with PIPELINING rides in the
next flight.

Example::

    s = Session(stream, compat.unix_time, "board")
    s.open(); s.starttls("smtp.example.org"); s.login("ann", "app-password")
    r = s.send_message("ann@example.org", ["bob@example.org"], b.chunks(), b.size)
    r["accepted"], r["refused"], r["reply"]
    s.quit()

One mail transaction (``send_message``): MAIL, RCPT per recipient, then the
body. DATA path (RFC 5321 4.1.1.4): DATA, the body CRLF-normalised and
dot-stuffed chunk by chunk, then "."; with PIPELINING (RFC 2920) MAIL, the
RCPTs and DATA go in one flight and their replies are matched in order. BDAT
path (CHUNKING, RFC 3030): the body normalised (no stuffing) into chunks of
``bdat_size`` bytes, each ``BDAT n``, the last ``BDAT n LAST``; with PIPELINING
up to 8 chunks are in flight, and after a failed BDAT no more are
sent (RFC 3030 section 2). The replies of one transaction are kept in a
``Transaction``; whether an RSET is owed is the protocol's (``smtp.Client.rset_owed``).
"""

from . import auth
from ..compat import const, is_ascii
from ..errors import ConnectionLost, InputError, ProtocolError, ReplyError, SmtpMtmError, Timeout, TlsError
from .dotstuff import Encoder
from .smtp import NEED_DATA, Client

_WRITE_JOIN = const(512)  # pieces shorter than this are joined into one write
_READ_SIZE = const(1024)  # bytes asked of each stream read
_BDAT_WINDOW = const(8)  # BDAT chunks in flight with PIPELINING
_LOOK_MS = const(20)  # one look for a reply that has not come, before a step gives a turn


def _rerr(command, ev):
    return ReplyError(command, ev.code, ev.text, ev.enhanced)


def _drive(steps):
    """Run the generator ``steps`` to its end and return its value: the blocking form of
    a step-by-step method."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value


def _take(it):
    """The next chunk of the iterator it, or None at its end."""
    for x in it:
        return x
    return None


class Transaction:
    """The replies of one mail transaction: accepted and refused recipients, the final
    reply, and a refused MAIL or BDAT noted for when the flight's replies are all in."""

    def __init__(self, n_rcpts):
        self.n_rcpts = n_rcpts
        self.accepted = []
        self.refused = {}  # rcpt -> (code, enhanced, text)
        self.answered = 0  # RCPT replies seen
        self.mail_refused = None  # the Event of a refused MAIL
        self.bdat_refused = None  # the Event of the first refused BDAT

    def note(self, ev):
        """Keep what a reply says about the transaction; returns the event."""
        cmd = ev.command
        if not ev.ok():
            if cmd == "MAIL":
                self.mail_refused = ev
            elif cmd == "BDAT" and self.bdat_refused is None:
                self.bdat_refused = ev
        if cmd == "RCPT":
            self.answered += 1
            if ev.ok():
                self.accepted.append(ev.arg)
            else:
                self.refused[ev.arg] = (ev.code, ev.enhanced, ev.text)
        return ev

    def hopeless(self):
        """True once no byte more can do good: MAIL or a BDAT refused, or every RCPT refused."""
        return (self.mail_refused is not None or self.bdat_refused is not None
                or (self.answered == self.n_rcpts and not self.accepted))

    def check_mail(self):
        if self.mail_refused is not None:
            raise _rerr("MAIL", self.mail_refused)

    def check(self):
        """ReplyError for a refused MAIL, or (with ``refused``) when no recipient was accepted."""
        self.check_mail()
        if self.accepted:
            return
        pick = None
        for code, enh, text in self.refused.values():
            if pick is None or (code < 500 or code == 552) and pick[0] >= 500:
                pick = (code, enh, text)
        if pick is None:
            raise ProtocolError("no recipient was answered")
        # RFC 5321 4.5.3.1.10: 552 on RCPT is "too many recipients", i.e. temporary
        raise ReplyError("RCPT", pick[0], pick[2], pick[1], refused=self.refused,
                         transient=pick[0] < 500 or pick[0] == 552)

    def done(self, ev):
        """The final reply ``ev`` accepted the message."""
        return {"accepted": self.accepted, "refused": self.refused, "reply": (ev.code, ev.enhanced, ev.text)}


class Session:
    def __init__(self, stream, clock, hostname="board", timeouts=None, allow_plaintext=False,
                 bdat_size=4096):
        self.stream = stream
        self.clock = clock
        self.client = Client(hostname, timeouts)
        self.allow_plaintext = allow_plaintext
        self.bdat_size = bdat_size
        self.round_trips = 0
        self.closed = False
        self._wrote = True  # the greeting wait counts as one

    @property
    def capabilities(self):
        return self.client.capabilities

    # -- the pump ------------------------------------------------------------
    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.stream.close()
            except Exception:  # closing a broken stream must not hide the real error
                pass

    def _fail(self, exc):
        self.client.fail(exc)
        self.close()
        return exc

    def _check_open(self):
        if self.closed:
            raise ConnectionLost("the SMTP session is closed (%s)" % (self.client.error or "closed"))

    def _flush(self):
        pieces = self.client.pieces_to_send()
        if not pieces:
            return
        # small pieces (pipelined commands, a BDAT line) are joined into one write; a
        # body piece goes out as it is: RAM stays one chunk, never a copy of a flight
        small = []
        for p in pieces:
            if len(p) < _WRITE_JOIN:
                small.append(p)
                continue
            if small:
                self._write(b"".join(small))
                small = []
            self._write(p)
        if small:
            self._write(b"".join(small))
        self._wrote = True

    def _write(self, data):
        try:
            self.stream.write(data)
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            raise self._fail(ConnectionLost("write failed: %s" % e))

    def _late(self):
        """The Timeout for the reply awaited, the session failed with it."""
        c = self.client
        return self._fail(Timeout("no reply to %s within %d s (RFC 5321 4.5.3.2)"
                                  % (c.waiting_for, c.reply_timeout())))

    def _left(self):
        """Whole seconds left for the reply awaited; raises Timeout when none are."""
        now = self.clock()
        dl = self.client.deadline(now)
        if dl is None:
            raise self._fail(InputError("waiting for a reply with no command sent", "state"))
        if dl <= now:
            raise self._late()
        return dl - now

    def _read(self):
        c = self.client
        left = self._left()
        what = c.waiting_for
        if self._wrote:
            self.round_trips += 1
            self._wrote = False
        try:
            data = self.stream.read(_READ_SIZE, left)
            if not data:
                raise ConnectionLost("connection closed by the server while waiting for %s" % what)
            c.receive_data(data)
        except Timeout:
            raise self._late()
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            if e.args and e.args[0] in (110, 116, "timed out"):
                raise self._late()
            raise self._fail(ConnectionLost("read failed: %s" % e))

    def reply(self):
        """Write what ``self.client`` has queued, then wait for its next reply Event (also
        for a driver that issues commands on the client itself: device/umail.py)."""
        return _drive(self._replies())

    def _replies(self):
        """``reply()`` step by step: 0 is yielded while no reply byte has come (each look
        waits up to _LOOK_MS), so the driver gets a turn; Timeout at the reply's deadline.
        Over a Stream without ready() the read itself waits."""
        c = self.client
        ready = getattr(self.stream, "ready", None)
        while True:
            self._flush()
            try:
                ev = c.next_event()
            except SmtpMtmError as e:
                raise self._fail(e)
            if ev is not NEED_DATA:
                if ev.code == 421:  # RFC 5321 3.8: the server closes; transient
                    raise self._fail(_rerr(ev.command, ev))
                return ev
            self._flush()  # next_event may have queued an answer (HELO fallback, AUTH step)
            while ready is not None and not ready(_LOOK_MS):
                self._left()
                yield 0
            self._read()

    def _ok(self):
        """The next reply, which must be a success (ReplyError if not); a generator."""
        ev = yield from self._replies()
        if not ev.ok():
            raise _rerr(ev.command, ev)
        return ev

    def _require_tls(self, what):
        self._check_open()
        if not (self.stream.is_tls or self.allow_plaintext):
            raise TlsError("refusing %s over a connection without TLS (allow_plaintext is off)" % what,
                           "tls-required")

    def _take_rset(self, ride=False):
        """Send an owed RSET; with ride and PIPELINING it joins the next group; a generator."""
        if self.client.rset_owed:
            self.client.rset()
            if not (ride and "PIPELINING" in self.capabilities):
                yield from self._ok()

    def _reply(self, tr):
        """The next reply, noted in Transaction tr; a refused RSET that rode in front ends
        the session (the server's state is unknown). A generator."""
        ev = yield from self._replies()
        if ev.command == "RSET" and not ev.ok():
            raise self._fail(_rerr("RSET", ev))
        return tr.note(ev)

    def _wait_for(self, command, tr):
        """Replies, each noted in Transaction tr, up to the one to ``command``; a generator."""
        while True:
            ev = yield from self._reply(tr)
            if ev.command == command:
                return ev

    # -- the API -------------------------------------------------------------
    def open(self):
        """Read the greeting and say EHLO (HELO if EHLO is refused with 500/502)."""
        return _drive(self.opening())

    def opening(self):
        """``open()`` step by step."""
        self._check_open()
        ev = yield from self._replies()
        if not ev.ok():
            self.quit()
            raise _rerr("GREETING", ev)
        yield from self._ehlo()
        return self.capabilities

    def _ehlo(self):
        self.client.ehlo()
        yield from self._ok()  # the reply to EHLO, or to HELO after a fallback

    def starttls(self, server_hostname=None):
        """STARTTLS (RFC 3207), upgrade the stream, EHLO again. TlsError when it cannot."""
        return _drive(self.starting_tls(server_hostname))

    def starting_tls(self, server_hostname=None):
        """``starttls()`` step by step (the TLS handshake itself blocks)."""
        self._check_open()
        if self.stream.is_tls:
            return
        if "STARTTLS" not in self.capabilities:
            raise TlsError("the server does not offer STARTTLS", "tls-not-offered")
        self.client.starttls()
        ev = yield from self._replies()
        if ev.kind != "upgrade":
            raise TlsError("STARTTLS refused: %d %s" % (ev.code, ev.text), "tls-refused",
                           400 <= ev.code < 500, ev.code)
        try:
            self.stream.starttls(server_hostname)
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            raise self._fail(TlsError("TLS handshake failed: %s" % e, "tls-handshake"))
        self.client.tls_started()
        self._wrote = True
        yield from self._ehlo()

    def login(self, user, password=None, mechanisms=None, token=None):
        """AUTH (RFC 4954) with the best offered mechanism, or the first of ``mechanisms``.
        Give ``token`` (an OAuth2 access token) for XOAUTH2/OAUTHBEARER."""
        return _drive(self.logging_in(user, password, mechanisms, token))

    def logging_in(self, user, password=None, mechanisms=None, token=None):
        """``login()`` step by step."""
        self._require_tls("AUTH")
        mech = auth.choose(self.capabilities.get("AUTH"), self.stream.is_tls, user, password, token,
                           mechanisms)
        yield from self._take_rset()
        self.client.auth(mech)
        yield from self._ok()
        return mech.name

    def rset(self):
        """RSET; with PIPELINING it rides in front of the next command group."""
        self._check_open()
        self.client.rset_owed = True
        if "PIPELINING" not in self.capabilities:
            _drive(self._take_rset())

    def quit(self):
        """QUIT and close; errors on the way out are ignored."""
        _drive(self.quitting())

    def quitting(self):
        """``quit()`` step by step (its reply waited for up to 10 s: smtp.TIMEOUTS["quit"])."""
        if not self.closed:
            try:
                self.client.quit()
                yield from self._replies()
            except SmtpMtmError:
                pass
        self.close()

    def send_message(self, *args, **kw):
        """Send one message; returns {"accepted": [rcpt], "refused": {rcpt: (code, enhanced,
        text)}, "reply": (code, enhanced, text) of the final reply}. The arguments are
        ``sending``'s: mail_from, rcpts, chunks, size, needs_8bit, needs_smtputf8, dsn,
        on_bytes, before_final_dot.

        Raises ReplyError for MAIL, for no accepted recipient (``e.refused``
        holds the refusals), for DATA/BDAT and for the final reply; InputError
        before anything is sent when the message cannot go to this server.
        """
        return _drive(self.sending(*args, **kw))

    def sending(self, mail_from, rcpts, chunks, size, needs_8bit=False, needs_smtputf8=False,
                dsn=None, on_bytes=None, before_final_dot=None):
        """``send_message`` step by step: a generator that yields 0 ("go on at once") after
        each piece of the body written and each look for a reply that has not come, so a
        caller (the send engine) can give the board's other work a turn while a big message
        goes out or a server takes its time; its return value is send_message's result."""
        self._require_tls("MAIL")
        c = self.client
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if not rcpts:
            raise InputError("no recipients", "no-recipients")
        dsn = dsn or {}
        ret, envid, notify = dsn.get("ret"), dsn.get("envid"), dsn.get("notify")
        utf8 = needs_smtputf8 or not is_ascii(mail_from)
        for a in rcpts:
            utf8 = utf8 or not is_ascii(a)
        # validate every line before the first byte is queued
        c.mail_line(mail_from, size, needs_8bit, utf8, ret, envid)
        for a in rcpts:
            c.rcpt_line(a, notify)
        caps = c.capabilities
        pipe = "PIPELINING" in caps
        tr = Transaction(len(rcpts))
        try:
            yield from self._take_rset(True)
            c.mail(mail_from, size, needs_8bit, utf8, ret, envid)
            if not pipe:
                yield from self._wait_for("MAIL", tr)
                tr.check_mail()
            for a in rcpts:
                c.rcpt(a, notify)
                if not pipe:
                    yield from self._wait_for("RCPT", tr)
            if not pipe:
                tr.check()
            if "CHUNKING" in caps:
                return (yield from self._send_bdat(chunks, size, tr, pipe, on_bytes, before_final_dot))
            return (yield from self._send_data(chunks, size, tr, on_bytes, before_final_dot))
        except Exception as e:
            if not self.closed and (c.state not in ("READY", "MAIL", "BDAT") or c.pending):
                # cut in a body, or replies still owed: never let a partial message be
                # terminated nor a late reply be matched to the next transaction
                raise self._fail(e)
            raise

    # -- the two body paths ---------------------------------------------------
    def _send_data(self, chunks, size, tr, on_bytes, before_final_dot):
        c = self.client
        c.data()
        ev = yield from self._wait_for("DATA", tr)
        if ev.code != 354:
            tr.check()
            raise _rerr("DATA", ev)
        if tr.mail_refused is not None or not tr.accepted:
            # RFC 2920 3.1: DATA accepted with no valid recipient: send only the dot
            c.end_body()
            yield from self._wait_for("DOT", tr)
            tr.check()
        sent = 0
        for chunk in chunks:
            c.body(chunk)
            self._flush()
            sent += len(chunk)
            if on_bytes:
                on_bytes(sent, size)
            yield 0
        if before_final_dot:
            before_final_dot()
        c.end_body()
        ev = yield from self._wait_for("DOT", tr)
        if not ev.ok():
            raise _rerr("DATA-END", ev)
        return tr.done(ev)

    def _send_bdat(self, chunks, size, tr, pipe, on_bytes, before_final_dot):
        c = self.client
        enc = Encoder(False)
        feed = enc.feed
        it = iter(chunks)
        x = _take(it)  # always one chunk ahead: is the next BDAT the LAST one?
        sent = 0
        limit = self.bdat_size
        window = _BDAT_WINDOW if pipe else 0
        while True:
            data, n = [], 0
            while x is not None and n < limit:
                sent += len(x)
                out = feed(x)
                data.append(out)
                n += len(out)
                x = _take(it)
            last = x is None
            if last:
                data.append(enc.end())
                if before_final_dot:
                    before_final_dot()
            c.bdat(data, last)
            self._flush()
            if on_bytes:
                on_bytes(sent, size)
            if last:
                break
            yield 0
            while c.pending > window:
                yield from self._reply(tr)
            if tr.hopeless():
                break  # RFC 3030 2: no more BDAT after a failure
        ev = None
        while c.pending:
            ev = yield from self._reply(tr)
        tr.check()
        if tr.bdat_refused is not None:
            raise _rerr("BDAT", tr.bdat_refused)
        if ev is None or ev.command != "BDATL" or not ev.ok():
            raise _rerr("BDAT", ev)
        return tr.done(ev)

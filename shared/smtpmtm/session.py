"""Blocking SMTP session: runs the sans-I/O ``smtp.Client`` over a Stream.

A Stream has ``write(data)``, ``read(max_bytes, timeout_s)`` (b"" = closed,
raises errors.Timeout), ``starttls(server_hostname)``, ``is_tls`` and
``close()`` (host/net.py, device/net.py, or a test fake).  ``clock()`` returns
whole seconds as an int (a board's single-precision float holds a Unix time only
to 128 s); every wait gets the whole seconds left before the command's deadline
(RFC 5321 4.5.3.2 defaults, configurable with ``timeouts``).

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
"""

from . import auth as _auth
from . import transfer
from .errors import ConnectionLost, InputError, SmtpMtmError, Timeout, TlsError
from .compat import is_ascii
from .smtp import NEED_DATA, Client
from .transfer import _rerr

WRITE_JOIN = 512


class Session:
    def __init__(self, stream, clock, hostname="board", timeouts=None, allow_plaintext=False,
                 read_size=1024, bdat_size=2048, bdat_window=8):
        self.stream = stream
        self.clock = clock
        self.client = Client(hostname, timeouts)
        self.allow_plaintext = allow_plaintext
        self.read_size = read_size
        self.bdat_size = bdat_size
        self.bdat_window = bdat_window
        self.round_trips = 0
        self.closed = False
        self._wrote = True  # the greeting wait counts as one
        self._rset_due = False

    @property
    def capabilities(self):
        return self.client.capabilities

    # -- the pump ------------------------------------------------------------
    def _close(self):
        if not self.closed:
            self.closed = True
            try:
                self.stream.close()
            except Exception:  # closing a broken stream must not hide the real error
                pass

    def _fail(self, exc):
        self.client.fail(exc)
        self._close()
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
            if len(p) < WRITE_JOIN:
                small.append(p)
                continue
            if small:
                self._write(small[0] if len(small) == 1 else b"".join(small))
                small = []
            self._write(p)
        if small:
            self._write(small[0] if len(small) == 1 else b"".join(small))
        self._wrote = True

    def _write(self, data):
        try:
            self.stream.write(data)
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            raise self._fail(ConnectionLost("write failed: %s" % e))

    def _read(self):
        c = self.client
        now = self.clock()
        dl = c.deadline(now)
        what = c.waiting_for
        if dl is None:
            raise self._fail(InputError("waiting for a reply with no command sent", code="state"))
        left = dl - now
        if left <= 0:
            raise self._fail(Timeout("no reply to %s within %d s" % (what, c.reply_timeout())))
        if self._wrote:
            self.round_trips += 1
            self._wrote = False
        try:
            data = self.stream.read(self.read_size, left)
        except Timeout:
            raise self._fail(Timeout("no reply to %s in time (RFC 5321 4.5.3.2)" % what))
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            if e.args and e.args[0] in (110, 116, "timed out"):
                raise self._fail(Timeout("no reply to %s in time" % what))
            raise self._fail(ConnectionLost("read failed: %s" % e))
        if not data:
            raise self._fail(ConnectionLost("connection closed by the server while waiting for %s" % what))
        try:
            c.receive_data(data)
        except SmtpMtmError as e:
            raise self._fail(e)

    def _next(self):
        """Write what is queued, then wait for the next reply event."""
        c = self.client
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
            self._read()

    def _wait_ok(self, command):
        ev = self._next()
        if not ev.ok():
            raise _rerr(command, ev)
        return ev

    def _require_tls(self, what):
        if not (self.stream.is_tls or self.allow_plaintext):
            raise TlsError("refusing %s over a connection without TLS (allow_plaintext is off)" % what,
                           code="tls-required")

    def _take_rset(self, ride=False):
        """Send a pending RSET; with ride and PIPELINING it joins the next group."""
        if self._rset_due:
            self._rset_due = False
            self.client.rset()
            if not (ride and "PIPELINING" in self.client.capabilities):
                self._wait_ok("RSET")

    # -- the API -------------------------------------------------------------
    def open(self):
        """Read the greeting and say EHLO (HELO if EHLO is refused with 500/502)."""
        self._check_open()
        ev = self._next()
        if not ev.ok():
            self.quit()
            raise _rerr("GREETING", ev)
        self._ehlo()
        return self.capabilities

    def _ehlo(self):
        self.client.ehlo()
        ev = self._next()
        if not ev.ok():
            raise _rerr(ev.command, ev)

    def starttls(self, server_hostname=None):
        """STARTTLS (RFC 3207), upgrade the stream, EHLO again. TlsError when it cannot."""
        self._check_open()
        if self.stream.is_tls:
            return
        if "STARTTLS" not in self.capabilities:
            raise TlsError("the server does not offer STARTTLS", code="tls-not-offered")
        self._rset_due = False  # RFC 3207 4.2: the server resets its state anyway
        self.client.starttls()
        ev = self._next()
        if ev.kind != "upgrade":
            e = TlsError("STARTTLS refused: %d %s" % (ev.code, ev.text), code="tls-refused")
            e.transient = 400 <= ev.code < 500
            e.reply_code = ev.code
            raise e
        try:
            self.stream.starttls(server_hostname)
        except SmtpMtmError as e:
            raise self._fail(e)
        except OSError as e:
            raise self._fail(TlsError("TLS handshake failed: %s" % e, code="tls-handshake"))
        self.client.tls_started()
        self._wrote = True
        self._ehlo()

    def login(self, user, password=None, mechanisms=None, token=None):
        """AUTH (RFC 4954) with the best offered mechanism, or the first of ``mechanisms``.
        Give ``token`` (an OAuth2 access token) for XOAUTH2/OAUTHBEARER."""
        self._check_open()
        self._require_tls("AUTH")
        mech = _auth.choose(self.capabilities.get("AUTH"), self.stream.is_tls, user, password, token,
                            mechanisms)
        self._take_rset()
        self.client.auth(mech)
        self._wait_ok("AUTH")
        return mech.name

    def rset(self):
        """RSET; with PIPELINING it rides in front of the next command group."""
        self._check_open()
        self._rset_due = True
        if "PIPELINING" not in self.capabilities:
            self._take_rset()

    def noop(self):
        self._check_open()
        self._take_rset()
        self.client.noop()
        return self._wait_ok("NOOP")

    def quit(self):
        """QUIT and close; errors on the way out are ignored."""
        if not self.closed:
            try:
                self.client.quit()
                self._next()
            except SmtpMtmError:
                pass
        self._close()

    def close(self):
        self._close()

    def send_message(self, mail_from, rcpts, chunks, size, needs_8bit=False, needs_smtputf8=False,
                     dsn=None, on_bytes=None, before_final_dot=None):
        """Send one message; returns {"accepted": [rcpt], "refused": {rcpt: (code, enhanced,
        text)}, "reply": (code, enhanced, text) of the final reply}.

        Raises ReplyError for MAIL, for no accepted recipient (``e.refused``
        holds the refusals), for DATA/BDAT and for the final reply; InputError
        before anything is sent when the message cannot go to this server.
        """
        self._check_open()
        self._require_tls("MAIL")
        c = self.client
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if not rcpts:
            raise InputError("no recipients", code="no-recipients")
        dsn = dsn or {}
        utf8 = needs_smtputf8 or not is_ascii(mail_from)
        for a in rcpts:
            utf8 = utf8 or not is_ascii(a)
        # validate every line before the first byte is queued
        c.mail_line(mail_from, size, needs_8bit, utf8, dsn.get("ret"), dsn.get("envid"))
        for a in rcpts:
            c.rcpt_line(a, dsn.get("notify"))
        caps = c.capabilities
        pipe = "PIPELINING" in caps
        res = {"accepted": [], "refused": {}, "reply": None}
        res["_n"] = 0
        try:
            self._take_rset(True)
            self._rset_due = True  # until the transaction completes
            c.mail(mail_from, size, needs_8bit, utf8, dsn.get("ret"), dsn.get("envid"))
            if not pipe:
                transfer._record(self, self._next(), res)
                transfer._check_mail(res)
            for a in rcpts:
                c.rcpt(a, dsn.get("notify"))
                if not pipe:
                    transfer._record(self, self._next(), res)
            if not pipe:
                transfer._check_rcpts(res)
            if "CHUNKING" in caps:
                transfer.send_bdat(self, chunks, size, res, pipe, len(rcpts), on_bytes, before_final_dot)
            else:
                transfer.send_data(self, chunks, size, res, on_bytes, before_final_dot)
            self._rset_due = False
        except Exception as e:
            if not self.closed and (c.state not in ("READY", "MAIL", "BDAT") or c.pending):
                # cut in a body, or replies still owed: never let a partial message be
                # terminated nor a late reply be matched to the next transaction
                raise self._fail(e)
            raise
        return {"accepted": res["accepted"], "refused": res["refused"], "reply": res["reply"]}

"""uMail-compatible client on the smtpmtm core: existing uMail scripts run unchanged.

Same class and methods as the classic uMail (shawwwn/uMail)::

    import umail
    smtp = umail.SMTP('smtp.gmail.com', 587, username='me@gmail.com', password='pw')
    smtp.to('someone@gmail.com')              # or a list; mail_from='x@y' optional
    smtp.write("Subject: hi\\n\\n")            # stream a long mail chunk by chunk
    smtp.send("This is an example.")          # -> (250, '2.0.0 OK ...')
    smtp.quit()

Also ``login(username, password)`` and ``cmd(line) -> (code, [lines])``.
It runs the core's sans-I/O protocol (smtpmtm.wire.smtp.Client) over the
firmware's stream (smtpmtm_board.net.connect; a harness may replace
``umail._connect``), so it gains, compared with uMail:

- certificate checks (behaviour change): ``ssl=True`` and STARTTLS verify the
  server certificate and host name against the CA file ``umail.CAFILE``
  (default ``/certs/ca.pem``; or ``SMTP(..., cafile=...)``). A missing CA file
  raises TlsError(code="tls-no-ca") instead of silently trusting anyone.
  Put the CA bundle of your provider (e.g. the GTS/ISRG roots) there.
- dot-stuffing and CRLF normalisation of everything ``write()`` sends (RFC
  5321 4.5.2 / 2.3.8): a line "." in the content no longer ends the mail, and
  "\\n" line ends become CRLF (no SMTP smuggling).
- STARTTLS per RFC 3207 (EHLO again after TLS; injection detected), and AUTH
  over plaintext is refused (set ``umail.ALLOW_PLAINTEXT = True`` for a local
  test server). PIPELINING is used for the recipients when offered.
- failures raise ``umail.SMTPError`` (an AssertionError, as uMail's asserts
  were, with ``code`` and ``error``); TLS, timeout and connection failures
  raise the core's TlsError / Timeout / ConnectionLost.

The EHLO name is ``umail.LOCAL_DOMAIN`` ("[127.0.0.1]", an address literal
as RFC 5321 4.1.3 wants; uMail sent the bare 127.0.0.1).
"""

from smtpmtm.wire import smtp as _smtp
from smtpmtm.compat import monotonic
from smtpmtm.errors import SmtpMtmError, Timeout

DEFAULT_TIMEOUT = 10  # sec, as uMail
LOCAL_DOMAIN = "[127.0.0.1]"
CAFILE = "/certs/ca.pem"
ALLOW_PLAINTEXT = False
CMD_EHLO = "EHLO"
CMD_STARTTLS = "STARTTLS"
CMD_AUTH = "AUTH"
CMD_MAIL = "MAIL"
AUTH_PLAIN = "PLAIN"
AUTH_LOGIN = "LOGIN"


class SMTPError(AssertionError):
    """A refused step; ``code`` is the reply code, ``error`` the core's error or None."""

    def __init__(self, message, code=0, error=None):
        super().__init__(message)
        self.code = code
        self.error = error


def _connect(host, port, tls, cafile, timeout):
    from smtpmtm_board.net import connect  # the firmware's verified TLS stream

    return connect(host, port, tls=tls, cafile=cafile, server_hostname=host, timeout=timeout)


class SMTP:
    def __init__(self, host, port, ssl=False, username=None, password=None, cafile=None,
                 timeout=None, local_hostname=None):
        self.username = username
        self.host = host
        self.cafile = cafile or CAFILE
        self.timeout = timeout or DEFAULT_TIMEOUT
        self._c = _smtp.Client(local_hostname or LOCAL_DOMAIN,
                               timeouts=dict((k, self.timeout) for k in _smtp.TIMEOUTS))
        self._sock = _connect(host, port, "implicit" if ssl else "plain", self.cafile, self.timeout)
        self._c.tls = bool(ssl)  # implicit TLS (RFC 8314): secure from the first byte
        try:
            ev = self._wait()
            if not ev.ok():
                raise SMTPError("cant connect to server %d, %s" % (ev.code, ev.text), ev.code)
            self._ehlo()
            if not ssl and CMD_STARTTLS in self._c.capabilities:
                self._c.starttls()
                ev = self._wait()
                if ev.kind != "upgrade":
                    raise SMTPError("start tls failed %d, %s" % (ev.code, ev.text), ev.code)
                self._sock.starttls(None)  # the name the stream connected to
                self._c.tls_started()
                self._ehlo()
            if username and password:
                self.login(username, password)
        except BaseException:
            self._sock.close()
            raise

    # -- the small driver: write what the protocol queued, read until an event --
    def _flush(self):
        out = self._c.data_to_send()
        if out:
            self._sock.write(out)

    def _wait(self):
        self._flush()
        while True:
            ev = self._c.next_event()
            if ev is not _smtp.NEED_DATA:
                return ev
            now = monotonic()  # right across the ticks_ms wrap-around
            left = self._c.deadline(now) - now
            if left <= 0:
                raise self._c.fail(Timeout("no reply within %ss" % self.timeout))
            try:
                data = self._sock.read(1024, left)
            except SmtpMtmError as e:
                raise self._c.fail(e)
            if not data:
                raise self._c.fail(_lost())
            self._c.receive_data(data)

    def _ehlo(self):
        self._c.ehlo()
        ev = self._wait()
        if ev.command == "EHLO" and not ev.ok() and self._c.state == "GREETED":
            ev = self._wait()  # HELO fallback queued by the protocol
        if not ev.ok():
            raise SMTPError("%d" % ev.code, ev.code)
        return ev

    # -- uMail API -------------------------------------------------------------
    def cmd(self, cmd_str):
        """Send a simple command (NOOP, RSET, VRFY ...) and return (code, [lines])."""
        verb = cmd_str.split(" ", 1)[0].upper()
        if verb in ("NOOP", "RSET", "QUIT"):
            getattr(self._c, verb.lower())()
        elif verb in ("EHLO", "HELO"):
            ev = self._ehlo()
            return ev.code, ev.reply.lines
        else:  # outside the protocol's table: raw line, reply read with its parser
            self._sock.write(cmd_str.encode() + b"\r\n")
            self._c._pending.append(("NOOP", None))
        ev = self._wait()
        return ev.code, ev.reply.lines

    def login(self, username, password):
        self.username = username
        if not self._sock.is_tls and not ALLOW_PLAINTEXT:
            raise SMTPError("refusing to send the password without TLS (umail.ALLOW_PLAINTEXT)", 0)
        if "AUTH" not in self._c.capabilities:
            raise SMTPError("no auth method", 0)
        try:
            mech = self._c.choose_auth(username, password)
        except SmtpMtmError as e:
            raise SMTPError("auth(%s) not supported " % ", ".join(self._c.capabilities["AUTH"]), 0, e)
        self._c.auth(mech)
        ev = self._wait()
        if not ev.ok() and ev.code != 503:
            raise SMTPError("auth error %d, %s" % (ev.code, ev.text), ev.code)
        return ev.code, ev.reply.lines

    def to(self, addrs, mail_from=None):
        mail_from = self.username if mail_from is None else mail_from
        if isinstance(addrs, str):
            addrs = [addrs]
        c = self._c
        c.mail(mail_from)
        pipelining = "PIPELINING" in c.capabilities  # RFC 2920: MAIL, RCPTs, DATA in one go
        if pipelining:
            for a in addrs:
                c.rcpt(a)
        ev = self._wait()
        if not ev.ok():
            if pipelining:
                for _ in addrs:
                    self._wait()
            raise SMTPError("sender refused %d, %s" % (ev.code, ev.text), ev.code)
        count = 0
        last = ev
        for a in addrs:
            if not pipelining:
                c.rcpt(a)
            ev = self._wait()
            if ev.code not in (250, 251):
                print("%s refused, %s" % (a, ev.reply.lines))
                count += 1
                last = ev
        if count == len(addrs):
            c.rset()
            self._wait()
            raise SMTPError("recipient refused, %d, %s" % (last.code, last.text), last.code)
        c.data()
        ev = self._wait()
        if ev.code != 354:
            raise SMTPError("data refused, %d, %s" % (ev.code, ev.text), ev.code)
        return ev.code, ev.reply.lines

    def write(self, content):
        """Send a piece of the mail now: CRLF-normalised and dot-stuffed."""
        if isinstance(content, str):
            content = content.encode()
        self._c.body(content)
        self._flush()

    def send(self, content=""):
        """Finish the mail; returns (code, text) of the final reply as uMail did."""
        if content:
            self.write(content)
        self._c.end_body()
        ev = self._wait()
        return ev.code, ev.text

    def quit(self):
        try:
            self._c.quit()
            self._wait()
        except (SmtpMtmError, OSError):
            pass
        self._sock.close()


def _lost():
    from smtpmtm.errors import ConnectionLost

    return ConnectionLost("server closed the connection")

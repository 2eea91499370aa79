"""uMail-compatible client on the smtpmtm core: existing uMail scripts run unchanged.

Same class and methods as the classic uMail (shawwwn/uMail)::

    import umail
    smtp = umail.SMTP('smtp.gmail.com', 587, username='me@gmail.com', password='pw')
    smtp.to('someone@gmail.com')              # or a list; mail_from='x@y' optional
    smtp.write("Subject: hi\\n\\n")            # stream a long mail chunk by chunk
    smtp.send("This is an example.")          # -> (code, text) of the final reply: 250 = accepted
    smtp.quit()

Also ``login(username, password)`` (PLAIN, LOGIN or CRAM-MD5, whichever the
server offers) and ``cmd(line) -> (code, [lines])``. The reply text is the
server's own words (``send()`` gives e.g. ``(250, '2.0.0 Ok: queued as 4F2')``
or just ``(250, 'OK')``): test the code. It runs the core's Session
(smtpmtm.wire.session: greeting, EHLO/HELO, STARTTLS, every AUTH challenge)
over the firmware's stream (smtpmtm_board.net.connect; a harness may replace
``umail._connect``), so it gains, compared with uMail:

- certificate checks (behaviour change, no extra line needed): ``ssl=True`` and
  STARTTLS verify the server certificate and host name against the CA file
  ``umail.CAFILE`` (default ``/certs/ca.pem``, which ``make deploy`` and the
  virtual board install: the roots of the big mail providers, README
  "Certificates"; or ``SMTP(..., cafile=...)``). A missing CA file raises
  TlsError(code="tls-no-ca") instead of silently trusting anyone.
- dot-stuffing and CRLF normalisation of everything ``write()`` sends (RFC
  5321 4.5.2 / 2.3.8): a line "." in the content no longer ends the mail, and
  "\\n" line ends become CRLF (no SMTP smuggling).
- STARTTLS per RFC 3207 (EHLO again after TLS; injection detected). A password
  goes over plaintext only to "localhost" or a loopback/private IP address (a
  relay on the LAN); to any other host it is refused unless
  ``umail.ALLOW_PLAINTEXT = True``. PIPELINING is used for the recipients when offered.
- failures raise ``umail.SMTPError`` (an AssertionError, as uMail's asserts
  were, with ``code`` and ``error``); TLS, timeout and connection failures
  raise the core's TlsError / Timeout / ConnectionLost.

The EHLO name is ``umail.LOCAL_DOMAIN`` ("[127.0.0.1]", an address literal
as RFC 5321 4.1.3 wants; uMail sent the bare 127.0.0.1).
"""

from smtpmtm.wire import smtp as _smtp
from smtpmtm.compat import monotonic
from smtpmtm.errors import ConnectionLost, InputError, ReplyError, Timeout, TlsError
from smtpmtm.wire.session import Session

DEFAULT_TIMEOUT = 10  # sec, as uMail
LOCAL_DOMAIN = "[127.0.0.1]"
CAFILE = "/certs/ca.pem"  # smtpmtm_board.net's default too: the bundle make deploy installs
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


def on_local_network(host):
    """True for "localhost" and loopback or private IPv4 addresses (RFC 1918, link-local):
    where a plaintext relay is a LAN box, not the internet. Host names are not resolved."""
    if host == "localhost":
        return True
    p = host.split(".")
    if len(p) != 4 or not all(x.isdigit() for x in p):
        return False
    a, b = int(p[0]), int(p[1])
    return a in (10, 127) or (a, b) == (192, 168) or (a, b) == (169, 254) or (a == 172 and 16 <= b < 32)


def _port_hint(ssl, e):
    """When ssl= does not match the port (uMail's commonest slip: 587 with ssl=True, 465
    without), what to change, or None."""
    text = str(e)
    if ssl and e.code == "tls-handshake" and ("INVALID_RECORD" in text or "WRONG_VERSION" in text):
        return "the server answered in plain text, as a STARTTLS port (587) does: ssl=False?"
    if not ssl and "the greeting" in text:
        return "no greeting came: an implicit-TLS port (465) waits for TLS first: ssl=True?"
    return None


class SMTP:
    def __init__(self, host, port, ssl=False, username=None, password=None, cafile=None,
                 timeout=None, local_hostname=None):
        self.username = username
        self.host = host
        self.cafile = cafile or CAFILE
        self.timeout = timeout or DEFAULT_TIMEOUT
        try:
            self._open(port, ssl, username, password, local_hostname)
        except (TlsError, Timeout, ConnectionLost) as e:
            hint = _port_hint(bool(ssl), e)
            if hint is None:
                raise
            raise type(e)("%s; %s" % (e, hint), e.code) from None

    def _open(self, port, ssl, username, password, local_hostname):
        self._sock = _connect(self.host, port, "implicit" if ssl else "plain", self.cafile, self.timeout)
        # the core's Session runs the exchanges (multi-step AUTH, HELO fallback, STARTTLS);
        # the password policy is login()'s, and uMail sends MAIL over plaintext
        self._s = Session(self._sock, monotonic, local_hostname or LOCAL_DOMAIN,
                          timeouts=dict((k, self.timeout) for k in _smtp.TIMEOUTS), allow_plaintext=True)
        self._c = self._s.client
        self._c.tls = bool(ssl)  # implicit TLS (RFC 8314): secure from the first byte
        try:
            try:
                self._s.open()
            except ReplyError as e:
                raise SMTPError("cant connect to server %d, %s" % (e.reply_code, e.text), e.reply_code, e)
            if not ssl and CMD_STARTTLS in self._c.capabilities:
                self._s.starttls(None)  # the name the stream connected to; EHLO again
            if username and password:
                self.login(username, password)
        except BaseException:
            self._s.close()
            raise

    def _wait(self):
        """Write what the protocol queued, then the next reply (Session's pump)."""
        try:
            return self._s.reply()
        except ReplyError as e:  # 421: the server is closing the connection
            raise SMTPError("%s %d, %s" % (e.command, e.reply_code, e.text), e.reply_code, e)

    def _ehlo(self):
        self._c.ehlo()
        ev = self._wait()  # a HELO fallback (500/502 to EHLO) is answered inside the pump
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
        """AUTH with the best mechanism offered (PLAIN, LOGIN, CRAM-MD5: every challenge
        answered); returns (code, [lines]) of the final reply."""
        self.username = username
        if not self._sock.is_tls and not (ALLOW_PLAINTEXT or on_local_network(self.host)):
            raise SMTPError("refusing to send the password without TLS to %s "
                            "(umail.ALLOW_PLAINTEXT = True to allow it)" % self.host, 0)
        if "AUTH" not in self._c.capabilities:
            raise SMTPError("no auth method", 0)
        try:
            mech = self._c.choose_auth(username, password)
        except InputError as e:
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
        out = self._c.data_to_send()
        if out:
            self._sock.write(out)

    def send(self, content=""):
        """Finish the mail; returns (code, text) of the final reply as uMail did."""
        if content:
            self.write(content)
        self._c.end_body()
        ev = self._wait()
        return ev.code, ev.text

    def quit(self):
        self._s.quit()  # QUIT, then close; errors on the way out are ignored

"""The errors of smtpmtm: one table of every error code, and the exception hierarchy.

Every error smtpmtm raises is an ``SmtpMtmError`` carrying a short machine
readable ``code`` (a string such as ``"input"``, ``"tls-unknown-ca"``), a human
readable message, and whether it is ``transient`` (worth a retry: 4xx replies,
a lost connection, a timeout, a link that is down, a TLS verification failure
that the network path or the clock may cause) or permanent. ``CODES``
below is the one table of the codes, the board's too (Wi-Fi, modem): what each
means (the comment) and whether it is transient (1), permanent (0) or says so
itself (?: the constructor is told, e.g. by the reply code). An exception
takes all its data in the constructor; nothing is added after. No ``assert``
is used for validation: MicroPython strips asserts under -O.

``whole(what, v)`` is the one check of a whole number (a count, a limit, seconds) that
every layer uses, the REPL's and the host CLI's arguments too.

``classify(exc)`` gives the send engine (permanent?, session still usable?)
after RFC 5321 section 4.2.1; ``store_error(what, exc)`` maps an ``OSError``
met during ``what`` into this hierarchy (``StoreFull`` for ENOSPC, else
``StoreError``).

Example::

    try:
        ...
    except ReplyError as e:
        print(e.code, e.reply_code, e.enhanced, e.text, e.transient)
    raise TlsError("STARTTLS refused: 454 busy", "tls-refused", transient=True, reply_code=454)
"""

# The table: "code flag" pairs, flag 1 transient (retried later), 0 permanent, ? told by
# the constructor (default permanent); the comment says what the code means. One string
# (frozen into flash on a board, where a dict would be built in RAM at every boot).
CODES = (
    " error 0"  # anything else
    # bad input, found before anything went on the wire (InputError, SettingsError)
    " input 0"  # a value the caller gave is unusable; the message names it
    " settings 0"  # an account setting is invalid; the message names the field
    " address 0"  # an address cannot go into MAIL FROM / RCPT TO
    " hostname 0"  # the EHLO host name is unusable
    " state 0"  # a command out of order (a bug in the caller)
    " line-too-long 0"  # a command line would pass 512 octets (RFC 5321 4.5.3.1.4)
    " no-recipients 0"  # a message with no recipient
    " recipient 0"  # the REPL's queue(): an address is not an email address
    " no-account 0"  # the REPL's queue(): no account to send with
    " size-exceeded 0"  # larger than the server's SIZE (RFC 1870 6)
    " 8bitmime-not-offered 0"  # 8-bit body, the server lacks 8BITMIME (RFC 6152)
    " smtputf8-not-offered 0"  # UTF-8 address, the server lacks SMTPUTF8 (RFC 6531)
    " dsn 0"  # bad DSN parameters (RFC 3461)
    " auth-not-offered 0"  # no AUTH mechanism both sides can use
    " auth-mechanism 0"  # an AUTH mechanism asked for by name is unknown
    " not-supported 0"  # a capability the MTM does not have (Symbian's KErrNotSupported)
    # the server (ProtocolError, ReplyError)
    " protocol 0"  # the server broke the protocol: malformed, oversized, unexpected reply
    " reply ?"  # a 4xx (transient) or 5xx (permanent) reply
    # the connection (ConnectionLost, Timeout, LinkDown and the board's hooks)
    " connection-lost 1"  # the connection closed or failed
    " timeout 1"  # no reply within the deadline (RFC 5321 4.5.3.2); a link not up in time
    " link-down 1"  # no connect hook could bring a link up
    " wifi 1"  # Wi-Fi could not come up
    " no-credentials 1"  # no Wi-Fi credentials file
    " no-ap 1"  # no access point of that name in range
    " connect-fail 1"  # the access point refused or lost the board
    " wrong-password 1"  # the Wi-Fi password was refused
    " dropped 1"  # the link went down while in use
    " lan 1"  # Ethernet could not come up, or lost its cable
    " modem 1"  # the cellular modem could not bring the link up
    " no-modem 1"  # no answer to AT
    " no-sim 1"  # no SIM card
    " sim-pin 1"  # the SIM wants a PIN that was not given or was wrong
    " sim-puk 1"  # the SIM is locked (PUK)
    " no-signal 1"  # no usable signal
    " no-registration 1"  # not registered on a network
    " wrong-apn 1"  # the APN was refused
    " no-carrier 1"  # the modem lost the carrier
    # TLS (TlsError): certificates are verified; every case fails closed (the session is
    # never used, nothing goes out). Transient (1) = it depends on the network path, the
    # server or the clock, so a later try may verify: a captive portal or intercepting
    # proxy (its own certificate, STARTTLS stripped, plaintext injected), a board whose
    # clock is not set yet, a certificate renewed late. Permanent (0) = it depends only on
    # the board's own settings or files, which no retry changes.
    " tls 1"  # TLS could not be set up
    " tls-not-offered 1"  # STARTTLS asked for, not offered (RFC 3207): or stripped on the way
    " tls-refused ?"  # STARTTLS answered 4xx (transient) or 5xx (RFC 5321 4.2.1)
    " tls-injection 1"  # plaintext after the 220 to STARTTLS (CVE-2011-0411): a middlebox
    " tls-required 0"  # AUTH or MAIL over a connection without TLS: the account's settings
    " tls-no-ca 0"  # no usable CA certificates (cafile missing, empty, unreadable): fixed on
    # the board only, by a person who then sends again; retries would spend the link for nothing
    " tls-self-signed 1"  # the server's certificate is self-signed (or a portal's)
    " tls-unknown-ca 1"  # signed by a CA not trusted (or an intercepting proxy)
    " tls-expired 1"  # outside its validity period (or the board's clock is not set yet)
    " tls-hostname 1"  # not for this host name or IP (or a portal answering for it)
    " tls-handshake 1"  # any other handshake failure
    # OAuth2 token refresh (outbox/oauth2.py, RFC 6749)
    " oauth ?"  # the token endpoint failed
    " oauth-invalid-grant 0"  # the refresh token was refused: a new one is needed
    " oauth-refused 0"  # another RFC 6749 5.2 error (client id, secret, scope)
    " oauth-http ?"  # an HTTP status without a usable body (5xx and 429 transient)
    " oauth-bad-response ?"  # malformed, too large or truncated
    " oauth-url 0"  # the token URL is not https:// or is malformed
    # the store (StoreError)
    " store 0"  # the store could not complete an operation
    " store-full 0"  # the filesystem is full; the store is unchanged
    " not-found 0"  # no entry with that id
    # the send engine
    " cancelled 0"  # cancelled or suspended by the user
    " no-messages 0"  # nothing to send (progress only; KSmtpNoMsgsToSendWithActiveSettings)
    " "
)


def transient_of(code):
    """Whether errors with this code are transient by default (CODES; False if unlisted)."""
    i = CODES.find(" " + code + " ")
    return i >= 0 and CODES[i + len(code) + 2] == "1"


def tls_failed(code):
    """Whether an error code says TLS could not be set up or verified (tls, tls-...)."""
    return code == "tls" or code[:4] == "tls-"


ENOENT = 2
EISDIR = 21
ENOSPC = 28


class SmtpMtmError(Exception):
    """Base of every error smtpmtm raises: message, code (default the class's) and
    transient (default: CODES says)."""

    code = "error"

    def __init__(self, message, code=None, transient=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.transient = transient_of(self.code) if transient is None else transient


class InputError(SmtpMtmError):
    """Bad input from the caller, found before anything went on the wire."""

    code = "input"


class ProtocolError(SmtpMtmError):
    """The server broke the protocol (malformed, oversized or unexpected reply)."""

    code = "protocol"


class ReplyError(SmtpMtmError):
    """The server answered a command with a 4xx (transient) or 5xx reply; ``refused``
    holds every recipient's refusal when no RCPT was accepted."""

    code = "reply"

    def __init__(self, command, reply_code, text, enhanced=None, refused=None, transient=None):
        msg = "%s refused: %d %s%s" % (
            command,
            reply_code,
            (enhanced + " ") if enhanced else "",
            text,
        )
        super().__init__(msg, None, 400 <= reply_code < 500 if transient is None else transient)
        self.command = command
        self.reply_code = reply_code
        self.enhanced = enhanced
        self.text = text
        self.refused = refused


class ConnectionLost(SmtpMtmError):
    """The connection closed or failed; transient."""

    code = "connection-lost"


class Timeout(SmtpMtmError):
    """A per-command deadline (RFC 5321 section 4.5.3.2) passed; transient."""

    code = "timeout"


class LinkDown(SmtpMtmError):
    """No connect hook could bring a link up; transient."""

    code = "link-down"


class TlsError(SmtpMtmError):
    """TLS could not be established or verified; the code (tls-...) says which case;
    ``reply_code`` is the reply to a refused STARTTLS."""

    code = "tls"

    def __init__(self, message, code=None, transient=None, reply_code=0):
        super().__init__(message, code, transient)
        self.reply_code = reply_code


class StoreError(SmtpMtmError):
    """The message store could not complete an operation (I/O, full, corrupt)."""

    code = "store"


class StoreFull(StoreError):
    """The filesystem ran out of space; the store is unchanged."""

    code = "store-full"


class NotFound(StoreError):
    """No entry with that id."""

    code = "not-found"


class SettingsError(InputError):
    """Invalid settings; the message names the field."""

    code = "settings"


class Cancelled(SmtpMtmError):
    """The operation was cancelled or suspended by the user."""

    code = "cancelled"


def whole(what, v, least=0, unit="a whole number", error=InputError):
    """v, when it is an int of at least ``least`` (a bool is no number here); else ``error``
    naming it: "<what>: <unit>, <least> or more, not <v>"."""
    if type(v) is not int or v < least:
        raise error("%s: %s, %d or more, not %r" % (what, unit, least, v))
    return v


def errno_of(exc):
    n = getattr(exc, "errno", None)
    if n is None and exc.args and isinstance(exc.args[0], int):
        n = exc.args[0]
    return n


def file_why(exc):
    """Why a file could not be read, in words: "no such file", "a directory", or the error."""
    n = errno_of(exc)
    return "no such file" if n == ENOENT else "a directory" if n == EISDIR else str(exc)


def store_error(what, exc):
    """The StoreError (StoreFull for ENOSPC) for OSError exc during `what`."""
    if errno_of(exc) == ENOSPC:
        return StoreFull("store full: %s (%s)" % (what, exc))
    return StoreError("%s failed: %s" % (what, exc))


def classify(exc):
    """(permanent, session_alive) for an error raised while sending one message.

    RFC 5321 section 4.2.1: 5yz permanent, 4yz transient; 421 closes the
    session (section 3.8); 552 to RCPT is temporary (section 4.5.3.1.10).
    """
    if isinstance(exc, ReplyError):
        code = exc.reply_code
        if code == 421:
            return False, False
        if code == 552 and (exc.command or "").upper().startswith("RCPT"):
            return False, True
        return code >= 500, True
    if isinstance(exc, (ConnectionLost, Cancelled)):
        return False, False
    if isinstance(exc, SmtpMtmError):
        return not exc.transient and exc.code != "protocol", False
    return False, False

"""The error hierarchy of smtpmtm.

Every error the core raises is an ``SmtpMtmError`` carrying a short machine
readable ``code`` (a string such as ``"input"``, ``"tls-unknown-ca"``) and a
human readable message, and telling whether it is ``transient`` (worth a retry:
4xx replies, a lost connection, a timeout, a link that is down) or permanent.
No ``assert`` is used for validation: MicroPython strips asserts under -O.

Example::

    try:
        ...
    except ReplyError as e:
        print(e.reply_code, e.enhanced, e.text, e.transient)

``store_error(what, exc)`` maps an ``OSError`` met during ``what`` into this
hierarchy (``StoreFull`` for ENOSPC, else ``StoreError``).
"""

ENOSPC = 28


class SmtpMtmError(Exception):
    """Base of every error smtpmtm raises."""

    code = "error"
    transient = False

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        return self.message


class InputError(SmtpMtmError):
    """Bad input from the caller, found before anything went on the wire."""

    code = "input"


class ProtocolError(SmtpMtmError):
    """The server broke the protocol (malformed, oversized or unexpected reply)."""

    code = "protocol"


class ReplyError(SmtpMtmError):
    """The server answered a command with a 4xx or 5xx reply."""

    code = "reply"

    def __init__(self, command, reply_code, text, enhanced=None):
        msg = "%s refused: %d %s%s" % (
            command,
            reply_code,
            (enhanced + " ") if enhanced else "",
            text,
        )
        super().__init__(msg)
        self.command = command
        self.reply_code = reply_code
        self.enhanced = enhanced
        self.text = text
        self.transient = 400 <= reply_code < 500


class ConnectionLost(SmtpMtmError):
    """The connection closed or failed; transient."""

    code = "connection-lost"
    transient = True


class Timeout(SmtpMtmError):
    """A per-command deadline (RFC 5321 section 4.5.3.2) passed; transient."""

    code = "timeout"
    transient = True


class LinkDown(SmtpMtmError):
    """No connect hook could bring a link up; transient."""

    code = "link-down"
    transient = True


class TlsError(SmtpMtmError):
    """TLS could not be established or verified; the code says which case.

    Codes: tls-not-offered, tls-refused, tls-injection, tls-self-signed,
    tls-unknown-ca, tls-expired, tls-hostname, tls-handshake, tls-required.
    """

    code = "tls"


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


def errno_of(exc):
    n = getattr(exc, "errno", None)
    if n is None and exc.args and isinstance(exc.args[0], int):
        n = exc.args[0]
    return n


def store_error(what, exc):
    """The StoreError (StoreFull for ENOSPC) for OSError exc during `what`."""
    if errno_of(exc) == ENOSPC:
        return StoreFull("store full: %s (%s)" % (what, exc))
    return StoreError("%s failed: %s" % (what, exc))

"""Incremental, bounded parser of SMTP server replies.

Bytes go in as they arrive, split at any byte; complete replies come out.
RFC 5321 section 4.2 (reply syntax: ``NNN-text`` continuation lines and a final
``NNN text`` line, all with the same code), section 4.2.1 (multi-line replies),
section 4.5.3.1.5 (a reply line is at most 512 octets including CRLF) and
RFC 3463 / RFC 2034 (an enhanced status code ``X.Y.Z`` leading the text is
split out and kept).  A hostile server cannot exhaust memory: a line longer
than ``max_line`` octets, a reply of more than ``max_lines`` lines or more
than ``max_bytes`` of text, a non-digit code, a bad separator or a code that
changes inside a multi-line reply raises ``ProtocolError``, and the parser
stays failed.

Example::

    p = ReplyParser()
    p.feed(b"250-mx.example.org\\r\\n250-PIPE")
    p.next()                  # -> None (reply not complete yet)
    p.feed(b"LINING\\r\\n250 8BITMIME\\r\\n")
    r = p.next()              # r.code == 250, r.lines == ["mx.example.org", "PIPELINING", "8BITMIME"]
"""

from ..compat import const, to_text
from ..errors import ProtocolError

_MAX_LINE = const(512)  # RFC 5321 4.5.3.1.5: reply line incl. CRLF
_MAX_LINES = const(100)
_MAX_BYTES = const(8192)  # total text kept per reply


def split_enhanced(code, text):
    """Split a leading RFC 3463 enhanced code ("5.1.1 text") off text if it matches code's class."""
    head, _, rest = text.partition(" ")
    parts = head.split(".")
    # RFC 3463 section 2: class "2"/"4"/"5" (the reply's), subject 1-3 digits, detail 1-3 digits
    if len(parts) != 3 or head[:2] not in ("2.", "4.", "5.") or head[0] != str(code)[0]:
        return None, text
    for p in parts:
        if not p.isdigit() or len(p) > 3:
            return None, text
    return head, rest


class Reply:
    """One complete reply: ``code`` (int), ``enhanced`` ("5.1.1" or None),
    ``lines`` (texts without code, separator or enhanced code) and ``text``
    (the lines joined with a space)."""

    def __init__(self, code, lines, enhanced=None):
        self.code = code
        self.lines = lines
        self.enhanced = enhanced
        self.text = " ".join(lines)

    def __repr__(self):
        return "Reply(%d, %r, %r)" % (self.code, self.enhanced, self.lines)


class ReplyParser:
    """Feed bytes with ``feed()``; take replies with ``next()`` (None = need more)."""

    def __init__(self, max_line=_MAX_LINE, max_lines=_MAX_LINES, max_bytes=_MAX_BYTES):
        self.max_line = max_line
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.reset()

    def reset(self):
        """Forget everything buffered (RFC 3207 section 4.2 after STARTTLS)."""
        self._buf = b""
        self._pos = 0  # bytes of _buf already consumed (no copy per line)
        self._code = None
        self._lines = []
        self._enh = None
        self._size = 0
        self.error = None

    def buffered(self):
        """Bytes received but not yet consumed (partial or unread replies)."""
        return len(self._buf) - self._pos + (1 if self._code is not None else 0)

    def feed(self, data):
        if self.error:
            raise self.error
        if data:
            if self._pos < len(self._buf):
                self._buf = self._buf[self._pos:] + bytes(data)
            else:
                self._buf = bytes(data)
            self._pos = 0

    def _fail(self, msg):
        self.error = ProtocolError("bad reply from server: " + msg)
        self._buf = b""
        self._pos = 0
        self._lines = []
        raise self.error

    def next(self):
        """Return the next complete Reply, or None when more bytes are needed."""
        if self.error:
            raise self.error
        while True:
            buf, pos = self._buf, self._pos
            i = buf.find(b"\n", pos)
            # the line up to its LF, or what is buffered plus the LF still to come
            if (i if i >= 0 else len(buf)) + 1 - pos > self.max_line:
                self._fail("line longer than %d octets" % self.max_line)
            if i < 0:
                return None
            line = buf[pos:i]
            self._pos = i + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            r = self._line(line)
            if r is not None:
                return r

    def _line(self, line):
        # RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39, then "-", SP or CRLF
        if len(line) < 3:
            self._fail("short line %r" % line[:20])
        c0, c1, c2 = line[0] - 48, line[1] - 48, line[2] - 48
        if not (2 <= c0 <= 5 and 0 <= c1 <= 5 and 0 <= c2 <= 9):
            self._fail("bad reply code %r" % line[:3])
        code = c0 * 100 + c1 * 10 + c2
        sep = line[3] if len(line) > 3 else 0x20
        if sep != 0x20 and sep != 0x2D:
            self._fail("bad separator after code %d" % code)
        if self._code is not None and code != self._code:
            # RFC 5321 4.2.1: every line of a multi-line reply has the same code
            self._fail("code changed inside a multi-line reply (%d then %d)" % (self._code, code))
        self._code = code
        self._size += len(line)
        if len(self._lines) >= self.max_lines or self._size > self.max_bytes:
            self._fail("reply longer than %d lines / %d octets" % (self.max_lines, self.max_bytes))
        text = to_text(line[4:])
        if not self._lines:
            self._enh, text = split_enhanced(code, text)
        elif self._enh:
            e, t = split_enhanced(code, text)
            if e == self._enh:
                text = t
        self._lines.append(text)
        if sep == 0x2D:
            return None
        r = Reply(code, self._lines, self._enh)
        self._code = None
        self._lines = []
        self._enh = None
        self._size = 0
        return r

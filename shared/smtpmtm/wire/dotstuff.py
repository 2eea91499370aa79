"""Incremental CRLF normalisation and dot-stuffing of a message body.

The body arrives in chunks that may end anywhere, even between a CR and its LF
or in the middle of a line.  ``Encoder`` turns each chunk into wire bytes:

- every bare CR and every bare LF becomes CRLF (RFC 5321 section 2.3.8: only
  CRLF ends a line; section 4.1.1.4: bare CR/LF MUST NOT be sent), so the
  "SMTP smuggling" class (CVE-2023-51764: ``\\n.\\n``, ``\\r.\\r``,
  ``\\n.\\r\\n``... in a body) can never end the DATA early;
- with ``stuff=True`` (DATA) a line starting with "." gets one more "."
  (RFC 5321 section 4.5.2, transparency);
- ``end()`` returns the tail: a held-back CR, a CRLF if the body does not end
  with one (RFC 5321 4.1.1.4) and, for DATA, the terminating ``.CRLF``.

BDAT (RFC 3030) uses ``stuff=False``: no dot-stuffing, still normalised; the
BDAT count must be taken over the normalised bytes.  ``unstuff()`` is the
receiving side (for tests and fake servers).

Example::

    e = Encoder()
    wire = e.feed(b"hi\\n.") + e.feed(b"\\r") + e.end()
    # wire == b"hi\\r\\n..\\r\\n.\\r\\n"
"""


class Encoder:
    def __init__(self, stuff=True):
        self.stuff = stuff
        self.bol = True  # at the beginning of a line
        self.cr = False  # a CR held back from the end of the previous chunk

    def feed(self, chunk):
        """Return the wire bytes for this chunk (may hold back one trailing CR)."""
        if not chunk:
            return b""
        chunk = bytes(chunk)
        if self.cr:
            chunk = b"\r" + chunk
            self.cr = False
        if chunk[-1] == 13:
            self.cr = True
            chunk = chunk[:-1]
            if not chunk:
                return b""
        n = chunk.count(b"\r\n")
        if chunk.count(b"\r") != n or chunk.count(b"\n") != n:
            # slow path: some bare CR or LF; make every line end CRLF
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        if self.stuff:
            if self.bol and chunk[0] == 46:
                chunk = b"." + chunk
            if b"\n." in chunk:
                chunk = chunk.replace(b"\n.", b"\n..")
        self.bol = chunk[-1] == 10
        return chunk

    def end(self):
        """Return the final bytes: held CR, a closing CRLF if needed, and ".CRLF" for DATA."""
        tail = b""
        if self.cr:
            tail = b"\r\n"
            self.cr = False
            self.bol = True
        elif not self.bol:
            tail = b"\r\n"  # RFC 5321 4.1.1.4: the body must end with CRLF
            self.bol = True
        if self.stuff:
            tail += b".\r\n"
        return tail


def normalise(data):
    """Reference CRLF normalisation of a whole body (what the receiver should see)."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


def unstuff(wire):
    """Server side of DATA: take wire bytes after 354, return (body, rest) or None.

    ``body`` is the un-stuffed message (ends with CRLF unless empty) and
    ``rest`` whatever follows the first terminator; None if no terminator.
    """
    if wire.startswith(b".\r\n"):
        return b"", wire[3:]
    i = wire.find(b"\r\n.\r\n")
    if i < 0:
        return None
    body = wire[: i + 2]
    rest = wire[i + 5 :]
    if body.startswith(b"."):
        body = body[1:]
    return body.replace(b"\r\n.", b"\r\n"), rest

"""Streaming transfer encodings for the MIME builder: base64, quoted-printable, 7bit/8bit.

Every encoder takes an iterator of byte blocks (text_pieces and file_blocks make them)
and yields encoded byte chunks of bounded size, so a part is never held whole in RAM.
Follows RFC 2045 §6.7 (quoted-printable: "=XX" upper-case, soft breaks, encoded lines
<= 76 characters, trailing white space encoded), §6.8 (base64, lines of 76 characters,
57 input bytes a line), §2.7/§2.8 (7bit/8bit: CRLF line breaks, no NUL, lines <= 998)
and RFC 5322 §2.1.1 (lines never over 998 octets).

Example::

    from smtpmtm.mime import encoders
    raw = os.stat("/flash/pic.jpg")[6]
    size = encoders.b64_size(raw)  # the encoded size, known before the first byte
    for chunk in encoders.b64(encoders.file_blocks("/flash/pic.jpg", encoders.READ, raw, "attach")): ...
"""

import binascii

from ..compat import const
from ..errors import InputError

READ = const(1482)  # 26 base64 lines of 57 bytes: one read -> 2028 encoded bytes (<= CHUNK)
TEXT_READ = const(256)  # a text read; CRLF normalising at most doubles it, QP at most triples
LINE_MAX = const(998)  # RFC 5322 §2.1.1
_HEXD = b"0123456789ABCDEF"


def text_pieces(text, chars):
    """Yield text (a str, encoded as UTF-8, or bytes) in slices of ``chars`` characters."""
    for i in range(0, len(text), chars):
        p = text[i:i + chars]
        yield p if isinstance(p, bytes) else p.encode()


def file_blocks(path, n, expect, field):
    """Yield the file's blocks of exactly n bytes (the last may be shorter): memoryviews of one
    reused buffer, so use each before asking for the next. With expect (not None), InputError
    naming field when the file no longer has that many bytes."""
    buf = bytearray(n)  # one preallocated buffer for the whole file: bounded memory
    mv = memoryview(buf)
    total = 0
    with open(path, "rb") as f:
        while True:
            got = 0
            while got < n:
                k = f.readinto(mv[got:])
                if not k:
                    break
                got += k
            total += got
            if expect is not None and (total > expect or (got < n and total != expect)):
                # the promised size (SMTP SIZE=, the exact length) would be a lie
                raise InputError("%s: %r changed after build()" % (field, path))
            if got:
                yield mv[:got]
            if got < n:
                return


def regroup(pieces, n):
    """Re-cut a stream of byte pieces into blocks of exactly n bytes (the last may be shorter)."""
    buf = b""
    for p in pieces:
        buf += p
        while len(buf) >= n:
            yield buf[:n]
            buf = buf[n:]
    if buf:
        yield buf


def b64_size(n):
    """Exact size of the base64 body for n input bytes: 76-column lines joined by CRLF."""
    # 4 characters per 3 bytes (the last group padded); a line per 57 bytes, CRLF between lines
    return (n + 2) // 3 * 4 + (n + 56) // 57 * 2 - 2 if n else 0


def b64(blocks):
    """Base64 (RFC 2045 §6.8) of blocks whose sizes are multiples of 57 (the last may be
    shorter); lines of 76 characters joined by CRLF, no CRLF after the last."""
    buf = None  # one output buffer, sized by the first block: no per-line allocations
    start = 2  # 0 after the first block: later blocks start with the CRLF ending the last line
    for blk in blocks:
        enc = binascii.b2a_base64(blk, newline=False)
        n = len(enc)
        if buf is None:
            # the CRLFs sit at fixed places (every 78 bytes), written once: only lines move
            buf = bytearray((b"\r\n" + b" " * 76) * ((n + 75) // 76))
            mv = memoryview(buf)
        ev = memoryview(enc)
        o = 2
        for i in range(0, n - 76, 76):
            mv[o:o + 76] = ev[i:i + 76]
            o += 78
        i = (n - 1) // 76 * 76
        mv[o:o + n - i] = ev[i:]
        ev = enc = None  # not kept alive while the chunk is out: less heap at the peak
        yield bytes(mv[start:o + n - i])
        start = 0


def crlf(blocks):
    """Canonical text (RFC 2045 §2.7, RFC 5322 §2.3): CR, LF and CRLF become CRLF, and a
    non-empty text that does not end with a line break gets one."""
    cr = False
    last = 10
    for b in blocks:
        b = bytes(b)
        if cr:
            b = b"\r" + b
        cr = b.endswith(b"\r")
        if cr:
            b = b[:-1]
        if not b:
            continue
        b = b.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        last = b[-1]
        yield b
    if cr or last != 10:
        yield b"\r\n"


def scan(chunks, marker):
    """Facts of canonical text chunks: (size, eight_bit, longest_line, has_nul, has_marker).
    The marker search carries the tail of the previous chunk, so a match split across
    two chunks is found too."""
    size = 0
    eight = nul = found = False
    longest = col = 0
    keep = len(marker) - 1
    tail = b""
    for c in chunks:
        size += len(c)
        if not eight and max(c) > 127:
            eight = True
        if not nul and b"\0" in c:
            nul = True
        if not found:
            t = tail + c
            found = marker in t
            tail = t[-keep:] if keep else b""
        i = 0
        while True:
            j = c.find(b"\n", i)
            if j < 0:
                col += len(c) - i
                break
            col += j - i - 1  # the CR before the LF is not part of the line
            if col > longest:
                longest = col
            col = 0
            i = j + 1
    if col > longest:
        longest = col
    return size, eight, longest, nul, found


def _qp_put(out, col, c, lit):
    # append byte c (as is when lit, else "=XX") after a soft break if the line would pass 75
    # characters (§6.7(5): 75 + "=" = 76); -> the new column
    n = 1 if lit else 3
    if col + n > 75:
        out += b"=\r\n"
        col = 0
    if lit:
        out.append(c)
    else:
        out.append(61)
        out.append(_HEXD[c >> 4])
        out.append(_HEXD[c & 15])
    return col + n


def qp(chunks, binary=False):
    """Quoted-printable (RFC 2045 §6.7) of chunks, one encoded chunk per chunk.

    Text mode takes canonical CRLF text (from crlf()) and writes its line breaks as hard
    breaks; binary mode encodes CR and LF as =0D/=0A. Space and tab are held back one
    byte: written as is before other text, as =20/=09 before a line break or at the end
    (§6.7(3)). Every encoded line has at most 75 characters plus a soft-break "=".
    """
    col = 0
    ws = -1  # the space or tab held back
    for data in chunks:
        out = bytearray()
        for c in data:
            if not binary and (c == 13 or c == 10):
                if c == 13:
                    continue
                c = -1  # a hard line break
            if ws >= 0:
                col = _qp_put(out, col, ws, c >= 0)
                ws = -1
            if c < 0:
                out += b"\r\n"
                col = 0
            elif c == 32 or c == 9:
                ws = c
            else:
                col = _qp_put(out, col, c, 33 <= c <= 126 and c != 61)
        if out:
            yield bytes(out)
    if ws >= 0:
        out = bytearray()
        _qp_put(out, col, ws, False)
        yield bytes(out)

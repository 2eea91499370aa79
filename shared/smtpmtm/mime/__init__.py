"""Streaming MIME builder: a message as byte chunks, its exact size known before the first.

Parts: text/plain, text/html (multipart/alternative when both), inline images
(multipart/related with Content-ID, RFC 2387/2392), attachments (multipart/mixed) and
message/rfc822 attachments (RFC 2046 §5.2.1: 7bit/8bit only), read from files in fixed
blocks. Structure: mixed > related > alternative as needed; one part when only text.
Encodings (RFC 2045 §6), chosen per part when not given: text is 7bit when ASCII with
lines <= 998 octets (RFC 5322 §2.1.1), else quoted-printable (8bit when asked); files
are base64. Text is canonical CRLF and ends with a line break. Each leaf is read once in
blocks at build() to choose its encoding and compute its exact encoded size; its Body
streams the same bytes later. Content headers: RFC 2045 §5/§6, RFC 2183
Content-Disposition with RFC 2231 file names, RFC 2392 Content-ID; the rest: headers.py.
Building twice gives the same bytes: boundaries come from the Message-ID and a counter
(RFC 2046 §5.1.1: never inside the content). Bad input raises errors.InputError naming
the field, in build(), before any byte is produced. No clock is read.

API::

    m = Message(sender, to=(), cc=(), bcc=(), reply_to=None, subject="", date=None,
                tz_minutes=0, message_id=None, in_reply_to=None, references=(),
                priority=None, receipt_to=None, headers=())
        # addresses: "a@b.org", "Ann <a@b.org>" or ("Ann", "a@b.org"); date: Unix
        # seconds (None: no Date header); priority: "high"/"normal"/"low"; headers:
        # [(name, value)]; message_id None: made once by build() and kept on m
    m.set_text(text=None, path=None, encoding=None)   # str/bytes or a UTF-8 file
    m.set_html(html=None, path=None, encoding=None)   # encoding: None (auto), "7bit",
    m.attach(path, name=None, content_type=None,      #   "8bit", "quoted-printable",
             inline_cid=None, encoding=None)          #   "base64"
    m.attach_message(path, name=None)                 # message/rfc822 from a file
    m.recipients()                                    # envelope: To + Cc + Bcc addresses
    b = build(m, show_bcc=None)   # show_bcc="x@y": a Bcc header with only that address
    b.size, b.needs_8bit, b.needs_smtputf8, b.message_id
    b.chunks()                    # bytes of <= CHUNK (2048); the same on every call;
                                  # InputError if a file changed size since build()
    (addresses, Message-IDs and dates: smtpmtm.syntax)

Example::

    from smtpmtm import mime
    m = mime.Message(sender=("Pump House", "pump@example.com"), to=["ann@example.com"],
                     subject="Alarm \u2713", date=1732790000, tz_minutes=60)
    m.set_text("Pressure low")
    m.attach("/flash/log.csv")
    b = mime.build(m)
    for chunk in b.chunks(): stream.write(chunk)
"""

import os

from . import encoders as enc
from . import headers as hd
from .filetypes import guess_type
from ..compat import const, is_ascii
from ..errors import InputError, file_why
from ..syntax import check_msg_id, check_text, message_id_for

CHUNK = const(2048)  # largest chunk chunks() yields; each chunk costs a trip down the session


class Leaf:
    """A leaf part: kind ("text", "html", "file", "message"), its bytes (text: a str, encoded
    as UTF-8 in slices, or bytes; else the file at path, read in blocks; prepare() checks the
    file can be read), the field naming it in errors, the encoding asked for, and for a file
    its name, content type and Content-ID."""

    def __init__(self, kind, text, path, field, enc_=None, name=None, ctype=None, cid=None):
        self.kind, self.text, self.path, self.field = kind, text, path, field
        self.enc, self.name, self.ctype, self.cid = enc_, name, ctype, cid

    def blocks(self, n, expect=None):
        """Blocks of exactly n bytes (the last may be shorter); see encoders.file_blocks."""
        if self.path is None:
            return enc.regroup(enc.text_pieces(self.text, n // 4), n)
        return enc.file_blocks(self.path, n, expect, self.field)


def _stream(leaf, how, raw):
    # a part's encoded bytes: a file as base64 ("b64", checked against its raw size as it is
    # read) or quoted-printable ("qpbin"); text made canonical CRLF, then as is ("7bit",
    # "8bit"), quoted-printable ("qp") or base64 ("b64t")
    if how == "b64":
        return enc.b64(leaf.blocks(enc.READ, raw))
    it = leaf.blocks(enc.TEXT_READ)
    if how == "qpbin":
        return enc.qp(it, True)
    it = enc.crlf(it)
    if how == "qp":
        return enc.qp(it)
    if how == "b64t":
        return enc.b64(enc.regroup(it, enc.READ))
    return it


class Body:
    """A part body streamed from its source; checks the size promised at build time."""

    def __init__(self, leaf, how, size, raw):
        self.leaf, self.how, self.size, self.raw = leaf, how, size, raw

    def chunks(self):
        it = _stream(self.leaf, self.how, self.raw)
        return it if self.how == "b64" else self._counted(it)

    def _counted(self, it):
        n = 0
        seven, raw = self.how == "7bit", self.how in ("7bit", "8bit")
        for c in it:
            n += len(c)
            # a file that changed after build() must not make SIZE= or the label lie
            if n > self.size or (raw and b"\0" in c) or (seven and max(c) > 127):
                break
            yield c
        else:
            if n == self.size:
                return
        raise InputError("%s: %r changed after build()" % (self.leaf.field, self.leaf.path))


def prepare(leaf, marker, state):
    """-> (content headers, Body). Sets state[0] for an 8bit part and state[1] when marker
    occurs in a 7bit/8bit part (the message then needs another boundary marker)."""
    want, kind, field = leaf.enc, leaf.kind, leaf.field
    raw = 0  # a file's byte count (base64 is sized from it)
    if leaf.path is not None:
        try:
            with open(leaf.path, "rb") as f:
                f.read(1)
            raw = os.stat(leaf.path)[6]
        except (OSError, TypeError, ValueError) as e:
            raise InputError("%s: cannot read file %r (%s)" % (field, leaf.path, file_why(e)))
    if kind == "file" and want in (None, "base64"):
        how, size = "b64", enc.b64_size(raw)
    elif kind == "file" and want == "quoted-printable":
        how = "qpbin"
    else:
        size, eight, longest, nul, found = enc.scan(enc.crlf(leaf.blocks(enc.TEXT_READ)), marker)
        ok = not nul and longest <= enc.LINE_MAX
        if want is None and kind != "message":
            want = "7bit" if ok and not eight else "quoted-printable"
        if want == "quoted-printable":
            how = "qp"
        elif want == "base64":
            how, size = "b64t", enc.b64_size(size)
        else:
            if not ok or (eight and want == "7bit"):
                raise InputError("%s: cannot be sent %s: %s" % (
                    field, want or "7bit/8bit",
                    "NUL byte" if nul else "line over 998 octets" if not ok else "8-bit data"))
            state[0] = state[0] or eight
            state[1] = state[1] or found
            how = "8bit" if eight else "7bit"
    if how[0] == "q":  # the sizing pass: nothing is kept
        size = 0
        for c in _stream(leaf, how, raw):
            size += len(c)
    if kind in ("text", "html"):
        hdr = 'Content-Type: text/%s; charset="utf-8"\r\n' % ("plain" if kind == "text" else kind)
    else:
        hdr = file_headers(leaf, field)
    cte = "base64" if how[0] == "b" else "quoted-printable" if how[0] == "q" else how
    return hdr + "Content-Transfer-Encoding: %s\r\n" % cte, Body(leaf, how, size, raw)


def file_headers(leaf, field):
    name = leaf.name if leaf.name is not None else leaf.path.rsplit("/", 1)[-1]
    check_text(field + " name", name)
    for c in name:
        if ord(c) < 32 or ord(c) == 127:
            raise InputError("%s name: control character in %r" % (field, name))
    if not name or len(name.encode()) > 255:
        raise InputError("%s name: empty or over 255 bytes: %r" % (field, name))
    ct = check_text(field + " content_type", leaf.ctype).lower()
    t = ct.split("/")
    if len(t) != 2 or not t[0] or not t[1] or not is_ascii(ct) or " " in ct or len(ct) > 255 \
            or ";" in ct or t[0] == "multipart":
        raise InputError("%s content_type: not a type/subtype: %r" % (field, ct))
    out = hd.fold("Content-Type", [ct + ";", hd.name_param(name)])
    params = hd.file_params(name)
    for i in range(len(params) - 1):
        params[i] += ";"
    out += hd.fold("Content-Disposition", ["inline;" if leaf.cid else "attachment;"] + params)
    if leaf.cid:
        cid = check_text(field + " inline_cid", leaf.cid).strip("<>")
        if not cid or len(cid) > 900 or not is_ascii(cid) or " " in cid or "<" in cid \
                or ">" in cid:
            raise InputError("%s inline_cid: not a content id: %r" % (field, leaf.cid))
        out += "Content-ID: <%s>\r\n" % cid
    return out


class Message:
    """What to send; see the module docstring. Addresses: "a@b", "Ann <a@b>" or (name, addr)."""

    def __init__(self, sender, to=(), cc=(), bcc=(), reply_to=None, subject="", date=None,
                 tz_minutes=0, message_id=None, in_reply_to=None, references=(),
                 priority=None, receipt_to=None, headers=()):
        self.sender, self.to, self.cc, self.bcc = sender, list(to), list(cc), list(bcc)
        self.reply_to, self.subject, self.date, self.tz_minutes = reply_to, subject, date, tz_minutes
        self.message_id, self.in_reply_to, self.references = message_id, in_reply_to, references
        self.priority, self.receipt_to, self.headers = priority, receipt_to, headers
        self.text = self.html = None
        self.files = []

    def set_text(self, text=None, path=None, encoding=None):
        self.text = _body("text", text, path, encoding)

    def set_html(self, html=None, path=None, encoding=None):
        self.html = _body("html", html, path, encoding)

    def attach(self, path, name=None, content_type=None, inline_cid=None, encoding=None):
        """A file attachment, or an inline part (multipart/related) when inline_cid is given."""
        ct = content_type or guess_type(name or path)
        if ct.lower() == "message/rfc822":
            return self.attach_message(path, name)
        f = "attach[%d]" % len(self.files)
        self.files.append(Leaf("file", None, path, f, _check_enc(f, encoding), name, ct, inline_cid))

    def attach_message(self, path, name=None):
        """A message/rfc822 attachment read from a file (sent 7bit or 8bit, CRLF lines)."""
        f = "attach_message[%d]" % len(self.files)
        self.files.append(Leaf("message", None, path, f, None, name, "message/rfc822"))

    def recipients(self):
        """Envelope recipients (To, Cc, Bcc addresses), checked."""
        out = []
        for field in ("to", "cc", "bcc"):
            for _, a in hd.addresses(self, field):
                out.append(a)
        return out


def _body(kind, text, path, encoding):
    if (text is None) == (path is None):
        raise InputError("%s: give either text or path" % kind)
    return Leaf(kind, text, path, kind, _check_enc(kind, encoding))


def _check_enc(field, e):
    if e not in (None, "7bit", "8bit", "quoted-printable", "base64"):
        raise InputError("%s: unknown encoding %r" % (field, e))
    return e


def _fnv(data):
    h = 0x811C9DC5  # FNV-1a, 32 bits: a stable hash identical on both interpreters
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _tree(m):
    # a leaf, or (subtype, children, type= parameter) for multipart/subtype
    body = ("alternative", [m.text, m.html], None) if m.text and m.html else m.text or m.html
    inl, att = [], []  # inline parts (with a Content-ID), attachments
    for f in m.files:
        (inl if f.cid else att).append(f)
    if inl and body is not None:
        root = "multipart/alternative" if isinstance(body, tuple) else \
            "text/" + ("plain" if body.kind == "text" else "html")
        body = ("related", [body] + inl, root)
    elif inl:
        att = inl + att
    if att:
        body = ("mixed", ([body] if body is not None else []) + att, None)
    return body if body is not None else _body("text", "", None, None)


def _render(node, marker, state):
    """-> (content headers, [segments]) for a leaf or a multipart node; state: see build()."""
    if isinstance(node, Leaf):
        hdr, body = prepare(node, marker, state)
        return hdr, [body]
    state[2] += 1
    # The boundary holds "=_": that pair never occurs in base64 (no "_" in its alphabet,
    # "=" only as final padding) nor in quoted-printable (every "=" is followed by a hex
    # digit or a line break), so only 7bit/8bit parts need the scan in prepare().
    bnd = "%s_%d" % (marker.decode(), state[2])
    params = ['multipart/%s;' % node[0], 'boundary="%s"' % bnd]
    if node[2]:
        params[1] += ";"
        params.append('type="%s"' % node[2])
    segs = []
    for child in node[1]:
        chdr, csegs = _render(child, marker, state)
        segs.append(("--%s\r\n%s\r\n" % (bnd, chdr)).encode())
        segs += csegs
        segs.append(b"\r\n")
    segs.append(("--%s--" % bnd).encode())
    return hd.fold("Content-Type", params), segs


class Built:
    """A built message: .size (exact, known now), .needs_8bit, .needs_smtputf8, .chunks()."""

    def __init__(self, segs, needs_8bit, needs_smtputf8, message_id):
        self._segs = segs
        self.size = 0
        for s in segs:
            self.size += len(s) if isinstance(s, bytes) else s.size
        self.needs_8bit, self.needs_smtputf8, self.message_id = needs_8bit, needs_smtputf8, message_id

    def chunks(self):
        """Yield the message as bytes chunks of at most CHUNK bytes, CRLF line ends."""
        for s in self._segs:
            if isinstance(s, bytes):
                for i in range(0, len(s), CHUNK):
                    yield s[i:i + CHUNK]
            else:  # a body's chunks are < CHUNK: encoders.READ and TEXT_READ are sized so
                yield from s.chunks()


def build(m, show_bcc=None):
    """Check m, size every part (reading files in blocks) and return a Built."""
    if m.message_id is None:  # fixed on the message: building again gives the same bytes
        m.message_id = message_id_for(hd.norm_address(m.sender, "sender")[1])
    msgid = check_msg_id("message_id", m.message_id)
    top, utf8 = hd.top_headers(m, msgid, show_bcc)
    tree = _tree(m)
    for salt in range(8):
        marker = ("=_%08x" % _fnv((msgid + str(salt)).encode())).encode()
        state = [False, False, 0]  # an 8bit part, marker found in a 7bit/8bit part, multiparts
        hdr, segs = _render(tree, marker, state)
        if not state[1]:
            break
    else:
        raise InputError("content: every boundary tried occurs in a 7bit/8bit part")
    if isinstance(tree, tuple) or (segs[0].how == "b64t" and segs[0].size):
        segs.append(b"\r\n")
    out = [(top + hdr + "\r\n").encode()]
    for s in segs:  # merge neighbouring literal segments
        if isinstance(s, bytes) and isinstance(out[-1], bytes):
            out[-1] += s
        else:
            out.append(s)
    return Built(out, state[0] or utf8, utf8, msgid)

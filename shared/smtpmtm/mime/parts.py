"""Leaf parts of the MIME builder: choosing and sizing each part's transfer encoding.

For each leaf (text, html, file, message/rfc822) ``prepare()`` reads the source once in
blocks to decide the encoding (RFC 2045 §6: 7bit when ASCII with lines <= 998 octets,
RFC 5322 §2.1.1; else quoted-printable, or 8bit when asked; base64 for files) and to
compute the exact encoded size, then returns the part's content headers (RFC 2045 §5,
§6; RFC 2183 Content-Disposition with RFC 2231 file names; RFC 2392 Content-ID) and a
``Body`` that streams the same bytes later. Used by mime.py.

Example::

    from smtpmtm.mime import parts
    leaf = parts.Leaf("text", "hi", None, "text")
    state = [False, False, 0]  # 8bit part seen, marker found in a 7bit/8bit part, multiparts
    hdr, body = parts.prepare(leaf, b"=_12345678", state)
    body.size  # 4: b"hi\r\n"
"""

import os

from . import encoders as enc
from . import headers as hd
from ..compat import is_ascii
from ..errors import InputError
from ..syntax import check_text


class Leaf:
    """A leaf part: kind ("text", "html", "file", "message"), its bytes (text: a str, encoded
    as UTF-8 in slices, or bytes; else the file at path, read in blocks), the field naming it
    in errors, the encoding asked for, and for a file its name, content type and Content-ID."""

    def __init__(self, kind, text, path, field, enc_=None, name=None, ctype=None, cid=None):
        self.kind, self.text, self.path, self.field = kind, text, path, field
        self.enc, self.name, self.ctype, self.cid = enc_, name, ctype, cid

    def size(self):
        """The raw byte count; InputError naming the field if the file cannot be read."""
        if self.path is None:
            n = 0
            for b in self.blocks(enc.TEXT_READ):
                n += len(b)
            return n
        try:
            with open(self.path, "rb") as f:
                f.read(1)
            return os.stat(self.path)[6]
        except (OSError, TypeError, ValueError) as e:
            raise InputError("%s: cannot read file %r: %s" % (self.field, self.path, e))

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
    raw = leaf.size()  # InputError if the file cannot be read
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

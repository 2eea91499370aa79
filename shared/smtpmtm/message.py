"""The header stream of a stored message: its format and writer (reader: headpart.py).

A message entry in the store has parts (streams): ``header`` (this format),
``text`` (plain body, UTF-8), ``html`` (HTML body, UTF-8) and one part per
copied or created attachment (``a1``, ``a2``, ...). Linked attachments stay
where they are (only their path is recorded); a stored message attached as
message/rfc822 is a child entry of the message (its id is recorded).

The header part (Symbian's CImHeader stream) is UTF-8 text, one field per
line, ``key TAB value [TAB value ...] LF``; the first line is
``SMTPMTM-HEADER 1`` (the format version). Values never hold TAB, CR, LF or
NUL: CR/LF/NUL are refused (header injection, RFC 5322 section 2.2), TAB in
free text becomes a space. Unknown keys are skipped by the reader, so the
format can grow. Keys::

    subject TEXT        from NAME ADDR        to|cc|bcc NAME ADDR
    reply_to NAME ADDR  receipt_to NAME ADDR  message_id <ID>   date UNIX TZMIN
    in_reply_to <ID>    references <ID>       priority high|normal|low
    charset NAME        encoding NAME         body text|html PARTNAME
    att PART KIND NAME TYPE PATH ENTRY CID SIZE     hdr NAME VALUE

``read_header(store, id)`` returns the dict the send engine builds MIME from::

    {"from": (name, addr) or None, "to": [(name, addr)], "cc": [...], "bcc": [...],
     "subject": str, "message_id": str or None, "date": int or None, "tz": minutes,
     "in_reply_to": str or None, "references": [str], "priority": str or None,
     "receipt_to": (name, addr) or None, "reply_to": (name, addr) or None,
     "charset": str, "encoding": str, "text": part name or None, "html": part or None,
     "attachments": [{"part", "kind", "name", "type", "path", "entry", "cid", "size"}],
     "headers": [(name, value)]}

Attachment kinds: ``file`` (copied into part ``part``), ``linked`` (read from
``path``), ``message`` (the child entry ``entry``, to be sent as message/rfc822).

Example::

    from smtpmtm.message import read_header  # re-exported from headpart.py
    h = read_header(store, msg_id)
    for name, addr in h["to"] + h["cc"] + h["bcc"]: ...
"""

from .errors import InputError
from .store.headpart import (  # noqa: F401  (the format's names and reader, re-exported)
    HEADER, HTML, KIND_FILE, KIND_LINKED, KIND_MESSAGE, MAGIC, TEXT, VERSION, _ADDR_KEYS,
    _PAIR_KEYS, _STR_KEYS, new_header, parse_header, read_header)


def clean(value, what="value"):
    """Refuse CR/LF/NUL (RFC 5322 2.2: no bare CR/LF in a header), TAB -> space."""
    if value is None:
        return ""
    value = str(value)
    for ch in value:
        if ch == "\r" or ch == "\n" or ch == "\0":
            raise InputError("%s: must not contain CR, LF or NUL" % what)
    if "\t" in value:
        value = value.replace("\t", " ")
    return value


def _line(*fields):
    return ("\t".join(fields) + "\n").encode()


def header_chunks(h):
    """Yield the header part as bytes chunks (one line each); validates values."""
    yield _line(MAGIC + " %d" % VERSION)
    for k in _STR_KEYS:
        v = h.get(k)
        if v:
            yield _line(k, clean(v, k))
    for k in _PAIR_KEYS:
        v = h.get(k)
        if v:
            yield _line(k, clean(v[0], k), clean(v[1], k))
    for k in _ADDR_KEYS:
        for name, addr in h.get(k) or ():
            yield _line(k, clean(name, k), clean(addr, k))
    if h.get("date") is not None:
        yield _line("date", "%d" % h["date"], "%d" % (h.get("tz") or 0))
    for r in h.get("references") or ():
        yield _line("references", clean(r, "references"))
    for kind in (TEXT, HTML):
        if h.get(kind):
            yield _line("body", kind, clean(h[kind], "body"))
    for a in h.get("attachments") or ():
        yield _line("att", clean(a.get("part"), "att"), a.get("kind") or KIND_FILE,
                    clean(a.get("name"), "attachment name"), clean(a.get("type"), "type"),
                    clean(a.get("path"), "path"), "%d" % (a.get("entry") or 0),
                    clean(a.get("cid"), "cid"), "%d" % (a.get("size") or 0))
    for name, value in h.get("headers") or ():
        yield _line("hdr", clean(name, "header name"), clean(value, name))

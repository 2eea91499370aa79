"""The header part of a stored message (Symbian's CImHeader stream): its names, reader, writer.

A message entry in the store has parts (streams): ``header`` (this format),
``text`` (plain body, UTF-8), ``html`` (HTML body, UTF-8) and one part per
copied or created attachment (``a1``, ``a2``, ...). Linked attachments stay
where they are (only their path is recorded); a stored message attached as
message/rfc822 is a child entry of the message (its id is recorded).

The format (``SMTPMTM-HEADER 1``, one ``key TAB value ... LF`` line a field,
every key) is specified in SPEC.md section 8. Values never hold TAB, CR, LF
or NUL: CR/LF/NUL are refused (header injection, RFC 5322 section 2.2), TAB
in free text becomes a space. Unknown keys are skipped by the reader, so the
format can grow.

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
``header_chunks(h)`` writes the part back (the client; the store writes it with
its entry in one commit).

Example::

    from smtpmtm.store.headpart import read_header, header_chunks
    h = read_header(store, msg_id)
    for name, addr in h["to"] + h["cc"] + h["bcc"]: ...
    store.update(entry, {"header": header_chunks(h)})
"""

from ..errors import InputError, store_error

MAGIC = "SMTPMTM-HEADER"
VERSION = 1

HEADER = "header"
TEXT = "text"
HTML = "html"

KIND_FILE = "file"
KIND_LINKED = "linked"
KIND_MESSAGE = "message"

# keys with one value / with a (name, address) pair / with one (name, address) line each
_STR_KEYS = ("subject", "message_id", "in_reply_to", "priority", "charset", "encoding")
_PAIR_KEYS = ("from", "reply_to", "receipt_to")
_ADDR_KEYS = ("to", "cc", "bcc")


def new_header():
    """An empty header dict with every key."""
    return {"from": None, "to": [], "cc": [], "bcc": [], "subject": "", "message_id": None,
            "date": None, "tz": 0, "in_reply_to": None, "references": [], "priority": None,
            "receipt_to": None, "reply_to": None, "charset": "utf-8", "encoding": "mime",
            "text": None, "html": None, "attachments": [], "headers": []}


def parse_header(f):
    """Read a header part from binary file ``f`` into a dict (format: SPEC.md section 8)."""
    line = f.readline()  # one line at a time: bounded by the line
    if not line:
        raise InputError("header: empty header part")
    line = line.decode().rstrip("\n")
    if not line.startswith(MAGIC):
        raise InputError("header: not a smtpmtm header part")
    try:
        v = int(line[len(MAGIC):])  # int() skips the blanks around it
    except ValueError:
        v = 0
    if not 0 < v <= VERSION:
        raise InputError("header: unsupported version %r" % line)
    h = new_header()
    while True:
        line = f.readline()
        if not line:
            return h
        p = line.decode().rstrip("\n").split("\t")
        n = len(p)
        if n < 2:  # every key has a value
            continue
        k = p[0]
        v = p[1]
        if k in _STR_KEYS:
            h[k] = v
        elif k == "references":
            h[k].append(v)
        elif n > 2:
            pair = (v, p[2])
            if k in _ADDR_KEYS:
                h[k].append(pair)
            elif k in _PAIR_KEYS:
                h[k] = pair
            elif k == "hdr":
                h["headers"].append(pair)
            elif k == "date":
                h[k] = int(v)
                h["tz"] = int(p[2])
            elif k == "body" and v in (TEXT, HTML):
                h[v] = p[2]
            elif k == "att" and n >= 9:
                h["attachments"].append({"part": v or None, "kind": p[2], "name": p[3],
                                         "type": p[4], "path": p[5] or None,
                                         "entry": int(p[6]) or None, "cid": p[7] or None,
                                         "size": int(p[8])})


def read_header(store, msg_id):
    """The header dict of stored message ``msg_id`` (for the send engine)."""
    f = store.open_part(msg_id, HEADER)
    try:
        try:
            return parse_header(f)
        finally:
            f.close()
    except OSError as e:
        raise store_error("read header of %d" % msg_id, e)


# ---- the writer --------------------------------------------------------------------

def clean(value, what):
    """Refuse CR/LF/NUL (RFC 5322 2.2: no bare CR/LF in a header), TAB -> space."""
    if value is None:
        return ""
    value = str(value)
    if "\r" in value or "\n" in value or "\0" in value:
        raise InputError("%s: must not contain CR, LF or NUL" % what)
    return value.replace("\t", " ")


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

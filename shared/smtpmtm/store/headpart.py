"""The header part of a stored message: its format's names and its reader.

The format (``SMTPMTM-HEADER 1``, one ``key TAB value ... LF`` line a field)
is described in message.py, which writes it; this module reads it back, for
the send engine (which never loads the writer) and for the client.

``read_header(store, id)`` returns the dict the send engine builds MIME from
(its keys are those of ``new_header()``; see message.py).

Example::

    from smtpmtm.store.headpart import read_header
    h = read_header(store, msg_id)
    for name, addr in h["to"] + h["cc"] + h["bcc"]: ...
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

_ADDR_KEYS = ("to", "cc", "bcc")
_PAIR_KEYS = ("from", "reply_to", "receipt_to")
_STR_KEYS = ("subject", "message_id", "in_reply_to", "priority", "charset", "encoding")


def new_header():
    """An empty header dict with every key."""
    return {"from": None, "to": [], "cc": [], "bcc": [], "subject": "", "message_id": None,
            "date": None, "tz": 0, "in_reply_to": None, "references": [], "priority": None,
            "receipt_to": None, "reply_to": None, "charset": "utf-8", "encoding": "mime",
            "text": None, "html": None, "attachments": [], "headers": []}


def parse_header(f):
    """Read a header part from binary file ``f`` into a dict (format: message.py)."""
    h = new_header()
    first = True
    while True:
        line = f.readline()  # one line at a time: bounded by the line
        if not line:
            break
        line = line.decode().rstrip("\n")
        if first:
            first = False
            if not line.startswith(MAGIC):
                raise InputError("header: not a smtpmtm header part")
            try:
                v = int(line[len(MAGIC):].strip())
            except ValueError:
                v = 0
            if v < 1 or v > VERSION:
                raise InputError("header: unsupported version %r" % line)
            continue
        p = line.split("\t")
        k = p[0]
        n = len(p)
        if k in _ADDR_KEYS and n >= 3:
            h[k].append((p[1], p[2]))
        elif k in _STR_KEYS and n >= 2:
            h[k] = p[1]
        elif k in _PAIR_KEYS and n >= 3:
            h[k] = (p[1], p[2])
        elif k == "date" and n >= 3:
            h["date"] = int(p[1])
            h["tz"] = int(p[2])
        elif k == "references" and n >= 2:
            h["references"].append(p[1])
        elif k == "body" and n >= 3 and p[1] in (TEXT, HTML):
            h[p[1]] = p[2]
        elif k == "att" and n >= 9:
            h["attachments"].append({"part": p[1] or None, "kind": p[2], "name": p[3],
                                     "type": p[4], "path": p[5] or None,
                                     "entry": int(p[6]) or None, "cid": p[7] or None,
                                     "size": int(p[8])})
        elif k == "hdr" and n >= 3:
            h["headers"].append((p[1], p[2]))
    if first:
        raise InputError("header: empty header part")
    return h


def read_header(store, msg_id):
    """The header dict of stored message ``msg_id`` (for the send engine)."""
    f = store.open_part(msg_id, HEADER)
    try:
        try:
            return parse_header(f)
        finally:
            f.close()
    except OSError as e:
        raise store_error("read header of 0x%x" % msg_id, e)

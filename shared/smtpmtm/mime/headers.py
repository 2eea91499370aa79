"""Header text of a built message: folding, RFC 2047 words, RFC 2231 names, the top headers.

Follows RFC 5322 (§2.1.1 line length, §2.2.3 folding, §3.4 addresses, §3.6 the
fields), RFC 2047 (encoded words, UTF-8, B or Q, each <= 75 characters, never
splitting a character) and RFC 2231 (``filename*=utf-8''...`` with
continuations). The syntax of addresses, Message-IDs and dates is syntax.py's.

``top_headers(m, msgid, show_bcc)`` writes, in this order: Date (§3.6.1), From
(§3.6.2), Reply-To, To, Cc (§3.6.3; Bcc only as ``show_bcc``, one address),
Subject (RFC 2047 when not plain ASCII), Message-ID (§3.6.4), In-Reply-To,
References, X-Priority and Importance, Disposition-Notification-To (RFC 8098),
extra headers, MIME-Version (RFC 2045 §4). Every value is checked for CR, LF and
NUL (header injection).

Example::

    from smtpmtm.mime import headers
    headers.unstructured("Subject", "Alarm \u2713")  # 'Subject: =?utf-8?b?QWxhcm0g4pyT?=\\r\\n'
    headers.address_list("To", [("Ann", "ann@x.org")])  # 'To: Ann <ann@x.org>\\r\\n'
    text, utf8 = headers.top_headers(m, "<1@x.org>", None)
"""

import binascii

from ..compat import is_ascii
from ..errors import InputError
from ..syntax import ascii_alnum, check_address, check_msg_id, check_text, format_date, parse_address


def norm_address(value, field):
    """A str or (name, addr) pair -> checked (name, addr)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise InputError("%s: expected (name, address)" % field)
        return check_text(field, value[0] or ""), check_address(value[1], field)
    name, addr = parse_address(check_text(field, value))
    return name, check_address(addr, field)


def _esc(bs, safe, fmt):
    # bytes -> text: ASCII letters, digits and the characters of safe as they are, others fmt % byte
    out = ""
    for b in bs:
        c = chr(b)
        out += c if b < 128 and (ascii_alnum(c) or c in safe) else fmt % b
    return out


def _q(bs):
    # RFC 2047 §4.2 Q: "_" is a space; §5(3): only these stay literal, even in a phrase
    return _esc(bs, "!*+-/ ", "=%02X").replace(" ", "_")


def encode_words(text, first=75):
    """RFC 2047 encoded words (UTF-8; Q when shorter, else B) for text.

    Each word is <= 75 characters (the first <= ``first``), and a word always holds whole
    characters, so no UTF-8 sequence is split across words (RFC 2047 §5, §8). Words end
    after a space of the text when they can: parsers that (against §6.2) keep the white
    space between two encoded words then only double a space.
    """
    raw = text.encode()
    use_q = len(_q(raw)) <= (len(raw) + 2) // 3 * 4
    words = []
    room = first if first >= 30 else 75
    cur = b""
    cost = 0
    cut = cut_cost = 0  # last split point just after a space: a word ends there if it can
    for c in text:
        cb = c.encode()
        add = len(_q(cb)) if use_q else len(cb)
        while cur and 12 + (cost + add if use_q else (cost + add + 2) // 3 * 4) > room:
            k = cut if cut else len(cur)
            words.append(_word(cur[:k], use_q))
            room = 75
            cur, cost = cur[k:], cost - (cut_cost if cut else cost)
            cut = cut_cost = 0
        cur += cb
        cost += add
        if c == " ":
            cut, cut_cost = len(cur), cost
    if cur or not words:
        words.append(_word(cur, use_q))
    return words


def _word(bs, use_q):
    return "=?utf-8?" + ("q?" + _q(bs) if use_q else
                         "b?" + binascii.b2a_base64(bs, newline=False).decode()) + "?="


def fold(name, pieces):
    """``Name: p1 p2 ...`` folded before a piece when a line would pass 78 (RFC 5322 §2.2.3),
    or 76 when the header holds encoded words (RFC 2047 §2)."""
    width = 78  # RFC 5322 §2.1.1: lines SHOULD be <= 78 characters
    for p in pieces:
        if p.startswith("=?"):
            width = 76
    out = ""  # the lines before the current one, each ending in CRLF
    line = name + ":"
    empty = True  # nothing after the name yet: never fold there
    for p in pieces:
        if not empty and len(line) + 1 + len(p) > width:
            out += line + "\r\n"
            line = ""
        line += " " + p
        empty = False
    return out + line + "\r\n"


def _plain_words(text, extra):
    # printable ASCII words of allowed characters, single spaces, no "=?" (RFC 2047 §5 look-alike)
    if not text or text[0] == " " or text[-1] == " " or "  " in text or "=?" in text:
        return False
    for w in text.split(" "):
        if len(w) > 900:  # RFC 5322 §2.1.1: a line must never pass 998 octets
            return False
        for c in w:
            if not (32 < ord(c) < 127) or (extra is not None and not (ascii_alnum(c) or c in extra)):
                return False
    return True


def unstructured(name, text, field=None):
    """A folded unstructured header (Subject, extras): as is when plain ASCII, else RFC 2047."""
    check_text(field or name, text)
    if not text:
        return name + ":\r\n"
    if _plain_words(text, None):
        return fold(name, text.split(" "))
    return fold(name, encode_words(text, 74 - len(name)))


def phrase(name, first=75):
    """Pieces of an RFC 5322 §3.2.5 display name: atoms, a quoted string, or encoded words."""
    if not name:
        return []
    if _plain_words(name, "!#$%&'*+-/=?^_`{|}~"):  # RFC 5322 §3.2.3 atext
        return name.split(" ")
    if len(name) < 900 and "=?" not in name:
        for c in name:
            if not 32 <= ord(c) < 127:
                break
        else:  # printable ASCII: a quoted string
            return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return encode_words(name, first)


def address_list(name, addrs):
    """A folded address header from checked (name, addr) pairs (RFC 5322 §3.4)."""
    pieces = []
    for i, (disp, addr) in enumerate(addrs):
        p = phrase(disp, 74 - len(name) if i == 0 else 75)
        p.append(("<%s>" % addr) if p else addr)
        if i < len(addrs) - 1:
            p[-1] += ","
        pieces += p
    return fold(name, pieces)


def _quotable(name):
    # short plain ASCII without quote, backslash or angle brackets (some parsers strip "<>")
    return len(name) <= 60 and _plain_words(name, "!#$%&'()*+,-./:;=?@[]^_`{|}~")


def file_params(filename):
    """Pieces for ``filename=``: quoted when short plain ASCII, else RFC 2231 §3/§4
    ``filename*=utf-8''%..``, split into ``filename*0*``, ``filename*1*``... of <= 60
    characters when longer (never splitting a character or a %XX triple)."""
    if _quotable(filename):
        return ['filename="%s"' % filename]
    segs = []
    cur = ""
    for c in filename:
        e = _esc(c.encode(), "!#$&+-.^_`|~", "%%%02X")  # RFC 2231 §7 attribute-char
        if cur and len(cur) + len(e) > 60:
            segs.append(cur)
            cur = ""
        cur += e
    segs.append(cur)
    out = []
    for i, s in enumerate(segs):
        out.append("filename*%s=%s%s" % ("%d*" % i if len(segs) > 1 else "", "" if i else "utf-8''", s))
    return out


def name_param(filename):
    """The old ``name=`` fallback for Content-Type: quoted, RFC 2047-encoded when not plain."""
    return 'name="%s"' % (filename if _quotable(filename) else " ".join(encode_words(filename, 75)))


# ---- the message's top headers (RFC 5322 §3.6) --------------------------------------

_PRIO = {"high": ("1 (Highest)", "high"), "normal": ("3 (Normal)", "normal"),
         "low": ("5 (Lowest)", "low")}
_RESERVED = ("from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
             "mime-version", "in-reply-to", "references", "x-priority", "importance",
             "disposition-notification-to", "content-type", "content-transfer-encoding",
             "content-disposition", "content-id")


def addresses(m, field, allow_one=False):
    """The checked (name, addr) pairs of m's ``field`` (a list, or one address when allow_one
    or when it is a single str or (name, addr) pair); errors name ``field[i]``."""
    v = getattr(m, field)
    if v is None:
        return []
    if allow_one or isinstance(v, str) or (isinstance(v, tuple) and len(v) == 2
                                           and isinstance(v[1], str) and "@" in v[1]):
        v = [v]
    out = []
    for i, a in enumerate(v):
        out.append(norm_address(a, "%s[%d]" % (field, i)))
    return out


def top_headers(m, msgid, show_bcc):
    """Message headers (RFC 5322 §3.6) and whether any address is non-ASCII."""
    if not m.sender:
        raise InputError("sender: a From address is required (RFC 5322 §3.6.2)")
    sender = addresses(m, "sender", True)
    # the lists shown below From, then From and Bcc: any non-ASCII address needs SMTPUTF8
    lists = (("Reply-To", addresses(m, "reply_to")), ("To", addresses(m, "to")),
             ("Cc", addresses(m, "cc")), ("", sender), ("", addresses(m, "bcc")))
    utf8 = False
    for _, addrs in lists:
        for _, a in addrs:
            if not is_ascii(a):
                utf8 = True
    out = ""
    if m.date is not None:
        out += "Date: %s\r\n" % format_date(m.date, m.tz_minutes)
    out += address_list("From", sender)
    for name, addrs in lists[:3]:
        if addrs:
            out += address_list(name, addrs)
    if show_bcc is not None:  # RFC 5322 §3.6.3: a Bcc copy may show only its own address
        out += address_list("Bcc", [norm_address(show_bcc, "show_bcc")])
    out += unstructured("Subject", m.subject if m.subject is not None else "", "subject")
    out += "Message-ID: %s\r\n" % msgid
    if m.in_reply_to:
        out += "In-Reply-To: %s\r\n" % check_msg_id("in_reply_to", m.in_reply_to)
    refs = m.references or ()
    if isinstance(refs, str):
        check_text("references", refs)
        refs = refs.split()
    if refs:
        ids = []
        for r in refs:
            ids.append(check_msg_id("references", r))
        out += fold("References", ids)
    if m.priority is not None:
        p = _PRIO.get(m.priority)
        if p is None:
            raise InputError("priority: must be high, normal or low: %r" % (m.priority,))
        out += "X-Priority: %s\r\nImportance: %s\r\n" % p
    if m.receipt_to:
        out += address_list("Disposition-Notification-To", addresses(m, "receipt_to", True))
    extra = m.headers.items() if isinstance(m.headers, dict) else m.headers
    for name, value in extra:
        check_text("headers", name)
        if len(name) > 76 or name.lower() in _RESERVED or " " in name or ":" in name \
                or not _plain_words(name, None):  # RFC 5322 §2.2: printable ASCII, no ":"
            raise InputError("headers: name not allowed: %r" % name)
        out += unstructured(name, check_text("headers[%s]" % name, value))
    out += "MIME-Version: 1.0\r\n"
    return out, utf8

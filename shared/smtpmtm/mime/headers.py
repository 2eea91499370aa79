"""Header text for the MIME builder: dates, Message-IDs, addresses, folding, RFC 2047/2231.

Follows RFC 5322 (§2.1.1 line length, §2.2.3 folding, §3.3 date-time, §3.4 addresses,
§3.6.4 msg-id), RFC 2047 (encoded words, UTF-8, B or Q, each <= 75 characters, never
splitting a character), RFC 2231 (``filename*=utf-8''...`` with continuations) and
RFC 5321 §4.5.3.1 (address length limits). Pure arithmetic: no clock is read.

Example::

    from smtpmtm.mime import headers
    headers.format_date(1732790000, 60)      # 'Thu, 28 Nov 2024 11:33:20 +0100'
    headers.parse_address('Ann <ann@x.org>') # ('Ann', 'ann@x.org')
    headers.unstructured("Subject", "Alarm \u2713")  # 'Subject: =?utf-8?b?QWxhcm0g4pyT?=\\r\\n'
"""

import binascii

from ..compat import const, is_ascii, urandom  # noqa: F401  (is_ascii: hd.is_ascii)
from ..errors import InputError

_WIDTH = const(78)  # RFC 5322 §2.1.1: lines SHOULD be <= 78 characters
DAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# RFC 5322 §3.2.3 atext (besides letters and digits)
_ATEXT = "!#$%&'*+-/=?^_`{|}~"
# RFC 2047 §5(3): the characters a Q-encoded word may carry literally, even in a phrase
_QSAFE = "!*+-/"
# RFC 2231 §7 attribute-char (besides letters and digits)
_ATTR = "!#$&+-.^_`|~"


def check_text(field, value):
    """Raise InputError unless value is a str without CR, LF or NUL (RFC 5322 §2.2)."""
    if not isinstance(value, str):
        raise InputError("%s: must be text, got %r" % (field, type(value).__name__))
    if "\r" in value or "\n" in value or "\0" in value:
        raise InputError("%s: CR, LF or NUL not allowed: %r" % (field, value[:40]))
    return value


def _alnum(c):
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9")


def civil_from_days(days):
    # days since 1970-01-01 -> (year, month, day); H. Hinnant's civil_from_days
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def format_date(unix_seconds, tz_minutes=0):
    """RFC 5322 §3.3 date-time for a Unix time shown in the zone tz_minutes east of UTC."""
    if not isinstance(unix_seconds, int) or not isinstance(tz_minutes, int):
        raise InputError("date: unix seconds and tz_minutes must be integers")
    if not -1439 <= tz_minutes <= 1439:
        raise InputError("tz_minutes: out of range: %d" % tz_minutes)
    t = unix_seconds + tz_minutes * 60
    days, secs = t // 86400, t % 86400
    y, mo, d = civil_from_days(days)
    if not 1900 <= y <= 9999:  # RFC 5322 §3.3: year is 4 or more digits, >= 1900
        raise InputError("date: year %d out of range" % y)
    sign = "-" if tz_minutes < 0 else "+"
    tz = abs(tz_minutes)
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[days % 7], d, MONTHS[mo - 1], y,
        secs // 3600, secs // 60 % 60, secs % 60, sign, tz // 60, tz % 60)


def make_message_id(domain, rand=None):
    """A unique RFC 5322 §3.6.4 msg-id ``<hex@domain>``; rand: 12+ random bytes (default urandom)."""
    check_text("domain", domain)
    if not domain or not is_ascii(domain) or not _plain_token(domain, ".-_"):
        raise InputError("domain: not usable in a Message-ID: %r" % domain)
    if rand is None:
        rand = urandom(12)
    return "<%s@%s>" % (binascii.hexlify(rand).decode(), domain)


def _plain_token(s, extra):
    for c in s:
        if not (_alnum(c) or c in extra):
            return False
    return True


def check_msg_id(field, value):
    """Normalise to ``<left@right>`` (RFC 5322 §3.6.4); InputError when it cannot be one."""
    check_text(field, value)
    v = value.strip()
    if not (v.startswith("<") and v.endswith(">")):
        v = "<" + v + ">"
    inner = v[1:-1]
    if len(v) > 900 or "@" not in inner or "<" in inner or ">" in inner or " " in inner or "\t" in inner \
            or not is_ascii(inner) or inner.startswith("@") or inner.endswith("@"):
        raise InputError("%s: not a message id: %r" % (field, value))
    return v


def check_address(addr, field="address"):
    """Raise InputError unless addr is a plain ``local@domain`` (RFC 5321 §4.1.2, §4.5.3.1)."""
    check_text(field, addr)
    at = addr.rfind("@")
    local, domain = addr[:at], addr[at + 1:]
    if at < 1 or not domain:
        raise InputError("%s: address needs a local part and a domain: %r" % (field, addr))
    for c in addr:
        if ord(c) <= 32 or ord(c) == 127 or c in '<>()[]\\,;:"':
            raise InputError("%s: character %r not allowed in address %r" % (field, c, addr))
    if "@" in local or domain.startswith(".") or domain.endswith(".") or ".." in domain \
            or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InputError("%s: malformed address %r" % (field, addr))
    if len(local.encode()) > 64 or len(addr.encode()) > 254:
        raise InputError("%s: address too long: %r" % (field, addr))
    return addr


def parse_address(text, field="address"):
    """``'Ann <ann@x.org>'`` -> ``('Ann', 'ann@x.org')``; ``'ann@x.org'`` -> ``('', 'ann@x.org')``."""
    check_text(field, text)
    s = text.strip()
    name = ""
    if s.endswith(">") and "<" in s:
        i = s.rfind("<")
        name, s = s[:i].strip(), s[i + 1:-1].strip()
        if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name, check_address(s, field)


def norm_address(value, field):
    """A str or (name, addr) pair -> checked (name, addr)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise InputError("%s: expected (name, address)" % field)
        name = check_text(field, value[0] or "")
        return name, check_address(value[1], field)
    return parse_address(value, field)


def _cost_q(b):
    return 1 if (b < 128 and (_alnum(chr(b)) or chr(b) in _QSAFE or b == 32)) else 3


def _q(bs):
    out = []
    for b in bs:
        c = chr(b)
        if b == 32:
            out.append("_")
        elif b < 128 and (_alnum(c) or c in _QSAFE):
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


def encode_words(text, first=75):
    """RFC 2047 encoded words (UTF-8; Q when shorter, else B) for text.

    Each word is <= 75 characters (the first <= ``first``), and a word always holds whole
    characters, so no UTF-8 sequence is split across words (RFC 2047 §5, §8). Words end
    after a space of the text when they can: parsers that (against §6.2) keep the white
    space between two encoded words then only double a space.
    """
    qcost = 0
    n = 0
    for c in text:
        for b in c.encode():
            qcost += _cost_q(b)
            n += 1
    use_q = qcost <= (n + 2) // 3 * 4
    words = []
    room = first if first >= 30 else 75
    cur = b""
    cost = 0
    cut = cut_cost = 0  # last split point just after a space: a word ends there if it can
    for c in text:
        cb = c.encode()
        if use_q:
            add = 0
            for b in cb:
                add += _cost_q(b)
        else:
            add = len(cb)
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
    if use_q:
        return "=?utf-8?q?" + _q(bs) + "?="
    return "=?utf-8?b?" + binascii.b2a_base64(bs, newline=False).decode() + "?="


def fold(name, pieces):
    """``Name: p1 p2 ...`` folded before a piece when a line would pass 78 (RFC 5322 §2.2.3),
    or 76 when the header holds encoded words (RFC 2047 §2)."""
    width = _WIDTH
    for p in pieces:
        if p.startswith("=?"):
            width = 76
    line = name + ":"
    lines = []
    empty = True  # nothing after the name yet: never fold there
    for p in pieces:
        if not empty and len(line) + 1 + len(p) > width:
            lines.append(line)
            line = " " + p
        else:
            line += " " + p
        empty = False
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def _plain_words(text, extra):
    # printable ASCII words of allowed characters, single spaces, no "=?" (RFC 2047 §5 look-alike)
    if not text or text[0] == " " or text[-1] == " " or "  " in text or "=?" in text:
        return False
    for w in text.split(" "):
        if len(w) > 900:  # RFC 5322 §2.1.1: a line must never pass 998 octets
            return False
        for c in w:
            if not (32 < ord(c) < 127) or (extra is not None and not (_alnum(c) or c in extra)):
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
    if _plain_words(name, _ATEXT):
        return name.split(" ")
    if len(name) < 900 and "=?" not in name:
        ok = True
        for c in name:
            if not 32 <= ord(c) < 127:
                ok = False
        if ok:
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


def _pct(bs):
    out = []
    for b in bs:
        c = chr(b)
        out.append(c if b < 128 and (_alnum(c) or c in _ATTR) else "%%%02X" % b)
    return "".join(out)


def _quotable(name):
    # short plain ASCII without quote, backslash or angle brackets (some parsers strip "<>")
    if not _plain_words(name, None) or len(name) > 60:
        return False
    for c in '"\\<>':
        if c in name:
            return False
    return True


def file_params(filename, key="filename"):
    """Pieces for ``key=`` of a file name: quoted when short plain ASCII, else RFC 2231 §3/§4
    ``key*=utf-8''%..`` split into ``key*0*``, ``key*1*``... of <= 60 characters (never
    splitting a character or a %XX triple)."""
    if _quotable(filename):
        return ['%s="%s"' % (key, filename)]
    segs = []
    cur = ""
    for c in filename:
        e = _pct(c.encode())
        if cur and len(cur) + len(e) > 60:
            segs.append(cur)
            cur = ""
        cur += e
    segs.append(cur)
    if len(segs) == 1:
        return ["%s*=utf-8''%s" % (key, segs[0])]
    out = []
    for i, s in enumerate(segs):
        out.append("%s*%d*=%s%s" % (key, i, "utf-8''" if i == 0 else "", s))
    return out


def name_param(filename):
    """The old ``name=`` fallback for Content-Type: quoted, RFC 2047-encoded when not plain."""
    if _quotable(filename):
        return file_params(filename, "name")[0]
    return 'name="%s"' % " ".join(encode_words(filename, 75))

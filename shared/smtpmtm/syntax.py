"""Address, Message-ID and date syntax: each check written once, for every layer.

Addresses after RFC 5321 section 4.1.2 (Mailbox = Local-part "@" ( Domain /
address-literal )) and RFC 5322 section 3.4 (name-addr = [display-name] "<"
addr-spec ">"), without ``re``; Symbian checks addressees with
``TImMessageField::ValidInternetEmailAddress``, this is the same job. Limits
honoured: local part at most 64 octets and a path at most 256 (RFC 5321
sections 4.5.3.1.1 and 4.5.3.1.3); no CR, LF or NUL anywhere (header
injection); non-ASCII is allowed (RFC 6531 SMTPUTF8).

Message-IDs after RFC 5322 section 3.6.4 (``<left@right>``, ASCII): the right
part is the sender's domain, IDNA-encoded when it is not ASCII (RFC 5891
section 4.4: each label "xn--" + Punycode, RFC 3492), so an account at
``bücher.de`` makes ``<hex@xn--bcher-kva.de>``. Dates after RFC 5322 section 3.3.
Pure arithmetic: no clock is read.

Example::

    from smtpmtm.syntax import parse_address, valid_address, message_id_for, format_date
    parse_address('"Ann" <ann@example.com>')   # -> ("Ann", "ann@example.com")
    valid_address("ann@")                        # -> False
    message_id_for("pump@bücher.de")             # -> "<...@xn--bcher-kva.de>"
    format_date(1732790000, 60)                  # -> "Thu, 28 Nov 2024 11:33:20 +0100"
"""

import binascii

from .compat import is_ascii, urandom
from .errors import InputError

_SPECIALS = '()<>[]:;@\\,"'
DAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FALLBACK_DOMAIN = "smtpmtm.invalid"  # RFC 2606: a name that is never anyone's


def check_text(field, value):
    """Raise InputError unless value is a str without CR, LF or NUL (RFC 5322 §2.2)."""
    if not isinstance(value, str):
        raise InputError("%s: must be text, got %r" % (field, type(value).__name__))
    if "\r" in value or "\n" in value or "\0" in value:
        raise InputError("%s: CR, LF or NUL not allowed: %r" % (field, value[:40]))
    return value


# ---- addresses -------------------------------------------------------------------
def _bad_chars(s):
    for ch in s:
        o = ord(ch)
        if o < 32 or o == 127:
            return True
    return False


def _valid_local(local):
    if not local or len(local.encode()) > 64:  # RFC 5321 4.5.3.1.1
        return False
    if local[0] == '"' and local[-1] == '"' and len(local) >= 2:
        body = local[1:-1]
        return '"' not in body.replace('\\"', "")
    if local[0] == "." or local[-1] == "." or ".." in local:
        return False
    for ch in local:
        if ch in _SPECIALS or ch == " ":
            return False
    return True


def _valid_domain(dom):
    if not dom or len(dom) > 255:
        return False
    if dom[0] == "[":  # address-literal, RFC 5321 4.1.3
        return dom[-1] == "]" and len(dom) > 2 and " " not in dom
    for label in dom.split("."):
        if not label or len(label) > 63 or label[0] == "-" or label[-1] == "-":
            return False
        for ch in label:
            if not (ch.isalpha() or ch.isdigit() or ch == "-" or ord(ch) > 127):
                return False
    return True


def valid_address(addr):
    """True if ``addr`` is a bare addr-spec (no display name) fit for RCPT TO."""
    if not isinstance(addr, str) or not addr or _bad_chars(addr):
        return False
    if len(addr.encode()) > 254:  # path 256 incl. the angle brackets, 4.5.3.1.3
        return False
    at = addr.rfind("@")
    if at <= 0:
        return False
    return _valid_local(addr[:at]) and _valid_domain(addr[at + 1:])


def check_address(addr, what="address"):
    """Raise InputError naming ``what`` unless ``addr`` is a valid address; returns addr."""
    if not valid_address(addr):
        raise InputError("%s: invalid email address %r" % (what, addr))
    return addr


def parse_address(text):
    """Split ``"Name" <addr>`` / ``Name <addr>`` / ``addr`` into (name, addr).

    The address is not checked; the name has its quotes removed.
    """
    text = text.strip()
    lt = text.rfind("<")
    if lt >= 0 and text.endswith(">"):
        name = text[:lt].strip()
        addr = text[lt + 1:-1].strip()
        if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return name, addr
    return "", text


def format_address(name, addr):
    """The display form ``"name" <addr>`` (Symbian's ``"%S" <%S>``), or addr alone."""
    if not name:
        return addr
    return '"%s" <%s>' % (name.replace("\\", "\\\\").replace('"', '\\"'), addr)


def same_address(a, b):
    """Compare two addresses: the domain case-insensitively (RFC 5321 2.4), the
    local part too, as every real server does."""
    return a.lower() == b.lower()


# ---- Message-IDs ----------------------------------------------------------------

def ascii_alnum(c):
    """True for an ASCII letter or digit (str.isalnum is wider on CPython)."""
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9")


def _plain_token(s, extra):
    for c in s:
        if not (ascii_alnum(c) or c in extra):
            return False
    return True


def make_message_id(domain, rand=None):
    """A unique RFC 5322 §3.6.4 msg-id ``<hex@domain>``; rand: 12+ random bytes (default urandom).

    A non-ASCII domain is IDNA-encoded; InputError when it still cannot be a msg-id right part."""
    check_text("domain", domain)
    domain = idna(domain)
    if not domain or not _plain_token(domain, ".-_"):
        raise InputError("domain: not usable in a Message-ID: %r" % domain)
    if rand is None:
        rand = urandom(12)
    return "<%s@%s>" % (binascii.hexlify(rand).decode(), domain)


def message_id_for(address, rand=None):
    """The Message-ID for a message from ``address``: its domain (IDNA when not ASCII), or
    FALLBACK_DOMAIN when it has none usable (an address literal, a bare name)."""
    domain = address[address.rfind("@") + 1:] if "@" in address else ""
    try:
        return make_message_id(domain, rand)
    except InputError:
        return make_message_id(FALLBACK_DOMAIN, rand)


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


# ---- dates (RFC 5322 section 3.3) --------------------------------------------------

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


# ---- IDNA (RFC 5891 section 4.4) and Punycode (RFC 3492 section 6.3) ---------------------

def idna(domain):
    """The ASCII form of a domain: each non-ASCII label becomes ``xn--`` + its Punycode."""
    if is_ascii(domain):
        return domain
    return ".".join(label if is_ascii(label) else "xn--" + punycode(label)
                    for label in domain.split("."))


def _digit(d):
    return chr(d + 97 if d < 26 else d + 22)  # 0..25 -> a..z, 26..35 -> 0..9


def _adapt(delta, points, first):
    delta = delta // 700 if first else delta // 2
    delta += delta // points
    k = 0
    while delta > 455:  # ((base - tmin) * tmax) // 2
        delta //= 35
        k += 36
    return k + 36 * delta // (delta + 38)


def punycode(label):
    """RFC 3492 encoding of one label (no ``xn--`` prefix): ``bücher`` -> ``bcher-kva``."""
    cps = [ord(c) for c in label]
    out = "".join(c for c in label if ord(c) < 128)
    b = h = len(out)
    if b:
        out += "-"
    n, delta, bias = 128, 0, 72
    while h < len(cps):
        m = min(c for c in cps if c >= n)
        delta += (m - n) * (h + 1)
        n = m
        for c in cps:
            if c < n:
                delta += 1
            elif c == n:
                q = delta
                k = 36
                while True:
                    t = 1 if k <= bias else (26 if k >= bias + 26 else k - bias)
                    if q < t:
                        break
                    out += _digit(t + (q - t) % (36 - t))
                    q = (q - t) // (36 - t)
                    k += 36
                out += _digit(q)
                bias = _adapt(delta, h + 1, h == b)
                delta = 0
                h += 1
        delta += 1
        n += 1
    return out

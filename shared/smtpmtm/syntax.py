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


def check_text(field, value):
    """Raise InputError unless value is a str without CR, LF or NUL (RFC 5322 §2.2)."""
    if not isinstance(value, str):
        raise InputError("%s: must be text, got %r" % (field, type(value).__name__))
    if "\r" in value or "\n" in value or "\0" in value:
        raise InputError("%s: CR, LF or NUL not allowed: %r" % (field, value[:40]))
    return value


# ---- addresses -------------------------------------------------------------------

def valid_address(addr):
    """True if ``addr`` is a bare addr-spec (no display name) fit for RCPT TO."""
    # a path is at most 256 octets with the angle brackets (4.5.3.1.3)
    if not isinstance(addr, str) or not 0 < len(addr.encode()) <= 254:
        return False
    for ch in addr:
        if ord(ch) < 32 or ord(ch) == 127:
            return False
    at = addr.rfind("@")
    local, dom = addr[:at], addr[at + 1:]
    if at <= 0 or len(local.encode()) > 64 or not dom:  # local part: 4.5.3.1.1
        return False
    if local[0] == '"' and local[-1] == '"' and len(local) >= 2:  # a quoted string
        if '"' in local[1:-1].replace('\\"', ""):
            return False
    elif local[0] == "." or local[-1] == "." or ".." in local:
        return False
    else:
        for ch in local:
            if ch in '()<>[]:;@\\," ':  # RFC 5322 specials and space
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


def message_id_for(address, rand=None):
    """A unique RFC 5322 §3.6.4 msg-id ``<hex@domain>`` for a message from ``address``: its
    domain (IDNA when not ASCII), or ``smtpmtm.invalid`` (RFC 2606: never anyone's) when it has
    none usable (an address literal, a bare name). rand: 12+ random bytes (default urandom)."""
    domain = idna(address[address.rfind("@") + 1:]) if "@" in address else ""
    for c in domain:
        if not (ascii_alnum(c) or c in ".-_"):
            domain = ""
            break
    if rand is None:
        rand = urandom(12)
    return "<%s@%s>" % (binascii.hexlify(rand).decode(), domain or "smtpmtm.invalid")


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

def format_date(unix_seconds, tz_minutes=0):
    """RFC 5322 §3.3 date-time for a Unix time shown in the zone tz_minutes east of UTC."""
    if not isinstance(unix_seconds, int) or not isinstance(tz_minutes, int):
        raise InputError("date: unix seconds and tz_minutes must be integers")
    if not -1439 <= tz_minutes <= 1439:
        raise InputError("tz_minutes: out of range: %d" % tz_minutes)
    t = unix_seconds + tz_minutes * 60
    days, secs = t // 86400, t % 86400
    # days since 1970-01-01 -> (y, mo, d): H. Hinnant's civil_from_days
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153  # months counted from March
    d = doy - (153 * mp + 2) // 5 + 1
    mo = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if mo <= 2 else 0)
    if not 1900 <= y <= 9999:  # RFC 5322 §3.3: year is 4 or more digits, >= 1900
        raise InputError("date: year %d out of range" % y)
    tz = abs(tz_minutes)
    wd = days % 7 * 3  # 1970-01-01 was a Thursday
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (
        "ThuFriSatSunMonTueWed"[wd:wd + 3], d, "JanFebMarAprMayJunJulAugSepOctNovDec"[mo * 3 - 3:mo * 3], y,
        secs // 3600, secs // 60 % 60, secs % 60, "-" if tz_minutes < 0 else "+", tz // 60, tz % 60)


# ---- IDNA (RFC 5891 section 4.4) and Punycode (RFC 3492 section 6.3) ---------------------

def idna(domain):
    """The ASCII form of a domain: each non-ASCII label becomes ``xn--`` + its Punycode."""
    out = []
    for label in domain.split("."):
        out.append(label if is_ascii(label) else "xn--" + punycode(label))
    return ".".join(out)


def punycode(label):
    """RFC 3492 encoding of one label (no ``xn--`` prefix): ``bücher`` -> ``bcher-kva``."""
    out = ""
    for c in label:
        if ord(c) < 128:
            out += c
    b = h = len(out)  # basic code points, then h handled so far
    if b:
        out += "-"
    n, delta, bias = 128, 0, 72
    while h < len(label):
        m = 0x110000  # the smallest code point >= n
        for c in label:
            if n <= ord(c) < m:
                m = ord(c)
        delta += (m - n) * (h + 1)
        n = m
        for c in label:
            if ord(c) < n:
                delta += 1
            elif ord(c) == n:
                q = delta
                k = 36
                while True:  # q as a variable-length integer, digits of base 36
                    t = 1 if k <= bias else (26 if k >= bias + 26 else k - bias)
                    d = q if q < t else t + (q - t) % (36 - t)
                    out += chr(d + 97 if d < 26 else d + 22)  # 0..25 -> a..z, 26..35 -> 0..9
                    if q < t:
                        break
                    q = (q - t) // (36 - t)
                    k += 36
                # bias adaptation (section 6.1)
                delta = delta // 700 if h == b else delta // 2
                delta += delta // (h + 1)
                k = 0
                while delta > 455:  # ((base - tmin) * tmax) // 2
                    delta //= 35
                    k += 36
                bias = k + 36 * delta // (delta + 38)
                delta = 0
                h += 1
        delta += 1
        n += 1
    return out

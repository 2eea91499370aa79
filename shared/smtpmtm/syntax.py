"""Email address parsing and checking for the settings and the client MTM.

Symbian checks addressees with ``TImMessageField::ValidInternetEmailAddress``;
this module does the same job after RFC 5321 section 4.1.2 (Mailbox =
Local-part "@" ( Domain / address-literal )) and RFC 5322 section 3.4
(name-addr = [display-name] "<" addr-spec ">"), without ``re``.

Limits honoured: local part at most 64 octets and a path at most 256
(RFC 5321 section 4.5.3.1.1 and 4.5.3.1.3); no CR, LF or NUL anywhere
(header injection); non-ASCII is allowed (RFC 6531 SMTPUTF8).

Example::

    from smtpmtm.syntax import parse_address, valid_address
    parse_address('"Ann" <ann@example.com>')   # -> ("Ann", "ann@example.com")
    valid_address("ann@")                        # -> False
"""

from .errors import InputError

_SPECIALS = '()<>[]:;@\\,"'


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
    """Raise InputError naming ``what`` unless ``addr`` is a valid address."""
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

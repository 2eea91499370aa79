"""Top-level message headers for the MIME builder (RFC 5322 §3.6).

``top_headers(m, msgid, show_bcc)`` writes, in this order: Date (§3.6.1), From (§3.6.2),
Reply-To, To, Cc (§3.6.3; Bcc only as ``show_bcc``, one address), Subject (RFC 2047
when not plain ASCII), Message-ID (§3.6.4), In-Reply-To, References, X-Priority and
Importance, Disposition-Notification-To (RFC 8098), extra headers, MIME-Version
(RFC 2045 §4). Every value is checked for CR, LF and NUL (header injection). Used by
mime.py.

Example::

    text, utf8 = mimehead.top_headers(m, "<1@x.org>", None)
"""

from . import headers as hd
from ..errors import InputError

_PRIO = {"high": ("1 (Highest)", "high"), "normal": ("3 (Normal)", "normal"),
         "low": ("5 (Lowest)", "low")}
_RESERVED = ("from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
             "mime-version", "in-reply-to", "references", "x-priority", "importance",
             "disposition-notification-to", "content-type", "content-transfer-encoding",
             "content-disposition", "content-id")

def _addrs(m, field, allow_one=False):
    v = getattr(m, field)
    if v is None:
        return []
    if allow_one or isinstance(v, str) or (isinstance(v, tuple) and len(v) == 2
                                           and isinstance(v[1], str) and "@" in v[1]):
        v = [v]
    return [hd.norm_address(a, "%s[%d]" % (field, i)) for i, a in enumerate(v)]


def top_headers(m, msgid, show_bcc):
    """Message headers (RFC 5322 §3.6) and whether any address is non-ASCII."""
    if not m.sender:
        raise InputError("sender: a From address is required (RFC 5322 §3.6.2)")
    sender = _addrs(m, "sender", True)
    lists = [("Reply-To", _addrs(m, "reply_to")), ("To", _addrs(m, "to")), ("Cc", _addrs(m, "cc"))]
    bcc = _addrs(m, "bcc")
    utf8 = False
    for _, addrs in [("", sender), ("", bcc)] + lists:
        for _, a in addrs:
            utf8 = utf8 or not hd.is_ascii(a)
    out = []
    if m.date is not None:
        out.append("Date: %s\r\n" % hd.format_date(m.date, m.tz_minutes))
    out.append(hd.address_list("From", sender))
    for name, addrs in lists:
        if addrs:
            out.append(hd.address_list(name, addrs))
    if show_bcc is not None:  # RFC 5322 §3.6.3: a Bcc copy may show only its own address
        out.append(hd.address_list("Bcc", [hd.norm_address(show_bcc, "show_bcc")]))
    out.append(hd.unstructured("Subject", m.subject if m.subject is not None else "", "subject"))
    out.append("Message-ID: %s\r\n" % msgid)
    if m.in_reply_to:
        out.append("In-Reply-To: %s\r\n" % hd.check_msg_id("in_reply_to", m.in_reply_to))
    refs = m.references or ()
    if isinstance(refs, str):
        hd.check_text("references", refs)
        refs = refs.split()
    if refs:
        out.append(hd.fold("References", [hd.check_msg_id("references", r) for r in refs]))
    if m.priority is not None:
        p = _PRIO.get(m.priority)
        if p is None:
            raise InputError("priority: must be high, normal or low: %r" % (m.priority,))
        out.append("X-Priority: %s\r\nImportance: %s\r\n" % p)
    if m.receipt_to:
        out.append(hd.address_list("Disposition-Notification-To", _addrs(m, "receipt_to", True)))
    extra = m.headers.items() if isinstance(m.headers, dict) else m.headers
    for name, value in extra:
        hd.check_text("headers", name)
        if not name or len(name) > 76 or name.lower() in _RESERVED or " " in name or ":" in name \
                or not hd._plain_words(name, None):  # RFC 5322 §2.2: printable ASCII, no ":"
            raise InputError("headers: name not allowed: %r" % name)
        out.append(hd.unstructured(name, hd.check_text("headers[%s]" % name, value)))
    out.append("MIME-Version: 1.0\r\n")
    return "".join(out), utf8

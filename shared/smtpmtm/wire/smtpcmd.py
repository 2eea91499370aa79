"""SMTP command lines and reply events: addresses, ESMTP parameters, EHLO capabilities.

Pure helpers of ``smtp.Client``: ``check_line_safe`` refuses anything that
could break a command line (CR, LF, NUL, "<", ">": no command injection),
``mail_line``/``rcpt_line`` build MAIL/RCPT with the parameters the server
offers (RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN)
and raise InputError before anything is sent when the message cannot go
(size over the limit, 8BITMIME or SMTPUTF8 needed and not offered), and
``parse_capabilities`` reads an EHLO reply (RFC 5321 4.1.1.1).

Example::

    caps = parse_capabilities(["mx hello", "SIZE 1000", "AUTH PLAIN LOGIN", "8BITMIME"])
    mail_line(caps, "a@b.org", size=10, body8=True)   # 'MAIL FROM:<a@b.org> SIZE=10 BODY=8BITMIME'
"""

from ..compat import is_ascii
from ..errors import InputError


class Event:
    """A server reply matched to the command it answers.

    ``command``: GREET, EHLO, HELO, STARTTLS, AUTH, MAIL, RCPT, DATA, DOT (the
    final reply after the body), BDAT, BDATL (BDAT ... LAST), RSET, NOOP, QUIT
    or UNSOLICITED; ``arg`` the address for MAIL/RCPT; ``kind`` is "upgrade"
    for the 220 to STARTTLS (call ``stream.starttls()`` then ``tls_started()``).
    """

    def __init__(self, command, reply, arg=None, kind="reply"):
        self.command = command
        self.reply = reply
        self.code = reply.code
        self.enhanced = reply.enhanced
        self.arg = arg
        self.kind = kind

    @property
    def text(self):
        return self.reply.text

    def ok(self):
        return 200 <= self.code < 300

    def __repr__(self):
        return "Event(%s %d %s)" % (self.command, self.code, self.arg or "")


def check_line_safe(addr):
    """Refuse an address that could break the command line (CR, LF, NUL, <, >)."""
    if not isinstance(addr, str):
        raise InputError("address must be a str: %r" % (addr,), code="address")
    for ch in addr:
        o = ord(ch)
        if o < 32 or o == 127 or ch in "<>":
            raise InputError("bad character in address %r" % addr, code="address")
    if len(addr.encode()) > 254:  # RFC 5321 4.5.3.1.3: path <= 256 octets incl. <>
        raise InputError("address too long", code="address")
    return addr


def xtext(s):
    """RFC 3461 4: xtext encoding of ENVID/ORCPT values."""
    out = []
    for b in s.encode():
        if 33 <= b <= 126 and b != 43 and b != 61:
            out.append(chr(b))
        else:
            out.append("+%02X" % b)
    return "".join(out)


def parse_capabilities(lines):
    """EHLO reply lines (first is the greeting) -> dict keyword -> params.

    SIZE -> int (0 = no limit announced), AUTH -> list of mechanisms (also the
    old "AUTH=" form), every other keyword -> list of its parameters.
    """
    caps = {}
    for line in lines[1:]:
        words = line.split()
        if not words:
            continue
        key = words[0].upper()
        params = words[1:]
        if key.startswith("AUTH="):
            params = [key[5:]] + params
            key = "AUTH"
        if key == "SIZE":
            n = 0
            if params and params[0].isdigit():
                n = int(params[0])
            caps["SIZE"] = n
        elif key == "AUTH":
            mechs = caps.get("AUTH", [])
            for p in params:
                if p.upper() not in mechs:
                    mechs.append(p.upper())
            caps["AUTH"] = mechs
        else:
            caps[key] = params
    return caps


def mail_line(caps, addr, size=None, body8=False, smtputf8=False, ret=None, envid=None):
    """The MAIL command line; raises InputError (nothing queued) if it cannot be sent."""
    check_line_safe(addr)
    line = "MAIL FROM:<%s>" % addr
    if size is not None and "SIZE" in caps:
        if caps["SIZE"] and size > caps["SIZE"]:
            # RFC 1870 6: do not send a message larger than the announced limit
            raise InputError("message of %d bytes is over the server's SIZE %d" % (size, caps["SIZE"]),
                             code="size-exceeded")
        line += " SIZE=%d" % size
    if body8:
        if "8BITMIME" not in caps:
            raise InputError("the message needs 8BITMIME and the server does not offer it",
                             code="8bitmime-not-offered")
        line += " BODY=8BITMIME"
    if smtputf8 or not is_ascii(addr):
        if "SMTPUTF8" not in caps:
            raise InputError("the message needs SMTPUTF8 (non-ASCII address) and the server does not offer it",
                             code="smtputf8-not-offered")
        line += " SMTPUTF8"
    if "DSN" in caps:
        if ret:
            if ret.upper() not in ("FULL", "HDRS"):
                raise InputError("DSN RET must be FULL or HDRS", code="dsn")
            line += " RET=" + ret.upper()
        if envid:
            line += " ENVID=" + xtext(envid)
    return line


def rcpt_line(caps, addr, notify=None, orcpt=None):
    check_line_safe(addr)
    if not is_ascii(addr) and "SMTPUTF8" not in caps:
        raise InputError("recipient %r needs SMTPUTF8, not offered" % addr, code="smtputf8-not-offered")
    line = "RCPT TO:<%s>" % addr
    if "DSN" in caps:
        if notify:
            n = notify.upper().replace(" ", "")
            for w in n.split(","):
                if w not in ("NEVER", "SUCCESS", "FAILURE", "DELAY"):
                    raise InputError("bad DSN NOTIFY %r" % notify, code="dsn")
            line += " NOTIFY=" + n
        if orcpt:
            line += " ORCPT=rfc822;" + xtext(orcpt)
    return line

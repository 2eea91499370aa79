"""Find text in a message: Symbian's part flags and find modifiers, no ``re``.

After CSmtpClientMtm::Find / CImClientMTMUtils::FindInBodyL (IMCMUTIL.CPP):
``find(text, parts)`` returns the bitmask of the requested parts that contain
``text``. Parts: body (0x01), recipients (0x02: To, Cc, Bcc), originator
(0x04: From), description (0x08: Subject), and the Symbian^3 fine flags To
0x40, From 0x80, Cc 0x100, Bcc 0x200, Subject 0x400. Modifiers: case
sensitive 0x80000000, whole word 0x40000000, wildcards 0x800 (``*`` any run,
``?`` one character). Text at most 500 characters (KMsvMaxFindTextLength).

Differences from Symbian, on purpose: every fine flag set is evaluated (not
only the first of an else-if chain), and a Bcc match sets the Bcc bit (not
Cc). Names and addresses are both searched (``"Ann" <ann@x.org>``).

The body is read line by line in pieces of at most 512 bytes (bounded RAM);
a line longer than that is searched in windows overlapping by the length of
the text, so a ``*`` cannot span more than about one window, nor two lines.
Matching is a small NFA over the pattern: O(len(line) * len(text)).

Example::

    m = Matcher("alarm*", FIND_WILDCARD | FIND_WHOLE_WORD)
    m.search("Pump alarms: 3")      # True
"""

from ..compat import to_text
from ..errors import InputError

PART_BODY = 0x01
PART_RECIPIENT = 0x02
PART_ORIGINATOR = 0x04
PART_DESCRIPTION = 0x08
PART_DATE = 0x10
PART_ATTACHMENTS = 0x20
PART_TO = 0x40
PART_FROM = 0x80
PART_CC = 0x100
PART_BCC = 0x200
PART_SUBJECT = 0x400
FIND_WILDCARD = 0x800
FIND_WHOLE_WORD = 0x40000000
FIND_CASE_SENSITIVE = 0x80000000
MAX_FIND_TEXT = 500
_PIECE = 512


def _word(ch):
    return ch.isalpha() or ch.isdigit() or ch == "_" or ord(ch) > 127


class Matcher:
    """A compiled search: ``search(s)`` is True if the text occurs in ``s``."""

    def __init__(self, text, flags=0):
        if not isinstance(text, str) or not text:
            raise InputError("find: empty search text")
        if len(text) > MAX_FIND_TEXT:
            raise InputError("find: text longer than %d characters" % MAX_FIND_TEXT)
        self.case = bool(flags & FIND_CASE_SENSITIVE)
        self.whole = bool(flags & FIND_WHOLE_WORD)
        self.wild = bool(flags & FIND_WILDCARD) and ("*" in text or "?" in text)
        self.pat = text if self.case else text.lower()
        self.overlap = len(text) + 1

    def search(self, s):
        if not s:
            return False
        if not self.case:
            s = s.lower()
        if self.wild:
            return self._nfa(s)
        p = self.pat
        if not self.whole:
            return p in s
        n = len(p)
        i = s.find(p)
        while i >= 0:
            if (i == 0 or not _word(s[i - 1])) and (i + n == len(s) or not _word(s[i + n])):
                return True
            i = s.find(p, i + 1)
        return False

    def _nfa(self, s):
        # state k = "p[:k] matched"; a start is injected at every (word) start,
        # acceptance checked at every (word) end: one pass, no backtracking.
        p = self.pat
        m = len(p)
        whole = self.whole
        cur = bytearray(m + 1)
        n = len(s)
        for j in range(n + 1):
            if not whole or j == 0 or not _word(s[j - 1]):
                cur[0] = 1
            k = 0  # epsilon closure: a '*' may match nothing
            while k < m:
                if cur[k] and p[k] == "*":
                    cur[k + 1] = 1
                k += 1
            if cur[m] and (not whole or j == n or not _word(s[j])):
                return True
            if j == n:
                return False
            c = s[j]
            nxt = bytearray(m + 1)
            for k in range(m):
                if cur[k]:
                    pk = p[k]
                    if pk == "*":
                        nxt[k] = 1
                    elif pk == "?" or pk == c:
                        nxt[k + 1] = 1
            cur = nxt
        return False


def _pieces(f, overlap):
    """Text pieces of a UTF-8 binary file: lines, long lines in overlapping windows."""
    carry = b""
    tail = ""
    while True:
        b = f.readline(_PIECE)
        if not b:
            if carry:
                yield tail + to_text(carry)
            return
        b = carry + b
        carry = b""
        if b[-1:] != b"\n":
            # cut back to a character boundary; keep the partial character
            i = len(b)
            while i > 0 and (b[i - 1] & 0xC0) == 0x80:
                i -= 1
            if i > 0 and b[i - 1] >= 0xC0:
                i -= 1
            carry = b[i:]
            b = b[:i]
            text = tail + to_text(b)
            tail = text[-overlap:]
            yield text
        else:
            yield tail + to_text(b)
            tail = ""


def search_file(matcher, f):
    """True if the matcher finds its text in binary UTF-8 file ``f``."""
    for piece in _pieces(f, matcher.overlap):
        if matcher.search(piece):
            return True
    return False


def _addr_hit(matcher, pairs):
    for name, addr in pairs:
        if matcher.search(addr) or (name and matcher.search(name)):
            return True
    return False


def find_in(text, parts, header, open_body=None):
    """The part flags of ``parts`` whose fields contain ``text``.

    ``header``: dict with from/to/cc/bcc/subject as in message.read_header;
    ``open_body()``: yields binary files of the body parts (text, html).
    """
    m = Matcher(text, parts)
    found = 0
    to = header.get("to") or []
    cc = header.get("cc") or []
    bcc = header.get("bcc") or []
    frm = header.get("from")
    frm = [frm] if frm else []
    subj = header.get("subject") or ""
    if parts & PART_RECIPIENT and (_addr_hit(m, to) or _addr_hit(m, cc) or _addr_hit(m, bcc)):
        found |= PART_RECIPIENT
    if parts & PART_TO and _addr_hit(m, to):
        found |= PART_TO
    if parts & PART_CC and _addr_hit(m, cc):
        found |= PART_CC
    if parts & PART_BCC and _addr_hit(m, bcc):
        found |= PART_BCC
    if parts & (PART_ORIGINATOR | PART_FROM) and _addr_hit(m, frm):
        found |= parts & (PART_ORIGINATOR | PART_FROM)
    if parts & (PART_DESCRIPTION | PART_SUBJECT) and m.search(subj):
        found |= parts & (PART_DESCRIPTION | PART_SUBJECT)
    if parts & PART_BODY and open_body is not None:
        for f in open_body():
            try:
                hit = search_file(m, f)
            finally:
                f.close()
            if hit:
                found |= PART_BODY
                break
    return found

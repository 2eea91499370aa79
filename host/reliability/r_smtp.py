"""`make reliability` section: exhaustive SMTP smuggling and reply-fuzz runs of the core.

Smuggling (CVE-2023-51764 class): every end-of-data look-alike built from CR,
LF, CRLF and dots, with prefixes and suffixes, at every pair of chunk cuts,
through the dot-stuffing encoder (DATA) and the BDAT normaliser; plus a full
Session run per pattern (DATA and BDAT paths) against the scripted fake server.
A case fails when the wire holds a bare CR/LF, anything a strict or a lenient
server would take as an early terminator, or does not un-stuff to the
CRLF-normalised body.

Reply fuzz: seeded random server streams (valid replies, then mutated: bytes
flipped, inserted, deleted, lines made too long or too many, codes changed)
parsed at random splits and compared with an independent regular-expression
oracle written here; and fed to a Session as the answer to MAIL/RCPT/DATA/dot.
A case fails when the parser and the oracle disagree, when anything other than
ProtocolError/ReplyError escapes, or when a message is reported sent on a reply
the oracle calls malformed.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in (os.path.join(ROOT, "shared"), os.path.join(ROOT, "tests", "core")):
    if p not in sys.path:
        sys.path.insert(0, p)

from smtpmtm.wire.dotstuff import Encoder, normalise, unstuff  # noqa: E402
from portable import Rng  # noqa: E402  (the seeded generator of the core tests)
from smtpmtm.errors import ProtocolError, ReplyError, SmtpMtmError  # noqa: E402
from smtpmtm.wire.replies import ReplyParser  # noqa: E402

ENDS = [b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n"]
LENIENT = [b"\n.\n", b"\r.\r", b"\n.\r", b"\r.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r\n"]


def patterns():
    out = set()
    for a in ENDS:
        for dots in (b".", b".."):
            for b in ENDS:
                out.add(a + dots + b)
                out.add(dots + b)
                out.add(a + dots)
    out.add(b"\r\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\n")
    out.add(b"\n.\nQUIT\n")
    out.add(b"\x00.\r\n")
    return sorted(out)


def wire_ok(body, wire, stuffed):
    n = wire.count(b"\r\n")
    if wire.count(b"\r") != n or wire.count(b"\n") != n:
        return False
    if not stuffed:
        return wire == normalise(body)
    inner = wire[:-3]
    if not wire.endswith(b".\r\n") or inner.startswith(b".\r") or inner.startswith(b".\n"):
        return False
    if any(p in inner for p in LENIENT):
        return False
    return unstuff(wire) == (normalise(body), b"")


def encode(pieces, stuff):
    e = Encoder(stuff)
    return b"".join(e.feed(p) for p in pieces) + e.end()


def smuggling():
    cases = failures = 0
    notes = []
    for pat in patterns():
        for pre in (b"", b"x", b"hello\r\n", b"a\r", b"a\n"):
            for post in (b"", b"y", b"\r\n", b"MAIL FROM:<evil@x>\r\n"):
                body = pre + pat + post
                n = len(body)
                for i in range(n + 1):
                    for j in range(i, n + 1):
                        pieces = [body[:i], body[i:j], body[j:]]
                        for stuff in (True, False):
                            cases += 1
                            if not wire_ok(body, encode(pieces, stuff), stuff):
                                failures += 1
                                if len(notes) < 3:
                                    notes.append(repr(body))
    # through the whole Session, both paths
    from portable import FakeClock
    from smtp_fake import FakeServer
    from smtpmtm.wire.session import Session

    for pat in patterns():
        body = b"Subject: x\r\n\r\nbefore" + pat + b"after\r\n"
        for caps in (["PIPELINING"], ["PIPELINING", "CHUNKING"], []):
            for chunk in (1, 3, 7, 64):
                cases += 1
                clock = FakeClock()
                srv = FakeServer(clock, caps=caps, tls=True)
                s = Session(srv, clock, "board", bdat_size=8)
                try:
                    s.open()
                    s.send_message("a@x.org", ["b@y.org"], [body[k:k + chunk] for k in range(0, len(body), chunk)],
                                   len(body))
                    good = len(srv.messages) == 1 and srv.messages[0][2] == normalise(body)
                    good = good and srv.log[-1].split(" ")[0] in ("DATA", "BDAT")
                except SmtpMtmError:
                    good = False
                if not good:
                    failures += 1
                    if len(notes) < 3:
                        notes.append("session %r %s" % (pat, caps))
    return cases, failures, notes


# -- reply fuzz ---------------------------------------------------------------

LINE = re.compile(rb"\A([2-5][0-5][0-9])([ -]|\Z)")


def oracle(data, max_line=512, max_lines=100, max_bytes=8192):
    """Independent reference: list of (code, nlines) and "error" if malformed (regexes, whole input)."""
    out = []
    code = None
    nlines = size = 0
    pos = 0
    while True:
        i = data.find(b"\n", pos)
        if i < 0:
            if len(data) - pos >= max_line:
                out.append("error")
            return out
        if i + 1 - pos > max_line:
            out.append("error")
            return out
        line = data[pos:i]
        pos = i + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        m = LINE.match(line)
        if not m or (code is not None and int(m.group(1)) != code):
            out.append("error")
            return out
        code = int(m.group(1))
        nlines += 1
        size += len(line)
        if nlines > max_lines or size > max_bytes:
            out.append("error")
            return out
        if m.group(2) != b"-":
            out.append((code, nlines))
            code = None
            nlines = size = 0


def fuzz_stream(rng):
    parts = []
    for _ in range(1 + rng.below(4)):
        code = [220, 250, 354, 421, 451, 550, 235, 334][rng.below(8)]
        n = 1 + rng.below(4)
        for k in range(n):
            text = b"x" * rng.below(30) if rng.below(3) else b"5.1.1 enh"
            parts.append(b"%d%s%s\r\n" % (code, b"-" if k < n - 1 else b" ", text))
    data = bytearray(b"".join(parts))
    for _ in range(rng.below(4)):
        kind = rng.below(7)
        at = rng.below(len(data) + 1)
        if kind == 0 and data:
            data[at % len(data)] = rng.below(256)
        elif kind == 1:
            data[at:at] = bytes([rng.below(256)])
        elif kind == 2 and data:
            del data[at % len(data)]
        elif kind == 3:
            data[at:at] = b"y" * (400 + rng.below(300))
        elif kind == 4:
            data[at:at] = b"250-z\r\n" * (90 + rng.below(20))
        elif kind == 5:
            data[at:at] = b"\n"
        elif kind == 6:
            data[at:at] = b"\r"
    return bytes(data)


def parse_pieces(data, rng):
    p = ReplyParser()
    got = []
    pos = 0
    try:
        while pos <= len(data):
            k = 1 + rng.below(64)
            p.feed(data[pos:pos + k])
            pos += k
            while True:
                r = p.next()
                if r is None:
                    break
                got.append((r.code, len(r.lines)))
    except ProtocolError:
        got.append("error")
    return got


def reply_fuzz(seeds):
    from portable import FakeClock
    from smtp_fake import FakeServer
    from smtpmtm.wire.session import Session

    cases = failures = 0
    notes = []
    seen = {"malformed": 0, "protocol": 0, "reply": 0, "sent": 0}
    for seed in range(seeds):
        rng = Rng(seed + 1)
        data = fuzz_stream(rng)
        cases += 1
        try:
            got = parse_pieces(data, rng)
            ok = got == oracle(data)
            seen["malformed"] += got[-1:] == ["error"]
        except Exception as e:  # anything but ProtocolError escaping is a failure
            ok = False
            got = repr(e)
        if not ok:
            failures += 1
            if len(notes) < 3:
                notes.append("seed %d: %r" % (seed, data[:60]))
        # the same bytes as the server's answer at one stage of a send
        verb = ("MAIL", "RCPT", "DATA", "DOT")[seed % 4]
        cases += 1
        clock = FakeClock()
        srv = FakeServer(clock, caps=["PIPELINING"] if seed % 8 < 4 else [], tls=True, raw={verb: data})
        s = Session(srv, clock, "board")
        sent = False
        try:
            s.open()
            s.send_message("a@x.org", ["b@y.org"], [b"Subject: x\r\n\r\nhi\r\n"], 20)
            sent = True
            ok = True
            seen["sent"] += 1
        except ProtocolError:
            ok = True
            seen["protocol"] += 1
        except (ReplyError, SmtpMtmError):
            ok = True
            seen["reply"] += 1
        except Exception as e:  # a crash of the core on hostile input
            ok = False
            notes.append("seed %d session crash %r" % (seed, e))
        if sent:
            # reported sent: the reply stream the oracle saw must start with a well-formed reply
            o = oracle(data)
            ok = bool(o) and o[0] != "error"
        if not ok:
            failures += 1
            if len(notes) < 3:
                notes.append("seed %d session %s %r" % (seed, verb, data[:60]))
    notes.append("malformed %(malformed)d; session: protocol error %(protocol)d, other error %(reply)d, "
                 "sent %(sent)d" % seen)
    return cases, failures, notes


def run(argv):
    quick = "--quick" in argv
    sc, sf, sn = smuggling()
    rc, rf, rn = reply_fuzz(2000 if quick else 20000)
    rows = [
        {"suite": "smtp smuggling (DATA stuffing + BDAT, every cut pair, + Session)", "cases": sc,
         "failures": sf, "notes": "; ".join(sn) or "%d patterns" % len(patterns())},
        {"suite": "smtp reply fuzz (parser vs oracle at random splits, + Session)", "cases": rc,
         "failures": rf, "notes": "; ".join(rn)},
    ]
    figures = {"smuggling_cases": sc, "smuggling_failures": sf, "reply_fuzz_cases": rc,
               "reply_fuzz_failures": rf}
    return rows, figures

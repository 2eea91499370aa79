"""Property tests of the SMTP core (hypothesis; host-only because hypothesis is CPython-only).

- any split of a server byte stream gives the same replies (and the same errors);
- random bytes and line endings through dot-stuffing, then server-side
  un-stuffing, equal the CRLF-normalised input and never hold an early terminator;
- BDAT chunking sends exactly the normalised bytes, with correct counts.
"""

import os
import sys

from hypothesis import given, settings, strategies as st

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "shared"))
sys.path.insert(0, os.path.join(ROOT, "tests", "core"))

from smtpmtm.wire.dotstuff import Encoder, normalise, unstuff  # noqa: E402
from smtpmtm.errors import ProtocolError  # noqa: E402
from smtpmtm.wire.replies import ReplyParser  # noqa: E402

line_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
code = st.integers(200, 559).filter(lambda c: (c // 10) % 10 <= 5)


@st.composite
def reply_stream(draw):
    out = []
    for _ in range(draw(st.integers(1, 6))):
        c = draw(code)
        lines = draw(st.lists(line_text, min_size=1, max_size=5))
        for i, t in enumerate(lines):
            out.append(b"%d%s%s\r\n" % (c, b" " if i == len(lines) - 1 else b"-", t.encode()))
    return b"".join(out)


def parse_all(pieces, **kw):
    p = ReplyParser(**kw)
    got = []
    try:
        for piece in pieces:
            p.feed(piece)
            while True:
                r = p.next()
                if r is None:
                    break
                got.append((r.code, r.enhanced, r.lines))
    except ProtocolError as e:
        got.append(("error", str(e)))
    return got


def split(data, cuts):
    cuts = sorted(set(c % (len(data) + 1) for c in cuts))
    out, prev = [], 0
    for c in cuts:
        out.append(data[prev:c])
        prev = c
    out.append(data[prev:])
    return out


@settings(max_examples=300, deadline=None)
@given(reply_stream(), st.lists(st.integers(0, 10000), max_size=12))
def test_any_split_gives_same_replies(data, cuts):
    assert parse_all(split(data, cuts)) == parse_all([data])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 10000), max_size=8))
def test_any_split_of_garbage_gives_same_outcome(data, cuts):
    whole = parse_all([data])
    parts = parse_all(split(data, cuts))
    assert [g for g in parts if g[0] != "error"] == [g for g in whole if g[0] != "error"]
    assert (parts and parts[-1][0] == "error") == (whole and whole[-1][0] == "error")


body_bytes = st.lists(st.sampled_from([b"\r", b"\n", b".", b"a", b"\r\n", b".\r\n", b"\x00", b"\xff"]),
                      max_size=80).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(body_bytes, st.lists(st.integers(0, 10000), max_size=10))
def test_dot_stuffing_round_trip(body, cuts):
    e = Encoder(True)
    wire = b"".join(e.feed(c) for c in split(body, cuts)) + e.end()
    n = wire.count(b"\r\n")
    assert wire.count(b"\r") == n and wire.count(b"\n") == n  # no bare CR or LF on the wire
    inner = wire[:-3]
    assert wire.endswith(b".\r\n")
    for pat in (b"\r\n.\r\n", b"\n.\n", b"\r.\r", b"\n.\r", b"\r.\n"):
        assert pat not in inner  # no premature terminator, strict or lenient
    assert not inner.startswith(b".\r\n")
    assert unstuff(wire) == (normalise(body), b"")


@settings(max_examples=300, deadline=None)
@given(body_bytes, st.lists(st.integers(0, 10000), max_size=10))
def test_bdat_normalisation(body, cuts):
    e = Encoder(False)
    out = b"".join(e.feed(c) for c in split(body, cuts)) + e.end()
    assert out == normalise(body)


@settings(max_examples=150, deadline=None)
@given(body_bytes, st.integers(1, 40), st.booleans(), st.booleans())
def test_session_delivers_normalised_body(body, chunk, chunking, pipelining):
    from portable import FakeClock
    from smtp_fake import FakeServer
    from smtpmtm.wire.session import Session

    caps = (["CHUNKING"] if chunking else []) + (["PIPELINING"] if pipelining else [])
    clock = FakeClock()
    srv = FakeServer(clock, caps=caps, tls=True)
    s = Session(srv, clock, "board", bdat_size=16)
    s.open()
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
    s.send_message("a@x.org", ["b@y.org"], pieces, len(body))
    assert srv.messages[0][2] == normalise(body)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 60), st.sampled_from([[], ["PIPELINING"], ["PIPELINING", "CHUNKING"]]))
def test_session_outcome_independent_of_segmenting(segment, caps):
    from portable import FakeClock
    from smtp_fake import FakeServer
    from smtpmtm.wire.session import Session

    def run(seg):
        clock = FakeClock()
        srv = FakeServer(clock, caps=caps + ["AUTH LOGIN", "SIZE 99999"], tls=True, segment=seg,
                         replies={"RCPT": ["250 ok", "550-5.1.1 no such\r\n550 5.1.1 user"]})
        s = Session(srv, clock, "board")
        s.open()
        s.login("u", "p")
        r = s.send_message("a@x.org", ["b@y.org", "c@y.org"], [b"Subject: s\r\n\r\nbody\r\n"], 22)
        return r, s.round_trips, srv.log

    assert run(segment) == run(0)

"""Dot-stuffing and CRLF normalisation over chunks split anywhere, and every smuggling variant."""

from smtpmtm.wire.dotstuff import Encoder, normalise, unstuff
from portable import Rng

SMUGGLE = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n",
           b"\n..\n", b"\r\n.\r\n", b".\r\n", b".\n", b".\r", b"\r\n\r\n.\r\n", b"\n\r.\r\n"]


def encode(chunks, stuff=True):
    e = Encoder(stuff)
    out = [e.feed(c) for c in chunks]
    out.append(e.end())
    return b"".join(out)


def check_wire(body, wire):
    """The wire has no bare CR/LF, exactly one terminator at its end, and un-stuffs to the body."""
    n = wire.count(b"\r\n")
    assert wire.count(b"\r") == n and wire.count(b"\n") == n, wire
    got = unstuff(wire)
    assert got is not None, wire
    assert got == (normalise(body), b""), (body, wire, got)
    # no early terminator, whatever line ending a lenient server accepts
    inner = wire[:-3]
    for pat in (b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r"):
        assert pat not in inner, (pat, wire)
    assert not inner.startswith(b".\r") or inner.startswith(b"..")


def test_simple():
    assert encode([b"hi\r\n"]) == b"hi\r\n.\r\n"
    assert encode([b"hi"]) == b"hi\r\n.\r\n"
    assert encode([]) == b".\r\n"
    assert encode([b".x\r\n..y\r\n"]) == b"..x\r\n...y\r\n.\r\n"
    assert encode([b"a\nb\rc\r\n"]) == b"a\r\nb\r\nc\r\n.\r\n"


def test_bdat_normalises_without_stuffing():
    assert encode([b".a\n.\n"], stuff=False) == b".a\r\n.\r\n"
    assert encode([b"x\r", b"\ny"], stuff=False) == b"x\r\ny\r\n"


def test_cr_at_chunk_end_and_lf_at_next_start():
    assert encode([b"a\r", b"\nb\r\n"]) == b"a\r\nb\r\n.\r\n"
    assert encode([b"a\r", b".\r", b"\n"]) == b"a\r\n..\r\n.\r\n"
    assert encode([b"a\r", b"\r", b"\r"]) == b"a\r\n\r\n\r\n.\r\n"
    assert encode([b"a\r\n", b".", b"\r\n"]) == b"a\r\n..\r\n.\r\n"


def test_every_smuggling_variant_every_split():
    for pat in SMUGGLE:
        for pre in (b"", b"x", b"x\r\n", b"x\r", b"x\n"):
            for post in (b"", b"MAIL FROM:<evil@x>\r\n", b"y"):
                body = pre + pat + post
                for i in range(len(body) + 1):
                    for j in range(i, len(body) + 1):
                        check_wire(body, encode([body[:i], body[i:j], body[j:]]))


def test_random_bodies_random_chunks():
    rng = Rng(7)
    alphabet = b"\r\n.a"
    for _ in range(300):
        body = bytes(alphabet[rng.below(4)] for _ in range(rng.below(40)))
        chunks, i = [], 0
        while i < len(body):
            k = 1 + rng.below(6)
            chunks.append(body[i:i + k])
            i += k
        check_wire(body, encode(chunks))
        assert encode(chunks, False) == normalise(body)

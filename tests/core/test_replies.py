"""Reply parser: multi-line replies split at every byte, enhanced codes, bounds, malformed replies."""

from smtpmtm.errors import ProtocolError
from smtpmtm.wire.replies import ReplyParser, split_enhanced
from portable import raises

STREAM = (b"220 mx.example.org ESMTP ready\r\n"
          b"250-mx.example.org hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 8BITMIME\r\n"
          b"550 5.1.1 <bob@x.org>: no such user\r\n"
          b"451-4.3.0 first\r\n451 4.3.0 second\r\n"
          b"250\r\n"
          b"354 go ahead\n")


def _all(p):
    out = []
    while True:
        r = p.next()
        if r is None:
            return out
        out.append((r.code, r.enhanced, r.lines))


EXPECT = [
    (220, None, ["mx.example.org ESMTP ready"]),
    (250, None, ["mx.example.org hello", "PIPELINING", "SIZE 35882577", "8BITMIME"]),
    (550, "5.1.1", ["<bob@x.org>: no such user"]),
    (451, "4.3.0", ["first", "second"]),
    (250, None, [""]),
    (354, None, ["go ahead"]),
]


def test_whole_stream():
    p = ReplyParser()
    p.feed(STREAM)
    assert _all(p) == EXPECT


def test_split_at_every_byte():
    for i in range(len(STREAM) + 1):
        p = ReplyParser()
        p.feed(STREAM[:i])
        got = _all(p)
        p.feed(STREAM[i:])
        got += _all(p)
        assert got == EXPECT, i


def test_one_byte_at_a_time():
    p = ReplyParser()
    got = []
    for b in STREAM:
        p.feed(bytes([b]))
        got += _all(p)
    assert got == EXPECT


def test_enhanced_code_must_match_class():
    assert split_enhanced(550, "5.1.1 no") == ("5.1.1", "no")
    assert split_enhanced(250, "5.1.1 no") == (None, "5.1.1 no")
    assert split_enhanced(250, "2.0.0") == ("2.0.0", "")
    assert split_enhanced(250, "2.0 ok") == (None, "2.0 ok")
    assert split_enhanced(250, "") == (None, "")
    assert split_enhanced(451, "4.x.0 hm") == (None, "4.x.0 hm")


def test_reply_text_and_tuple():
    p = ReplyParser()
    p.feed(b"550-5.7.1 line one\r\n550 5.7.1 line two\r\n")
    r = p.next()
    assert (r.code, r.enhanced, r.text) == (550, "5.7.1", "line one line two")


def test_line_at_limit_ok_and_over_limit_fails():
    p = ReplyParser()
    ok = b"250 " + b"x" * (512 - 6) + b"\r\n"
    assert len(ok) == 512
    p.feed(ok)
    assert p.next().code == 250
    p = ReplyParser()
    p.feed(b"250 " + b"x" * (512 - 5) + b"\r\n")
    raises(ProtocolError, p.next)
    raises(ProtocolError, p.next)  # stays failed
    raises(ProtocolError, p.feed, b"250 ok\r\n")


def test_endless_line_without_newline_fails_bounded():
    p = ReplyParser()
    p.feed(b"250-" + b"a" * 600)
    raises(ProtocolError, p.next)


def test_too_many_lines():
    p = ReplyParser()
    for _ in range(100):
        p.feed(b"250-x\r\n")
    assert p.next() is None
    p.feed(b"250 last\r\n")
    raises(ProtocolError, p.next)


def test_too_many_bytes_in_one_reply():
    p = ReplyParser(max_bytes=1000)
    for _ in range(5):
        p.feed(b"250-" + b"y" * 300 + b"\r\n")
    raises(ProtocolError, p.next)


def test_malformed():
    for bad in (b"25x ok\r\n", b"2500 ok\r\n", b"250_ok\r\n", b"ok\r\n", b"\r\n", b"12\r\n",
                b"650 bad class\r\n", b"250-a\r\n251 b\r\n", b"\x00\x01\x02\r\n", b"250-a\r\n550 b\r\n"):
        p = ReplyParser()
        p.feed(bad)
        e = raises(ProtocolError, p.next)
        assert e.code == "protocol"


def test_non_utf8_text_survives():
    p = ReplyParser()
    p.feed(b"250 caf\xe9 \xff\r\n")
    r = p.next()
    assert r.code == 250 and r.text == "caf? ?"


def test_reset_discards_buffer():
    p = ReplyParser()
    p.feed(b"250-a\r\n250 b")
    assert p.next() is None and p.buffered()
    p.reset()
    assert not p.buffered()
    p.feed(b"220 ok\r\n")
    assert p.next().code == 220

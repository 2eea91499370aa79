"""Transfer encodings: base64 and quoted-printable vectors, line limits, edge sizes."""

import binascii

from portable import Rng, tmpdir, write_file
from smtpmtm import mime
from smtpmtm.mime import encoders as enc




def b64(data):
    return b"".join(enc.b64(_blocks(data)))


def _blocks(data):
    for i in range(0, len(data), enc.READ):
        yield data[i:i + enc.READ]


def qp_text(data):
    return b"".join(enc.qp(enc.crlf(_blocks(data))))


def unqp(data):
    """A small RFC 2045 §6.7 decoder for checking."""
    out = bytearray()
    for line in data.split(b"\r\n"):
        assert len(line) <= 76, line
        soft = line.endswith(b"=")
        if soft:
            line = line[:-1]
        i = 0
        while i < len(line):
            if line[i] == 61:
                out.append(int(line[i + 1:i + 3], 16))
                i += 3
            else:
                assert line[i] in (9, 32) or 33 <= line[i] <= 126
                out.append(line[i])
                i += 1
        if not soft:
            out += b"\r\n"
    return bytes(out[:-2])  # the last line of the split has no line break after it


def test_base64_rfc4648_vectors_and_line_length():
    vectors = [(b"", b""), (b"f", b"Zg=="), (b"fo", b"Zm8="), (b"foo", b"Zm9v"),
               (b"foob", b"Zm9vYg=="), (b"fooba", b"Zm9vYmE="), (b"foobar", b"Zm9vYmFy")]
    for raw, want in vectors:
        assert b64(raw) == want and enc.b64_size(len(raw)) == len(want)
    data = bytes(range(256)) * 3
    out = b64(data)
    lines = out.split(b"\r\n")
    assert [len(x) for x in lines[:-1]] == [76] * (len(data) // 57)
    assert binascii.a2b_base64(out.replace(b"\r\n", b"")) == data
    assert len(out) == enc.b64_size(len(data))


def test_quoted_printable_vectors():
    assert qp_text(b"a=b\n") == b"a=3Db\r\n"
    assert qp_text(b"caf\xc3\xa9") == b"caf=C3=A9\r\n"
    assert qp_text(b"trailing \nand tab\t\n") == b"trailing=20\r\nand tab=09\r\n"
    assert qp_text(b"a  b\r\nc\rd") == b"a  b\r\nc\r\nd\r\n"
    long = b"Now's the time for all folk to come to the aid of their country. " * 3
    out = qp_text(long)
    for line in out.split(b"\r\n"):
        assert len(line) <= 76
    assert unqp(out) == long + b"\r\n"
    # an encoded triple is never split by a soft break
    out = qp_text(b"x" * 74 + b"=")
    assert out == b"x" * 74 + b"=\r\n=3D\r\n"
    out = b"".join(enc.qp([b"\r\n \x00\xff=", b"\t"], binary=True))
    assert out == b"=0D=0A =00=FF=3D=09"


def test_quoted_printable_random_round_trip():
    r = Rng(7)
    for n in (0, 1, 75, 76, 77, 300, 1500):
        alphabet = b"ab =\t\n\r\xc3\xa9."
        data = bytes(alphabet[r.below(len(alphabet))] for _ in range(n))
        out = b"".join(enc.qp(_blocks(data), binary=True))
        assert unqp(out) == data
        for line in out.split(b"\r\n"):
            assert len(line) <= 76 and not line.endswith(b" ") and not line.endswith(b"\t")


def test_crlf_normalising_across_blocks():
    got = b"".join(enc.crlf([b"a\r", b"\nb\r", b"\r", b"c\n", b"\r"]))
    assert got == b"a\r\nb\r\n\r\nc\r\n\r\n"
    assert b"".join(enc.crlf([b"x"])) == b"x\r\n"
    assert b"".join(enc.crlf([])) == b""
    size, eight, longest, nul, found = enc.scan(enc.crlf([b"ab=", b"_12\nxyz\xc3\xa9"]), b"=_1")
    assert (size, eight, longest, nul, found) == (15, True, 6, False, True)


def part_body(data, name):
    start = data.index(b'filename="%s"' % name.encode())
    start = data.index(b"\r\n\r\n", start) + 4
    return data[start:data.index(b"\r\n--", start)] if data[start:start + 2] != b"\r\n" else b""


def test_attachment_edge_sizes_round_trip():
    d = tmpdir()
    # around the 57-byte base64 line, the read block (enc.READ) and the 1024-byte chunk
    r = enc.READ
    for n in (0, 1, 2, 3, 56, 57, 58, r - 1, r, r + 1, 2 * r - 1, 2 * r, 2 * r + 1, 767, 768,
              769, 1023, 1024, 1025, 2000):
        m = mime.Message(sender="p@example.com", to=["a@example.com"], message_id="<e@x.org>")
        content = bytes((i * 7 + n) & 255 for i in range(n))
        write_file("%s/f%d.bin" % (d, n), content)
        m.attach("%s/f%d.bin" % (d, n))
        b = mime.build(m)
        parts = []
        for c in b.chunks():
            assert len(c) <= mime.CHUNK
            parts.append(c)
        data = b"".join(parts)
        parts = None
        assert len(data) == b.size
        body = part_body(data, "f%d.bin" % n)
        assert len(body) == enc.b64_size(n)
        assert binascii.a2b_base64(body.replace(b"\r\n", b"")) == content, n


def test_text_edge_sizes_and_encodings():
    for text, want in (("", "7bit"), ("x" * 998, "7bit"), ("x" * 999, "quoted-printable"),
                       ("\u00e9", "quoted-printable"), ("a\0b", "quoted-printable")):
        m = mime.Message(sender="p@example.com", message_id="<t@example.com>")
        m.set_text(text)
        b = mime.build(m)
        data = b"".join(b.chunks())
        assert len(data) == b.size
        assert ("Content-Transfer-Encoding: %s\r\n" % want).encode() in data, (len(text), want)
        for line in data.split(b"\r\n"):
            assert len(line) <= 998
    m.set_text("\u00e9t\u00e9 " * 200, encoding="base64")
    b = mime.build(m)
    data = b"".join(b.chunks())
    assert len(data) == b.size and data.endswith(b"\r\n")
    body = data.split(b"\r\n\r\n", 1)[1]
    got = binascii.a2b_base64(body.replace(b"\r\n", b""))
    assert got == ("\u00e9t\u00e9 " * 200).encode() + b"\r\n"

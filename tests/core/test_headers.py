"""Header text: folding, RFC 2047 words, RFC 2231 names, the top headers."""

import binascii

from portable import raises
from smtpmtm import errors
from smtpmtm.mime import headers as hd




def decode_words(value):
    """A strict RFC 2047 decoder: white space between adjacent encoded words is dropped."""
    out = b""
    for w in value.replace("\r\n", "").split(" "):
        if not w:
            continue
        assert w.startswith("=?utf-8?") and w.endswith("?=") and len(w) <= 75, w
        kind, data = w[8], w[10:-2]
        if kind == "b":
            raw = binascii.a2b_base64(data)
        else:
            raw = b""
            i = 0
            while i < len(data):
                c = data[i]
                if c == "=":
                    raw += bytes([int(data[i + 1:i + 3], 16)])
                    i += 3
                    continue
                raw += b" " if c == "_" else c.encode()
                i += 1
        raw.decode("utf-8")  # each word holds whole characters (RFC 2047 §5)
        out += raw
    return out.decode("utf-8")


def test_unstructured_plain_and_folded():
    h = hd.unstructured("Subject", "Daily report")
    assert h == "Subject: Daily report\r\n"
    long = " ".join(["word%d" % i for i in range(40)])
    h = hd.unstructured("Subject", long)
    lines = h.split("\r\n")[:-1]
    assert len(lines) > 2
    for ln in lines:
        assert len(ln) <= 78
    assert h.replace("\r\n", "")[len("Subject: "):] == long  # unfolding gives it back
    assert hd.unstructured("Subject", "") == "Subject:\r\n"
    raises(errors.InputError, hd.unstructured, "Subject", "a\nb")


def test_encoded_words_limits_and_exact_decoding():
    texts = ["Alarm \u2713", "\u00e9" * 100, "\U0001f600" * 30 + " tail", "=?x?= looks like a word",
             "  two  spaces  ", "tab\there", "a" * 1200, "\u65e5\u672c\u8a9e\u306e\u4ef6\u540d" * 9]
    for t in texts:
        h = hd.unstructured("Subject", t)
        for ln in h.split("\r\n"):
            assert len(ln) <= 76, ln
        assert decode_words(h[len("Subject:"):]) == t or h == "Subject: %s\r\n" % t
    assert hd.encode_words("Alarm \u2713") == ["=?utf-8?b?QWxhcm0g4pyT?="]  # B is shorter
    assert hd.encode_words("Pressure low \u00e9") == ["=?utf-8?q?Pressure_low_=C3=A9?="]  # Q is
    assert hd.encode_words("\u00e9\u00e9\u00e9") == ["=?utf-8?b?w6nDqcOp?="]
    # every word holds whole characters: 4-byte characters are never split
    for w in hd.encode_words("\U0001f600" * 40):
        decode_words(w)


def test_display_names():
    assert hd.address_list("From", [("Pump House", "p@x.org")]) == "From: Pump House <p@x.org>\r\n"
    assert hd.address_list("To", [("Doe, Ann", "a@x.org"), ("", "b@x.org")]) == \
        'To: "Doe, Ann" <a@x.org>, b@x.org\r\n'
    assert hd.address_list("To", [('say "hi"\\', "a@x.org")]) == 'To: "say \\"hi\\"\\\\" <a@x.org>\r\n'
    h = hd.address_list("From", [("J\u00fcrgen M\u00fcller", "j@x.org")])
    assert h.startswith("From: =?utf-8?") and h.endswith(" <j@x.org>\r\n")
    assert decode_words(h[5:h.index("<")]) == "J\u00fcrgen M\u00fcller"
    many = [("Name %d" % i, "user%d@example.com" % i) for i in range(30)]
    h = hd.address_list("To", many)
    for ln in h.split("\r\n"):
        assert len(ln) <= 78
    assert h.count("@example.com>,") == 29


def test_rfc2231_file_names():
    assert hd.file_params("report.csv") == ['filename="report.csv"']
    assert hd.file_params("r\u00e9sum\u00e9 \u2713.pdf") == \
        ["filename*=utf-8''r%C3%A9sum%C3%A9%20%E2%9C%93.pdf"]
    p = hd.file_params("\u2713" * 40)
    assert len(p) > 1 and p[0].startswith("filename*0*=utf-8''") and p[1].startswith("filename*1*=")
    joined = "".join(x.split("=", 1)[1] for x in p)[len("utf-8''"):]
    assert joined == "%E2%9C%93" * 40
    for x in p:
        assert len(x) <= 78
    assert hd.file_params("<a>") == ["filename*=utf-8''%3Ca%3E"]
    assert hd.name_param("a.txt") == 'name="a.txt"'
    assert hd.name_param("\u00e9.txt") == 'name="=?utf-8?q?=C3=A9=2Etxt?="' or \
        hd.name_param("\u00e9.txt").startswith('name="=?utf-8?b?')

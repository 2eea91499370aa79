"""Address, Message-ID and date syntax (smtpmtm.syntax): RFC 5321/5322, IDNA/Punycode (RFC 3492)."""

from portable import raises
from smtpmtm import errors
from smtpmtm import syntax as sx
from smtpmtm.errors import InputError
from smtpmtm.mime.headers import norm_address
from smtpmtm.syntax import check_address, format_address, parse_address, valid_address


def test_format_date_known_vectors():
    assert sx.format_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert sx.format_date(1732790000, 0) == "Thu, 28 Nov 2024 10:33:20 +0000"
    assert sx.format_date(1732790000, 60) == "Thu, 28 Nov 2024 11:33:20 +0100"
    assert sx.format_date(1732790000, -330) == "Thu, 28 Nov 2024 05:03:20 -0530"
    assert sx.format_date(951782400) == "Tue, 29 Feb 2000 00:00:00 +0000"  # leap day
    assert sx.format_date(4133980799) == "Fri, 31 Dec 2100 23:59:59 +0000"
    assert sx.format_date(4107542400) == "Mon, 01 Mar 2100 00:00:00 +0000"  # 2100: no leap day
    assert sx.format_date(1700000000, 600) == "Wed, 15 Nov 2023 08:13:20 +1000"
    assert sx.format_date(86399, -1) == "Thu, 01 Jan 1970 23:58:59 -0001"
    raises(errors.InputError, sx.format_date, 0, 1440)
    raises(errors.InputError, sx.format_date, "x", 0)


def test_message_id_unique_and_checked():
    a = sx.message_id_for("p@example.com", b"\x01\x02\xff")
    assert a == "<0102ff@example.com>"
    ids = set(sx.message_id_for("p@board.example") for _ in range(50))
    assert len(ids) == 50
    for bad in ("p@", "p@a b", "p@x\r\n", "p@x/y"):  # no usable domain: the fallback
        assert sx.message_id_for(bad, b"\x01") == "<01@smtpmtm.invalid>"
    assert sx.check_msg_id("f", "a@b") == "<a@b>"
    for bad in ("<a b@c>", "nodomain", "<@x>", "a@b\n"):
        raises(errors.InputError, sx.check_msg_id, "f", bad)


def test_parse_and_check_address():
    assert sx.parse_address("Ann <ann@x.org>") == ("Ann", "ann@x.org")
    assert sx.parse_address('"Doe, Ann" <ann@x.org>') == ("Doe, Ann", "ann@x.org")
    assert sx.parse_address("  bob@x.org ") == ("", "bob@x.org")
    assert sx.parse_address("<bob@x.org>") == ("", "bob@x.org")
    assert sx.check_address("j\u00fcrgen@m\u00fcller.de") == "j\u00fcrgen@m\u00fcller.de"
    bad = ["bob", "bob@", "@x.org", "a b@x.org", "a@x .org", "a@x..org", "a@.x", "a<b@x.org",
           "a@b@c", "a@x.org\r\nBcc: e@vil", "a\0@x.org", "x" * 65 + "@x.org"]
    for a in bad:
        e = raises(errors.InputError, sx.check_address, a, "to[2]")
        assert "to[2]" in str(e), str(e)
    e = raises(errors.InputError, norm_address, ("Ann\r\n", "a@x.org"), "cc[0]")
    assert "cc[0]" in str(e)


def test_address_helpers():
    assert valid_address("ann@example.com") and valid_address("a.b+c@sub.example.org")
    assert valid_address('"a b"@example.com') and valid_address("x@[192.0.2.1]")
    assert valid_address("jörg@exämple.de") and valid_address("root@localhost")
    for bad in ("", "ann", "ann@", "@example.com", "a b@x.org", "a@b@", "a..b@x.org",
                ".a@x.org", "a@-x.org", "a@x..org", "a@x.org\r\nRCPT TO:<e@x>", None,
                "a" * 65 + "@x.org", "a@" + "b" * 260 + ".org", "<a@x.org>"):
        assert not valid_address(bad), bad
    assert parse_address('"Ann \\"A\\" B" <ann@x.org>') == ('Ann "A" B', "ann@x.org")
    assert parse_address("Bob <bob@x.org>") == ("Bob", "bob@x.org")
    assert parse_address(" bob@x.org ") == ("", "bob@x.org")
    assert format_address('Ann "A"', "ann@x.org") == '"Ann \\"A\\"" <ann@x.org>'
    assert parse_address(format_address('Ann "A"', "ann@x.org")) == ('Ann "A"', "ann@x.org")
    assert format_address("", "a@x.org") == "a@x.org"
    e = raises(InputError, check_address, "nope", "to")
    assert "to" in str(e)


def test_punycode_matches_rfc_3492_vectors():
    # RFC 3492 section 7.1 samples (lower-cased where the RFC mixes case) and common IDNs
    assert sx.punycode("b\u00fccher") == "bcher-kva"
    assert sx.punycode("m\u00fcnchen-\u00fc") == "mnchen--n2ag"
    assert sx.punycode("\u00fc") == "tda"
    assert sx.punycode("\u65e5\u672c\u8a9e") == "wgv71a119e"
    assert sx.punycode("\u043f\u0440\u0438\u043c\u0435\u0440") == "e1afmkfd"
    assert sx.punycode("\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d\u6587") == "ihqwcrb4cv8a8dqg056pqjye"
    assert sx.idna("b\u00fccher.de") == "xn--bcher-kva.de"
    assert sx.idna("mail.b\u00fccher.de") == "mail.xn--bcher-kva.de"
    assert sx.idna("example.com") == "example.com"


def test_message_id_for_an_idn_domain_is_ascii_and_valid():
    mid = sx.message_id_for("pumpe@b\u00fccher.de", b"\x01\x02")
    assert mid == "<0102@xn--bcher-kva.de>"
    assert sx.check_msg_id("message_id", mid) == mid  # what mime.build checks at send time
    # no usable domain (an address literal, none at all): a valid fallback, never an error
    assert sx.message_id_for("a@[192.0.2.1]", b"\x01") == "<01@smtpmtm.invalid>"
    assert sx.message_id_for("", b"\x01") == "<01@smtpmtm.invalid>"

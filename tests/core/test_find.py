"""find: Symbian part flags, case/whole-word/wildcard modifiers, bounded body search."""

from portable import raises, tmpdir, write_file

from smtpmtm.client import find as F
from smtpmtm.errors import InputError


def M(text, flags=0):
    return F.Matcher(text, flags)


def test_plain_substring_case_insensitive_by_default():
    assert M("alarm").search("Pump ALARM raised")
    assert not M("alarm", F.FIND_CASE_SENSITIVE).search("Pump ALARM raised")
    assert M("ALARM", F.FIND_CASE_SENSITIVE).search("Pump ALARM raised")
    assert not M("alarm").search("")
    assert not M("xyz").search("Pump")


def test_whole_word():
    W = F.FIND_WHOLE_WORD
    assert M("pump", W).search("the pump stopped")
    assert M("pump", W).search("pump")
    assert M("pump", W).search("(pump)")
    assert not M("pump", W).search("pumphouse")
    assert not M("pump", W).search("sump_pump")
    assert M("pump", W).search("pumphouse pump")  # second occurrence is whole
    assert M("two words", W).search("has two words.")


def test_wildcards():
    X = F.FIND_WILDCARD
    assert M("al*m", X).search("an alarm here")
    assert M("al?rm", X).search("ALARM")
    assert not M("al?rm", X).search("alrm")
    assert M("*", X).search("x")
    assert M("a*", X).search("a")
    assert M("p?mp*e", X).search("my pumphouse")
    assert not M("p?mp*x", X).search("my pumphouse")
    # without the wildcard flag * and ? are literal
    assert not M("al*m").search("alarm")
    assert M("a*b").search("xa*by")


def test_wildcards_whole_word_and_case():
    X = F.FIND_WILDCARD | F.FIND_WHOLE_WORD
    assert M("alarm*", X).search("Pump alarms: 3")
    assert not M("larm*", X).search("Pump alarms: 3")
    assert M("?ump", X).search("sump and pump")
    assert not M("?ump", X).search("sumps only")
    assert not M("A*", X | F.FIND_CASE_SENSITIVE).search("all lower")
    assert M("A*", X | F.FIND_CASE_SENSITIVE).search("all Lower All")


def test_search_text_limits():
    raises(InputError, F.Matcher, "")
    raises(InputError, F.Matcher, "x" * 501)
    assert M("x" * 500).search("y" + "x" * 500)


def test_body_search_streams_long_lines_and_utf8():
    d = tmpdir()
    p = d + "/body"
    # a 5000-byte line with multi-byte chars; the needle straddles a 512-byte boundary
    line = ("é" * 255) + "ab" + "needle" + ("ü" * 2000) + "\n" + "last line Zebra"
    write_file(p, line.encode())
    for text, flags, want in (("needle", 0, True), ("zebra", 0, True), ("zebra", F.FIND_CASE_SENSITIVE, False),
                              ("éab", 0, True), ("üü", 0, True), ("missing", 0, False),
                              ("line Z?bra", F.FIND_WILDCARD, True)):
        with open(p, "rb") as f:
            assert F.search_file(M(text, flags), f) == want, text


def _header():
    return {"from": ("Pump House", "pump@example.com"),
            "to": [("Ann", "ann@example.com")], "cc": [("", "bob@example.org")],
            "bcc": [("Carol", "carol@example.net")], "subject": "Daily report"}


def test_find_in_parts():
    h = _header()
    ALL = F.PART_BODY | F.PART_RECIPIENT | F.PART_ORIGINATOR | F.PART_DESCRIPTION
    assert F.find_in("ann", ALL, h) == F.PART_RECIPIENT
    assert F.find_in("carol", ALL, h) == F.PART_RECIPIENT  # Bcc counts as recipient
    assert F.find_in("pump", ALL, h) == F.PART_ORIGINATOR
    assert F.find_in("report", ALL, h) == F.PART_DESCRIPTION
    assert F.find_in("report", F.PART_RECIPIENT, h) == 0  # only requested parts
    assert F.find_in("example", ALL, h) == F.PART_RECIPIENT | F.PART_ORIGINATOR
    fine = F.PART_TO | F.PART_FROM | F.PART_CC | F.PART_BCC | F.PART_SUBJECT
    assert F.find_in("ann", fine, h) == F.PART_TO
    assert F.find_in("bob", fine, h) == F.PART_CC
    assert F.find_in("carol", fine, h) == F.PART_BCC  # not Cc (Symbian's quirk fixed)
    assert F.find_in("house", fine, h) == F.PART_FROM
    assert F.find_in("daily", fine, h) == F.PART_SUBJECT
    assert F.find_in("example", fine, h) == F.PART_TO | F.PART_FROM | F.PART_CC | F.PART_BCC
    assert F.find_in("Ann", F.PART_TO | F.FIND_CASE_SENSITIVE, h) == F.PART_TO
    assert F.find_in("ANN", F.PART_TO | F.FIND_CASE_SENSITIVE, h) == 0
    assert F.find_in("exam", F.PART_TO | F.FIND_WHOLE_WORD, h) == 0
    assert F.find_in("d*y", F.PART_SUBJECT | F.FIND_WILDCARD, h) == F.PART_SUBJECT


def test_find_in_body():
    d = tmpdir()
    write_file(d + "/t", b"line one\nthe valve is open\n")
    write_file(d + "/h", b"<p>html only words</p>")
    opened = []

    def bodies():
        for n in ("/t", "/h"):
            f = open(d + n, "rb")
            opened.append(f)
            yield f

    assert F.find_in("valve", F.PART_BODY, {}, bodies) == F.PART_BODY
    assert F.find_in("html only", F.PART_BODY, {}, bodies) == F.PART_BODY
    assert F.find_in("nothing", F.PART_BODY | F.PART_DESCRIPTION, {}, bodies) == 0
    assert F.find_in("valve", F.PART_DESCRIPTION, {}, bodies) == 0
    assert opened
    for f in opened:  # every body file was closed
        raises(ValueError, f.read, 1)

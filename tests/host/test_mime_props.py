"""Property tests: what the MIME builder writes, CPython's `email` package reads back exactly.

Host-only: it needs hypothesis and CPython's `email` package (policy=email.policy.default)
as the independent parser, neither of which exists on MicroPython.
"""

import email
import email.policy
import email.utils
import os
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from smtpmtm import mime

# Any Unicode text except control characters and surrogates (CR/LF/NUL are refused,
# tested in tests/core); includes line/paragraph separators and non-BMP characters.
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=120)
NAME = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=90).filter(
    lambda s: len(s.encode()) <= 255)
BODY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=3000)
SETTINGS = settings(max_examples=int(os.environ.get("MIME_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def parse(built):
    data = b"".join(built.chunks())
    assert len(data) == built.size
    for line in data.split(b"\r\n"):
        assert len(line) <= 998
    assert b"\r\n".join(data.split(b"\r\n")).count(b"\n") == data.count(b"\r\n")  # no bare LF
    return email.message_from_bytes(data, policy=email.policy.default), data


def words(name):
    # A display name is an RFC 5322 §3.2.5 phrase. CPython's phrase parser collapses white
    # space runs (and drops them at the ends), and it keeps a space between two adjacent
    # encoded words, which RFC 2047 §6.2 says to ignore (CPython's own generator output
    # does not survive this either: a name of 50+ non-ASCII bytes comes back with a space
    # added). So display names are compared without white space here; tests/core
    # test_headers decodes the encoded words strictly and compares exactly.
    return "".join(name.split())


def content(part):
    # The wire form is canonical CRLF text (RFC 2045 §2.7); compare with "\n" line ends.
    return part.get_content().replace("\r\n", "\n")


def expect_text(t):
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    return t + "\n" if t and not t.endswith("\n") else t


@SETTINGS
@given(subject=TEXT, name=TEXT, body=BODY)
def test_subject_name_and_text_body_round_trip(subject, name, body):
    m = mime.Message(sender=(name, "pump@example.com"), to=[(name, "ann@example.com")],
                     subject=subject, date=1732790000, message_id="<1@example.com>")
    m.set_text(body)
    msg, _ = parse(mime.build(m))
    assert str(msg["Subject"]) == subject
    assert words(msg["From"].addresses[0].display_name) == words(name)
    assert msg["From"].addresses[0].addr_spec == "pump@example.com"
    assert words(msg["To"].addresses[0].display_name) == words(name)
    assert content(msg) == expect_text(body)
    assert not msg.defects


@SETTINGS
@given(fname=NAME, data=st.binary(max_size=3000), text=BODY, html=BODY,
       inline=st.booleans(), header=TEXT)
def test_parts_and_file_names_round_trip(fname, data, text, html, inline, header):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "f.bin")
    with open(path, "wb") as f:
        f.write(data)
    m = mime.Message(sender="pump@example.com", to=["ann@example.com"], subject="s",
                     message_id="<2@example.com>", headers=[("X-Note", header)])
    m.set_text(text)
    m.set_html(html)
    m.attach(path, name=fname, inline_cid="img1@example.com" if inline else None)
    m.attach(path, name=fname)
    b = mime.build(m)
    msg, raw = parse(b)
    assert raw == b"".join(mime.build(m).chunks())
    assert str(msg["X-Note"]) == header
    assert content(msg.get_body(("plain",))) == expect_text(text)
    assert content(msg.get_body(("html",))) == expect_text(html)
    files = [p for p in msg.walk() if p.get_filename() is not None]
    assert len(files) == 2
    for p in files:
        # exact: the decoded parameter; get_filename() then also unquotes "<..>"/'"..."'
        # and strips white space (email.message.Message.get_filename), so allow for that
        assert p["Content-Disposition"].params["filename"] == fname
        assert p.get_filename() == email.utils.collapse_rfc2231_value(fname).strip()
        assert p.get_content() == data
    if inline:
        assert msg.get_content_type() == "multipart/mixed"
        rel = msg.get_payload()[0]
        assert rel.get_content_type() == "multipart/related"
        assert rel.get_payload()[1]["Content-ID"] == "<img1@example.com>"


@SETTINGS
@given(data=st.binary(max_size=2000), encoding=st.sampled_from([None, "base64", "quoted-printable"]),
       text=BODY, text_enc=st.sampled_from([None, "8bit", "quoted-printable", "base64"]),
       inner_subject=TEXT, inner_body=BODY)
def test_encodings_and_rfc822_round_trip(data, encoding, text, text_enc, inner_subject, inner_body):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "f.bin")
    with open(path, "wb") as f:
        f.write(data)
    inner = mime.Message(sender="old@example.com", subject=inner_subject, message_id="<i@x.org>")
    inner.set_text(inner_body, encoding="8bit" if "\0" not in inner_body else None)
    eml = os.path.join(d, "inner.eml")
    with open(eml, "wb") as f:
        for c in mime.build(inner).chunks():
            f.write(c)
    m = mime.Message(sender="pump@example.com", subject="s", message_id="<3@example.com>")
    if text_enc == "8bit" and any(len(x.encode()) > 998 for x in text.splitlines()):
        text_enc = None
    m.set_text(text, encoding=text_enc)
    m.attach(path, name="data.bin", encoding=encoding)
    m.attach_message(eml)
    b = mime.build(m)
    msg, _ = parse(b)
    assert content(msg.get_body(("plain",))) == expect_text(text)
    att = [p for p in msg.iter_attachments()]
    assert att[0].get_content() == data
    sub = att[1].get_content()
    assert att[1].get_content_type() == "message/rfc822"
    assert str(sub["Subject"]) == inner_subject
    assert content(sub) == expect_text(inner_body)

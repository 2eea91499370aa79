"""MIME builder: structure, exact size, determinism, boundaries, flags, Bcc, rfc822 parts."""

import hashlib

from portable import raises, tmpdir, write_file
from smtpmtm import errors, mime


# tests/host/test_mime_heap.py runs the same builder precompiled (.mpy) at 64 KB


def raw(b):
    parts = []
    for c in b.chunks():
        assert 0 < len(c) <= mime.CHUNK
        parts.append(c)
    out = b"".join(parts)
    assert len(out) == b.size
    for line in out.split(b"\r\n"):
        assert len(line) <= 998 and b"\n" not in line and b"\r" not in line
    return out


def digest(b):
    h = hashlib.sha256()
    n = 0
    for c in b.chunks():
        h.update(c)
        n += len(c)
    assert n == b.size
    return h.digest()


def first_boundary(b):
    for c in b.chunks():  # the top header block comes first
        k = c.find(b'boundary="')
        if k >= 0:
            return c[k + 10:c.index(b'"', k + 10)]
    return None


def msg(**kw):
    args = dict(sender=("Pump House", "pump@example.com"), to=["ann@example.com"],
                subject="Alarm", date=1732790000, message_id="<m1@example.com>")
    args.update(kw)
    return mime.Message(**args)


def header_block(data):
    return data.split(b"\r\n\r\n", 1)[0].decode()


def boundaries(data):
    return [ln[2:] for ln in data.split(b"\r\n") if ln.startswith(b"--=_")]


def test_text_only_is_a_single_part():
    m = msg()
    m.set_text("Pressure low\nat pump 3")
    data = raw(mime.build(m))
    h = header_block(data)
    assert h.startswith("Date: Thu, 28 Nov 2024 10:33:20 +0000\r\nFrom: Pump House <pump@example.com>\r\n")
    assert "\r\nTo: ann@example.com\r\nSubject: Alarm\r\nMessage-ID: <m1@example.com>\r\n" in h
    assert "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n" \
           "Content-Transfer-Encoding: 7bit" in h
    assert data.endswith(b"\r\n\r\nPressure low\r\nat pump 3\r\n")
    assert b"multipart" not in data


def test_structure_mixed_related_alternative():
    d = tmpdir()
    write_file(d + "/pic.png", b"\x89PNG" + bytes(100))
    write_file(d + "/log.csv", b"a,b\n1,2\n")
    m = msg()
    m.set_text("plain")
    m.set_html('<img src="cid:pic1@x">')
    m.attach(d + "/pic.png", inline_cid="pic1@x")
    m.attach(d + "/log.csv")
    data = raw(mime.build(m))
    order = [ln for ln in data.split(b"\r\n") if ln.startswith(b"Content-Type:")]
    assert order[0].startswith(b"Content-Type: multipart/mixed;")
    assert order[1].startswith(b"Content-Type: multipart/related;")
    assert order[2].startswith(b"Content-Type: multipart/alternative;")
    assert order[3:] == [b'Content-Type: text/plain; charset="utf-8"',
                         b'Content-Type: text/html; charset="utf-8"',
                         b'Content-Type: image/png; name="pic.png"',
                         b'Content-Type: text/csv; name="log.csv"']
    assert b' type="multipart/alternative"' in data
    assert b"Content-Disposition: inline; filename=\"pic.png\"\r\nContent-ID: <pic1@x>\r\n" in data
    assert b"Content-Disposition: attachment; filename=\"log.csv\"\r\n" in data
    b = boundaries(data)
    assert len(set(x.rstrip(b"-") for x in b)) == 3
    assert data.endswith(b"--\r\n")
    m2 = msg()
    m2.set_html("<p>x</p>")
    m2.attach(d + "/log.csv")
    data = raw(mime.build(m2))
    assert b"multipart/alternative" not in data and b"multipart/related" not in data
    m3 = msg()
    m3.attach(d + "/log.csv")
    data = raw(mime.build(m3))
    assert data.count(b"Content-Type:") == 2 and b"text/plain; charset" not in data


def test_size_and_determinism():
    d = tmpdir()
    write_file(d + "/a.bin", bytes(range(256)) * 3)
    m = msg(to=[("\u00c5sa", "asa@example.com")], subject="Caf\u00e9 \u2713")
    m.set_text("h\u00e9llo " * 100)
    m.set_html("<p>" + "x" * 1100 + "</p>")
    m.attach(d + "/a.bin", name="d\u00e9j\u00e0 vu.bin")
    b = mime.build(m)
    one = digest(b)
    assert digest(b) == one  # the same Built twice
    assert digest(mime.build(m)) == one  # built again
    first = first_boundary(b)
    m2 = msg(message_id="<m2@example.com>", to=m.to, subject=m.subject)
    m2.set_text("x")
    m2.attach(d + "/a.bin")
    assert first and first_boundary(mime.build(m2)) != first


def test_message_id_made_once_and_kept():
    m = mime.Message(sender="pump@example.com", to=["a@example.com"])
    m.set_text("x")
    a = raw(mime.build(m))
    assert m.message_id.endswith("@example.com>")
    assert raw(mime.build(m)) == a
    assert "Date:" not in header_block(a)  # no clock is read
    m = mime.Message(sender="p@m\u00fcller.example")  # an IDN domain: its IDNA form (RFC 5891)
    m.set_text("x")
    assert mime.build(m).message_id.endswith("@xn--mller-kva.example>")


def test_boundary_never_in_7bit_content():
    m = msg()
    marker = "=_%08x" % mime._fnv(("<m1@example.com>" + "0").encode())
    m.set_text("line\n--%s_1\n--%s_2--\n" % (marker, marker))
    m.set_html("<p>%s</p>" % marker)
    data = raw(mime.build(m))
    bs = boundaries(data)
    assert bs and marker.encode() not in bs[0]
    assert data.count(b"--" + bs[0]) == 3  # two delimiters and the closing one


def test_flags_8bit_and_smtputf8():
    m = msg()
    m.set_text("gr\u00fc\u00dfe")
    b = mime.build(m)
    assert not b.needs_8bit and not b.needs_smtputf8
    assert b"quoted-printable" in raw(b)
    m.set_text("gr\u00fc\u00dfe", encoding="8bit")
    b = mime.build(m)
    data = raw(b)
    assert b.needs_8bit and not b.needs_smtputf8
    assert b"Content-Transfer-Encoding: 8bit\r\n\r\ngr\xc3\xbc\xc3\x9fe\r\n" in data
    m.set_text("plain ascii", encoding="8bit")  # labelled as what it is
    assert not mime.build(m).needs_8bit
    m = msg(to=["j\u00fcrgen@m\u00fcller.example"])
    m.set_text("x")
    b = mime.build(m)
    assert b.needs_smtputf8 and b.needs_8bit
    assert "j\u00fcrgen@m\u00fcller.example".encode() in raw(b)


def test_bcc_never_written_unless_shown():
    m = msg(cc=["c@example.com"], bcc=["hidden@example.com", "h2@example.com"])
    m.set_text("x")
    data = raw(mime.build(m))
    assert b"hidden" not in data and b"h2@" not in data and b"Bcc" not in data
    assert b"\r\nCc: c@example.com\r\n" in data
    assert m.recipients() == ["ann@example.com", "c@example.com", "hidden@example.com",
                              "h2@example.com"]
    data = raw(mime.build(m, show_bcc="h2@example.com"))
    assert b"\r\nBcc: h2@example.com\r\n" in data and b"hidden" not in data


def test_reply_priority_receipt_and_extra_headers():
    m = msg(reply_to="Desk <desk@example.com>", in_reply_to="<p1@example.com>",
            references=["<p0@example.com>", "<p1@example.com>"], priority="high",
            receipt_to="ops@example.com", headers=[("X-Station", "7"), ("X-Note", "t\u00e9")])
    m.set_text("x")
    h = header_block(raw(mime.build(m)))
    for line in ("Reply-To: Desk <desk@example.com>", "In-Reply-To: <p1@example.com>",
                 "References: <p0@example.com> <p1@example.com>", "X-Priority: 1 (Highest)",
                 "Importance: high", "Disposition-Notification-To: ops@example.com",
                 "X-Station: 7", "X-Note: =?utf-8?"):
        assert "\r\n" + line in h, line
    m.priority = "low"
    assert "X-Priority: 5 (Lowest)\r\nImportance: low" in header_block(raw(mime.build(m)))


def test_message_rfc822_attachment():
    d = tmpdir()
    write_file(d + "/old.eml", b"From: a@example.com\nSubject: old\n\nbody\n.\nend")
    m = msg()
    m.set_text("see attached")
    m.attach_message(d + "/old.eml")
    data = raw(mime.build(m))
    assert b"Content-Type: message/rfc822; name=\"old.eml\"\r\n" in data
    assert b"Content-Transfer-Encoding: 7bit\r\n\r\nFrom: a@example.com\r\nSubject: old\r\n" \
           b"\r\nbody\r\n.\r\nend\r\n\r\n--" in data
    write_file(d + "/u.eml", b"Subject: \xc3\xa9\r\n\r\nx\r\n")
    m.files = []
    m.attach(d + "/u.eml", content_type="message/rfc822")
    b = mime.build(m)
    assert b.needs_8bit and b"Content-Transfer-Encoding: 8bit" in raw(b)


def test_file_changed_after_build_is_an_error():
    d = tmpdir()
    write_file(d + "/a.bin", b"x" * 1000)
    m = msg()
    m.attach(d + "/a.bin")
    b = mime.build(m)
    write_file(d + "/a.bin", b"x" * 2000)
    e = raises(errors.InputError, raw, b)
    assert "changed" in str(e) and "attach[0]" in str(e)
    write_file(d + "/a.bin", b"x" * 999)  # shorter
    raises(errors.InputError, raw, b)
    m = msg()
    m.set_text(path=d + "/a.bin")
    b = mime.build(m)
    write_file(d + "/a.bin", b"y" * 999)  # same size, other content: still exact
    assert len(raw(b)) == b.size
    write_file(d + "/a.bin", b"\xff" * 999)  # QP grows
    e = raises(errors.InputError, raw, b)
    assert "text" in str(e)
    write_file(d + "/a.bin", b"x" * 99)
    b = mime.build(m)  # 7bit
    write_file(d + "/a.bin", b"x" * 98 + b"\xff")  # same size, no longer 7bit
    raises(errors.InputError, raw, b)


def test_bytes_and_file_bodies():
    d = tmpdir()
    write_file(d + "/body.txt", b"line one\nline two\n")
    m = msg()
    m.set_text(b"raw bytes\r\nbody")
    assert raw(mime.build(m)).endswith(b"\r\n\r\nraw bytes\r\nbody\r\n")
    m.set_text(path=d + "/body.txt")
    assert raw(mime.build(m)).endswith(b"\r\n\r\nline one\r\nline two\r\n")

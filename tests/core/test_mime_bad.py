"""Bad input: an InputError naming the field, raised by build() before any byte is produced."""

from portable import raises, tmpdir, write_file
from smtpmtm import errors, mime




def fails(field, make, show_bcc=None):
    """make() returns a Message; build() must refuse it, naming field."""
    e = raises(errors.InputError, lambda: mime.build(make(), show_bcc=show_bcc))
    assert field in str(e), (field, str(e))
    assert e.code == "input" and not e.transient


def base(**kw):
    args = dict(sender="pump@example.com", to=["ann@example.com"], subject="s",
                message_id="<b@example.com>")
    args.update(kw)
    m = mime.Message(**args)
    m.set_text("x")
    return m


def test_cr_lf_nul_in_any_header_value():
    for bad in ("a\rb", "a\nb", "a\0b", "x\r\nBcc: evil@example.com"):
        fails("subject", lambda: base(subject=bad))
        fails("sender", lambda: base(sender=(bad, "p@example.com")))
        fails("to[1]", lambda: base(to=["a@example.com", (bad, "b@example.com")]))
        fails("cc[0]", lambda: base(cc=[bad + "@example.com"]))
        fails("reply_to", lambda: base(reply_to=bad))
        fails("headers", lambda: base(headers=[("X-A", bad)]))
        fails("headers", lambda: base(headers=[(bad, "v")]))
        fails("message_id", lambda: base(message_id="<%s@x>" % bad))
        fails("in_reply_to", lambda: base(in_reply_to=bad))
        fails("references", lambda: base(references=[bad]))
        fails("show_bcc", lambda: base(), show_bcc=bad)


def test_bad_addresses():
    for bad in ("ann", "ann@", "@example.com", "an n@example.com", "ann@exa mple.com",
                "<ann@example.com", "a,b@example.com"):
        fails("to[0]", lambda: base(to=[bad]))
        fails("bcc[0]", lambda: base(bcc=[bad]))
        fails("receipt_to", lambda: base(receipt_to=bad))
    fails("sender", lambda: base(sender=None))
    fails("sender", lambda: base(sender="nobody"))


def test_bad_files_and_names():
    d = tmpdir()
    write_file(d + "/ok.bin", b"x")

    def att(path, **kw):
        m = base()
        m.attach(path, **kw)
        return m

    # said in words as queue() says it ("[Errno 2] ENOENT" before): a linked file gone at send time
    fails("attach[0]: cannot read file %r (no such file)" % (d + "/missing.bin"),
          lambda: att(d + "/missing.bin"))
    fails("attach[0]: cannot read file %r (a directory)" % d, lambda: att(d))
    fails("name", lambda: att(d + "/ok.bin", name="a\r\nb.txt"))
    fails("name", lambda: att(d + "/ok.bin", name="a\0b.txt"))
    fails("name", lambda: att(d + "/ok.bin", name=""))
    fails("name", lambda: att(d + "/ok.bin", name="\u00e9" * 200))
    fails("content_type", lambda: att(d + "/ok.bin", content_type="text"))
    fails("content_type", lambda: att(d + "/ok.bin", content_type="text/plain\r\nX: y"))
    fails("content_type", lambda: att(d + "/ok.bin", content_type="multipart/mixed"))
    fails("inline_cid", lambda: att(d + "/ok.bin", inline_cid="a b"))
    fails("inline_cid", lambda: att(d + "/ok.bin", inline_cid="a\nb"))

    def text_file(path):
        m = base()
        m.set_text(path=path)
        return m

    fails("text", lambda: text_file(d + "/missing.txt"))

    def msg_file(data):
        write_file(d + "/m.eml", data)
        m = base()
        m.attach_message(d + "/m.eml")
        return m

    fails("attach_message", lambda: msg_file(b"Subject: x\r\n\r\na\0b\r\n"))
    fails("attach_message", lambda: msg_file(b"Subject: x\r\n\r\n" + b"y" * 999))
    fails("attach_message", lambda: att(d + "/gone.eml", content_type="message/rfc822"))


def test_bad_options():
    fails("priority", lambda: base(priority="urgent"))
    fails("headers", lambda: base(headers=[("Content-Type", "text/html")]))
    fails("headers", lambda: base(headers=[("Bcc", "x@example.com")]))
    fails("headers", lambda: base(headers=[("X A", "v")]))
    fails("tz_minutes", lambda: base(date=0, tz_minutes=1500))

    def enc7():
        m = base()
        m.set_text("\u00e9", encoding="7bit")
        return m

    fails("text", enc7)
    e = raises(errors.InputError, base().set_text, "x", None, "binary")
    assert "text" in str(e)
    e = raises(errors.InputError, base().set_text, None, None)
    assert "text" in str(e)


def test_nothing_is_produced_for_bad_input():
    # build() raises before returning, so no chunk iterator ever exists
    d = tmpdir()
    m = base()
    m.attach(d + "/nope.bin")
    got = []
    try:
        for c in mime.build(m).chunks():
            got.append(c)
    except errors.InputError:
        pass
    assert got == []

"""Client MTM reply / reply-all / forward / forward-as-attachment / receipt, and their edge cases."""

from portable import FakeClock, tmpdir, write_file

from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.accounts import Accounts
from smtpmtm.client.mtm import PART_RECIPIENT, Client, read_header
from smtpmtm.client.compose import prefixed, sent_date
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store

# Store + client + compose compiled from source stay in the heap (frozen on a board).


ME = "pump@example.com"


def setup(**kw):
    st = Store(tmpdir())
    ac = Accounts(st)
    d = dict(server="smtp.example.com", starttls=True, email_address=ME, alias="Pump")
    d.update(kw)
    a = ac.create("main", SmtpSettings(**d))
    ac.set_default(a)
    return st, a, Client(st, ac, FakeClock())


def original(st, svc, text=b"line one\nline two\n", **kw):
    """A message as if received into the Inbox, with header fields from kw."""
    h = M.new_header()
    h.update(kw)
    parts = {M.HEADER: M.header_chunks(h)}
    if text is not None:
        h["text"] = M.TEXT
        parts = {M.HEADER: M.header_chunks(h), M.TEXT: text}
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.INBOX, mtm=E.MTM_SMTP, service=svc,
                description=h["subject"])
    return st.create(e, parts)


def test_reply_goes_to_reply_to_else_from():
    st, a, c = setup()
    o = original(st, a.service, subject="Hi", **{"from": ("Ann", "ann@example.com"),
                                                "reply_to": ("Desk", "desk@example.com")})
    c.switch(o)
    r = c.reply()
    assert c.entry_id == r and r != o
    h = read_header(st, r)
    assert h["to"] == [("Desk", "desk@example.com")] and h["cc"] == []
    assert h["from"] == ("Pump", ME)
    e = st.get(r)
    assert e.parent == E.DRAFTS and e.visible and not e.in_preparation
    assert e.description == "Re: Hi" and e.details == '"Desk" <desk@example.com>'
    o2 = original(st, a.service, subject="Hi", **{"from": ("Ann", "ann@example.com")})
    c.switch(o2)
    assert read_header(st, c.reply())["to"] == [("Ann", "ann@example.com")]
    o3 = original(st, a.service, subject="anonymous")
    c.switch(o3)
    c.reply()
    assert c.addressees() == [] and c.validate() == PART_RECIPIENT


def test_reply_all_without_duplicates_or_myself():
    st, a, c = setup()
    o = original(st, a.service, subject="Team", **{
        "from": ("Ann", "ann@example.com"),
        "to": [("Me", "PUMP@example.com"), ("Bob", "bob@example.com"), ("", "Ann@Example.com")],
        "cc": [("", "carol@example.com"), ("Bob again", "bob@example.com"), ("", ME)]})
    c.switch(o)
    r = c.reply(to_all=True)
    h = read_header(st, r)
    assert h["to"] == [("Ann", "ann@example.com")]
    assert h["cc"] == [("Bob", "bob@example.com"), ("", "carol@example.com")]
    assert st.get(r).flag(E.FLAG_MULTIPLE_RECIPIENTS)
    c.switch(o)
    assert read_header(st, c.reply(to_all=False))["cc"] == []


def test_reply_to_our_own_sent_message_goes_to_its_recipients():
    """A board replies to what it sent (a follow-up to an alarm in Sent): the old reply went
    to the original From, the board's own address, so the follow-up reached nobody else."""
    st, a, c = setup()
    o = original(st, a.service, subject="Alarm", **{
        "from": ("Pump", ME), "to": [("Ann", "ann@example.com"), ("", "bob@example.com")],
        "cc": [("", "carol@example.com")]})
    c.switch(o)
    h = read_header(st, c.reply())
    assert h["to"] == [("Ann", "ann@example.com"), ("", "bob@example.com")] and h["cc"] == []
    c.switch(o)
    h = read_header(st, c.reply(to_all=True))
    assert h["to"] == [("Ann", "ann@example.com"), ("", "bob@example.com")]
    assert h["cc"] == [("", "carol@example.com")]
    o2 = original(st, a.service, subject="x", **{"from": ("Pump", ME), "reply_to": ("Desk", "desk@example.com"),
                                                 "to": [("", "bob@example.com")]})
    c.switch(o2)  # a Reply-To still wins
    assert read_header(st, c.reply())["to"] == [("Desk", "desk@example.com")]


def test_subject_prefixes_are_not_doubled():
    assert prefixed("Re: ", "Hi") == "Re: Hi"
    assert prefixed("Re: ", "Re: Hi") == "Re: Hi"
    assert prefixed("Re: ", "RE: Hi") == "RE: Hi"
    assert prefixed("Re: ", "re:Hi") == "re:Hi"
    assert prefixed("Re: ", "Fwd: Hi") == "Re: Fwd: Hi"
    assert prefixed("Re: ", "") == "Re: "
    assert prefixed("Fwd: ", "Fw: Hi", ("Fw: ",)) == "Fw: Hi"
    assert prefixed("Fwd: ", "FWD: Hi", ("Fw: ",)) == "FWD: Hi"
    assert prefixed("Fwd: ", "Re: Hi", ("Fw: ",)) == "Fwd: Re: Hi"
    st, a, c = setup()
    o = original(st, a.service, subject="Re: Pump", **{"from": ("", "ann@example.com")})
    c.switch(o)
    assert read_header(st, c.reply())["subject"] == "Re: Pump"
    c.switch(o)
    assert read_header(st, c.forward())["subject"] == "Fwd: Re: Pump"


def test_in_reply_to_and_references():
    st, a, c = setup()
    f = {"from": ("", "ann@example.com")}
    o = original(st, a.service, subject="x", message_id="<c@x>", references=["<a@x>", "<b@x>"],
                 in_reply_to="<b@x>", **f)
    c.switch(o)
    h = read_header(st, c.reply())
    assert h["in_reply_to"] == "<c@x>" and h["references"] == ["<a@x>", "<b@x>", "<c@x>"]
    o = original(st, a.service, subject="x", message_id="<c@x>", in_reply_to="<b@x>", **f)
    c.switch(o)
    assert read_header(st, c.reply())["references"] == ["<b@x>", "<c@x>"]
    o = original(st, a.service, subject="x", **f)  # never queued: no Message-ID
    c.switch(o)
    h = read_header(st, c.reply())
    assert h["in_reply_to"] is None and h["references"] == []
    o = original(st, a.service, subject="x", message_id="<c@x>", **f)
    c.switch(o)
    h = read_header(st, c.forward())
    assert h["in_reply_to"] is None and h["references"] == ["<c@x>"]


def test_reply_quotes_header_block_and_body_streamed():
    st, a, c = setup(to_cc_include_limit=2)
    long_line = b"L" * 1500 + b"\n"
    o = original(st, a.service, text=b"first\n\n" + long_line + b"no newline at end",
                 subject="Report", date=1700000000, tz=60,
                 **{"from": ("Ann", "ann@example.com"),
                    "to": [("", "t1@example.com"), ("", "t2@example.com"), ("", "t3@example.com")],
                    "cc": [("", "c1@example.com")]})
    c.switch(o)
    c.reply()
    body = c.body_text
    assert "-----Original Message-----\n" in body
    assert 'From: "Ann" <ann@example.com>\n' in body
    assert "Sent: Tue, 14 Nov 2023 23:13:20 +0100\n" in body
    assert "To: t1@example.com, t2@example.com, ...\n" in body
    assert "Cc: c1@example.com\n" in body and "Subject: Report\n" in body
    assert "> first\n> \n> " + "L" * 1500 + "\n> no newline at end" in body
    assert body.count("> ") == 4  # one per original line, long line quoted once
    st2, a2, c2 = setup()  # limit 0 (default): no To/Cc lines, as Symbian
    o = original(st2, a2.service, subject="R", **{"from": ("", "ann@example.com"),
                                                 "to": [("", "t1@example.com")]})
    c2.switch(o)
    c2.reply()
    assert "To: " not in c2.body_text and "Subject: R" in c2.body_text


def test_signature_vcard_and_send_option_in_replies():
    st, a, c = setup(add_signature=True, signature="Pump 7\nField unit", add_vcard=True,
                     vcard="BEGIN:VCARD\r\nEND:VCARD\r\n", send_option="on-request",
                     request_receipts=True)
    o = original(st, a.service, subject="S", **{"from": ("", "ann@example.com"),
                                               "receipt_to": ("", "rcpt@example.com")})
    c.switch(o)
    r = c.reply()
    e = st.get(r)
    assert e.sending_state == E.SEND_UPON_REQUEST and e.email_flag(E.EMAIL_VCARD)
    assert e.email_flag(E.EMAIL_RECEIPT)
    assert c.body_text.startswith("\n\n-- \nPump 7\nField unit\n")
    assert [x["name"] for x in c.attachments()] == ["vcard.vcf"]
    assert read_header(st, r)["receipt_to"] == ("Pump", ME)
    c.switch(o)
    rc = c.receipt()
    e = st.get(rc)
    assert e.sending_state == E.SEND_WAITING  # receipts are always waiting
    c.switch(o)
    rc2 = c.receipt(E.OUTBOX)
    assert st.get(rc2).sending_state == E.SEND_WAITING and st.get(rc2).parent == E.OUTBOX
    h = read_header(st, rc)
    assert h["to"] == [("", "rcpt@example.com")] and h["receipt_to"] is None
    assert h["subject"] == "Receipt of message: S" and not e.email_flag(E.EMAIL_RECEIPT)


def test_forward_copies_body_and_attachments():
    st, a, c = setup()
    d = tmpdir()
    write_file(d + "/a.bin", b"ATTACHED")
    write_file(d + "/linked.txt", b"LINKED")
    c.create_message()
    c.add_addressee("ann@example.com")
    c.subject = "Photos"
    c.set_body_text("see attached\n")
    c.add_attachment(d + "/a.bin")
    c.add_linked_attachment(d + "/linked.txt")
    inner = original(st, a.service, subject="inner")
    c.add_entry_as_attachment(inner)
    o = c.queue()
    f = c.forward(E.OUTBOX)
    e = st.get(f)
    assert e.parent == E.OUTBOX and e.description == "Fwd: Photos" and e.flag(E.FLAG_ATTACHMENT)
    assert c.addressees() == []
    body = c.body_text
    assert "---------- Forwarded message ----------\n" in body and "see attached\n" in body
    assert "> " not in body
    atts = c.attachments()
    assert [x["kind"] for x in atts] == [M.KIND_FILE, M.KIND_LINKED, M.KIND_MESSAGE]
    g = st.open_part(f, atts[0]["part"])
    assert g.read() == b"ATTACHED"
    g.close()
    assert atts[1]["path"] == d + "/linked.txt"
    assert st.get(atts[2]["entry"]).parent == f and atts[2]["entry"] != inner
    assert st.get(o).email_flag(E.EMAIL_FORWARDED)


def test_forward_as_attachment_and_receipt_subjects():
    st, a, c = setup()
    o = original(st, a.service, subject="Receipt of message: Q", message_id="<m@x>",
                 **{"from": ("Ann", "ann@example.com")})
    c.switch(o)
    f = c.forward_as_attachment()
    atts = c.attachments()
    assert len(atts) == 1 and atts[0]["type"] == "message/rfc822"
    assert st.get(atts[0]["entry"]).parent == f
    assert read_header(st, atts[0]["entry"])["message_id"] == "<m@x>"
    assert read_header(st, f)["subject"] == "Fwd: Receipt of message: Q"
    c.switch(o)
    rc = c.receipt()
    h = read_header(st, rc)
    assert h["subject"] == "Receipt of message: Q" and h["to"] == [("Ann", "ann@example.com")]
    assert h["in_reply_to"] == "<m@x>"
    assert "Subject: Receipt of message: Q" in c.body_text


def test_sent_date():
    assert sent_date(0) == "Thu, 1 Jan 1970 00:00:00 +0000"
    assert sent_date(1700000000) == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert sent_date(1700000000, 60) == "Tue, 14 Nov 2023 23:13:20 +0100"
    assert sent_date(1700000000, -330) == "Tue, 14 Nov 2023 16:43:20 -0530"
    assert sent_date(1709210096) == "Thu, 29 Feb 2024 12:34:56 +0000"
    assert sent_date(4102444800) == "Fri, 1 Jan 2100 00:00:00 +0000"

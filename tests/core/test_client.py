"""Client MTM: context, create, addressees, save/load entry sync, queue, validate, find, caps."""

from portable import FakeClock, live_heap, raises, tmpdir, write_file

from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.accounts import Accounts
from smtpmtm.client.mtm import (PART_ATTACHMENTS, PART_BCC, PART_BODY, PART_CC, PART_DESCRIPTION,
                            PART_FROM, PART_ORIGINATOR, PART_RECIPIENT, PART_TO, Client,
                            NotSupported, read_header)
from smtpmtm.errors import InputError, NotFound, SettingsError
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store

# The store, accounts and the client compiled from source stay in the heap
# (about 100 KB of bytecode; on a board they are frozen into flash).



def setup(**kw):
    st = Store(tmpdir())
    ac = Accounts(st)
    d = dict(server="smtp.example.com", starttls=True, email_address="pump@example.com",
             alias="Pump House")
    d.update(kw)
    a = ac.create("main", SmtpSettings(**d))
    ac.set_default(a)
    clock = FakeClock(1700000000)
    return st, ac, a, Client(st, ac, clock), clock


def test_create_message_defaults():
    st, ac, a, c, clock = setup()
    mid = c.create_message()
    assert c.entry_id == mid and c.has_context()
    e = st.get(mid)
    assert e.parent == E.DRAFTS and e.type == E.TYPE_MESSAGE and e.mtm == E.MTM_SMTP
    assert e.service == a.service and e.in_preparation and not e.visible
    assert e.sending_state == E.SEND_WAITING and e.date == 1700000000
    h = read_header(st, mid)
    assert h["from"] == ("Pump House", "pump@example.com") and h["to"] == []
    assert c.addressees() == [] and c.subject == "" and c.attachments() == []
    assert c.body_text is None
    m2 = c.create_message(E.OUTBOX)
    e2 = st.get(m2)
    # in preparation in the Outbox: state Unknown, so no sender picks it half-written
    assert e2.parent == E.OUTBOX and e2.sending_state == E.SEND_UNKNOWN and e2.in_preparation
    c.add_addressee("ann@example.com")
    c.save_message()
    e2 = st.get(m2)
    assert e2.sending_state == E.SEND_WAITING and not e2.in_preparation
    c2 = Client(st, ac, clock)  # another client (e.g. after a reboot) finishes it too
    m3 = c.create_message(E.OUTBOX)
    c2.switch(m3)
    c2.save_message()
    assert st.get(m3).sending_state == E.SEND_WAITING


def test_create_message_follows_the_account():
    st, ac, a, c, clock = setup(send_option="on-request", request_receipts=True,
                                receipt_address="ops@example.com", add_signature=True,
                                signature="Pump 7", add_vcard=True,
                                vcard="BEGIN:VCARD\r\nFN:Pump\r\nEND:VCARD\r\n",
                                body_encoding="mhtml-alternative")
    mid = c.create_message()
    e = st.get(mid)
    assert e.sending_state == E.SEND_UPON_REQUEST
    assert e.email_flag(E.EMAIL_RECEIPT) and e.email_flag(E.EMAIL_VCARD)
    assert e.email_flag(E.EMAIL_MHTML)
    h = read_header(st, mid)
    assert h["receipt_to"] == ("Pump House", "ops@example.com")
    assert h["encoding"] == "mhtml-alternative"
    assert c.body_text == "\n-- \nPump 7\n"
    atts = c.attachments()
    assert len(atts) == 1 and atts[0]["name"] == "vcard.vcf" and atts[0]["type"] == "text/vcard"
    c.set_body_text("Hello\n")
    assert c.body_text == "Hello\n\n-- \nPump 7\n"
    c.set_body_text("No sig\n", signature=False)
    assert c.body_text == "No sig\n"


def test_create_without_accounts_uses_defaults():
    st = Store(tmpdir())
    c = Client(st, None, FakeClock())
    mid = c.create_message()
    assert st.get(mid).service == 0
    raises(NotFound, c.default_service)
    assert c.settings == SmtpSettings()


def test_a_client_queueing_for_months_holds_no_more_heap():
    """A board's one Client queues a message an hour for months: nothing it keeps may grow
    with the messages made (it kept a dict entry per message made in Drafts, for ever)."""
    st, ac, a, c, clock = setup()

    def queue_and_tidy(n):
        for _ in range(n):
            mid = c.create_message()
            c.add_addressee("ann@example.com")
            c.save_message()
            c.queue()
            st.purge(mid)  # sent, then tidied away: the store holds none of them

    live_heap()  # CPython's tracemalloc counts from here: the warm-up's caches too
    queue_and_tidy(100)  # every lazy import and cache filled (CPython's take ~100 rounds)
    base = live_heap()
    queue_and_tidy(100)
    grown = live_heap() - base
    # before: 1,536 B on MicroPython, 8,240 B on CPython for these 100 (a dict entry each)
    assert grown < 1024, grown


def test_switch_and_no_context():
    st, ac, a, c, clock = setup()
    c2 = Client(st, ac, clock)
    assert not c2.has_context()
    raises(InputError, c2.save_message)
    raises(InputError, c2.load_message)
    raises(NotFound, c2.switch, 0x7777777)
    mid = c.create_message()
    c.add_addressee("ann@example.com")
    c2.switch(mid)
    assert c2.addressees() == []  # switching resets the cached message
    c2.switch(E.DRAFTS)
    raises(InputError, c2.save_message)  # a folder is not a message


def test_addressees():
    st, ac, a, c, clock = setup()
    c.create_message()
    c.add_addressee("ann@example.com")
    c.add_addressee("bob@example.com", "cc", "Bob B")
    c.add_addressee('"Carol C" <carol@example.com>', 2)
    c.add_addressee("Dan <dan@example.com>", "to", alias="Daniel")
    assert c.addressees() == [("to", "", "ann@example.com"), ("cc", "Bob B", "bob@example.com"),
                              ("bcc", "Carol C", "carol@example.com"),
                              ("to", "Daniel", "dan@example.com")]
    assert [r[2] for r in c.addressees("to")] == ["ann@example.com", "dan@example.com"]
    c.remove_addressee(3)
    c.remove_addressee(99)
    c.remove_addressee(-1)
    assert len(c.addressees()) == 3
    raises(InputError, c.add_addressee, "x@example.com", "reply")
    raises(InputError, c.add_addressee, "x@example.com", 3)
    raises(InputError, c.add_addressee, "x@example.com\r\nBcc: evil@example.com")
    raises(InputError, c.add_addressee, "x@example.com", "to", "Evil\nname")


def test_subject_and_priority():
    st, ac, a, c, clock = setup()
    c.create_message()
    c.subject = "Pump \u2713 alarm"
    assert c.subject == "Pump \u2713 alarm"
    e = raises(InputError, setattr, c, "subject", "a\r\nBcc: x@y.org")
    assert "subject" in str(e)
    c.priority = "high"
    raises(InputError, setattr, c, "priority", "urgent")
    c.add_addressee("ann@example.com")
    c.save_message()
    assert st.get(c.entry_id).priority == E.PRIORITY_HIGH
    assert read_header(st, c.entry_id)["priority"] == "high"


def test_save_message_syncs_the_entry():
    st, ac, a, c, clock = setup()
    mid = c.create_message()
    c.subject = "Daily report"
    c.add_addressee("bcc@example.com", "bcc")
    clock.advance(60)
    c.save_message()
    e = st.get(mid)
    assert e.details == "bcc@example.com" and not e.flag(E.FLAG_MULTIPLE_RECIPIENTS)
    c.add_addressee("cc@example.com", "cc", "Cc Person")
    c.save_message()
    e = st.get(mid)
    assert e.details == '"Cc Person" <cc@example.com>' and e.flag(E.FLAG_MULTIPLE_RECIPIENTS)
    c.add_addressee("to@example.com", "to")
    c.set_body_text("x" * 1000)
    d = tmpdir()
    write_file(d + "/a.bin", b"\x00" * 2500)
    c.add_attachment(d + "/a.bin")
    c.save_message()
    e = st.get(mid)
    assert e.description == "Daily report" and e.details == "to@example.com"
    assert e.visible and not e.in_preparation and e.flag(E.FLAG_ATTACHMENT)
    assert e.date == 1700000060
    assert e.size == st.part_size(mid, M.HEADER) + 1000 + 2500
    c.remove_attachment(0)
    c.save_message()
    e = st.get(mid)
    assert not e.flag(E.FLAG_ATTACHMENT) and "a1" not in st.parts(mid)
    assert e.size == st.part_size(mid, M.HEADER) + 1000


def test_load_message_restores_and_resyncs():
    st, ac, a, c, clock = setup()
    mid = c.create_message()
    c.subject = "S"
    c.add_addressee("Ann <ann@example.com>")
    c.add_addressee("bob@example.com", "cc")
    c.set_body_html("<p>hi</p>")
    c.save_message()
    c2 = Client(st, ac, clock)
    c2.switch(mid)
    c2.load_message()
    assert c2.subject == "S" and c2.addressees() == [("to", "Ann", "ann@example.com"),
                                                   ("cc", "", "bob@example.com")]
    assert c2.body_html == "<p>hi</p>" and st.get(mid).email_flag(E.EMAIL_MHTML)
    e = st.get(mid)
    e.description = "stale"
    e.size = 1
    st.update(e)
    c2.load_message()
    e = st.get(mid)
    assert e.description == "S" and e.size > 1  # LoadMessageL rewrites them
    # service context: load_message restores settings
    c2.switch(a.service)
    c2.settings.port = 2525
    c2.load_message()
    assert c2.settings.port == 25


def test_queue_fixes_message_id_and_date_once():
    st, ac, a, c, clock = setup()
    mid = c.create_message()
    c.add_addressee("ann@example.com")
    c.subject = "Alarm"
    clock.advance(5)
    assert c.queue() == mid
    e = st.get(mid)
    assert e.parent == E.OUTBOX and e.sending_state == E.SEND_WAITING and e.visible
    assert not e.in_preparation
    h = read_header(st, mid)
    assert h["message_id"].startswith("<") and h["message_id"].endswith("@example.com>")
    assert h["date"] == 1700000005 and h["tz"] == 0
    assert h["from"] == ("Pump House", "pump@example.com")
    # a failed send moved back and re-queued keeps the same Message-ID and Date
    e.sending_state = E.SEND_FAILED
    e.set_flag(E.FLAG_FAILED, True)
    st.update(e)
    st.move(mid, E.DRAFTS)
    clock.advance(100)
    c2 = Client(st, ac, clock, tz_minutes=60)
    c2.send_on_next_connection([mid])
    h2 = read_header(st, mid)
    e = st.get(mid)
    assert h2["message_id"] == h["message_id"] and h2["date"] == h["date"]
    assert e.parent == E.OUTBOX and e.sending_state == E.SEND_WAITING and not e.flag(E.FLAG_FAILED)
    raises(InputError, c.queue, E.DRAFTS)


def test_queue_follows_the_account_as_it_is_now():
    # the Client cached each service's settings: after the account's address changed (REPL
    # account(email=...)), queued mail still went out From the old one
    st, ac, a, c, clock = setup()
    c.create_message()
    c.add_addressee("ann@example.com")
    first = c.queue()
    s = ac.load(a)
    s.email_address, s.alias = "pump2@example.com", "Pump Two"
    ac.save(a, s)
    c.create_message()
    c.add_addressee("ann@example.com")
    second = c.queue()
    assert read_header(st, first)["from"] == ("Pump House", "pump@example.com")
    assert read_header(st, second)["from"] == ("Pump Two", "pump2@example.com")
    # an account that cannot send yet is refused at queue(), not left waiting for a send that fails
    s.server = ""
    ac.save(a, s)
    mid = c.create_message()
    c.add_addressee("ann@example.com")
    e = raises(SettingsError, c.queue)
    assert str(e) == "account 'main' cannot send yet: server: no SMTP server set", e
    assert st.get(mid).parent == E.DRAFTS  # still a draft: nothing half-queued


def test_read_header_for_the_sender():
    st, ac, a, c, clock = setup(reply_to="ops@example.com")
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.add_addressee("bob@example.com", "bcc")
    c.subject = "Tab\tin subject"
    c.add_header("X-Device", "pump-7")
    c.set_body_text("body")
    c.queue()
    h = read_header(st, mid)
    assert h["to"] == [("Ann", "ann@example.com")] and h["bcc"] == [("", "bob@example.com")]
    assert h["cc"] == [] and h["subject"] == "Tab in subject"
    assert h["reply_to"] == ("Pump House", "ops@example.com")
    assert h["text"] == "text" and h["html"] is None and h["headers"] == [("X-Device", "pump-7")]
    assert h["in_reply_to"] is None and h["references"] == [] and h["receipt_to"] is None


def test_validate_parts():
    st, ac, a, c, clock = setup()
    c.create_message()
    assert c.validate() == PART_RECIPIENT  # no recipients
    c.add_addressee("ann@example.com")
    assert c.validate() == 0
    assert c.validate(PART_RECIPIENT | PART_ORIGINATOR | PART_BODY | PART_ATTACHMENTS) == 0
    c.add_addressee("not-an-address", "cc")
    assert c.validate() == PART_RECIPIENT
    assert c.validate(PART_TO | PART_CC | PART_BCC) == PART_CC
    c.remove_addressee(1)
    c.add_addressee("", "bcc")
    assert c.validate(PART_RECIPIENT | PART_BCC) == PART_RECIPIENT | PART_BCC
    c.remove_addressee(1)
    d = tmpdir()
    write_file(d + "/f.txt", b"x")
    c.add_linked_attachment(d + "/f.txt")
    assert c.validate(PART_ATTACHMENTS) == 0
    import os
    os.remove(d + "/f.txt")
    assert c.validate(PART_ATTACHMENTS) == PART_ATTACHMENTS
    st2, ac2, a2, c2, _ = setup(email_address="")
    c2.create_message()
    c2.add_addressee("ann@example.com")
    assert c2.validate(PART_ORIGINATOR | PART_FROM | PART_DESCRIPTION) == PART_ORIGINATOR | PART_FROM


def test_find_through_the_client():
    st, ac, a, c, clock = setup()
    c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.add_addressee("carol@example.net", "bcc")
    c.subject = "Valve report"
    c.set_body_text("The valve is OPEN\nsecond line\n")
    all4 = PART_BODY | PART_RECIPIENT | PART_ORIGINATOR | PART_DESCRIPTION
    assert c.find("valve", all4) == PART_BODY | PART_DESCRIPTION
    assert c.find("open", all4 | 0x80000000) == 0  # case sensitive
    assert c.find("pump", all4) == PART_ORIGINATOR
    assert c.find("carol", PART_BCC | PART_CC) == PART_BCC
    assert c.find("sec*line", PART_BODY | 0x800) == PART_BODY
    raises(InputError, c.find, "x" * 501, PART_BODY)


def test_switch_to_a_stored_message_reads_it():
    """switch(id) to a message made earlier (another Client, a reboot): find() sees it and
    save_message() after an edit keeps what was there. The old switch() left the header
    empty until load_message(): find() returned 0 for every part, and a save wrote an
    empty header over the message (subject, recipients and attachments gone)."""
    st, ac, a, c, clock = setup()
    d = tmpdir()
    write_file(d + "/log.csv", b"t,p\n1,3.2\n")
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.subject = "Valve report"
    c.set_body_text("The valve is open\n")
    c.add_attachment(d + "/log.csv")
    c.save_message()
    c2 = Client(st, ac, clock)
    c2.switch(mid)
    assert c2.subject == "Valve report" and c2.addressees() == [("to", "Ann", "ann@example.com")]
    assert c2.find("valve", PART_DESCRIPTION | PART_BODY) == PART_DESCRIPTION | PART_BODY
    assert c2.find("ann", PART_TO) == PART_TO
    c2.add_addressee("bob@example.com", "cc")
    c2.save_message()
    h = read_header(st, mid)
    assert h["subject"] == "Valve report" and h["to"] == [("Ann", "ann@example.com")]
    assert h["cc"] == [("", "bob@example.com")] and [x["name"] for x in h["attachments"]] == ["log.csv"]
    assert st.get(mid).description == "Valve report"
    c2.switch(a.service)  # a service: no header to read, settings as before
    assert c2.subject == "" and c2.addressees() == []


def test_query_capability_as_the_inventory():
    st, ac, a, c, clock = setup()
    assert c.query_capability("max-body-size") == 0x7FFFFFFF
    assert c.query_capability("max-total-msg-size") == 0x7FFFFFFF
    assert c.query_capability("supported-body") == 0x0F
    assert c.query_capability("editor-uid") == 0x10003C53
    for cap in ("support-subject", "support-attachments", "can-send-msg",
                "supports-recipient-type", "send-as-message-send-support"):
        assert c.query_capability(cap) is True
    for cap in ("can-receive-msg", "off-line-allowed", "supports-folder", "supports-bio-msg",
                "supports-scheduling", "max-recipient-count", "nonsense"):
        e = raises(NotSupported, c.query_capability, cap)
        assert e.code == "not-supported"


def test_settings_and_default_service():
    st, ac, a, c, clock = setup()
    assert c.default_service() == a.service
    b = ac.create("second", SmtpSettings(server="smtp2.example.com", starttls=True,
                                           email_address="b@example.com"))
    c.change_default_service(b.service)
    assert c.default_service() == b.service and ac.default() == b
    raises(NotSupported, c.remove_default_service)
    c.switch(b.service)
    assert c.settings.server == "smtp2.example.com"
    s = c.settings
    s.port = 587
    s.set_starttls()
    c.store_settings()
    assert ac.load(b).port == 587 and ac.load(b).starttls
    c.settings.port = 1
    assert c.restore_settings().port == 587
    c.set_settings(SmtpSettings(server="x.example.com", starttls=True, email_address="x@example.com"))
    c.store_settings()
    assert ac.load(b).server == "x.example.com"
    mid = c.create_message()  # new messages use the (new) default service
    assert st.get(mid).service == b.service
    c.switch(E.DRAFTS)
    raises(NotFound, c.store_settings)  # a folder has no account

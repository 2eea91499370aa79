"""Coalescing (coalesce.py): same-key messages become one digest; cool-down per key. Both interpreters."""

from smtpmtm.client import coalesce
from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm import mime
from smtpmtm.accounts import Accounts
from smtpmtm.client.mtm import Client
from smtpmtm.errors import InputError
from smtpmtm.outbox.sender import Sender
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store
from portable import FakeClock, raises, tmpdir, write_file
from sender_fakes import FakeServer

T0 = 1700000000


def setup():
    st = Store(tmpdir())
    ac = Accounts(st)
    a = ac.create("main", SmtpSettings(server="smtp.example.com", email_address="pump@example.com",
                                       allow_plaintext=True))
    ac.set_default(a)
    clock = FakeClock(T0)
    return st, a, Client(st, ac, clock), clock


def alarm(c, clock, body, key="pump1-pressure", hold=600, to="ann@example.com", attach=None,
          cooldown=None, priority=None):
    c.create_message()
    c.add_addressee(to)
    c.subject = "Pump 1 pressure"
    c.priority = priority
    c.set_body_text(body)
    if attach:
        c.add_attachment(attach)
    c.save_message()
    mid = c.queue()
    return coalesce.absorb(c, mid, key, hold, clock(), cooldown)


def outbox(st):
    return [e.id for e in st.children(E.OUTBOX)]


def test_a_flood_becomes_one_digest_with_count_times_and_bodies():
    st, a, c, clock = setup()
    first = alarm(c, clock, "low 1.1 bar")
    for i in range(2, 6):
        clock.advance(60)
        assert alarm(c, clock, "low %d bar" % i) == first
    assert outbox(st) == [first]
    h = M.read_header(st, first)
    assert h["subject"] == "[5] Pump 1 pressure" and h["to"] == [("", "ann@example.com")]
    with st.open_part(first, M.TEXT) as f:
        text = f.read().decode()
    lines = text.split("\n")
    assert lines[0].startswith('5 messages "pump1-pressure", first Tue, 14 Nov 2023 22:13:20')
    assert "last Tue, 14 Nov 2023 22:17:20" in lines[0]
    for i in (1, 5):
        assert ("--- %d: Pump 1 pressure" % i) in text
    assert "low 1.1 bar" in text and "low 5 bar" in text
    info = coalesce.info(st, first)
    assert (info["n"], info["first"], info["last"]) == (5, T0, T0 + 240)
    # a normal message: its entry size is its parts, its MIME size exact, its Message-ID the first's
    e = st.get(first)
    assert e.description == "[5] Pump 1 pressure" and e.sending_state == E.SEND_WAITING
    b = mime.build(M.read_header(st, first) and _mime(st, first))
    assert b.size == sum(len(x) for x in b.chunks())


def _mime(st, mid):
    from smtpmtm.outbox import plan as sendplan

    h = M.read_header(st, mid)
    p = sendplan.plan(h, SmtpSettings(email_address="pump@example.com"))
    return sendplan.mime_message(st, mid, h, p, mime)


def test_other_key_other_recipients_or_after_the_hold_stay_separate():
    st, a, c, clock = setup()
    one = alarm(c, clock, "x", cooldown=0)
    two = alarm(c, clock, "x", key="pump2")
    three = alarm(c, clock, "x", to="bob@example.com", cooldown=0)
    clock.advance(601)
    four = alarm(c, clock, "x", cooldown=0)
    assert len(set([one, two, three, four])) == 4 and len(outbox(st)) == 4


def test_a_digest_is_as_urgent_as_its_most_urgent_message():
    """A high-priority alarm merged into a normal digest makes the digest high (the send
    order takes it first); a low one does not lower it."""
    st, a, c, clock = setup()
    first = alarm(c, clock, "low 1 bar", priority="low")
    assert st.get(first).priority == E.PRIORITY_LOW
    clock.advance(60)
    assert alarm(c, clock, "low 2 bar") == first
    assert st.get(first).priority == E.PRIORITY_MEDIUM
    clock.advance(60)
    assert alarm(c, clock, "low 0.2 bar: pump stopped", priority="high") == first
    clock.advance(60)
    assert alarm(c, clock, "low 3 bar", priority="low") == first
    assert st.get(first).priority == E.PRIORITY_HIGH
    assert M.read_header(st, first)["priority"] == "high"


def test_attachments_are_kept_then_referenced():
    st, a, c, clock = setup()
    d = tmpdir()
    path = d + "/log.csv"
    write_file(path, b"t,p\n1,1.1\n")
    first = alarm(c, clock, "a", attach=path)
    for _ in range(coalesce.MAX_ATTACHMENTS + 1):
        alarm(c, clock, "b", attach=path)
    h = M.read_header(st, first)
    assert len(h["attachments"]) == coalesce.MAX_ATTACHMENTS
    for att in h["attachments"]:
        with st.open_part(first, att["part"]) as f:
            assert f.read() == b"t,p\n1,1.1\n"
    with st.open_part(first, M.TEXT) as f:
        assert b"[attachment log.csv (10 B) not kept]" in f.read()


def test_sections_and_bodies_are_bounded():
    st, a, c, clock = setup()
    first = alarm(c, clock, "y" * (coalesce.SECTION_BYTES + 100))
    for _ in range(coalesce.MAX_SECTIONS + 5):
        alarm(c, clock, "z")
    with st.open_part(first, M.TEXT) as f:
        text = f.read().decode()
    assert text.startswith('%d messages' % (coalesce.MAX_SECTIONS + 6))
    assert "(%d shown)" % coalesce.MAX_SECTIONS in text.split("\n")[0]
    assert text.count("\n--- ") == coalesce.MAX_SECTIONS and "[... 100 more bytes not kept]" in text


def test_cool_down_after_a_digest_went_out_holds_the_next_ones_together():
    st, a, c, clock = setup()
    srv = FakeServer()
    first = alarm(c, clock, "1", hold=300, cooldown=900)
    s = Sender(st, c.settings_for(a.service), a.service, srv.connect, clock, rand=lambda: 0.5)
    r = s.send_all()
    assert r["sent"] == [first]
    coalesce.note_sent(st, r["sent"], clock())
    clock.advance(60)
    nxt = alarm(c, clock, "2", hold=300, cooldown=900)
    e = st.get(nxt)
    assert e.sending_state == E.SEND_SCHEDULED and e.next_try == T0 + 900
    clock.advance(400)  # past the hold, but the message is held: it still gathers
    assert alarm(c, clock, "3", hold=300, cooldown=900) == nxt
    assert s.send_all()["sent"] == [] and srv.connections == 1
    clock.t = T0 + 900
    r = Sender(st, c.settings_for(a.service), a.service, srv.connect, clock).send_all()
    assert r["sent"] == [nxt] and len(srv.messages) == 2
    assert b"[2] Pump 1 pressure" in srv.messages[1][2]


def test_the_cool_down_file_keeps_the_newest_keys_only():
    """A board that names a key per event (key="temp-%d" % reading) ran for months: the
    cool-down file, read whole into RAM at each queue(key=...), kept every key ever used."""
    import json

    from smtpmtm.store.fsutil import read_file

    st, a, c, clock = setup()
    n = coalesce.MAX_KEYS + 8
    for i in range(n):
        st.purge(alarm(c, clock, "x", key="sensor-%d" % i))  # sent and tidied: only its key stays
        clock.advance(1)
    keys = json.loads(read_file(st.root + "/coalesce").decode())
    assert len(keys) == coalesce.MAX_KEYS, len(keys)  # was n: one more per key
    assert "sensor-%d" % (n - 1) in keys and "sensor-0" not in keys  # the oldest went
    # a key still there cools down as before
    first = alarm(c, clock, "again", key="sensor-%d" % (n - 1), hold=0, cooldown=900)
    assert st.get(first).sending_state == E.SEND_SCHEDULED


def test_a_message_being_sent_or_attempted_is_never_merged_into():
    st, a, c, clock = setup()
    first = alarm(c, clock, "1", cooldown=0)
    e = st.get(first)
    e.set_flag(E.FLAG_CONNECTED, True)
    st.update(e)
    assert alarm(c, clock, "2", cooldown=0) != first
    e.set_flag(E.FLAG_CONNECTED, False)
    e.attempts = 1
    st.update(e)
    assert alarm(c, clock, "3", cooldown=0) != first


def test_bad_key_or_hold_is_named_and_the_message_kept():
    st, a, c, clock = setup()
    for key, hold, word in (("", 600, "key"), ('a"b', 600, "key"), ("k", -1, "hold"),
                            ("k", "600", "hold")):
        c.create_message()
        c.add_addressee("ann@example.com")
        c.save_message()
        mid = c.queue()
        e = raises(InputError, coalesce.absorb, c, mid, key, hold, clock())
        assert word in str(e)
        assert st.get(mid).parent == E.OUTBOX


def test_store_update_can_purge_the_entry_it_replaces_in_one_record():
    st, a, c, clock = setup()
    one = alarm(c, clock, "1", cooldown=0)
    two = alarm(c, clock, "2", key="other", cooldown=0)
    e = st.get(one)
    e.description = "merged"
    st.update(e, {"note": b"x"}, purge=two)
    again = Store(st.root)  # what the flash holds
    assert again.get(one).description == "merged" and not again.exists(two)
    assert "note" in again.parts(one)
    raises(Exception, st.update, st.get(one), None, E.OUTBOX)  # a folder is never purged so

"""The send engine with the real client MTM: what the client queues is what goes out."""

from smtpmtm.store import entry as E
from smtpmtm.outbox import progress as P
from smtpmtm.client.mtm import read_header
from smtpmtm.outbox.sender import Sender
from portable import FakeClock, tmpdir, write_file
from sender_fakes import FakeServer, client_for, new_store




def test_client_queued_message_is_sent_with_its_fixed_message_id():
    st = new_store()
    clock = FakeClock(1732790000)
    accts, acct, c = client_for(st, clock)
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.add_addressee("boss@example.com", "bcc")
    c.subject = "Pump alarm"
    c.set_body_text("Pressure low")
    path = tmpdir() + "/log.csv"
    write_file(path, b"t,p\r\n1,2.5\r\n")
    c.add_attachment(path)
    c.save_message()
    c.queue()
    h = read_header(st, mid)
    svc = acct.service
    srv = FakeServer(chunking=True)
    s = Sender(st, accts.load(acct), svc, srv.connect, clock, rand=lambda: 0.5)
    seen = []

    def watch(p):
        if p.state == P.SENDING and not seen:
            seen.append((st.get(svc).flag(E.FLAG_CONNECTED), st.get(mid).flag(E.FLAG_CONNECTED)))

    s.progress.subscribe(watch)
    r = s.send_all()
    assert r["sent"] == [mid]
    assert seen == [(True, True)]  # service and message marked connected while sending
    assert not st.get(svc).flag(E.FLAG_CONNECTED) and not st.get(mid).flag(E.FLAG_CONNECTED)
    assert [m[1] for m in srv.messages] == [["ann@example.com"], ["boss@example.com"]]
    for m in srv.messages:
        assert ("Message-ID: " + h["message_id"]).encode() in m[2]
        assert b"log.csv" in m[2] and b"To: Ann <ann@example.com>" in m[2]
    assert b"Bcc" not in srv.messages[0][2] and b"Bcc: boss@example.com" in srv.messages[1][2]
    assert st.get(mid).parent == E.SENT


def test_an_account_at_a_non_ascii_domain_queues_and_sends():
    # the Message-ID fixed at queue time must be one mime.build accepts at send time: an IDN
    # domain goes in as IDNA (RFC 5891), else every message of the account failed for good
    st = new_store()
    clock = FakeClock(1732790000)
    accts, acct, c = client_for(st, clock, "pumpe", email_address="pumpe@b\u00fccher.de")
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.subject = "Pumpenalarm"
    c.set_body_text("Druck niedrig")
    c.save_message()
    c.queue()
    h = read_header(st, mid)
    assert h["message_id"].endswith("@xn--bcher-kva.de>"), h["message_id"]
    srv = FakeServer()
    r = Sender(st, accts.load(acct), acct.service, srv.connect, clock, rand=lambda: 0.5).send_all()
    assert r["sent"] == [mid] and r["failed"] == [], r
    assert ("Message-ID: " + h["message_id"]).encode() in srv.messages[0][2]
    assert srv.messages[0][0] == "pumpe@b\u00fccher.de"  # the envelope keeps the real address
    assert st.get(mid).parent == E.SENT

"""Entries: Symbian constant values, flag helpers, compact encoding round trips."""

from portable import Rng, raises
from smtpmtm.store import entry as E
from smtpmtm.store import index as X




def random_entry(rng):
    def text():
        alphabet = "abcXYZ <>@.\u00e9\u2713\U0001F600"
        return "".join(rng.choice(alphabet) for _ in range(rng.below(12)))

    def num(bits):
        return rng.next() & ((1 << bits) - 1) if rng.below(3) else 0

    return E.Entry(
        id=E.FIRST_FREE_ID + rng.below(100000), parent=rng.choice(E.STANDARD_FOLDERS),
        service=num(20), related=num(20),
        type=rng.choice(E.TYPES + (0x1234,)), mtm=rng.choice(E.MTMS + (0, 0x10009999)),
        date=(rng.next() - 0x7FFFFFFF) if rng.below(2) else 1732790000 + rng.below(1000),
        size=num(31), error=rng.choice((0, E.ERR_UNKNOWN, E.ERR_ACCESS_DENIED, 7)),
        flags=num(26), sending_state=rng.below(11), email_flags=num(32),
        attempts=rng.below(5), first_try=num(31), next_try=num(31),
        description=text(), details=text())


def test_fixed_ids_and_symbian_values():
    assert (E.ROOT, E.LOCAL_SERVICE, E.INBOX, E.OUTBOX, E.DRAFTS, E.SENT, E.DELETED) == \
        (0x1000, 0x1001, 0x1002, 0x1003, 0x1004, 0x1005, 0x1006)
    assert E.FIRST_FREE_ID == 0x100000
    assert E.TYPE_MESSAGE == 0x10000F6A and E.TYPE_ATTACHMENT == 0x10000F6B
    assert E.FLAG_IN_PREPARATION == 0x10000 and E.FLAG_INVISIBLE == 0x200
    assert E.SEND_WAITING == 2 and E.SEND_SENT == 8 and E.SEND_NOT_APPLICABLE == 9
    assert E.SEND_UNCERTAIN == 10 and E.SEND_STATE_NAMES[E.SEND_UNCERTAIN] == "uncertain"
    assert E.EMAIL_RECEIPT == 0x4 and E.EMAIL_MHTML == 0x40 and E.EMAIL_VCARD == 0x10


def test_flag_helpers():
    e = E.Entry()
    assert e.priority == E.PRIORITY_MEDIUM and e.visible and e.complete
    e.priority = E.PRIORITY_HIGH
    e.set_flag(E.FLAG_INVISIBLE)
    e.set_flag(E.FLAG_IN_PREPARATION)
    assert e.priority == 2 and not e.visible and e.in_preparation
    e.set_flag(E.FLAG_IN_PREPARATION, False)
    assert not e.in_preparation and e.flag(E.FLAG_INVISIBLE)
    e.folder_type = E.FOLDER_ALTERNATIVE
    e.set_email_flag(E.EMAIL_RECEIPT)
    assert e.folder_type == 4 and e.email_flag(E.EMAIL_RECEIPT)
    assert raises(TypeError, E.Entry, colour=1)


def test_default_entry_is_tiny():
    e = E.Entry(id=0x100001, parent=E.OUTBOX)
    assert X.encode(e) == b"\x81\x80\x40\x83\x20\x00"
    assert X.decode(X.encode(e)) == e


def test_round_trip_random_entries():
    rng = Rng(7)
    for _ in range(150):
        e = random_entry(rng)
        b = X.encode(e)
        d = X.decode(b)
        assert d == e, (e, d)
        assert X.peek_parent(b) == e.parent
        assert X.decode(b"xx" + b + b"yy", 2, 2 + len(b)) == e


def test_decode_rejects_truncation_and_garbage():
    e = E.Entry(id=0x100005, parent=E.SENT, mtm=E.MTM_SMTP, description="Report \u2713",
                details="ann@example.com", size=1234, sending_state=E.SEND_SENT)
    b = X.encode(e)
    for n in range(len(b)):
        raises(ValueError, X.decode, b[:n])
    raises(ValueError, X.decode, b + b"\x00")
    raises(ValueError, X.decode, b"\x01\x02\xff\xff\x03")


def test_smaller_than_json():
    import json
    e = E.Entry(id=0x100123, parent=E.OUTBOX, service=0x100001, mtm=E.MTM_SMTP,
                date=1732790000, size=2048, flags=E.PRIORITY_HIGH | E.FLAG_ATTACHMENT,
                sending_state=E.SEND_WAITING, description="Pump alarm", details="ops@example.com")
    j = json.dumps(dict((k, getattr(e, k)) for k in E.FIELDS))
    assert len(X.encode(e)) * 4 < len(j)

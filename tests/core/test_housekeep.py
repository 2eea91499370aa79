"""Housekeeping: Sent and Deleted kept to a number, oldest purged first, queued mail untouched."""

from portable import raises, tmpdir
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store
from smtpmtm.errors import InputError, NotFound
from smtpmtm.store.housekeep import tidy


def _msg(st, folder, date, state=E.SEND_SENT):
    return st.create(E.Entry(parent=folder, mtm=E.MTM_SMTP, date=date, sending_state=state),
                     parts={"header": b"h", "body": b"x" * 100})


def _filled():
    st = store.Store(tmpdir())
    # dates out of id order: the oldest by Date goes first, not the first created
    sent = [_msg(st, E.SENT, d) for d in (1732790300, 1732790100, 1732790200, 1732790400)]
    gone = [_msg(st, E.DELETED, d) for d in (1732790500, 1732790000)]
    queued = [_msg(st, E.OUTBOX, 1700000000 + i, E.SEND_WAITING) for i in range(3)]
    draft = _msg(st, E.DRAFTS, 1600000000, E.SEND_UNKNOWN)
    return st, sent, gone, queued, draft


def test_keeps_the_newest_sent_and_empties_deleted():
    st, sent, gone, queued, draft = _filled()
    assert tidy(st, keep_sent=2) == 4  # two Sent, both Deleted
    assert [e.id for e in st.children(E.SENT)] == [sent[0], sent[3]]  # the two newest by Date
    assert st.children(E.DELETED) == []
    raises(NotFound, st.get, sent[1])
    # the Outbox and the Drafts, however old, are never housekept
    assert [e.id for e in st.children(E.OUTBOX)] == queued
    assert [e.id for e in st.children(E.DRAFTS)] == [draft]
    assert tidy(st, keep_sent=2) == 0  # nothing more to do


def test_purged_parts_leave_the_flash_and_survive_a_reopen():
    st, sent, gone, queued, draft = _filled()
    tidy(st, keep_sent=0, keep_deleted=1)
    st2 = store.Store(st.root)
    assert st2.children(E.SENT) == []
    assert [e.id for e in st2.children(E.DELETED)] == [gone[0]]  # the newer Deleted one
    assert st2.report["orphans_removed"] == 0  # purge removed the part files too
    for i in queued:
        assert st2.part_size(i, "body") == 100


def test_none_keeps_a_folder_and_bad_limits_are_refused_before_anything_goes():
    st, sent, gone, queued, draft = _filled()
    assert tidy(st, keep_sent=None, keep_deleted=None) == 0
    for bad in (-1, "5", 1.5, True):
        e = raises(InputError, tidy, st, bad)
        assert "keep_sent" in str(e)
    assert len(st.children(E.SENT)) == 4
    e = raises(InputError, tidy, st, 1, -2)
    assert "keep_deleted" in str(e)
    assert len(st.children(E.SENT)) == 4 and len(st.children(E.DELETED)) == 2


def test_failed_mail_is_kept_to_keep_failed_and_nothing_sendable_is_touched():
    # failed messages stayed in the Outbox for ever: an unattended board meeting a 5xx every
    # day grew its index (heap) and its flash without end; now the oldest beyond keep_failed go
    st, sent, gone, queued, draft = _filled()
    failed = [_msg(st, E.OUTBOX, d, E.SEND_FAILED) for d in (1732790300, 1732790100, 1732790200)]
    held = [_msg(st, E.OUTBOX, 1600000000, s) for s in (E.SEND_SUSPENDED, E.SEND_UNCERTAIN)]
    assert tidy(st, keep_sent=None, keep_deleted=None) == 0  # keep_failed None: kept, as Symbian
    assert tidy(st, keep_sent=None, keep_deleted=None, keep_failed=1) == 2
    outbox = [e.id for e in st.children(E.OUTBOX)]
    # the newest failed by Date stays; waiting, suspended and uncertain ones, older, all stay
    assert outbox == queued + [failed[0]] + held, (outbox, failed)
    assert len(st.children(E.SENT)) == 4 and len(st.children(E.DELETED)) == 2
    e = raises(InputError, tidy, st, keep_sent=0, keep_failed=-1)
    assert "keep_failed" in str(e) and len(st.children(E.SENT)) == 4  # refused before any purge

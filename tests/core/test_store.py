"""Store operations: the standard tree, create/get/children/move/copy/delete/purge, parts."""

import os

from portable import read_part, tmpdir, raises
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store
from smtpmtm.errors import NotFound, InputError




def test_standard_tree_with_fixed_ids():
    st = store.Store(tmpdir())
    assert st.report["created"]
    assert [e.id for e in st.children(E.ROOT)] == [E.LOCAL_SERVICE]
    assert [e.id for e in st.children(E.LOCAL_SERVICE)] == list(E.STANDARD_FOLDERS)
    assert not st.get(E.DELETED).visible and st.get(E.OUTBOX).flag(E.FLAG_STANDARD_FOLDER)
    assert st.get(E.OUTBOX).type == E.TYPE_FOLDER and st.get(E.ROOT).type == E.TYPE_ROOT
    raises(NotFound, st.get, 0x4242)
    raises(InputError, st.move, E.OUTBOX, E.INBOX)
    raises(InputError, st.purge, E.DRAFTS)


def test_create_message_with_parts_and_reopen():
    root = tmpdir()
    st = store.Store(root)
    svc = st.create(E.Entry(parent=E.ROOT, type=E.TYPE_SERVICE, mtm=E.MTM_SMTP, details="Work",
                            flags=E.FLAG_INVISIBLE | E.PRIORITY_MEDIUM))
    assert svc == E.FIRST_FREE_ID
    e = E.Entry(parent=E.DRAFTS, service=svc, mtm=E.MTM_SMTP, description="Alarm \u2713",
                details="ann@example.com", date=1732790000)
    body = [b"line %d\r\n" % i for i in range(200)]
    mid = st.create(e, parts={"header": b"To: ann@example.com\r\n", "body": body})
    assert e.id == mid and mid == svc + 1
    assert st.parts(mid) == ["body", "header"]
    assert st.part_size(mid, "body") == sum(len(b) for b in body)
    assert read_part(st, mid, "body") == b"".join(body)
    st2 = store.Store(root)
    assert st2.get(mid) == st.get(mid) and st2.dump() == st.dump()
    assert st2.report["dropped_bytes"] == 0 and not st2.report["created"]
    assert read_part(st2, mid, "header") == b"To: ann@example.com\r\n"
    assert st2.part_path(mid, "body").startswith(root)


def test_update_move_copy_delete_purge():
    root = tmpdir()
    st = store.Store(root)
    mid = st.create(E.Entry(parent=E.DRAFTS, description="s"), parts={"body": b"B" * 700})
    att = st.create(E.Entry(parent=mid, type=E.TYPE_ATTACHMENT, details="a.csv"),
                    parts={"data": b"1,2,3\n"})
    e = st.get(mid)
    e.sending_state = E.SEND_WAITING
    e.set_flag(E.FLAG_ATTACHMENT)
    st.update(e)
    assert st.get(mid).sending_state == E.SEND_WAITING
    st.move(mid, E.OUTBOX)
    assert [x.id for x in st.children(E.OUTBOX)] == [mid] and st.children(E.DRAFTS) == []
    cid = st.copy(mid, E.DRAFTS)
    kids = st.children(cid)
    assert len(kids) == 1 and kids[0].details == "a.csv" and kids[0].id != att
    assert read_part(st, kids[0].id, "data") == b"1,2,3\n" and read_part(st, cid, "body") == b"B" * 700
    raises(InputError, st.move, mid, att)  # not into itself
    st.delete(cid)
    assert [x.id for x in st.children(E.DELETED)] == [cid]
    files_before = len(os.listdir(root + "/p"))
    st.purge(cid)
    raises(NotFound, st.get, cid)
    raises(NotFound, st.get, kids[0].id)
    assert len(os.listdir(root + "/p")) == files_before - 2
    assert store.Store(root).dump() == st.dump()


def test_write_part_replaces_and_in_preparation_hidden():
    root = tmpdir()
    st = store.Store(root)
    e = E.Entry(parent=E.DRAFTS, flags=E.PRIORITY_MEDIUM | E.FLAG_IN_PREPARATION)
    mid = st.create(e)
    assert st.children(E.DRAFTS, skip_in_preparation=True) == []
    st.write_part(mid, "body", b"v1")
    st.write_part(mid, "body", [b"v", b"2", b"!"])
    assert read_part(st, mid, "body") == b"v2!" and st.part_size(mid, "body") == 3
    assert len(os.listdir(root + "/p")) == 1
    e.set_flag(E.FLAG_IN_PREPARATION, False)
    st.update(e)
    assert [x.id for x in st.children(E.DRAFTS, skip_in_preparation=True)] == [mid]
    st.remove_part(mid, "body")
    assert st.parts(mid) == [] and os.listdir(root + "/p") == []
    raises(InputError, st.write_part, mid, "../x", b"")
    raises(NotFound, st.open_part, mid, "body")


def test_orphan_part_files_removed_at_open():
    root = tmpdir()
    st = store.Store(root)
    mid = st.create(E.Entry(parent=E.DRAFTS), parts={"body": b"x"})
    with open(root + "/p/%x_99_body" % mid, "wb") as f:
        f.write(b"half written")
    st2 = store.Store(root)
    assert st2.report["orphans_removed"] == 1 and st2.parts(mid) == ["body"]


def test_compaction_keeps_everything_and_auto_compacts():
    root = tmpdir()
    st = store.Store(root)
    st.COMPACT_MIN = 1024
    ids = []
    for i in range(40):
        ids.append(st.create(E.Entry(parent=E.OUTBOX, description="m%d" % i)))
    for i in range(0, 40, 2):
        st.move(ids[i], E.SENT)
    for r in range(6):
        for i in range(40):
            e = st.get(ids[i])
            e.attempts = i + r
            st.update(e)
    sizes = [os.stat(root + "/index.%d" % k)[6] for k in (0, 1)]
    assert st._gen > 2 and max(sizes) < 1024 * 3  # auto compaction kept the log bounded
    before = st.dump()
    st.compact()
    assert st.dump() == before and store.Store(root).dump() == before
    assert len(st.children(E.SENT)) == 20


def test_atomic_write_and_read_file():
    root = tmpdir()
    p = root + "/acct.json"
    raises(NotFound, store.read_file, p)
    store.atomic_write(p, b'{"a": 1}')
    store.atomic_write(p, [b'{"a": ', b"2}"])
    assert store.read_file(p) == b'{"a": 2}'
    # a torn newer slot is ignored: the previous version is returned
    newest = p + ".b"
    data = open(newest, "rb").read()
    for n in range(len(data)):
        with open(newest, "wb") as f:
            f.write(data[:n])
        assert store.read_file(p) == b'{"a": 1}'
    with open(newest, "wb") as f:
        f.write(data)
    assert store.read_file(p) == b'{"a": 2}'
    store.atomic_write(p, "three")
    assert store.read_file(p) == b"three" and store.exists_file(p)
    store.remove_file(p)
    assert not store.exists_file(p)

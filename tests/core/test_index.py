"""The index log: framing, CRC, and recovery from truncation/corruption at every byte."""

from portable import tmpdir, raises, write_file, read_file, rmtree
from smtpmtm.store import entry as E
from smtpmtm.store import index as X
from smtpmtm.store import fsutil
from smtpmtm.store.tree import Store




def test_header_and_record_framing():
    h = X.header(7)
    assert len(h) == 16 and h[:4] == b"SMIX" and X.parse_header(h) == 7
    for i in range(16):
        bad = bytearray(h)
        bad[i] ^= 0x10
        assert X.parse_header(bytes(bad)) is None
    ops = X.op_put(X.encode(E.Entry(id=0x100000, parent=E.OUTBOX))) + X.op_del(0x100001)
    ops += X.op_part(0x100000, "body", 3, 99)
    rec = X.record(ops)
    assert rec[0] == len(ops) and fsutil.get_u32(rec, len(rec) - 4) == fsutil.crc32(rec[:-4])
    parsed = X.parse_payload(rec[1:-4])
    assert [p[0] for p in parsed] == [X.OP_PUT, X.OP_DEL, X.OP_PART]
    st = X.State()
    X.apply(st, parsed)
    assert st.parts == {0x100000: {"body": (3, 99)}} and st.next_gen == 4
    raises(ValueError, X.parse_payload, b"\x09")
    raises(ValueError, X.record, b"")


def test_crc32_matches_zlib_value():
    assert fsutil.crc32(b"123456789") == 0xCBF43926
    assert fsutil.crc32(b"56789", fsutil.crc32(b"1234")) == 0xCBF43926


def _history(root):
    """A store with a few transactions; [(slot file size, dump)] after each."""
    st = Store(root)
    slot = root + "/" + X.SLOTS[st._slot]
    hist = [(fsutil.REAL_FS.size(slot), st.dump())]
    a = st.create(E.Entry(parent=E.DRAFTS, type=E.TYPE_MESSAGE, description="one"),
                  parts={"body": b"hello"})
    hist.append((fsutil.REAL_FS.size(slot), st.dump()))
    st.move(a, E.OUTBOX)
    hist.append((fsutil.REAL_FS.size(slot), st.dump()))
    st.create(E.Entry(parent=E.OUTBOX, details="x@y.z", sending_state=E.SEND_WAITING))
    hist.append((fsutil.REAL_FS.size(slot), st.dump()))
    st.delete(a)
    hist.append((fsutil.REAL_FS.size(slot), st.dump()))
    return read_file(slot), hist


def _reset(root, src):
    import os
    rmtree(root)
    os.mkdir(root)
    os.mkdir(root + "/p")
    for name in os.listdir(src + "/p"):
        write_file(root + "/p/" + name, read_file(src + "/p/" + name))


def _expected(hist, n):
    best = hist[0][1]
    for size, dump in hist:
        if size <= n:
            best = dump
    return best


def test_truncation_at_every_byte_keeps_every_complete_record():
    src = tmpdir()
    data, hist = _history(src)
    root = tmpdir()
    for n in range(len(data) + 1):
        _reset(root, src)
        write_file(root + "/index.0", data[:n])
        st = Store(root)
        assert st.dump() == _expected(hist, n), n
        full = n in [h[0] for h in hist]
        if n >= hist[0][0]:
            assert (st.report["dropped_bytes"] == 0) == full, (n, st.report)
        # the recovered store works and reopens identically
        st.create(E.Entry(parent=E.INBOX))
        assert Store(root).dump() == st.dump()


def test_corruption_at_every_byte_opens_and_keeps_a_prefix():
    src = tmpdir()
    data, hist = _history(src)
    dumps = [h[1] for h in hist]
    root = tmpdir()
    for i in range(len(data)):
        _reset(root, src)
        bad = bytearray(data)
        bad[i] ^= 0x41
        write_file(root + "/index.0", bytes(bad))
        st = Store(root)
        d = st.dump()
        # every record before the damaged one is kept (first record: the snapshot)
        k = 0
        while k + 1 < len(hist) and hist[k + 1][0] <= i:
            k += 1
        assert d == dumps[k] or (i < hist[0][0] and d == dumps[-1]), (i, st.report)
        assert st.report["dropped_bytes"] or st.report["rejected"] or st.report["compacted"]


def test_the_previous_snapshot_is_no_recovery():
    # two sealed slots (the newest chosen, the other the snapshot before it) are the normal
    # state after a compaction: the report is clean, so the board logs no "store recovered"
    root = tmpdir()
    st = Store(root)
    st.create(E.Entry(parent=E.OUTBOX, description="a"))
    st.compact()
    st.create(E.Entry(parent=E.OUTBOX, description="b"))
    st.compact()
    assert all(read_file(root + "/" + n) for n in X.SLOTS)  # both slots hold a snapshot
    rep = Store(root).report
    assert (rep["rejected"], rep["dropped_bytes"], rep["orphans_removed"]) == ([], 0, 0), rep


def test_newest_sealed_slot_wins_and_a_half_compaction_is_ignored():
    root = tmpdir()
    st = Store(root)
    a = st.create(E.Entry(parent=E.OUTBOX, description="keep"), parts={"body": b"x" * 300})
    st.compact()
    cur = root + "/" + X.SLOTS[st._slot]
    other = root + "/" + X.SLOTS[1 - st._slot]
    good = read_file(cur)
    st.create(E.Entry(parent=E.OUTBOX, description="later"))
    expect = st.dump()
    st.compact()
    new = read_file(root + "/" + X.SLOTS[st._slot])
    assert root + "/" + X.SLOTS[st._slot] == other
    for n in range(0, len(new), 7):  # the new snapshot cut anywhere before its seal
        write_file(cur, read_file(cur) if n else good)
        write_file(other, new[:n])
        st2 = Store(root)
        d = st2.dump()
        assert st2.get(a).description == "keep"
        assert d == expect or len(d) == len(expect) - 1

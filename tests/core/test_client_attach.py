"""Client MTM bodies and attachments: copy, linked, created in pieces, stored message, remove."""

import gc

from portable import FakeClock, Rng, raises, read_file, read_part, tmpdir, write_file

from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.client.mtm import Client, read_header
from smtpmtm.errors import InputError
from smtpmtm.store.tree import Store

# Store + client compiled from source stay in the heap (frozen on a board).



def setup():
    st = Store(tmpdir())
    c = Client(st, None, FakeClock())
    c.create_message()
    c.add_addressee("ann@example.com")
    return st, c


def test_body_text_from_str_path_and_reader():
    st, c = setup()
    c.set_body_text("h\u00e9llo\n")
    assert c.body_text == "h\u00e9llo\n"
    d = tmpdir()
    write_file(d + "/b.txt", b"from a file\n" * 100)
    c.set_body_text(path=d + "/b.txt")
    assert st.part_size(c.entry_id, M.TEXT) == 1200

    class R:
        def __init__(self):
            self.n = 0

        def read(self, k):
            self.n += 1
            return "" if self.n > 3 else "piece%d\n" % self.n

    c.set_body_text(reader=R())
    assert c.body_text == "piece1\npiece2\npiece3\n"
    c.body_text = "prop"
    assert c.body_text == "prop"
    raises(InputError, c.set_body_text, path=d + "/missing.txt")
    f = c.open_body()
    assert f.read() == b"prop"
    f.close()
    assert c.open_body(M.HTML) is None and c.body_html is None
    c.body_html = "<b>x</b>"
    c.save_message()
    h = read_header(st, c.entry_id)
    assert h["text"] == "text" and h["html"] == "html"


def test_big_body_streams_in_bounded_memory():
    st, c = setup()
    d = tmpdir()
    rng = Rng(7)
    with open(d + "/big.txt", "wb") as f:
        line = bytes(65 + rng.below(26) for _ in range(100)) + b"\n"
        for _ in range(3000):  # 303 KB, bigger than the whole MicroPython test heap
            f.write(line)
    gc.collect()
    c.set_body_text(path=d + "/big.txt")
    c.save_message()
    assert st.part_size(c.entry_id, M.TEXT) == 303000
    assert st.get(c.entry_id).size > 303000


def test_add_attachment_copies_in_chunks():
    st, c = setup()
    d = tmpdir()
    data = Rng(3).bytes(5000)
    write_file(d + "/pic.jpg", data)
    i = c.add_attachment(d + "/pic.jpg")
    j = c.add_attachment(d + "/pic.jpg", name="other.bin", content_type="application/x-test", cid="c1")
    assert (i, j) == (0, 1)
    a, b = c.attachments()
    assert a["name"] == "pic.jpg" and a["type"] == "image/jpeg" and a["kind"] == M.KIND_FILE
    assert a["size"] == 5000 and read_part(st, c.entry_id, a["part"]) == data
    assert b["name"] == "other.bin" and b["type"] == "application/x-test" and b["cid"] == "c1"
    assert a["part"] != b["part"]
    write_file(d + "/pic.jpg", b"changed")  # a copy does not follow the file
    assert read_part(st, c.entry_id, a["part"]) == data
    e = raises(InputError, c.add_attachment, d + "/nope.bin")
    assert str(e) == "attachment: cannot read %r (no such file)" % (d + "/nope.bin"), e
    e = raises(InputError, c.add_attachment, d)
    assert str(e) == "attachment: cannot read %r (a directory)" % d, e
    raises(InputError, c.add_attachment, d + "/pic.jpg", "bad\nname")
    c.attachments()[0]["name"] = "mutated"
    assert c.attachments()[0]["name"] == "pic.jpg"  # attachments() gives copies


def test_linked_attachment_is_not_copied():
    st, c = setup()
    d = tmpdir()
    write_file(d + "/log.csv", b"a,b\n1,2\n")
    c.add_linked_attachment(d + "/log.csv")
    a = c.attachments()[0]
    assert a["kind"] == M.KIND_LINKED and a["path"] == d + "/log.csv" and a["part"] is None
    assert a["size"] == 8 and a["type"] == "text/csv"
    assert len(st.parts(c.entry_id)) == 1  # only the header
    c.save_message()
    assert st.get(c.entry_id).size == st.part_size(c.entry_id, M.HEADER) + 8
    h = read_header(st, c.entry_id)
    assert h["attachments"][0]["path"] == d + "/log.csv"
    e = raises(InputError, c.add_linked_attachment, d + "/missing")
    assert str(e) == "attachment: cannot read %r (no such file)" % (d + "/missing"), e
    e = raises(InputError, c.add_linked_attachment, d)
    assert str(e) == "attachment: cannot read %r (a directory)" % d, e
    assert len(c.attachments()) == 1


def test_create_attachment_writes_in_pieces():
    st, c = setup()
    w = c.create_attachment("rows.csv")
    for n in range(300):
        w.write("%d,%d\n" % (n, n * n))
    w.write(b"end\n")
    assert c.attachments() == []  # exists after close
    w.close()
    w.close()  # twice is fine
    raises(InputError, w.write, "late")
    a = c.attachments()[0]
    body = read_part(st, c.entry_id, a["part"])
    assert body.startswith(b"0,0\n1,1\n") and body.endswith(b"299,89401\nend\n")
    assert a["size"] == len(body) == w.size and a["type"] == "text/csv"
    with c.create_attachment("ctx.txt") as w2:
        w2.write("inside")
    assert c.attachments()[1]["name"] == "ctx.txt"
    # an exception inside the with block cancels the attachment
    try:
        with c.create_attachment("broken.txt") as w3:
            w3.write("half")
            raise ValueError("boom")
    except ValueError:
        pass
    assert [x["name"] for x in c.attachments()] == ["rows.csv", "ctx.txt"]
    w4 = c.create_attachment("cancelled.txt")
    w4.write("x")
    w4.cancel()
    assert len(c.attachments()) == 2
    c.save_message()
    assert Store(st.root).report["orphans_removed"] == 0  # the broken and cancelled left no file


def test_writers_open_side_by_side_get_their_own_parts():
    st, c = setup()
    w1, w2 = c.create_attachment("one.txt"), c.create_attachment("two.txt")
    w1.write("first")
    w2.write("second")
    w2.close()
    w1.close()
    got = {a["name"]: read_part(st, c.entry_id, a["part"]) for a in c.attachments()}
    assert got == {"one.txt": b"first", "two.txt": b"second"}


def test_a_writer_cut_before_close_leaves_no_attachment_and_no_file():
    st, c = setup()
    c.save_message()
    w = c.create_attachment("cut.bin")
    w.write("a cut happens before close")
    w._w._f.close()  # the power goes: the part file stays, no index record names it
    st2 = Store(st.root)  # the next boot
    assert st2.report["orphans_removed"] == 1
    c2 = Client(st2, None, FakeClock())
    c2.switch(c.entry_id)
    c2.load_message()
    assert c2.attachments() == []


def test_part_writer_written_once_and_replaced_whole():
    st, c = setup()
    mid = c.entry_id
    w = st.part_writer(mid, "log")
    for n in range(100):
        w.write(b"%d\n" % n)
    assert "log" not in st.parts(mid)  # nothing visible before the commit
    w.commit()
    assert st.part_size(mid, "log") == w.size == len(read_part(st, mid, "log"))
    w2 = st.part_writer(mid, "log")
    w2.write(b"new")
    w2.abort()
    assert read_part(st, mid, "log").startswith(b"0\n1\n")  # abort keeps the old part
    w3 = st.part_writer(mid, "log")
    w3.write(b"new")
    w3.commit()
    assert read_part(st, mid, "log") == b"new"
    raises(InputError, w3.write, b"late")
    raises(InputError, st.part_writer, mid, "bad/name")
    assert Store(st.root).report["orphans_removed"] == 0  # the replaced and aborted files are gone


def test_add_entry_as_attachment_and_remove():
    st, c = setup()
    c.subject = "Original"
    c.set_body_text("orig body")
    orig = c.entry_id
    c.save_message()
    c.create_message()
    c.add_addressee("bob@example.com")
    i = c.add_entry_as_attachment(orig)
    a = c.attachments()[i]
    assert a["kind"] == M.KIND_MESSAGE and a["type"] == "message/rfc822"
    assert a["name"] == "Original.eml" and a["size"] == st.get(orig).size
    child = a["entry"]
    ce = st.get(child)
    assert ce.parent == c.entry_id and ce.description == "Original"
    assert read_header(st, child)["subject"] == "Original"
    raises(InputError, c.add_entry_as_attachment, c.entry_id)
    c.save_message()
    e = st.get(c.entry_id)
    assert e.flag(E.FLAG_ATTACHMENT)
    st.purge(orig)  # the attached copy does not depend on the original
    assert st.get(child).description == "Original"
    c.remove_attachment(5)  # out of range: nothing
    c.remove_attachment(0)
    assert st.exists(child)  # removed when saved, after the header stops naming it
    c.save_message()
    assert not st.exists(child) and not st.get(c.entry_id).flag(E.FLAG_ATTACHMENT)


def test_attachment_data_survives_reload():
    st, c = setup()
    d = tmpdir()
    write_file(d + "/x.bin", b"12345")
    c.add_attachment(d + "/x.bin")
    c.save_message()
    c2 = Client(st, None, FakeClock())
    c2.switch(c.entry_id)
    c2.load_message()
    a = c2.attachments()[0]
    assert a["name"] == "x.bin" and read_part(st, c.entry_id, a["part"]) == b"12345"
    assert read_file(d + "/x.bin") == b"12345"


def test_a_writer_open_across_a_failed_index_write_refuses_to_commit():
    """A failed index append makes the store re-read itself (its open sweeps unnamed
    files, such as an open writer's): that writer then refuses to commit, clearly."""
    from faultfs import FaultFs
    from smtpmtm.errors import StoreError

    fs = FaultFs()
    st = Store(tmpdir(), fs=fs)
    c = Client(st, None, FakeClock())
    mid = c.create_message()
    w = c.create_attachment("log.csv")
    w.write("a,b\n")
    k = 0
    while st._st is not None:  # fail each call of one write_part in turn until the append
        k += 1
        assert k < 30, "no call of write_part left the store to be re-read"
        fs.n, fs.fail_at = 0, k
        try:
            st.write_part(mid, "other", [b"x"])
        except StoreError:
            pass
        fs.fail_at = 0
    w.write("c,d\n")
    e = raises(StoreError, w.close)
    assert "reopened" in str(e)
    assert c.attachments() == []
    assert st.get(mid).id == mid  # the store is usable
    w2 = c.create_attachment("log.csv")
    w2.write("again")
    w2.close()
    assert [a["name"] for a in c.attachments()] == ["log.csv"]

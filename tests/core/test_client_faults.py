"""Client MTM under I/O errors: every filesystem call of a compose-save-queue run fails once.

For k = 1, 2, ... the k-th filesystem call (open, write, read, close, remove,
listdir, size, exists) raises EIO or ENOSPC. The run must raise StoreError
(InputError if it was the attachment's source that could not be opened), or finish, and the store reopened afterwards must hold only consistent
messages: a saved message's header names only parts and entries that exist,
and a waiting Outbox message has its Message-ID and Date.
"""

from portable import FakeClock, rmtree, tmpdir, write_file

from smtpmtm.store import entry as E
from smtpmtm.store import fsutil
from smtpmtm.store import headpart as M
from smtpmtm.client.mtm import Client, read_header
from smtpmtm.errors import InputError, StoreError, StoreFull
from smtpmtm.store.tree import Store
from faultfs import FaultFs

# Store + client compiled from source stay in the heap (frozen on a board).



def _workload(c, src):
    mid = c.create_message()
    c.add_addressee("ann@example.com", "to", "Ann")
    c.subject = "faults"
    c.set_body_text("body line\n" * 30)
    c.add_attachment(src)
    with c.create_attachment("w.csv") as w:
        w.write("a,b\n" * 50)
    c.save_message()
    c.queue()
    c.switch(mid)
    c.load_message()
    c.reply()
    return mid


def _check(root):
    st = Store(root)
    n = 0
    for folder in (E.DRAFTS, E.OUTBOX):
        for e in st.children(folder):
            if e.in_preparation:
                continue
            n += 1
            h = read_header(st, e.id)
            have = st.parts(e.id)
            for p in (M.TEXT, M.HTML):
                if h[p]:
                    assert p in have, (e, p)
            for a in h["attachments"]:
                if a["kind"] == M.KIND_FILE:
                    assert a["part"] in have, (e, a)
                    assert st.part_size(e.id, a["part"]) == a["size"], (e, a)
            if folder == E.OUTBOX and e.sending_state == E.SEND_WAITING:
                assert h["message_id"] and h["date"] is not None, e
    return n


def _run_all(errno, want):
    k = 0
    tried = 0
    while True:
        k += 1
        root = tmpdir()
        fs = FaultFs(errno=errno)
        st = Store(root, fs=fs)
        src = root + "/src.bin"
        write_file(src, b"\x01\x02" * 700)
        c = Client(st, None, FakeClock())
        fs.n = 0
        fs.fail_at = k
        try:
            _workload(c, src)
        except StoreError as e:
            assert fs.failed, e
            assert isinstance(e, want), e
        except InputError as e:  # the attachment's source file could not be opened
            assert fs.failed and "cannot read" in str(e), e
        _check(root)
        rmtree(root)  # each point's store goes: a board's small flash would fill
        tried += 1
        if not fs.failed:
            return tried


def test_every_io_error_leaves_consistent_messages():
    tried = _run_all(5, StoreError)
    assert tried > 20  # the workload made that many filesystem calls


def test_every_enospc_is_store_full():
    _run_all(28, StoreFull)

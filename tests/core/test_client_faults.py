"""Client MTM under I/O errors: every filesystem call of a compose-save-queue run fails once.

For k = 1, 2, ... the k-th filesystem call (open, write, read, close, remove,
listdir, size, exists) raises EIO or ENOSPC. The run must raise StoreError
(InputError if it was the attachment's source that could not be opened), or finish, and the store reopened afterwards must hold only consistent
messages: a saved message's header names only parts and entries that exist,
and a waiting Outbox message has its Message-ID and Date.
"""

from portable import FakeClock, tmpdir, write_file

from smtpmtm import entry as E
from smtpmtm import fsutil
from smtpmtm import message as M
from smtpmtm.client import Client, read_header
from smtpmtm.errors import InputError, StoreError, StoreFull
from smtpmtm.store import Store

# Store + client compiled from source stay in the heap (frozen on a board).



class FaultFs(fsutil.Fs):
    def __init__(self, errno=5):
        self.n = 0
        self.fail_at = 0
        self.errno = errno
        self.failed = False

    def tick(self):
        self.n += 1
        if self.n == self.fail_at:
            self.failed = True
            raise OSError(self.errno)

    def open(self, path, mode):
        self.tick()
        return _File(self, open(path, mode))

    def remove(self, path):
        self.tick()
        fsutil.Fs.remove(self, path)

    def mkdir(self, path):
        self.tick()
        fsutil.Fs.mkdir(self, path)

    def listdir(self, path):
        self.tick()
        return fsutil.Fs.listdir(self, path)

    def size(self, path):
        self.tick()
        return fsutil.Fs.size(self, path)

    def exists(self, path):
        self.tick()
        return fsutil.Fs.exists(self, path)


class _File:
    def __init__(self, fs, f):
        self.fs = fs
        self.f = f

    def write(self, b):
        self.fs.tick()
        return self.f.write(b)

    def read(self, n=-1):
        self.fs.tick()
        return self.f.read(n) if n >= 0 else self.f.read()

    def readinto(self, b):
        self.fs.tick()
        return self.f.readinto(b)

    def readline(self, n=-1):
        self.fs.tick()
        return self.f.readline(n) if n >= 0 else self.f.readline()

    def close(self):
        self.fs.tick()
        self.f.close()


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
        fs = FaultFs(errno)
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
        tried += 1
        if not fs.failed:
            return tried


def test_every_io_error_leaves_consistent_messages():
    tried = _run_all(5, StoreError)
    assert tried > 20  # the workload made that many filesystem calls


def test_every_enospc_is_store_full():
    _run_all(28, StoreFull)

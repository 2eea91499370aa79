"""The message store: the entry tree (CMsvEntry/CMsvStore) on a filesystem.

Layout under ``root``: ``index.0``/``index.1`` (the entry index log, see
index.py and SPEC.md) and ``p/`` holding part files
``<id hex>_<gen hex>_<name>`` (header, body, html, attachments...). The index
record is the only commit point: a part is written to a new file first, and
becomes current when the record naming its generation is appended. So a
message saved with ``create(e, parts={...})`` appears complete or not at all;
a power cut at any block write leaves the old or the new state (littlefs and
FAT; nothing is ever renamed). Part files no record names are removed at open.

API (ids as in msvids.h, see entry.py)::

    from smtpmtm.store import entry
    from smtpmtm.store import tree as store
    st = store.Store("/flash/mail")          # opens or creates; recovers
    st.report                                # what recovery found/dropped
    e = entry.Entry(type=entry.TYPE_MESSAGE, parent=entry.DRAFTS, mtm=entry.MTM_SMTP)
    mid = st.create(e, parts={"header": b"...", "body": [b"chunk", b"chunk"]})
    st.get(mid); st.children(entry.DRAFTS); st.update(e); st.move(mid, entry.OUTBOX)
    st.write_part(mid, "body", chunks); st.open_part(mid, "body"); st.part_size(mid, "body")
    w = st.part_writer(mid, "log"); w.write(b"row\n"); w.commit()   # or w.abort()
    st.parts(mid); st.part_path(mid, "body"); st.remove_part(mid, "body")
    new = st.copy(mid, entry.DRAFTS); st.delete(mid)  # to Deleted; st.purge(mid) for good
    st.compact()
    store.atomic_write(path, chunks); store.read_file(path)   # settings files

Errors: StoreError (StoreFull on ENOSPC, NotFound, InputError for bad use);
an operation that raises has acknowledged nothing and the store stays usable.
Pass ``fs=`` (fsutil.Fs subclass) to route every filesystem call elsewhere.
"""

from smtpmtm.store import entry as E
from smtpmtm.store import index as X
from smtpmtm.errors import InputError, StoreError
from smtpmtm.store.fsutil import (iter_chunks, write_all, remove_quiet, atomic_write as _aw,
                            read_file as _rf, remove_file as _rmf, exists_file as _ef)
from smtpmtm.store.base import StoreBase

_NAME_OK = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."


def atomic_write(path, chunks, fs=None):
    """Power-cut safe write of a small file (see fsutil): old or new content survives."""
    _aw(path, chunks, fs)


def read_file(path, fs=None):
    """The newest complete content of a file written by atomic_write; NotFound if none."""
    return _rf(path, fs)


def remove_file(path, fs=None):
    _rmf(path, fs)


def exists_file(path, fs=None):
    return _ef(path, fs)


def _check_name(name):
    if not name or len(name) > 40 or name[0] == ".":
        raise InputError("bad part name %r" % name)
    for c in name:
        if c not in _NAME_OK:
            raise InputError("bad part name %r" % name)


class PartWriter:
    """One part written in pieces: ``write(data)`` as often as needed, then
    ``commit()`` makes it current with one index record (replacing a part of the
    same name), or ``abort()`` drops it. Nothing is visible before the commit; a
    power cut leaves a file no record names, which the next open removes. The
    data goes to flash once (no temporary copy). From ``Store.part_writer``."""

    def __init__(self, store, eid, name):
        self.store, self.eid, self.name = store, eid, name
        self.size = 0
        self._st = store._st  # a reopen (after a failed write) voids this writer
        self.gen, self.path = store._new_file(eid, name)
        self._f = store.fs.open(self.path, "wb")

    @property
    def closed(self):
        return self._f is None

    def _what(self):
        return "write part %r of %d" % (self.name, self.eid)

    def write(self, data):
        if self.closed:
            raise InputError("%s: the writer is closed" % self._what())
        try:
            write_all(self._f, data)
        except OSError as e:
            self.abort()
            raise self.store._fail(self._what(), e)
        self.size += len(data)
        return len(data)

    def commit(self):
        f, st = self._f, self.store
        if f is None:
            raise InputError("%s: the writer is closed" % self._what())
        self._f = None
        try:
            f.close()
            if st._st is not self._st:  # reopened since: its open may have swept this file
                raise StoreError("%s: the store was reopened after an error; write it again"
                                 % self._what())
            st._raw(self.eid)
        except Exception as e:
            remove_quiet(st.fs, self.path)
            raise st._fail(self._what(), e) if isinstance(e, OSError) else e
        st._run(self._what(), self.eid, [], {self.name: self})  # removes the file if it fails

    def abort(self):
        """Drop what was written (CancelAttachmentOperation)."""
        f = self._f
        if f is not None:
            self._f = None
            try:
                f.close()
            except OSError:
                pass
            remove_quiet(self.store.fs, self.path)


class Store(StoreBase):
    """The message store rooted at a directory (see the module docstring)."""

    def _new_file(self, eid, name):
        """A new generation for part ``name`` of eid, and the path of its file."""
        gen = self._st.next_gen
        self._st.next_gen += 1
        return gen, self._ppath(eid, name, gen)

    def _write_file(self, path, chunks):
        n = 0
        try:
            f = self.fs.open(path, "wb")
            try:
                for c in iter_chunks(chunks):
                    write_all(f, c)
                    n += len(c)
            finally:
                f.close()
        except OSError:
            remove_quiet(self.fs, path)
            raise
        return n

    def _copy_file(self, src, path):
        f = self.fs.open(src, "rb")
        try:
            def gen_chunks():
                buf = bytearray(512)
                while True:
                    k = f.readinto(buf)
                    if not k:
                        return
                    yield memoryview(buf)[:k]
            return self._write_file(path, gen_chunks())
        finally:
            f.close()

    def _stage_parts(self, eid, parts, ops, written):
        """Write new part files; add their PART ops. parts: {name: chunks, None (remove)
        or a PartWriter (its file is written already)}."""
        for name in parts:
            _check_name(name)
        for name in sorted(parts):
            if parts[name] is None:
                ops.extend(X.op_part(eid, name, 0, 0))
                continue
            if isinstance(parts[name], PartWriter):  # written already: only named here
                w = parts[name]
                written.append(w.path)
                ops.extend(X.op_part(eid, name, w.gen, w.size))
                continue
            gen, path = self._new_file(eid, name)
            written.append(path)
            ops.extend(X.op_part(eid, name, gen, self._write_file(path, parts[name])))

    def _commit_staged(self, stage, too_large):
        """Commit the record stage(written) builds; if it did not land, remove the part
        files staged for it (their paths are what stage appended to written)."""
        written = []
        try:
            ops = stage(written)
            if len(ops) > X.MAX_PAYLOAD:
                raise InputError(too_large)
            self._commit(ops)
        except Exception:
            if self._st is not None:  # else the record may have landed: open() decides
                for p in written:
                    remove_quiet(self.fs, p)
            raise

    def _run(self, what, eid, entries, parts=None, dels=()):
        """One transaction: stage part files, commit one record, drop replaced files."""
        try:
            self._ensure()
            old = []
            d = self._st.parts.get(eid) if eid else None
            if parts and d:
                for name in parts:
                    if name in d:
                        old.append(self._pname(eid, name, d[name][0]))
            for x in dels:
                for name, (gen, size) in self._st.parts.get(x, {}).items():
                    old.append(self._pname(x, name, gen))
            ops = bytearray()
            for e in entries:
                ops.extend(X.op_put(X.encode(e)))

            def stage(written):
                if parts:
                    self._stage_parts(eid, parts, ops, written)
                for x in dels:
                    ops.extend(X.op_del(x))
                return ops

            self._commit_staged(stage, "transaction too large")
            for name in old:  # replaced files: garbage now; orphans if the cut comes here
                remove_quiet(self.fs, self._path("p/" + name))
        except OSError as e:
            raise self._fail(what, e)

    def _check_parent(self, e):
        p = X.decode(self._raw(e.parent))
        if p.type in (E.TYPE_ATTACHMENT,):
            raise InputError("an attachment cannot have children")

    # ---- changes ----
    def create(self, e, parts=None):
        """Add entry e under e.parent (new id unless e.id set); parts written first. -> id"""
        self._ensure()
        self._check_parent(e)
        if e.id:
            if e.id in self._st.entries:
                raise InputError("entry %d exists" % e.id)
            eid = e.id
        else:
            eid = self._st.next_id
        e2 = e.copy(id=eid)
        self._run("create entry", eid, [e2], parts)
        e.id = eid
        return eid

    def update(self, e, parts=None, purge=None):
        """Replace entry e.id (and optionally parts, atomically with it; and purge entry
        ``purge`` with its children in the same record: one replaces the other)."""
        self._ensure()
        old = X.decode(self._raw(e.id))
        if old.parent != e.parent:  # move and change in one atomic record
            self._check_move(e.id, e.parent)
            self._check_parent(e)
        dels = ()
        if purge is not None:
            self._raw(purge)
            self._check_move(purge, E.DELETED)
            dels = self._subtree(purge)
        self._run("update entry %d" % e.id, e.id, [e], parts, dels)

    def write_part(self, eid, name, chunks):
        """Write (replace) one part: after a cut it is wholly old or wholly new."""
        self._ensure()
        self._raw(eid)
        self._run("write part %r of %d" % (name, eid), eid, [], {name: chunks})

    def part_writer(self, eid, name):
        """A PartWriter for part ``name`` of eid: written in pieces, current on commit()."""
        self._ensure()
        self._raw(eid)
        _check_name(name)
        try:
            return PartWriter(self, eid, name)
        except OSError as e:
            raise self._fail("write part %r of %d" % (name, eid), e)

    def remove_part(self, eid, name):
        self._part(eid, name)
        self._run("remove part %r of %d" % (name, eid), eid, [], {name: None})

    def _check_move(self, eid, parent):
        if eid < E.FIRST_FREE_ID and eid not in (E.UNKNOWN_SERVICE,):
            if eid in (E.ROOT, E.LOCAL_SERVICE) or eid in E.STANDARD_FOLDERS:
                raise InputError("standard entry %d cannot move" % eid)
        self._raw(parent)
        if parent in self._subtree(eid):
            raise InputError("cannot move %d into itself" % eid)

    def move(self, eid, parent):
        self._ensure()
        e = X.decode(self._raw(eid))
        self._check_move(eid, parent)
        self._check_parent(E.Entry(parent=parent))
        e.parent = parent
        self._run("move %d" % eid, eid, [e])

    def copy(self, eid, parent):
        """Copy entry eid with its children and parts under parent; -> new id."""
        self._ensure()
        self._raw(parent)
        tree = self._subtree(eid)
        nid = self._st.next_id
        newid = {}
        for i in range(len(tree)):
            newid[tree[i]] = nid + i

        def stage(written):
            ops = bytearray()
            for old in tree:
                e = X.decode(self._raw(old))
                e.id = newid[old]
                e.parent = parent if old == eid else newid[e.parent]
                ops.extend(X.op_put(X.encode(e)))
                for name, (gen, size) in sorted(self._st.parts.get(old, {}).items()):
                    g, path = self._new_file(e.id, name)
                    written.append(path)
                    n = self._copy_file(self._ppath(old, name, gen), path)
                    ops.extend(X.op_part(e.id, name, g, n))
            return ops

        try:
            self._commit_staged(stage, "copy too large")
        except OSError as e:
            raise self._fail("copy %d" % eid, e)
        return nid

    def delete(self, eid):
        """Move to the Deleted folder (Symbian's local delete); purge() removes for good."""
        self.move(eid, E.DELETED)

    def purge(self, eid):
        """Remove eid, its children and their parts for good (one atomic record)."""
        self._ensure()
        self._raw(eid)
        self._check_move(eid, E.DELETED)
        tree = self._subtree(eid)
        if self._degraded:
            # flash full and the index needs a rewrite: free the parts first (a cut
            # here leaves the entries without parts, which recovery accepts)
            for x in tree:
                for name, (gen, size) in self._st.parts.pop(x, {}).items():
                    remove_quiet(self.fs, self._ppath(x, name, gen))
        self._run("purge %d" % eid, 0, [], None, tree)

    def dump(self):
        """The logical content: [(id, encoded entry, ((part, size), ...))] (tests, checks)."""
        self._ensure()
        out = []
        for eid in sorted(self._st.entries):
            d = self._st.parts.get(eid, {})
            out.append((eid, self._st.entries[eid],
                        tuple(sorted((n, d[n][1]) for n in d))))
        return out

"""The read side and the commit machinery of the message store (tree.py).

Opening and recovery (choose the newest sealed index slot, drop a torn tail,
compact, remove orphan part files), the commit of one index record, compaction,
and every read (get, children, parts). ``store.Store`` adds the changes.
Format: SPEC.md. Example: see tree.py.
"""

from smtpmtm.store import entry as E
from smtpmtm.store import index as X
from smtpmtm.errors import NotFound, store_error
from smtpmtm.store.fsutil import REAL_FS, write_all, remove_quiet


def _standard_tree():
    out = [E.Entry(id=E.ROOT, parent=0, type=E.TYPE_ROOT),
           E.Entry(id=E.LOCAL_SERVICE, parent=E.ROOT, type=E.TYPE_SERVICE, mtm=E.MTM_LOCAL,
                   details="Local")]
    names = ("Inbox", "Outbox", "Drafts", "Sent", "Deleted")
    for i in range(5):
        f = E.FLAG_STANDARD_FOLDER | E.PRIORITY_MEDIUM
        if E.STANDARD_FOLDERS[i] == E.DELETED:
            f |= E.FLAG_INVISIBLE
        out.append(E.Entry(id=E.STANDARD_FOLDERS[i], parent=E.LOCAL_SERVICE, type=E.TYPE_FOLDER,
                           mtm=E.MTM_LOCAL, service=E.LOCAL_SERVICE, details=names[i], flags=f))
    return out


class StoreBase:
    """Opening, recovery, the commit record, compaction and reading (see tree.py).

    One Store object per directory: two objects over the same files would each
    append and compact from their own view and lose each other's records.
    """

    # compact automatically when the log is this much bigger than a snapshot
    COMPACT_RATIO = 3
    COMPACT_MIN = 8192

    def __init__(self, root, fs=None):
        self.root = root.rstrip("/") or "/"
        self.fs = fs or REAL_FS
        self.report = {}
        self._st = None
        self._degraded = False
        self._slot = 0
        self._gen = 0
        self._size = 0
        self._open()

    # ---- opening and recovery ----
    def _path(self, name):
        return self.root + "/" + name

    def _open(self):
        """Open or create; never raises for corrupt content (only for I/O errors)."""
        fs = self.fs
        rep = {"slot": None, "generation": None, "records": 0, "dropped_bytes": 0,
               "rejected": [], "orphans_removed": 0, "compacted": False, "created": False}
        try:
            for d in (self.root, self._path("p")):
                if not fs.exists(d):
                    fs.mkdir(d)
            found = []
            for i in range(2):
                gen, st, good, size = X.scan(fs, self._path(X.SLOTS[i]))
                if gen is None and not st.records:
                    if size:
                        rep["rejected"].append(X.SLOTS[i] + ": unreadable")
                    continue
                bad = gen is None or (st.seal_gen is not None and st.seal_gen != gen)
                if bad:
                    rep["rejected"].append(X.SLOTS[i] + ": bad header")
                    gen = st.seal_gen or 0
                found.append((st.sealed, gen, st.records, i, st, good, size, bad))
            found.sort(key=lambda t: (t[0], t[1], t[2]))
            fix = False
            if found:
                sealed, gen, nrec, i, st, good, size, bad = found[-1]
                for t in found[:-1]:  # an older sealed slot is the previous snapshot: normal
                    if not t[0]:
                        rep["rejected"].append("%s: not chosen (generation %d, unsealed)" % (
                            X.SLOTS[t[3]], t[1]))
                if not sealed:
                    rep["rejected"].append(X.SLOTS[i] + ": no complete snapshot, salvaged")
                rep.update(slot=X.SLOTS[i], generation=gen, records=st.records,
                           dropped_bytes=size - good)
                self._gen_max = max(t[1] for t in found)
                self._slot, self._gen, self._size = i, gen, good
                fix = size != good or not sealed or bad
            else:
                st = X.State()
                self._slot, self._gen, self._gen_max = 1, 0, 0
                rep["created"] = True
            for e in _standard_tree():  # a salvaged or new index gets any missing ones
                if e.id not in st.entries:
                    st.entries[e.id] = X.encode(e)
                    fix = True
            self._st = st
            listing = self.fs.listdir(self._path("p"))  # once: for missing parts and orphans
            gone = self._drop_missing_parts(listing)
            if gone:  # a log cut at a record boundary after a purge: nothing else shows it
                rep["parts_missing"] = gone
                fix = True
            if fix:
                if not rep["created"]:
                    rep["parts_missing"] = gone + self._check_parts()
                try:
                    self._compact()
                    rep["compacted"] = not rep["created"]
                except OSError as e:
                    if rep["created"] or X.errno_of(e) != X.ENOSPC:
                        raise
                    # flash full and the index needs a rewrite: open for reading; the
                    # next change retries the rewrite first (purge frees space first)
                    self._degraded = True
                    rep["degraded"] = "index not rewritten: no space (%s)" % e
            rep["orphans_removed"] = self._remove_orphans(listing)
        except OSError as e:
            self._st = None
            raise store_error("opening store " + self.root, e)
        self.report = rep

    def _drop_missing_parts(self, listing):
        """Forget parts the index names whose file is not in listing (the p/ folder).

        The listing open() makes anyway, so every open can afford it; sizes are
        only checked (by _check_parts) when the index itself needed repair.
        """
        present = {}
        for name in listing:
            present[name] = 1
        gone = []
        for eid in list(self._st.parts):
            d = self._st.parts[eid]
            for name in list(d):
                if self._pname(eid, name, d[name][0]) not in present:
                    del d[name]
                    gone.append("%x/%s" % (eid, name))
            if not d:
                del self._st.parts[eid]
        return gone

    def _check_parts(self):
        """After damage only: forget parts whose file is gone or has the wrong size."""
        bad = []
        for eid in list(self._st.parts):
            d = self._st.parts[eid]
            for name in list(d):
                gen, size = d[name]
                try:
                    ok = self.fs.size(self._ppath(eid, name, gen)) == size
                except OSError as e:
                    if X.errno_of(e) != X.ENOENT:
                        raise
                    ok = False
                if not ok:
                    del d[name]
                    bad.append("%x/%s" % (eid, name))
            if not d:
                del self._st.parts[eid]
        return bad

    def _remove_orphans(self, listing):
        keep = {}
        for eid, d in self._st.parts.items():
            for name, (gen, size) in d.items():
                keep[self._pname(eid, name, gen)] = 1
        n = 0
        for name in listing:
            if name not in keep:
                self.fs.remove(self._path("p/" + name))
                n += 1
        return n

    def _ensure(self):
        if self._st is None:  # a failed write left memory possibly behind the disk
            self._open()

    def _fail(self, what, exc):
        return store_error(what, exc)

    # ---- commit: the one write that makes a change real ----
    def _commit(self, ops):
        if self._degraded:  # never append after a damaged tail: rewrite first
            self._compact()
        rec = X.record(ops)
        path = self._path(X.SLOTS[self._slot])
        try:
            f = self.fs.open(path, "ab")
            try:
                write_all(f, rec)
            finally:
                f.close()
        except OSError:
            self._st = None  # unknown whether the record landed: re-read at next use
            raise
        X.apply(self._st, X.parse_payload(ops))
        self._size += len(rec)
        if self._size > self.COMPACT_MIN and self._size > self.COMPACT_RATIO * self._snap_est():
            try:
                self._compact()
            except OSError:
                self._st = None

    def _snap_est(self):
        n = 32
        for b in self._st.entries.values():
            n += len(b) + 3
        return n

    def _compact(self):
        """Write a sealed snapshot into the other slot (generation + 1)."""
        slot = 1 - self._slot
        gen = max(self._gen, self._gen_max) + 1
        path = self._path(X.SLOTS[slot])
        size = X.HEADER_SIZE
        try:
            f = self.fs.open(path, "wb")
            try:
                write_all(f, X.header(gen))
                for rec in X.snapshot_records(self._st, gen):
                    write_all(f, rec)
                    size += len(rec)
            finally:
                f.close()
        except OSError:
            remove_quiet(self.fs, path)  # never the current slot
            raise
        self._slot, self._gen, self._gen_max, self._size = slot, gen, gen, size
        self._degraded = False

    def compact(self):
        """Rewrite the index as a fresh snapshot (safe against power cuts)."""
        try:
            self._ensure()
            self._compact()
        except OSError as e:
            raise self._fail("compact", e)

    # ---- reading ----
    def _raw(self, eid):
        b = self._st.entries.get(eid)
        if b is None:
            raise NotFound("no entry %d" % eid)  # ids are shown and typed as decimal ints
        return b

    def get(self, eid):
        try:
            self._ensure()
        except OSError as e:
            raise self._fail("reload", e)
        return X.decode(self._raw(eid))

    def exists(self, eid):
        self._ensure()
        return eid in self._st.entries

    def children(self, parent, skip_in_preparation=False):
        """Child entries of parent, by id. skip_in_preparation hides unfinished messages."""
        self._ensure()
        self._raw(parent)
        out = []
        for eid in sorted(self._st.entries):
            b = self._st.entries[eid]
            if eid != parent and X.peek_parent(b) == parent:
                e = X.decode(b)
                if not (skip_in_preparation and e.flags & E.FLAG_IN_PREPARATION):
                    out.append(e)
        return out

    def ids(self):
        self._ensure()
        return sorted(self._st.entries)

    def _subtree(self, eid):
        out = [eid]
        i = 0
        while i < len(out):
            p = out[i]
            for cid, b in self._st.entries.items():
                if cid != p and X.peek_parent(b) == p:
                    out.append(cid)
            i += 1
        return out

    # ---- parts ----
    def _pname(self, eid, name, gen):
        return "%x_%x_%s" % (eid, gen, name)

    def _ppath(self, eid, name, gen):
        return self._path("p/" + self._pname(eid, name, gen))

    def parts(self, eid):
        self._ensure()
        self._raw(eid)
        return sorted(self._st.parts.get(eid, {}))

    def _part(self, eid, name):
        self._ensure()
        d = self._st.parts.get(eid)
        if not d or name not in d:
            raise NotFound("entry %d has no part %r" % (eid, name))
        return d[name]

    def part_path(self, eid, name):
        return self._ppath(eid, name, self._part(eid, name)[0])

    def part_size(self, eid, name):
        return self._part(eid, name)[1]

    def open_part(self, eid, name):
        p = self.part_path(eid, name)
        try:
            return self.fs.open(p, "rb")
        except OSError as e:
            raise self._fail("open part %r of %d" % (name, eid), e)


"""Attachments and bodies of the client MTM's context message (mixin of Client).

After CSmtpClientMtm::AddAttachmentL (copy), AddLinkedAttachmentL (no copy),
CreateAttachmentL (a writable handle), AddEntryAsAttachmentL (a stored
message as message/rfc822, RFC 2046 section 5.2.1) and the attachment
manager's remove. Everything is streamed in 512-byte chunks: a 10 MB file is
copied through one small buffer.

``create_attachment(name)`` returns a writer (``write(data)``, ``close()``,
``cancel()``, usable with ``with``) over the store's PartWriter: the data goes
to flash once, straight into the part file, and the attachment appears on
close; after a power cut before close the file is removed at the next open of
the store. Bodies: ``set_body_text`` / ``set_body_html`` take a
str, or ``path=`` a file, or ``reader=`` any object with ``read(n)``.

Example::

    c.add_attachment("/flash/pic.jpg")
    with c.create_attachment("log.csv", "text/csv") as w:
        for row in rows:
            w.write(row)
    c.save_message()
"""

from ..store import headpart as M
from ..errors import InputError, file_why, store_error

_CHUNK = 512


def _basename(path):
    return path[path.rfind("/") + 1:]


def _read_chunks(f, path):
    buf = bytearray(_CHUNK)  # one buffer reused for the whole file
    try:
        while True:
            try:
                n = f.readinto(buf)
            except OSError as e:  # opened, yet unreadable: a directory on the unix port
                raise _unreadable(path, e)
            if not n:
                return
            yield bytes(buf[:n])
    finally:
        f.close()


def _reader_chunks(r):
    while True:
        b = r.read(_CHUNK)
        if not b:
            return
        yield b.encode() if isinstance(b, str) else b


class AttachmentWriter:
    """Writes a new attachment in pieces; the attachment exists after close()."""

    def __init__(self, client, name, content_type, cid):
        self.client = client
        self.name = name
        self.content_type = content_type
        self.cid = cid
        self.part = client._next_part()
        self._w = client.store.part_writer(client._id, self.part)
        client._writing.append(self.part)  # _next_part() skips it until close/cancel

    @property
    def size(self):
        return self._w.size

    def write(self, data):
        w = self._w
        if w.closed:
            raise InputError("attachment writer is closed")
        try:
            return w.write(data.encode() if isinstance(data, str) else data)
        except Exception:
            self._done()  # the PartWriter dropped the file
            raise

    def close(self):
        if self._w.closed:
            return
        try:
            self._w.commit()
        finally:
            self._done()
        c = self.client
        c._atts.append(c._file_att(self.part, self.name, self.content_type, self.cid,
                                   self._w.size))

    def cancel(self):
        """CancelAttachmentOperation: drop what was written."""
        self._w.abort()
        self._done()

    def _done(self):
        if self.part in self.client._writing:
            self.client._writing.remove(self.part)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.cancel()
        return False


class AttachMixin:
    """Bodies and attachments of the context message (part of Client)."""

    # -- bodies --------------------------------------------------------------
    def _set_body(self, part, text, path, reader, sig):
        self._need(True)
        if text is not None:
            chunks = [text.encode() if isinstance(text, str) else bytes(text)]
        elif path is not None:
            chunks = _read_chunks(self._open_src(path), path)
        elif reader is not None:
            chunks = _reader_chunks(reader)
        else:
            chunks = []
        if sig:
            chunks = _then(chunks, sig.encode())
        self.store.write_part(self._id, part, chunks)
        self._hdr[part] = part

    def set_body_text(self, text=None, path=None, reader=None, signature=True):
        """The plain body (UTF-8). The account's signature is appended if it asks."""
        s = self.settings_for(self._service())
        self._set_body(M.TEXT, text, path, reader, self._signature(s) if signature else "")

    def set_body_html(self, html=None, path=None, reader=None):
        """The HTML body (UTF-8); sent as multipart/alternative with the plain body."""
        self._set_body(M.HTML, html, path, reader, "")

    def open_body(self, part=M.TEXT):
        """A binary file of the body part (None if there is none)."""
        self._need(True)
        if part not in self.store.parts(self._id):
            return None
        return self.store.open_part(self._id, part)

    def _body_str(self, part):
        f = self.open_body(part)
        if f is None:
            return None
        try:
            try:
                return f.read().decode()  # convenience for small bodies; open_body for big ones
            finally:
                f.close()
        except OSError as e:
            raise store_error("read body", e)

    @property
    def body_text(self):
        return self._body_str(M.TEXT)

    @body_text.setter
    def body_text(self, value):
        self.set_body_text(value)

    @property
    def body_html(self):
        return self._body_str(M.HTML)

    @body_html.setter
    def body_html(self, value):
        self.set_body_html(value)

    # -- attachments ------------------------------------------------------------
    def _open_src(self, path):
        try:
            return self.store.fs.open(path, "rb")
        except OSError as e:
            raise _unreadable(path, e)

    def _next_part(self):
        have = self.store.parts(self._id)
        n = 1
        while ("a%d" % n) in have or ("a%d" % n) in self._writing \
                or any(a.get("part") == "a%d" % n for a in self._atts):
            n += 1
        return "a%d" % n

    def _add_part_att(self, chunks, name, ctype, cid):
        self._need(True)
        p = self._next_part()
        self.store.write_part(self._id, p, chunks)
        self._atts.append(self._file_att(p, name, ctype, cid, self.store.part_size(self._id, p)))
        return len(self._atts) - 1

    def _file_att(self, part, name, ctype, cid, size):
        return {"part": part, "kind": M.KIND_FILE, "name": M.clean(name, "attachment name"),
                "type": ctype or _guess_type(name), "path": None, "entry": None,
                "cid": cid, "size": size}

    def add_attachment(self, path, name=None, content_type=None, cid=None):
        """AddAttachmentL: copy the file into the store in chunks. -> index"""
        name = name or _basename(path)
        M.clean(name, "attachment name")
        return self._add_part_att(_read_chunks(self._open_src(path), path), name, content_type,
                                  cid)

    def add_linked_attachment(self, path, name=None, content_type=None, cid=None):
        """AddLinkedAttachmentL: record the path only; the file is read at send time."""
        self._need(True)
        try:
            size = self.store.fs.size(path)
        except OSError as e:
            raise _unreadable(path, e)
        chunks = _read_chunks(self._open_src(path), path)  # readable now, not a directory
        try:
            next(chunks)
        except StopIteration:  # empty
            pass
        chunks.close()
        name = name or _basename(path)
        self._atts.append({"part": None, "kind": M.KIND_LINKED, "name": M.clean(name, "name"),
                           "type": content_type or _guess_type(name),
                           "path": M.clean(path, "path"), "entry": None, "cid": cid,
                           "size": size})
        return len(self._atts) - 1

    def create_attachment(self, name, content_type=None, cid=None):
        """CreateAttachmentL: a writer; the attachment is added when it is closed."""
        self._need(True)
        M.clean(name, "attachment name")
        return AttachmentWriter(self, name, content_type, cid)

    def add_entry_as_attachment(self, msg_id, name=None):
        """AddEntryAsAttachmentL: copy stored message ``msg_id`` under this one."""
        self._need(True)
        if msg_id == self._id:
            raise InputError("a message cannot attach itself")
        child = self.store.copy(msg_id, self._id)
        e = self.store.get(child)
        self._atts.append({"part": None, "kind": M.KIND_MESSAGE,
                           "name": M.clean(name or (e.description or "message") + ".eml", "name"),
                           "type": "message/rfc822", "path": None, "entry": child, "cid": None,
                           "size": e.size})
        return len(self._atts) - 1

    def remove_attachment(self, i):
        """Remove attachment i (out of range: nothing). Its data goes at save."""
        if not (isinstance(i, int) and 0 <= i < len(self._atts)):
            return
        a = self._atts.pop(i)
        if a["part"]:
            self._removed.append(a["part"])
        if a["entry"]:
            self._removed.append(a["entry"])

    def attachments(self):
        """[{part, kind, name, type, path, entry, cid, size}] (copies)."""
        return [dict(a) for a in self._atts]

    def _atts_ok(self):
        have = self.store.parts(self._id)
        for a in self._atts:
            k = a["kind"]
            if k == M.KIND_FILE and a["part"] not in have:
                return False
            if k == M.KIND_LINKED:
                try:
                    self.store.fs.size(a["path"])
                except OSError:
                    return False
            if k == M.KIND_MESSAGE and not self.store.exists(a["entry"]):
                return False
        return True


def _then(chunks, last):
    for c in chunks:
        yield c
    yield last


def _guess_type(name):
    """The MIME type of a file name, loaded when first needed: importing the mime layer
    at boot would hold the whole builder's code in RAM on a board that only queues."""
    from ..mime.filetypes import guess_type

    return guess_type(name)


def _unreadable(path, exc):
    """The InputError for an attachment file that cannot be opened: no such file, a directory,
    or why."""
    return InputError("attachment: cannot read %r (%s)" % (path, file_why(exc)))

"""Attachments and bodies of the client MTM's context message (mixin of Client).

After CSmtpClientMtm::AddAttachmentL (copy), AddLinkedAttachmentL (no copy),
CreateAttachmentL (a writable handle), AddEntryAsAttachmentL (a stored
message as message/rfc822, RFC 2046 section 5.2.1) and the attachment
manager's remove. Everything is streamed in 512-byte chunks: a 10 MB file is
copied through one small buffer.

``create_attachment(name)`` returns a writer (``write(data)``, ``close()``,
usable with ``with``). The store's parts are written from an iterator, so the
writer spools to a temporary file beside the store and hands it to the store
on close (one extra copy on flash; temporaries of a cut are removed at the
next ``Client()``). Bodies: ``set_body_text`` / ``set_body_html`` take a
str, or ``path=`` a file, or ``reader=`` any object with ``read(n)``.

Example::

    c.add_attachment("/flash/pic.jpg")
    with c.create_attachment("log.csv", "text/csv") as w:
        for row in rows:
            w.write(row)
    c.save_message()
"""

from . import message as M
from .errors import InputError, store_error
from .filetypes import guess_type

_CHUNK = 512


def _basename(path):
    return path[path.rfind("/") + 1:]


def _read_chunks(f, close=True):
    buf = bytearray(_CHUNK)  # one buffer reused for the whole file
    try:
        while True:
            n = f.readinto(buf)
            if not n:
                return
            yield bytes(buf[:n])
    finally:
        if close:
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
        self.size = 0
        self.path = "%s/w-%x-%x" % (client.store.root, client.entry_id, client._serial())
        try:
            self._f = client.store.fs.open(self.path, "wb")
        except OSError as e:
            raise store_error("create attachment", e)

    def write(self, data):
        if self._f is None:
            raise InputError("attachment writer is closed")
        if isinstance(data, str):
            data = data.encode()
        try:
            self._f.write(data)
        except OSError as e:
            self.cancel()
            raise store_error("write attachment", e)
        self.size += len(data)
        return len(data)

    def close(self):
        if self._f is None:
            return
        c = self.client
        try:
            self._f.close()
            self._f = None
            c._add_part_att(_read_chunks(c.store.fs.open(self.path, "rb")), self.name,
                            self.content_type, self.cid)
        except OSError as e:
            raise store_error("close attachment", e)
        finally:
            self._f = None
            try:
                c.store.fs.remove(self.path)
            except OSError:
                pass  # a leftover temporary is removed by the next Client()

    def cancel(self):
        """CancelAttachmentOperation: drop what was written."""
        if self._f is not None:
            f = self._f
            self._f = None
            try:
                f.close()
                self.client.store.fs.remove(self.path)
            except OSError:
                pass  # removed by the next Client()

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

    def _clean_writers(self):
        st = self.store
        try:
            for n in st.fs.listdir(st.root):
                if n.startswith("w-"):
                    st.fs.remove(st.root + "/" + n)
        except OSError:
            pass

    def _serial(self):
        n = getattr(self, "_wserial", 0) + 1
        self._wserial = n
        return n

    # -- bodies --------------------------------------------------------------
    def _set_body(self, part, text, path, reader, sig):
        self._need(True)
        if text is not None:
            chunks = [text.encode() if isinstance(text, str) else bytes(text)]
        elif path is not None:
            chunks = _read_chunks(self._open_src(path))
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
        except OSError:
            raise InputError("attachment: cannot read %r" % path)

    def _next_part(self):
        have = self.store.parts(self._id)
        n = 1
        while ("a%d" % n) in have or any(a.get("part") == "a%d" % n for a in self._atts):
            n += 1
        return "a%d" % n

    def _add_part_att(self, chunks, name, ctype, cid):
        self._need(True)
        p = self._next_part()
        self.store.write_part(self._id, p, chunks)
        a = {"part": p, "kind": M.KIND_FILE, "name": M.clean(name, "attachment name"),
             "type": ctype or guess_type(name), "path": None, "entry": None,
             "cid": cid, "size": self.store.part_size(self._id, p)}
        self._atts.append(a)
        return len(self._atts) - 1

    def add_attachment(self, path, name=None, content_type=None, cid=None):
        """AddAttachmentL: copy the file into the store in chunks. -> index"""
        name = name or _basename(path)
        M.clean(name, "attachment name")
        return self._add_part_att(_read_chunks(self._open_src(path)), name, content_type, cid)

    def add_linked_attachment(self, path, name=None, content_type=None, cid=None):
        """AddLinkedAttachmentL: record the path only; the file is read at send time."""
        self._need(True)
        try:
            size = self.store.fs.size(path)
        except OSError:
            raise InputError("attachment: cannot read %r" % path)
        name = name or _basename(path)
        self._atts.append({"part": None, "kind": M.KIND_LINKED, "name": M.clean(name, "name"),
                           "type": content_type or guess_type(name),
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

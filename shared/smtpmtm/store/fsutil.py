"""Filesystem access for the store: a swappable ``fs`` object, CRC-32, and
power-cut safe small files (``atomic_write`` / ``read_file``).

Every filesystem call the store makes goes through an ``Fs`` object, so tests
can inject failures (EIO, ENOSPC) at any call. ``OSError`` becomes
``StoreError`` (or ``StoreFull`` for ENOSPC) naming what failed.

``atomic_write(path, chunks)`` never relies on rename (FAT's rename deletes
the target first). It keeps two slot files ``path.a`` and ``path.b``; each
ends in a 16-byte trailer (SPEC.md section 6)::

    "SAW1" | sequence u32 LE | data length u32 LE | CRC-32 of data u32 LE

A write goes to the slot that does NOT hold the newest valid version, so a
cut at any byte leaves the previous version intact; ``read_file`` returns the
valid slot with the highest sequence number (or raises NotFound).

Example::

    from smtpmtm.store import fsutil
    fsutil.atomic_write("/flash/acct.json", [b'{"port": 465}'])
    data = fsutil.read_file("/flash/acct.json")
"""

import os

from smtpmtm.errors import NotFound, ENOENT, ENOSPC, errno_of, store_error  # noqa: F401  (re-exported)

try:
    from binascii import crc32 as _crc32
except ImportError:  # ports built without binascii.crc32
    _crc32 = None

_CHUNK = 512


def crc32(data, crc=0):
    """CRC-32 (IEEE 802.3, reflected poly 0xEDB88320, init/xorout 0xFFFFFFFF), as zlib."""
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def u32(n):
    """n as 4 bytes, little-endian (the low 32 bits)."""
    return (n & 0xFFFFFFFF).to_bytes(4, "little")


def get_u32(b, pos=0):
    """The little-endian u32 at b[pos:pos + 4]."""
    return int.from_bytes(b[pos:pos + 4], "little")


class Fs:
    """The real filesystem (os + open). Tests subclass it to inject faults."""

    def open(self, path, mode):
        return open(path, mode)

    def remove(self, path):
        os.remove(path)

    def mkdir(self, path):
        os.mkdir(path)

    def listdir(self, path):
        return os.listdir(path)

    def size(self, path):
        """File size in bytes; OSError if missing."""
        return os.stat(path)[6]

    def exists(self, path):
        try:
            os.stat(path)
            return True
        except OSError as e:
            if errno_of(e) == ENOENT:
                return False
            raise


REAL_FS = Fs()


def iter_chunks(data):
    """Yield bytes-like chunks from bytes/str/memoryview or an iterable of those."""
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        mv = memoryview(data)
        for i in range(0, len(mv), _CHUNK * 8):
            yield mv[i:i + _CHUNK * 8]
        return
    for c in data:
        if isinstance(c, str):
            c = c.encode()
        yield c


def write_all(f, chunk):
    """f.write may write less on some ports: loop until all of chunk is out."""
    mv = memoryview(chunk)
    while len(mv):
        n = f.write(mv)
        if n is None:
            return
        if n <= 0:
            raise OSError(ENOSPC)
        mv = mv[n:]


def remove_quiet(fs, path):
    try:
        fs.remove(path)
    except OSError:
        pass


# ---- atomic small files --------------------------------------------------------

_MAGIC = b"SAW1"


def _slot_info(fs, path):
    """(sequence, length) of a valid slot file, or None. OSError other than ENOENT passes."""
    try:
        size = fs.size(path) - 16
    except OSError as e:
        if errno_of(e) == ENOENT:
            return None
        raise
    if size < 0:
        return None
    f = fs.open(path, "rb")
    try:
        left = size
        crc = 0
        buf = memoryview(bytearray(_CHUNK))
        while left > 0:
            n = f.readinto(buf[:left])
            if not n:
                return None
            crc = crc32(buf[:n], crc)
            left -= n
        t = f.read(16)
    finally:
        f.close()
    if len(t) != 16 or t[:4] != _MAGIC or get_u32(t, 8) != size or get_u32(t, 12) != crc:
        return None
    return get_u32(t, 4), size


def _newest(fs, path):
    """(slot suffix, sequence, length) of the newest valid slot of path, or None."""
    best = None
    for s in (".a", ".b"):
        info = _slot_info(fs, path + s)
        if info is not None and (best is None or info[0] > best[1]):
            best = (s, info[0], info[1])
    return best


def atomic_write(path, chunks, fs=None):
    """Write the file at `path` so that a power cut leaves the old or the new content.

    chunks: bytes/str or an iterable of bytes chunks (never joined in RAM).
    Raises StoreError / StoreFull; the previous version stays readable.
    """
    fs = fs or REAL_FS
    target = None
    try:
        cur = _newest(fs, path)
        target = path + (".b" if cur is not None and cur[0] == ".a" else ".a")
        f = fs.open(target, "wb")
        try:
            crc = 0
            n = 0
            for c in iter_chunks(chunks):
                write_all(f, c)
                crc = crc32(c, crc)
                n += len(c)
            write_all(f, _MAGIC + u32(1 if cur is None else cur[1] + 1) + u32(n) + u32(crc))
        finally:
            f.close()
    except OSError as e:
        if target:  # never the newest slot; a half slot only wastes space
            remove_quiet(fs, target)
        raise store_error("atomic_write " + path, e)


def read_file(path, fs=None):
    """The newest complete content written by atomic_write(path) (bytes); NotFound if none."""
    fs = fs or REAL_FS
    try:
        cur = _newest(fs, path)
        if cur is None:
            raise NotFound("no complete version of " + path)
        f = fs.open(path + cur[0], "rb")
        try:
            return f.read(cur[2])
        finally:
            f.close()
    except OSError as e:
        raise store_error("read_file " + path, e)


def exists_file(path, fs=None):
    try:
        return _newest(fs or REAL_FS, path) is not None
    except OSError as e:
        raise store_error("exists_file " + path, e)


def remove_file(path, fs=None):
    """Remove both slots, older first, so a cut never resurrects an old version."""
    fs = fs or REAL_FS
    try:
        cur = _newest(fs, path)
        for s in (".b", ".a") if cur is not None and cur[0] == ".a" else (".a", ".b"):
            if fs.exists(path + s):
                fs.remove(path + s)
    except OSError as e:
        raise store_error("remove_file " + path, e)

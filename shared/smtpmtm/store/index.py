"""The store's entry index on flash: an append-only log of CRC-32-checked records.

The byte-by-byte format is SPEC.md (beside this file). In short: two
slot files ``index.0`` / ``index.1``; each starts with a 16-byte header
(magic ``SMIX``, version, generation) and holds records
``varint length | payload | CRC-32 LE``. A payload is one transaction: a list
of ops (PUT entry, DEL id, PART id/name/gen/size, SEAL). A compaction writes
a snapshot into the other slot with generation+1 and ends it with a SEAL
record; the newest sealed slot wins at open, so a cut at any point (also on
FAT, where nothing is renamed) loses nothing. Reading stops at the first bad
record; everything before it is kept, and the dropped byte count is reported.

An entry is stored in its compact binary form (``encode``/``decode``:
varints, fields at their default omitted; SPEC.md section 3).

Example::

    from smtpmtm.store import index
    st = index.State()
    rec = index.record(index.op_put(entry_bytes) + index.op_del(0x100001))
    index.apply(st, index.parse_payload(rec[1:-4]))   # (1-byte length here)
"""

from smtpmtm.compat import const
from smtpmtm.store import entry as E
from smtpmtm.store.entry import FIRST_FREE_ID
from smtpmtm.store.fsutil import crc32, u32, get_u32, errno_of, ENOENT, ENOSPC  # noqa: F401

MAGIC = b"SMIX"
VERSION = const(1)
HEADER_SIZE = const(16)
MAX_PAYLOAD = const(16383)  # 2-byte varint at most
OP_PUT = const(1)
OP_DEL = const(2)
OP_PART = const(3)
OP_SEAL = const(4)
SLOTS = ("index.0", "index.1")


# ---- compact binary encoding (SPEC.md section 3) ---------------------------

def put_varint(out, n):
    """Append unsigned LEB128 varint n (>= 0) to bytearray out."""
    if n < 0:
        raise ValueError("negative varint")
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def get_varint(buf, pos):
    """Read a varint at pos; return (value, new_pos). ValueError if truncated/overlong."""
    n = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end or shift > 63:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7


def _zig(n):
    return n * 2 if n >= 0 else -n * 2 - 1


def _unzig(n):
    return n >> 1 if not n & 1 else -((n + 1) >> 1)


def _enc_code(value, table):
    # a known 32-bit UID as its 1-based index, anything else as 0 then the value
    for i in range(len(table)):
        if table[i] == value:
            return i + 1, None
    return 0, value


def encode(e):
    """The compact bytes of entry e (decode(encode(e)) == e)."""
    out = bytearray()
    put_varint(out, e.id)
    put_varint(out, e.parent)
    mask = 0
    bit = 1
    for k in E.INT_FIELDS + ("description", "details"):
        if getattr(e, k) != E.DEFAULTS[k]:
            mask |= bit
        bit <<= 1
    put_varint(out, mask)
    bit = 1
    for k in E.INT_FIELDS:
        if mask & bit:
            v = getattr(e, k)
            if k == "type" or k == "mtm":
                code, raw = _enc_code(v, E.TYPES if k == "type" else E.MTMS)
                put_varint(out, code)
                if raw is not None:
                    put_varint(out, _zig(v))
            elif k == "error" or k == "date" or k == "first_try" or k == "next_try":
                put_varint(out, _zig(v))
            else:
                put_varint(out, v)
        bit <<= 1
    for k in ("description", "details"):
        if mask & bit:
            s = getattr(e, k).encode()
            put_varint(out, len(s))
            out.extend(s)
        bit <<= 1
    return bytes(out)


def decode(buf, pos=0, end=None):
    """Decode an entry from buf[pos:end]; ValueError on malformed input."""
    if end is None:
        end = len(buf)
    mv = memoryview(buf)[:end]
    e = E.Entry()
    e.id, pos = get_varint(mv, pos)
    e.parent, pos = get_varint(mv, pos)
    mask, pos = get_varint(mv, pos)
    if mask >> 15:
        raise ValueError("unknown entry fields")
    bit = 1
    for k in E.INT_FIELDS:
        if mask & bit:
            v, pos = get_varint(mv, pos)
            if k == "type" or k == "mtm":
                table = E.TYPES if k == "type" else E.MTMS
                if v == 0:
                    v, pos = get_varint(mv, pos)
                    v = _unzig(v)
                elif v <= len(table):
                    v = table[v - 1]
                else:
                    raise ValueError("bad uid code")
            elif k == "error" or k == "date" or k == "first_try" or k == "next_try":
                v = _unzig(v)
            setattr(e, k, v)
        bit <<= 1
    for k in ("description", "details"):
        if mask & bit:
            n, pos = get_varint(mv, pos)
            if pos + n > end:
                raise ValueError("truncated string")
            try:
                setattr(e, k, str(bytes(mv[pos:pos + n]), "utf-8"))
            except UnicodeError:
                raise ValueError("bad utf-8")
            pos += n
        bit <<= 1
    if pos != end:
        raise ValueError("trailing bytes in entry")
    return e


def peek_parent(buf):
    """The parent id of an encoded entry without decoding the rest (fast children())."""
    pos = get_varint(buf, 0)[1]
    return get_varint(buf, pos)[0]


# ---- the log ------------------------------------------------------------------------

def header(generation):
    h = MAGIC + bytes((VERSION, 0, 0, 0)) + u32(generation)
    return h + u32(crc32(h))


def parse_header(h):
    """Generation of a valid 16-byte header, else None."""
    if len(h) != HEADER_SIZE or h[:4] != MAGIC or h[4] != VERSION:
        return None
    if get_u32(h, 12) != crc32(memoryview(h)[:12]):
        return None
    return get_u32(h, 8)


def record(payload):
    """One framed record: varint length, payload, CRC-32 (LE) of both."""
    if not 0 < len(payload) <= MAX_PAYLOAD:
        raise ValueError("record payload size %d" % len(payload))
    out = bytearray()
    put_varint(out, len(payload))
    out.extend(payload)
    out.extend(u32(crc32(out)))
    return out


def op_put(entry_bytes):
    out = bytearray((OP_PUT,))
    put_varint(out, len(entry_bytes))
    out.extend(entry_bytes)
    return out


def op_del(eid):
    out = bytearray((OP_DEL,))
    put_varint(out, eid)
    return out


def op_part(eid, name, gen, size):
    """gen 0 removes the part."""
    out = bytearray((OP_PART,))
    put_varint(out, eid)
    put_varint(out, gen)
    put_varint(out, size)
    n = name.encode()
    put_varint(out, len(n))
    out.extend(n)
    return out


def op_seal(count, next_id, next_gen, generation):
    out = bytearray((OP_SEAL,))
    put_varint(out, generation)
    put_varint(out, count)
    put_varint(out, next_id)
    put_varint(out, next_gen)
    return out


def parse_payload(p):
    """A record payload as a list of op tuples; ValueError if malformed."""
    ops = []
    pos = 0
    end = len(p)
    while pos < end:
        op = p[pos]
        pos += 1
        if op == OP_PUT:
            n, pos = get_varint(p, pos)
            if n < 2 or pos + n > end:
                raise ValueError("bad PUT")
            eb = bytes(p[pos:pos + n])
            eid = get_varint(eb, 0)[0]
            ops.append((OP_PUT, eid, eb))
            pos += n
        elif op == OP_DEL:
            eid, pos = get_varint(p, pos)
            ops.append((OP_DEL, eid))
        elif op == OP_PART:
            eid, pos = get_varint(p, pos)
            gen, pos = get_varint(p, pos)
            size, pos = get_varint(p, pos)
            n, pos = get_varint(p, pos)
            if pos + n > end:
                raise ValueError("bad PART")
            name = str(bytes(p[pos:pos + n]), "utf-8")
            pos += n
            ops.append((OP_PART, eid, name, gen, size))
        elif op == OP_SEAL:
            sgen, pos = get_varint(p, pos)
            count, pos = get_varint(p, pos)
            nid, pos = get_varint(p, pos)
            ngen, pos = get_varint(p, pos)
            ops.append((OP_SEAL, count, nid, ngen, sgen))
        else:
            raise ValueError("unknown op %d" % op)
    return ops


class State:
    """What the index says: entries (id -> encoded bytes), parts, counters."""

    def __init__(self):
        self.entries = {}
        self.parts = {}  # id -> {name: (gen, size)}
        self.next_id = FIRST_FREE_ID
        self.next_gen = 1
        self.sealed = False
        self.seal_gen = None
        self.records = 0


def apply(st, ops):
    for op in ops:
        k = op[0]
        if k == OP_PUT:
            st.entries[op[1]] = op[2]
            if op[1] >= st.next_id:
                st.next_id = op[1] + 1
        elif k == OP_DEL:
            st.entries.pop(op[1], None)
            st.parts.pop(op[1], None)
        elif k == OP_PART:
            eid, name, gen = op[1], op[2], op[3]
            if gen:
                d = st.parts.get(eid)
                if d is None:
                    d = st.parts[eid] = {}
                d[name] = (gen, op[4])
                if gen >= st.next_gen:
                    st.next_gen = gen + 1
            else:
                d = st.parts.get(eid)
                if d is not None:
                    d.pop(name, None)
                    if not d:
                        del st.parts[eid]
        elif k == OP_SEAL:
            st.sealed = True
            st.seal_gen = op[4]
            if op[2] > st.next_id:
                st.next_id = op[2]
            if op[3] > st.next_gen:
                st.next_gen = op[3]
    st.records += 1


def scan(fs, path):
    """Read one slot file. Returns (generation or None, State, good_end, size).

    Never raises for corrupt content: reading stops at the first record that is
    truncated, fails its CRC or does not parse; good_end is where it stopped.
    A damaged header does not stop the scan: the records after it are read and
    the generation is taken from the SEAL record (State.seal_gen).
    OSError from the filesystem is passed on.
    """
    st = State()
    try:
        size = fs.size(path)
    except OSError as e:
        if errno_of(e) != ENOENT:
            raise
        return None, st, 0, 0
    f = fs.open(path, "rb")
    try:
        gen = parse_header(f.read(HEADER_SIZE))
        pos = HEADER_SIZE
        while pos < size:
            lb = bytearray()
            n = 0
            while len(lb) < 3:
                b = f.read(1)
                if not b:
                    break
                lb.extend(b)
                if not b[0] & 0x80:
                    break
            try:
                n = get_varint(lb, 0)[0]
            except ValueError:
                break
            if not 0 < n <= MAX_PAYLOAD or pos + len(lb) + n + 4 > size:
                break
            body = f.read(n + 4)
            if len(body) != n + 4:
                break
            if crc32(body[:n], crc32(lb)) != get_u32(body, n):
                break
            try:
                ops = parse_payload(memoryview(body)[:n])
            except (ValueError, UnicodeError, IndexError):
                break
            apply(st, ops)
            pos += len(lb) + n + 4
        if gen is None and not st.records:
            return None, st, 0, size
        return gen, st, pos, size
    finally:
        f.close()


def snapshot_records(st, generation, limit=2048):
    """Yield the records of a snapshot of st (payload <= ~limit bytes each), SEAL last."""
    buf = bytearray()
    count = 0
    for eid in sorted(st.entries):
        op = op_put(st.entries[eid])
        parts = st.parts.get(eid)
        if parts:
            for name in sorted(parts):
                g, s = parts[name]
                op.extend(op_part(eid, name, g, s))
        if buf and len(buf) + len(op) > limit:
            yield record(buf)
            buf = bytearray()
        buf.extend(op)
        count += 1
    if buf:
        yield record(buf)
    yield record(op_seal(count, st.next_id, st.next_gen, generation))

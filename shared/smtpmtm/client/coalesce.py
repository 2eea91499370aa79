"""Coalescing: messages with the same key become one digest message instead of hundreds.

An alarm board that mails the same fault 500 times gets its account locked.
``absorb(client, msg_id, key, hold, now, cooldown)`` is called right after a
message with a coalescing key was queued (the REPL's ``queue(..., key=,
hold=)``; off unless a key is given):

- if an Outbox message of the same account with the same key and the same
  recipients is still waiting (never attempted, not in a running send) and
  was first queued less than ``hold`` seconds ago, or is held back anyway
  (a cool-down), the new message is merged into it and purged: the two are
  now one *digest*;
- else the new message is marked with the key (a part ``coalesce``); if the
  key is cooling down (a message with it went out less than ``cooldown``
  seconds ago, default = ``hold``) it is held (state scheduled, ``next_try`` =
  the end of the cool-down) so the next ones gather into it.

The digest is a normal stored message (exact size, Message-ID and Date fixed
at the first queue, the same on a re-send). Its subject is ``[N] subject``;
its text starts with one line ``N messages "key", first <date>, last <date>``
then a section per message (its subject and time, its text up to
SECTION_BYTES); after MAX_SECTIONS sections the rest are only counted in that
first line. Attachments are kept (copied into the digest) up to
MAX_ATTACHMENTS, then referenced by name and size in the section. Each merge
rewrites the text part streaming (bounded memory) and purges the merged
message in one atomic store record: a power cut leaves either the old digest
and the new message, or the new digest (nothing lost, nothing doubled).

When a message with a key has gone out, ``note_sent(store, ids, now)`` (the
board's App calls it after each send) starts that key's cool-down; the times
are kept in ``<store root>/coalesce`` (fsutil.atomic_write, JSON ``{key:
time}``), the MAX_KEYS newest only. A fresh message with a key starts it too,
provisionally.

Example::

    mid = client.queue()
    mid = absorb(client, mid, "pump1-pressure", hold=600, now=now)   # the digest's id
"""

import json

from ..errors import InputError, NotFound, whole
from ..store import entry as E
from ..store import fsutil
from ..store import headpart as M
from ..syntax import format_date

PART = "coalesce"
SECTION_BYTES = 1024  # of each message's text kept in the digest
MAX_SECTIONS = 20  # messages shown in full; the rest are counted
MAX_ATTACHMENTS = 4  # copied into the digest; the rest are named only
MAX_KEYS = 32  # cool-down times kept; past it the oldest go (see _remember)
_CHUNK = 512
_MERGE_STATES = (E.SEND_WAITING, E.SEND_SCHEDULED, E.SEND_UPON_REQUEST)


def _state_path(store):
    return store.root + "/coalesce"


def _load_times(store):
    try:
        return json.loads(fsutil.read_file(_state_path(store), getattr(store, "fs", None)).decode())
    except NotFound:
        return {}


def _remember(times, key, now):
    """times[key] = now, keeping the MAX_KEYS newest: a board that names a key per event must
    not grow this file (read whole into RAM at each queue with a key) for ever. A key dropped
    loses what is left of its cool-down, so its next message goes at once instead of waiting;
    it was the oldest of more than MAX_KEYS keys that went out."""
    times[key] = int(now)
    while len(times) > MAX_KEYS:
        oldest = None
        for k in times:
            if k != key and (oldest is None or times[k] < times[oldest]):
                oldest = k
        del times[oldest]


def _save_times(store, times):
    fsutil.atomic_write(_state_path(store), json.dumps(times).encode(), getattr(store, "fs", None))


def info(store, msg_id):
    """The coalescing record of a message ({"key", "n", "first", "last", "shown"}) or None."""
    if PART not in store.parts(msg_id):
        return None
    f = store.open_part(msg_id, PART)
    try:
        return json.loads(f.read(1024).decode())
    finally:
        f.close()


def _rcpts(h):
    return sorted((k, a.lower()) for k in ("to", "cc", "bcc") for (_, a) in h[k])


def _when(t):
    return format_date(t)


def _find(store, service, key, rcpts, hold, now, skip):
    for e in store.children(E.OUTBOX):
        if e.id == skip or e.service != service or e.type != E.TYPE_MESSAGE:
            continue
        if e.sending_state not in _MERGE_STATES or e.attempts or e.flag(E.FLAG_CONNECTED):
            continue
        d = info(store, e.id)
        if d is None or d["key"] != key:
            continue
        held = e.sending_state == E.SEND_SCHEDULED and e.next_try > now
        if (now - d["first"] < hold or held) and _rcpts(M.read_header(store, e.id)) == rcpts:
            return e, d
    return None, None


def _copy(store, msg_id, part, limit=None):
    """The chunks of a part (at most ``limit`` bytes), read a piece at a time."""
    f = store.open_part(msg_id, part)
    try:
        left = limit
        while left is None or left > 0:
            b = f.read(_CHUNK if left is None else min(_CHUNK, left))
            if not b:
                break
            if left is not None:
                left -= len(b)
            yield b
    finally:
        f.close()


def _section(store, msg_id, h, no, when, notes):
    yield ("\n--- %d: %s, %s\n" % (no, h["subject"] or "(no subject)", _when(when))).encode()
    if h.get(M.TEXT):
        size = store.part_size(msg_id, h[M.TEXT])
        yield from _copy(store, msg_id, h[M.TEXT], SECTION_BYTES)
        if size > SECTION_BYTES:
            yield ("\n[... %d more bytes not kept]" % (size - SECTION_BYTES)).encode()
    for n in notes:
        yield ("\n[attachment %s not kept]" % n).encode()
    yield b"\n"


def _old_sections(store, msg_id, h, n, first):
    """The digest's text after its first line, or (first merge) the first message as section 1."""
    if n == 1:
        yield from _section(store, msg_id, h, 1, first, ())
        return
    f = store.open_part(msg_id, h[M.TEXT])
    try:
        while True:  # skip the summary line, a piece at a time
            b = f.read(1)
            if not b or b == b"\n":
                break
        while True:
            b = f.read(_CHUNK)
            if not b:
                break
            yield b
    finally:
        f.close()


def _text(store, did, dh, n, shown, key, first, new_id, nh, now, notes):
    """The digest's new text (a generator: it runs while the store writes, so it is given
    plain values, never the record being updated)."""
    yield ('%d messages "%s", first %s, last %s%s\n' % (
        n + 1, key, _when(first), _when(now),
        "" if shown + 1 <= MAX_SECTIONS else " (%d shown)" % MAX_SECTIONS)).encode()
    yield from _old_sections(store, did, dh, n, first)
    if shown < MAX_SECTIONS:
        yield from _section(store, new_id, nh, n + 1, now, notes)


_RANK = {"high": 2, "low": 0}  # a header's priority; normal (None) is 1


def _merge(client, de, d, new_id, now):
    st = client.store
    did = de.id
    dh = M.read_header(st, did)
    nh = M.read_header(st, new_id)
    if d["n"] == 1:
        d["subject"] = dh["subject"]
    parts = {}
    notes = []
    kept = len(dh["attachments"])
    have = st.parts(did)
    for a in nh["attachments"]:
        label = "%s (%s B)" % (a.get("name") or a.get("path") or "?", a.get("size"))
        if a.get("kind") == M.KIND_MESSAGE or kept >= MAX_ATTACHMENTS:
            notes.append(label)
            continue
        a = dict(a)
        if a.get("kind") == M.KIND_FILE:
            n = 1
            while ("a%d" % n) in have or ("a%d" % n) in parts:
                n += 1
            parts["a%d" % n] = _copy(st, new_id, a["part"])
            a["part"] = "a%d" % n
        dh["attachments"].append(a)
        kept += 1
    parts[M.TEXT] = _text(st, did, dict(dh), d["n"], d["shown"], d["key"], d["first"], new_id, nh,
                          now, notes)
    dh[M.TEXT] = M.TEXT
    if dh.get(M.HTML):  # the digest is plain text: one message's HTML would mislead
        parts[M.HTML] = None
        dh[M.HTML] = None
    if _RANK.get(nh["priority"], 1) > _RANK.get(dh["priority"], 1):  # as urgent as its most urgent
        dh["priority"] = nh["priority"]
    d["n"] += 1
    d["last"] = now
    d["shown"] = min(d["shown"] + 1, MAX_SECTIONS)
    dh["subject"] = "[%d] %s" % (d["n"], d["subject"])
    parts[M.HEADER] = M.header_chunks(dh)
    parts[PART] = json.dumps(d).encode()
    # one record: the new text, attachments, header and count, and the merged message gone
    st.update(st.get(did), parts, purge=new_id)
    client.switch(did)
    client.load_message()  # size, subject and flags of the entry from the new parts


def check(key, hold, cooldown=None):
    """Raise InputError naming a bad key, hold or cooldown."""
    if not isinstance(key, str) or not key or len(key) > 64 or "\n" in key or '"' in key:
        raise InputError("key: 1..64 characters, no quote or newline, not %r" % (key,))
    for name, v in (("hold", hold), ("cooldown", cooldown)):
        if v is not None:
            whole(name, v, unit="whole seconds")


def absorb(client, msg_id, key, hold, now, cooldown=None):
    """Merge queued message ``msg_id`` into a waiting digest with ``key``, or mark it as
    the first of one (held while the key cools down). Returns the id that now holds it."""
    check(key, hold, cooldown)
    if cooldown is None:
        cooldown = hold
    now = int(now)
    st = client.store
    e = st.get(msg_id)
    rcpts = _rcpts(M.read_header(st, msg_id))
    de, d = _find(st, e.service, key, rcpts, hold, now, msg_id)
    if de is not None:
        _merge(client, de, d, msg_id, now)
        return de.id
    times = _load_times(st)
    last = times.get(key)
    if last is not None and now < last + cooldown:  # cooling down: wait, gather the next ones
        e.sending_state = E.SEND_SCHEDULED
        e.next_try = last + cooldown
    else:
        _remember(times, key, now)  # provisional: note_sent() moves it to when it went out
        _save_times(st, times)
    d = {"key": key, "n": 1, "first": now, "last": now, "shown": 1}
    st.update(e, {PART: json.dumps(d).encode()})
    return msg_id


def note_sent(store, ids, now):
    """Start the cool-down of each key among the messages ``ids`` that went out."""
    times = None
    for i in ids:
        try:
            d = info(store, i)
        except NotFound:
            continue
        if d is None:
            continue
        if times is None:
            times = _load_times(store)
        _remember(times, d["key"], now)
    if times is not None:
        _save_times(store, times)

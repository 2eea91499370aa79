"""Property tests (hypothesis) of the entry encoding and the index log.

Host-only because hypothesis runs on CPython; the same properties are checked
with a seeded generator on both interpreters in tests/core/test_entry.py and
test_index.py.
"""

import os
import sys
import tempfile

from hypothesis import given, settings, strategies as s, HealthCheck

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "shared"))

from smtpmtm.store import entry as E
from smtpmtm.store import index as X
from smtpmtm.store import fsutil  # noqa: E402
from smtpmtm.store.tree import Store  # noqa: E402

u32 = s.integers(0, 0xFFFFFFFF)
i64 = s.integers(-(1 << 40), 1 << 40)
text = s.text(max_size=40)

entries = s.builds(
    E.Entry, id=s.integers(0, 1 << 31), parent=s.integers(0, 1 << 31), service=u32,
    related=u32, type=s.one_of(s.sampled_from(E.TYPES), s.integers(-(1 << 33), 1 << 33)),
    mtm=s.one_of(s.sampled_from(E.MTMS), s.integers(-(1 << 33), 1 << 33)),
    date=i64, size=s.integers(0, 1 << 40), error=s.integers(-100, 100), flags=u32,
    sending_state=s.integers(0, 10), email_flags=u32, attempts=s.integers(0, 1000),
    first_try=i64, next_try=i64, description=text, details=text)


@given(entries)
def test_decode_encode_round_trip(e):
    b = X.encode(e)
    assert X.decode(b) == e
    assert X.peek_parent(b) == e.parent


@given(entries, s.binary(max_size=8))
def test_decode_never_accepts_a_damaged_encoding_silently(e, junk):
    b = X.encode(e)
    for n in range(len(b)):
        try:
            d = X.decode(b[:n])
        except ValueError:
            continue
        raise AssertionError("truncated encoding accepted: %r" % d)
    if junk:
        try:
            X.decode(b + junk)
            raise AssertionError("trailing bytes accepted")
        except ValueError:
            pass


ops = s.lists(s.tuples(s.sampled_from(["create", "move", "purge", "part", "update"]),
                       s.integers(0, 50), s.binary(max_size=300)), min_size=1, max_size=12)


def _build(tmp, plan):
    st = Store(tmp)
    slot = os.path.join(tmp, X.SLOTS[st._slot])
    hist = [(os.path.getsize(slot), st.dump())]
    made = []
    for kind, k, data in plan:
        if kind == "create" or not made:
            made.append(st.create(E.Entry(parent=E.DRAFTS, size=k), parts={"body": data}))
        elif kind == "move":
            st.move(made[k % len(made)], E.OUTBOX)
        elif kind == "purge":
            st.purge(made.pop(k % len(made)))
        elif kind == "part":
            st.write_part(made[k % len(made)], "att", data)
        else:
            e = st.get(made[k % len(made)])
            e.description = data.decode("latin-1")
            st.update(e)
        if X.SLOTS[st._slot] != os.path.basename(slot):
            break  # an automatic compaction switched slots: stop the history here
        hist.append((os.path.getsize(slot), st.dump()))
    return open(slot, "rb").read(), hist


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, s.data())
def test_log_truncated_or_corrupted_anywhere_keeps_every_complete_record(plan, data):
    with tempfile.TemporaryDirectory() as tmp:
        log, hist = _build(os.path.join(tmp, "src"), plan)
        cut = data.draw(s.integers(0, len(log)))
        flip = data.draw(s.one_of(s.none(), s.integers(0, max(0, len(log) - 1))))
        img = bytearray(log[:cut])
        if flip is not None and flip < len(img):
            img[flip] ^= data.draw(s.integers(1, 255))
        dst = os.path.join(tmp, "dst")
        os.mkdir(dst)
        os.mkdir(os.path.join(dst, "p"))
        for name in os.listdir(os.path.join(tmp, "src", "p")):
            with open(os.path.join(tmp, "src", "p", name), "rb") as f, \
                    open(os.path.join(dst, "p", name), "wb") as g:
                g.write(f.read())
        with open(os.path.join(dst, "index.0"), "wb") as f:
            f.write(img)
        st = Store(dst)  # never raises
        full = st.dump()
        # entries only: a record lost after the fact (not by a power cut) can name
        # part files a later, now lost, purge removed; recovery then drops them
        got = [d[:2] for d in full]
        hist = [(h[0], [d[:2] for d in h[1]]) for h in hist]
        limit = cut if flip is None or flip >= cut else flip
        k = 0
        while k + 1 < len(hist) and hist[k + 1][0] <= limit:
            k += 1
        if flip is None or flip >= cut:
            assert got == hist[k][1]
        else:
            # a flipped byte: every record before it is kept, nothing invented
            dumps = [h[1] for h in hist]
            assert got in dumps[k:] or (flip < hist[0][0] and got in dumps)
        for eid, enc, parts in full:  # whatever is visible is complete
            for name, size in parts:
                with st.open_part(eid, name) as f:
                    assert len(f.read()) == size
        assert Store(dst).dump() == full


@given(s.binary(max_size=200))
def test_scan_never_raises_on_garbage(blob):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "index.0"), "wb") as f:
            f.write(X.header(1) + blob)
        gen, st, good, size = X.scan(fsutil.REAL_FS, os.path.join(tmp, "index.0"))
        assert gen == 1 and 16 <= good <= size
        Store(tmp)

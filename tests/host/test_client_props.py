"""Property tests for the client's header format and find matcher (hypothesis).

Host-only because hypothesis runs on CPython only; the same code paths run on
MicroPython in tests/core/test_client*.py and test_find.py. The matcher is
checked against an independent reference built on CPython's ``re``.
"""

import io
import re

from hypothesis import given, settings, strategies as st

from smtpmtm.client import find as F
from smtpmtm.store import headpart as M

text = st.text(st.characters(blacklist_characters="\r\n\0\t", blacklist_categories=("Cs",)),
               max_size=40)
pair = st.tuples(text, text.filter(lambda s: s != ""))


@st.composite
def headers(draw):
    h = M.new_header()
    h["subject"] = draw(text)
    for k in ("to", "cc", "bcc"):
        h[k] = draw(st.lists(pair, max_size=4))
    for k in ("from", "reply_to", "receipt_to"):
        h[k] = draw(st.one_of(st.none(), pair))
    h["message_id"] = draw(st.one_of(st.none(), text.filter(bool)))
    h["in_reply_to"] = draw(st.one_of(st.none(), text.filter(bool)))
    h["references"] = draw(st.lists(text.filter(bool), max_size=3))
    h["priority"] = draw(st.sampled_from([None, "high", "normal", "low"]))
    if draw(st.booleans()):
        h["date"] = draw(st.integers(0, 2 ** 40))
        h["tz"] = draw(st.integers(-720, 840))
    h["text"] = draw(st.sampled_from([None, "text"]))
    h["html"] = draw(st.sampled_from([None, "html"]))
    h["attachments"] = [
        {"part": p, "kind": k, "name": n, "type": "application/octet-stream", "path": None,
         "entry": None, "cid": None, "size": s}
        for (p, k, n, s) in draw(st.lists(st.tuples(st.sampled_from(["a1", "a2"]),
                                                    st.just("file"), text, st.integers(0, 2 ** 40)),
                                          max_size=3))]
    h["headers"] = draw(st.lists(st.tuples(text.filter(bool), text), max_size=2))
    return h


def _norm(h):
    # empty names read back as "" and empty optional strings as absent
    out = dict(h)
    for k in ("message_id", "in_reply_to", "priority"):
        out[k] = out[k] or None
    if out["date"] is None:
        out["tz"] = 0
    return out


@given(headers())
@settings(max_examples=300, deadline=None)
def test_header_round_trip(h):
    data = b"".join(M.header_chunks(h))
    back = M.parse_header(io.BytesIO(data))
    assert back == _norm(h)


_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_\x80-\U0010ffff])"
_NOT_WORD_AFTER = r"(?![A-Za-z0-9_\x80-\U0010ffff])"


def _reference(pat, flags, s):
    """The same search with re: an empty field never matches."""
    if not s:
        return False
    if not flags & F.FIND_CASE_SENSITIVE:
        pat, s = pat.lower(), s.lower()
    wild = flags & F.FIND_WILDCARD and ("*" in pat or "?" in pat)
    if wild:
        rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pat)
    else:
        rx = re.escape(pat)
    if flags & F.FIND_WHOLE_WORD:
        rx = _NOT_WORD_BEFORE + "(?:" + rx + ")" + _NOT_WORD_AFTER
    return re.search(rx, s, re.S) is not None


alpha = st.text(st.sampled_from("abAB _-.*?\u00e9"), min_size=1, max_size=6)
hay = st.text(st.sampled_from("abAB _-.\u00e9"), max_size=30)
mods = st.sampled_from([0, F.FIND_WILDCARD, F.FIND_WHOLE_WORD, F.FIND_CASE_SENSITIVE,
                        F.FIND_WILDCARD | F.FIND_WHOLE_WORD,
                        F.FIND_WILDCARD | F.FIND_CASE_SENSITIVE | F.FIND_WHOLE_WORD])


@given(alpha, mods, hay)
@settings(max_examples=2000, deadline=None)
def test_matcher_agrees_with_re(pat, flags, s):
    got = F.Matcher(pat, flags).search(s)
    want = _reference(pat, flags, s)
    assert got == want, (pat, hex(flags), s)

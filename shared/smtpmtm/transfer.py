"""One mail transaction over a Session: the DATA and the BDAT paths.

Used by ``session.Session.send_message``; split out to keep modules small.
``send_data``: DATA (RFC 5321 4.1.1.4) then the body, CRLF-normalised and
dot-stuffed chunk by chunk, then "."; with PIPELINING (RFC 2920) MAIL, RCPTs
and DATA were queued together and their replies are matched here in order.
``send_bdat``: CHUNKING (RFC 3030): the body normalised (no stuffing) into
chunks of ``bdat_size`` bytes, each ``BDAT n``, the last ``BDAT n LAST``;
with PIPELINING up to ``bdat_window`` chunks are in flight, and after a failed
BDAT no more are sent (RFC 3030 section 2).

Example::

    res = {"accepted": [], "refused": {}, "reply": None, "_n": 0}
    send_data(session, chunks, size, res, None, None)
"""

from .dotstuff import Encoder
from .errors import ProtocolError, ReplyError


def _rerr(command, ev):
    return ReplyError(command, ev.code, ev.text, ev.enhanced)


def _record(s, ev, res):
    cmd = ev.command
    if cmd == "RSET":
        if not ev.ok():
            raise s._fail(_rerr("RSET", ev))
    elif cmd == "MAIL":
        if not ev.ok():
            res["_mail"] = ev
    elif cmd == "RCPT":
        res["_n"] += 1
        if ev.ok():
            res["accepted"].append(ev.arg)
        else:
            res["refused"][ev.arg] = (ev.code, ev.enhanced, ev.text)
    elif cmd == "BDAT":
        if not ev.ok() and "_bdat" not in res:
            res["_bdat"] = ev
    return ev


def _wait_for(s, command, res):
    while True:
        ev = _record(s, s._next(), res)
        if ev.command == command:
            return ev


def _check_mail(res):
    ev = res.get("_mail")
    if ev is not None:
        raise _rerr("MAIL", ev)


def _check_rcpts(res):
    if res["accepted"]:
        return
    pick = None
    for code, enh, text in res["refused"].values():
        if pick is None or (code < 500 or code == 552) and pick[0] >= 500:
            pick = (code, enh, text)
    if pick is None:
        raise ProtocolError("no recipient was answered")
    e = ReplyError("RCPT", pick[0], pick[2], pick[1])
    # RFC 5321 4.5.3.1.10: 552 on RCPT is "too many recipients", i.e. temporary
    e.transient = pick[0] < 500 or pick[0] == 552
    e.refused = res["refused"]
    raise e


def send_data(s, chunks, size, res, on_bytes, before_final_dot):
    c = s.client
    c.data()
    ev = _wait_for(s, "DATA", res)
    if ev.code != 354:
        _check_mail(res)
        _check_rcpts(res)
        raise _rerr("DATA", ev)
    if res.get("_mail") is not None or not res["accepted"]:
        # RFC 2920 3.1: DATA accepted with no valid recipient: send only the dot
        c.end_body()
        _wait_for(s, "DOT", res)
        _check_mail(res)
        _check_rcpts(res)
    sent = 0
    for chunk in chunks:
        c.body(chunk)
        s._flush()
        sent += len(chunk)
        if on_bytes:
            on_bytes(sent, size)
    if before_final_dot:
        before_final_dot()
    c.end_body()
    ev = _wait_for(s, "DOT", res)
    if not ev.ok():
        raise _rerr("DATA-END", ev)
    res["reply"] = (ev.code, ev.enhanced, ev.text)


def _take(it):
    """The next chunk of the iterator it, or None at its end."""
    for x in it:
        return x
    return None


def send_bdat(s, chunks, size, res, pipe, n_rcpts, on_bytes, before_final_dot):
    c = s.client
    enc = Encoder(False)
    feed = enc.feed
    it = iter(chunks)
    x = _take(it)  # always one chunk ahead: is the next BDAT the LAST one?
    sent = 0
    limit = s.bdat_size
    window = s.bdat_window if pipe else 0
    while True:
        data, n = [], 0
        while x is not None and n < limit:
            sent += len(x)
            out = feed(x)
            data.append(out)
            n += len(out)
            x = _take(it)
        last = x is None
        if last:
            data.append(enc.end())
            if before_final_dot:
                before_final_dot()
        c.bdat(data, last)
        s._flush()
        if on_bytes:
            on_bytes(sent, size)
        if last:
            break
        while c.pending > window:
            _record(s, s._next(), res)
        if res.get("_mail") or res.get("_bdat") or (res["_n"] == n_rcpts and not res["accepted"]):
            break  # RFC 3030 2: no more BDAT after a failure
    ev = None
    while c.pending:
        ev = _record(s, s._next(), res)
    _check_mail(res)
    _check_rcpts(res)
    if "_bdat" in res:
        raise _rerr("BDAT", res["_bdat"])
    if ev is None or ev.command != "BDATL" or not ev.ok():
        raise _rerr("BDAT", ev)
    res["reply"] = (ev.code, ev.enhanced, ev.text)

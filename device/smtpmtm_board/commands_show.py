"""REPL command show(id): one message in full (imported by repl.py).

Prints the folder, sending state, attempts, next retry time and error code,
the header (from, to, cc, bcc, subject, a priority other than normal, date,
marked "(estimated)" while the Date awaits a real clock, Message-ID), the
attachments, each recipient's reply from the send engine's result part, for a
failed message what to do (retry(id), a better supply, a smaller attachment),
for a waiting one when it goes again and how many attempts it has left (after
a TLS failure, what to check), and the first 200 bytes of the text body.
"""

from . import console as _c


@_c.ready
def show(mid):
    """Print a message: folder, state, attempts, header, recipients' replies, body start."""
    from . import datefix
    from smtpmtm.store import entry as E
    from smtpmtm.store import headpart as M
    from smtpmtm.outbox import plan

    i = _c.msg_id(mid)
    with _c.Reading():
        try:
            e = _c.message(i)
            h = M.read_header(_c.app.store, i)
            parts = _c.app.store.parts(i)
            res = plan.read_result(_c.app.store, i)
            body = b""
            if M.TEXT in parts:
                with _c.app.store.open_part(i, M.TEXT) as f:
                    body = f.read(200)
            advice = _what_to_do(e, res, h)  # may read its account (max_attempts)
        except Exception as ex:  # noqa: BLE001
            _c.err(ex)
            return
    folder = _c.folder_name(e.parent)
    print("id %d  %s  %s  attempts %d  next try %s%s" % (
        e.id, folder, _c.state(e), e.attempts, _c.when(e.next_try), _c.reply_code(e, "  error ")))
    for k in ("from", "to", "cc", "bcc"):
        v = h.get(k)
        if v:
            v = [v] if isinstance(v, tuple) else v
            print("%-8s %s" % (k + ":", ", ".join(("%s <%s>" % (n, a)) if n else a for n, a in v)))
    pr = h.get("priority")
    print("subject: %s%s" % (h.get("subject"), "  (priority %s)" % pr if pr in ("high", "low") else ""))
    print("date:    %s%s  message-id: %s" % (_c.when(h.get("date")), " (estimated)" if datefix.PART in parts else "",
                                            h.get("message_id")))
    for a in h.get("attachments") or ():
        print("attach:  %s (%s B)" % (a.get("name") or a.get("path"), a.get("size")))
    if res:
        for line in _result_lines(res):
            print("  " + line)
    if e.error and e.sending_state == E.SEND_WAITING and not res.get("error"):
        print("last try failed: log() says why")  # a retried failure is logged, not stored per message
    if advice:
        print("what to do: " + advice)
    if body:
        print("--\n" + body.decode("utf-8", "replace") + ("..." if len(body) == 200 else ""))
    # nothing returned: the REPL would echo the Entry's repr (hex ids) under what was printed


def _what_to_do(e, r, h):
    """One line for a failed or suspended message: what would get it sent (``h``: its header);
    for one waiting for its retry time, when (and after a TLS failure, what to check)."""
    from smtpmtm.errors import tls_failed
    from smtpmtm.store import entry as E

    kind, code = (r.get("error") or ("", 0))[:2]
    i = e.id
    if e.sending_state not in (E.SEND_FAILED, E.SEND_SUSPENDED):
        if not e.next_try or e.parent != E.OUTBOX:
            return None
        advice = _c.tls_advice(kind)
        return "it waits: " + _c.next_try(e) + ("; " + advice if advice else "")
    if kind == "interrupted":
        return ("the board lost power or reset during this send %s: give it a better supply "
                "or send a smaller attachment, then retry(%d)" % (_times(r.get("interrupted") or 0), i))
    if code in (530, 534, 535) or kind.split("-")[0] in ("auth", "oauth"):
        return ("the login failed: fix the account's user and password (or OAuth2 settings) with "
                "account(...), then retry(%d)" % i)
    if kind == "tls-required":  # the account's own setting, not the server's certificate
        return ("the account has no TLS and allow_plaintext is off: account(tls='starttls') (or "
                "'implicit', as the server takes it), then retry(%d)" % i)
    if tls_failed(kind):
        return ("the server could not be verified: check the account's server and port, the CA file "
                "and the board's clock (status()), then retry(%d)" % i)
    if kind == "settings":
        return "fix the account (account() shows it), then retry(%d)" % i
    if kind == "input" and _links_a_file(h):
        return ("put the file it links back where it was (the error above names it), then retry(%d); "
                "or rm(%d)" % (i, i))
    rc = r.get("rcpt") or {}
    if rc and all(c[0] >= 500 for c in rc.values()):
        return "the server refused every recipient: queue it again to a corrected address"
    return "retry(%d) sends it again" % i


def _links_a_file(h):
    """Whether a message (``h``: its header) links a file on the flash, itself or in a
    message it forwards as an attachment."""
    from smtpmtm.store import headpart as M

    for a in h.get("attachments") or ():
        if a.get("path") or (a.get("entry") and _links_a_file(M.read_header(_c.app.store, a["entry"]))):
            return True
    return False


def _result_lines(r):
    out = []
    rc = r.get("rcpt") or {}
    for a in rc:
        code, enh, text = rc[a]
        out.append("rcpt %s: %d %s%s" % (a, code, (enh + " ") if enh else "", text))
    if r.get("interrupted"):
        out.append("interrupted %s (cut mid-send)" % _times(r["interrupted"]))
    if r.get("error"):
        kind, code, text = r["error"]
        out.append("error %s %s %s" % (kind, code or "", text))
    return out


def _times(n):
    """ "1 time", "3 times" """
    return "%d time%s" % (n, "" if n == 1 else "s")

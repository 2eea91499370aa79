"""What the send engine sends: the send list, and per message its transmissions and results.

``send_list(store, service, ids, now)`` gives the ids to send, in order: those
asked for, then the service's Outbox messages in a sendable state
(entry.SENDABLE) whose ``next_try`` has come.

From a stored message's header (headpart.read_header) and the account's
SmtpSettings this works out, as Symbian's IMSMSEND.CPP does:

- From = settings alias + address (RFC 5322 section 3.6.2 requires From);
  the envelope MAIL FROM is the settings address (RFC 5321 section 4.1.1.2);
- Reply-To and the receipt address filled from the settings when missing;
  Disposition-Notification-To (RFC 8098 section 2.1) only when a receipt is
  asked for (entry flag EMAIL_RECEIPT, a header receipt_to, or settings);
- send-copy-to-self adds settings.receipt_to() to To, Cc or Bcc;
- the transmissions: one to To + Cc without any Bcc header, then one per Bcc
  recipient whose header shows only that Bcc (RFC 5322 section 3.6.3, second
  way), in a fixed order; a retry sends each only to its recipients not yet
  settled (accepted, or refused for good), so a 4xx/552 refusal of one
  recipient is retried for that one without doubling the others' copy.

It also keeps the per-message result part ``smtp-result`` (text, one item a
line; store/SPEC.md section 9): which transmissions are done and each
recipient's reply, plus the last error::

    SMTPMTM-RESULT 1
    done 0
    rcpt ann@example.com 250 - ok
    rcpt bob@example.com 550 5.1.1 no such user
    interrupted 2
    error reply 552 message too big

``interrupted N``: N attempts were cut before they ended (a power cut or reset
mid-send; sender.Sender.sweep counts them). A reader skips lines it does not
know, so older code reads newer parts.

Example::

    p = plan(header, settings, entry)
    for i, (rcpts, show_bcc) in enumerate(p["transmissions"]): ...
"""

from ..errors import InputError, ReplyError
from ..store import entry as E

RESULT_PART = "smtp-result"
_MAGIC = "SMTPMTM-RESULT 1"
_PRIO = {E.PRIORITY_HIGH: "high", E.PRIORITY_LOW: "low"}


def send_list(store, service, ids=(), now=None):
    """The ids to send, in order: those asked for (any state but sent) and the due Outbox
    messages of the service; high priority first (an alarm does not wait behind a big log
    queued before it), then normal, then low, each in the order asked and queued.

    A message whose last attempt was cut (power failure, reset) goes behind all the
    others, the smallest of such first, so one that is cut every time cannot
    block those queued after it, asked for or not (the board asks for every waiting one when
    a link comes up). Also finishes what a power cut interrupted: a
    sent message still in the Outbox is moved to Sent, a stale Connected flag
    is cleared.
    """
    asked = []
    order = []  # (cut, size if cut else -priority, n, id)

    def add(e):
        cut = 1 if e.flags & E.FLAGS_CUT else 0
        order.append((cut, e.size if cut else -e.priority, len(order), e.id))

    for i in ids or ():
        e = store.get(i)
        if e.service == service and e.sending_state != E.SEND_SENT and i not in asked:
            asked.append(i)
            add(e)
    for e in store.children(E.OUTBOX):
        if e.service != service or e.type != E.TYPE_MESSAGE:
            continue
        if e.sending_state == E.SEND_SENT:
            store.move(e.id, E.SENT)
            continue
        if e.flag(E.FLAG_CONNECTED):
            e.set_flag(E.FLAG_CONNECTED, False)
            store.update(e)
        if e.id not in asked and due(e, now):
            add(e)
    order.sort()
    return [t[-1] for t in order]


def due(e, now):
    """Whether entry e may be sent now: a sendable state and its retry time come (any time
    when ``now`` is None)."""
    return e.sending_state in E.SENDABLE and not (now is not None and e.next_try and e.next_try > now)


def urgent(store, service, now, skip):
    """The Outbox's due high-priority messages of the service not in ``skip`` and not cut
    at their last attempt, in the order queued: an alarm queued while a run sends a big log
    goes next in that run (sender.Job)."""
    return [e.id for e in store.children(E.OUTBOX)
            if e.service == service and e.type == E.TYPE_MESSAGE and e.priority == E.PRIORITY_HIGH
            and not e.flags & E.FLAGS_CUT and e.id not in skip and due(e, now)]


def _pair(p):
    if not p:
        return None
    if isinstance(p, str):
        return ("", p)
    return (p[0] or "", p[1])


def plan(h, settings, e=None):
    """The filled-in header and the list of (recipients, show_bcc) transmissions."""
    alias = settings.alias or ""
    from_ = (alias, settings.email_address) if settings.email_address else _pair(h.get("from"))
    reply_to = _pair(h.get("reply_to"))
    if reply_to is None and settings.reply_to:
        reply_to = (alias, settings.reply_to)
    receipt_to = None
    if h.get("receipt_to") or settings.request_receipts or \
            (e is not None and e.email_flag(E.EMAIL_RECEIPT)):
        receipt_to = _pair(h.get("receipt_to")) or (alias, settings.receipt_to())
    lists = {}
    seen = set()
    for k in ("to", "cc", "bcc"):
        lists[k] = []
        for p in h.get(k) or ():
            p = _pair(p)
            a = p[1].lower()  # each address once, in its first list
            if a not in seen:
                seen.add(a)
                lists[k].append(p)
    copy = settings.send_copy_to_self
    if copy in lists:  # "to", "cc" or "bcc" ("none": no copy)
        me = settings.receipt_to()
        if me and me.lower() not in seen:
            lists[copy].append((alias, me))
    prio = h.get("priority")
    if not prio and e is not None:
        prio = _PRIO.get(e.priority)
    main = [p[1] for p in lists["to"] + lists["cc"]]
    trans = []
    if main:
        trans.append((main, None))
    for p in lists["bcc"]:
        trans.append(([p[1]], p[1]))
    return {
        "from": from_,
        "mail_from": settings.email_address or (from_[1] if from_ else ""),
        "reply_to": reply_to,
        "receipt_to": receipt_to,
        "to": lists["to"],
        "cc": lists["cc"],
        "bcc": lists["bcc"],
        "priority": prio if prio in ("high", "low") else None,
        "transmissions": trans,
    }


def mime_message(store, msg_id, h, p, mime):
    """A mime.Message for the stored message (bodies and attachments read from files)."""
    m = mime.Message(
        sender=p["from"],  # (name, addr) pairs, as mime takes them
        to=p["to"],
        cc=p["cc"],
        bcc=p["bcc"],
        reply_to=[p["reply_to"]] if p["reply_to"] else None,
        subject=h.get("subject") or "",
        date=h.get("date"),
        tz_minutes=h.get("tz") or 0,
        message_id=h.get("message_id"),
        in_reply_to=h.get("in_reply_to"),
        references=tuple(h.get("references") or ()),
        priority=p["priority"],
        receipt_to=p["receipt_to"],
        headers=tuple(h.get("headers") or ()),
    )
    if h.get("text"):
        m.set_text(path=store.part_path(msg_id, h["text"]))
    if h.get("html"):
        m.set_html(path=store.part_path(msg_id, h["html"]))
    for a in h.get("attachments") or ():
        kind = a.get("kind")  # "message", "linked" (a path), else a part: "file"
        if kind == "message":
            m.attach_message(rfc822_path(store, a.get("entry"), mime))
            continue
        path = a.get("path") if kind == "linked" else store.part_path(msg_id, a.get("part"))
        m.attach(path, name=a.get("name") or None, content_type=a.get("type") or None,
                 inline_cid=a.get("cid") or None)
    return m


def rfc822_path(store, child_id, mime):
    """A stored message attached as message/rfc822: rendered once into its part ``rfc822``."""
    if "rfc822" not in store.parts(child_id):
        from ..store.headpart import read_header

        h = read_header(store, child_id)
        from_ = _pair(h.get("from"))
        p = {"from": from_, "to": h.get("to") or [], "cc": h.get("cc") or [], "bcc": [],
             "reply_to": _pair(h.get("reply_to")), "receipt_to": None,
             "priority": h.get("priority")}
        b = mime.build(mime_message(store, child_id, h, p, mime))
        store.write_part(child_id, "rfc822", b.chunks())
    return store.part_path(child_id, "rfc822")


# ---- the result part ---------------------------------------------------------------


def new_result():
    return {"done": [], "rcpt": {}, "error": None, "interrupted": 0}


def read_result(store, msg_id):
    """The message's result part as a dict like new_result()'s (missing, unreadable or
    not this format: an empty one)."""
    r = new_result()
    try:
        f = store.open_part(msg_id, RESULT_PART)
    except Exception:  # a missing or unreadable result part is an empty one
        return r
    try:
        if f.readline().decode().rstrip("\n") != _MAGIC:
            return r
        while True:
            s = f.readline()
            if not s:
                break
            s = s.decode().rstrip("\n")
            w = s.split(" ", 4)
            k = w[0]
            n = len(w)
            if k == "done" and n > 1:
                r["done"].append(int(w[1]))
            elif k == "rcpt" and n >= 4:
                r["rcpt"][w[1]] = (int(w[2]), None if w[3] == "-" else w[3], w[4] if n > 4 else "")
            elif k == "interrupted" and n > 1:
                r["interrupted"] = int(w[1])
            elif k == "error" and n >= 3:
                w = s.split(" ", 3)
                r["error"] = (w[1], int(w[2]), w[3] if len(w) > 3 else "")
    finally:
        f.close()
    return r


def _lines(r):
    yield _MAGIC
    for i in r["done"]:
        yield "done %d" % i
    for a in r["rcpt"]:
        code, enh, text = r["rcpt"][a]
        yield "rcpt %s %d %s %s" % (a, code, enh or "-", text)
    if r["interrupted"]:
        yield "interrupted %d" % r["interrupted"]
    if r["error"]:
        kind, code, text = r["error"]
        yield "error %s %d %s" % (kind, code or 0, text)


def write_result(store, msg_id, r):
    """Store result dict r as the message's result part, one item a line (a reply's text
    with a CR or LF in it kept on its line)."""
    store.write_part(msg_id, RESULT_PART, ((s.replace("\r", " ").replace("\n", " ") + "\n").encode()
                                           for s in _lines(r)))


def settled(r, addr):
    """True when a recipient needs no further attempt: accepted (2xx) or refused for
    good (5xx; but 552 to RCPT is temporary, RFC 5321 section 4.5.3.1.10)."""
    v = r["rcpt"].get(addr)
    if v is None:
        return False
    return 200 <= v[0] < 300 or (v[0] >= 500 and v[0] != 552)


def accepted(r):
    """True when a recipient's RCPT was accepted (2xx) in a finished transmission."""
    for v in r["rcpt"].values():
        if 200 <= v[0] < 300:
            return True
    return False


def record_rcpts(r, rcpts, res):
    """Note each recipient's reply from a send_message() result in result dict r."""
    refused = res.get("refused") or {}
    reply = res.get("reply") or (250, None, "accepted")
    for a in rcpts:
        # accepted: keep the final reply (it often carries the queue id)
        r["rcpt"][a] = refused[a] if a in refused else (reply[0], reply[1], reply[2] or "accepted")


def refusal(r, pending):
    """The error for recipients left unsent: the first pending (transient) refusal,
    else (none accepted, all refused for good) the first permanent one."""
    first = None
    for a in r["rcpt"]:
        code, enh, text = r["rcpt"][a]
        if a in pending:
            return ReplyError("RCPT", code, text, enh)
        if first is None and code >= 300:
            first = (code, enh, text)
    if first is None:
        return InputError("no recipient accepted")
    return ReplyError("RCPT", first[0], first[2], first[1])

"""Reply, forward, forward-as-attachment and receipt (functions behind Client's methods).

After CImEmailOperation / CImHeader::CreateReplyL, CreateForwardL,
CreateReceiptL: the new message goes to the original's Reply-To, else From,
except that a reply to our own message (one in Sent, From the account's
address) goes to its To, as mail programs do, not back to us (reply-all adds
the original To and Cc as Cc, without duplicates and without our own address);
subjects get ``Re: ``, ``Fwd: `` or ``Receipt of message: `` once (never
doubled); In-Reply-To is the original Message-ID and References its References
(or In-Reply-To) plus its Message-ID (RFC 5322 section 3.6.4). The body starts
with the signature (if the account adds one) and a header block of the
original (From, Sent, To, Cc limited by ``to_cc_include_limit`` (0 = no To/Cc
lines, as Symbian's default), Subject), then the original plain body: quoted
with ``> `` for a reply, as is for a forward. It is streamed line by line from
the original's part into the new one, never whole in RAM. A forward copies the
original's attachments; forward-as-attachment attaches the original as
message/rfc822. The sending state comes from the send option (on request ->
UponRequest, else Waiting; a receipt is always Waiting) and the vCard is
attached when the account asks. The new message becomes the context; its id is
returned.

Example::

    c.switch(orig_id)
    rid = c.reply(to_all=True)      # context is now the reply, in Drafts
    c.set_body_text("Valve replaced.\\n")   # (replaces the quoted text)
"""

from ..store import entry as E
from ..store import headpart as M
from ..syntax import format_address, format_date, same_address



def sent_date(t, tz_minutes=0):
    """The "Sent:" date of a quoted header block: RFC 5322 section 3.3, day not zero-padded."""
    d = format_date(t, tz_minutes)
    return d[:5] + d[6:] if d[5] == "0" else d


def prefixed(prefix, subject, also=()):
    """``prefix + subject`` unless the subject already starts with it (any case)."""
    low = subject.lstrip().lower()
    for p in (prefix,) + tuple(also):
        if low.startswith(p.strip().lower()):
            return subject
    return prefix + subject


def _addr_list(pairs, limit):
    shown = [format_address(n, a) for (n, a) in pairs[:limit]]
    return ", ".join(shown) + (", ..." if len(pairs) > limit else "")


def _part_chunks(store, eid, name, quote=False):
    f = store.open_part(eid, name)
    try:
        bol = True
        while True:
            b = f.readline(512)  # bounded: one line or 512 bytes
            if not b:
                return
            if quote and bol:
                yield b"> "
            yield b
            bol = b[-1:] == b"\n"
    finally:
        f.close()


def _text_body(store, oid, oh, intro, quote):
    yield intro.encode()
    if oh[M.TEXT] and M.TEXT in store.parts(oid):
        for c in _part_chunks(store, oid, M.TEXT, quote):
            yield c


def _original(c):
    """The context message: its id, entry, header and its service's settings."""
    c._need(True)
    oid = c._id
    oe = c.store.get(oid)
    oh = M.read_header(c.store, oid)
    return oid, oe, oh, c.settings_for(oe.service or c._default_svc())

def _block(oh, s, title):
    lim = s.to_cc_include_limit
    out = ["", title]
    if oh["from"]:
        out.append("From: " + format_address(oh["from"][0], oh["from"][1]))
    if oh["date"] is not None:
        out.append("Sent: " + sent_date(oh["date"], oh["tz"]))
    if lim > 0 and oh["to"]:
        out.append("To: " + _addr_list(oh["to"], lim))
    if lim > 0 and oh["cc"]:
        out.append("Cc: " + _addr_list(oh["cc"], lim))
    out.append("Subject: " + oh["subject"])
    return "\n".join(out) + "\n\n"

def _new_from(c, folder, oe, s, h, text, state=None, atts=(), oid=0, attach=0):
    svc = oe.service or c._default_svc()
    e = c._base_entry(folder, svc, s, state)
    if h["receipt_to"]:
        e.set_email_flag(E.EMAIL_RECEIPT)
    parts = {M.TEXT: text}
    h[M.TEXT] = M.TEXT
    n = 0
    for a in atts:  # the original's attachments (forward)
        a = dict(a)
        if a["kind"] == M.KIND_FILE:
            n += 1
            p = "a%d" % n
            parts[p] = _part_chunks(c.store, oid, a["part"])
            a["part"] = p
        elif a["kind"] == M.KIND_MESSAGE:
            continue  # copied below, as a child entry
        h["attachments"].append(a)
    c._add_vcard(s, e, h, parts)
    parts[M.HEADER] = M.header_chunks(h)
    nid = c._create(e, parts)
    c._enter(nid, h)
    for a in atts:
        if a["kind"] == M.KIND_MESSAGE and c.store.exists(a["entry"]):
            c.add_entry_as_attachment(a["entry"], a["name"])
    if attach:
        c.add_entry_as_attachment(attach)
    c.save_message()
    return nid

def reply(c, to_all=False, folder=None):
    """CreateReplyL: to Reply-To else From; ``to_all`` adds To+Cc as Cc. -> new id"""
    oid, oe, oh, s = _original(c)
    h = c._base_header(s)
    target = oh["reply_to"] or oh["from"]
    if target and not oh["reply_to"] and oh["to"] and same_address(target[1], s.email_address or ""):
        h["to"] = list(oh["to"])  # our own message (in Sent): to its recipients, not to us
    elif target:
        h["to"] = [target]
    if to_all:
        seen = [a for (n, a) in h["to"]]
        if s.email_address:
            seen.append(s.email_address)
        for n, a in oh["to"] + oh["cc"]:
            if not any(same_address(a, x) for x in seen):
                h["cc"].append((n, a))
                seen.append(a)
    h["subject"] = prefixed("Re: ", oh["subject"])
    _thread(h, oh)
    intro = c._signature(s) + _block(oh, s, "-----Original Message-----")
    body = _text_body(c.store, oid, oh, "\n" + intro, True)
    return _new_from(c, folder, oe, s, h, body)

def _thread(h, oh, reply=True):
    refs = list(oh["references"])
    if not refs and oh["in_reply_to"] and " " not in oh["in_reply_to"].strip():
        refs = [oh["in_reply_to"]]
    if oh["message_id"]:
        refs.append(oh["message_id"])
        if reply:
            h["in_reply_to"] = oh["message_id"]
    h["references"] = refs

def _fwd_header(c, oh, s):
    h = c._base_header(s)
    h["subject"] = prefixed("Fwd: ", oh["subject"], ("Fw: ",))
    _thread(h, oh, reply=False)
    return h

def forward(c, folder=None):
    """CreateForwardL: "Fwd: ", the original's body and attachments. -> new id"""
    oid, oe, oh, s = _original(c)
    h = _fwd_header(c, oh, s)
    intro = c._signature(s) + _block(oh, s, "---------- Forwarded message ----------")
    body = _text_body(c.store, oid, oh, "\n" + intro, False)
    nid = _new_from(c, folder, oe, s, h, body, atts=oh["attachments"], oid=oid)
    oe = c.store.get(oid)
    oe.set_email_flag(E.EMAIL_FORWARDED)
    c.store.update(oe)
    return nid

def forward_as_attachment(c, folder=None):
    """CreateForwardAsAttachmentL: the original as a message/rfc822 part. -> new id"""
    oid, oe, oh, s = _original(c)
    h = _fwd_header(c, oh, s)
    text = ("\n" + c._signature(s)).encode()
    return _new_from(c, folder, oe, s, h, text, oid=oid, attach=oid)

def receipt(c, folder=None):
    """CreateReceiptL: to the original's receipt address else From; Waiting. -> id"""
    oid, oe, oh, s = _original(c)
    h = c._base_header(s, receipts=False)
    target = oh["receipt_to"] or oh["from"]
    if target:
        h["to"] = [target]
    h["subject"] = prefixed("Receipt of message: ", oh["subject"])
    _thread(h, oh)
    text = "Receipt of your message" + _block(oh, s, "")
    return _new_from(c, folder, oe, s, h, text.encode(), state=E.SEND_WAITING)

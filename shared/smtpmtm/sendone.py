"""One message of a send job (split out of sendjob.py): transmissions, uncertainty, outcome.

For each transmission still owed (sendplan.plan; recipients not yet settled) it
builds the MIME stream (mime.build, exact size first), calls
``Session.send_message`` with ``on_bytes`` (progress; a cancel or suspend aborts
before the final dot) and ``before_final_dot`` (the entry is stored "uncertain"
before the dot or BDAT LAST goes out, so a reply lost afterwards can never make a
silent duplicate), and notes every recipient's reply in the ``smtp-result`` part.
Then the message is sent (moved to Sent), or the failure is classified
(sender.classify, RFC 5321 section 4.2.1) and recorded.

Example::

    alive = send_one(job, 0, msg_id, session, first=True)
"""

from .outbox import plan as sendplan
from .errors import Cancelled, InputError, ReplyError
from .store.headpart import read_header
from .outbox.sender import classify
from .compat import const

# entry.py's values, folded into the code (tests/host/test_core_rules.py checks them)
_SEND_SUSPENDED = const(6)
_SEND_UNCERTAIN = const(10)


def send_one(self, n, msg_id, session, first):
    """Send one message of Job ``self``; False when the session can no longer be used."""
    s = self.s
    st = s.store
    pr = s.progress
    e = st.get(msg_id)
    if e.sending_state == _SEND_SUSPENDED or msg_id in self._suspend:
        s.mark_connected(msg_id, False)
        self._tally(msg_id, "suspended")
        return True
    dot = [False]
    was_uncertain = e.sending_state == _SEND_UNCERTAIN
    r = sendplan.new_result()
    try:
        e = s.begin(msg_id)
        h = read_header(st, msg_id)
        p = sendplan.plan(h, s.settings, e)
        r = sendplan.read_result(st, msg_id)
        trans = p["transmissions"]
        if not trans:
            raise InputError("message has no recipients")
        todo = []  # (transmission, its recipients not yet settled)
        for i in range(len(trans)):
            left = [a for a in trans[i][0] if not sendplan.settled(r, a)]
            if left:
                todo.append((i, left))
        builds = []
        total = 0
        for i, _ in todo:
            b = s.mime.build(sendplan.mime_message(st, msg_id, h, p, s.mime), show_bcc=trans[i][1])
            builds.append(b)
            total += b.size
        pr.start_message(n, msg_id, total)
        if not first:
            pr.set_stage("rset")
            session.rset()
        base = [0]

        def on_bytes(sent, size=None):
            if not dot[0] and (self._cancel or msg_id in self._suspend):
                raise Cancelled("cancelled during DATA")
            pr.on_bytes(base[0] + sent, total)

        def before_final_dot():
            if self._cancel or msg_id in self._suspend:
                raise Cancelled("cancelled before the final dot")
            s.mark_uncertain(msg_id)  # durable before the dot (no silent double)
            dot[0] = True

        k = 0
        for i, left in todo:
            b = builds[k]
            if k:
                session.rset()
            k += 1
            pr.set_stage("mail")
            try:
                res = session.send_message(p["mail_from"], left, b.chunks(), b.size,
                                           needs_8bit=b.needs_8bit,
                                           needs_smtputf8=b.needs_smtputf8,
                                           on_bytes=on_bytes, before_final_dot=before_final_dot)
            except ReplyError as no_rcpt:
                if not getattr(no_rcpt, "refused", None) or dot[0]:
                    raise
                res = {"refused": no_rcpt.refused}  # every RCPT refused: noted below
            dot[0] = False
            sendplan.record_rcpts(r, left, res)
            r["done"].append(i)
            sendplan.write_result(st, msg_id, r)
            base[0] += b.size
        pending = [a for t in trans for a in t[0] if not sendplan.settled(r, a)]
        if not pending and sendplan.accepted(r):
            s.record_sent(msg_id)
            self.result["sent"].append(msg_id)
            pr.message_sent()
            return True
        # a transient refusal (4xx, 552) is retried later for those recipients only
        exc = sendplan.refusal(r, pending)
    except Exception as exc1:
        exc = exc1
        refused = getattr(exc, "refused", None)
        if refused:  # no recipient accepted: keep each refusal on the message
            try:
                sendplan.record_rcpts(r, list(refused), {"refused": refused})
                sendplan.write_result(st, msg_id, r)
            except Exception:  # a report only
                pass
    permanent, alive = classify(exc)
    # a reply to the dot settles this copy; no reply leaves it uncertain
    unsure = was_uncertain or (dot[0] and not isinstance(exc, ReplyError))
    if isinstance(exc, Cancelled):
        s.record_suspended(msg_id, unsure)  # stays uncertain when a copy may have arrived
        if unsure:
            self._tally(msg_id, "uncertain", "deferred")
        else:
            self._tally(msg_id, "suspended")
        return False
    self._error(exc)
    kind = s.record_failure(msg_id, exc, permanent, unsure)
    note_error(st, msg_id, exc)
    self._count(msg_id, kind, unsure)
    return alive


def note_error(st, msg_id, exc):
    """The last error, kept in the message's result part beside the recipients' replies."""
    try:
        r = sendplan.read_result(st, msg_id)
        r["error"] = (getattr(exc, "code", "error"), getattr(exc, "reply_code", 0) or 0, str(exc))
        sendplan.write_result(st, msg_id, r)
    except Exception:  # the result part is a report; the entry state is what counts
        pass

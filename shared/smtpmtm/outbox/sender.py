"""The send engine (Symbian's SMTP server MTM): send list, one session, outcomes, retries.

``Sender(store, settings, service, connect, clock, links=...)`` sends the
service's outbox over one SMTP session (RSET between messages, RFC 5321
section 4.1.1.5; PIPELINING and CHUNKING when the Session finds them):

- the send list: the ids asked for (any state but sent) plus every Outbox
  message of the service in state waiting, scheduled, resend or uncertain whose
  ``next_try`` has come (a message left "sending" by a power cut counts as
  waiting); an empty list ends DONE with progress.error "no-messages";
- per message: held back (state scheduled, next_try) when over the account's
  sending limits (limits.py);
- no head-of-line blocking under power cuts: each attempt is counted on flash
  (``begin``: ``attempts`` + the ATTEMPT_OPEN flag) before any of its bytes go
  out; the next send finds an attempt left open, counts it as interrupted
  (``sweep``) and puts that message behind the others, smallest first; a
  message past ``max_attempts`` or ``max_age_s`` is failed (or suspended,
  settings ``give_up``) there, before another try, with its reason ("interrupted 10 times ...") in its result part;
- per message: sending -> sent and moved to Sent; per-recipient replies in the
  ``smtp-result`` part (plan.py); no accepted recipient -> failed;
- a 5xx reply -> failed with entry.error = the reply code, never retried
  (RFC 5321 section 4.2.1), except 552 to RCPT, which is temporary (section
  4.5.3.1.10); 4xx, 421, a lost connection, a timeout, link down -> back to
  waiting with ``next_try`` (retry.Backoff, jitter), failed after max attempts
  or age; cancel or suspend -> suspended, content untouched;
- never silently doubled: right before the final dot (or BDAT LAST) the entry
  is stored as "uncertain" (entry.SEND_UNCERTAIN); if the reply never comes
  it stays uncertain and is sent again later with the same Message-ID and Date
  fixed at queue time (RFC 1047: duplicates are then recognisable).

The core never opens sockets: ``connect(host, port, tls=, cafile=,
server_hostname=, timeout=)`` is host/net.connect or smtpmtm_board.net.connect. The
engine is step-wise: ``job = sender.start(ids)``; ``job.step()`` returns
seconds to wait before the next call (0 = call again now) or None when
finished; device/smtpmtm_board/engine_async.py drives it under asyncio, ``send_all()``
blocks. ``tokens`` (a tokensource.TokenSource, given only for an account with
OAuth2 refresh settings) supplies the access token: refreshed before connecting
when due, and once more if the server answers the token with 535; a refresh
that fails transiently defers the messages, ``invalid_grant`` fails them.
When the session dies part-way (drop, 421, timeout, one message
cancelled mid-DATA) the job opens ``reconnects`` (default 1) fresh sessions for
the messages not yet tried before leaving them to their retry time. Each step blocks for at most one SMTP exchange (bounded by the
Session's deadlines).

The engine is this package's sender.py (the Sender: what a send needs, and
one store write per outcome), job.py (one run, step by step: the link, the
session, each message and its transmissions) and plan.py (the send list, what
each message owes, its result part); errors.classify judges a failure. The
imports go one way: sender -> job -> plan.

Example::

    s = Sender(store, settings, service_id, net.connect, compat.unix_time,  # int seconds
               links=Links([wifi], compat.monotonic))
    result = s.send_all(idle=time.sleep)   # {"sent": [...], "failed": [...], ...}
    print(s.progress.snapshot())
"""

from ..store import entry as E
from . import link as L
from . import progress as P
from . import plan
from .job import Job
from .retry import Backoff


def _default_session(stream, clock, hostname, timeouts, allow_plaintext):
    from ..wire.session import Session

    return Session(stream, clock, hostname=hostname, timeouts=timeouts,
                   allow_plaintext=allow_plaintext)


class Sender:
    def __init__(self, store, settings, service, connect, clock, links=None, rand=None,
                 progress=None, hostname="smtpmtm", timeouts=None, take_down_after=False,
                 session_factory=None, mime=None, connect_timeout=30, reconnects=1, tokens=None):
        self.store = store
        self.settings = settings
        self.service = service
        self.connect = connect
        self.clock = clock
        self.links = links if links is not None else L.Links([L.AlwaysUp()], clock)
        self.backoff = Backoff.from_settings(settings, rand)
        self.progress = progress or P.Progress(service)
        self.hostname = getattr(settings, "helo_name", "") or hostname
        self.timeouts = timeouts
        self.take_down_after = take_down_after
        self.session_factory = session_factory or _default_session
        self.mime = mime
        self.connect_timeout = connect_timeout
        self.reconnects = reconnects
        self.tokens = tokens  # OAuth2 access tokens, refreshed (tokensource.TokenSource) or None
        self.limiter = None  # sending limits (limits.py), loaded only for an account that has them
        if getattr(settings, "limits", None):
            from .limits import Limiter

            self.limiter = Limiter(store, service, settings.limits)
        self.job = None

    def start(self, ids=(), bring_up=True):
        """Begin a send; returns the Job (also kept as self.job)."""
        if self.mime is None:
            from .. import mime

            self.mime = mime
        self.job = Job(self, ids, bring_up)
        return self.job

    def send_all(self, ids=(), bring_up=True, idle=None):
        """Run a whole send, blocking; idle(seconds) is called while a link comes up."""
        job = self.start(ids, bring_up)
        while True:
            w = job.step()
            if w is None:
                return job.result
            if w > 0 and idle is not None:
                idle(w)

    def cancel(self):
        if self.job is not None:
            self.job.cancel()

    def suspend(self, msg_id):
        if self.job is not None:
            self.job.suspend(msg_id)

    # ---- outcome bookkeeping (one store write each) ---------------------------------

    def mark_connected(self, msg_id, on):
        e = self.store.get(msg_id)
        if e.flag(E.FLAG_CONNECTED) != on:
            e.set_flag(E.FLAG_CONNECTED, on)
            self.store.update(e)

    def record_sent(self, msg_id):
        e = self.store.get(msg_id)
        e.sending_state = E.SEND_SENT
        e.error = 0
        e.next_try = 0
        e.flags &= ~(E.FLAG_FAILED | E.FLAG_CONNECTED | E.FLAGS_CUT)
        e.parent = E.SENT  # state and folder in one index record: no cut can split them
        self.store.update(e)

    def sweep(self, ids):
        """Before a send: count each attempt a power cut left open, and give up on the
        messages past max_attempts or max_age_s (so both hold across reboots).

        Returns (ids to send, ids given up: failed, or suspended when the settings'
        ``give_up`` says so); a failed message asked for again is left for begin()
        to start afresh.
        """
        now = int(self.clock())
        keep = []
        gave_up = []
        for i in ids:
            e = self.store.get(i)
            r = None
            if e.flag(E.FLAG_ATTEMPT_OPEN):  # begun, never finished: power or board went mid-attempt
                r = plan.read_result(self.store, i)
                # never more interruptions than attempts (retry(id) resets the attempts)
                r["interrupted"] = min(r["interrupted"], e.attempts - 1) + 1
                plan.write_result(self.store, i, r)
                e.flags = (e.flags & ~E.FLAG_ATTEMPT_OPEN) | E.FLAG_INTERRUPTED
                if e.sending_state == E.SEND_SENDING:
                    e.sending_state = E.SEND_WAITING
                self.store.update(e)
            if e.sending_state in (E.SEND_FAILED, E.SEND_SUSPENDED) or \
                    not self.backoff.exhausted(now, e.attempts, e.first_try or None):
                keep.append(i)
                continue
            r = r or plan.read_result(self.store, i)
            r["error"] = self.give_up_reason(now, e, r["interrupted"])
            plan.write_result(self.store, i, r)
            e.flags &= ~(E.FLAGS_CUT | E.FLAG_CONNECTED)
            if getattr(self.settings, "give_up", "fail") == "suspend":  # kept for retry(id)
                e.sending_state = E.SEND_SUSPENDED
            else:
                e.sending_state = E.SEND_FAILED
                e.flags |= E.FLAG_FAILED
            e.next_try = 0
            e.error = E.ERR_UNKNOWN
            self.store.update(e)
            gave_up.append(i)
        return keep, gave_up

    def give_up_reason(self, now, e, interrupted):
        """(kind, 0, text) for the result part: why the engine stopped trying, what to do."""
        b = self.backoff
        if not (b.max_attempts and e.attempts >= b.max_attempts):
            return ("too-old", 0, "too old: first tried %d s ago (max_age_s %d); retry(id) sends "
                    "it again" % (now - e.first_try, b.max_age_s))
        if interrupted:
            return ("interrupted", 0, "interrupted %d time%s (%d attempts, max_attempts %d): the "
                    "board lost power or reset during the send; retry(id) after fixing the supply, "
                    "or send a smaller attachment" % (interrupted, "s" if interrupted > 1 else "",
                                                      e.attempts, b.max_attempts))
        return ("attempts", 0, "gave up after %d attempts (max_attempts %d); retry(id) sends it "
                "again" % (e.attempts, b.max_attempts))

    def begin(self, msg_id):
        """Count an attempt, durably before any of it is sent (a power cut then still
        counts: sweep() finds it open), and mark the message sending (an uncertain
        one stays uncertain)."""
        e = self.store.get(msg_id)
        if e.sending_state == E.SEND_FAILED:  # asked for again by the user: a fresh start
            e.attempts = 0
            e.first_try = 0
        e.attempts += 1
        if not e.first_try:
            e.first_try = int(self.clock())
        if e.sending_state != E.SEND_UNCERTAIN:
            e.sending_state = E.SEND_SENDING
        e.set_flag(E.FLAG_FAILED, False)
        e.set_flag(E.FLAG_CONNECTED, True)
        e.set_flag(E.FLAG_ATTEMPT_OPEN, True)
        self.store.update(e)
        return e

    def mark_uncertain(self, msg_id):
        """Durably: the data went out, the final reply is not yet seen."""
        e = self.store.get(msg_id)
        if e.sending_state != E.SEND_UNCERTAIN:
            e.sending_state = E.SEND_UNCERTAIN
            self.store.update(e)

    def record_postponed(self, msg_id, next_try):
        """Not attempted (the session died first): keep its state, retry with the others."""
        e = self.store.get(msg_id)
        e.set_flag(E.FLAG_CONNECTED, False)
        if e.sending_state == E.SEND_SENDING:
            e.sending_state = E.SEND_WAITING
        if next_try:
            e.next_try = next_try
        self.store.update(e)

    def record_failure(self, msg_id, exc, permanent, dot_sent, attempt=False):
        """Failed, or back to waiting with a retry time; ``dot_sent`` True (a copy
        may have been delivered: the final reply never came, now or before) keeps
        it uncertain."""
        now = int(self.clock())
        e = self.store.get(msg_id)
        if attempt:
            e.attempts += 1
            if not e.first_try:
                e.first_try = now
        e.flags &= ~(E.FLAG_CONNECTED | E.FLAGS_CUT)  # this attempt has its outcome
        code = getattr(exc, "reply_code", 0) or 0
        give_up = permanent
        nxt = None
        if not permanent:
            give_up, nxt = self.backoff.after_failure(now, e.attempts, e.first_try or now)
        if give_up:
            e.sending_state = E.SEND_FAILED
            e.set_flag(E.FLAG_FAILED, True)
            e.next_try = 0
            e.error = code or E.ERR_UNKNOWN
        else:
            # uncertain: a copy may have been delivered; stays so until a server accepts it
            if dot_sent:
                e.sending_state = E.SEND_UNCERTAIN
            else:
                e.sending_state = E.SEND_WAITING
            e.next_try = nxt
            e.error = code or E.ERR_UNKNOWN
        self.store.update(e)
        return "failed" if give_up else "deferred"

    def record_suspended(self, msg_id, dot_sent=False):
        e = self.store.get(msg_id)
        e.flags &= ~(E.FLAG_CONNECTED | E.FLAGS_CUT)
        if dot_sent:
            e.sending_state = E.SEND_UNCERTAIN  # never hide a possible delivery
        else:
            e.sending_state = E.SEND_SUSPENDED
        e.error = 0
        self.store.update(e)

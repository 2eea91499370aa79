"""The send engine (Symbian's SMTP server MTM): send list, one session, outcomes, retries.

``Sender(store, settings, service, connect, clock, links=...)`` sends the
service's outbox over one SMTP session (RSET between messages, RFC 5321
section 4.1.1.5; PIPELINING and CHUNKING when the Session finds them):

- the send list: the ids asked for (any state but sent) plus every Outbox
  message of the service in state waiting, scheduled, resend or uncertain whose
  ``next_try`` has come (a message left "sending" by a power cut counts as
  waiting); an empty list ends DONE with progress.error "no-messages";
- per message: sending -> sent and moved to Sent; per-recipient replies in the
  ``smtp-result`` part (sendplan.py); no accepted recipient -> failed;
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
server_hostname=, timeout=)`` is host/net.connect or device/net.connect. The
engine is step-wise: ``job = sender.start(ids)``; ``job.step()`` returns
seconds to wait before the next call (0 = call again now) or None when
finished; device/engine_async.py drives it under asyncio, ``send_all()``
blocks. ``tokens`` (a tokensource.TokenSource, given only for an account with
OAuth2 refresh settings) supplies the access token: refreshed before connecting
when due, and once more if the server answers the token with 535; a refresh
that fails transiently defers the messages, ``invalid_grant`` fails them.
When the session dies part-way (drop, 421, timeout, one message
cancelled mid-DATA) the job opens ``reconnects`` (default 1) fresh sessions for
the messages not yet tried before leaving them to their retry time. Each step blocks for at most one SMTP exchange (bounded by the
Session's deadlines).

Example::

    s = Sender(store, settings, service_id, net.connect, compat.unix_time,  # int seconds
               links=Links([wifi], compat.monotonic))
    result = s.send_all(idle=time.sleep)   # {"sent": [...], "failed": [...], ...}
    print(s.progress.snapshot())
"""

from .compat import const
from . import link as L
from . import progress as P
from . import sendplan
from .errors import Cancelled, ConnectionLost, ReplyError, SmtpMtmError
from .retry import Backoff

# entry.py's values, folded into the code (the send path never loads entry.py;
# tests/host/test_core_rules.py checks every such copy against entry.py)
_OUTBOX = const(0x1003)
_SENT = const(0x1005)
_TYPE_MESSAGE = const(0x10000F6A)
_FLAG_FAILED = const(0x40)
_FLAG_CONNECTED = const(0x01000000)
_SEND_WAITING = const(2)
_SEND_SENDING = const(3)
_SEND_SCHEDULED = const(4)
_SEND_RESEND = const(5)
_SEND_SUSPENDED = const(6)
_SEND_FAILED = const(7)
_SEND_SENT = const(8)
_SEND_UNCERTAIN = const(10)
_ERR_UNKNOWN = const(-2)

ELIGIBLE = (_SEND_WAITING, _SEND_SCHEDULED, _SEND_RESEND, _SEND_UNCERTAIN, _SEND_SENDING)


def _default_session(stream, clock, hostname, timeouts, allow_plaintext):
    from .session import Session

    return Session(stream, clock, hostname=hostname, timeouts=timeouts,
                   allow_plaintext=allow_plaintext)


def send_list(store, service, ids=(), now=None):
    """The ids to send, in order: those asked for, then due Outbox messages of the service.

    Also finishes what a power cut interrupted: a sent message still in the
    Outbox is moved to Sent, a stale Connected flag is cleared.
    """
    out = []
    for i in ids or ():
        e = store.get(i)
        if e.service == service and e.sending_state != _SEND_SENT and i not in out:
            out.append(i)
    for e in store.children(_OUTBOX):
        if e.service != service or e.type != _TYPE_MESSAGE:
            continue
        if e.sending_state == _SEND_SENT:
            store.move(e.id, _SENT)
            continue
        if e.flag(_FLAG_CONNECTED):
            e.set_flag(_FLAG_CONNECTED, False)
            store.update(e)
        if e.id in out or e.sending_state not in ELIGIBLE:
            continue
        if now is not None and e.next_try and e.next_try > now:
            continue
        out.append(e.id)
    return out


def waiting(store, service, now):
    """(messages due now, earliest next_try of the rest or None): for autosend loops."""
    due = 0
    nxt = None
    for e in store.children(_OUTBOX):
        if e.service != service or e.sending_state not in ELIGIBLE:
            continue
        if e.next_try and e.next_try > now:
            nxt = e.next_try if nxt is None or e.next_try < nxt else nxt
        else:
            due += 1
    return due, nxt


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
        self.job = None

    def start(self, ids=(), bring_up=True):
        """Begin a send; returns the Job (also kept as self.job)."""
        from .sendjob import Job

        if self.mime is None:
            from . import mime

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
        if e.flag(_FLAG_CONNECTED) != on:
            e.set_flag(_FLAG_CONNECTED, on)
            self.store.update(e)

    def record_sent(self, msg_id):
        e = self.store.get(msg_id)
        e.sending_state = _SEND_SENT
        e.error = 0
        e.next_try = 0
        e.set_flag(_FLAG_FAILED, False)
        e.set_flag(_FLAG_CONNECTED, False)
        e.parent = _SENT  # state and folder in one index record: no cut can split them
        self.store.update(e)

    def begin(self, msg_id):
        """Count an attempt and mark the message sending (an uncertain one stays uncertain)."""
        e = self.store.get(msg_id)
        if e.sending_state == _SEND_FAILED:  # asked for again by the user: a fresh start
            e.attempts = 0
            e.first_try = 0
        e.attempts += 1
        if not e.first_try:
            e.first_try = int(self.clock())
        if e.sending_state != _SEND_UNCERTAIN:
            e.sending_state = _SEND_SENDING
        e.set_flag(_FLAG_FAILED, False)
        e.set_flag(_FLAG_CONNECTED, True)
        self.store.update(e)
        return e

    def mark_uncertain(self, msg_id):
        """Durably: the data went out, the final reply is not yet seen."""
        e = self.store.get(msg_id)
        if e.sending_state != _SEND_UNCERTAIN:
            e.sending_state = _SEND_UNCERTAIN
            self.store.update(e)

    def record_postponed(self, msg_id, next_try):
        """Not attempted (the session died first): keep its state, retry with the others."""
        e = self.store.get(msg_id)
        e.set_flag(_FLAG_CONNECTED, False)
        if e.sending_state == _SEND_SENDING:
            e.sending_state = _SEND_WAITING
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
        e.set_flag(_FLAG_CONNECTED, False)
        code = getattr(exc, "reply_code", 0) or 0
        give_up = permanent
        nxt = None
        if not permanent:
            give_up, nxt = self.backoff.after_failure(now, e.attempts, e.first_try or now)
        if give_up:
            e.sending_state = _SEND_FAILED
            e.set_flag(_FLAG_FAILED, True)
            e.next_try = 0
            e.error = code or _ERR_UNKNOWN
        else:
            # uncertain: a copy may have been delivered; stays so until a server accepts it
            if dot_sent:
                e.sending_state = _SEND_UNCERTAIN
            else:
                e.sending_state = _SEND_WAITING
            e.next_try = nxt
            e.error = code or _ERR_UNKNOWN
        self.store.update(e)
        return "failed" if give_up else "deferred"

    def record_suspended(self, msg_id, dot_sent=False):
        e = self.store.get(msg_id)
        e.set_flag(_FLAG_CONNECTED, False)
        if dot_sent:
            e.sending_state = _SEND_UNCERTAIN  # never hide a possible delivery
        else:
            e.sending_state = _SEND_SUSPENDED
        e.error = 0
        self.store.update(e)


def classify(exc):
    """(permanent, session_alive) for an error raised while sending one message.

    RFC 5321 section 4.2.1: 5yz permanent, 4yz transient; 421 closes the
    session (section 3.8); 552 to RCPT is temporary (section 4.5.3.1.10).
    """
    if isinstance(exc, ReplyError):
        code = exc.reply_code
        if code == 421:
            return False, False
        if code == 552 and (exc.command or "").upper().startswith("RCPT"):
            return False, True
        return code >= 500, True
    if isinstance(exc, (ConnectionLost, Cancelled)):
        return False, False
    if isinstance(exc, SmtpMtmError):
        return not exc.transient and exc.code not in ("protocol",), False
    return False, False

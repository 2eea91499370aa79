"""The send engine (Symbian's SMTP server MTM): send list, one session, outcomes, retries.

``Sender(store, settings, service, connect, clock, links=...)`` sends the
service's outbox over one SMTP session (RSET between messages, RFC 5321
section 4.1.1.5; PIPELINING and CHUNKING when the Session finds them):

- the send list: the ids asked for (any state but sent) plus every Outbox
  message of the service in state waiting, scheduled, resend or uncertain whose
  ``next_try`` has come (a message left "sending" by a power cut counts as
  waiting), high priority first (plan.send_list); an empty list ends DONE with
  progress.error "no-messages"; a high-priority message queued while the run goes
  on (an alarm during a big log) is sent next, after the message on the wire;
- per message: held back (state scheduled, next_try) when over the account's
  sending limits (limits.py);
- no head-of-line blocking under power cuts: each attempt is counted on flash
  (``begin``: ``attempts`` + the ATTEMPT_OPEN flag) before any of its bytes go
  out; the next send finds an attempt left open, counts it as interrupted
  (``Job._sweep``) and puts that message behind the others, smallest first; a
  message past ``max_attempts`` or ``max_age_s`` is failed (or suspended,
  settings ``give_up``) there, before another try, with its reason ("interrupted 10 times ...") in its result part;
- per message: sending -> sent and moved to Sent; per-recipient replies in the
  ``smtp-result`` part (plan.py); no accepted recipient -> failed;
- a 5xx reply -> failed with entry.error = the reply code, never retried
  (RFC 5321 section 4.2.1), except 552 to RCPT, which is temporary (section
  4.5.3.1.10); 4xx, 421, a lost connection, a timeout, link down -> back to
  waiting with ``next_try`` (retry.Backoff, jitter), failed after max attempts
  or age (a link that never came up is no attempt: no coverage for a week fails
  nothing); cancel or suspend -> suspended, content untouched;
- a TLS failure while the session opens (a certificate that does not verify,
  STARTTLS stripped or injected: errors.CODES says which codes are transient)
  fails closed, nothing is sent, and the messages wait for their retry time like
  after a lost connection (a captive portal, a clock not yet set, a certificate
  renewed late pass); the error is kept in each one's result part for show(id);
  tls-required and tls-no-ca (the board's own settings) fail them at once;
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
the messages not yet tried before leaving them to their retry time. A step that waits for
a reply waits at most 20 ms and returns 0 if it has not come (over a Stream with ``ready()``,
wire/session.py); only the connect and the TLS handshake block for longer, up to their timeouts.

The engine is this module: the Sender (what a send needs, and one store
write per outcome) and the Job (one run, step by step: the link, the session,
each message and its transmissions), with plan.py (the send list, what each
message owes, its result part); errors.classify judges a failure.

``Job.step()`` advances the send by one piece (a link poll, the connection,
each command or pipelined flight of commands, one piece of a body: a 2 KB chunk
with DATA, a BDAT chunk of about 4 KB with CHUNKING; a look of up to 20 ms for a
reply) and returns the seconds to wait before the next call,
0 to be called again at once, or None when the job is finished. ``result``
then holds the outcome::

    {"sent": [ids], "failed": [ids], "deferred": [ids], "uncertain": [ids],
     "suspended": [ids], "not_sent": [ids], "error": code or None,
     "round_trips": n, "hook": name, "held": [ids over a sending limit],
     "link_errors": ["wifi: tls-self-signed", ...]}

A session that cannot open on one link because of the network path (a transient TLS
failure such as a captive portal's certificate, a connection refused, lost or timed out)
is opened on the next connection preference in the same run, as CImIAPPreferences does;
``link_errors`` names the links given up on. With no other link, or none that comes up,
the first link's failure is what the messages record.

``cancel()`` stops the job: the message being sent is suspended (or kept
uncertain if its final dot already went out), the rest keep their state.
``suspend(id)`` suspends one message, also in the middle of its DATA. An exception
out of a step (Ctrl-C typed at the REPL while a body goes out) ends the run as cleanly:
the session closed, the link released, the message in flight waiting again.

Example::

    s = Sender(store, settings, service_id, net.connect, compat.unix_time,  # int seconds
               links=Links([wifi], compat.monotonic))
    result = s.send_all(idle=time.sleep)   # {"sent": [...], "failed": [...], ...}
    print(s.progress.snapshot())
"""

from ..errors import (Cancelled, ConnectionLost, InputError, LinkDown, NotFound, ReplyError, Timeout,
                      TlsError, classify, tls_failed)
from ..store import entry
from ..store.headpart import read_header
from .link import POLL_S, AlwaysUp, Links
from . import plan
from . import portfallback
from .progress import CONNECTING, NO_MESSAGES, Progress
from .retry import Backoff


class Sender:
    def __init__(self, store, settings, service, connect, clock, links=None, rand=None,
                 progress=None, hostname="smtpmtm", timeouts=None, take_down_after=False,
                 session_factory=None, mime=None, connect_timeout=30, reconnects=1, tokens=None):
        self.store = store
        self.settings = settings
        self.service = service
        self.connect = connect
        self.clock = clock
        self.links = links if links is not None else Links([AlwaysUp()], clock)
        self.backoff = Backoff.from_settings(settings, rand)
        self.progress = progress or Progress(service)
        self.hostname = settings.helo_name or hostname
        self.timeouts = timeouts
        self.take_down_after = take_down_after
        self.session_factory = session_factory  # None: wire.session.Session
        self.mime = mime
        self.connect_timeout = connect_timeout
        self.reconnects = reconnects
        self.tokens = tokens  # OAuth2 access tokens, refreshed (tokensource.TokenSource) or None
        self.limiter = None  # sending limits (limits.py), loaded only for an account that has them
        if settings.limits:
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

    # ---- outcome bookkeeping (one store write each) ---------------------------------

    def mark_connected(self, msg_id, on):
        e = self.store.get(msg_id)
        if e.flag(entry.FLAG_CONNECTED) != on:
            e.set_flag(entry.FLAG_CONNECTED, on)
            self.store.update(e)

    def record_sent(self, msg_id):
        e = self.store.get(msg_id)
        e.sending_state = entry.SEND_SENT
        e.error = 0
        e.next_try = 0
        e.flags &= ~(entry.FLAG_FAILED | entry.FLAG_CONNECTED | entry.FLAGS_CUT)
        e.parent = entry.SENT  # state and folder in one index record: no cut can split them
        self.store.update(e)

    def begin(self, msg_id):
        """Count an attempt, durably before any of it is sent (a power cut then still
        counts: Job._sweep() finds it open), and mark the message sending (an uncertain
        one stays uncertain)."""
        e = self.store.get(msg_id)
        if e.sending_state == entry.SEND_FAILED:  # asked for again by the user: a fresh start
            e.attempts = e.first_try = 0
        e.attempts += 1
        if not e.first_try:
            e.first_try = int(self.clock())
        if e.sending_state != entry.SEND_UNCERTAIN:
            e.sending_state = entry.SEND_SENDING
        e.flags = (e.flags & ~entry.FLAG_FAILED) | entry.FLAG_CONNECTED | entry.FLAG_ATTEMPT_OPEN
        self.store.update(e)
        return e

    def mark_uncertain(self, msg_id):
        """Durably: the data went out, the final reply is not yet seen."""
        e = self.store.get(msg_id)
        if e.sending_state != entry.SEND_UNCERTAIN:
            e.sending_state = entry.SEND_UNCERTAIN
            self.store.update(e)

    def record_postponed(self, msg_id, next_try, begun=False):
        """Not attempted (the session died first): keep its state, retry with the others.
        ``begun``: its attempt had begun and the user ended it (Ctrl-C): taken back, neither
        counted nor taken for a power cut's (a message whose dot went out stays uncertain)."""
        e = self.store.get(msg_id)
        e.set_flag(entry.FLAG_CONNECTED, False)
        if e.sending_state == entry.SEND_SENDING:
            e.sending_state = entry.SEND_WAITING
            if begun and e.flags & entry.FLAG_ATTEMPT_OPEN:
                e.flags &= ~entry.FLAG_ATTEMPT_OPEN
                e.attempts -= 1
                if not e.attempts:
                    e.first_try = 0
        if next_try:
            e.next_try = next_try
        self.store.update(e)

    def record_failure(self, msg_id, exc, permanent, dot_sent, attempt=False):
        """Failed, or back to waiting with a retry time; ``dot_sent`` True (a copy
        may have been delivered: the final reply never came, now or before) keeps
        it uncertain. Returns "failed" or "deferred"."""
        now = int(self.clock())
        e = self.store.get(msg_id)
        if attempt:
            e.attempts += 1
            if not e.first_try:
                e.first_try = now
        e.flags &= ~(entry.FLAG_CONNECTED | entry.FLAGS_CUT)  # this attempt has its outcome
        e.error = getattr(exc, "reply_code", 0) or entry.ERR_UNKNOWN
        kind = "failed"
        if permanent:
            self.give_up(e, True)
        else:
            past, nxt = self.backoff.after_failure(now, e.attempts, e.first_try or now)
            if past:  # max_attempts or max_age_s ran out
                kind = self.give_up(e)
            else:
                kind = "deferred"
                e.next_try = nxt
                # uncertain: a copy may have been delivered; stays so until a server accepts it
                e.sending_state = entry.SEND_UNCERTAIN if dot_sent else entry.SEND_WAITING
        self.store.update(e)
        return kind

    def give_up(self, e, fail=False):
        """Stop trying entry e (not stored here): failed, or when the settings' ``give_up``
        says so and ``fail`` is not set (the error itself was permanent), suspended, kept
        for retry(id). Returns "failed" or "suspended"."""
        e.next_try = 0
        if not fail and self.settings.give_up == "suspend":
            e.sending_state = entry.SEND_SUSPENDED
            return "suspended"
        e.sending_state = entry.SEND_FAILED
        e.flags |= entry.FLAG_FAILED
        return "failed"

    def record_suspended(self, msg_id, dot_sent=False):
        e = self.store.get(msg_id)
        e.flags &= ~(entry.FLAG_CONNECTED | entry.FLAGS_CUT)
        # never hide a possible delivery
        e.sending_state = entry.SEND_UNCERTAIN if dot_sent else entry.SEND_SUSPENDED
        e.error = 0
        self.store.update(e)


class Job:
    """One run of the engine, step by step (Sender.start() makes it)."""

    def __init__(self, sender, ids, bring_up):
        self.s = sender
        self.ids = list(ids or ())
        self.bring_up = bring_up
        self.result = {"sent": [], "failed": [], "deferred": [], "uncertain": [],
                       "suspended": [], "not_sent": [], "error": None, "round_trips": 0,
                       "hook": None, "held": [], "link_errors": []}
        self._cancel = False
        self._stop = False
        self._suspend = []
        self.taken_back = None  # the message a Ctrl-C took back when it ended the run
        self._ids = []  # the run's send list; _ids[:_done] have had their turn
        self._done = 0
        self._gen = self._run()
        self.session = self.stream = self.acq = None

    def step(self):
        try:
            return next(self._gen)
        except StopIteration:  # finished (again at every later call)
            return None
        except BaseException as e:  # Ctrl-C at the REPL mid-send, a bug: the run is over
            self._abort(e)
            raise

    def _abort(self, exc):
        """The run ended by ``exc`` escaping a step: the session is closed, the link
        released, the message in flight waiting again and the progress done, as at a normal
        end; after a Ctrl-C (KeyboardInterrupt) its attempt is taken back: a person ended
        it, no power cut, so it is not counted as interrupted, and the messages it did not
        reach are listed as not sent, their Connected flags cleared. Otherwise the store holds
        each message as after a power cut (an attempt left open counts as interrupted at the
        next send). One whose final dot went out stays uncertain, so nothing is lost and the
        next send goes on; later steps return None."""
        s = self.s
        mid = s.progress.msg_id  # the message in flight, if any: waiting again, not "sending"
        for end in (self._close_session,
                    lambda: s.links.release(self.acq, s.take_down_after),
                    lambda: mid is not None and s.record_postponed(mid, 0, isinstance(exc, KeyboardInterrupt)),
                    lambda: self._service_connected(False)):
            try:
                end()
            except Exception:  # the first exception is the one that counts
                pass
        why = repr(exc)
        if isinstance(exc, KeyboardInterrupt):
            self.taken_back = mid
            why = "Ctrl-C"
            try:
                self._postpone(self._ids[self._done:], False)
            except Exception:  # noqa: BLE001 - as above
                pass
        self._error(Cancelled("send interrupted: " + why))
        s.progress.done()

    def cancel(self):
        """Stop the run now: the message on the wire is suspended before its final dot; so is
        the one a Ctrl-C took back if the run already ended in it (a person's Ctrl-C during
        a send, wherever it landed, then means cancel)."""
        self._cancel = True
        mid, self.taken_back = self.taken_back, None
        if mid is not None:
            try:
                dot_sent = self.s.store.get(mid).sending_state == entry.SEND_UNCERTAIN
                self.s.record_suspended(mid, dot_sent)
            except NotFound:  # deleted meanwhile: nothing to keep
                return
            self._tally(mid, "suspended", dot_sent)

    def stop(self):
        """Stop the run after the message on the wire, which goes on to its end; the rest
        wait for the next send (a battery cycle whose budget is spent)."""
        self._stop = True

    def suspend(self, msg_id):
        self._suspend.append(msg_id)

    # ------------------------------------------------------------------------------

    def _error(self, exc):
        code = getattr(exc, "code", None) or "error"
        self.result["error"] = code
        self.s.progress.set_error(code, str(exc))

    def _service_connected(self, on):
        try:
            self.s.mark_connected(self.s.service, on)
        except NotFound:
            pass

    def _tally(self, msg_id, kind, unsure=False):
        """Note msg_id in result[kind] and count it in the progress as kind; a deferred or
        suspended one that may have been delivered goes to "uncertain", counted deferred."""
        if unsure and kind != "failed":
            kind = "deferred"
            self.result["uncertain"].append(msg_id)
        else:
            self.result[kind].append(msg_id)
        self.s.progress.message_failed(kind)

    def _run(self):
        s = self.s
        pr = s.progress
        st = s.store
        ids = plan.send_list(st, s.service, self.ids, s.clock())
        pr.init_total(len(ids))
        if not ids:
            self.result["error"] = NO_MESSAGES
            pr.set_error(NO_MESSAGES, "no messages to send")
        ids = self._sweep(ids)
        if s.limiter is not None:  # held already: no link, no session for them
            ids = [i for i in ids if not self._hold(i, st.get(i), False)]
        if not ids:
            pr.done()
            return
        self._ids = ids  # (an urgent pickup inserts into this same list)
        self._service_connected(True)
        for i in ids:
            s.mark_connected(i, True)
        prefs = s.settings.connect_prefs or None
        skip = []  # links whose path failed this run: the next preference is tried instead
        first_exc = None
        while True:
            hook = None
            try:
                pr.set_state(CONNECTING, "link")
                self.acq = acq = s.links.acquire(prefs, self.bring_up, skip)
                while True:
                    if self._cancel:
                        raise Cancelled("send cancelled")
                    hook = acq.step()
                    if hook is not None:
                        break
                    t = acq.trying()
                    if t is not None and pr.hook != t.name:
                        pr.set_state(CONNECTING, "link", t.name)
                    yield POLL_S
                self.result["hook"] = hook.name
                yield from self._open(hook)
                break
            except Exception as exc:  # the session never opened: every message shares the outcome
                if first_exc is not None and isinstance(exc, LinkDown):
                    exc = first_exc  # no other link came up: the preferred link's failure stands
                elif hook is not None and _path_failed(exc) and [
                        h for h in s.links.ordered(prefs) if h is not hook and h.name not in skip]:
                    # this network cannot reach the server (a portal's certificate, a port
                    # blocked, no route): as CImIAPPreferences, the next connection is tried
                    self.result["link_errors"].append("%s: %s" % (hook.name, getattr(exc, "code", "")))
                    first_exc = first_exc or exc
                    skip.append(hook.name)
                    self._close_session()
                    s.links.release(acq, s.take_down_after)
                    continue
                self._error(exc)
                self._finish(self._all_failed(ids, exc))
                return
        yield 0
        alive = True
        first = True
        again = s.reconnects
        n = 0  # ids[:n] have their outcome
        while not (self._cancel or self._stop):
            if n:  # a high-priority message queued meanwhile goes next (an alarm during a log),
                # also after the run's last message: the session is open
                new = plan.urgent(st, s.service, s.clock(), ids)
                if new:
                    pr.add_messages(len(new))
                    new = self._sweep(new)  # counted first: one past its attempts is tallied
                    for i in new:
                        s.mark_connected(i, True)
                    ids[n:n] = new
            if n >= len(ids):
                break
            if not alive:
                # the session died (drop, 421, timeout, a message cancelled mid-DATA):
                # one fresh session for the rest, instead of waiting for the retry time
                if again <= 0:
                    break
                again -= 1
                self._close_session()
                try:
                    yield from self._open(hook)
                except Exception as exc:
                    self._error(exc)
                    break
                first = True
            i = ids[n]
            n += 1
            self._done = n
            e = self._in_outbox(i)
            if e is None:  # deleted or moved meanwhile (rm(id) while another one went out)
                pr.add_messages(-1)
                continue
            if e.sending_state == entry.SEND_SUSPENDED or i in self._suspend:
                s.mark_connected(i, False)
                self._tally(i, "suspended")
                alive = True  # as after a message sent: the session is still usable
            elif s.limiter is not None and self._hold(i, e):  # over a sending limit
                continue
            else:
                alive = yield from self._send_one(n - 1, i, e, first)
            first = False
            yield 0
        if alive and self.session is not None:  # QUIT, its reply looked for a step at a time
            try:
                yield from self.session.quitting()
            except Exception:  # noqa: BLE001 - the mail is delivered: a failed QUIT changes nothing
                pass
        self._finish(ids[n:])

    def _in_outbox(self, msg_id):
        """The entry of msg_id while it is in the Outbox; None when it was deleted or moved
        since the run began (its Connected flag cleared): it is not sent."""
        try:
            e = self.s.store.get(msg_id)
        except NotFound:  # purged
            return None
        if e.parent != entry.OUTBOX:
            self.s.mark_connected(msg_id, False)
            return None
        return e

    def _sweep(self, ids):
        """Before a send: count each attempt a power cut left open, and give up on the
        messages past max_attempts or max_age_s (so both hold across reboots): failed,
        or suspended when the settings' ``give_up`` says so, and tallied. Returns the ids
        still to send (a failed message asked for again is left for begin() to start
        afresh)."""
        s = self.s
        st = s.store
        b = s.backoff
        now = int(s.clock())
        keep = []
        for i in ids:
            e = st.get(i)
            r = None
            if e.flag(entry.FLAG_ATTEMPT_OPEN):  # begun, never finished: power or board went mid-attempt
                r = plan.read_result(st, i)
                # never more interruptions than attempts (retry(id) resets the attempts)
                r["interrupted"] = min(r["interrupted"], e.attempts - 1) + 1
                plan.write_result(st, i, r)
                e.flags = (e.flags & ~entry.FLAG_ATTEMPT_OPEN) | entry.FLAG_INTERRUPTED
                if e.sending_state == entry.SEND_SENDING:
                    e.sending_state = entry.SEND_WAITING
                st.update(e)
            if e.sending_state in (entry.SEND_FAILED, entry.SEND_SUSPENDED) or \
                    not b.exhausted(now, e.attempts, e.first_try or None):
                keep.append(i)
                continue
            # why the engine stopped trying, and what to do, for the result part
            r = r or plan.read_result(st, i)
            n = r["interrupted"]
            again = "; retry(id) sends it again"
            if not (b.max_attempts and e.attempts >= b.max_attempts):
                last = r["error"]  # what kept it waiting (a TLS failure ...), if it was noted
                r["error"] = ("too-old", 0, "too old: first tried %d s ago (max_age_s %d)%s"
                              % (now - e.first_try, b.max_age_s,
                                 "; last error %s: %s" % (last[0], last[2]) if last else "")
                              + again)
            elif n:
                r["error"] = ("interrupted", 0, "interrupted %d time%s (%d attempts, max_attempts "
                              "%d): the board lost power or reset during the send; retry(id) after "
                              "fixing the supply, or send a smaller attachment"
                              % (n, "s" if n > 1 else "", e.attempts, b.max_attempts))
            else:
                r["error"] = ("attempts", 0, "gave up after %d attempts (max_attempts %d)"
                              % (e.attempts, b.max_attempts) + again)
            plan.write_result(st, i, r)
            e.flags &= ~(entry.FLAGS_CUT | entry.FLAG_CONNECTED)
            kind = s.give_up(e)
            e.error = entry.ERR_UNKNOWN
            st.update(e)
            self._tally(i, kind)  # its reason is in its result part
        return keep


    def _hold(self, msg_id, e, take=True):
        """True when a sending limit held ``msg_id`` back (state scheduled, next_try when
        it may go, ("held", 0, why) in its result part) or failed it (it alone is over a
        limit), recorded and tallied; False when it may be sent now (and was counted,
        unless ``take`` is False: the check before the link comes up)."""
        s = self.s
        st = s.store
        rcpts = 0
        for t in plan.plan(read_header(st, msg_id), s.settings, e)["transmissions"]:
            rcpts += len(t[0])
        now = int(s.clock())
        try:
            wait, why = s.limiter.admit(now, rcpts or 1, take)
        except InputError as exc:  # it alone is over a limit: it could never go
            s.record_failure(msg_id, exc, True, e.sending_state == entry.SEND_UNCERTAIN, True)
            note_error(st, msg_id, exc)
            self._tally(msg_id, "failed")
            return True
        if not wait:
            if take:  # the check before the link reads no result part: nothing to clear yet
                r = plan.read_result(st, msg_id)
                if r["error"] and r["error"][0] == "held":  # the reason no longer holds
                    r["error"] = None
                    plan.write_result(st, msg_id, r)
            return False
        e.set_flag(entry.FLAG_CONNECTED, False)
        if e.sending_state != entry.SEND_UNCERTAIN:  # an uncertain one stays recognisable as such
            e.sending_state = entry.SEND_SCHEDULED
        e.next_try = now + wait
        st.update(e)
        r = plan.read_result(st, msg_id)
        held = ("held", 0, why)  # when it may go is its next_try
        if r["error"] != held:  # the part is rewritten only when the reason changes
            r["error"] = held
            plan.write_result(st, msg_id, r)
        self._tally(msg_id, "held")
        return True

    def _send_one(self, n, msg_id, e, first):
        """Send one message over self.session; a generator (a step per piece of the body,
        Session.sending), returning False when the session can no longer be used.

        For each transmission still owed (plan.plan; recipients not yet settled) it
        builds the MIME stream (mime.build, exact size first), calls
        ``Session.send_message`` with ``on_bytes`` (progress; a cancel or suspend aborts
        before the final dot) and ``before_final_dot`` (the entry is stored "uncertain"
        before the dot or BDAT LAST goes out, so a reply lost afterwards can never make a
        silent duplicate), and notes every recipient's reply in the ``smtp-result`` part.
        Then the message is sent (moved to Sent), or the failure is classified
        (errors.classify, RFC 5321 section 4.2.1) and recorded.
        """
        session = self.session
        s = self.s
        st = s.store
        pr = s.progress
        dot = False  # True from before_final_dot() until the transmission's reply
        was_uncertain = e.sending_state == entry.SEND_UNCERTAIN
        r = plan.new_result()
        try:
            e = s.begin(msg_id)
            h = read_header(st, msg_id)
            p = plan.plan(h, s.settings, e)
            r = plan.read_result(st, msg_id)
            trans = p["transmissions"]
            if not trans:
                raise InputError("message has no recipients")
            todo = []  # (transmission, its recipients not yet settled, its MIME stream)
            total = 0
            for i, t in enumerate(trans):
                left = [a for a in t[0] if not plan.settled(r, a)]
                if left:
                    b = s.mime.build(plan.mime_message(st, msg_id, h, p, s.mime), show_bcc=t[1])
                    todo.append((i, left, b))
                    total += b.size
            pr.start_message(n, msg_id, total)
            if not first:
                pr.set_stage("rset")
                session.rset()
            base = 0  # bytes of the transmissions before this one

            def on_bytes(sent, size):
                if not dot and (self._cancel or msg_id in self._suspend):
                    raise Cancelled("cancelled during DATA")
                pr.on_bytes(base + sent, total)

            def before_final_dot():
                nonlocal dot
                if self._cancel or msg_id in self._suspend:
                    raise Cancelled("cancelled before the final dot")
                s.mark_uncertain(msg_id)  # durable before the dot (no silent double)
                dot = True

            for i, left, b in todo:
                if base:  # not the message's first transmission
                    session.rset()
                pr.set_stage("mail")
                try:
                    res = yield from session.sending(p["mail_from"], left, b.chunks(), b.size,
                                                     needs_8bit=b.needs_8bit,
                                                     needs_smtputf8=b.needs_smtputf8,
                                                     on_bytes=on_bytes, before_final_dot=before_final_dot)
                except ReplyError as no_rcpt:
                    if not no_rcpt.refused or dot:
                        raise
                    res = {"refused": no_rcpt.refused}  # every RCPT refused: noted below
                dot = False
                plan.record_rcpts(r, left, res)
                r["done"].append(i)
                r["error"] = None  # a server answered: an earlier try's error is history
                plan.write_result(st, msg_id, r)
                base += b.size
            pending = [a for t in trans for a in t[0] if not plan.settled(r, a)]
            if not pending and plan.accepted(r):
                s.record_sent(msg_id)
                self.result["sent"].append(msg_id)
                pr.message_sent()
                return True
            # a transient refusal (4xx, 552) is retried later for those recipients only
            exc = plan.refusal(r, pending)
        except Exception as exc1:
            exc = exc1
            refused = getattr(exc, "refused", None)
            if refused:  # no recipient accepted: keep each refusal on the message
                try:
                    r["rcpt"].update(refused)
                    plan.write_result(st, msg_id, r)
                except Exception:  # a report only
                    pass
        permanent, alive = classify(exc)
        # a reply to the dot settles this copy; no reply leaves it uncertain
        unsure = was_uncertain or (dot and not isinstance(exc, ReplyError))
        if isinstance(exc, Cancelled):
            s.record_suspended(msg_id, unsure)  # stays uncertain when a copy may have arrived
            self._tally(msg_id, "suspended", unsure)
            return False
        self._error(exc)
        kind = s.record_failure(msg_id, exc, permanent, unsure)
        note_error(st, msg_id, exc)
        self._tally(msg_id, kind, unsure and kind == "deferred")  # given up: not uncertain
        return alive

    def _open(self, hook):
        """Connect and open a session (greeting, EHLO, STARTTLS, AUTH); a generator."""
        s = self.s
        pr = s.progress
        cfg = s.settings
        tokens = s.tokens if cfg.auth else None
        token = cfg.oauth_token or None
        if tokens is not None:  # refreshed first when missing or about to expire (tokensource)
            pr.set_state(CONNECTING, "token", hook.name)
            token = tokens.token(s.clock())
            yield 0
        pr.set_state(CONNECTING, "tcp", hook.name)
        self.stream = yield from portfallback.connecting(s, cfg, self.result)  # the other ports if blocked
        yield 0
        f = s.session_factory
        if f is None:
            from ..wire.session import Session as f
        self.session = session = f(self.stream, s.clock, s.hostname, s.timeouts, cfg.allow_plaintext)
        pr.set_stage("greeting")
        yield from session.opening()
        if cfg.starttls:
            pr.set_stage("starttls")
            yield from session.starting_tls(cfg.tls_domain or cfg.server)
        if cfg.auth:
            pr.set_stage("auth")
            # an OAuth2 access token means XOAUTH2/OAUTHBEARER (auth.choose), else the password
            try:
                yield from session.logging_in(cfg.login, cfg.password, cfg.auth_mechanisms, token)
            except ReplyError as e:
                if tokens is None or e.reply_code != 535:
                    raise
                # token refused (revoked early, a wrong clock): one fresh token, one more AUTH
                yield from session.logging_in(cfg.login, cfg.password, cfg.auth_mechanisms,
                                              tokens.token(s.clock(), True))

    def _close_session(self):
        """Close the session without QUIT (a run that ends well says QUIT first, in _run)."""
        session = self.session
        if session is not None:
            self.result["round_trips"] += getattr(session, "round_trips", 0)
            try:
                session.close()
            except Exception:
                pass
        elif self.stream is not None:
            self.stream.close()
        self.session = self.stream = None

    def _all_failed(self, ids, exc):
        """Record for each message the failure that stopped the session opening; returns
        the ids left as they were (all of them after a cancel)."""
        if isinstance(exc, Cancelled):
            return ids
        s = self.s
        permanent = classify(exc)[0]
        tried = not isinstance(exc, LinkDown)  # no link: no try of the message (nor its age)
        for i in ids:
            e = s.store.get(i)
            if e.sending_state == entry.SEND_SUSPENDED or i in self._suspend:
                s.record_suspended(i)
                self._tally(i, "suspended")
                continue
            # a message already uncertain stays so (its earlier copy may have arrived)
            unsure = e.sending_state == entry.SEND_UNCERTAIN
            kind = s.record_failure(i, exc, permanent, unsure, tried)
            # why, for show(id): a wrong password, a refused token ...; and for one left
            # waiting by a TLS failure too (a wrong CA file or clock must show), though a
            # link or connection that failed writes nothing more
            if kind != "deferred" or tls_failed(getattr(exc, "code", None) or ""):
                note_error(s.store, i, exc)
            self._tally(i, kind, unsure and kind == "deferred")
        return ()

    def _finish(self, rest):
        """End the run: the messages in ``rest`` (not attempted) keep their state, and
        after an error they wait for a retry time."""
        s = self.s
        self._postpone(rest, self.result["error"] not in (None, "cancelled"))
        self._close_session()
        s.links.release(self.acq, s.take_down_after)
        self._service_connected(False)
        s.progress.done()

    def _postpone(self, rest, retry):
        """The messages in ``rest``, not attempted, keep their state and are listed as not
        sent; ``retry`` (the run ended in an error): they wait for a retry time."""
        s = self.s
        nxt = 0
        for i in rest:
            if self._in_outbox(i) is None:
                continue
            if retry and not nxt:
                nxt = int(s.clock()) + s.backoff.delay(1)
            s.record_postponed(i, nxt)
            self.result["not_sent"].append(i)


def _path_failed(exc):
    """True for a session-open failure of the network path rather than of the server or the
    board's settings: a transient TLS failure, a connection refused, lost or timed out."""
    return isinstance(exc, (TlsError, ConnectionLost, Timeout)) and not classify(exc)[0]


def note_error(st, msg_id, exc):
    """The last error, kept in the message's result part beside the recipients' replies."""
    try:
        r = plan.read_result(st, msg_id)
        r["error"] = (getattr(exc, "code", "error"), getattr(exc, "reply_code", 0) or 0, str(exc))
        plan.write_result(st, msg_id, r)
    except Exception:  # the result part is a report; the entry state is what counts
        pass

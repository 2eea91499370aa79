"""One run of the send engine, as a step-wise job: link, session, each message, outcomes.

``Job.step()`` advances the send by one piece (a link poll, the connection
set-up, one message) and returns the seconds to wait before the next call,
0 to be called again at once, or None when the job is finished. ``result``
then holds the outcome::

    {"sent": [ids], "failed": [ids], "deferred": [ids], "uncertain": [ids],
     "suspended": [ids], "not_sent": [ids], "error": code or None,
     "round_trips": n, "hook": name, "held": [ids over a sending limit]}

``cancel()`` stops the job: the message being sent is suspended (or kept
uncertain if its final dot already went out), the rest keep their state.
``suspend(id)`` suspends one message, also in the middle of its DATA.

Example::

    job = sender.start()
    while (w := job.step()) is not None:
        other_work(); wait(w)
"""

from ..errors import Cancelled, InputError, NotFound, ReplyError, classify
from ..store import entry as E
from ..store.headpart import read_header
from . import link as L
from . import plan
from . import portfallback
from . import progress as P


class Job:
    def __init__(self, sender, ids, bring_up):
        self.s = sender
        self.ids = list(ids or ())
        self.bring_up = bring_up
        self.result = {"sent": [], "failed": [], "deferred": [], "uncertain": [],
                       "suspended": [], "not_sent": [], "error": None, "round_trips": 0,
                       "hook": None, "held": []}
        self._cancel = False
        self._suspend = []
        self._gen = self._run()
        self.finished = False
        self.session = None

    def step(self):
        if self.finished:
            return None
        try:
            return next(self._gen)
        except StopIteration:
            self.finished = True
            return None

    def cancel(self):
        self._cancel = True

    def suspend(self, msg_id):
        self._suspend.append(msg_id)

    # ------------------------------------------------------------------------------

    def _error(self, exc):
        pr = self.s.progress
        code = getattr(exc, "code", None) or "error"
        self.result["error"] = code
        pr.set_error(code, str(exc))

    def _service_connected(self, on):
        try:
            self.s.mark_connected(self.s.service, on)
        except NotFound:
            pass

    def _run(self):
        s = self.s
        pr = s.progress
        st = s.store
        ids, gave_up = s.sweep(plan.send_list(st, s.service, self.ids, s.clock()))
        pr.init_total(len(ids) + len(gave_up))
        for i in gave_up:  # past max_attempts or max_age_s: its reason is in its result part
            self._tally(i, "suspended" if st.get(i).sending_state == E.SEND_SUSPENDED else "failed")
        if not ids:
            if not gave_up:
                self.result["error"] = P.NO_MESSAGES
                pr.set_error(P.NO_MESSAGES, "no messages to send")
            pr.done()
            return
        self._service_connected(True)
        for i in ids:
            s.mark_connected(i, True)
        self.acq = None
        self.stream = None
        try:
            pr.set_state(P.CONNECTING, stage="link")
            self.acq = acq = s.links.acquire(s.settings.connect_prefs or None, self.bring_up)
            while True:
                if self._cancel:
                    raise Cancelled("send cancelled")
                hook = acq.step()
                if hook is not None:
                    break
                t = acq.trying()
                if t is not None and pr.hook != t.name:
                    pr.set_state(P.CONNECTING, stage="link", hook=t.name)
                yield L.POLL_S
            self.result["hook"] = hook.name
            yield from self._open(hook)
        except Exception as exc:  # the session never opened: every message shares the outcome
            self._error(exc)
            self._all_failed(ids, exc)
            self._finish(ids, False)
            return
        yield 0
        alive = True
        first = True
        again = s.reconnects
        n = 0
        while n < len(ids):
            if self._cancel:
                break
            if not alive:
                # the session died (drop, 421, timeout, a message cancelled mid-DATA):
                # one fresh session for the rest, instead of waiting for the retry time
                if again <= 0:
                    break
                again -= 1
                self._close_session(False)
                try:
                    yield from self._open(hook)
                except Exception as exc:
                    self._error(exc)
                    break
                first = True
            if s.limiter is not None and s.limiter.hold(self, ids[n]):  # over a sending limit
                n += 1
                continue
            alive = self._send_one(n, ids[n], first)
            first = False
            n += 1
            yield 0
        self._finish(ids, alive)

    def _send_one(self, n, msg_id, first):
        """Send one message over self.session; False when the session can no longer be used.

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
        e = st.get(msg_id)
        if e.sending_state == E.SEND_SUSPENDED or msg_id in self._suspend:
            s.mark_connected(msg_id, False)
            self._tally(msg_id, "suspended")
            return True
        dot = [False]
        was_uncertain = e.sending_state == E.SEND_UNCERTAIN
        r = plan.new_result()
        try:
            e = s.begin(msg_id)
            h = read_header(st, msg_id)
            p = plan.plan(h, s.settings, e)
            r = plan.read_result(st, msg_id)
            trans = p["transmissions"]
            if not trans:
                raise InputError("message has no recipients")
            todo = []  # (transmission, its recipients not yet settled)
            for i in range(len(trans)):
                left = [a for a in trans[i][0] if not plan.settled(r, a)]
                if left:
                    todo.append((i, left))
            builds = []
            total = 0
            for i, _ in todo:
                b = s.mime.build(plan.mime_message(st, msg_id, h, p, s.mime), show_bcc=trans[i][1])
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
                plan.record_rcpts(r, left, res)
                r["done"].append(i)
                plan.write_result(st, msg_id, r)
                base[0] += b.size
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
                    plan.record_rcpts(r, list(refused), {"refused": refused})
                    plan.write_result(st, msg_id, r)
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

    def _open(self, hook):
        """Connect and open a session (greeting, EHLO, STARTTLS, AUTH); a generator."""
        s = self.s
        pr = s.progress
        cfg = s.settings
        tokens = s.tokens if cfg.auth else None
        token = getattr(cfg, "oauth_token", "") or None
        if tokens is not None:  # refreshed first when missing or about to expire (tokensource)
            pr.set_state(P.CONNECTING, stage="token", hook=hook.name)
            token = tokens.token(s.clock())
            yield 0
        pr.set_state(P.CONNECTING, stage="tcp", hook=hook.name)
        self.stream = portfallback.connect(s, cfg, self.result)  # the other ports if blocked
        yield 0
        self.session = session = s.session_factory(self.stream, s.clock, s.hostname, s.timeouts,
                                                   cfg.allow_plaintext)
        pr.set_stage("greeting")
        session.open()
        if cfg.starttls:
            pr.set_stage("starttls")
            session.starttls(cfg.tls_domain or cfg.server)
        if cfg.auth:
            pr.set_stage("auth")
            # an OAuth2 access token means XOAUTH2/OAUTHBEARER (auth.choose), else the password
            try:
                session.login(cfg.login, cfg.password, cfg.auth_mechanisms, token)
            except ReplyError as e:
                if tokens is None or e.reply_code != 535:
                    raise
                # token refused (revoked early, a wrong clock): one fresh token, one more AUTH
                session.login(cfg.login, cfg.password, cfg.auth_mechanisms,
                              tokens.token(s.clock(), True))

    def _close_session(self, alive):
        session = self.session
        if session is not None:
            self.result["round_trips"] += getattr(session, "round_trips", 0)
            if alive:
                try:
                    session.quit()
                except Exception:  # the mail is delivered; a failed QUIT changes nothing
                    pass
            try:
                session.close()
            except Exception:
                pass
        elif self.stream is not None:
            self.stream.close()
        self.session = None
        self.stream = None

    def _all_failed(self, ids, exc):
        s = self.s
        pr = s.progress
        permanent = classify(exc)[0]
        for i in ids:
            if isinstance(exc, Cancelled):
                break
            e = s.store.get(i)
            if e.sending_state == E.SEND_SUSPENDED or i in self._suspend:
                s.record_suspended(i)
                self._tally(i, "suspended")
                continue
            # a message already uncertain stays so (its earlier copy may have arrived)
            unsure = e.sending_state == E.SEND_UNCERTAIN
            kind = s.record_failure(i, exc, permanent, unsure, attempt=True)
            if kind == "failed":  # why, for show(id): a wrong password, a refused token, TLS ...
                note_error(s.store, i, exc)
            self._count(i, kind, unsure)

    def _tally(self, msg_id, key, kind=None):
        """Note msg_id in result[key]; count it in the progress as kind (default: key)."""
        self.result[key].append(msg_id)
        self.s.progress.message_failed(kind or key)

    def _count(self, msg_id, kind, unsure):
        """Tally what record_failure() returned: "failed", or "deferred" (left uncertain
        when it was told a copy may have arrived)."""
        if kind == "failed":
            self._tally(msg_id, kind)
        elif unsure:
            self._tally(msg_id, "uncertain", "deferred")
        else:
            self._tally(msg_id, "deferred")

    def _finish(self, ids, alive):
        s = self.s
        pr = s.progress
        handled = set(self.result["sent"] + self.result["failed"] + self.result["deferred"]
                      + self.result["uncertain"] + self.result["suspended"] + self.result["held"])
        nxt = 0
        for i in ids:
            if i not in handled:
                if not nxt and self.result["error"] not in (None, "cancelled"):
                    nxt = int(s.clock()) + s.backoff.delay(1)
                s.record_postponed(i, nxt)
                self.result["not_sent"].append(i)
        self._close_session(alive)
        s.links.release(self.acq, s.take_down_after)
        self._service_connected(False)
        pr.done()


def note_error(st, msg_id, exc):
    """The last error, kept in the message's result part beside the recipients' replies."""
    try:
        r = plan.read_result(st, msg_id)
        r["error"] = (getattr(exc, "code", "error"), getattr(exc, "reply_code", 0) or 0, str(exc))
        plan.write_result(st, msg_id, r)
    except Exception:  # the result part is a report; the entry state is what counts
        pass

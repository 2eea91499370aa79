"""One run of the send engine, as a step-wise job (split out of sender.py).

``Job.step()`` advances the send by one piece (a link poll, the connection
set-up, one message) and returns the seconds to wait before the next call,
0 to be called again at once, or None when the job is finished. ``result``
then holds the outcome::

    {"sent": [ids], "failed": [ids], "deferred": [ids], "uncertain": [ids],
     "suspended": [ids], "not_sent": [ids], "error": code or None,
     "round_trips": n, "hook": name}

``cancel()`` stops the job: the message being sent is suspended (or kept
uncertain if its final dot already went out), the rest keep their state.
``suspend(id)`` suspends one message, also in the middle of its DATA.

Example::

    job = sender.start()
    while (w := job.step()) is not None:
        other_work(); wait(w)
"""

from . import progress as P
from .errors import Cancelled, NotFound, ReplyError
from .sender import classify, send_list
from .sendone import note_error, send_one
from . import link as L
from .compat import const

# entry.py's values, folded into the code (tests/host/test_core_rules.py checks them)
_SEND_SUSPENDED = const(6)
_SEND_UNCERTAIN = const(10)


class Job:
    def __init__(self, sender, ids, bring_up):
        self.s = sender
        self.ids = list(ids or ())
        self.bring_up = bring_up
        self.result = {"sent": [], "failed": [], "deferred": [], "uncertain": [],
                       "suspended": [], "not_sent": [], "error": None, "round_trips": 0,
                       "hook": None}
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
        ids = send_list(st, s.service, self.ids, s.clock())
        pr.init_total(len(ids))
        if not ids:
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
            alive = send_one(self, n, ids[n], self.session, first)
            first = False
            n += 1
            yield 0
        self._finish(ids, alive)

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
        self.stream = s.connect(cfg.server, cfg.port, tls=cfg.secure(), cafile=cfg.cafile,
                                server_hostname=cfg.tls_domain or cfg.server,
                                timeout=s.connect_timeout)
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
            if e.sending_state == _SEND_SUSPENDED or i in self._suspend:
                s.record_suspended(i)
                self._tally(i, "suspended")
                continue
            # a message already uncertain stays so (its earlier copy may have arrived)
            unsure = e.sending_state == _SEND_UNCERTAIN
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
                      + self.result["uncertain"] + self.result["suspended"])
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

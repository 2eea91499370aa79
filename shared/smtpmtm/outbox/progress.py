"""Progress of a send operation: Symbian's TImSmtpProgress, as plain data.

One ``Progress`` object belongs to one run of the send engine. It can be read at
any time (polling) and it calls every subscribed callback after each change.
The counters keep the TImSmtpProgress invariant at every moment::

    sent + not_sent + failed == total

``not_sent`` counts the messages not yet attempted in this run, ``failed`` the
ones attempted and not delivered (permanent failure, deferred for a retry, or
suspended/cancelled, or held back by a sending limit; ``deferred``,
``suspended`` and ``held`` say how many of ``failed`` were each). ``bytes_sent``/``bytes_to_send`` describe the current message (the
exact size is known before the first byte: mime.build().size).

While ``state`` is CONNECTING, ``stage`` names the connection stage ("link",
"tcp", "greeting", "ehlo", "starttls", "auth") and ``hook`` the connect hook in
use; ``msg_no`` and ``sent`` read 0 then, as in Symbian. ``error`` is the final
error code of the session (a string from errors.py, e.g. "connection-lost") and
``error_text`` its message; a run with nothing to send ends DONE with
``error == "no-messages"`` (KSmtpNoMsgsToSendWithActiveSettings), not an error
raised.

Example::

    p = Progress(service=0x100001)
    p.subscribe(lambda pr: print(pr.state_name(), pr.sent, "/", pr.total))
    p.init_total(3)
    p.set_state(CONNECTING, stage="tcp", hook="wifi")
"""

WAITING = 0
CONNECTING = 1
SENDING = 2
DONE = 3
_NAMES = ("waiting", "connecting", "sending", "done")

NO_MESSAGES = "no-messages"


class Progress:
    """TImSmtpProgress: state, counters, current message bytes, error, stage, hook."""

    def __init__(self, service=0):
        self.service = service
        self._listeners = []
        self.init_total(0)

    # -- setters used by the engine (Symbian's SetStatus, InitialiseTotal, ...)

    def init_total(self, n):
        """NotSent = Total = n, everything else 0, state WAITING (InitialiseTotal)."""
        self.state = WAITING
        self.total = n
        self.not_sent = n
        self.sent = 0
        self.failed = 0
        self.deferred = 0
        self.suspended = 0
        self.held = 0
        self.msg_no = 0
        self.msg_id = None
        self.bytes_sent = 0
        self.bytes_to_send = 0
        self.error = None
        self.error_text = None
        self.stage = None
        self.hook = None
        self.session_state = None
        self._notify()

    def add_messages(self, n):
        """n more messages joined the run (a high-priority one queued during it), or -n left
        it (deleted from the Outbox before their turn)."""
        self.total += n
        self.not_sent += n
        self._notify()

    def set_state(self, state, stage=None, hook=None):
        self.state = state
        if stage is not None:
            self.stage = stage
        if hook is not None:
            self.hook = hook
        self._notify()

    def set_stage(self, stage):
        """Connection stage (CONNECTING) or per-message command stage (SENDING)."""
        if self.state == SENDING:
            self.session_state = stage
        else:
            self.stage = stage
        self._notify()

    def start_message(self, msg_no, msg_id, bytes_to_send):
        self.state = SENDING
        self.msg_no = msg_no
        self.msg_id = msg_id
        self.bytes_sent = 0
        self.bytes_to_send = bytes_to_send
        self.session_state = "mail"
        self._notify()

    def on_bytes(self, sent, total=None):
        """The Session's on_bytes(sent, total) callback, for the current message."""
        self.bytes_sent = sent
        if total is not None:
            self.bytes_to_send = total
        self._notify()

    def message_sent(self):
        self._count("sent")

    def message_failed(self, kind="failed"):
        """Count one attempted, undelivered message; kind: failed, deferred, suspended, held."""
        self._count(kind)

    def _count(self, kind):
        if self.not_sent > 0:
            self.not_sent -= 1
            if kind != "sent":
                self.failed += 1
            if kind != "failed":  # sent, or one of failed's kinds: deferred, suspended, held
                setattr(self, kind, getattr(self, kind) + 1)
            self._notify()

    def drop_message(self):
        """One listed message left the list unattempted (DecrementSendTotal)."""
        if self.not_sent > 0:
            self.not_sent -= 1
            self.total -= 1
            self._notify()

    def set_error(self, code, text=None):
        self.error = code
        self.error_text = text
        self._notify()

    def done(self):
        self.state = DONE
        self.bytes_sent = self.bytes_to_send
        self._notify()

    # -- reading

    def state_name(self):
        return _NAMES[self.state]

    def consistent(self):
        """True when the TImSmtpProgress counter invariant holds."""
        return (
            self.sent + self.not_sent + self.failed == self.total
            and min(self.sent, self.not_sent, self.failed) >= 0
            and self.deferred + self.suspended + self.held <= self.failed
        )

    def connection_state(self):
        """Symbian ConnectionState(): the stage while connecting, -1 waiting, "open" after."""
        if self.state == CONNECTING:
            return self.stage
        if self.state == WAITING:
            return -1
        return "open"

    def snapshot(self):
        """A plain dict copy of every attribute above (for logs, the REPL and JSON)."""
        d = dict(self.__dict__)
        del d["_listeners"]
        d["state"] = _NAMES[self.state]
        if self.state == CONNECTING:
            d["msg_no"] = d["sent"] = 0
        return d

    def __repr__(self):
        return "<Progress %s msg %d sent %d not_sent %d failed %d total %d %d/%d B%s>" % (
            _NAMES[self.state],
            self.msg_no,
            self.sent,
            self.not_sent,
            self.failed,
            self.total,
            self.bytes_sent,
            self.bytes_to_send,
            (" error " + self.error) if self.error else "",
        )

    # -- callbacks

    def subscribe(self, callback):
        """Call callback(progress) after every change; returns callback (to unsubscribe)."""
        self._listeners.append(callback)
        return callback

    def unsubscribe(self, callback):
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self):
        for cb in self._listeners:
            cb(self)

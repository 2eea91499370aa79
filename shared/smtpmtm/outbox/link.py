"""Connect hooks and connection preferences.

A *connect hook* owns one way onto the network (Wi-Fi, a cellular modem over
PPP, the host's own network). It is Symbian's IAP, made an object::

    class Hook(ConnectHook):
        name = "wifi"
        def up(self): ...      # start bringing the link up; may return at once
        def is_up(self): ...   # True while the link carries traffic
        def down(self): ...    # take it down (hang up the modem)

``up()`` must not block for long: the engine polls ``is_up()`` between steps
(with a deadline) so a board's main loop keeps running. It raises
errors.LinkDown (or OSError) when the link cannot be brought up at all.

``Links`` holds the hooks of a board and tries the service's ordered
connection preferences (settings.connect_prefs, e.g. ["wifi", "modem"]) in
turn, as CImIAPPreferences does: a link already up is used first, then each
preference is brought up until one comes up before its deadline. With
``take_down_after`` the engine takes down a link it brought up itself, so a
paid modem link is up only while mail waits. When to send (immediately, on
the next connection, on request) is sendwhen.py; a hook switched by hand is
manualhook.py.

Example::

    links = Links([wifi, modem], clock)
    acq = links.acquire(settings.connect_prefs)
    hook = acq.step()      # None: not yet, call again after POLL_S
"""

from ..errors import LinkDown, SmtpMtmError

POLL_S = 0.25  # seconds to sleep between is_up() looks while a link comes up (a sleep hint,
#               never added to a time: the deadline below is whole seconds of the clock)


class ConnectHook:
    """Base class (and interface) of a connect hook."""

    name = "link"

    def up(self):
        raise LinkDown("cannot be brought up")

    def is_up(self):
        return False

    def down(self):
        pass

    def failed(self):
        """The error that ended the bring-up started by up() (a wrong password, no access
        point, no carrier), or None while the link may still come up: the engine stops
        waiting for this hook at once instead of at its deadline."""
        return None

    def network(self):
        """The network this link joined (a Wi-Fi's SSID), or None when it cannot tell. A TLS
        failure belongs to a network (a captive portal): the board app sends the mail it
        deferred as soon as the link comes up on another one (or another link comes up)."""
        return None

    def __repr__(self):
        return "<hook %s %s>" % (self.name, "up" if self.is_up() else "down")


class AlwaysUp(ConnectHook):
    """The host's network, or a board wired to Ethernet: always up, never taken down."""

    def __init__(self, name="host"):
        self.name = name

    def up(self):
        pass

    def is_up(self):
        return True


class Links:
    """The board's hooks, tried in the service's preference order."""

    def __init__(self, hooks, clock, up_timeout_s=30):
        self.hooks = list(hooks)
        self.clock = clock
        self.up_timeout_s = up_timeout_s

    def ordered(self, prefs=None):
        """Hooks in preference order (names in prefs; unknown names skipped).

        Without prefs every hook is a candidate, in the order given.
        """
        if not prefs:
            return list(self.hooks)
        out = []
        for name in prefs:
            for h in self.hooks:
                if h.name == name and h not in out:
                    out.append(h)
        return out

    def current(self, prefs=None):
        """The first preferred hook whose link is up now, or None."""
        for h in self.ordered(prefs):
            if h.is_up():
                return h
        return None

    def acquire(self, prefs=None, bring_up=True, skip=()):
        """Bring up the first preference that comes up, skipping the hooks named in skip."""
        return Acquire(self, prefs, bring_up, skip)

    def release(self, acq, take_down=False):
        """After the send: take down a link this engine brought up, if asked to."""
        if acq is not None and acq.brought and take_down and acq.hook is not None:
            acq.hook.down()


class Acquire:
    """Step-wise bring-up: ``step()`` returns the hook once a link is up, None
    while waiting (call again after ``POLL_S``), or raises LinkDown when every
    preference failed or timed out."""

    def __init__(self, links, prefs, bring_up, skip=()):
        self.links = links
        self.cands = [h for h in links.ordered(prefs) if h.name not in skip]
        self.bring_up = bring_up
        self.i = -1
        self.deadline = None
        self.hook = None
        self.brought = False
        self.tried = []
        self.reasons = []  # what the hooks that gave up said, for the LinkDown text

    def trying(self):
        if 0 <= self.i < len(self.cands):
            return self.cands[self.i]
        return None

    def step(self):
        if self.hook is not None:
            return self.hook
        if self.i < 0:
            for h in self.cands:
                if h.is_up():
                    self.hook = h
                    return h
            if not self.bring_up:
                raise LinkDown("no link is up (send on next connection)")
            self.i = 0
            self._start()
        while self.i < len(self.cands):  # hook i is coming up (_start set its deadline)
            h = self.cands[self.i]
            if h.is_up():
                self.hook = h
                self.brought = True
                return h
            err = h.failed()
            if err is None:
                if self.links.clock() < self.deadline:
                    return None
                h.down()  # timed out: do not leave a half-up modem
                err = "not up within %d s" % self.links.up_timeout_s
            # else the hook gave up itself; it keeps its own retry plan
            self.reasons.append("%s: %s" % (h.name, err))
            self.i += 1
            self._start()
        why = "; ".join(self.reasons)
        raise LinkDown("no link came up (tried %s)%s" % (", ".join(self.tried) or "nothing",
                                                          (": " + why) if why else ""))

    def _start(self):
        self.deadline = None
        while self.i < len(self.cands):
            h = self.cands[self.i]
            self.tried.append(h.name)
            try:
                h.up()
            except (SmtpMtmError, OSError) as e:
                self.reasons.append("%s: %s" % (h.name, e))
                self.i += 1
                continue
            self.deadline = self.links.clock() + self.links.up_timeout_s
            return

"""Connect hooks, connection preferences and "send on next connection".

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
preference is brought up until one comes up before its deadline.

Send options (CImSmtpSettings SendMessageOption, same numbers):
IMMEDIATELY (0): send as soon as mail is queued, bringing a link up if needed;
ON_NEXT_CONNECTION (1): send when any hook reports a link coming up, without
bringing one up; ON_REQUEST (2): only when asked. ``decide()`` turns an option
and what happened into (send now?, may bring a link up?). With
``take_down_after`` the engine takes down a link it brought up itself, so a
paid modem link is up only while mail waits.

Example::

    links = Links([wifi, modem], clock)
    watch = Watcher(links)
    go, bring_up = decide(settings.send_option, waiting=3, came_up=watch.poll())
"""

from smtpmtm.errors import LinkDown, SmtpMtmError

IMMEDIATELY = 0
ON_NEXT_CONNECTION = 1
ON_REQUEST = 2
# settings.SmtpSettings.send_option spells them as strings
_OPTION_NAMES = {"immediately": 0, "next-connection": 1, "on-request": 2}


def option_code(option):
    """The number of a send option given as a number or a settings string."""
    if isinstance(option, str):
        return _OPTION_NAMES.get(option, ON_REQUEST)
    return option

POLL_S = 0.25  # how often to look at is_up() while a link comes up


class ConnectHook:
    """Base class (and interface) of a connect hook."""

    name = "link"

    def up(self):
        raise LinkDown("%s cannot be brought up" % self.name)

    def is_up(self):
        return False

    def down(self):
        pass

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


class ManualHook(ConnectHook):
    """A hook switched by hand (tests, the virtual board, a REPL): ``set(True)``.

    ``up()`` makes it come up after ``up_after`` further is_up() polls, or
    raises LinkDown when ``can_come_up`` is False. Counts ups and downs.
    """

    def __init__(self, name="manual", up=False, can_come_up=True, up_after=0):
        self.name = name
        self._up = up
        self.can_come_up = can_come_up
        self.up_after = up_after
        self._pending = -1
        self.ups = 0
        self.downs = 0

    def set(self, state):
        self._up = bool(state)
        self._pending = -1

    def up(self):
        self.ups += 1
        if not self.can_come_up:
            raise LinkDown("%s: no carrier" % self.name)
        self._pending = self.up_after

    def is_up(self):
        if not self._up and self._pending >= 0:
            if self._pending == 0:
                self._up = True
                self._pending = -1
            else:
                self._pending -= 1
        return self._up

    def down(self):
        self.downs += 1
        self._up = False
        self._pending = -1


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

    def acquire(self, prefs=None, bring_up=True):
        return Acquire(self, prefs, bring_up)

    def release(self, acq, take_down=False):
        """After the send: take down a link this engine brought up, if asked to."""
        if acq is not None and acq.brought and take_down and acq.hook is not None:
            acq.hook.down()


class Acquire:
    """Step-wise bring-up: ``step()`` returns the hook once a link is up, None
    while waiting (call again after ``POLL_S``), or raises LinkDown when every
    preference failed or timed out. ``stage`` says what it is doing."""

    def __init__(self, links, prefs, bring_up):
        self.links = links
        self.cands = links.ordered(prefs)
        self.bring_up = bring_up
        self.i = -1
        self.deadline = None
        self.hook = None
        self.brought = False
        self.tried = []
        self.stage = "link"

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
        while self.i < len(self.cands):
            h = self.cands[self.i]
            if self.deadline is not None and h.is_up():
                self.hook = h
                self.brought = True
                return h
            if self.deadline is None or self.links.clock() >= self.deadline:
                if self.deadline is not None:
                    h.down()  # timed out: do not leave a half-up modem
                self.i += 1
                self._start()
                continue
            return None
        raise LinkDown("no link came up (tried %s)" % (", ".join(self.tried) or "nothing"))

    def _start(self):
        self.deadline = None
        while self.i < len(self.cands):
            h = self.cands[self.i]
            self.tried.append(h.name)
            try:
                h.up()
            except (SmtpMtmError, OSError):
                self.i += 1
                continue
            self.deadline = self.links.clock() + self.links.up_timeout_s
            return


class Watcher:
    """Notices links coming up: ``poll()`` returns the name of a hook that went
    from down to up since the previous poll, else None (send on next connection)."""

    def __init__(self, links):
        self.links = links
        self.was = {}
        for h in links.hooks:
            self.was[h.name] = h.is_up()

    def poll(self):
        came = None
        for h in self.links.hooks:
            now = h.is_up()
            if now and not self.was.get(h.name) and came is None:
                came = h.name
            self.was[h.name] = now
        return came


def decide(option, waiting, came_up=None, requested=False):
    """(send now, may bring a link up) for a send option and the present events.

    waiting: number of messages waiting; came_up: a hook name from Watcher.poll();
    requested: the user asked for a send (always honoured, may bring a link up).
    """
    option = option_code(option)
    if not waiting:
        return False, False  # never bring a link up for nothing
    if requested:
        return True, True
    if option == IMMEDIATELY:
        return True, True
    if option == ON_NEXT_CONNECTION:
        return bool(came_up), False
    return False, False

"""When to send: the send options and "send on next connection".

Send options (CImSmtpSettings SendMessageOption, same numbers):
IMMEDIATELY (0): send as soon as mail is queued, bringing a link up if needed;
ON_NEXT_CONNECTION (1): send when any hook reports a link coming up (or, given
the Links, while a preferred one is up), without bringing one up; ON_REQUEST
(2): only when asked. ``decide()`` turns an option and what happened into
(send now?, may bring a link up?); a ``Watcher`` notices a hook's link coming
up (hooks and ``Links``: link.py). ``waiting(store, service, now)`` (messages
due now, the next retry time) and ``waiting_ids(store, service, now)`` (what a link
coming up sends) read the Outbox without loading the engine, so a board's idle
loop asks them cheaply; the sendable states are entry.SENDABLE.

Example::

    links = Links([wifi, modem], clock)
    watch = Watcher(links)
    go, bring_up = decide(settings.send_option, waiting=3, came_up=watch.poll())
"""

from ..store import entry as E

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


def decide(option, waiting, came_up=None, requested=False, links=None, prefs=None):
    """(send now, may bring a link up) for a send option and the present events.

    waiting: number of messages waiting; came_up: a hook name from Watcher.poll();
    requested: the user asked for a send (always honoured, may bring a link up);
    links (a Links, with the service's connection prefs): on next connection a
    send also starts while a preferred link is already up (a retry fell due).
    """
    option = option_code(option)
    if not waiting:
        return False, False  # never bring a link up for nothing
    if requested:
        return True, True
    if option == IMMEDIATELY:
        return True, True
    if option == ON_NEXT_CONNECTION:
        return bool(came_up) or (links is not None and links.current(prefs) is not None), False
    return False, False


def waiting(store, service, now):
    """(messages due now, earliest next_try of the rest or None) of the service (None: of
    every account): for autosend loops and a battery board's wake-up."""
    due = 0
    nxt = None
    for e in store.children(E.OUTBOX):
        if (service is not None and e.service != service) or e.type != E.TYPE_MESSAGE \
                or e.sending_state not in E.SENDABLE:
            continue
        if e.next_try and e.next_try > now:
            nxt = e.next_try if nxt is None or e.next_try < nxt else nxt
        else:
            due += 1
    return due, nxt


def waiting_ids(store, service, now=None):
    """Every Outbox message of the service in a sendable state, whatever its next_try: what
    a send() asked for at the REPL sends. With ``now`` (a link came up, nobody asked), not
    one whose retry time is still ahead because TLS failed: a Wi-Fi that drops and rejoins
    the same captive portal would spend its attempts in minutes instead of by its backoff."""
    out = []
    for e in store.children(E.OUTBOX):
        if e.service != service or e.sending_state not in E.SENDABLE:
            continue
        if now is not None and e.next_try > now and _tls_failed_last(store, e.id):
            continue
        out.append(e.id)
    return out


def _tls_failed_last(store, msg_id):
    """Whether the message's last error (its result part) is a TLS failure."""
    from ..errors import tls_failed
    from .plan import read_result  # only for a message with a retry time ahead

    err = read_result(store, msg_id)["error"]
    return bool(err) and tls_failed(err[0])

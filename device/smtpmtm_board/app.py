"""The board application: store, accounts, client, clock, connect hooks and the send engine.

``App(config)`` opens (and recovers) the message store on flash, the accounts,
a Client, the WallClock, the connect hooks named in the config and one
``Links`` over them. ``tick()`` is one bounded slice of the background engine
(call it from a timer, a thread, an asyncio task or a main loop; it returns
the seconds it would like to sleep; a send runs for up to ``slice_ms`` a tick,
timeslice.py):

- feeds the watchdog;
- notices a link coming up (sendwhen.Watcher): every waiting message is then
  due, whatever its retry time (as when send() is asked for), but one that waits
  because TLS failed (a captive portal rejoined must not spend its attempts); if the clock is unset,
  sends one NTP request and waits for it (a few seconds at most) before
  sending, so Date headers and certificate date checks see a real clock;
  fixes the estimated Date headers (datefix.py);
- per account, asks sendwhen.decide(send option, messages due, link came up
  or is up, send requested) whether to start a send; runs one Sender job step by step
  (with a tokensource.TokenSource when the account has an OAuth2 refresh token);
  logs each outcome; takes a link down it brought up when the config says so;
- after each send (and at boot) keeps Sent to the newest ``keep_sent``,
  Deleted to ``keep_deleted`` and the failed ones in the Outbox to ``keep_failed``
  messages (smtpmtm.store.housekeep), so a board that mails every hour does not fill
  its flash (nor its heap: the index holds every entry) with old reports.

It sets a GC threshold first, unless one is set (``collect_early``: a heap that is
collected only when full fragments over months of sends).

``send_now()`` is what the REPL's send() uses. Config (``/config.json``,
every key optional; every key in shared/smtpmtm/store/SPEC.md section 11)::

    {"store": "/store", "hooks": ["wifi"], "ntp": "pool.ntp.org", "wdt_ms": 0,
     "take_down": false, "hostname": "smtpmtm", "tz_minutes": 0,
     "wifi_file": "/wifi.json", "wifi_retry_s": 15,
     "modem": {"uart": 1, "baud": 115200, "tx": 4, "rx": 5, "apn": "internet", "pin": null,
               "user": null, "password": null},
     "lan": {"phy": "LAN8720", "mdc": 23, "mdio": 18, "power": 12},   (hooks: "lan"; lan.py)
     "up_at_boot": ["wifi"], "background": "auto", "keep_sent": 20, "keep_deleted": 0,
     "keep_failed": 50}

Example::

    from smtpmtm_board.app import App
    app = App.from_config("/config.json")
    while True:
        time.sleep(app.tick())
"""

import json

from smtpmtm.store import entry as E
from smtpmtm.outbox import link as L
from smtpmtm.outbox import sendwhen as W
from smtpmtm.compat import monotonic
from smtpmtm.errors import LinkDown, NotFound, tls_failed

from . import timeslice

DEFAULTS = {"store": "/store", "hooks": ["wifi"], "ntp": "pool.ntp.org", "wdt_ms": 0,
            "take_down": False, "hostname": "smtpmtm", "tz_minutes": 0, "wifi_file": "/wifi.json",
            "clock_file": "/clock.dat", "log_file": "/log.txt", "modem": None,
            "keep_sent": 20, "keep_deleted": 0, "keep_failed": 50}
# monotonic seconds for deadlines (wall time may jump at NTP), right across ticks wrap-around
mono = monotonic


def load_config(path):
    cfg = dict(DEFAULTS)
    try:
        with open(path) as f:
            cfg.update(json.load(f))
    except (OSError, ValueError):
        pass
    return cfg


class Unusable(L.ConnectHook):
    """A hook named in the config that could not be made (a modem's UART missing, a LAN PHY
    not found): the board still starts and sends over its other links; this one says why."""

    def __init__(self, name, exc):
        self.name = name
        self.why = "cannot be used: %s" % exc  # Links' LinkDown text names the hook itself

    def up(self):
        raise LinkDown(self.why)

    def status(self):
        return {"stage": "unusable", "error": "%s %s" % (self.name, self.why)}


def make_hooks(cfg):
    """The connect hooks named in cfg["hooks"] ("lan", "wifi", "modem", "host"), in that
    list's order; one that cannot be made is an ``Unusable`` in its place."""
    hooks = []
    for name in cfg["hooks"]:
        try:
            hooks += _make_hook(name, cfg)
        except Exception as e:  # noqa: BLE001 - one broken link must not stop the board
            hooks.append(Unusable(name, e))
    return hooks


def _make_hook(name, cfg):
    """[the hook called name], or [] when the config has nothing for it."""
    if name == "wifi":
        from .wifi import WifiHook

        return [WifiHook(path=cfg["wifi_file"], retry_s=cfg.get("wifi_retry_s", 15))]
    if name == "modem" and cfg.get("modem"):
        from machine import UART, Pin
        from .modem import ModemHook

        m = cfg["modem"]
        kw = {"timeout": 0}
        for k in ("tx", "rx"):
            if m.get(k) is not None:
                kw[k] = Pin(m[k])
        uart = UART(m.get("uart", 1), m.get("baud", 115200), **kw)
        return [ModemHook(uart, m.get("apn", "internet"), m.get("pin"),
                          ppp_user=m.get("user"), ppp_password=m.get("password"))]
    if name == "lan":
        from .lan import LanHook

        return [LanHook(cfg.get("lan"))]
    if name == "host":
        return [L.AlwaysUp("host")]
    return []


def collect_early():
    """A GC threshold, unless one is set (a user's own boot.py): collect after every quarter
    of the free heap allocated. The board's boot.py sets none: this is the one policy, the
    one the soak measured. MicroPython collects only when an allocation fails, so the
    garbage of a send pushes each object that outlives it (index entries, log lines) further
    up the heap, and a board running for months ends with its free heap in crumbs. The soak
    run measured it (host/soak.py, the 64-bit unix port, 128 KiB free): without a threshold
    the largest free block fell from 25 KB to 2 KB within 10 send cycles, then every send
    failed with MemoryError; with it, 62 KB stayed whole over 60 cycles (and 32 KB of
    96 KiB free over 1,074 messages)."""
    import gc

    try:
        if gc.threshold() < 0:  # -1: none set
            gc.collect()
            gc.threshold(max(4096, gc.mem_free() // 4))
    except (AttributeError, TypeError, ValueError):  # CPython's gc; a port without it
        pass


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def acquire(self, *a):
        return True

    def release(self):
        pass


class App:
    def __init__(self, cfg=None, hooks=None, clock=None, connect=None, wdt=None):
        from .applog import Log
        from .clock import WallClock
        from smtpmtm.accounts import Accounts
        from smtpmtm.store.tree import Store
        from .watchdog import Watchdog

        collect_early()
        self.cfg = cfg = cfg or dict(DEFAULTS)
        self.clock = clock or WallClock(cfg["clock_file"])
        self.log = Log(cfg["log_file"], self.clock)
        self.store = Store(cfg["store"])
        rep = getattr(self.store, "report", None) or {}
        if rep.get("dropped_bytes") or rep.get("rejected") or rep.get("orphans_removed"):
            self.log("store recovered: %s" % (rep,))
        self.accounts = Accounts(self.store)
        self.tidy()
        self._client = None  # made at the first queue(): the engine alone does not need it
        self.hooks = make_hooks(cfg) if hooks is None else hooks
        for h in self.hooks:
            if isinstance(h, Unusable):
                self.log("link %s %s" % (h.name, h.why))
        self.links = L.Links(self.hooks, mono)
        self.watcher = W.Watcher(self.links)
        self.wdt = wdt or Watchdog(cfg["wdt_ms"])
        self._connect = connect
        self.job = None
        self.sender = None
        self.progress = None
        self.last = None  # result of the last send
        self.stopped = None  # what stopped the running send (an exception), for its result
        self.runs = 0  # sends finished since boot
        # (hook name, network) where the last send failed TLS verification: mail it deferred
        # waits for its retry time on that network (the same portal), and goes on another
        # network or link; kept across a reset in <store>/tlsfail
        self.tls_network = self._load_tls_network()
        self.requested = False
        self.ntp = None  # None, "running", "done", "failed"
        self._ntp_until = 0
        self._next_check = 0
        self.busy = False
        self.ticks = 0  # heartbeat: status() shows it moving
        self.slice_ms = timeslice.SLICE_MS  # engine steps per tick (timeslice.py)
        self.background = None  # "timer", "thread", "asyncio" or None (see start.py)
        self.send_waits = False  # repl.send() shows its progress bar: a Ctrl-C is for it
        self.held = False  # no send starts (send() reports the one a Ctrl-C cancelled first)
        try:
            import _thread

            self.lock = _thread.allocate_lock()
        except ImportError:
            self.lock = _NoLock()

    @property
    def client(self):
        if self._client is None:
            from smtpmtm.client.mtm import Client

            self._client = Client(self.store, self.accounts, self.clock, self.cfg["tz_minutes"])
        return self._client

    @classmethod
    def from_config(cls, path="/config.json", **kw):
        return cls(load_config(path), **kw)

    def connect(self, *a, **kw):
        if self._connect is None:
            from .net import connect

            self._connect = connect
        return self._connect(*a, **kw)

    # -- the engine ------------------------------------------------------------
    def sender_for(self, account):
        from smtpmtm.outbox.sender import Sender

        s = self.accounts.load(account)
        return Sender(self.store, s, account.service, self.connect, self.clock, links=self.links,
                      hostname=self.cfg["hostname"], take_down_after=self.cfg["take_down"],
                      tokens=self.tokens_for(account, s))

    def tokens_for(self, account, settings):
        """A TokenSource (OAuth2 refresh, saved to the account) when the account can refresh;
        else None (oauth2.py is then never imported)."""
        if not settings.oauth_refresh_token:
            return None
        from smtpmtm.outbox.tokensource import TokenSource

        return TokenSource(settings, self.connect, self.clock, self.accounts, account)

    def _start_ntp(self):
        if not self.cfg.get("ntp") or self.clock.valid:
            return
        try:
            self.clock.ntp_start(self.cfg["ntp"])
            self.ntp = "running"
            self._ntp_until = mono() + 6
        except Exception as e:  # noqa: BLE001 - DNS failure etc.: send with the estimate
            self.ntp = "failed"
            self.log("ntp: %s" % e)

    def _poll_ntp(self):
        try:
            if self.clock.ntp_poll():
                from . import datefix

                self.ntp = "done"
                n = datefix.fix(self.store, self.clock)
                self.log("clock set by NTP: %s (%d dates fixed)" % (self.clock.iso(), n))
        except Exception as e:  # noqa: BLE001
            self.ntp = "failed"
            self.log("ntp: %s" % e)
        if self.ntp == "running" and mono() > self._ntp_until:
            self.clock.ntp_close()
            self.ntp = "failed"

    def tick(self):
        """One bounded step; returns seconds until the next call is useful."""
        if self.busy:
            return 0.05
        self.busy = True
        self.ticks += 1
        try:
            return self._tick()
        finally:
            self.busy = False

    def _tick(self):
        self.wdt.feed()
        if self.ntp == "running":
            self._poll_ntp()
        if self.job is not None:
            try:
                w = timeslice.run(self.job.step, self.slice_ms)
            except Exception as e:  # noqa: BLE001 - the engine must survive anything
                self.log("send crashed: %r" % e)
                self.stopped = e
                w = None
            if w is None:
                self._finished()
                return 0
            return w
        if self.held:
            return 0.5
        came = self.watcher.poll()
        moved = False
        if came:
            moved = self._moved(came)
            self.log("link %s up%s" % (came, "; %s where TLS failed: the mail that failed goes now"
                                       % moved if moved else ""))
            self._start_ntp()
        if self.ntp == "running":
            return 0.05  # a real clock first (Date headers, certificate dates)
        if not came and not self.requested and mono() < self._next_check:
            return 0.5
        self._next_check = mono() + 5
        requested, self.requested = self.requested, False
        for acct in self.accounts.list():
            ids = ()
            n = W.waiting(self.store, acct.service, self.clock())[0]
            if came or requested:  # a retry time only waits for a link, or for no one asking
                # (after a TLS failure, a link coming up waits for it too, the same portal
                # maybe, unless it came up on another network)
                ids = W.waiting_ids(self.store, acct.service,
                                    None if requested or moved else self.clock())
                n = len(ids)
            if not n:
                continue
            s = self.accounts.load(acct)
            go, bring_up = W.decide(s.send_option, n, came, requested, self.links, s.connect_prefs)
            if go:
                self._begin(acct, bring_up, ids)
                return 0
        if requested:
            self.log("send: nothing to send")
        return 0.5

    def _begin(self, acct, bring_up=True, ids=()):
        self.sender = self.sender_for(acct)
        self.progress = self.sender.progress
        # a tick's slice of steps may stream many chunks: feed the watchdog per chunk sent
        self.progress.subscribe(self._feed)
        self.job = self.sender.start(ids, bring_up)
        self.log("send: starting (%s)" % acct.name)

    def _feed(self, _progress):
        self.wdt.feed()

    def _moved(self, came):
        """How the link that came up differs from where the last send failed TLS (another
        link, or the same one on another network), or "" when it does not or cannot tell."""
        was = self.tls_network
        if was is None:
            return ""
        net = self._network(came)
        if net[0] != was[0]:  # another way out (a modem after a portal's Wi-Fi)
            return "not on %s%s" % (was[0], "" if was[1] is None else " %r" % was[1])
        if net[1] is not None and net[1] != was[1]:
            return "network %r, not %r" % (net[1], was[1])
        return ""

    def _tls_file(self):
        return self.store.root + "/tlsfail", getattr(self.store, "fs", None)

    def _load_tls_network(self):
        """Where TLS last failed, as kept before a reset, or None."""
        from smtpmtm.store import fsutil

        try:
            hook, net = json.loads(fsutil.read_file(*self._tls_file()).decode())
            return hook, net
        except Exception:  # noqa: BLE001 - none kept, or unreadable: as if TLS never failed
            return None

    def _note_tls_network(self, net):
        """Keep where TLS last failed (None: it did not), also across a reset: a board that
        restarts on another network then sends the mail it deferred at once. Written only
        when it changes (<store>/tlsfail, JSON [hook, network], fsutil.atomic_write)."""
        if net == self.tls_network:
            return
        self.tls_network = net
        from smtpmtm.store import fsutil

        try:
            if net is None:
                fsutil.remove_file(*self._tls_file())
            else:
                path, fs = self._tls_file()
                fsutil.atomic_write(path, json.dumps(list(net)).encode(), fs)
        except Exception as e:  # noqa: BLE001 - only that hurry after a reset is lost
            self.log("tls: where it failed is not kept: %s" % e)

    def _network(self, name):
        """(hook name, the network it joined or None): where a link is."""
        h = self.links.ordered([name])
        return name, h[0].network() if h else None

    def _finished(self):
        job, self.job = self.job, None
        r = getattr(job, "result", None) or {}
        if self.stopped is not None:  # the messages stay as they were; send() says why
            r = dict(r, stopped=(getattr(self.stopped, "code", type(self.stopped).__name__), str(self.stopped)))
            self.stopped = None
        self.last = r
        self.runs += 1
        p = self.progress
        err = p.error if p is not None else None
        if err == "no-messages":
            err = None
        first = self.first_waiting(self.left_waiting(r))
        self.log("send: %d sent, %d failed, %d deferred, %d held%s%s%s%s" % (
            len(r.get("sent", ())), len(r.get("failed", ())), len(r.get("deferred", ())),
            len(r.get("held", ())), (" via %s" % r["hook"]) if r.get("hook") else "",
            (" (not via %s)" % ", ".join(r["link_errors"])) if r.get("link_errors") else "",
            (" (%s: %s)" % (err, p.error_text)) if err else "",
            ("; next try %s" % self.clock.iso(first.next_try)) if first is not None else ""))
        if r.get("hook"):  # where TLS failed, if it did (errors.tls_failed: the network's codes)
            self._note_tls_network(self._network(r["hook"]) if err and tls_failed(err) else None)
        if r.get("sent"):
            self._note_sent(r["sent"])
        if r.get("port"):  # a blocked port: the one that worked is the account's first choice now
            self._save_port(r["port"])
        tokens = getattr(self.sender, "tokens", None)
        if tokens is not None and tokens.refreshed:
            self.log("oauth: access token refreshed%s" % (
                "" if tokens.save_error is None else ", NOT saved (%s)" % tokens.save_error))
        self.tidy()
        if self.clock.valid:
            self.clock.save()

    def _note_sent(self, ids):
        """Start the cool-down of the coalescing keys that went out (smtpmtm.client.coalesce; loaded
        only once a key was used: its state file, <store>/coalesce, exists)."""
        from smtpmtm.store.fsutil import exists_file

        try:
            if not exists_file(self.store.root + "/coalesce", getattr(self.store, "fs", None)):
                return
            from smtpmtm.client.coalesce import note_sent

            note_sent(self.store, ids, self.clock())
        except Exception as e:  # noqa: BLE001 - only a cool-down is lost
            self.log("coalesce: %s" % e)

    def _save_port(self, port):
        from smtpmtm.outbox.portfallback import remember

        try:
            acct = self.accounts.get(service=self.sender.service)
            s = self.accounts.load(acct)
            remember(s, port[0], port[1])
            self.accounts.save(acct, s)
            self.log("port %d (%s) worked; saved for %s" % (port[0], port[1], acct.name))
        except Exception as e:  # noqa: BLE001 - the send is done; the next one tries again
            self.log("port: not saved (%s)" % e)

    def tidy(self, keep_sent=None, keep_deleted=None):
        """Purge the oldest Sent, Deleted and failed beyond the limits (default: the config's).
        Returns how many were purged; a failure is logged, never raised into the engine."""
        from smtpmtm.store.housekeep import tidy

        ks = self.cfg.get("keep_sent", 20) if keep_sent is None else keep_sent
        kd = self.cfg.get("keep_deleted", 0) if keep_deleted is None else keep_deleted
        kf = self.cfg.get("keep_failed", 50)
        try:
            n = tidy(self.store, ks, kd, kf)
        except Exception as e:  # noqa: BLE001 - flash full or worn: the next send tries again
            self.log("tidy: %s" % e)
            return 0
        if n:
            self.log("tidy: %d old message%s purged (Sent kept to %s, Deleted to %s, failed to %s)"
                     % (n, "" if n == 1 else "s", ks, kd, kf))
        return n

    def send_now(self):
        """Ask for a send at the next tick (bringing a link up if needed)."""
        self.requested = True
        self._next_check = 0

    def cancel(self, hold=False):
        """Cancel the running send: the message on the wire is suspended (sender.Job.cancel).
        ``hold`` (a Ctrl-C while send() waits): no other send starts, not even one asked for
        meanwhile, until send() has said how the cancelled one ended and clears ``held``."""
        if hold:
            self.held = True
            self.requested = False
        if self.job is not None:
            self.job.cancel()

    def left_waiting(self, r):
        """The ids a send's result ``r`` left waiting: deferred, and not tried when the run
        ended early (not_sent)."""
        return list(r.get("deferred") or ()) + list(r.get("not_sent") or ())

    def first_waiting(self, ids):
        """Of the messages ``ids`` (a send's deferred ones), the entry next due (its
        ``next_try`` the smallest), or None."""
        first = None
        for i in ids or ():
            try:
                e = self.store.get(i)
            except NotFound:  # removed since: nothing to say about it
                continue
            if e.next_try and (first is None or e.next_try < first.next_try):
                first = e
        return first

    def outbox_counts(self):
        n = {"waiting": 0, "failed": 0, "suspended": 0, "uncertain": 0}
        for e in self.store.children(E.OUTBOX):
            if e.sending_state == E.SEND_FAILED:
                n["failed"] += 1
            elif e.sending_state == E.SEND_SUSPENDED:
                n["suspended"] += 1
            elif e.sending_state == E.SEND_UNCERTAIN:
                n["uncertain"] += 1
            else:
                n["waiting"] += 1
        return n

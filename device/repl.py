"""REPL commands for a person at the serial console: queue, send, list, show, retry ...

main.py does ``from repl import *`` after ``repl.attach(app)``; then type
``help()``. Message ids are plain ints, printed as they are typed back:
``queue(...)`` returns the new id (the REPL echoes it once, ``1048590``),
``ls()`` lists them, ``show(1048590)`` takes one (as does the string
"1048590"; the hex ids of earlier versions, "10000e" or 100003, are still
read). Errors print one line ``error (code): text`` and return None; nothing
raises at the prompt.

Commands here: help queue send ls outbox sent failed progress retry
cancel suspend rm tidy cycle; commands_show.py adds show, commands_acct.py account test
status log wifi.
"""

from smtpmtm import entry as _E

app = None

_HELP = """smtpmtm board commands (ids are numbers, as queue() and ls() print them):
  queue(to, subject, body, cc=, bcc=, attach=[paths], html=, link=False, key=, hold=600)
                  queue a message in the Outbox -> its id (link=True: attach files by reference;
                  key=: same-key messages within hold s become one digest)
  send()          send the Outbox now (brings a link up), with a progress bar
  ls()            every message: Outbox, Drafts, Sent   outbox() sent() failed()  one folder
  show(id)        a message: header, state, attempts, error, per-recipient replies
  progress()      the running send as a progress bar
  retry(id)       failed/suspended -> waiting again (retry() = every failed one)
  cancel(id)      keep it in the Outbox, not sent until retry(id) (= suspend(id));
                  cancel() with no id stops the running send
  rm(id)          delete a message (to the Deleted folder)
  tidy(keep=None) purge old Sent beyond keep (default: config keep_sent) and Deleted
  cycle()         one battery cycle: send what is due (link up, then down); -> s to sleep
  account()       show the account (secrets hidden); account(server=, port=, user=,
                  password=, email=, name=, tls='starttls'|'implicit'|'none', send=) sets it;
                  OAuth2: oauth_token_url=, oauth_client_id=, oauth_client_secret=,
                  oauth_refresh_token=, oauth_scope= (README "OAuth2")
  test()          try the connection: link, TCP, TLS, login
  status()        links, clock, engine, Outbox counts, free heap and flash
  log(n=20)       the last events      wifi(ssid, password)  Wi-Fi credentials"""


def attach(a):
    """Give the commands their App (main.py does this)."""
    global app
    app = a


def ready(fn):
    """Decorator of every command but help(): starts the app first if main.py did not (boot.py
    imports the commands, so they are there after a soft reset in the raw REPL too, as
    ``mpremote fs cp`` does, which skips main.py on any board)."""

    def command(*a, **kw):
        if app is None:
            import start

            start.start()  # attaches the app (or prints why it cannot start)
            if app is None:
                return None
        return fn(*a, **kw)

    return command


def help(*_):  # noqa: A001 - the REPL's help() is ours
    print(_HELP)


class _Reading:
    """The app lock for a read-only command. With a timer (or no) engine a read never
    meets a running step; with the engine in a thread (no GIL on the unix port) it waits
    for the step to end rather than read the store while it changes."""

    def __enter__(self):
        self.got = app.lock.acquire(0)
        if not self.got and app.background == "thread":
            print("(waiting for the send step to finish ...)")
            app.lock.acquire()
            self.got = True
        return self

    def __exit__(self, *a):
        if self.got:
            app.lock.release()
        return False


def _err(e):
    print("error (%s): %s" % (getattr(e, "code", type(e).__name__), e))


def _id(x):
    """A message id as printed (1048590, or the string "1048590"); the hex ids earlier
    versions printed ("10000e", or 100003 typed without quotes) are still read."""
    if isinstance(x, str):
        x = x.strip()
        if x.isdigit() and int(x) >= _E.FIRST_FREE_ID:
            return int(x)
        return int(x, 16)
    if x < _E.FIRST_FREE_ID:
        return int(str(x), 16)
    return x


def _addrs(v):
    if not v:
        return []
    if isinstance(v, str):
        return [a.strip() for a in v.split(",") if a.strip()]
    return list(v)


def _state(e):
    names = _E.SEND_STATE_NAMES
    s = names[e.sending_state] if e.sending_state < len(names) else str(e.sending_state)
    if app.job is not None and app.progress is not None and app.progress.msg_id == e.id:
        s = "sending"
    return s


def _when(t):
    import time

    from smtpmtm.compat import EPOCH_OFFSET

    if not t:
        return "-"
    g = time.gmtime(int(t) - EPOCH_OFFSET)
    return "%04d-%02d-%02d %02d:%02d" % g[:5]


def _line(e, folder):
    err = (" err %d" % e.error) if e.error else ""
    if e.sending_state == _E.SEND_SCHEDULED and e.next_try:  # held: a sending limit, a cool-down
        err += " held to %s" % _when(e.next_try)
    print("%d %-7s %-10s %s %-22s %-24s %6dB%s" % (e.id, folder, _state(e), _when(e.date), e.details[:22],
                                                 e.description[:24], e.size, err))


_FOLDERS = ((_E.OUTBOX, "outbox"), (_E.DRAFTS, "drafts"), (_E.SENT, "sent"))


def _list(which, only=None):
    n = 0
    with _Reading():
        for fid, name in _FOLDERS:
            if which and name not in which:
                continue
            for e in app.store.children(fid):
                if e.type != _E.TYPE_MESSAGE or (only and not only(e)):
                    continue
                _line(e, name)
                n += 1
    if not n:
        print("(none)")
    return n


@ready
def ls():
    return _list(None)


@ready
def outbox():
    return _list(("outbox",))


@ready
def sent():
    return _list(("sent",))


@ready
def failed():
    return _list(("outbox",), lambda e: e.sending_state in (_E.SEND_FAILED, _E.SEND_UNCERTAIN))


@ready
def queue(to, subject="", body="", cc=None, bcc=None, attach=(), html=None, account=None, link=False,
          key=None, hold=600, cooldown=None):
    """Queue a message; returns its id (None on error, nothing half-made is kept).

    attach: flash paths, copied into the store; with link=True only referenced
    (read at send time: no second copy of a big log on a small flash).
    key: coalesce with messages of the same key queued within hold seconds into one
    digest (smtpmtm.coalesce); cooldown (default hold): after one went out, hold the next."""
    import datefix

    from smtpmtm.errors import InputError

    c = app.client
    mid = None
    with app.lock:
        try:
            svc = None
            if key is not None:  # a bad key is refused before anything is made
                from smtpmtm.coalesce import check

                check(key, hold, cooldown)
            if account is not None:
                svc = _account(account).service
            elif not app.accounts.list():  # no From, no server: it could never go
                raise InputError("no account to send from yet: set one first with account(server=..., "
                                 "port=..., user=..., password=..., email=...); nothing was queued",
                                 code="no-account")
            mid = c.create_message(service=svc)
            for kind, v in (("to", to), ("cc", cc), ("bcc", bcc)):
                for a in _addrs(v):
                    c.add_addressee(a, kind)
            c.subject = subject
            if body:
                c.set_body_text(body)
            if html:
                c.set_body_html(html)
            for p in _addrs(attach):
                (c.add_linked_attachment if link else c.add_attachment)(p)
            if c.validate():
                raise InputError(_bad_recipients(c), code="recipient")
            c.save_message()
            c.queue()
            if not app.clock.valid:
                datefix.mark(app.store, mid, app.clock)
            if key is not None:
                from smtpmtm.coalesce import absorb

                into = absorb(c, mid, key, hold, app.clock(), cooldown)
                if into != mid:
                    print("added to digest %d" % into)
                    return into
        except Exception as e:  # noqa: BLE001 - report, keep nothing half-made
            _err(e)
            if mid is not None:
                try:
                    app.store.purge(mid)
                except Exception:  # noqa: BLE001
                    pass
            return None
    app._next_check = 0  # let the engine look at once (send immediately)
    return mid  # the REPL echoes it: the one number to type back (show(id), rm(id) ...)


def _bad_recipients(c):
    """The sentence naming the addresses queue() refuses (all of them, in the order given)."""
    from smtpmtm.address import valid_address

    bad = [a for (_k, _n, a) in c.addressees() if not valid_address(a)]
    if not bad:
        return "no recipient: give to= (and/or cc=, bcc=) an address like ann@example.com"
    return "not an email address: %s (an address looks like ann@example.com); nothing was queued" % (
        ", ".join(repr(a) for a in bad))


def _account(name):
    for a in app.accounts.list():
        if a.name == name or a.id == name:
            return a
    raise KeyError("no account %r" % (name,))


def bar(p, width=24):
    """One line: [#####-----]  52% msg 1/3  12.3/24.0 KB sending (stage)."""
    if p is None:
        return "no send yet"
    s = p.snapshot()
    total = s["bytes_to_send"] or 0
    done = s["bytes_sent"] or 0
    frac = (done / total) if total else (1.0 if s["state"] == "done" else 0.0)
    n = int(frac * width)
    what = s["state"]
    if what == "connecting":
        what += " (%s%s)" % (s["stage"] or "", (" via " + s["hook"]) if s["hook"] else "")
    line = "[%s%s] %3d%% msg %d/%d %.1f/%.1f KB %s" % ("#" * n, "-" * (width - n), int(frac * 100),
                                                      s["msg_no"] + (1 if s["state"] == "sending" else 0),
                                                      s["total"], done / 1024, total / 1024, what)
    if s["state"] == "done":
        # progress counts deferred and suspended messages among the "failed" (not delivered)
        gone = s["failed"] - s["deferred"] - s["suspended"]
        line = "[%s] done: %d sent, %d failed, %d deferred%s of %d" % (
            "#" * width, s["sent"], gone, s["deferred"],
            (", %d suspended" % s["suspended"]) if s["suspended"] else "", s["total"])
    if s["error"] and s["error"] != "no-messages":
        line += " (%s)" % s["error"]
    return line


@ready
def progress():
    print(bar(app.progress))


@ready
def send(wait=True):
    """Send now; with wait, show a progress bar until done (Ctrl-C suspends the send)."""
    import time

    runs = app.runs  # a send the engine thread starts and ends between two looks still counts
    app.send_now()
    if not wait:
        return
    started = False
    last = ""
    while True:
        try:
            if app.background in (None, "cycle"):  # nothing ticks in the background
                with app.lock:
                    w = app.tick()
                if w:
                    time.sleep(min(w, 0.2))
            else:
                time.sleep(0.2)
            with app.lock:  # a tick holds the lock: job, requested and runs are seen together
                job, req, ended = app.job, app.requested, app.runs != runs
            if job is not None:
                started = True
                line = bar(app.progress)
                if line != last:
                    print(line)
                    last = line
            elif started or ended or not req:
                started = started or ended
                break
        except KeyboardInterrupt:
            print("cancelling ...")
            app.cancel()
    if not started:
        print("nothing to send")
        return None
    r = app.last or {}
    print(bar(app.progress))
    print("sent %d, failed %d, deferred %d, suspended %d, held %d" % (
        len(r.get("sent", ())), len(r.get("failed", ())), len(r.get("deferred", ())), len(r.get("suspended", ())),
        len(r.get("held", ()))))
    p = app.progress
    if p is not None and p.error and p.error != "no-messages":
        print("why: %s" % p.error_text)  # e.g. no link came up (tried wifi): no access point ...
    return r


def _update(mid, fn):
    with app.lock:
        try:
            e = app.store.get(_id(mid))
            if e.parent != _E.OUTBOX:
                print("error (state): %d is not in the Outbox" % e.id)
                return None
            fn(e)
            app.store.update(e)
            return e
        except Exception as ex:  # noqa: BLE001
            _err(ex)
            return None


def _retry(e):
    if e.sending_state != _E.SEND_UNCERTAIN:  # an uncertain one stays recognisable as such
        e.sending_state = _E.SEND_WAITING
    e.next_try = 0
    e.attempts = 0
    e.first_try = 0
    e.error = 0
    e.set_flag(_E.FLAG_FAILED, False)


@ready
def retry(mid=None):
    """A failed or suspended message goes back to waiting (None: every failed one)."""
    if mid is None:
        ids = [e.id for e in app.store.children(_E.OUTBOX)
               if e.sending_state in (_E.SEND_FAILED, _E.SEND_SUSPENDED)]
    else:
        ids = [_id(mid)]
    n = 0
    for i in ids:
        if _update(i, _retry) is not None:
            n += 1
    app._next_check = 0
    print("%d to retry" % n)
    return n


@ready
def suspend(mid):
    """Keep a message in the Outbox but do not send it until retry(id)."""
    i = _id(mid)
    if app.job is not None:
        app.job.suspend(i)
    if app.progress is not None and app.job is not None and app.progress.msg_id == i:
        print("suspending %d after the current step" % i)
        return True

    def sus(e):
        if e.sending_state != _E.SEND_UNCERTAIN:
            e.sending_state = _E.SEND_SUSPENDED

    return _update(i, sus) is not None


@ready
def cancel(mid=None):
    """cancel(): stop the running send; cancel(id): as suspend(id)."""
    if mid is None:
        if app.job is None:
            print("no send running")
            return False
        app.cancel()
        print("cancelling the send")
        return True
    return suspend(mid)


@ready
def rm(mid, purge=False):
    """Delete a message (to Deleted; purge=True removes it from flash)."""
    i = _id(mid)
    if app.job is not None and app.progress is not None and app.progress.msg_id == i:
        print("error (busy): %d is being sent; cancel(%d) first" % (i, i))
        return False
    with app.lock:
        try:
            app.store.get(i)
            if purge:
                app.store.purge(i)
            else:
                app.store.delete(i)
        except Exception as e:  # noqa: BLE001
            _err(e)
            return False
    print("deleted %d" % i)
    return True


@ready
def cycle(budget_s=None, wake_s=None):
    """One battery send cycle (device/cycle.py); returns the seconds to deep sleep."""
    import cycle as _c

    with app.lock:
        try:
            r = _c.run(app, budget_s, wake_s)
        except Exception as e:  # noqa: BLE001
            _err(e)
            return None
    print("cycle: %d due, %d sent, %d left, link %s, awake %d ms, sleep %d s" % (
        r["due"], r["sent"], r["left"], r["link"], r["awake_ms"], r["sleep_s"]))
    return r["sleep_s"]


@ready
def tidy(keep=None):
    """Purge the oldest Sent messages beyond keep (default: config keep_sent) and Deleted ones."""
    with app.lock:
        n = app.tidy(keep_sent=keep)
    print("purged %d old message%s" % (n, "" if n == 1 else "s"))
    return n


from commands_acct import account, log, status, test, wifi  # noqa: E402,F401
from commands_show import show  # noqa: E402,F401

"""REPL commands for a person at the serial console: queue, send, list, show, retry ...

main.py does ``from smtpmtm_board.repl import *`` after ``console.attach(app)``; then type
``help()``. Message ids are plain ints, printed as they are typed back:
``queue(...)`` returns the new id (the REPL echoes it once, ``1048590``),
``ls()`` lists them, ``show(1048590)`` takes one (as does the string
"1048590"; the hex ids of earlier versions, "10000e" or 100003, are still
read). Errors print one line ``error (code): text``; nothing raises at the prompt.
Commands print what they did and return nothing for the REPL to echo under it
(a count after a listing, a dict after status()), except ``queue()`` (the id),
``cycle()`` (the seconds to deep sleep) and ``test()`` (True when all of it worked).

Commands here: help queue send ls outbox sent failed progress retry
cancel suspend rm tidy cycle; commands_show.py adds show, commands_acct.py account test
status log wifi (imported here, so the star import brings them too). What the
commands share (the App, ``ready``, the read lock, ids, dates, the progress bar)
is console.py's; no command module imports another.
"""

from smtpmtm.store import entry as _E

from . import console as _c
from .commands_acct import account, log, status, test, wifi  # noqa: F401  (REPL commands)
from .commands_show import show  # noqa: F401  (REPL command)

_HELP = """smtpmtm board commands (ids are numbers, as queue() and ls() print them):
  queue(to, subject, body, cc=, bcc=, attach=[paths], html=, link=False, key=, hold=600,
        priority=)
                  queue a message in the Outbox -> its id (link=True: attach files by reference;
                  key=: same-key messages within hold s become one digest; priority='high':
                  sent before the rest of the Outbox, 'low' after it)
  send()          send the Outbox now (brings a link up), with a progress bar
  ls()            every message: Outbox, Drafts, Sent   outbox() sent() failed()  one folder
  show(id)        a message: header, state, attempts, error, per-recipient replies
  progress()      the running send as a progress bar
  retry(id)       failed/suspended -> waiting again (retry() = every failed one)
  cancel(id)      keep it in the Outbox, not sent until retry(id) (= suspend(id));
                  cancel() with no id stops the running send
  rm(id)          delete a message (to the Deleted folder)
  tidy(keep=None) purge old Sent beyond keep (default: config keep_sent), Deleted,
                  and failed beyond config keep_failed
  cycle()         one battery cycle: send what is due (link up, then down); -> s to sleep
  account()       show the account (secrets hidden); account(server=, port=, user=,
                  password=, email=, name=, tls='starttls'|'implicit'|'none', send=) sets it;
                  OAuth2: oauth_token_url=, oauth_client_id=, oauth_client_secret=,
                  oauth_refresh_token=, oauth_scope= (README "OAuth2")
  test()          try the connection: link, TCP, TLS, login
  status()        links, clock, engine, Outbox counts, last send, free heap and flash
  log(n=20)       the last events      wifi(ssid, password)  Wi-Fi credentials"""


def help(*_):  # noqa: A001 - the REPL's help() is ours
    print(_HELP)


def _addrs(v):
    if not v:
        return []
    if isinstance(v, str):
        return [a.strip() for a in v.split(",") if a.strip()]
    return list(v)


def _line(e, folder):
    err = _c.reply_code(e, " err ")
    if e.sending_state == _E.SEND_SCHEDULED and e.next_try:  # held: a sending limit, a cool-down
        err += " held to %s" % _c.when(e.next_try)
    elif e.sending_state == _E.SEND_WAITING and e.error:  # a try failed: retried then
        err += " retry %s" % _c.when(e.next_try)
    if e.priority != _E.PRIORITY_MEDIUM:
        err += " (%s)" % ("high" if e.priority == _E.PRIORITY_HIGH else "low")
    print("%d %-7s %-10s %s %s %s %6dB%s" % (e.id, folder, _c.state(e), _c.when(e.date), _pad(e.details, 22),
                                             _pad(e.description, 24), e.size, err))


def _pad(s, n):
    """s cut or padded to n characters (MicroPython's %-24s pads to 24 bytes: a column of
    subjects with umlauts came out ragged)."""
    s = s[:n]
    return s + " " * (n - len(s))


def _list(which, only=None):
    n = 0
    with _c.Reading():
        for fid, name in _c.FOLDERS:
            if which and name not in which:
                continue
            for e in _c.app.store.children(fid):
                if e.type != _E.TYPE_MESSAGE or (only and not only(e)):
                    continue
                _line(e, name)
                n += 1
    if not n:
        print("(none)")


@_c.ready
def ls():
    _list(None)


@_c.ready
def outbox():
    _list(("outbox",))


@_c.ready
def sent():
    _list(("sent",))


@_c.ready
def failed():
    _list(("outbox",), lambda e: e.sending_state in (_E.SEND_FAILED, _E.SEND_UNCERTAIN))


@_c.ready
def queue(to=None, subject="", body="", cc=None, bcc=None, attach=(), html=None, account=None, link=False,
          key=None, hold=600, cooldown=None, priority=None):
    """Queue a message; returns its id (None on error, nothing half-made is kept).

    priority: "high" goes before the rest of the Outbox at the next send (then normal, then
    low, each in the order queued) and is marked so (X-Priority, Importance).

    attach: flash paths, copied into the store; with link=True only referenced
    (read at send time: no second copy of a big log on a small flash).
    key: coalesce with messages of the same key queued within hold seconds into one
    digest (smtpmtm.client.coalesce); cooldown (default hold): after one went out, hold the next."""
    from . import datefix

    from smtpmtm.errors import InputError

    c = _c.app.client
    mid = None
    with _c.app.lock:
        try:
            svc = None
            if key is not None:  # a bad key is refused before anything is made
                from smtpmtm.client.coalesce import check

                check(key, hold, cooldown)
            if account is not None:
                acct = _account(account)
                svc = acct.service
            elif not _c.app.accounts.list():  # no From, no server: it could never go
                raise InputError("no account to send from yet: set one first with account(server=..., "
                                 "port=..., user=..., password=..., email=...)",
                                 code="no-account")
            mid = c.create_message(service=svc)
            for kind, v in (("to", to), ("cc", cc), ("bcc", bcc)):
                for a in _addrs(v):
                    c.add_addressee(a, kind)
            c.subject = subject
            if priority is not None:
                c.priority = priority.lower() if isinstance(priority, str) else priority
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
            if not _c.app.clock.valid:
                datefix.mark(_c.app.store, mid, _c.app.clock)
            if key is not None:
                from smtpmtm.client.coalesce import absorb

                into = absorb(c, mid, key, hold, _c.app.clock(), cooldown)
                if into != mid:
                    print("added to digest %d" % into)
                    return into
        except Exception as e:  # noqa: BLE001 - report, keep nothing half-made
            code = getattr(e, "code", "")
            _c.err(e, ("; account(...) sets it" if code == "settings" else "") + "; nothing was queued" + (
                " (tidy() frees Sent and Deleted; attach=..., link=True sends a file without a "
                "copy)" if code == "store-full" else ""))
            if mid is not None:
                try:
                    _c.app.store.purge(mid)
                except Exception:  # noqa: BLE001
                    pass
            return None
    _c.app._next_check = 0  # let the engine look at once (send immediately)
    return mid  # the REPL echoes it: the one number to type back (show(id), rm(id) ...)


def _bad_recipients(c):
    """The sentence naming the addresses queue() refuses (all of them, in the order given)."""
    from smtpmtm.syntax import valid_address

    bad = [a for (_k, _n, a) in c.addressees() if not valid_address(a)]
    if not bad:
        return "no recipient: give to= (and/or cc=, bcc=) an address like ann@example.com"
    return "not an email address: %s (an address looks like ann@example.com%s)" % (
        ", ".join(repr(a) for a in bad),
        "; separate addresses with commas" if any(";" in a for a in bad) else "")


def _account(name):
    for a in _c.app.accounts.list():
        if a.name == name or a.id == name:
            return a
    raise KeyError("no account %r" % (name,))


@_c.ready
def progress():
    print(_c.bar(_c.app.progress))


@_c.ready
def send(wait=True):
    """Send now; with wait, show a progress bar until done (Ctrl-C suspends the send) and the
    outcome. Returns nothing for the REPL to echo: the outcome as a dict is ``app.last``."""
    runs = _c.app.runs  # a send the engine thread starts and ends between two looks still counts
    _c.app.send_now()
    if not wait:
        return
    _c.app.send_waits = True  # a Ctrl-C the timer engine's tick takes is for send() (start.py)
    try:
        started = _watch(runs)
    finally:
        _c.app.send_waits = _c.app.held = False
    if not started:
        n = _c.app.outbox_counts()  # what the Outbox holds that send() does not send, and why
        held = ["%d %s" % (n[k], k) for k in ("failed", "suspended") if n[k]]
        print("nothing to send" + (" (%s in the Outbox: outbox() lists them, show(id) says why, "
                                   "retry(id) sends one again)" % " and ".join(held) if held else ""))
        return
    r = _c.app.last or {}
    print(_c.bar(_c.app.progress))
    with _c.app.lock:  # reads the deferred ones' retry times (the engine may tick meanwhile)
        lines = _c.outcome(r, _c.app.progress)
    for line in lines:
        print(line)


def _watch(runs):
    """send()'s wait: the progress bar until the send it asked for ends (ticking the engine
    when nothing ticks in the background); whether a send started."""
    import time

    started = False
    last = ""
    while True:
        try:
            if _c.app.background in (None, "cycle"):  # nothing ticks in the background
                with _c.app.lock:
                    w = _c.app.tick()
                if w:
                    time.sleep(min(w, 0.2))
            else:
                time.sleep(0.2)
            with _c.app.lock:  # a tick holds the lock: job, requested and runs are seen together
                job, req, ended = _c.app.job, _c.app.requested, _c.app.runs != runs
            if job is not None:
                started = True
                line = _c.bar(_c.app.progress)
                if line != last:
                    print(line)
                    last = line
            elif started or ended or not req:
                return started or ended
        except KeyboardInterrupt:  # one that lands in the engine's step ended its run: the
            # message it took back is suspended by the cancel too (sender.Job.cancel); no
            # other send starts before this one is reported
            print("cancelling ...")
            _c.app.cancel(True)


def _update(mid, fn):
    with _c.app.lock:
        try:
            e = _c.app.store.get(_c.msg_id(mid))
            if e.parent != _E.OUTBOX:
                print("error (state): %d is not in the Outbox" % e.id)
                return None
            fn(e)
            _c.app.store.update(e)
            return e
        except Exception as ex:  # noqa: BLE001
            _c.err(ex)
            return None


def _retry(e):
    if e.sending_state != _E.SEND_UNCERTAIN:  # an uncertain one stays recognisable as such
        e.sending_state = _E.SEND_WAITING
    e.next_try = 0
    e.attempts = 0
    e.first_try = 0
    e.error = 0
    e.set_flag(_E.FLAG_FAILED, False)


def _on_the_wire(i):
    """Whether message i is the one the running send is sending (its body goes out in
    slices: REPL commands run between them)."""
    a = _c.app
    return a.job is not None and a.progress is not None and a.progress.msg_id == i


def _busy(i):
    """False, or True after saying that message i is on the wire (rm, retry)."""
    if _on_the_wire(i):
        print("error (busy): %d is being sent; cancel(%d) first" % (i, i))
        return True
    return False


@_c.ready
def retry(mid=None):
    """A failed or suspended message goes back to waiting (None: every failed one)."""
    if mid is None:
        ids = [e.id for e in _c.app.store.children(_E.OUTBOX)
               if e.sending_state in (_E.SEND_FAILED, _E.SEND_SUSPENDED)]
    else:
        ids = [_c.msg_id(mid)]
        if _busy(ids[0]):
            return
    n = 0
    for i in ids:
        if _update(i, _retry) is not None:
            n += 1
    _c.app._next_check = 0
    if n or mid is None:  # one id that failed has said why already
        print("%d to retry" % n)


@_c.ready
def suspend(mid):
    """Keep a message in the Outbox but do not send it until retry(id)."""
    i = _c.msg_id(mid)
    if _c.app.job is not None:
        _c.app.job.suspend(i)
    if _on_the_wire(i):
        print("suspending %d: its send stops before the final dot (if that has not gone out)" % i)
        return

    def sus(e):
        if e.sending_state != _E.SEND_UNCERTAIN:
            e.sending_state = _E.SEND_SUSPENDED

    _update(i, sus)


@_c.ready
def cancel(mid=None):
    """cancel(): stop the running send; cancel(id): as suspend(id)."""
    if mid is None:
        if _c.app.job is None:
            print("no send running")
            return
        _c.app.cancel()
        print("cancelling the send")
        return
    suspend(mid)


@_c.ready
def rm(mid, purge=False):
    """Delete a message (to Deleted; purge=True removes it from flash)."""
    i = _c.msg_id(mid)
    if _busy(i):
        return
    with _c.app.lock:
        try:
            gone = _c.message(i).parent == _E.DELETED
            if purge:
                _c.app.store.purge(i)
            elif gone:
                print("%d is already deleted (rm(%d, purge=True) removes it from the flash)" % (i, i))
                return
            else:
                _c.app.store.delete(i)
        except Exception as e:  # noqa: BLE001
            _c.err(e)
            return
    print("%s %d" % ("removed from the flash:" if purge else "deleted", i))


@_c.ready
def cycle(budget_s=None, wake_s=None):
    """One battery send cycle (smtpmtm_board/cycle.py); returns the seconds to deep sleep."""
    from . import cycle as _cycle

    with _c.app.lock:
        try:
            r = _cycle.run(_c.app, budget_s, wake_s)
        except Exception as e:  # noqa: BLE001
            _c.err(e)
            return None
    print("cycle: %d due, %d sent, %d left, link %s, awake %d ms, sleep %d s" % (
        r["due"], r["sent"], r["left"], r["link"] or "none (%s)" % r["why"] if r["due"] else "-",
        r["awake_ms"], r["sleep_s"]))
    return r["sleep_s"]


@_c.ready
def tidy(keep=None):
    """Purge the oldest Sent messages beyond keep (default: config keep_sent), Deleted ones and
    failed ones beyond config keep_failed."""
    if keep is not None and not _c.count("keep", keep, "how many Sent messages to keep"):
        return None
    with _c.app.lock:
        n = _c.app.tidy(keep_sent=keep)
    print("purged %d old message%s" % (n, "" if n == 1 else "s"))


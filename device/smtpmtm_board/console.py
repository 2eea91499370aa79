"""What every REPL command shares: the App they work on, the read lock, ids, dates, errors.

``attach(app)`` (start.py does it) gives the commands of repl.py,
commands_show.py and commands_acct.py their App; each of them imports this
module, none imports another, so there is no circle. ``Reading()`` holds the
app lock for a read-only command; ``msg_id(x)`` reads an id as typed (decimal, or the hex of old versions), ``message(i)``
its entry if it is a message;
``err(e)`` prints one line ``error (code): text``; ``bar(progress)`` draws the
progress line; ``outcome(result, progress)`` gives the lines that end a send (send(),
status()): the counts, why, a waiting message's ``next_try(e)`` and after a TLS
failure ``tls_advice(code)`` (show(id) prints those two too).

Example::

    from smtpmtm_board import console
    console.attach(app)
    with console.Reading():
        e = console.app.store.get(console.msg_id("100003"))
"""

from smtpmtm.store import entry as _E

app = None

FOLDERS = ((_E.OUTBOX, "outbox"), (_E.DRAFTS, "drafts"), (_E.SENT, "sent"))  # what ls() lists


def folder_name(fid):
    """"outbox", "drafts", "sent", "deleted"; another folder by its id."""
    return dict(FOLDERS).get(fid) or ("deleted" if fid == _E.DELETED else "%d" % fid)


def attach(a):
    """Give the commands their App (start.py does this)."""
    global app
    app = a


def ready(fn):
    """Decorator of every command but help(): starts the app first if main.py did not (boot.py
    imports the commands, so they are there after a soft reset in the raw REPL too, as
    ``mpremote fs cp`` does, which skips main.py on any board). Bad input a command did not
    report itself (an id that is no id) prints one ``error (input): ...`` line, no traceback;
    so does a call with the wrong arguments (``show()``, ``status(1)``, ``ls(x=1)``)."""

    def command(*a, **kw):
        from smtpmtm.errors import InputError

        if app is None:
            from . import start

            start.start()  # attaches the app (or prints why it cannot start)
            if app is None:
                return None
        try:
            return fn(*a, **kw)
        except InputError as e:
            err(e)
            return None
        except TypeError as e:  # the call itself, not a fault inside the command: say how to call it
            t, name = str(e), getattr(fn, "__name__", None)  # a port without function names: raise
            if not name or not (t.startswith(name + "()") or t.startswith("unexpected keyword arg")):
                raise
            err(InputError("%s: %s (help() shows how to call it)" % (name, t)))
            return None

    return command


class Reading:
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


def err(e, after=""):
    """Print the one line ``error (code): text``, then ``after`` (e.g. "; nothing was queued")."""
    print("error (%s): %s%s" % (getattr(e, "code", type(e).__name__), e, after))


def count(name, v, what):
    """A REPL argument that must be a whole number, 0 or more: False after printing the error
    that names it (tidy(keep=-1), log('x')), else True."""
    from smtpmtm.errors import InputError, whole

    try:
        whole(name, v, unit=what)
    except InputError as e:
        err(e)
        return False
    return True


def msg_id(x):
    """A message id as printed (1048590, or the string "1048590"); the hex ids earlier
    versions printed ("10000e", or 100003 typed without quotes) are still read. A number
    that is no message id either way (show(999): 0x999 is below the first message id)
    is an input error naming what was typed, not a lookup of its hex reading."""
    try:
        if isinstance(x, str):
            s = x.strip()
            i = int(s) if s.isdigit() and int(s) >= _E.FIRST_FREE_ID else int(s, 16)
        else:
            i = int(str(x), 16) if x < _E.FIRST_FREE_ID else int(x)
        if i >= _E.FIRST_FREE_ID:
            return i
    except (TypeError, ValueError):  # show('zz'), show(None), show(1.5e6): one line, not a traceback
        pass
    from smtpmtm.errors import InputError

    raise InputError("not a message id: %r (type a number as ls() prints it, e.g. show(1048590))" % (x,))


def message(i):
    """Entry i, read with the lock held, if it is a message; else an InputError saying what it
    is (rm() of an account's service would have moved the account's entry to Deleted)."""
    e = app.store.get(i)
    if e.type != _E.TYPE_MESSAGE:
        from smtpmtm.errors import InputError

        what = "an account's service (account() shows it)" if e.type == _E.TYPE_SERVICE else "a folder or part"
        raise InputError("%d is not a message: it is %s; ls() lists the messages" % (i, what))
    return e


def state(e):
    """The sending state of entry e by name ("sending" while the engine sends it)."""
    names = _E.SEND_STATE_NAMES
    s = names[e.sending_state] if e.sending_state < len(names) else str(e.sending_state)
    if (e.parent == _E.OUTBOX and app.job is not None and app.progress is not None
            and app.progress.msg_id == e.id):  # once sent, the job's last message is just sent
        s = "sending"
    return s


def reply_code(e, label):
    """``label`` + the server's reply code of entry e's last failure ("err 535"), "" when
    it has none (no failure, or one without a reply: entry.ERR_UNKNOWN)."""
    return "%s%d" % (label, e.error) if e.error > 0 else ""


def when(t):
    """Unix seconds as "YYYY-MM-DD HH:MM" (UTC), "-" for none."""
    import time

    from smtpmtm.compat import EPOCH_OFFSET

    if not t:
        return "-"
    g = time.gmtime(int(t) - EPOCH_OFFSET)
    return "%04d-%02d-%02d %02d:%02d" % g[:5]


def next_try(e):
    """When a waiting message goes again and how far its tries are: "next try 2026-12-05
    00:41, attempt 2 of 8" (its account's max_attempts; the app also tries it when a link
    comes up or send() asks)."""
    most = 0
    for a in app.accounts.list():
        if a.service == e.service:
            most = app.accounts.load(a).max_attempts or 0
            break
    return "next try %s, attempt %d%s" % (when(e.next_try), e.attempts + 1,
                                          (" of %d" % most) if most else "")


def tls_advice(code):
    """For messages left waiting by a TLS failure (errors.tls_failed): nothing was sent, and
    what to check; None for any other code."""
    from smtpmtm.errors import tls_failed

    if not code or not tls_failed(code):
        return None
    return ("TLS verification failed (%s): nothing was sent; tried again later, as a Wi-Fi portal "
            "or proxy in the way may pass. If not, check the CA file (/certs/ca.pem, "
            "account(cafile=)), the server name and the clock%s, then send()"
            % (code, "" if getattr(app.clock, "valid", True) else " (NOT set)"))


def outcome(r, p):
    """The lines that end a send: the counts, why it stopped short (p: its Progress), and,
    for messages left waiting, when the first goes again (after a TLS failure, what to check)."""
    rest = r.get("not_sent") or ()  # left untried when the run ended early: they wait too
    out = ["sent %d, failed %d, deferred %d, suspended %d, held %d%s" % (
        len(r.get("sent", ())), len(r.get("failed", ())), len(r.get("deferred", ())),
        len(r.get("suspended", ())), len(r.get("held", ())), ", not sent %d" % len(rest) if rest else "")]
    if r.get("link_errors"):  # links whose network could not reach the server: the next was tried
        out.append("not via %s: the server was not reachable that way" % ", ".join(r["link_errors"]))
    err = p.error if p is not None and p.error != "no-messages" else None
    if r.get("stopped"):  # the engine stopped on an error of its own (a full flash ...)
        code, text = r["stopped"]
        out.append("why: the send stopped (%s): %s; %s" % (code, text, (
            "the flash is full: remove files of your own or tidy(), then send()" if code == "store-full"
            else "the messages are as they were: log() has it, send() tries again")))
    elif err:
        out.append("why: %s" % p.error_text)  # e.g. no link came up (tried wifi): no access point ...
    waiting = app.left_waiting(r)
    first = app.first_waiting(waiting)
    if first is not None:
        out.append("waiting: %d, %s" % (len(waiting), next_try(first)))
        advice = tls_advice(err)
        if advice:
            out.append(advice)
    elif waiting:  # untried, with no retry time (a cancelled run's rest)
        out.append("waiting: %d, for the next send (send() sends them now)" % len(waiting))
    return out


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

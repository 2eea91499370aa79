"""REPL flow on the MicroPython unix port (run by tests/host/test_device_repl.py).

Usage: micropython device_repl_flow.py SCENARIO DIR PORT CAFILE [TOKEN_URL | GOOD_PORT [VIA]]
Builds an App over a store in DIR with one hand-switched link ("wifi"), runs
the REPL commands a person would type, and prints what they print plus
"MARK <name> <value>" lines the host test checks.
"""

import sys

sys.path.append(sys.argv[0].rsplit("/", 1)[0])

import board_app  # noqa: E402
from smtpmtm_board.repl import *  # noqa: E402,F401,F403
from smtpmtm.outbox.manualhook import ManualHook  # noqa: E402

scenario, d, port, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def mark(name, value):
    print("MARK", name, value)


def state(a, i):
    """Message i's sending state by name ("waiting", "suspended", ...)."""
    from smtpmtm.store import entry as E

    return E.SEND_STATE_NAMES[a.store.get(i).sending_state]


def make_app(**more):
    return board_app.make_app(d, **more)


def run_until_idle(a, n=400):
    board_app.run_until_idle(a, n, 0.05)


def setup_account():
    account(server="localhost", port=port, tls="starttls", user="ann", password="s3cret",
            email="pump@example.com", name="Pump House", cafile=ca)


def queue_log(blocks):
    """Write DIR/big.bin (blocks of bytes(range(256)) * 16, 4 KB each) and queue "Log" to
    ann@example.com with it attached: the message's id."""
    f = open(d + "/big.bin", "wb")
    for _ in range(blocks):
        f.write(bytes(range(256)) * 16)
    f.close()
    return queue("ann@example.com", "Log", "attached", attach=[d + "/big.bin"])


def ctrl_c_in_a_body(a, when=None):
    """From now on the App's next connection raises a KeyboardInterrupt from its first
    write of a body piece (as a board raises a typed Ctrl-C wherever the code runs), once
    ``when()`` says so if given; the list returned gets a 1 when it did."""
    real_connect = a._connect
    if real_connect is None:  # no send yet (App.connect imports it at the first)
        from smtpmtm_board.net import connect as real_connect
    typed = []

    def connect(*x, **k):
        stream = real_connect(*x, **k)
        write = stream.write

        def ctrl_c(data):
            if not typed and len(data) > 1000 and (when is None or when()):
                typed.append(1)
                raise KeyboardInterrupt
            return write(data)

        stream.write = ctrl_c
        return stream

    a._connect = connect
    return typed


class ThreadTimer:
    """machine.Timer's signature on the unix port, which has none: a thread calls back
    every period ms, as a board's timer interrupt would (the callback only schedules
    the tick: it runs in the main thread, between the bytecodes of the code there).
    ``beat_ms`` set: beats that often instead of the period asked for."""

    PERIODIC = 1
    beat_ms = None

    def __init__(self, tid, period, mode, callback):
        import _thread

        self.on = True
        _thread.start_new_thread(self._beat, (self.beat_ms or period, callback))

    def _beat(self, period, callback):
        import time

        while self.on:
            time.sleep_ms(period)
            callback(self)

    def deinit(self):
        self.on = False


if scenario == "outbox":
    a, link = make_app()
    setup_account()
    account()
    i1 = queue("ann@example.com", "Alarm 1", "Pressure low")
    i2 = queue("bob@example.com, carol@example.com", "Daily report", "all fine", cc="dave@example.com")
    i3 = queue_log(256)  # 1 MB
    run_until_idle(a)  # link down, send on next connection: nothing happens
    mark("outbox_before", len(a.store.children(0x1003)))
    outbox()
    link.set(True)  # the link comes up
    run_until_idle(a)
    mark("outbox_after", len(a.store.children(0x1003)))
    mark("sent_after", len(a.store.children(0x1005)))
    mark("wdt_feeds", a.wdt.feeds)
    sent()
    status()
    log()
    show(i3)

elif scenario == "priority":  # an alarm queued behind a big log goes first at the next connection
    a, link = make_app()
    setup_account()
    queue_log(64)  # 256 KB
    queue("ann@example.com", "Chatter", "fyi", priority="low")
    print("MARK-BAD")
    mark("bad", queue("ann@example.com", "Alarm", "x", priority="urgent"))
    print("MARK-QUEUED")
    alarm = queue("ann@example.com", "Alarm", "Pressure low", priority="High")
    outbox()
    show(alarm)
    print("MARK-SEND")
    link.set(True)
    run_until_idle(a)
    mark("sent", len(a.store.children(0x1005)))

elif scenario == "slices":  # the REPL gets turns while a big attachment goes out
    a, link = make_app()
    setup_account()
    log_id = queue_log(64)  # 256 KB
    mark("log_id", log_id)
    link.set(True)
    a.slice_ms = 0  # one engine step a tick: a tick ends after each piece of the body
    ticks = 0
    while ticks < 2000:
        a.tick()
        ticks += 1
        p = a.progress
        if a.job is not None and p is not None and p.msg_id == log_id and 0 < p.bytes_sent < p.bytes_to_send:
            break
    mark("mid_body", a.job is not None and 0 < a.progress.bytes_sent < a.progress.bytes_to_send)
    print("MARK-BETWEEN")
    progress()  # REPL commands between two pieces of the log's body
    outbox()
    alarm = queue("ann@example.com", "Alarm", "Pressure low", priority="high")
    rm(log_id)  # refused: the log is on the wire
    retry(log_id)  # refused too: it would reset the attempts of a message being sent
    print("MARK-AFTER")
    n = 0
    while a.job is not None and n < 5000:
        a.tick()
        n += 1
    mark("ticks_for_the_rest", n)
    run_until_idle(a)
    mark("sent", len(a.store.children(0x1005)))
    sent()

elif scenario == "timer":  # a board's default engine: a timer schedules the ticks in the main thread
    import time

    from smtpmtm_board import start

    a, link = make_app()
    setup_account()
    log_id = queue_log(16)  # 64 KB
    a.slice_ms = 0  # one step a beat: over loopback a 100 ms slice sends the whole log at once
    start._start_timer(a, ThreadTimer)
    a.background = "timer"
    link.set(True)
    seen = set()  # how far the log had gone each time main.py's own loop got a turn
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < 90000 and not (a.runs and a.job is None):
        p = a.progress
        if p is not None and p.msg_id == log_id and 0 < p.bytes_sent < p.bytes_to_send:
            seen.add(p.bytes_sent)
    mark("main_saw_mid_body", len(seen))
    mark("ticks", a.ticks)
    mark("sent", len(a.store.children(0x1005)))
    # a Ctrl-C that lands in a tick while the next log goes out (raised from the stream's
    # write, as a board raises it wherever the code runs): one line, no traceback; the send
    # ends, the log waits, its attempt not counted, and the engine sends it at its next check
    typed = ctrl_c_in_a_body(a)
    print("MARK-CTRL-C")
    log2 = queue("ann@example.com", "Log 2", "attached", attach=[d + "/big.bin"])
    a.slice_ms = 100
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < 90000 and not (typed and a.store.get(log2).parent == 0x1005):
        pass
    start.stop(a)
    print("MARK-AFTER-CTRL-C")
    mark("typed", len(typed))
    mark("log2_folder", a.store.get(log2).parent)
    show(log2)

elif scenario == "slowserver":  # the timer engine while the server pauses before its greeting and its last reply
    import time

    from smtpmtm_board import start

    a, link = make_app()
    setup_account()
    mid = queue("ann@example.com", "Report", "the day's readings")
    start._start_timer(a, ThreadTimer)  # the default slice of 100 ms a beat
    a.background = "timer"
    link.set(True)
    greeting, dot = set(), set()  # the beats main.py's loop saw while the server paused
    gap, last = 0, time.ticks_ms()
    t0 = last
    while time.ticks_diff(time.ticks_ms(), t0) < 90000 and a.store.get(mid).parent != 0x1005:
        now = time.ticks_ms()
        gap = max(gap, time.ticks_diff(now, last))
        last = now
        p = a.progress
        if p is not None and p.stage == "greeting" and a.job is not None:
            greeting.add(a.ticks)
        if p is not None and p.msg_id == mid and p.bytes_to_send and p.bytes_sent == p.bytes_to_send:
            dot.add(a.ticks)
    start.stop(a)
    mark("beats_in_greeting", len(greeting))
    mark("beats_before_last_reply", len(dot))
    mark("longest_gap_ms", gap)
    mark("folder", a.store.get(mid).parent)

elif scenario == "sendctrlc":  # Ctrl-C while send() waits: the send is cancelled wherever it lands
    from smtpmtm_board import start

    a, link = make_app()
    setup_account()
    link.set(True)
    # no engine in the background: send() ticks it, and the Ctrl-C lands in the engine's step
    log1 = queue_log(16)
    typed = ctrl_c_in_a_body(a)
    print("MARK-SEND-1")
    send()
    print("MARK-SEND-2")
    mark("typed_1", len(typed))
    mark("log1", state(a, log1))
    # the timer engine: its own run has begun (the link is up), send() is typed meanwhile
    # (asking for a send), and the Ctrl-C lands in a tick while send() waits
    log2 = queue_log(16)
    chat = queue("ann@example.com", "Chat", "queued behind the log")
    typed = ctrl_c_in_a_body(a, lambda: a.send_waits)
    a.slice_ms = 0  # one step a beat: the log takes a while
    ThreadTimer.beat_ms = 20  # beats 10 times as often as send() looks: a run that starts
    # right after the cancelled one (the one send() asked for) would start between two looks
    start._start_timer(a, ThreadTimer)
    a.background = "timer"
    while a.job is None:
        pass
    send()
    print("MARK-SEND-3")
    mark("typed_2", len(typed))
    mark("log2", state(a, log2))
    mark("chat", state(a, chat))  # as send() ended
    queue("ann@example.com", "Ping", "still here")
    a.slice_ms = 100
    send()  # sends the chat and the ping; the cancelled logs stay suspended
    start.stop(a)
    mark("logs_after", " ".join(state(a, i) for i in (log1, log2)))
    mark("sent", len(a.store.children(0x1005)))

elif scenario == "failures":
    a, link = make_app()
    setup_account()
    link.set(True)
    ok = queue("good@example.com", "fine", "x")
    bad = queue("bad@example.com", "refused", "x")
    mark("bad_id", "%d" % bad)  # as the REPL prints ids: decimal
    send()
    failed()
    show(bad)
    retry(bad)
    e = a.store.get(bad)
    mark("after_retry_state", e.sending_state)
    suspend(bad)
    mark("after_suspend_state", a.store.get(bad).sending_state)
    send()
    mark("suspended_still_in_outbox", a.store.get(bad).parent == 0x1003)
    rm(bad)
    mark("outbox_after_rm", len(a.store.children(0x1003)))
    queue("", "no recipient", "x")
    queue("ann@example.com; bob@example.com", "Outlook's separator", "x")
    queue(bcc="ann@example.com", subject="Bcc only")  # no To: fine, once it has a recipient
    mark("bcc_only", len(a.store.children(0x1003)))
    rm(a.store.children(0x1003)[0].id, purge=True)
    queue("x@example.com", "missing attachment", "x", attach=["/nonexistent/file.csv"])
    mark("outbox_after_bad_queues", len(a.store.children(0x1003)))
    mark("drafts_after_bad_queues", len(a.store.children(0x1004)))
    svc = a.accounts.default().service  # an id of the wrong kind: the account's own entry
    show(svc)
    rm(svc)
    mark("service_parent_after_rm", a.store.get(svc).parent)

elif scenario == "notsent":  # a run that ends early: what it left untried is said to wait
    a, link = make_app()
    setup_account()
    ids = []
    for n in range(3):
        with open(d + "/f%d.csv" % n, "w") as f:
            f.write("a,b\n%d,2\n" % n)
        ids.append(queue("ann@example.com", "linked %d" % n, "x", attach=[d + "/f%d.csv" % n], link=True))
    import os

    os.remove(d + "/f0.csv")  # two linked files gone: each failure ends its session,
    os.remove(d + "/f1.csv")  # one fresh session is tried, then the run ends
    link.set(True)
    send()
    mark("states", " ".join("%d" % a.store.get(i).sending_state for i in ids))

elif scenario == "account":  # presets set and cleared, the account as typed, advice on failures
    a, link = make_app()

    def acct():
        s = a.accounts.load(a.accounts.default())
        return "%s %s %s %r" % (s.provider or "-", s.fallback_ports, s.limits, s.oauth_token_url)

    account(provider="gmail", user="ann@gmail.com")  # no password yet: saved, not ready to send
    mark("queue_without_password", queue("ann@example.com", "x", "y"))
    setup_account()  # another server: the preset's fallback port, limits and OAuth2 URL go
    mark("after_server", acct())
    account(limits={"messages_per_hour": 5})
    account(provider="")  # no provider to clear: the account's own limits stay
    mark("own_limits", acct())
    account(provider="gmail", user="ann@gmail.com", password="app")
    account(provider=None)
    mark("after_none", acct())
    setup_account()
    account()
    account(email="pump2@example.com", name="Pump Two")  # queued mail is From the address now set
    from smtpmtm.store import headpart

    mark("from_now", headpart.read_header(a.store, queue("ann@example.com", "from", "x"))["from"][1])
    a.store.purge(a.store.children(0x1003)[-1].id)
    setup_account()
    link.set(True)
    account(password="wrong")  # refused at AUTH: failed, and show() says to fix the account
    bad = queue("ann@example.com", "wrong password", "x")
    send()
    show(bad)
    setup_account()
    link.set(False)
    link.can_come_up = False  # no coverage: deferred, ls() says when it is tried again
    later = queue("ann@example.com", "no coverage", "x")
    queue("ann@example.com", "Grüße, Überdruck", "x")  # outbox() keeps its columns
    send()
    outbox()
    show(later)
    link.can_come_up = True
    link.set(True)
    f = open(d + "/log.csv", "w")
    f.write("a,b\n1,2\n")
    f.close()
    gone = queue("ann@example.com", "linked log", "x", attach=[d + "/log.csv"], link=True)
    import os

    os.remove(d + "/log.csv")  # rotated away before the link came up
    mark("send_returns", send())  # nothing for the REPL to echo under its summary
    show(gone)
    c = a.client  # forwarded as an attachment: the file it links is missing in there too
    c.switch(gone)
    fwd = c.forward_as_attachment()
    c.add_addressee("bob@example.com")
    c.save_message()
    c.queue()
    send()
    print("MARK-FORWARDED")
    show(fwd)
    print("MARK-FORWARDED-END")
    a.job = True  # as between the last message's 250 and the job's end: the message is sent
    a.progress.msg_id = later
    sent()
    a.job = None

elif scenario == "tidy":
    a, link = make_app(keep_sent=2)
    setup_account()
    link.set(True)
    ids = [queue("ann@example.com", "Report %d" % n, "hourly") for n in range(4)]
    send()
    mark("sent_after_send", ",".join("%x" % e.id for e in a.store.children(0x1005)))
    mark("kept_expected", ",".join("%x" % i for i in ids[2:]))
    rm(ids[3])
    mark("deleted_before", len(a.store.children(0x1006)))
    mark("tidy_default", tidy())  # prints what it purged, returns nothing for the REPL to echo
    mark("deleted_after", len(a.store.children(0x1006)))
    link.set(False)
    waiting = queue("ann@example.com", "Queued while down", "must stay")
    mark("tidy_zero", tidy(0))
    mark("sent_after_zero", len(a.store.children(0x1005)))
    mark("outbox_after_zero", ",".join("%x" % e.id for e in a.store.children(0x1003)))
    mark("waiting_id", "%x" % waiting)
    log()
    a2, _ = make_app(keep_sent=2, keep_failed=1)  # a reboot: the store reopens with what tidy left
    mark("outbox_after_reboot", len(a2.store.children(0x1003)))
    from smtpmtm.store import entry as _E

    refused = [queue("ann@example.com", "Refused %d" % n, "x") for n in range(3)]
    for i in refused:  # as a 550 leaves them (the send engine's failure is tested in the core)
        e = a2.store.get(i)
        e.sending_state = _E.SEND_FAILED
        a2.store.update(e)
    tidy()
    log(1)
    mark("failed_left", ",".join("%x" % e.id for e in a2.store.children(0x1003)
                                 if e.sending_state == _E.SEND_FAILED))
    mark("failed_newest", "%x" % refused[-1])
    mark("outbox_left", len(a2.store.children(0x1003)))

elif scenario == "test":
    a, link = make_app()
    setup_account()
    link.set(True)
    mark("test", test())
    account(password="wrong")
    mark("test_wrong_password", test())

elif scenario == "tlsmode":  # TLS mode and port that do not match: test() says which to try
    a, link = make_app()
    setup_account()
    link.set(True)
    account(tls="implicit")  # TLS at once to a STARTTLS port: it greets in plain text
    mark("implicit_on_starttls", test())
    account(tls="starttls", port=int(sys.argv[5]))  # a port that waits for TLS first (it closes)
    mark("starttls_on_implicit", test())

elif scenario == "full":
    import vfs

    class RAMBlock:  # a small flash: 48 blocks of 512 bytes, littlefs2
        def __init__(self, n, bs=512):
            self.bs = bs
            self.data = bytearray(n * bs)

        def readblocks(self, n, buf, off=0):
            buf[:] = self.data[n * self.bs + off:n * self.bs + off + len(buf)]

        def writeblocks(self, n, buf, off=0):
            self.data[n * self.bs + off:n * self.bs + off + len(buf)] = buf

        def ioctl(self, op, arg):
            return {4: len(self.data) // self.bs, 5: self.bs}.get(op, 0)

    bd = RAMBlock(96)
    vfs.VfsLfs2.mkfs(bd)
    vfs.mount(vfs.VfsLfs2(bd), "/flash")
    f = open(d + "/big.csv", "wb")
    for i in range(4000):
        f.write(b"%d,12.5,13.1,ok\n" % i)
    f.close()
    a, link = board_app.make_app("/flash", log_file=None)
    setup_account()
    first = queue("ann@example.com", "Alarm", "Pressure low")
    mark("first", first is not None)
    big = queue("ann@example.com", "Log", "attached", attach=[d + "/big.csv"])
    mark("big", big)
    linked = queue("ann@example.com", "Log linked", "by reference", attach=[d + "/big.csv"], link=True)
    mark("linked", linked is not None)
    ls()
    mark("outbox", len(a.store.children(0x1003)))
    mark("drafts", len(a.store.children(0x1004)))
    link.set(True)
    send()
    mark("sent", len(a.store.children(0x1005)))
    log()
    for e in a.store.children(0x1003):
        show(e.id)
    # the flash filled by files of the user's own while a message waits: send() says why
    # nothing went (it said "sent 0, failed 0, ..." and nothing more) and the message stays
    waiting = queue("ann@example.com", "Before full", "x")
    n = 0
    for size in (2048, 512, 16):  # to the last block
        while True:
            try:
                with open("/flash/fill%d.bin" % n, "wb") as f:
                    f.write(bytes(size))
                n += 1
            except OSError:
                break
    send()
    e = a.store.get(waiting)
    mark("waiting_after_full", "%d %d %d" % (e.parent, e.sending_state, e.attempts))

elif scenario == "background":
    import json
    import time

    from smtpmtm_board import start

    cfg = {"store": d + "/store", "clock_file": d + "/clock.dat", "log_file": d + "/log.txt",
           "ntp": None, "hooks": ["host"], "background": "thread"}
    with open(d + "/config.json", "w") as f:
        json.dump(cfg, f)
    a = start.start(d + "/config.json")
    mark("background", a.background)
    setup_account()
    queue("ann@example.com", "from the background", "hello")
    queue("bob@example.com", "second", "hello")
    for _ in range(400):  # the person does nothing; the engine thread sends
        time.sleep(0.05)
        with a.lock:
            n = len(a.store.children(0x1005))
        if n == 2:
            break
    mark("sent", n)
    start.stop(a)
    status()
    log()

elif scenario == "asyncio":
    import asyncio
    import json

    from smtpmtm_board import start

    cfg = {"store": d + "/store", "clock_file": d + "/clock.dat", "log_file": d + "/log.txt",
           "ntp": None, "hooks": ["host"], "background": "asyncio"}
    with open(d + "/config.json", "w") as f:
        json.dump(cfg, f)
    a = start.start(d + "/config.json")
    setup_account()
    queue("ann@example.com", "from asyncio", "hello")
    ticks = [0, 0]

    async def sensors():  # the application's own task keeps running meanwhile
        import time

        # the engine's steps run in a worker thread holding a.lock: this task reads the
        # store only when it gets the lock without waiting, and gives up after 60 s
        end = time.ticks_add(time.ticks_ms(), 60000)
        while time.ticks_diff(end, time.ticks_ms()) > 0:
            ticks[0] += 1
            if a.job is not None:
                ticks[1] += 1  # it ran while a send was under way
            await asyncio.sleep(0)
            if a.lock.acquire(0):
                try:
                    done = len(a.store.children(0x1005)) == 1
                finally:
                    a.lock.release()
                if done:
                    return

    async def main():
        t = asyncio.create_task(start.loop(a))
        await sensors()
        t.cancel()

    asyncio.run(main())
    mark("sent", len(a.store.children(0x1005)))
    mark("sensor_ticks", ticks[0])
    mark("sensor_ticks_during_send", ticks[1])

elif scenario == "oauth":  # an expired access token, refreshed over HTTPS (host/tokenserver.py)
    a, link = make_app()
    account(server="localhost", port=port, tls="starttls", user="pump@example.com",
            email="pump@example.com", name="Pump House", cafile=ca, oauth_token="ya29.expired",
            oauth_expires=1000, oauth_token_url=sys.argv[5], oauth_client_id="board-1",
            oauth_client_secret="client-secret-1", oauth_refresh_token="1//refresh-1",
            oauth_scope="https://mail.google.com/")
    account()
    queue("ann@example.com", "OAuth alarm", "Pressure low")
    link.set(True)
    run_until_idle(a)
    mark("sent_after", len(a.store.children(0x1005)))
    s = a.accounts.load(a.accounts.default())
    mark("token", s.oauth_token)
    mark("expires_in", s.oauth_expires - int(a.clock()))
    mark("refresh", s.oauth_refresh_token)
    log()
    account()
    mark("test", test())  # the REPL's connection test logs in with the saved token

elif scenario == "help":
    a, link = make_app()
    help()
    account()
    setup_account()
    account()
    progress()
    send()

elif scenario == "flood":  # a provider preset, a sending limit and coalescing from the REPL
    a, link = make_app()
    account(provider="gmail", user="ann", email="pump@example.com", server="localhost", port=port,
            password="s3cret", cafile=ca, fallback_ports=[], limits={"messages_per_minute": 2})
    s = a.accounts.load(a.accounts.default())
    mark("preset", "%s %s %s" % (s.provider, s.starttls, s.oauth_token_url))
    first = queue("ann@example.com", "Pump 1 pressure", "low 1", key="pump1", hold=600)
    for n in range(2, 11):
        mark("into_%d" % n, queue("ann@example.com", "Pump 1 pressure", "low %d" % n, key="pump1",
                                  hold=600) == first)
    queue("ann@example.com", "Pump 2 pressure", "low", key="pump2")
    queue("ann@example.com", "Daily report", "all fine")
    queue("ann@example.com", "Bad key", "x", key="")
    mark("outbox_before", len(a.store.children(0x1003)))
    link.set(True)
    run_until_idle(a)
    mark("sent_after", len(a.store.children(0x1005)))
    mark("outbox_after", len(a.store.children(0x1003)))
    outbox()
    held = a.store.children(0x1003)[0].id
    show(held)
    log()

elif scenario == "cycle":  # battery cycles (device/smtpmtm_board/cycle.py) with a hand-switched link
    import time

    a, link = make_app(cycle={"budget_s": 2, "wake_s": 300})
    setup_account()
    link.up_after = 10 ** 9  # no coverage: up() is answered, the link never comes
    mark("idle_sleep", cycle())  # nothing due: the link is not even tried
    mark("idle_ups", link.ups)
    mid = queue("ann@example.com", "Battery alarm", "Pressure low")
    t0 = time.ticks_ms()
    mark("nolink_sleep", cycle())
    mark("nolink_ms", time.ticks_diff(time.ticks_ms(), t0))
    mark("nolink_ups", link.ups)
    mark("nolink_attempts", a.store.get(mid).attempts)
    link.up_after = 0
    mark("link_sleep", cycle())
    mark("sent_after", len(a.store.children(0x1005)))
    mark("link_up_after", link.is_up())
    mark("downs", link.downs)
    log()
    # cycle(budget_s=-1) ran as if fine; cycle(wake_s='x') was "error (TypeError): can't convert
    # str to int"; a /config.json wake_s of "15m" made wake() return "15m" to machine.deepsleep()
    print("MARK-BAD")
    cycle(budget_s=-1)
    cycle(wake_s="x")
    from smtpmtm_board import cycle as _cy

    a.cfg["cycle"] = {"budget_s": 2, "wake_s": "15m"}
    mark("bad_config_sleep", _cy.wake(a))
    log(1)

elif scenario == "budget":  # a battery cycle whose budget runs out in the middle of a big log
    from smtpmtm_board import cycle as _cy

    a, link = make_app(cycle={"budget_s": 60, "wake_s": 300})
    setup_account()
    log_id = queue_log(16)  # 64 KB
    chat = queue("ann@example.com", "Chatter", "fyi", priority="low")
    a.slice_ms = 0  # one engine step a tick
    real = _cy.mono

    def budget_clock():  # the cycle's clock: its 60 s are spent once the log is part-sent
        p = a.progress
        if p is not None and p.msg_id == log_id and 0 < p.bytes_sent < p.bytes_to_send:
            _cy.mono = lambda: real() + 10 ** 6
        return real()

    _cy.mono = budget_clock
    cycle()
    _cy.mono = real
    mark("log_state", state(a, log_id))
    mark("log_folder", a.store.get(log_id).parent)
    mark("chat_state", state(a, chat))
    cycle()  # the next wake sends the rest
    mark("chat_after", a.store.get(chat).parent)

elif scenario == "fallback":  # the configured port refuses: the fallback port works and is kept
    a, link = make_app()
    account(server="localhost", port=1, tls="starttls", user="ann", password="s3cret",
            email="pump@example.com", cafile=ca, fallback_ports=[[port, "starttls"]])
    link.set(True)
    queue("ann@example.com", "Fallback", "port 1 is closed")
    send()
    s = a.accounts.load(a.accounts.default())
    mark("port", s.port)
    mark("fallback", s.fallback_ports)
    log()

elif scenario == "nextlink":  # the Wi-Fi is in front of a portal (PORT: a certificate the board does
    # not trust), the modem reaches the real server (GOOD_PORT): the next link is tried at once
    from smtpmtm_board.net import connect as net_connect

    a, wifi = make_app()
    modem = ManualHook("modem", up_after=2)
    a.links.hooks.append(modem)
    good = int(sys.argv[5])
    a._connect = lambda host, p, *x, **k: net_connect(host, good if modem.is_up() else p, *x, **k)
    setup_account()
    wifi.set(True)
    i1 = queue("ann@example.com", "Alarm", "Pressure low")
    print("MARK-SEND")
    send()
    print("MARK-LOG")
    log(1)
    mark("attempts", a.store.get(i1).attempts)

elif scenario == "roam":  # a café's Wi-Fi in front of a portal (PORT: a certificate the board does
    # not trust), then the Wi-Fi at home (VIA "home", or "reboot": after a reset) or ("modem") the
    # café's Wi-Fi out of range and the modem up, which cannot tell its network (GOOD_PORT): the
    # mail goes at once, not at its retry time
    from smtpmtm_board.net import connect as net_connect

    a, wifi = make_app()
    wifi.net = "cafe"
    good, via = int(sys.argv[5]), sys.argv[6]
    modem = ManualHook("modem")
    modem.can_come_up = False  # no coverage yet: the café's failure is not carried elsewhere
    a.links.hooks.append(modem)
    a._connect = lambda host, p, *x, **k: net_connect(
        host, good if wifi.net == "home" or modem.is_up() else p, *x, **k)
    setup_account()
    wifi.set(True)
    run_until_idle(a)
    i1 = queue("ann@example.com", "Alarm", "Pressure low")
    run_until_idle(a)  # next connection, the link is up: it goes, and TLS fails
    mark("after_cafe", a.store.get(i1).attempts)
    for _ in range(2):  # the same café again: nothing before its retry time
        wifi.set(False)
        run_until_idle(a, 20)
        wifi.set(True)
        run_until_idle(a, 20)
    mark("after_rejoins", a.store.get(i1).attempts)
    wifi.set(False)
    run_until_idle(a, 20)
    if via == "modem":
        wifi.can_come_up = False  # out of the café's range
        modem.set(True)  # the modem registered by itself (network() None: it cannot tell)
    elif via == "reboot":  # a reset (a watchdog, a brown-out), then the Wi-Fi at home
        a, wifi = make_app()  # a new App on the same flash: where TLS failed is on it
        a._connect = lambda host, p, *x, **k: net_connect(host, good if wifi.net == "home" else p, *x, **k)
        wifi.net = "home"
        wifi.set(True)
    else:
        wifi.net = "home"
        wifi.set(True)
    run_until_idle(a)
    mark("sent_at_home", len(a.store.children(0x1005)))
    print("MARK-LOG")
    log(3)

elif scenario == "tls":  # the server's certificate does not verify (a portal, a wrong CA file)

    a, link = make_app()
    setup_account()  # PORT serves a certificate from a CA the board does not trust
    link.set(True)
    i1 = queue("ann@example.com", "Alarm", "Pressure low")
    i2 = queue("bob@example.com", "Report", "all fine")
    mark("id1", "%d" % i1)
    print("MARK-SEND")
    send()
    mark("states", ",".join(state(a, i) for i in (i1, i2)))
    mark("attempts", ",".join(str(a.store.get(i).attempts) for i in (i1, i2)))
    mark("max_attempts", a.accounts.load(a.accounts.default()).max_attempts)
    print("MARK-SHOW")
    show(i1)
    print("MARK-STATUS")
    status()
    print("MARK-LOG")
    log()
    for _ in range(3):  # the Wi-Fi drops and rejoins the same portal: no try before its time
        link.set(False)
        run_until_idle(a, 20)
        link.set(True)
        run_until_idle(a, 20)
    mark("attempts_after_rejoins", ",".join(str(a.store.get(i).attempts) for i in (i1, i2)))
    print("MARK-FIX")
    account(port=int(sys.argv[5]))  # the fix: a server whose certificate verifies
    send()
    mark("sent_after", len(a.store.children(0x1005)))

"""The send engine against an in-memory scripted server (tests/core/sender_fakes.py)."""

from smtpmtm.store import entry as E
from smtpmtm.outbox import link as L
from smtpmtm.outbox.manualhook import ManualHook
from smtpmtm.outbox import progress as P
from smtpmtm.outbox import plan as sendplan
from smtpmtm.outbox.plan import send_list
from smtpmtm.outbox.sender import Sender
from smtpmtm.outbox.sendwhen import waiting
from portable import FakeClock
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings




def make(st, srv, clock=None, **kw):
    clock = clock or FakeClock()
    cfg = settings(**kw)
    return Sender(st, cfg, SERVICE, srv.connect, clock, rand=lambda: 0.5, timeouts=None), clock


def states(st, ids):
    return [E.SEND_STATE_NAMES[st.get(i).sending_state] for i in ids]


def test_nothing_to_send_is_a_clear_result():
    st = new_store()
    srv = FakeServer()
    s, _ = make(st, srv)
    r = s.send_all()
    assert r["error"] == P.NO_MESSAGES and r["sent"] == []
    assert s.progress.state == P.DONE and s.progress.error == "no-messages"
    assert srv.connections == 0


def test_three_messages_one_session_with_rset_and_progress():
    st = new_store()
    srv = FakeServer()
    ids = [queue(st, n=i, to=("ann@example.com", "bob@example.com")) for i in range(3)]
    s, _ = make(st, srv)
    seen = []
    s.progress.subscribe(lambda p: seen.append(p.consistent()))
    r = s.send_all()
    assert r["sent"] == ids and r["error"] is None
    assert srv.connections == 1 and len(srv.messages) == 3
    assert sum(1 for c in srv.commands if c.startswith("RSET")) == 2
    assert states(st, ids) == ["sent"] * 3
    assert [e.id for e in st.children(E.SENT)] == ids and st.children(E.OUTBOX) == []
    p = s.progress
    assert (p.sent, p.failed, p.not_sent, p.total, p.state) == (3, 0, 0, 3, P.DONE)
    assert all(seen) and p.bytes_sent == p.bytes_to_send > 0
    res = sendplan.read_result(st, ids[0])
    assert sorted(res["rcpt"]) == ["ann@example.com", "bob@example.com"]
    assert srv.messages[0][0] == "pump@example.com"
    data = srv.messages[0][2]
    assert b"From: Pump House <pump@example.com>" in data
    assert b"Message-ID: <m1732790000.0@example.com>" in data
    assert not st.get(ids[0]).flag(E.FLAG_CONNECTED)


def test_bcc_each_gets_a_separate_transmission():
    st = new_store()
    srv = FakeServer()
    i = queue(st, to=("ann@example.com",), bcc=("b1@example.com", "b2@example.com"))
    s, _ = make(st, srv)
    r = s.send_all()
    assert r["sent"] == [i]
    assert [m[1] for m in srv.messages] == [["ann@example.com"], ["b1@example.com"], ["b2@example.com"]]
    assert b"Bcc" not in srv.messages[0][2]
    assert b"b1@example.com" in srv.messages[1][2] and b"b2@example.com" not in srv.messages[1][2]
    assert b"b2@example.com" in srv.messages[2][2] and b"b1@example.com" not in srv.messages[2][2]
    ids_ = [m[2].split(b"Message-ID: ")[1].split(b"\r\n")[0] for m in srv.messages]
    assert ids_[0] == ids_[1] == ids_[2]


def test_copy_to_self_reply_to_and_receipt_from_settings():
    st = new_store()
    srv = FakeServer()
    i = queue(st)
    s, _ = make(st, srv, send_copy_to_self="cc", reply_to="desk@example.com",
                request_receipts=True, receipt_address="rcpt@example.com")
    assert s.send_all()["sent"] == [i]
    env, rcpts, data = srv.messages[0]
    assert rcpts == ["ann@example.com", "rcpt@example.com"]
    assert b"Reply-To: Pump House <desk@example.com>" in data
    assert b"Disposition-Notification-To: Pump House <rcpt@example.com>" in data
    assert b"Cc: Pump House <rcpt@example.com>" in data


def test_some_recipients_refused_are_recorded():
    st = new_store()
    srv = FakeServer({"RCPT bob@example.com": "550 5.1.1 no such user"})
    i = queue(st, to=("ann@example.com", "bob@example.com"))
    s, _ = make(st, srv)
    r = s.send_all()
    assert r["sent"] == [i] and srv.messages[0][1] == ["ann@example.com"]
    res = sendplan.read_result(st, i)
    assert res["rcpt"]["bob@example.com"][0] == 550 and res["rcpt"]["ann@example.com"][0] == 250


def test_all_refused_permanently_fails_and_552_is_temporary():
    st = new_store()
    srv = FakeServer({"RCPT": ["550 5.1.1 nobody", "552 4.5.3 too many recipients"]})
    a = queue(st, n=1)
    b = queue(st, n=2)
    s, clock = make(st, srv)
    r = s.send_all()
    assert r["failed"] == [a] and r["deferred"] == [b]
    ea, eb = st.get(a), st.get(b)
    assert ea.sending_state == E.SEND_FAILED and ea.error == 550 and ea.flag(E.FLAG_FAILED)
    assert eb.sending_state == E.SEND_WAITING and eb.next_try > clock()
    assert sendplan.read_result(st, a)["rcpt"]["ann@example.com"][0] == 550
    assert s.progress.consistent() and s.progress.failed == 2


def test_5xx_on_mail_fails_without_retry_and_session_goes_on():
    st = new_store()
    srv = FakeServer({"MAIL": ["553 5.7.1 not allowed"]})
    a, b = queue(st, n=1), queue(st, n=2)
    s, clock = make(st, srv)
    r = s.send_all()
    assert r["failed"] == [a] and r["sent"] == [b]
    assert st.get(a).error == 553 and sendplan.read_result(st, a)["error"][1] == 553
    clock.advance(10 ** 6)
    assert send_list(st, SERVICE, (), clock()) == []  # never retried on its own
    assert send_list(st, SERVICE, (a,), clock()) == [a]  # but an explicit request re-sends it


def test_transient_backoff_then_failed_after_max_attempts():
    st = new_store()
    srv = FakeServer({"DOT": "451 4.3.0 try later"})
    a = queue(st)
    s, clock = make(st, srv, max_attempts=3)
    tries = []
    for k in range(3):
        r = s.send_all()
        e = st.get(a)
        tries.append((E.SEND_STATE_NAMES[e.sending_state], e.attempts))
        if e.next_try:
            assert send_list(st, SERVICE, (), clock()) == []  # not due yet
            clock.t = e.next_try
        srv.faults["DOT"] = "451 4.3.0 try later"
    assert tries == [("waiting", 1), ("waiting", 2), ("failed", 3)]
    assert st.get(a).error == 451


def test_backoff_delays_grow():
    st = new_store()
    srv = FakeServer({"GREETING": ["421 busy"] * 3})
    a = queue(st)
    s, clock = make(st, srv, max_attempts=10)
    gaps = []
    for _ in range(3):
        t0 = clock()
        s.send_all()
        gaps.append(st.get(a).next_try - t0)
        clock.t = st.get(a).next_try
    assert gaps[0] < gaps[1] < gaps[2]
    assert s.send_all()["sent"] == [a]


def test_connection_lost_mid_data_is_not_uncertain_and_resends_same_id():
    st = new_store()
    srv = FakeServer({"DATA_BYTES": 40})
    a, b = queue(st, n=1), queue(st, n=2)
    s, clock = make(st, srv)
    s.reconnects = 0
    r = s.send_all()
    assert r["deferred"] == [a] and r["not_sent"] == [b]
    assert states(st, [a, b]) == ["waiting", "waiting"]
    assert s.progress.consistent() and s.progress.not_sent == 1
    del srv.faults["DATA_BYTES"]
    clock.t = max(st.get(a).next_try, st.get(b).next_try)
    r = s.send_all()
    assert sorted(r["sent"]) == sorted([a, b])


def test_lost_after_final_dot_is_uncertain_then_resent_with_same_message_id():
    st = new_store()
    srv = FakeServer({"DOT": ["drop"]})
    a = queue(st)
    s, clock = make(st, srv)
    r = s.send_all()
    assert r["uncertain"] == [a]
    assert st.get(a).sending_state == E.SEND_UNCERTAIN
    clock.t = st.get(a).next_try
    assert send_list(st, SERVICE, (), clock()) == [a]
    r = s.send_all()
    assert r["sent"] == [a] and st.get(a).parent == E.SENT
    # the server got it twice (first reply lost): both copies carry the same Message-ID
    assert len(srv.messages) == 1 or srv.messages[0][2] == srv.messages[1][2]
    assert b"Message-ID: <m1732790000.1@example.com>" in srv.messages[-1][2]


def test_high_priority_goes_first_each_priority_in_queue_order():
    """An alarm queued after a big log goes first in the next session: the send list takes
    high priority first, then normal, then low, each in the order queued; a message whose
    last attempt was cut stays behind them all, whatever its priority."""
    st = new_store()
    srv = FakeServer()
    log = queue(st, n=1, subject="log", text=b"12:00 pump on\r\n" * 40)
    low = queue(st, n=2, subject="chatter")
    alarm = queue(st, n=3, subject="ALARM")
    normal = queue(st, n=4, subject="report")
    cut = queue(st, n=5, subject="cut alarm")
    for i, pri in ((low, E.PRIORITY_LOW), (alarm, E.PRIORITY_HIGH), (cut, E.PRIORITY_HIGH)):
        e = st.get(i)
        e.priority = pri
        if i == cut:
            e.flags |= E.FLAG_INTERRUPTED
        st.update(e)
    assert st.get(log).priority == E.PRIORITY_MEDIUM  # what a message has unless set
    order = [alarm, log, normal, low, cut]
    assert send_list(st, SERVICE) == order
    # asked for (as the board asks for every waiting one when a link comes up): the same order
    assert send_list(st, SERVICE, (cut, low, log, normal, alarm)) == order
    s, _ = make(st, srv)
    r = s.send_all()
    assert r["sent"] == order
    assert [m[2].split(b"Subject: ")[1].split(b"\r\n")[0] for m in srv.messages] == [
        b"ALARM", b"log", b"report", b"chatter", b"cut alarm"]


def test_an_alarm_queued_during_a_run_goes_next_after_the_message_on_the_wire():
    """A high-priority message queued while a run sends a big log goes next in that run,
    not after every message the run began with; a normal one waits for the next run."""
    st = new_store()
    srv = FakeServer()
    log = queue(st, n=1, subject="log")
    report = queue(st, n=2, subject="report")
    s, _ = make(st, srv)
    job = s.start()
    while not job.result["sent"]:
        assert job.step() is not None
    alarm = queue(st, n=3, subject="ALARM")
    e = st.get(alarm)
    e.priority = E.PRIORITY_HIGH
    st.update(e)
    later = queue(st, n=4, subject="later")
    while job.step() is not None:
        pass
    assert job.result["sent"] == [log, alarm, report]
    assert st.get(later).parent == E.OUTBOX and st.get(later).sending_state == E.SEND_WAITING
    p = s.progress
    assert (p.sent, p.total, p.not_sent) == (3, 3, 0) and p.consistent()
    assert not st.get(alarm).flag(E.FLAG_CONNECTED)


def test_ctrl_c_during_a_send_ends_the_run_cleanly_and_loses_nothing():
    """Ctrl-C typed at the REPL while a step sends a body (a KeyboardInterrupt out of
    step()): the session is closed, the link released, the progress done, the message in
    flight waiting again with its attempt taken back (a Ctrl-C is no power cut: not counted
    as interrupted, not put behind the others), and the next send sends all. (Before, it
    counted as a cut: show() said "interrupted 1 time", and ten of them gave the power
    supply advice.)"""
    st, srv, s, job, hook, (a, b) = ctrl_c_in_the_body()
    assert job.step() is None and srv.streams[0].closed and not hook.is_up()
    p = s.progress
    assert p.state == P.DONE and p.error == "cancelled" and p.consistent()
    assert states(st, [a, b]) == ["waiting", "waiting"] and srv.messages == []
    e = st.get(a)
    assert not e.flag(E.FLAG_CONNECTED) and not e.flags & E.FLAGS_CUT and e.attempts == 0 and not e.first_try
    # the one it did not reach: listed as not sent, no longer flagged Connected (it was)
    assert job.result["not_sent"] == [b] and not st.get(b).flag(E.FLAG_CONNECTED)
    s.connect = srv.connect
    r = s.send_all()
    assert r["sent"] == [a, b] and len(srv.messages) == 2  # in its place, not behind
    assert sendplan.read_result(st, a)["interrupted"] == 0 and st.get(a).attempts == 1


def test_a_cancel_after_a_ctrl_c_ended_the_run_suspends_the_message_it_took_back():
    """send() at the REPL cancels on Ctrl-C; one that lands in the engine's step has
    already ended the run (above), so the cancel that follows suspends the message the
    Ctrl-C took back, as a cancel suspends the message on the wire: one outcome wherever
    the Ctrl-C landed. (Before, it stayed waiting, and a board's background engine sent
    it at its next check, while the person had asked to stop.)"""
    st, srv, s, job, hook, (a, b) = ctrl_c_in_the_body()
    job.cancel()
    assert states(st, [a, b]) == ["suspended", "waiting"] and job.result["suspended"] == [a]
    job.cancel()  # a second Ctrl-C changes nothing more
    assert job.step() is None and job.result["suspended"] == [a] and s.progress.consistent()
    s.connect = srv.connect
    assert s.send_all()["sent"] == [b] and states(st, [a]) == ["suspended"]


def ctrl_c_in_the_body():
    """Two messages, and a run that a KeyboardInterrupt (Ctrl-C typed at the REPL) ends in
    the first one's body: (store, server, sender, job, hook, ids)."""
    st = new_store()
    srv = FakeServer()
    ids = [queue(st, n=1), queue(st, n=2)]
    clock = FakeClock()
    hook = ManualHook("wifi")
    s = Sender(st, settings(), SERVICE, srv.connect, clock, links=L.Links([hook], clock),
               rand=lambda: 0.5, timeouts=None, take_down_after=True)

    def connect(*x, **k):
        stream = srv.connect(*x, **k)
        write = stream.write

        def typed_ctrl_c(data):
            if stream.mode == "data" and not srv.messages:
                raise KeyboardInterrupt
            return write(data)

        stream.write = typed_ctrl_c
        return stream

    s.connect = connect
    job = s.start()
    try:
        while job.step() is not None:
            pass
        raise AssertionError("no KeyboardInterrupt came out of step()")
    except KeyboardInterrupt:
        pass
    return st, srv, s, job, hook, ids


def test_stall_on_final_reply_times_out_as_uncertain():
    st = new_store()
    srv = FakeServer({"DOT": ["stall"]})
    a = queue(st)
    s, _ = make(st, srv)
    r = s.send_all()
    assert r["uncertain"] == [a] and r["error"] == "timeout"


def test_suspended_message_is_skipped_and_counted():
    st = new_store()
    srv = FakeServer()
    a = queue(st, n=1)
    b = queue(st, n=2)
    s, _ = make(st, srv)
    r = s.send_all(ids=[a, b])
    assert r["sent"] == [a, b]
    c = queue(st, n=3, state=E.SEND_SUSPENDED)
    d = queue(st, n=4)
    r = s.send_all(ids=[c])
    assert r["suspended"] == [c] and r["sent"] == [d]
    assert s.progress.suspended == 1 and s.progress.consistent()


def test_cancel_mid_data_leaves_message_suspended_and_intact():
    st = new_store()
    srv = FakeServer()
    big = b"x" * 60 + b"\r\n"
    # 4 KB, cancelled after 2 KB (the fake server copies a body as it comes, in the same
    # 64 KiB heap: 12 KB left it too cut up at some paths of the test's folder)
    a = queue(st, n=1, text=big * 64)
    b = queue(st, n=2)
    s, _ = make(st, srv)
    before = st.part_size(a, "text")
    hits = []

    def watch(p):
        if p.state == P.SENDING and p.bytes_sent > 2000 and not hits:
            hits.append(1)
            s.cancel()

    s.progress.subscribe(watch)
    r = s.send_all()
    assert r["suspended"] == [a] and r["not_sent"] == [b] and srv.messages == []
    assert states(st, [a, b]) == ["suspended", "waiting"]
    assert st.part_size(a, "text") == before and st.get(a).parent == E.OUTBOX
    assert s.progress.consistent()


LINE = b"x" * 60 + b"\r\n"  # a ~3 KB body of 50 of them is read and sent in pieces of 256 bytes


def mid_body(n_more=0, lines=50):
    """A message of ``lines`` LINEs (~3 KB) and n_more small ones behind it, and a job stepped
    until the first one's body is part-sent: (store, server, sender, job, ids). The body is
    small: the fake server keeps it in RAM, on MicroPython too."""
    st = new_store()
    srv = FakeServer()
    ids = [queue(st, n=1, text=LINE * lines)] + [queue(st, n=k + 2) for k in range(n_more)]
    s, _ = make(st, srv)
    job = s.start()
    while not (s.progress.msg_id == ids[0] and s.progress.bytes_sent):
        assert job.step() is not None
    return st, srv, s, job, ids


def run_out(job):
    while job.step() is not None:
        pass


def test_a_step_sends_one_piece_of_the_body_and_other_work_goes_on_between():
    """Job.step() returns after each piece of a message's body (Session.sending: each chunk
    with DATA, each BDAT chunk with CHUNKING), so a board's REPL or main loop gets a turn
    while a big message goes out; an alarm queued between two steps goes out in the same
    run, right after it, and a cancel typed between two steps suspends the one on the wire
    before its end. (The engine before sent a whole message in one step.)"""
    st, srv, s, job, (a,) = mid_body()
    mid = [s.progress.bytes_sent]  # bytes sent of the message's total, after each step that ended mid-body
    while True:
        w = job.step()
        if w is None:
            break
        p = s.progress
        if p.msg_id == a and 0 < p.bytes_sent < p.bytes_to_send:
            mid.append(p.bytes_sent)
            if len(mid) == 2:  # an alarm queued from the REPL while the body goes out
                b = queue(st, n=2)
                e = st.get(b)
                e.priority = E.PRIORITY_HIGH
                st.update(e)
    assert len(mid) >= 10 and mid == sorted(mid), mid
    assert job.result["sent"] == [a, b] and len(srv.messages) == 2
    assert srv.messages[0][2].count(LINE) == 50 and s.progress.consistent()
    # a cancel between two steps: the message is suspended, nothing delivered
    st, srv, s, job, (a,) = mid_body()
    s.cancel()
    run_out(job)
    assert job.result["suspended"] == [a] and srv.messages == []
    assert states(st, [a]) == ["suspended"] and s.progress.consistent()


def test_stop_between_two_steps_ends_the_run_after_the_message_on_the_wire():
    """Job.stop() (a battery cycle's budget spent) lets the message on the wire go on to its
    end and leaves the rest waiting, none suspended; cancel() suspends the one on the wire.
    (Before the body went in steps, a stop could only come between messages.)"""
    st, srv, s, job, (a, b) = mid_body(1)
    job.stop()
    run_out(job)
    assert job.result["sent"] == [a] and job.result["not_sent"] == [b] and job.result["suspended"] == []
    assert states(st, [b]) == ["waiting"] and len(srv.messages) == 1 and s.progress.consistent()
    assert s.send_all()["sent"] == [b]


def test_a_step_does_not_wait_for_a_slow_server():
    """A server slow to greet and to answer (postscreen's greeting pause, a content scan
    after the dot): a step looks for a reply for at most 20 ms, and returns 0 ("go on") when
    none came, so a board's REPL and main.py get turns while it waits; the message goes as
    ever. A server that never answers the dot: every step still returns, and at the dot's
    deadline the message is uncertain. (Before, one step waited in the read up to the
    reply's deadline: with the engine in a timer, a board's REPL froze for up to 10 minutes.)"""
    clock = FakeClock()
    st = new_store()
    srv = FakeServer(slow=5, clock=clock)
    a = queue(st, n=1)
    s, _ = make(st, srv, clock)
    job = s.start()
    greeting = 0  # steps that returned while the server had not greeted
    while True:
        looked = srv.looks
        w = job.step()
        if w is None:
            break
        assert srv.looks - looked <= 1 and w == 0  # one empty look a step, at most
        greeting += srv.looks > looked and not srv.commands
    assert job.result["sent"] == [a] and len(srv.messages) == 1 and s.progress.consistent()
    # 5 empty looks each for the greeting, EHLO, one pipelined flight (MAIL, RCPT, DATA)
    # and the dot
    assert greeting == 5 and srv.looks == 5 * 4, (greeting, srv.looks)
    assert clock() - 1700000000 == srv.looks * 20 // 1000  # each look waited its 20 ms
    # a dot never answered: the steps go on returning until the dot's deadline (10 s here)
    clock = FakeClock()
    st = new_store()
    srv = FakeServer({"DOT": "stall"}, slow=0, clock=clock)
    a = queue(st, n=1)
    s = Sender(st, settings(), SERVICE, srv.connect, clock, rand=lambda: 0.5, timeouts={"dot": 10})
    job = s.start()
    steps = 0
    while job.step() is not None:
        steps += 1
    assert srv.looks == 10 * 1000 // 20 and steps > srv.looks, (srv.looks, steps)
    assert job.result["uncertain"] == [a] and states(st, [a]) == ["uncertain"]
    assert "no reply to the final dot within 10 s" in s.progress.error_text


def test_a_server_that_never_answers_quit_is_not_waited_for():
    """The mail is delivered when QUIT goes out. A connection that died silently after the
    last reply (a cellular NAT, after a long body) was waited for with the command timeout,
    5 minutes, in one step: the board's REPL and main.py stood still, and the run, send()'s
    progress bar with it, went on for those minutes. QUIT's reply is now looked for a step at
    a time, and for 10 s at most (smtp.TIMEOUTS["quit"])."""
    clock = FakeClock()
    st = new_store()
    srv = FakeServer({"QUIT": "stall"}, slow=0, clock=clock)
    a = queue(st, n=1)
    s, _ = make(st, srv, clock)
    job = s.start()
    t0 = clock()
    steps = 0
    while job.step() is not None:
        steps += 1
    assert job.result["sent"] == [a] and job.result["error"] is None and states(st, [a]) == ["sent"]
    assert clock() - t0 == 10 and srv.looks == 10 * 1000 // 20 and steps > srv.looks, (clock() - t0, steps)
    assert srv.streams[0].stalled and s.progress.consistent()


def test_a_message_deleted_while_another_goes_out_is_not_sent():
    """rm(id) of a message waiting in the run while another one's body goes out (the REPL
    runs between two steps; with the engine in a thread, between two messages before that):
    a deleted one stays in Deleted, unsent. (Before, it was sent anyway and moved from
    Deleted to Sent.)"""
    _remove_while_another_goes_out("delete", False)
    _remove_while_another_goes_out("delete", True)


def test_a_message_purged_while_another_goes_out_is_not_sent():
    """rm(id, purge=True) of a message waiting in the run while another one's body goes
    out: it is skipped. (Before, the run ended with NotFound out of step().)"""
    _remove_while_another_goes_out("purge", False)
    _remove_while_another_goes_out("purge", True)


def _remove_while_another_goes_out(how, stop):
    """One run of the two tests above (a function: each run's store, server and job are let
    go before the next is made). ``stop``: the run is cut short after the first message.
    A body of 20 LINEs (5 pieces): the fake server copies a body as it comes, in the same
    64 KiB heap, and after a purge three copies of 3 KB at once found the heap too cut up."""
    st, srv, s, job, (a, b, c) = mid_body(2, 20)
    getattr(st, how)(b)
    if stop:  # one deleted meanwhile is not "not sent"
        job.stop()
        run_out(job)
        assert job.result["sent"] == [a] and job.result["not_sent"] == [c], (how, job.result)
        assert states(st, [c]) == ["waiting"], how
        return
    run_out(job)
    assert job.result["sent"] == [a, c] and len(srv.messages) == 2, (how, job.result)
    assert job.result["not_sent"] == [] and s.progress.consistent(), how
    assert s.progress.total == 2 and s.progress.sent == 2, how
    if how == "delete":
        e = st.get(b)
        assert e.parent == E.DELETED and not e.flag(E.FLAG_CONNECTED), how


def test_next_connection_does_not_bring_a_link_up():
    st = new_store()
    srv = FakeServer()
    a = queue(st)
    wifi = ManualHook("wifi")
    clock = FakeClock()
    cfg = settings(connect_prefs=["wifi"])
    s = Sender(st, cfg, SERVICE, srv.connect, clock, links=L.Links([wifi], clock), rand=lambda: 0.5)
    r = s.send_all(bring_up=False, idle=clock.advance)
    assert r["error"] == "link-down" and wifi.ups == 0 and srv.connections == 0
    assert st.get(a).sending_state == E.SEND_WAITING
    clock.t = st.get(a).next_try
    wifi.set(True)
    r = s.send_all(bring_up=False, idle=clock.advance)
    assert r["sent"] == [a] and r["hook"] == "wifi"


def test_no_link_is_no_attempt_however_often_send_asks():
    # send() at the REPL without coverage counted an attempt each time: max_attempts (3 here)
    # link-downs failed a message that had never reached a server
    st = new_store()
    srv = FakeServer()
    a = queue(st)
    wifi = ManualHook("wifi", can_come_up=False)
    clock = FakeClock()
    s = Sender(st, settings(connect_prefs=["wifi"], max_age_s=600), SERVICE, srv.connect, clock,
               links=L.Links([wifi], clock), rand=lambda: 0.5)
    for n in range(6):
        r = s.send_all(ids=[a], idle=clock.advance)
        e = st.get(a)
        assert r["error"] == "link-down" and r["deferred"] == [a] and wifi.ups == n + 1, (n, r)
        assert (e.sending_state, e.attempts, e.first_try) == (E.SEND_WAITING, 0, 0), n
        assert e.next_try > clock.t, n  # still a retry time: the engine does not spin on it
        clock.advance(3600)  # past max_age_s too: it was never tried, so it never gets old
    wifi.can_come_up = True
    wifi.set(True)
    r = s.send_all(ids=[a], idle=clock.advance)
    assert r["sent"] == [a] and st.get(a).attempts == 1 and len(srv.messages) == 1


def test_bring_up_and_take_down_after():
    st = new_store()
    srv = FakeServer()
    a = queue(st)
    modem = ManualHook("modem", up_after=4)
    clock = FakeClock()
    cfg = settings(connect_prefs=["wifi", "modem"])
    stages = []
    s = Sender(st, cfg, SERVICE, srv.connect, clock, links=L.Links([modem], clock),
               rand=lambda: 0.5, take_down_after=True)
    s.progress.subscribe(lambda p: stages.append((p.state, p.stage, p.hook)))
    job = s.start()
    waits = 0
    while True:
        w = job.step()
        if w is None:
            break
        if w:
            waits += 1
            clock.advance(w)
    assert job.result["sent"] == [a] and waits >= 4
    assert modem.ups == 1 and modem.downs == 1
    assert (P.CONNECTING, "link", "modem") in stages and (P.CONNECTING, "greeting", "modem") in stages


def test_waiting_counts_due_and_next():
    st = new_store()
    clock = FakeClock()
    a = queue(st, n=1)
    b = queue(st, n=2)
    e = st.get(b)
    e.next_try = int(clock() + 100)
    st.update(e)
    assert waiting(st, SERVICE, clock()) == (1, e.next_try)


def test_waiting_counts_exactly_the_states_the_send_list_sends():
    # the board's idle loop asks waiting() (no engine loaded) whether to start a send
    st = new_store()
    for state in range(11):
        for next_try in (0, 50, 500):
            st.create(E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=SERVICE,
                              sending_state=state, next_try=next_try))
    for now in (0, 100, 1000):
        due = waiting(st, SERVICE, now)[0]
        assert due == len([i for i in send_list(st, SERVICE, (), now)])
        assert due == len(E.SENDABLE) * (1 + (now >= 50) + (now >= 500))


def test_crash_leftovers_are_recovered_by_the_send_list():
    st = new_store()
    a = queue(st, n=1, state=E.SEND_SENDING)
    b = queue(st, n=2, state=E.SEND_SENT)
    e = st.get(a)
    e.set_flag(E.FLAG_CONNECTED, True)
    st.update(e)
    assert send_list(st, SERVICE) == [a]
    assert st.get(b).parent == E.SENT and not st.get(a).flag(E.FLAG_CONNECTED)


def test_transient_refusal_of_one_recipient_is_retried_for_that_one_only():
    st = new_store()
    srv = FakeServer({"RCPT bob@example.com": ["452 4.2.2 mailbox full"]})
    a = queue(st, to=("ann@example.com", "bob@example.com"))
    s, clock = make(st, srv)
    r = s.send_all()
    assert r["deferred"] == [a] and srv.messages[0][1] == ["ann@example.com"]
    e = st.get(a)
    assert e.sending_state == E.SEND_WAITING and e.error == 452
    clock.t = e.next_try
    r = s.send_all()
    assert r["sent"] == [a]
    assert [m[1] for m in srv.messages] == [["ann@example.com"], ["bob@example.com"]]
    res = sendplan.read_result(st, a)["rcpt"]
    assert res["ann@example.com"][0] == 250 and res["bob@example.com"][0] == 250


def test_explicit_resend_of_a_failed_message_starts_afresh_and_priority_header():
    st = new_store()
    srv = FakeServer({"DOT": ["451 4.3.0 later"]})
    a = queue(st)
    e = st.get(a)
    e.priority = E.PRIORITY_HIGH
    st.update(e)
    s, clock = make(st, srv, max_attempts=1)
    assert s.send_all()["failed"] == [a] and st.get(a).attempts == 1
    r = s.send_all(ids=[a])
    assert r["sent"] == [a] and st.get(a).attempts == 1
    data = srv.messages[0][2]
    assert b"X-Priority: 1" in data or b"Importance: high" in data


def test_uncertain_stays_uncertain_through_a_failed_connection():
    st = new_store()
    srv = FakeServer({"DOT": ["drop"], "GREETING": [None, "421 busy"]})
    a = queue(st)
    s, clock = make(st, srv)
    assert s.send_all()["uncertain"] == [a]
    clock.t = st.get(a).next_try
    r = s.send_all()
    assert r["uncertain"] == [a] and st.get(a).sending_state == E.SEND_UNCERTAIN
    clock.t = st.get(a).next_try
    assert s.send_all()["sent"] == [a]


def test_one_reconnect_for_the_rest_after_the_session_died():
    st = new_store()
    srv = FakeServer({"DOT": ["drop"]})
    a, b, c = queue(st, n=1), queue(st, n=2), queue(st, n=3)
    s, clock = make(st, srv)
    r = s.send_all()
    assert r["uncertain"] == [a] and r["sent"] == [b, c] and srv.connections == 2
    p = s.progress
    assert (p.sent, p.failed, p.not_sent) == (2, 1, 0) and r["round_trips"] > 0
    srv2 = FakeServer({"DATA_BYTES": 40})  # every connection drops: one reconnect, then wait
    d, e = queue(st, n=4), queue(st, n=5)
    s2, _ = make(st, srv2)
    s2.send_all(ids=[d, e])
    assert srv2.connections == 2
    assert states(st, [d, e]) == ["waiting", "waiting"] and st.get(e).attempts == 1

"""Liveness under repeated power cuts: no head-of-line blocking, limits across reboots.

A power cut is a ``PowerCut`` (a BaseException, so nothing in the engine
catches it) raised from the stream's write once the big message's header goes
out; the store is then reopened from its directory, as a board does at boot.
"""

import gc

from smtpmtm.store import entry as E
from smtpmtm.outbox import plan as sendplan
from smtpmtm.outbox.plan import send_list
from smtpmtm.outbox.sender import Sender
from smtpmtm.store.tree import Store
from portable import FakeClock, raises
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings

BIG = (b"y" * 70 + b"\r\n") * 16  # 1152 bytes of short lines (the fake server keeps it in the same 64 KiB heap)


class PowerCut(BaseException):
    pass


def cut_on(srv, marker):
    """A connect whose stream loses power when a write carries ``marker`` (bytes), or
    when ``marker()`` (a callable) is true at a write."""

    def connect(*a, **kw):
        s = srv.connect(*a, **kw)
        write = s.write

        def cut_write(data):
            if marker() if callable(marker) else _has(data, marker):
                raise PowerCut()
            return write(data)

        s.write = cut_write
        return s

    return connect


def _has(data, marker):
    if isinstance(data, memoryview):  # bytes() of a small piece only: the heap is 64 KiB
        return any(marker in bytes(data[i:i + 512]) for i in range(0, len(data), 400))
    return marker in data


def sender(st, connect, clock, **kw):
    return Sender(st, settings(**kw), SERVICE, connect, clock, rand=lambda: 0.5, timeouts=None)


def boot_and_send(path, srv, connect, clock, **kw):
    """One boot: the store opened afresh, one send run; the job's result, or None if cut.
    What the last boot held is let go first (a board's heap starts empty; 64 KiB here),
    the fake server's log of command lines too: kept in the same heap, it grew by each boot's
    sessions, and a send late in a test met a heap too cut up for a 1.4 KB piece."""
    srv.streams = []
    srv.commands = []
    gc.collect()
    st = Store(path)
    try:
        return st, sender(st, connect, clock, **kw).send_all()
    except PowerCut:
        return st, None


def outbox_with_big_first(n_small=3):
    st = new_store()
    big = queue(st, subject="big", text=BIG, n=0)
    small = [queue(st, subject="small%d" % i, n=i + 1) for i in range(n_small)]
    return st, big, small


def test_cut_attempt_is_counted_before_any_byte_and_the_rest_go_first():
    st, big, small = outbox_with_big_first()
    srv = FakeServer()
    clock = FakeClock()
    s = sender(st, cut_on(srv, b"Subject: big"), clock)
    raises(PowerCut, s.send_all)
    e = st.get(big)
    assert e.attempts == 1 and e.flag(E.FLAG_ATTEMPT_OPEN)
    assert srv.messages == []
    path = st.root
    st = s = e = None
    st2, r = boot_and_send(path, srv, srv.connect, clock)
    # the cut one went last; the three small ones first
    assert r["sent"] == small + [big]
    assert [m[2].split(b"Subject: ")[1][:6] for m in srv.messages][:3] == [b"small0", b"small1", b"small2"]
    assert sendplan.read_result(st2, big)["interrupted"] == 1
    assert not st2.get(big).flags & (E.FLAG_ATTEMPT_OPEN | E.FLAG_INTERRUPTED)


def test_cut_every_time_fails_after_max_attempts_and_others_all_go():
    st, big, small = outbox_with_big_first()
    srv = FakeServer()
    clock = FakeClock()
    connect = cut_on(srv, b"Subject: big")
    path = st.root
    st = None
    for boot in range(12):
        st = None
        st, r = boot_and_send(path, srv, connect, clock, max_attempts=4)
        if r is not None:
            break
    # boot 0: big cut; boot 1: the small ones sent, big cut again; boots 2, 3: big cut;
    # boot 4: big is past max_attempts (4) and fails without being tried
    assert boot == 4 and r["failed"] == [big] and r["sent"] == []
    assert [e.id for e in st.children(E.SENT)] == small and len(srv.messages) == 3
    e = st.get(big)
    assert e.sending_state == E.SEND_FAILED and e.flag(E.FLAG_FAILED) and e.attempts == 4
    assert not e.flags & (E.FLAG_ATTEMPT_OPEN | E.FLAG_INTERRUPTED)
    res = sendplan.read_result(st, big)
    assert res["interrupted"] == 4 and res["error"][0] == "interrupted"
    assert res["error"][2].startswith("interrupted 4 times (4 attempts, max_attempts 4)")
    assert "retry(id)" in res["error"][2] and "smaller attachment" in res["error"][2]
    # failed stays failed: the next boot does not try it
    assert send_list(st, SERVICE, (), clock()) == []
    # asked for again (retry), it starts afresh and, the supply now good, goes out
    st, r = boot_and_send(path, srv, srv.connect, clock, max_attempts=4)
    assert r["error"] == "no-messages"
    r = sender(st, srv.connect, clock, max_attempts=4).send_all(ids=(big,))
    assert r["sent"] == [big] and st.get(big).attempts == 1, (r, st.get(big).attempts, st.get(big).sending_state)


def test_several_cut_ones_go_smallest_first_behind_the_untried():
    st = new_store()
    a = queue(st, subject="a", text=b"y" * 900, n=1)
    b = queue(st, subject="b", text=b"y" * 300, n=2)
    c = queue(st, subject="c", n=3)
    for i in (a, b, c):
        e = st.get(i)
        e.size = 1000 if i == a else 500
        e.set_flag(E.FLAG_INTERRUPTED, i != c)
        st.update(e)
    assert send_list(st, SERVICE, (), 0) == [c, b, a]


def test_max_age_holds_across_a_reboot():
    st = new_store()
    a = queue(st, n=1)
    b = queue(st, n=2)
    clock = FakeClock()
    e = st.get(a)  # tried long ago, then the board was off
    e.attempts = 1
    e.first_try = int(clock()) - 7200
    st.update(e)
    srv = FakeServer()
    path, st = st.root, None
    st, r = boot_and_send(path, srv, srv.connect, clock, max_age_s=3600)
    assert r["failed"] == [a] and r["sent"] == [b] and len(srv.messages) == 1
    err = sendplan.read_result(st, a)["error"]
    assert err[0] == "too-old" and err[2].startswith("too old: first tried 7200 s ago (max_age_s 3600)")


def test_cut_after_the_final_dot_stays_uncertain_and_resends_with_same_id():
    st = new_store()
    a = queue(st, n=7)
    srv = FakeServer()
    clock = FakeClock()
    dot = lambda: st.get(a).sending_state == E.SEND_UNCERTAIN  # the write after: the dot
    raises(PowerCut, sender(st, cut_on(srv, dot), clock).send_all)
    assert srv.messages == []
    path, st = st.root, None
    st, r = boot_and_send(path, srv, srv.connect, clock)
    assert r["sent"] == [a] and len(srv.messages) == 1
    assert b"Message-ID: <m1732790000.7@example.com>" in srv.messages[0][2]
    assert sendplan.read_result(st, a)["interrupted"] == 1


def test_interruptions_never_exceed_attempts_after_a_retry():
    st = new_store()
    a = queue(st, n=1)
    r = sendplan.new_result()
    r["interrupted"] = 9  # from before a retry(id) set attempts back to 0
    sendplan.write_result(st, a, r)
    srv = FakeServer()
    clock = FakeClock()
    raises(PowerCut, sender(st, cut_on(srv, b"Subject: hello"), clock).send_all)
    path, st = st.root, None
    st, r = boot_and_send(path, srv, srv.connect, clock)
    assert r["sent"] == [a] and sendplan.read_result(st, a)["interrupted"] == 1


def test_result_part_without_interrupted_line_reads_as_zero():
    st = new_store()
    a = queue(st, n=1)
    st.write_part(a, sendplan.RESULT_PART, [b"SMTPMTM-RESULT 1\ndone 0\nerror reply 451 busy\n"])
    r = sendplan.read_result(st, a)
    assert r["interrupted"] == 0 and r["done"] == [0] and r["error"] == ("reply", 451, "busy")


def test_give_up_suspend_keeps_it_for_retry_instead_of_failing():
    st = new_store()
    a = queue(st, n=1)
    e = st.get(a)  # its attempts used up by cuts before this boot
    e.attempts = 3
    e.first_try = 1700000000
    e.set_flag(E.FLAG_ATTEMPT_OPEN, True)
    e.sending_state = E.SEND_SENDING
    st.update(e)
    srv = FakeServer()
    r = sender(st, srv.connect, FakeClock(), max_attempts=3, give_up="suspend").send_all()
    assert r["suspended"] == [a] and r["failed"] == [] and srv.connections == 0
    e = st.get(a)
    assert e.sending_state == E.SEND_SUSPENDED and not e.flag(E.FLAG_FAILED)
    assert sendplan.read_result(st, a)["error"][2].startswith("interrupted 1 time (3 attempts")


def test_give_up_suspend_also_applies_to_a_4xx_past_max_attempts():
    # past max_attempts by a failed attempt, not by cuts: give_up holds there too
    st = new_store()
    a = queue(st, n=1)
    srv = FakeServer({"DOT": ["451 4.3.0 try later"] * 2})
    clock = FakeClock()
    s = sender(st, srv.connect, clock, max_attempts=2, give_up="suspend")
    assert s.send_all()["deferred"] == [a]
    clock.t = st.get(a).next_try
    r = s.send_all()
    assert r["suspended"] == [a] and r["failed"] == []
    e = st.get(a)
    assert e.sending_state == E.SEND_SUSPENDED and e.error == 451 and not e.flag(E.FLAG_FAILED)
    assert sendplan.read_result(st, a)["error"][1] == 451  # why, for show(id)


def test_give_up_must_be_fail_or_suspend():
    from smtpmtm.errors import SettingsError

    e = raises(SettingsError, settings(give_up="drop").validate)
    assert "give_up: one of fail, suspend" in str(e)

"""Per-account sending limits (limits.py) and the engine holding messages back, both interpreters."""

from smtpmtm.store import entry as E
from smtpmtm.store import fsutil
from smtpmtm.outbox import plan as sendplan
from smtpmtm.errors import InputError, SettingsError, StoreError
from smtpmtm.outbox.limits import Limiter, path_for
from smtpmtm.settings import LIMIT_KEYS as KEYS, check_limits as check
from smtpmtm.outbox.sender import Sender
from portable import FakeClock, Rng, raises
from sender_fakes import FakeServer, SERVICE, new_store, queue, settings

T0 = 1700000000


def test_bad_limits_are_named():
    for bad, word in (({"messages_per_week": 3}, "messages_per_week"),
                      ({"messages_per_day": -1}, "messages_per_day"),
                      ({"messages_per_day": "500"}, "messages_per_day"), ([1], "dict")):
        e = raises(SettingsError, check, bad)
        assert word in str(e), str(e)
    e = raises(SettingsError, settings(limits={"recipients_per_hour": True}).validate)
    assert "recipients_per_hour" in str(e)
    check({k: 1 for k in KEYS})


def test_counts_hold_and_release_and_survive_a_reopen():
    st = new_store()
    lim = Limiter(st, SERVICE, {"messages_per_minute": 2})
    assert lim.admit(T0, 1) == (0, None) and lim.admit(T0 + 1, 1) == (0, None)
    wait, why = lim.admit(T0 + 2, 1)
    assert 58 <= wait <= 65 and why == "messages_per_minute 2 reached"
    again = Limiter(st, SERVICE, {"messages_per_minute": 2})  # after a reboot: from flash
    assert again.usage(T0 + 2) == {"messages_per_minute": (2, 2)}
    assert again.wait(T0 + 2 + wait - 1) > 0 and again.wait(T0 + 2 + wait) == 0


def test_recipients_count_and_a_message_that_can_never_fit():
    st = new_store()
    lim = Limiter(st, SERVICE, {"recipients_per_hour": 5})
    lim.take(T0, 4)
    assert lim.wait(T0, 1) == 0 and lim.wait(T0, 2) > 3000
    e = raises(InputError, lim.wait, T0, 6)
    assert "recipients_per_hour is 5" in str(e)


def test_never_more_than_the_limit_in_any_rolling_window():
    """Seeded random sends against every window: the exact rolling count never passes a limit."""
    limits = {"messages_per_minute": 3, "messages_per_hour": 20, "recipients_per_day": 60}
    for seed in (1, 2, 3):
        rng = Rng(seed)
        st = new_store()
        lim = Limiter(st, SERVICE, limits)
        sent = []  # (time, rcpts)
        t = T0 + rng.below(1000)
        for _ in range(120):
            t += rng.below(400)
            rc = 1 + rng.below(3)
            wait, _ = lim.admit(t, rc)
            if wait:
                assert lim.admit(t + wait, rc)[0] == 0
                t += wait
            sent.append((t, rc))
            if rng.below(10) == 0:
                lim = Limiter(st, SERVICE, limits)  # a reboot now and then
            for span, key, k in ((60, "messages_per_minute", 0), (3600, "messages_per_hour", 0),
                                 (86400, "recipients_per_day", 1)):
                n = 0
                for (u, r) in sent:
                    if u > t - span:
                        n += 1 if k == 0 else r
                assert n <= limits[key], (seed, key, n)
        assert len(sent) == 120


def test_an_old_store_opens_and_an_unknown_counter_file_is_named():
    st = new_store()
    assert Limiter(st, SERVICE, {"messages_per_day": 1}).usage(T0) == {"messages_per_day": (0, 1)}
    fsutil.atomic_write(path_for(st, SERVICE), b"\x09\x03\x0d\x00")
    e = raises(StoreError, Limiter, st, SERVICE, {"messages_per_day": 1})
    assert "limits-" in str(e)


def _send(st, clock, **kw):
    srv = FakeServer()
    s = Sender(st, settings(**kw), SERVICE, srv.connect, clock, rand=lambda: 0.5)
    return s, s.send_all(), srv


def test_the_engine_holds_messages_over_the_limit_and_sends_them_later():
    st = new_store()
    clock = FakeClock(T0)
    ids = [queue(st, n=i) for i in range(5)]
    lim = {"messages_per_minute": 2}
    s, r, srv = _send(st, clock, limits=lim)
    assert r["sent"] == ids[:2] and r["held"] == ids[2:] and len(srv.messages) == 2
    p = s.progress
    assert (p.sent, p.held, p.failed, p.total) == (2, 3, 3, 5) and p.consistent()
    for i in ids[2:]:
        e = st.get(i)
        assert e.parent == E.OUTBOX and e.sending_state == E.SEND_SCHEDULED
        assert T0 + 55 <= e.next_try <= T0 + 65 and e.attempts == 0
        kind, _, text = sendplan.read_result(st, i)["error"]
        assert kind == "held" and "messages_per_minute 2 reached" in text
    # before the time: nothing due, no connection; at the time: two more go
    _, r, srv = _send(st, clock, limits=lim)
    assert r["sent"] == [] and srv.connections == 0
    clock.advance(st.get(ids[2]).next_try - T0)
    _, r, srv = _send(st, clock, limits=lim)
    assert r["sent"] == ids[2:4] and r["held"] == ids[4:]
    assert sendplan.read_result(st, ids[2])["error"] is None  # the hold reason is cleared


def test_a_message_alone_over_a_limit_fails_with_the_reason():
    st = new_store()
    ids = [queue(st, to=("a@example.com", "b@example.com", "c@example.com"))]
    _, r, srv = _send(st, FakeClock(T0), limits={"recipients_per_day": 2})
    assert r["failed"] == ids and srv.messages == []
    assert st.get(ids[0]).sending_state == E.SEND_FAILED
    assert "recipients_per_day is 2" in sendplan.read_result(st, ids[0])["error"][2]


def test_a_held_uncertain_message_stays_uncertain():
    st = new_store()
    clock = FakeClock(T0)
    Limiter(st, SERVICE, {"messages_per_hour": 1}).take(T0, 1)
    i = queue(st, state=E.SEND_UNCERTAIN)
    _, r, _ = _send(st, clock, limits={"messages_per_hour": 1})
    assert r["held"] == [i] and st.get(i).sending_state == E.SEND_UNCERTAIN


def test_no_link_and_no_session_when_every_due_message_is_held():
    # a message queued after the window's quota went out: held before the link is
    # brought up, so a cellular board does not dial for nothing
    st = new_store()
    clock = FakeClock(T0)
    lim = {"messages_per_hour": 1}
    Limiter(st, SERVICE, lim).take(T0 - 60, 1)
    ids = [queue(st, n=i) for i in range(2)]
    s, r, srv = _send(st, clock, limits=lim)
    assert r["held"] == ids and r["sent"] == [] and srv.connections == 0 and r["hook"] is None
    assert (s.progress.held, s.progress.total) == (2, 2) and s.progress.consistent()
    assert all(st.get(i).sending_state == E.SEND_SCHEDULED for i in ids)
    assert Limiter(st, SERVICE, lim).usage(T0) == {"messages_per_hour": (1, 1)}  # nothing counted
    clock.advance(st.get(ids[0]).next_try - T0)
    _, r, srv = _send(st, clock, limits=lim)
    assert r["sent"] == ids[:1] and r["held"] == ids[1:] and srv.connections == 1

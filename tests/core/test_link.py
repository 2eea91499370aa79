"""Connect hooks: preference order, bring-up with deadlines, next-connection watcher, decide()."""

from smtpmtm.outbox import link as L
from smtpmtm.outbox import sendwhen as W
from smtpmtm.outbox.manualhook import ManualHook
from smtpmtm.errors import LinkDown
from portable import FakeClock, raises


def drive(acq, clock, limit=1000):
    for _ in range(limit):
        h = acq.step()
        if h is not None:
            return h
        clock.advance(L.POLL_S)
    raise AssertionError("never finished")


def test_up_link_is_used_first_without_bringing_up():
    clock = FakeClock()
    wifi = ManualHook("wifi")
    modem = ManualHook("modem", up=True)
    links = L.Links([wifi, modem], clock)
    acq = links.acquire(["wifi", "modem"], bring_up=True)
    assert drive(acq, clock) is modem and not acq.brought
    assert wifi.ups == 0
    links.release(acq, take_down=True)
    assert modem.downs == 0  # not ours: left up


def test_preferences_tried_in_turn_with_timeout():
    clock = FakeClock()
    wifi = ManualHook("wifi", up_after=10 ** 6)  # never comes up
    modem = ManualHook("modem", up_after=3)
    links = L.Links([modem, wifi], clock, up_timeout_s=5)
    acq = links.acquire(["wifi", "modem"])
    h = drive(acq, clock)
    assert h is modem and acq.brought and acq.tried == ["wifi", "modem"]
    assert wifi.downs == 1  # the timed-out one was taken down
    links.release(acq, take_down=True)
    assert modem.downs == 1 and not modem.is_up()


def test_hook_that_refuses_is_skipped_and_all_failing_is_linkdown():
    clock = FakeClock()
    a = ManualHook("a", can_come_up=False)
    b = ManualHook("b", up_after=1)
    links = L.Links([a, b], clock)
    assert drive(links.acquire(), clock) is b
    c = ManualHook("c", can_come_up=False)
    d = ManualHook("d", up_after=10 ** 6)
    links2 = L.Links([c, d], clock, up_timeout_s=1)
    acq = links2.acquire()
    e = raises(LinkDown, drive, acq, clock)
    assert "c, d" in str(e) and e.transient
    # why each one: c said so itself; d never said, it only timed out (was left out)
    assert str(e) == "no link came up (tried c, d): c: no carrier; d: not up within 1 s", str(e)


def test_next_connection_never_brings_up():
    clock = FakeClock()
    wifi = ManualHook("wifi")
    links = L.Links([wifi], clock)
    raises(LinkDown, links.acquire(bring_up=False).step)
    assert wifi.ups == 0


def test_unknown_preference_names_and_default_order():
    clock = FakeClock()
    a, b = ManualHook("a"), ManualHook("b")
    links = L.Links([a, b], clock)
    assert links.ordered(["zz", "b"]) == [b]
    assert links.ordered(None) == [a, b]
    assert links.current() is None
    b.set(True)
    assert links.current() is b


def test_watcher_sees_edges_only():
    clock = FakeClock()
    wifi = ManualHook("wifi")
    links = L.Links([wifi, L.AlwaysUp()], clock)
    w = W.Watcher(links)
    assert w.poll() is None
    wifi.set(True)
    assert w.poll() == "wifi"
    assert w.poll() is None
    wifi.set(False)
    assert w.poll() is None
    wifi.set(True)
    assert w.poll() == "wifi"


def test_decide_send_options():
    assert W.decide(W.IMMEDIATELY, 0) == (False, False)
    assert W.decide(W.IMMEDIATELY, 2) == (True, True)
    assert W.decide(W.ON_NEXT_CONNECTION, 2) == (False, False)
    assert W.decide(W.ON_NEXT_CONNECTION, 2, came_up="wifi") == (True, False)
    assert W.decide(W.ON_REQUEST, 2, came_up="wifi") == (False, False)
    assert W.decide(W.ON_REQUEST, 2, requested=True) == (True, True)
    assert W.decide(W.ON_REQUEST, 0, requested=True) == (False, False)
    wifi, modem = ManualHook("wifi", up=True), ManualHook("modem")
    links = L.Links([wifi, modem], FakeClock())
    assert W.decide(W.ON_NEXT_CONNECTION, 2, links=links) == (True, False)  # a retry fell due
    assert W.decide(W.ON_NEXT_CONNECTION, 2, links=links, prefs=["modem"]) == (False, False)
    assert W.decide(W.ON_NEXT_CONNECTION, 0, links=links) == (False, False)
    assert W.decide(W.ON_REQUEST, 2, links=links) == (False, False)


def test_decide_accepts_settings_strings():
    assert W.decide("immediately", 1) == (True, True)
    assert W.decide("next-connection", 1, came_up="modem") == (True, False)
    assert W.decide("on-request", 1, came_up="modem") == (False, False)
    assert W.option_code("bogus") == W.ON_REQUEST


def test_a_hook_that_gives_up_ends_the_wait_at_once_and_says_why():
    """Issue 10 finding 2: a hook that reports its own failure (Wi-Fi: no access point) is not
    waited for until the deadline, nor taken down (it keeps its own reconnect plan)."""
    class GivesUp(ManualHook):
        def failed(self):
            return LinkDown("no access point 'ap' in range") if self.ups else None

    clock = FakeClock()
    w = GivesUp("wifi", up_after=10 ** 6)
    links = L.Links([w], clock, up_timeout_s=30)
    t0 = clock()
    e = raises(LinkDown, drive, links.acquire(), clock)
    assert "no access point 'ap' in range" in str(e) and "wifi" in str(e)
    assert clock() - t0 < 1 and w.downs == 0

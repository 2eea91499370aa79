"""Progress (TImSmtpProgress): the counter invariant, states, callbacks."""

from smtpmtm.outbox import progress as P
from portable import Rng


def test_init_total_and_invariant():
    p = P.Progress(service=0x100001)
    p.init_total(3)
    assert p.state == P.WAITING and p.total == 3 and p.not_sent == 3
    assert p.consistent()
    p.set_state(P.CONNECTING, stage="tcp", hook="wifi")
    snap = p.snapshot()
    assert snap["state"] == "connecting" and snap["stage"] == "tcp" and snap["hook"] == "wifi"
    assert snap["msg_no"] == 0 and snap["sent"] == 0 and snap["service"] == 0x100001
    assert p.connection_state() == "tcp"
    p.start_message(0, 0x100010, 500)
    p.on_bytes(250, 500)
    assert p.bytes_sent == 250 and p.bytes_to_send == 500 and p.connection_state() == "open"
    p.message_sent()
    p.start_message(1, 0x100011, 10)
    p.message_failed("deferred")
    p.start_message(2, 0x100012, 10)
    p.message_failed("suspended")
    assert (p.sent, p.failed, p.not_sent, p.deferred, p.suspended) == (1, 2, 0, 1, 1)
    assert p.consistent()
    p.done()
    assert p.state_name() == "done"


def test_invariant_holds_under_random_updates():
    rng = Rng(7)
    for trial in range(30):
        p = P.Progress()
        n = rng.below(6)
        p.init_total(n)
        for _ in range(12):
            op = rng.below(5)
            if op == 0:
                p.message_sent()
            elif op == 1:
                p.message_failed(rng.choice(["failed", "deferred", "suspended"]))
            elif op == 2:
                p.drop_message()
            elif op == 3:
                p.on_bytes(rng.below(100), 100)
            else:
                p.set_state(rng.below(4))
            assert p.consistent(), repr(p)
        assert p.sent + p.not_sent + p.failed == p.total


def test_never_counts_more_than_total():
    p = P.Progress()
    p.init_total(1)
    p.message_sent()
    p.message_sent()
    p.message_failed()
    assert (p.sent, p.failed, p.total) == (1, 0, 1)


def test_callbacks_and_unsubscribe():
    seen = []
    p = P.Progress()
    cb = p.subscribe(lambda pr: seen.append((pr.state, pr.sent)))
    p.init_total(1)
    p.start_message(0, 1, 5)
    p.message_sent()
    p.done()
    assert seen[-1] == (P.DONE, 1)
    n = len(seen)
    p.unsubscribe(cb)
    p.set_error("timeout", "x")
    assert len(seen) == n
    assert p.error == "timeout" and "timeout" in repr(p)

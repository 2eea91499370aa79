"""Retry policy: exponential backoff with jitter, max attempts, max age."""

from smtpmtm.retry import Backoff, default_rand


def test_delays_grow_and_cap_with_jitter_bounds():
    vals = [0.0, 0.999, 0.5]
    for r in vals:
        b = Backoff(base_s=60, max_s=3600, rand=lambda r=r: r)
        prev_hi = 0
        for n in range(1, 12):
            d = min(3600, 60 * 2 ** (n - 1))
            got = b.delay(n)
            assert d // 2 <= got <= d and type(got) is int, (n, got)
        assert b.delay(1000) <= 3600


def test_jitter_spreads():
    seq = [0.1, 0.9]
    b = Backoff(base_s=100, max_s=1000, rand=lambda: seq.pop())
    a, c = b.delay(1), b.delay(1)
    assert a != c and 50 <= a <= 100 and 50 <= c <= 100


def test_bad_rand_value_is_clamped():
    b = Backoff(base_s=10, rand=lambda: 7.0)
    assert b.delay(1) == 7  # 5 + half of the other 5, whole seconds


def test_max_attempts_and_age():
    b = Backoff(base_s=10, max_s=100, max_attempts=3, max_age_s=1000, rand=lambda: 0.0)
    assert b.after_failure(5000, 1, first_try=5000) == (False, 5005)
    assert b.after_failure(5000, 2, first_try=5000) == (False, 5010)
    assert b.after_failure(5000, 3, first_try=5000) == (True, None)
    assert b.after_failure(6000, 1, first_try=5000) == (True, None)
    assert b.after_failure(5999, 1, first_try=5000)[0] is False
    unlimited = Backoff(max_attempts=0, max_age_s=0)
    assert not unlimited.exhausted(10 ** 12, 10 ** 6, 0)


def test_due_time_at_2026_is_exact_whole_seconds():
    # A float next_try would be a multiple of 128 s on a board (single-precision floats).
    now = 1796000000  # 2026-11-30
    b = Backoff(base_s=30, max_s=3600, max_attempts=10, max_age_s=86400, rand=lambda: 0.75)
    for n, want in ((1, 15 + 11), (2, 30 + 22), (3, 60 + 45), (8, 1800 + 1350)):
        give_up, due = b.after_failure(now + 1, n, first_try=now)
        assert not give_up and due == now + 1 + want and type(due) is int, (n, due)
    # max age counts whole seconds too: 86399 s after the first try is still in time
    assert b.after_failure(now + 86399, 1, first_try=now)[0] is False
    assert b.after_failure(now + 86400, 1, first_try=now) == (True, None)


def test_from_settings_and_default_rand():
    class S:
        max_attempts = 4
        backoff_base_s = 5
        backoff_max_s = None

    b = Backoff.from_settings(S())
    assert b.max_attempts == 4 and b.base_s == 5 and b.max_s == 3600
    for _ in range(20):
        r = default_rand()
        assert 0 <= r < 1

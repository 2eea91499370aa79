"""Retry policy: exponential backoff with jitter, max attempts, max age."""

from smtpmtm.outbox.retry import Backoff, default_rand


def test_delays_grow_and_cap_with_jitter_bounds():
    vals = [0.0, 0.999, 0.5]
    for r in vals:
        b = Backoff(base_s=60, max_s=3600, rand=lambda r=r: r)
        prev_hi = 0
        for n in range(1, 12):
            d = min(3600, 60 * 2 ** (n - 1))
            got = b.delay(n)
            assert d / 2 <= got <= d, (n, got)
        assert b.delay(1000) <= 3600


def test_jitter_spreads():
    seq = [0.1, 0.9]
    b = Backoff(base_s=100, max_s=1000, rand=lambda: seq.pop())
    a, c = b.delay(1), b.delay(1)
    assert a != c and 50 <= a <= 100 and 50 <= c <= 100


def test_bad_rand_value_is_clamped():
    b = Backoff(base_s=10, rand=lambda: 7.0)
    assert b.delay(1) == 7.5


def test_max_attempts_and_age():
    b = Backoff(base_s=10, max_s=100, max_attempts=3, max_age_s=1000, rand=lambda: 0.0)
    assert b.after_failure(5000.0, 1, first_try=5000.0) == (False, 5005.0)
    assert b.after_failure(5000.0, 2, first_try=5000.0) == (False, 5010.0)
    assert b.after_failure(5000.0, 3, first_try=5000.0) == (True, None)
    assert b.after_failure(6000.0, 1, first_try=5000.0) == (True, None)
    assert b.after_failure(5999.0, 1, first_try=5000.0)[0] is False
    unlimited = Backoff(max_attempts=0, max_age_s=0)
    assert not unlimited.exhausted(1e12, 10 ** 6, 0)


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

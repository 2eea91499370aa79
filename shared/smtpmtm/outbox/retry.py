"""Retry policy: exponential backoff with jitter, a maximum attempt count and age.

A transient failure (4xx reply, RFC 5321 section 4.2.1; lost connection,
timeout, link down) puts a message back to waiting with a ``next_try`` time; a
message that reached ``max_attempts`` attempts or is older than ``max_age_s``
is failed instead (RFC 5321 section 4.5.4.1 suggests giving up after 4-5 days
for an MTA; a board's defaults are shorter). The delay before attempt n+1 is

    d = min(backoff_max_s, backoff_base_s * 2 ** (n - 1))
    delay = d // 2 + int(rand() * (d - d // 2))      ("equal jitter")

so boards that lost the same link do not all come back at the same second.
``rand`` is injected (a callable returning a float in [0, 1)) so tests are
repeatable; the default draws from compat.urandom. Times are whole Unix
seconds and delays whole seconds, all ints: a board's single-precision float
holds a Unix time only to 128 s (only the jitter fraction is a float).

Example::

    b = Backoff(base_s=60, max_s=3600, max_attempts=6, max_age_s=86400)
    give_up, next_try = b.after_failure(now, attempts=1, first_try=queued_at)
"""

from ..compat import urandom


def default_rand():
    return int.from_bytes(urandom(4), "big") / 4294967296.0


class Backoff:
    def __init__(self, base_s=60, max_s=3600, max_attempts=8, max_age_s=3 * 86400, rand=None):
        self.base_s = base_s
        self.max_s = max_s
        self.max_attempts = max_attempts
        self.max_age_s = max_age_s
        self.rand = rand or default_rand

    @classmethod
    def from_settings(cls, settings, rand=None):
        """Read the retry fields of an SmtpSettings (missing fields keep the defaults)."""
        b = cls(rand=rand)
        for name in ("backoff_base_s", "backoff_max_s", "max_attempts", "max_age_s"):
            v = getattr(settings, name, None)
            if v is not None:  # the attribute is the name without "backoff_"
                setattr(b, name.replace("backoff_", ""), v)
        return b

    def delay(self, attempts):
        """Whole seconds (an int) to wait after the attempts-th failed attempt (attempts >= 1)."""
        n = attempts - 1 if attempts > 1 else 0
        d = self.base_s
        while n > 0 and d < self.max_s:  # no huge numbers for huge n
            d *= 2
            n -= 1
        if d > self.max_s:
            d = self.max_s
        r = self.rand()
        if r < 0 or r >= 1:
            r = 0.5
        half = d // 2
        return half + int(r * (d - half))

    def exhausted(self, now, attempts, first_try=None):
        """True when no further attempt is allowed (max attempts or max age reached)."""
        if self.max_attempts and attempts >= self.max_attempts:
            return True
        if self.max_age_s and first_try is not None and now - first_try >= self.max_age_s:
            return True
        return False

    def after_failure(self, now, attempts, first_try=None):
        """(give_up, next_try) after a transient failure of attempt number ``attempts``;
        ``now`` and ``next_try`` are whole Unix seconds."""
        if self.exhausted(now, attempts, first_try):
            return True, None
        return False, int(now) + self.delay(attempts)

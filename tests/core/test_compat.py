"""The compat shim and the error hierarchy behave the same on both interpreters."""

from smtpmtm import compat, errors


def test_const_and_urandom():
    assert compat.const(5) == 5
    r = compat.urandom(16)
    assert len(r) == 16 and isinstance(r, bytes)


def test_epoch_offset_gives_unix_time():
    # A board without an RTC boots at its port's epoch (2000-01-01 on most), so the reading
    # itself may be any year: check the offset and that whole seconds come out, as an int.
    import time

    assert compat.EPOCH_OFFSET in (0, 946684800)
    assert time.gmtime(0)[0] == (2000 if compat.EPOCH_OFFSET else 1970)
    assert time.gmtime(1796000000 - compat.EPOCH_OFFSET)[:6] == (2026, 11, 30, 0, 53, 20)
    before = int(time.time()) + compat.EPOCH_OFFSET
    t = compat.unix_time()
    assert type(t) is int and before <= t <= int(time.time()) + compat.EPOCH_OFFSET


def test_reply_error_transient_vs_permanent():
    e = errors.ReplyError("MAIL", 451, "try later", "4.3.0")
    assert e.transient and e.reply_code == 451 and "4.3.0" in str(e)
    e = errors.ReplyError("RCPT", 550, "no such user", "5.1.1")
    assert not e.transient
    assert errors.ConnectionLost("x").transient
    assert isinstance(errors.StoreFull("x"), errors.StoreError)


def test_monotonic_accumulates_across_ticks_wrap():
    import sys

    readings = [1000, 3000, 7500]
    if sys.implementation.name == "micropython":  # ticks_ms wraps (2**30 ms on boards)
        import time

        period = time.ticks_add(0, -1) + 1
        readings = [period - 1000, period - 1, 3500]
    real = compat.ticks_ms
    compat._mono[:] = [0, None]
    seq = list(readings)
    compat.ticks_ms = lambda: seq.pop(0)
    try:
        got = [compat.monotonic_ms() for _ in readings]
        seq.append(readings[-1])
        secs = compat.monotonic()
    finally:
        compat.ticks_ms = real
        compat._mono[:] = [0, None]
    assert got[0] == 0
    assert got[1] > got[0] and got[2] > got[1], got
    assert got[2] == 4500 if sys.implementation.name == "micropython" else got[2] == 6500
    # whole ints, never floats (a board's single-precision float loses them)
    assert secs == got[2] // 1000 and type(secs) is int and type(got[2]) is int

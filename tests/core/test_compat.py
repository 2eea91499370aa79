"""The compat shim and the error hierarchy behave the same on both interpreters."""

from smtpmtm import compat, errors


def test_const_and_urandom():
    assert compat.const(5) == 5
    r = compat.urandom(16)
    assert len(r) == 16 and isinstance(r, bytes)


def test_epoch_offset_gives_unix_time():
    assert compat.EPOCH_OFFSET in (0, 946684800)
    assert compat.unix_time() > 1600000000


def test_reply_error_transient_vs_permanent():
    e = errors.ReplyError("MAIL", 451, "try later", "4.3.0")
    assert e.transient and e.reply_code == 451 and "4.3.0" in str(e)
    e = errors.ReplyError("RCPT", 550, "no such user", "5.1.1")
    assert not e.transient
    assert errors.ConnectionLost("x").transient
    assert isinstance(errors.StoreFull("x"), errors.StoreError)

"""Unset clock at queue time: sane estimated Date, marked, fixed once NTP sets the clock.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from smtpmtm_board.clock import WallClock
from test_device_clock import LATER, NOW, T
from portable import tmpdir
from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.accounts import Accounts
from smtpmtm.client.mtm import Client
from smtpmtm.settings import SmtpSettings

from smtpmtm_board import datefix


def setup(boot_gap=0, last_good=NOW):
    d = tmpdir("dfx")
    # an earlier boot saw a real time and saved it
    t0 = T(last_good)
    WallClock(path=d + "/clock.dat", rtc=False, time_fn=t0.time, ticks=t0.ticks).save()
    t = T()  # this boot: RTC back at 2000-01-01
    clk = WallClock(path=d + "/clock.dat", rtc=False, time_fn=t.time, ticks=t.ticks)
    from smtpmtm.store.tree import Store

    st = Store(d + "/store")
    accts = Accounts(st)
    a = accts.create("pump", SmtpSettings(server="smtp.example.com", starttls=True,
                                                      email_address="pump@example.com"))
    accts.set_default(a)
    return st, Client(st, accts, clk), clk, t


def queue(c, st, clk, subject):
    mid = c.create_message()
    c.add_addressee("ann@example.com")
    c.subject = subject
    c.save_message()
    c.queue()
    if not clk.valid:
        datefix.mark(st, mid, clk)
    return mid


def test_estimated_date_is_sane_then_fixed_exactly():
    st, c, clk, t = setup()
    t.advance(60)  # one minute after boot
    mid = queue(c, st, clk, "alarm")
    h = M.read_header(st, mid)
    assert h["date"] == NOW + 60  # last good + uptime: never 2000 or 1970
    assert datefix.PART in st.parts(mid)
    assert datefix.fix(st, clk) == 0  # clock still unset: nothing to do
    t.advance(100)
    real_now = NOW + 86400 + 160  # NTP: the board was off for a day before this boot
    clk.set(real_now, "ntp")
    assert datefix.fix(st, clk) == 1
    h = M.read_header(st, mid)
    assert h["date"] == NOW + 86400 + 60  # exactly when it was queued
    assert st.get(mid).date == h["date"]
    assert datefix.PART not in st.parts(mid)
    assert datefix.fix(st, clk) == 0  # once only


def test_estimated_date_at_2026_is_exact_in_whole_seconds():
    # last good + a float uptime would be a multiple of 128 s on a board (single precision)
    st, c, clk, t = setup(last_good=LATER)
    t.advance_ms(60700)
    mid = queue(c, st, clk, "alarm")
    h = M.read_header(st, mid)
    assert h["date"] == LATER + 60 and type(h["date"]) is int
    assert st.get(mid).date == LATER + 60
    t.advance_ms(39300)  # 100 s after boot
    clk.set(LATER + 3600 + 100, "ntp")  # off for an hour before this boot
    assert datefix.fix(st, clk) == 1
    h = M.read_header(st, mid)
    assert h["date"] == LATER + 3600 + 60 and type(h["date"]) is int
    assert st.get(mid).date == h["date"]


def test_earlier_boot_gets_send_time_and_sent_once_keeps_its_date():
    st, c, clk, t = setup()
    old = queue(c, st, clk, "from an earlier boot")
    st.write_part(old, datefix.PART, [b"deadbeef"])  # marked by another boot
    tried = queue(c, st, clk, "already attempted")
    e = st.get(tried)
    e.attempts = 1
    st.update(e)
    before = M.read_header(st, tried)["date"]
    clk.set(NOW + 5000, "ntp")
    assert datefix.fix(st, clk) == 1
    assert M.read_header(st, old)["date"] == NOW + 5000
    assert M.read_header(st, tried)["date"] == before  # a resend stays recognisable
    assert datefix.PART not in st.parts(tried)


def test_valid_clock_means_no_mark():
    st, c, clk, t = setup()
    clk.set(NOW + 10)
    mid = queue(c, st, clk, "normal")
    assert datefix.PART not in st.parts(mid)
    assert M.read_header(st, mid)["date"] == NOW + 10
    assert st.get(mid).parent == E.OUTBOX

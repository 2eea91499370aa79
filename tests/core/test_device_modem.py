"""Modem hook cases: the AT dialogue against an in-memory modem, fake clock, no sleeps.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from device_fakemodem import Clock, FakeModem
from modem import ModemError, ModemHook


class FakePPP:
    def __init__(self, uart, ok=True):
        self.uart = uart
        self.ok = ok
        self.active_calls = []

    def isconnected(self):
        return self.ok and self.uart.connected

    def active(self, v):
        self.active_calls.append(v)

    def disconnect(self):
        pass


def hook(modem, ppp=False, **kw):
    clock = Clock()
    return ModemHook(modem, "internet", clock_ms=clock, idle=clock.idle, ppp=ppp, **kw)


def expect(code, modem, **kw):
    h = hook(modem, **kw)
    try:
        h.connect(timeout=200)
    except ModemError as e:
        assert e.code == code, (e.code, str(e))
        assert e.transient
        assert h.error is e and not h.is_up()
        return h, e
    raise AssertionError("no ModemError, wanted " + code)


def test_happy_path_commands_in_order():
    m = FakeModem()
    h = hook(m)
    assert h.connect(timeout=60)
    assert h.is_up()
    assert m.commands == ["AT", "ATE0", "AT+CPIN?", "AT+CSQ", "AT+CREG?",
                          'AT+CGDCONT=1,"IP","internet"', "ATD*99#"], m.commands
    st = h.status()
    assert st["signal"] == 20 and st["registration"] == "home" and st["stage"] == "up"


def test_nonblocking_start_poll():
    m = FakeModem()
    clock = Clock()
    h = ModemHook(m, "internet", clock_ms=clock, idle=clock.idle, ppp=False)
    h.start()
    n = 0
    while not h.poll():
        n += 1
        if n > 100:
            raise AssertionError("did not come up")
    assert n >= 6  # one poll per answer at least: it never blocked


def test_modem_booting_retries_at():
    m = FakeModem(deaf=2)
    h = hook(m)
    assert h.connect(timeout=60)
    assert m.commands[:3] == ["AT", "AT", "AT"]


def test_no_modem():
    expect("no-modem", FakeModem(deaf=100))


def test_no_sim():
    _, e = expect("no-sim", FakeModem(sim=None))
    assert "SIM" in str(e)


def test_no_sim_cme_error():
    expect("no-sim", FakeModem(sim=None, cme_no_sim=True))


def test_sim_pin_required_without_pin():
    _, e = expect("sim-pin", FakeModem(sim="SIM PIN"))
    assert "PIN" in str(e)


def test_sim_pin_entered():
    m = FakeModem(sim="SIM PIN", pin="4321")
    h = hook(m, pin="4321")
    assert h.connect(timeout=60)
    assert 'AT+CPIN="4321"' in m.commands


def test_sim_pin_wrong():
    expect("sim-pin", FakeModem(sim="SIM PIN", pin="4321"), pin="0000")


def test_sim_puk():
    expect("sim-puk", FakeModem(sim="SIM PUK"))


def test_registration_after_searching():
    m = FakeModem(reg=("2", "2", "2", "5"))
    h = hook(m)
    assert h.connect(timeout=60)
    assert h.status()["registration"] == "roaming"
    assert m.commands.count("AT+CSQ") == 4


def test_lte_only_registration_cereg():
    m = FakeModem(reg=("2", "1"), creg=False)
    h = hook(m)
    assert h.connect(timeout=60)
    assert "AT+CEREG?" in m.commands


def test_2g_modem_without_cereg_keeps_searching_then_fails():
    expect("no-registration", FakeModem(reg=("2",), cereg=False), reg_timeout=20)


def test_no_signal():
    _, e = expect("no-signal", FakeModem(reg=("0",), csq=99), reg_timeout=20)
    assert "antenna" in str(e)


def test_registration_denied():
    expect("no-registration", FakeModem(reg=("3",)))


def test_wrong_apn():
    _, e = expect("wrong-apn", FakeModem(apns=("other",)))
    assert "internet" in str(e)


def test_dropped_link_no_carrier():
    m = FakeModem()
    h = hook(m)
    h.connect(timeout=60)
    assert h.is_up()
    m.drop()
    assert not h.is_up()
    assert h.error.code == "no-carrier"


def test_hangup_escapes_then_ath():
    m = FakeModem()
    h = hook(m)
    h.connect(timeout=60)
    h.down()
    assert not h.is_up() and not m.connected
    assert m.commands[-1] == "ATH"
    assert b"+++" in m.raw
    # and it can come up again
    assert h.connect(timeout=60) and m.connected


def test_ppp_handover_and_drop():
    m = FakeModem()
    p = []

    def factory(uart):
        p.append(FakePPP(uart))
        return p[0]

    h = hook(m, ppp=factory)
    assert h.connect(timeout=60)
    assert p[0].uart is m and h.is_up()
    m.drop()
    assert not h.is_up() and h.error.code == "no-carrier"
    h.down()
    assert False in p[0].active_calls


def test_ppp_never_comes_up():
    m = FakeModem()
    expect("timeout", m, ppp=lambda u: FakePPP(u, ok=False), ppp_timeout=5)


def test_overall_timeout():
    m = FakeModem(reg=("2",))
    h = hook(m, reg_timeout=1000)
    try:
        h.connect(timeout=10)
    except ModemError as e:
        assert e.code == "timeout"
        return
    raise AssertionError("no timeout")


def test_connect_hook_interface_with_links():
    from smtpmtm.link import Links
    m = FakeModem(reg=("2", "1"))
    clock = Clock()
    h = ModemHook(m, "internet", clock_ms=clock, idle=clock.idle, ppp=False)
    links = Links([h], clock.seconds, up_timeout_s=60)
    acq = links.acquire(["modem"])
    n = 0
    while acq.step() is None:
        clock.idle()
        n += 1
        if n > 1000:
            raise AssertionError("never up")
    assert acq.hook is h and acq.brought and m.connected
    links.release(acq, take_down=True)
    assert not m.connected and not h.is_up()


def test_connect_hook_failure_kept_in_error():
    m = FakeModem(sim=None)
    clock = Clock()
    h = ModemHook(m, "internet", clock_ms=clock, idle=clock.idle, ppp=False)
    h.up()
    for _ in range(50):
        assert not h.is_up()
    assert h.error.code == "no-sim" and h.status()["error"] == "no-sim"

"""The simulated modem's AT dialogue, driven by the project's own modem hook.

Host-only: the modem simulator is a CPython thread behind a pseudo-terminal
(host/modemsim.py). The hook (device/modem.py + modem_at.py, the code a board
runs) talks to it over the pty here on CPython, and in the last test from
inside the virtual board through the simulated machine.UART and network.PPP.
No sleeps: the hook's idle waits for the pty (select, 50 ms at most) and a
fake clock moves on 0.5 s per idle, so the dialogue's timeouts are quick.
"""

import os
import select
import sys

import pytest
import serial

from host.modemsim import Modem

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(ROOT, "device") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "device"))

from modem import ModemError, ModemHook  # noqa: E402


class PtyUart:
    """machine.UART(..., timeout=0) over a pty: read() returns bytes or None, never blocks."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)

    def read(self, n=-1):
        try:
            return os.read(self.fd, 4096 if n < 0 else n) or None
        except BlockingIOError:
            return None

    def write(self, data):
        return os.write(self.fd, data)

    def close(self):
        os.close(self.fd)


class Clock:
    """Monotonic milliseconds as an int, the hook's clock_ms."""

    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


@pytest.fixture
def rig():
    made = []

    def make(**modem_kw):
        m = Modem(guard_s=0.02, **modem_kw).start()
        u = PtyUart(m.pty)
        clock = Clock()

        def idle():
            select.select([u.fd], [], [], 0.05)  # wait for the modem, not for time
            clock.t += 500

        hook = ModemHook(u, apn="internet", pin="1234", ppp=False, clock_ms=clock, idle=idle,
                         guard=0.05, reg_timeout=5, reg_poll=1, cmd_timeout=3, dial_timeout=5)
        made.append((m, u))
        return m, hook

    yield make
    for m, u in made:
        u.close()
        m.stop()


def error_code(hook):
    with pytest.raises(ModemError) as e:
        hook.connect(timeout=60)
    return e.value.code


def test_plain_at_dialogue_by_hand():
    m = Modem(drop_after=10).start()
    try:
        s = serial.Serial(m.pty, timeout=2)
        s.write(b"AT\r")
        assert s.read_until(b"OK\r\n") == b"AT\r\r\nOK\r\n"  # echo on, as a modem boots
        s.write(b"ATE0\r")
        s.read_until(b"OK\r\n")
        s.write(b"AT+CPIN?\r")
        assert s.read_until(b"OK\r\n") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
        s.write(b"AT+CREG?\r")
        assert b"+CREG: 0,1" in s.read_until(b"OK\r\n")
        s.write(b'AT+CGDCONT=1,"IP","internet"\rATD*99#\r')
        assert s.read_until(b"CONNECT 115200\r\n").endswith(b"CONNECT 115200\r\n")
        s.write(b"\x7e\xff\x7d\x23 ppp bytes \x7e")  # 16 bytes: past drop_after
        assert s.read_until(b"NO CARRIER\r\n").endswith(b"NO CARRIER\r\n")
        s.close()
        assert m.log == ["AT", "ATE0", "AT+CPIN?", "AT+CREG?", 'AT+CGDCONT=1,"IP","internet"', "ATD*99#"]
        assert m.data_in == 16 and m.mode == "command"
    finally:
        m.stop()


def test_hook_brings_the_call_up_and_hangs_up(rig):
    m, hook = rig(apns=("internet",))
    assert hook.connect(timeout=60)
    assert m.calls == 1 and m.apn == "internet" and m.mode == "data"
    assert hook.status()["registration"] == "home" and hook.status()["signal"] == 18
    hook.down()
    assert m.log[-1] == "ATH" and m.mode == "command"


def test_modem_still_booting_then_answers(rig):
    m, hook = rig(silent_ats=2, registration="roaming", searching_polls=2)
    assert hook.connect(timeout=60)
    assert m.log.count("AT") >= 3 and hook.status()["registration"] == "roaming"


def test_sim_pin_is_sent(rig):
    m, hook = rig(sim="pin", pin="1234")
    assert hook.connect(timeout=60)
    assert 'AT+CPIN="1234"' in m.log


def test_no_sim(rig):
    m, hook = rig(sim="absent")
    assert error_code(hook) == "no-sim"
    assert "AT+CREG?" not in m.log


def test_no_registration_denied(rig):
    m, hook = rig(registration="denied")
    assert error_code(hook) == "no-registration"


def test_no_registration_searching_forever(rig):
    m, hook = rig(registration="searching")
    assert error_code(hook) in ("no-registration",)
    assert m.log.count("AT+CREG?") >= 2  # it kept asking before giving up


def test_no_signal(rig):
    m, hook = rig(registration="searching", rssi=99)
    assert error_code(hook) == "no-signal"


def test_wrong_apn(rig):
    m, hook = rig(apns=("payandgo",))
    assert error_code(hook) == "wrong-apn"
    assert m.calls == 0


def test_dropped_link(rig):
    m, hook = rig()
    assert hook.connect(timeout=60)
    assert hook.is_up()
    m.drop()
    for _ in range(40):
        select.select([hook.uart.fd], [], [], 0.05)
        if not hook.is_up():
            break
    assert not hook.is_up() and hook.error.code == "no-carrier"


def test_drop_after_bytes(rig):
    m, hook = rig(drop_after=100)
    assert hook.connect(timeout=60)
    hook.uart.write(b"x" * 150)
    for _ in range(40):
        select.select([hook.uart.fd], [], [], 0.05)
        if not hook.is_up():
            break
    assert hook.error is not None and hook.error.code == "no-carrier"


def test_modem_hook_on_the_virtual_board(tmp_path):
    """The board's own code path: machine.UART(1) -> the modem pty, network.PPP, link switched by the host."""
    from host.boardctl import mpremote
    from host.vboard import VirtualBoard

    state = tmp_path / "vb"
    modem = Modem(apns=("internet",), link_file=str(state / "link"), guard_s=0.02)
    with VirtualBoard("sim", state_dir=str(state), heap=256 * 1024, frozen=True, link=True, modem=modem) as vb:
        def mpr(*args):
            return mpremote(vb.pty, *args, timeout=60)[0]

        code = ("from machine import UART\nfrom modem import ModemHook\n"
                "h = ModemHook(UART(1, 115200, timeout=0), apn='internet', guard=0.05)\n"
                "print('UP', h.connect(timeout=30), h.ppp.isconnected(), h.status()['registration'])\n")
        out = mpr("exec", code)
        assert "UP True True home" in out, out
        assert modem.calls == 1 and modem.mode == "data"
        # the host takes the link down: the modem drops the call, PPP on the board sees it
        vb.set_link(False)
        out = mpr("resume", "exec", "import time\nfor i in range(250):\n    if not h.is_up():\n        break\n"
                  "    time.sleep_ms(20)\nprint('AFTER', h.is_up(), h.error.code)\n")
        assert "AFTER False no-carrier" in out, out
        # no coverage: a new call fails with a clear reason
        out = mpr("resume", "exec", "h2 = ModemHook(UART(1, 115200, timeout=0), apn='internet', reg_timeout=1, "
                  "reg_poll=0.2)\ntry:\n    h2.connect(timeout=30)\nexcept Exception as e:\n"
                  "    print('ERR', e.code)\n")
        assert "ERR no-signal" in out, out

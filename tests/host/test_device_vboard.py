"""The firmware on the virtual board, driven by mpremote as a person would (host-only).

Starts aiosmtpd (STARTTLS + AUTH, test CA) and host.vboard.VirtualBoard (the
MicroPython unix port on a pty, littlefs2 flash image at /, simulated Wi-Fi
whose link the test switches), copies boot.py, main.py, config.json,
wifi.json and the CA with ``mpremote fs cp``, power-cycles the board so
main.py starts the engine (background thread), and types REPL commands with
``mpremote resume exec``. The project runs "frozen" (precompiled .mpy in the
board's ROM folder); loaded from files like that the bytecode sits in the
heap, so the board gets 512 KB instead of the sim's 64 KB.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PASSWORD, USER, certs, marks, smtp_server  # noqa: E402,F401
from host.boardctl import BoardCtl, install_firmware, outbox_and_sent, reboot, set_account, wait_for  # noqa: E402
from host.vboard import VirtualBoard  # noqa: E402

HEAP = 512 * 1024


class Board:
    """The virtual board with the firmware installed and the account set (host/boardctl.py)."""

    def __init__(self, tmp, srv, certs, config=None, modem=None, send=None):
        self.tmp = tmp
        self.srv = srv
        self.vb = VirtualBoard("sim", state_dir=str(tmp / "vb"), heap=HEAP, frozen=True, fresh=True,
                               modem=modem).start()
        self.ctl = BoardCtl(self.vb.pty)
        install_firmware(self.ctl, self.vb, str(tmp), certs.ca, config)
        out = set_account(self.ctl, srv.port, USER, PASSWORD, send)
        assert "saved" in out, out + self.exec("log()")

    def exec(self, code, timeout=120):
        return self.ctl.exec(code, timeout=timeout, show=False)

    def marks(self, code):
        out = self.exec(code)
        return marks(out), out

    def reboot(self):
        return reboot(self.ctl, self.vb)

    def counts(self):
        return outbox_and_sent(self.ctl)

    def wifi_no_ap(self):
        """How many joins the simulated radio has answered "no access point" since boot."""
        return int(self.marks("import network; print('MARK no_ap', network.WLAN(0).no_ap)")[0]["no_ap"])

    def close(self):
        self.vb.stop()


@pytest.fixture
def board_for(tmp_path, certs):
    made = []

    def make(srv, **kw):
        b = Board(tmp_path, srv, certs, **kw)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def test_three_queued_offline_all_arrive_when_the_link_comes_up(smtp_server, board_for):
    srv = smtp_server("starttls", require_auth=True)
    b = board_for(srv)
    # flash writes from the console hold the app lock: the engine thread writes flash too
    b.exec("with app.lock:\n f = open('/big.bin', 'wb')\n for i in range(256): f.write(bytes(range(256)) * 16)\n f.close()")
    out = b.exec("print('queued', queue('ann@example.com', 'Alarm', 'Pressure low')); "
                 "print('queued', queue('bob@example.com', 'Report', 'all fine', cc='carol@example.com')); "
                 "print('queued', queue('ann@example.com', 'Picture', 'see attachment', attach=['/big.bin'], link=True)); "
                 "outbox(); status()")  # by reference: a 2 MB flash holds one copy of 1 MB
    assert out.count("queued ") == 3 and "3 waiting" in out, out
    # link down: the engine keeps trying to join the Wi-Fi; three more "no access point"
    # answers from the radio, and nothing has left
    n = b.wifi_no_ap()
    assert wait_for(lambda: b.wifi_no_ap() >= n + 3, 60), b.exec("log(); status()")
    assert b.counts() == (3, 0) and not srv.messages
    b.vb.set_link(True)
    assert wait_for(lambda: b.counts() == (0, 3), 120), b.exec("log(); status()")
    msgs = srv.wait_messages(3)
    big = [x for x in msgs if b"Subject: Picture" in x.data][0]
    import email

    part = [p for p in email.message_from_bytes(big.data).walk() if p.get_filename() == "big.bin"][0]
    assert part.get_payload(decode=True) == bytes(range(256)) * 16 * 256
    assert "send: 3 sent" in b.exec("log()")


def test_power_cut_during_the_send_loses_nothing(smtp_server, board_for):
    srv = smtp_server("starttls", faults={"DOT": ["stall"]})  # the first final reply never comes
    b = board_for(srv)
    out = b.exec("print('queued', queue('ann@example.com', 'Alarm', 'Pressure low'))")
    mid = out.split("queued ")[1].split()[0]
    b.vb.set_link(True)
    assert wait_for(lambda: any(b"LAST" in l or l == b"." for l in srv.commands()), 60), (
        srv.commands(), b.exec("log(); status(); print(app.background, app.job, app.ntp)"))
    # the board holds the message "uncertain" on its flash (read without the app lock, which the
    # engine holds while it waits for the reply: the flash has its own lock)
    state = ("from smtpmtm.store import entry as E; "
             "print('MARK state', E.SEND_STATE_NAMES[app.store.get(%s).sending_state])" % mid)
    assert wait_for(lambda: b.marks(state)[0].get("state") == "uncertain", 30), b.exec(state)
    b.reboot()  # power cut while waiting for the final reply
    assert wait_for(lambda: b.counts() == (0, 1), 120), b.exec("log(); ls(); show(%s); status()" % mid)
    msgs = srv.wait_messages(1)
    assert len(msgs) == 1 and b"Subject: Alarm" in msgs[0].data
    out = b.exec("show(%s)" % mid)
    assert "sent" in out and "attempts 2" in out, out


def test_flash_full_while_queueing_is_a_clear_error(smtp_server, board_for):
    srv = smtp_server("starttls")
    b = board_for(srv)
    first = b.exec("print('queued', queue('ann@example.com', 'First', 'kept'))")
    assert "queued" in first
    b.exec("with app.lock:\n f = open('/log.csv', 'wb')\n for i in range(1200): f.write(b'%06d,12.5,13.1,ok\\n' % i * 48)\n f.close()")
    out = b.exec("r = queue('ann@example.com', 'Log', 'big', attach=['/log.csv']); print('MARK r', r); ls()")
    assert "error (store-full)" in out, out
    assert "MARK r None" in out and "First" in out, out
    out = b.exec("status()")
    assert "1 waiting" in out, out


def test_send_over_the_cellular_modem_then_hang_up(smtp_server, board_for, tmp_path):
    modemsim = pytest.importorskip("host.modemsim")
    srv = smtp_server("starttls")
    link = str(tmp_path / "vb" / "link")
    modem = modemsim.Modem(registration="home", apns=("internet",), link_file=link)
    b = board_for(srv, modem=modem, send="immediately",
                  config={"hooks": ["modem"], "up_at_boot": [], "take_down": True,
                          "modem": {"uart": 1, "apn": "internet"}})
    b.vb.set_link(True)  # coverage
    b.exec("queue('ann@example.com', 'Over 2G', 'sent over the modem')")
    assert wait_for(lambda: b.counts() == (0, 1), 120), b.exec("log(); status()")
    assert len(srv.wait_messages(1)) == 1
    assert "ATD*99#" in modem.log and 'AT+CGDCONT=1,"IP","internet"' in modem.log
    assert wait_for(lambda: modem.log[-1].upper() == "ATH", 30), modem.log  # paid link taken down
    out = b.exec("status()")
    assert "modem" in out and "down" in out, out

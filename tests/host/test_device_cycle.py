"""Battery send cycles on the virtual board, driven by mpremote: deep sleep is a process restart.

Host-only (aiosmtpd, the virtual board, mpremote). ``machine.deepsleep(ms)`` on
the virtual board ends the MicroPython process; the relay (host/vboard_pty.py)
starts it again after ms with the flash image kept, and main.py runs as after a
board's deep-sleep wake (``machine.reset_cause() == machine.DEEPSLEEP_RESET``).
First one cycle by hand (``cycle()`` at the REPL, then a deep sleep), then with
``"background": "cycle"`` the board cycles by itself: mail queued while there is
no coverage goes out in the first cycle after the link comes up; after a power
cycle (the reset button) a Ctrl-C within the grace window keeps it at the REPL.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PASSWORD, USER, certs, marks, smtp_server  # noqa: E402,F401
from host.boardctl import BoardCtl, Console, install_firmware, set_account, wait_for  # noqa: E402
from host.vboard import VirtualBoard  # noqa: E402

HEAP = 512 * 1024
CYCLE = {"budget_s": 2, "wake_s": 2}


def test_mail_queued_without_coverage_goes_out_in_a_later_wake(smtp_server, certs, tmp_path):
    srv = smtp_server("starttls", require_auth=True)
    vb = VirtualBoard("sim", state_dir=str(tmp_path / "vb"), heap=HEAP, frozen=True, fresh=True).start()
    try:
        ctl = BoardCtl(vb.pty)
        install_firmware(ctl, vb, str(tmp_path), certs.ca,
                         {"background": "none", "hooks": ["wifi"], "cycle": CYCLE})
        assert "saved" in set_account(ctl, srv.port, USER, PASSWORD)
        # wake 1, by hand: no coverage; the cycle gives up within its budget, the mail stays
        out = ctl.exec("queue('ann@example.com', 'Battery alarm', 'Pressure low'); "
                       "print('MARK sleep', cycle())")
        m = marks(out)
        assert m["sleep"] == "2" and "cycle: 1 due, 0 sent, 1 left, link none (" in out, out
        assert "no access point 'vboard-ap' in range" in out, out  # why, not "link None"
        awake = int(out.split("awake ")[1].split()[0])
        # never longer than the 2 s budget (the Wi-Fi hook says at once that no access point is in
        # range, link.failed(), so the wake usually ends far sooner)
        assert awake < 3500, out
        # deep sleep: the process ends, the relay starts it again after 1.5 s, flash kept
        boots, t0 = vb.boots, time.monotonic()
        ctl.mp("resume", "exec", "--no-follow", "import machine; machine.deepsleep(1500)")
        assert wait_for(lambda: vb.boots > boots, 90), vb.boot_log
        assert time.monotonic() - t0 >= 1.5 and vb.boot_log[-1] == "deepsleep"
        ctl.wait_booted(vb, boots)
        out = ctl.exec("import machine; print('MARK cause', machine.reset_cause() == "
                       "machine.DEEPSLEEP_RESET); outbox()")
        assert marks(out)["cause"] == "True" and "Battery alarm" in out, out
        assert not srv.messages
        # from now on main.py cycles by itself: wake, cycle, deep sleep
        ctl.exec("import json\nwith app.lock:\n with open('/config.json') as f:\n  c = json.load(f)\n"
                 " c['background'] = 'cycle'\n with open('/config.json', 'w') as f:\n  json.dump(c, f)")
        sleeps = vb.relay.sleeps
        ctl.mp("resume", "exec", "--no-follow", "import machine; machine.deepsleep(100)")
        assert wait_for(lambda: vb.relay.sleeps >= sleeps + 3, 60), vb.boot_log  # 2 wakes, no link
        assert not srv.messages
        vb.set_link(True)
        assert wait_for(lambda: srv.messages, 60)  # the next wake finds a link and sends
        msgs = srv.wait_messages(1)
        assert len(msgs) == 1 and b"Subject: Battery alarm" in msgs[0].data
        n = vb.relay.sleeps
        assert wait_for(lambda: vb.relay.sleeps >= n + 2, 60)  # and goes on cycling, sending nothing more
        assert len(srv.messages) == 1
        assert vb.boot_log.count("deepsleep") >= 5, vb.boot_log
        # the reset button (a power cycle): a grace window for Ctrl-C, then the REPL stays.
        # Before it the board slept again ~50 ms after every boot and no mpremote got in.
        con = Console(vb.pty)
        try:
            vb.power_cycle()
            con.expect(b"Ctrl-C within 5 s stays at the REPL", 60)
            con.write(b"\x03")
            con.expect(b"staying awake: the engine is stopped", 30)
        finally:
            con.close()
        sleeps = vb.relay.sleeps
        out = ctl.exec("print('MARK background', app.background); outbox(); sent(); status()", timeout=60)
        assert marks(out)["background"] == "None" and "Battery alarm" in out, out
        assert "engine  idle (not running: send() sends, " in out, out  # was "(None, 0 ticks)"
        assert vb.relay.sleeps == sleeps and vb.boot_log[-1] == "power", vb.boot_log
    finally:
        vb.stop()


def test_host_sim_restarted_on_a_battery_board_holds_it_at_the_repl(tmp_path):
    """`host sim` flashes, power-cycles and waits for main.py's app. On a flash whose
    /config.json says "background": "cycle" it waited 90 s and ended in a traceback ("the
    board did not finish booting"): main.py cycled and slept. Now the boot probe's Ctrl-C
    lands in the grace window and `host sim` says the board is held awake."""
    import argparse

    from host import cli_sim

    state = str(tmp_path / "vb")
    vb = VirtualBoard("sim", state_dir=state, heap=HEAP, frozen=True, fresh=True).start()
    try:
        args = argparse.Namespace(certs=str(tmp_path / "certs"), frozen=True, board="sim")
        assert cli_sim.flash(vb, args, state)[1] is False  # as `make sim` flashes it: no battery mode
        ctl = BoardCtl(vb.pty)
        ctl.exec("import json\nwith app.lock:\n with open('/config.json') as f:\n  c = json.load(f)\n"
                 " c['background'] = 'cycle'\n c['cycle'] = {'budget_s': 2, 'wake_s': 2}\n"
                 " with open('/config.json', 'w') as f:\n  json.dump(c, f)")
        _ca, held = cli_sim.flash(vb, args, state)  # `host sim` again: settings kept
        assert held is True
        out = ctl.exec("print('MARK background', app.background, app.cfg['background'])")
        assert marks(out)["background"] == "None cycle", out
        assert vb.relay.sleeps == 0, vb.boot_log  # it never went to sleep under the user's hands
    finally:
        vb.stop()

"""Bench section "cycle": how long a battery board is awake per wake (virtual board).

The firmware runs on the virtual board (host/vboard.py, the project "frozen" in
its ROM folder) with ``"background": "cycle"`` (device/smtpmtm_board/cycle.py): at each wake
main.py opens the store, runs one send cycle and calls ``machine.deepsleep()``;
the relay (host/vboard_pty.py) measures each wake from the start of the
MicroPython process to its deep sleep (boot.py, main.py, store and accounts
opened, the cycle, the clock saved):

- ``cycle_awake_ms_one``: a wake with one message due and the link available
  (brought up, verified STARTTLS + AUTH to the local server, sent, taken down);
- ``cycle_awake_ms_idle``: a wake with nothing due (the link is never touched),
  the median of 5.

No peer: the embedded clients compared elsewhere have no outbox to wake for.
On a real board the boot is faster (frozen code in flash, no process start) and
the TLS handshake slower (no AES/SHA hardware in the unix port, but a 240 MHz
core instead of this host); the figures compare runs of this project.
"""

import time

USER, PASSWORD = "pump", "bench-secret"
IDLE = 5


def run(argv):
    from host.boardctl import board_with_server, marks

    config = {"background": "none", "hooks": ["wifi"], "cycle": {"budget_s": 60, "wake_s": 1}}
    with board_with_server("vbcycle", USER, PASSWORD, config) as (srv, vb, ctl):
        out = ctl.exec("print('MARK id', queue('ann@example.com', 'Battery alarm', 'Pressure low'))\n"
                       "import json\nwith app.lock:\n with open('/config.json') as f:\n  c = json.load(f)\n"
                       " c['background'] = 'cycle'\n with open('/config.json', 'w') as f:\n  json.dump(c, f)")
        if not marks(out).get("id", "None").isdigit():  # queue() returns the new id, None on error
            raise RuntimeError("queue failed: " + out)
        vb.set_link(True)
        ctl.mp("resume", "exec", "--no-follow", "import machine; machine.deepsleep(100)")
        deadline = time.time() + 300
        while len(vb.relay.awake_ms) < 2 + IDLE and time.time() < deadline:
            time.sleep(0.2)
        awake = list(vb.relay.awake_ms)
        sent = len(srv.messages)
    if len(awake) < 2 + IDLE or sent != 1:
        raise RuntimeError("the board did not cycle as expected: %r, %d sent" % (awake, sent))
    one = awake[1]  # awake[0]: the REPL session that queued the message, not a wake
    idle = sorted(awake[2:2 + IDLE])[IDLE // 2]
    figs = {"cycle_awake_ms_one": one, "cycle_awake_ms_idle": idle}
    note = "virtual board: process start to deep sleep"
    rows = [{"section": "cycle", "measure": "awake per wake, nothing due (ms, median of %d)" % IDLE,
             "smtpmtm": idle, "peer": "-", "peer value": "-", "target": note + "; link never up"},
            {"section": "cycle", "measure": "awake per wake, one message due (ms)",
             "smtpmtm": one, "peer": "-", "peer value": "-",
             "target": note + "; link up, STARTTLS, AUTH, send, link down"}]
    return rows, figs

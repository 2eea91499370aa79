"""Modem hook against the simulated modem on a pty (run by tests/host/test_modem_hook_pty.py).

Usage: micropython device_modem_pty.py PTY CASE
Prints "UP <signal> <registration>" or "ERR <code> <text>", then for the
"drop" case "DROPPED <code>" and for "hangup" "DOWN". Real time, real pty:
the hook polls with 10 ms idles as on a board.
"""

import select
import sys

from smtpmtm_board.modem import ModemError, ModemHook


class PtyUart:
    """machine.UART(timeout=0) over a pty path: read() returns what is there, or None."""

    def __init__(self, path):
        self.f = open(path, "r+b")
        self.p = select.poll()
        self.p.register(self.f, select.POLLIN)

    def read(self, n=-1):
        out = b""
        while self.p.poll(0) and (n < 0 or len(out) < n):
            out += self.f.read(1)
        return out or None

    def write(self, data):
        return self.f.write(data)


path, case = sys.argv[1], sys.argv[2]
opts = {"cmd_timeout": 1, "reg_timeout": 3, "reg_poll": 0.3, "dial_timeout": 5, "at_tries": 4}
pin = "1234" if case == "pin-given" else None
hook = ModemHook(PtyUart(path), "internet", pin=pin, ppp=False, guard=0.6, **opts)
try:
    hook.connect(timeout=30)
    st = hook.status()
    print("UP", st["signal"], st["registration"])
except ModemError as e:
    print("ERR", e.code, e)
if case == "drop" and hook.is_up():
    hook.uart.write(b"x" * 32)  # data bytes: the simulated network drops the call after some
    import time

    for _ in range(200):
        if not hook.is_up():
            break
        time.sleep_ms(10)
    print("DROPPED", hook.error.code if hook.error else None)
if case == "hangup" and hook.is_up():
    hook.down()
    print("DOWN", hook.is_up(), hook.dialer.state)

"""Bench section "vboard": peak heap while the virtual board sends a 1 MB attachment.

The firmware (device/boot.py, main.py) runs on the virtual board (host/vboard.py,
the project "frozen" in its ROM folder, 512 KB heap because the unix port keeps
the .mpy code in RAM) and sends a message with a 1 MB flash file attached to the
local server over verified STARTTLS. The engine feeds the watchdog at every
progress update (each chunk sent); the bench wraps ``app.wdt`` to take
``gc.collect(); gc.mem_alloc()`` there, so the figures are live heap:

- ``heap_peak_send_1m``: the highest live heap during the send (code included);
- ``heap_peak_send_1m_growth``: that peak minus the live heap just before the
  link came up (what the send itself holds).
"""

import time

USER, PASSWORD = "pump", "bench-secret"

WRAP = """import gc
class _PeakWdt:
    def __init__(self, w):
        self.w = w
        self.peak = 0
        self.samples = 0
    def feed(self):
        gc.collect()
        a = gc.mem_alloc()
        self.samples += 1
        if a > self.peak:
            self.peak = a
        self.w.feed()
with app.lock:
    app.wdt = _PeakWdt(app.wdt)
    gc.collect()
    print('MARK base', gc.mem_alloc())
"""


def run(argv):
    from host.boardctl import board_with_server, outbox_and_sent

    with board_with_server("vbsend", USER, PASSWORD) as (srv, vb, ctl):
        ctl.exec("with app.lock:\n f = open('/big.bin', 'wb')\n for i in range(256):\n"
                 "  f.write(bytes(range(256)) * 16)\n f.close()")
        out = ctl.exec("print(queue('ann@example.com', 'Picture', 'see attachment', attach=['/big.bin'], "
                       "link=True))")
        if not out.strip().isdigit():  # queue() returns the id, None (after a one-line error) on failure
            raise RuntimeError("queue failed: " + out)
        base = int(ctl.exec(WRAP).split("MARK base", 1)[1].split()[0])
        vb.set_link(True)
        deadline = time.time() + 300
        while outbox_and_sent(ctl) != (0, 1) and time.time() < deadline:
            time.sleep(0.5)
        if outbox_and_sent(ctl) != (0, 1):
            raise RuntimeError("the 1 MB message was not sent: " + ctl.exec("log()"))
        out = ctl.exec("print('MARK peak', app.wdt.peak, app.wdt.samples)")
        peak, samples = [int(x) for x in out.split("MARK peak", 1)[1].split()[:2]]
    figs = {"heap_peak_send_1m": peak, "heap_peak_send_1m_growth": peak - base}
    note = "virtual board, code as .mpy in RAM; live heap at each of %d chunks" % samples
    rows = [{"section": "vboard", "measure": "peak live heap while sending a 1 MB attachment (bytes)",
             "smtpmtm": peak, "target": note},
            {"section": "vboard", "measure": "  of which the send itself (peak - before, bytes)",
             "smtpmtm": peak - base, "target": "info: engine + store + session + TLS"}]
    return rows, figs

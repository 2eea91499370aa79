"""Long uptime without a reset: the board App sends ~170 messages over 36 link cycles and nothing grows.

Host-only (aiosmtpd, the test CA, a MicroPython subprocess fed one cycle at a time:
host/soak.py and tests/mpy/soak_run.py). The board runs the App with the REPL's
queue()/rm()/send(), its store on littlefs2 over a RAM block device, real TLS over
device/net.py and 96 KiB of free heap once its code is loaded; the server defers,
refuses and drops now and then (host/soak.plan). The long version, 1,000 messages,
is `python -m host.reliability soak`.

The bounds, after 6 warm-up cycles (Sent has filled to keep_sent by the 5th):
- heap: the rise of a line fitted to the heap after gc.collect() at each cycle's end
  under 768 B. Fitted over 30 cycles of 1,000-message runs it stayed within +-460 B
  (the state a cycle ends in moves one figure by up to 2 KB either way: a deferred
  message in the Outbox, a failed one in Deleted); one 16-byte block (MicroPython's
  smallest) kept per message sent adds 2.2 KB over the ~140 messages after the warm-up.
  Before the Client's fix (shared/smtpmtm/client/mtm.py, _pending) it rose 3 KB.
- fragmentation: the largest free block never below half of what it was at the end
  of the warm-up (without a GC threshold it fell from 25 KB to 2 KB and every send
  then failed with MemoryError: app.collect_early).
- flash: the store's files and bytes show no trend (a fitted rise under 2 files and
  under 4 KiB, where one part file left behind per message would add 140 files);
  the log stays within its two generations of 16 KiB (applog.py).
- no file descriptor (socket, CA file) left open by the board at a cycle's end.
- every message delivered once per Message-ID (those to the refused address never),
  none left in the Outbox, no error printed by a REPL command.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import certs  # noqa: E402,F401 - pytest fixture
from host import soak  # noqa: E402

CYCLES = 36


def test_a_board_that_sends_for_months_holds_its_heap_flash_and_descriptors(certs):
    r = soak.run(CYCLES, warmup=6, certs=certs)
    s = r["summary"]
    why = "%r\n%r" % (s, r["problems"][:10])
    assert r["problems"] == [], why
    assert s["messages"] >= 150 and s["sends"] >= CYCLES, why
    assert s["heap_growth"] < 768, why
    assert s["largest_free_min"] * 2 >= s["largest_free_warm"], why
    assert s["files_growth"] < 2 and s["store_bytes_growth"] < 4096, why
    assert s["log_bytes_max"] <= 2 * (16384 + 200), why  # two generations, each one line over
    assert s["fds_max"] == 0, why  # the server's view (conns_max) lags the close: reported only

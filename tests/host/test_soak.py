"""Long uptime without a reset: the board App sends ~170 messages over 36 link cycles and nothing grows.

Host-only (aiosmtpd, the test CA, a MicroPython subprocess fed one cycle at a time:
host/soak.py and tests/mpy/soak_run.py). The board runs the App with the REPL's
queue()/rm()/send(), its store on littlefs2 over a RAM block device, real TLS over
device/smtpmtm_board/net.py and 96 KiB of free heap once its code is loaded; the server defers,
refuses and drops now and then (host/soak.plan). After 6 warm-up cycles (Sent has
filled to keep_sent by the 5th) the heap, its largest free block, the store's files
and bytes, the log and the open descriptors must hold the bounds of host/soak.judge
(and why those bounds). The long version, 1,000 messages, is
`python -m host.reliability soak`.
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
    # every message delivered once per Message-ID (to the refused address never), none left
    # in the Outbox, no error printed by a REPL command
    assert r["problems"] == [], why
    assert s["messages"] >= 150 and s["sends"] >= CYCLES, why
    assert soak.judge(s) == [], why

"""Send-path memory of the SMTP core on MicroPython: live heap growth does not depend on size.

Host-only: it starts the MicroPython unix port as a subprocess and sends a 100 KB and
a 1 MB message (DATA and BDAT paths) through Session to the scripted fake server in
sink mode, sampling the live heap (gc.collect + gc.mem_alloc) at every write.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from host import mpy  # noqa: E402

SCRIPT = r'''
import gc, sys, json
from portable import FakeClock
from smtp_fake import FakeServer
from smtpmtm.wire.session import Session

PIECE = b"".join(b"line %03d of a long base64-like body .............................\r\n" % i for i in range(14))

class Probe(FakeServer):
    peak = 0
    def write(self, data):
        gc.collect()  # sampled before the fake server buffers anything of its own
        a = gc.mem_alloc()
        if a > self.peak:
            self.peak = a
        FakeServer.write(self, data)

def body(total):
    sent = 0
    while sent < total:
        yield PIECE
        sent += len(PIECE)

out = {}
for caps in (["PIPELINING"], ["PIPELINING", "CHUNKING"]):
    for total in (100000, 1000000):
        clock = FakeClock()
        srv = Probe(clock, caps=caps, tls=True, sink=True)
        srv.wire = None
        s = Session(srv, clock, "board")
        s.open()
        n = (total // len(PIECE) + (1 if total % len(PIECE) else 0)) * len(PIECE)
        gc.collect()
        base = gc.mem_alloc()
        srv.peak = base
        s.send_message("a@x.org", ["b@y.org"], body(total), n)
        out["%s-%d" % ("+".join(caps), total)] = [srv.peak - base, srv.body_bytes, n]
        s.quit()
print("RESULT " + json.dumps(out))
'''


def test_send_heap_growth_is_flat(tmp_path):
    script = tmp_path / "heap.py"
    script.write_text(SCRIPT)
    proc = mpy.run(str(script), heap="192k", path=(os.path.join(ROOT, "tests", "core"),), timeout=600)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out[-3000:]
    res = json.loads(out.split("RESULT ", 1)[1])
    for caps in ("PIPELINING", "PIPELINING+CHUNKING"):
        small, big = res[caps + "-100000"], res[caps + "-1000000"]
        assert big[1] >= big[2] and small[1] >= small[2], res  # the sink saw every byte
        assert big[0] - small[0] < 1024, res
        assert big[0] < 16 * 1024, res
    print(res)

"""The soak run: one board App sends hundreds of messages over many link cycles, no reset.

Host-only. Starts aiosmtpd on 127.0.0.1 (host/server.py: STARTTLS, AUTH, the test
CA of host/testca.py) and tests/mpy/soak_run.py in the MicroPython unix port: the
board App (device/smtpmtm_board/app.py), the REPL's queue()/rm()/send(), the
store on littlefs2 over a RAM block device, device/smtpmtm_board/net.py's real sockets and TLS,
the code loaded as if frozen and ``budget`` bytes of free heap. Each cycle the
host sets the server's faults, hands the board one plan line (what to queue),
and reads back its figures; between cycles it counts the board process's open
file descriptors (/proc/<pid>/fd: sockets, the CA file, host files).

The schedule (``plan(n)``, deterministic): 3 to 6 messages a cycle, some to two
recipients, some with a 5 KB CSV attached (copied, or linked: read at send time);
every 5th cycle one to later@ gets 451 at RCPT (deferred, sent at the next link-up),
every 7th one to nobody@ gets 550 (failed; the board rm()s it, tidy purges it),
every 11th the connection drops at DATA, every 13th at the final dot (uncertain:
sent again with the same Message-ID), every 9th the REPL's send() runs while no
link can come up. The last cycle has no fault, so every message ends sent or failed.

``run(cycles)`` returns {"rows": [figures per cycle], "problems": [...],
"summary": {...}}; ``summary`` (``summarise``) is what tests/host/test_soak.py bounds
and host/reliability/r_soak.py reports: the heap after gc.collect() and its growth
after the warm-up (a fitted line's rise: one cycle's state moves a figure both ways),
the largest free block (fragmentation), the store's files and bytes, flash used, the
log's bytes, open descriptors at the cycles' ends.

Example::

    r = run(30)
    print(r["summary"]["heap_growth"], r["problems"])
"""

import json
import os
import selectors
import shutil
import subprocess
import tempfile

from host import mpy
from host.mpytable import compile_all
from host.server import SmtpServer
from host.testca import make_certs

USER, PASSWORD = "ann", "s3cret"
NOBODY, LATER = "nobody@example.com", "later@example.com"
# free heap left to the board once its code is loaded: 96 KiB ran 1,000 messages, 64 KiB ran
# short (sends failing with MemoryError from cycle 7 on: the index of Sent, the log, TLS and a
# send); this 64-bit port's objects are about twice a 32-bit board's, and an ESP32 keeps
# ~63 KB free beside the frozen app
BUDGET = 98304
HEAP = "2m"  # the unix port's whole heap: code + the 512 KiB flash image + ballast + BUDGET
CYCLE_TIMEOUT_S = 120


def plan(n, last=False):
    """(plan line for the board, server faults) of cycle n (1-based)."""
    msgs = []
    for k in range(3 + n % 4):
        to = "ann@example.com" if (n + k) % 3 else "ann@example.com, bob@example.com"
        attach = 1 if (n + k) % 5 == 0 else (2 if (n + k) % 7 == 0 else 0)
        msgs.append({"to": to, "attach": attach})
    faults = {}
    if not last:
        if n % 5 == 0:
            msgs.append({"to": LATER})
            faults["RCPT " + LATER] = ["451 4.3.0 try later"]
        if n % 7 == 0:
            msgs.append({"to": NOBODY})
        if n % 11 == 0:
            faults["DATA"] = ["drop"]
        if n % 13 == 0:
            faults["DOT"] = ["drop"]
    faults["RCPT " + NOBODY] = "550 5.1.1 no such user"
    return {"n": n, "msgs": msgs, "down_send": n % 9 == 0 and not last}, faults


class Board:
    """tests/mpy/soak_run.py in a MicroPython process: ``cycle(plan) -> figures``."""

    def __init__(self, port, cafile, tmp, budget=BUDGET, heap=HEAP):
        out = os.path.join(tmp, "mpy")
        compile_all(None, out)  # a board runs .mpy
        env = dict(os.environ)
        env["MICROPYPATH"] = mpy.path_for(out, "tests/mpy")
        self.err = open(os.path.join(tmp, "stderr.txt"), "w+b")
        self.proc = subprocess.Popen(
            mpy.command(os.path.join(mpy.ROOT, "tests", "mpy", "soak_run.py"),
                        [port, cafile, budget], heap),
            env=env, cwd=mpy.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.err)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.said = []  # what the REPL commands printed (errors show here)
        self.buf = b""  # read from the board, not yet a whole line
        try:
            self.first = self._figures()
        except BaseException:
            self.close()
            raise

    def _line(self):
        """The board's next line (os.read: a buffered readline would hide lines from select)."""
        while b"\n" not in self.buf:
            if not self.sel.select(CYCLE_TIMEOUT_S):
                raise RuntimeError("the board said nothing for %d s%s" % (CYCLE_TIMEOUT_S, self._tail()))
            got = os.read(self.proc.stdout.fileno(), 65536)
            if not got:
                self.proc.wait(10)
                raise RuntimeError("the board stopped (exit %s)%s" % (self.proc.returncode, self._tail()))
            self.buf += got
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def _figures(self):
        while True:
            line = self._line()
            if line.startswith("SOAK "):
                return json.loads(line[5:])
            self.said.append(line)

    def _tail(self):
        self.err.seek(0)
        return ":\n" + "\n".join(self.said[-20:]) + "\n" + self.err.read().decode("utf-8", "replace")[-3000:]

    def open_fds(self):
        """The board process's open file descriptors but stdin, stdout and stderr."""
        return len(os.listdir("/proc/%d/fd" % self.proc.pid)) - 3

    def cycle(self, line):
        self.proc.stdin.write((json.dumps(line) + "\n").encode())
        self.proc.stdin.flush()
        return self._figures()

    def close(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
            self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.sel.close()
        self.err.close()


def run(cycles, warmup=None, budget=BUDGET, heap=HEAP, certs=None):
    """Run ``cycles`` cycles; returns {"rows", "problems", "summary"} (module docstring).
    ``warmup``: the cycles before the level every later one is held to (default a tenth,
    at least 6: Sent has filled to keep_sent, 20, by the fifth)."""
    warmup = warmup or max(6, cycles // 10)
    tmp = tempfile.mkdtemp(prefix="soak")
    rows, problems, queued = [], [], {}
    try:
        certs = certs or make_certs(os.path.join(tmp, "certs"))
        srv = SmtpServer(mode="starttls", certs=certs, users={USER: PASSWORD}, require_auth=True)
        with srv:
            board = Board(srv.port, certs.ca, tmp, budget, heap)
            try:
                for n in range(1, cycles + 1):
                    line, faults = plan(n, last=n == cycles)
                    srv.set_faults(faults)
                    f = board.cycle(line)
                    f["fds"] = board.open_fds()
                    f["cycle"] = n
                    if len(f.pop("ids")) != len(line["msgs"]):
                        problems.append("cycle %d: not every message was queued" % n)
                    for k, m in enumerate(line["msgs"]):
                        queued["soak %d.%d" % (n, k + 1)] = m["to"]
                    rows.append(f)
                boot_heap = board.first["heap"]
            finally:
                board.close()
            problems += check_delivery(srv.messages, queued)
            problems += ["board: " + s for s in board.said if s.startswith("error")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = summarise(rows, warmup, boot_heap)
    summary["messages"] = len(queued)
    if summary["outbox_last"]:
        problems.append("%d messages still in the Outbox after the last cycle" % summary["outbox_last"])
    return {"rows": rows, "problems": problems, "summary": summary}


def check_delivery(received, queued):
    """Problems: a message queued to a good address never delivered (or to a bad one
    delivered), or delivered twice under two Message-IDs."""
    copies = {}
    for m in received:
        msg = m.parse()
        copies.setdefault(msg["Subject"], []).append(msg["Message-ID"])
    out = []
    for subject, to in sorted(queued.items()):
        got = copies.get(subject, [])
        if to == NOBODY:
            if got:
                out.append("%s to %s delivered" % (subject, to))
        elif not got:
            out.append("%s never delivered" % subject)
        elif len(set(got)) > 1:
            out.append("%s delivered under %d Message-IDs" % (subject, len(set(got))))
    return out


def fitted_growth(values):
    """What a straight line fitted to values (least squares) rises over their span: a trend,
    where one cycle's state (a deferred message in the Outbox, a failed one in Deleted, how
    many ids the last result names) moves a single figure by a few hundred bytes either way."""
    n = len(values)
    if n < 2:
        return 0
    mx, my = (n - 1) / 2, sum(values) / n
    slope = sum((x - mx) * (y - my) for x, y in enumerate(values)) / sum(
        (x - mx) ** 2 for x in range(n))
    return int(round(slope * (n - 1)))


def _median(values):
    return sorted(values)[len(values) // 2]


def summarise(rows, warmup, boot_heap=0):
    """The figures a soak is judged by: over the cycles after the warm-up, the fitted growth
    of the heap, the store's files and bytes; the largest free block (the median of the
    first quarter after the warm-up, and the smallest since the warm-up); the most open
    descriptors; the log's most bytes; first and last values for the report. The heap's levels (heap_first, _warm,
    _last) are bytes above ``boot_heap``, the board's once the App was made and its
    account set: what the sends added (the unix port's figure holds the code and the
    ballast too)."""
    after = rows[warmup:] or rows[-1:]
    warm = rows[min(warmup, len(rows)) - 1]

    def col(key):
        return [r[key] for r in after]

    return {"cycles": len(rows), "warmup": warmup, "sends": rows[-1]["runs"],
            "heap_first": rows[0]["heap"] - boot_heap, "heap_warm": warm["heap"] - boot_heap,
            "heap_last": rows[-1]["heap"] - boot_heap,
            "heap_max_over_warm": max(col("heap")) - warm["heap"],
            "heap_growth": fitted_growth(col("heap")),
            "largest_free_warm": _median(col("largest")[:max(1, len(after) // 4)]),
            "largest_free_min": min(col("largest")),
            "files_warm": warm["files"], "files_last": rows[-1]["files"],
            "files_growth": fitted_growth(col("files")),
            "store_bytes_warm": warm["store_bytes"], "store_bytes_last": rows[-1]["store_bytes"],
            "store_bytes_growth": fitted_growth(col("store_bytes")),
            "flash_warm": warm["flash"], "flash_max": max(col("flash")), "flash_last": rows[-1]["flash"],
            "log_bytes_max": max(r["log_bytes"] for r in rows),
            "fds_warm": warm["fds"], "fds_max": max(col("fds")),
            "outbox_last": rows[-1]["outbox"]}


HEAP_GROWTH_MAX = 768  # bytes: see judge()


def judge(summary):
    """The bounds a soak must hold, as a list of the ones broken (empty: it held).

    - heap: a line fitted to the heap after gc.collect() at each cycle's end, over the
      cycles after the warm-up, rises under HEAP_GROWTH_MAX. Over 30-cycle stretches of
      1,000-message runs the fitted rise stayed within +-460 B (the state a cycle ends in
      moves one figure by up to 2 KB either way: a deferred message in the Outbox, a
      failed one in Deleted); one list slot kept per message sent (8 B on this 64-bit
      port) rose 1.2 KB over 30 cycles, the Client's old _pending dict 2.7 KB.
    - fragmentation: the largest free block never falls below half of its median over
      the first quarter after the warm-up (without a GC threshold it fell from 25 KB to 2 KB, then
      every send failed with MemoryError: app.collect_early).
    - flash: the store's files and bytes show no trend (a fitted rise under 2 files and
      4 KiB: one part file left behind per message would add a file a message); the log
      stays within its two generations of 16 KiB (applog.py), a line over each at most.
    - no file descriptor (socket, CA file) left open by the board at a cycle's end.
    """
    s = summary
    out = []
    for ok, what in (
            (s["heap_growth"] < HEAP_GROWTH_MAX, "heap grew %d B (fitted)" % s["heap_growth"]),
            (s["largest_free_min"] * 2 >= s["largest_free_warm"],
             "largest free block fell to %d B from %d B" % (s["largest_free_min"], s["largest_free_warm"])),
            (s["files_growth"] < 2, "store files grew by %d" % s["files_growth"]),
            (s["store_bytes_growth"] < 4096, "store bytes grew by %d" % s["store_bytes_growth"]),
            (s["log_bytes_max"] <= 2 * (16384 + 200), "log took %d B" % s["log_bytes_max"]),
            (s["fds_max"] == 0, "%d descriptors left open" % s["fds_max"])):
        if not ok:
            out.append(what)
    return out

"""`make reliability` section: a board that sends 1,000 messages without a reset, and nothing grows.

host/soak.py: the board App on the MicroPython unix port (littlefs2 on a RAM block
device, real TLS to aiosmtpd, 96 KiB of free heap once its code is loaded) over 222
link cycles of 3 to 8 messages, with 4xx deferrals, 5xx failures, dropped
connections at DATA and at the final dot, and sends asked while no link can come
up (host/soak.plan). Pass mark: 0 failures, a failure being a message not
delivered (or delivered under two Message-IDs), one left in the Outbox, an error a
REPL command printed, or a bound of host/soak.judge broken (heap, fragmentation,
store files and bytes, log, open descriptors). ``--quick``: 36 cycles (the test's).

Figures merged into .bench/reliability.json: soak_messages, soak_cycles,
soak_failures, soak_heap_first/_warm/_last (bytes above the heap at boot),
soak_heap_growth (fitted, bytes),
soak_heap_max_over_warm, soak_largest_free_warm/_min, soak_files_warm/_last,
soak_store_bytes_warm/_last, soak_flash_warm/_max/_last, soak_log_bytes_max,
soak_fds_max, soak_seconds.
"""

import time

from host import soak

CYCLES = 222  # ~1,000 messages
QUICK = 36


def run(argv):
    cycles = QUICK if "--quick" in argv else CYCLES
    t0 = time.time()
    r = soak.run(cycles)
    secs = time.time() - t0
    s = r["summary"]
    broken = soak.judge(s)
    fails = r["problems"] + broken
    notes = ("heap after gc.collect(), above its level at boot: %d B after cycle 1, %d B after "
             "the %d-cycle warm-up, %d B at the end (fitted growth since the warm-up %+d B; "
             "at most %d B over the warm-up's: one cycle's state); largest free block "
             "%d B after the warm-up, never under %d B; store %d files / %d B after the warm-up, "
             "%d / %d B at the end; flash used %d B at the end, at most %d B (the log <= %d B); "
             "open descriptors at a cycle's end: at most %d; %.0f s"
             % (s["heap_first"], s["heap_warm"], s["warmup"], s["heap_last"], s["heap_growth"],
                s["heap_max_over_warm"], s["largest_free_warm"], s["largest_free_min"],
                s["files_warm"], s["store_bytes_warm"], s["files_last"], s["store_bytes_last"],
                s["flash_last"], s["flash_max"], s["log_bytes_max"], s["fds_max"], secs))
    if fails:
        notes = "; ".join(fails[:3]) + "; " + notes
    rows = [{"suite": "soak: board App, %d messages over %d link cycles, %d sends, no reset "
                      "(MicroPython, littlefs2, TLS, 96 KiB free heap)"
                      % (s["messages"], s["cycles"], s["sends"]),
             "cases": s["messages"], "failures": len(fails), "notes": notes}]
    figures = {"soak_messages": s["messages"], "soak_cycles": s["cycles"],
               "soak_failures": len(fails), "soak_seconds": int(secs)}
    for k in ("heap_first", "heap_warm", "heap_last", "heap_growth", "heap_max_over_warm",
              "largest_free_warm", "largest_free_min", "files_warm", "files_last",
              "store_bytes_warm", "store_bytes_last", "flash_warm", "flash_max", "flash_last",
              "log_bytes_max", "fds_max"):
        figures["soak_" + k] = s[k]
    return rows, figures

"""Bench section "qemu": heap on the emulated 32-bit board (host/qemuboard.py), code frozen.

- ``qemu_heap_board_app``: heap held after importing what device/main.py and the
  REPL commands import, code frozen (32-bit objects, single-precision floats);
- ``qemu_heap_board_app_mpy``: the same with the code as .mpy files on littlefs2
  (a ``mip install`` on stock firmware: the bytecode is loaded into the heap);
- ``qemu_heap_umail_mpy``: what a uMail script imports (umail and its modules) as
  .mpy files on littlefs2, on the ESP32_GENERIC heap: what stock firmware can run;
- ``qemu_heap_peak_queue_send_1m``: the live-heap peak while a 1 MB attachment is
  queued on littlefs2 and sent through the Sender to the scripted in-memory server;
- ``qemu_free_at_peak_esp32``: the ESP32_GENERIC heap (110,592 B) minus that peak.

The test counts come from the last `make qemu-test` (.bench/qemu.json). Skipped,
with the reason in the table, where no MicroPython source or toolchain is at hand.
"""

import json
import os

from host import figures, qemuboard

GOAL_FREE = 49152


def run(argv):
    missing = qemuboard.toolchain_missing()
    if missing or qemuboard.source_at_hand() is None:
        why = "missing %s" % ", ".join(missing) if missing else "no MicroPython source"
        return [{"section": "qemu", "measure": "emulated board", "smtpmtm": "skipped: " + why}], {}
    elves = qemuboard.build(qemuboard.prepare_source(print), print)
    figs = qemuboard.heap_figures(elves, print)
    rows = [
        {"section": "qemu", "measure": "heap held by the board app, frozen (bytes)",
         "smtpmtm": figs["qemu_heap_board_app"], "target": "emulated Cortex-M0, 32-bit"},
        {"section": "qemu", "measure": "heap held by the board app, .mpy on littlefs2 (bytes)",
         "smtpmtm": figs["qemu_heap_board_app_mpy"], "target": "what `mip install` on stock firmware gives"},
        {"section": "qemu", "measure": "heap held by umail and its modules, .mpy on littlefs2 (bytes)",
         "smtpmtm": figs["qemu_heap_umail_mpy"], "target": "a uMail script on stock ESP32 firmware (110,592 B heap)"},
        {"section": "qemu", "measure": "heap peak, queue + send a 1 MB attachment (bytes)",
         "smtpmtm": figs["qemu_heap_peak_queue_send_1m"]},
        {"section": "qemu", "measure": "free at that peak on the ESP32_GENERIC heap (bytes)",
         "smtpmtm": figs["qemu_free_at_peak_esp32"], "target": ">= %d (48 KiB)" % GOAL_FREE},
    ]
    path = os.path.join(figures.BENCH_DIR, "qemu.json")
    if os.path.exists(path):
        with open(path) as f:
            last = json.load(f)
        for name, heap in qemuboard.HEAPS:
            key = "qemu_tests_%%s_%s" % name
            if key % "passed" in last:
                rows.append({"section": "qemu", "measure": "tests/core on the board, %s heap %d B (last make qemu-test)"
                             % (name, heap), "smtpmtm": "%d passed, %d failed, %d skipped" % (
                                 last[key % "passed"], last[key % "failed"], last[key % "skipped"]),
                             "target": "0 failed"})
                for k in ("passed", "failed", "skipped"):
                    figs[key % k] = last[key % k]
    figures.merge("qemu.json", figs)
    return rows, figs

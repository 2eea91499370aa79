"""Emulate a board's frozen code on the unix port: load the code, then leave BUDGET bytes free.

On a board the core is frozen into flash and the heap (e.g. 64 KiB) is left to
data. The unix port cannot freeze, so a script run with a large -X heapsize
calls ``limit(budget)``: it imports every smtpmtm module and device/smtpmtm_board/net.py (as
if frozen), then pins all free heap but one contiguous region of ``budget``
bytes in ballast blocks (the method of tests/core/_mprun.py). Whatever runs
next has exactly that much heap, as on the board.

Example::

    import budget
    ballast = budget.limit(65536)   # keep the returned object alive
"""

import gc
import sys


def preload(extra=("smtpmtm_board.net",)):
    """Import every smtpmtm module (sub-packages too) and the `extra` modules, as a board with them frozen would have."""
    import os

    for name in extra:
        __import__(name)

    for entry in sys.path:
        try:
            os.listdir(entry + "/smtpmtm")
        except OSError:
            continue
        _import_tree(entry + "/smtpmtm", "smtpmtm")
        return


def _import_tree(path, package):
    """Import every module of ``package`` (at ``path``) and of its sub-packages."""
    import os

    for name in sorted(os.listdir(path)):
        if name.endswith((".py", ".mpy")):
            if not name.startswith("__init__"):
                __import__(package + "." + name.rsplit(".", 1)[0])
        elif "." not in name:
            try:
                os.listdir(path + "/" + name)
            except OSError:
                continue
            _import_tree(path + "/" + name, package + "." + name)


def pin_all_but(budget):
    """Pin every free heap block but one contiguous region of ``budget`` bytes."""
    gc.collect()
    reserve = bytearray(budget - 64)
    blocks = [None] * 512
    singles = [None] * 2048
    n = 0
    size = gc.mem_free()
    while size >= 16 and n < len(blocks):
        try:
            blocks[n] = bytearray(size)
            n += 1
        except MemoryError:
            size //= 2
    for i in range(len(singles)):
        try:
            singles[i] = i + 0.5
        except MemoryError:
            break
    reserve = None  # noqa: F841  (released for the caller)
    gc.collect()
    return (blocks, singles)


def limit(budget):
    """preload() then pin_all_but(budget); returns the ballast (keep it referenced)."""
    preload()
    gc.collect()
    return pin_all_but(budget)

"""Run one core test function on MicroPython: micropython _mprun.py MODULE FUNC BUDGET.

On a board the code is frozen into flash and the heap is left to data. The
unix port cannot freeze, so this runner emulates it: it starts with a large
heap, imports the test module and every module of the core (as a board with
the core frozen would have it), then pins all free heap but BUDGET bytes
(default 64 KiB) in ballast blocks (tests/mpy/budget.py). The
test itself then runs with exactly BUDGET bytes of free heap, as on a board.

Prints ``MPRUN-PASS`` on success, ``MPRUN-SKIP reason`` for a test marked
cpython_only or needing what this port lacks (portable.missing), or the
traceback and ``MPRUN-FAIL``; exits 0 only on pass/skip.
"""

import gc
import sys

from budget import pin_all_but, preload  # tests/mpy/budget.py: the method of the send scripts


def main():
    modname, fname = sys.argv[1], sys.argv[2]
    budget = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
    preload(extra=())  # every core module, as if frozen: lazy imports cost no test heap
    mod = __import__(modname)
    fn = getattr(mod, fname)
    from portable import missing

    reason = missing(fn)
    if reason:
        print("MPRUN-SKIP", reason)
        return 0
    gc.collect()
    code = gc.mem_alloc()
    ballast = pin_all_but(budget)
    print("MPRUN-HEAP code=%d free=%d" % (code, gc.mem_free()))
    try:
        fn()
    except Exception as e:
        sys.print_exception(e)
        print("MPRUN-FAIL")
        return 1
    print("MPRUN-PASS")
    del ballast
    return 0


sys.exit(main())

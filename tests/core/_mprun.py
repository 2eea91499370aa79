"""Run one core test function on MicroPython: micropython _mprun.py MODULE FUNC.

Prints ``MPRUN-PASS`` on success, ``MPRUN-SKIP reason`` for a test marked
cpython_only, or the traceback and ``MPRUN-FAIL``; exits 0 only on pass/skip.
"""

import sys
import gc


def main():
    modname, fname = sys.argv[1], sys.argv[2]
    mod = __import__(modname)
    fn = getattr(mod, fname)
    reason = getattr(fn, "cpython_only", None)
    if reason:
        print("MPRUN-SKIP", reason)
        return 0
    gc.collect()
    try:
        fn()
    except Exception as e:
        sys.print_exception(e)
        print("MPRUN-FAIL")
        return 1
    print("MPRUN-PASS")
    return 0


sys.exit(main())

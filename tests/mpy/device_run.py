"""Run every test_* function of the modules named on the command line (MicroPython runner).

Prints ``PASS name`` / ``FAIL name: error`` per case and ``SUMMARY passed failed``.
Used by tests/host/test_device*.py to run portable device cases on the unix port.
"""

import sys


def main(names):
    passed = failed = 0
    for modname in names:
        mod = __import__(modname)
        for name in sorted(dir(mod)):
            if not name.startswith("test_"):
                continue
            try:
                getattr(mod, name)()
                passed += 1
                print("PASS", name)
            except Exception as e:  # noqa: BLE001 - report every failure
                failed += 1
                print("FAIL", name + ":", type(e).__name__, e)
                if hasattr(sys, "print_exception"):
                    sys.print_exception(e)
    print("SUMMARY", passed, failed)


main(sys.argv[1:])

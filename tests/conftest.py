"""Shared pytest set-up: import paths for the core and the host harness."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("shared", "", "tests/core", "tests/mpy", "device"):
    p = os.path.join(ROOT, sub)
    if p not in sys.path:
        sys.path.insert(0, p)

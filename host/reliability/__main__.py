"""Entry point of `make reliability` (python -m host.reliability [filter ...])."""

import sys

from host.reliability import COLUMNS
from host.sections import run_family

sys.exit(run_family("reliability", "r_", "reliability.json", COLUMNS, sys.argv[1:]))

"""Entry point of `make bench` (python -m host.bench [section-name-filter ...])."""

import sys

from host.bench import COLUMNS
from host.sections import run_family

sys.exit(run_family("bench", "b_", "results.json", COLUMNS, sys.argv[1:]))

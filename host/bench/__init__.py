"""`make bench`: speed, memory and size, with the peers measured in the same run.

Each ``b_*.py`` here is one section: ``run(argv) -> (rows, figures)``.
"""

COLUMNS = ["section", "measure", "smtpmtm", "peer", "peer value", "target"]

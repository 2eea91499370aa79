"""`make reliability`: the long, exhaustive robustness runs (all cut points, all cases).

Each ``r_*.py`` here is one section: ``run(argv) -> (rows, figures)``.
"""

COLUMNS = ["suite", "cases", "failures", "notes"]

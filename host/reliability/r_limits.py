"""`make reliability` section: alarm floods against sending limits and coalescing, with power cuts.

tests/mpy/limits_run.py in the MicroPython unix port, on littlefs2 over a RAM
block device that can lose power: a seeded workload of alarm bursts and sends
(limits: 3 messages a minute, 12 an hour, 20 recipients an hour; coalesce: one
key, hold 300 s, cool-down 600 s), cut at sampled writes (clean and torn), then
rebooted and drained. Figures: limit_cases / limit_failures (a failure: an
acknowledged alarm never delivered, or more delivered in some rolling window
than a limit allows), coalesce_cases / coalesce_failures (the alarms counted
through the delivered digests differ from those acknowledged, or a run
without a cut sends more than a third as many messages as alarms).
"""

import re

from host import mpy

SEEDS = (1, 2)
CUTS = 20


def _suite(suite, seed):
    proc = mpy.run("tests/mpy/limits_run.py", [suite, seed, CUTS], heap="64m",
                   path=("tests/mpy", "tests/core"), timeout=3600)
    out = proc.stdout.decode() + proc.stderr.decode()
    m = re.search(r"LIMITS suite=\w+ kind=\w+ writes=(\d+) cases=(\d+) failures=(\d+) messages=(\d+)", out)
    if not m or proc.returncode:
        raise RuntimeError("limits run failed: " + out[-2000:])
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    return [int(x) for x in m.groups()], fails


def run(argv):
    rows, figures = [], {}
    for suite, key, what in (("limits", "limit", "alarm bursts against a sending limit"),
                             ("coalesce", "coalesce", "alarm bursts coalesced into digests")):
        cases = failures = 0
        notes = []
        for seed in SEEDS:
            (writes, c, f, msgs), lines = _suite(suite, seed)
            cases += c
            failures += f
            notes.append("seed %d: %d writes, %d deliveries" % (seed, writes, msgs))
            notes.extend(lines[:3])
        figures[key + "_cases"] = cases
        figures[key + "_failures"] = failures
        rows.append({"suite": "%s, power cuts (littlefs2, clean+torn)" % what, "cases": cases,
                     "failures": failures, "notes": "; ".join(notes)})
    return rows, figures

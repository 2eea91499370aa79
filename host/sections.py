"""Run a family of measurement sections (host/bench/b_*.py or host/reliability/r_*.py).

Each section module has ``run(args) -> (rows, figures)``: rows are dicts for the
printed table, figures a flat dict merged into the family's JSON file. Sections
are found by file name, so adding a measurement is adding a file.
"""

import importlib
import os
import sys
import time

from host import figures


OPTIONS = ("--quick", "--modules", "--no-heap")  # what sections read from argv


def run_family(package, prefix, json_name, columns, argv):
    """Run the sections whose names contain any of argv's words (all without one); returns the
    exit status. A word that names no section, or an option none reads (--help too), prints
    the usage and returns 2 before anything runs."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), package)
    only = [a for a in argv if not a.startswith("-")]
    names = sorted(n[:-3] for n in os.listdir(here) if n.startswith(prefix) and n.endswith(".py"))
    bad = [a for a in argv if a not in OPTIONS and (a.startswith("-") or not any(a in n for n in names))]
    if bad:
        print("usage: python -m host.%s [SECTION ...] [%s]\n  sections: %s\n  (%s: not a section "
              "or option)" % (package, "] [".join(OPTIONS), " ".join(n[len(prefix):] for n in names),
                              ", ".join(bad)), file=sys.stderr)
        return 2
    all_rows, failed = [], []
    for name in names:
        if only and not any(o in name for o in only):
            continue
        mod = importlib.import_module("host.%s.%s" % (package, name))
        t0 = time.time()
        print("== %s ..." % name, file=sys.stderr, flush=True)
        try:
            rows, figs = mod.run(argv)
        except Exception as e:  # a broken section is reported, the others still run
            import traceback

            traceback.print_exc()
            failed.append(name)
            rows, figs = [{columns[0]: name, columns[1]: "FAILED: %s" % e}], {}
        print("   %s done in %.1f s" % (name, time.time() - t0), file=sys.stderr, flush=True)
        all_rows.extend(rows)
        if figs:
            figures.merge(json_name, figs)
    print(figures.table(all_rows, columns))
    print("\nfigures: %s" % os.path.join(figures.BENCH_DIR, json_name))
    return 1 if failed else 0

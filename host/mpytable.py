"""Compile shared/ (and device/) with mpy-cross and print .mpy bytes per module.

    python -m host.mpytable [--arch xtensawin] [--out build/mpy] [--json]

Used by `make mpy` (and `make mpy BOARD=x`, which passes the board's arch).
"""

import argparse
import json
import os
import subprocess
import sys

from host.mpy import ROOT

SOURCES = ("shared", "device")


def mpy_cross():
    path = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return path if os.path.exists(path) else "mpy-cross"


def modules(sources=SOURCES, only=None):
    """(package-relative name, source path) of every module in shared/ and device/.

    ``only``: the package-relative names to keep (e.g. "smtpmtm/mime.py"); default all.
    """
    found = []
    for top in sources:
        base = os.path.join(ROOT, top)
        for dirpath, dirnames, files in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
            for name in sorted(files):
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, base)
                if name.endswith(".py") and (only is None or rel in only):
                    found.append((rel, src))
    return found


def board_arch(board):
    from host.vboard import board_facts

    return board_facts(board).get("mpy_arch") or None


def compile_all(arch=None, out=None, sources=SOURCES, only=None):
    out = out or os.path.join(ROOT, "build", "mpy", arch or "bytecode")
    rows = []
    for rel, src in modules(sources, only):
        dest = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        cmd = [mpy_cross(), "-o", dest, "-s", rel]
        if arch:
            cmd.append("-march=" + arch)
        cmd.append(src)
        subprocess.run(cmd, check=True, cwd=os.path.dirname(src))
        rows.append((rel, os.path.getsize(src), os.path.getsize(dest)))
    return rows


def main(argv=None):
    from host.vboard import boards

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", default=None)
    ap.add_argument("--board", default=None, choices=boards(),
                    help="take the arch from boards/<board>/board.json")
    ap.add_argument("--out", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.board and not a.arch:
        a.arch = board_arch(a.board)
    rows = compile_all(a.arch, a.out)
    if a.json:
        print(json.dumps({r[0]: r[2] for r in rows}))
        return 0
    print("| module | source bytes | .mpy bytes (%s) |" % (a.arch or "bytecode"))
    print("|---|---|---|")
    for rel, s, m in rows:
        print("| %s | %d | %d |" % (rel, s, m))
    print("| **total** | %d | %d |" % (sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The mip package files (MicroPython's package manager), made from the tree.

    python -m host.package json          # package.json at the repository root (`make package`)
    python -m host.package dist          # build/dist/: .mpy files + their package.json (`make dist`)
    python -m host.package romfs BOARD   # build/romfs/BOARD.romfs (`make romfs BOARD=x`)

``package.json`` at the root lets ``mpremote mip install github:<owner>/smtpmtm``
(or ``mip.install("github:<owner>/smtpmtm")`` on a board with a network) put
the core (shared/smtpmtm/ -> /lib/smtpmtm/), the firmware package
(device/smtpmtm_board/ -> /lib/smtpmtm_board/) and umail (-> /lib/umail.py) on a
board as source. boot.py and main.py are not in it: they are a
template a person copies (``mpremote fs cp device/boot.py device/main.py :``),
and a package manager must not replace a board's own. ``build/dist`` holds the
same modules compiled by mpy-cross (plain bytecode: .mpy without native code
runs on every architecture of the MicroPython version it was built for) with
their own package.json, for boards that should not compile on the device:
serve that folder (or a release) and ``mpremote mip install <url>/package.json``.
URLs in both are relative, so the same file works from GitHub and from any
HTTP server. The version is ``smtpmtm.__version__``, the one place it is written.

A ROMFS image (MicroPython 1.25+: firmware with a ROM partition mounts it at
/rom and puts /rom/lib on sys.path) holds the same .mpy files under lib/,
compiled for the board's architecture; ``mpremote romfs deploy
build/romfs/<board>.romfs`` writes it, and the code then runs from flash in
place (no heap for the bytecode) without building a firmware.
"""

import json
import os
import shutil
import sys

from host.mpy import ROOT

NOT_PACKAGED = ("boot.py", "main.py")


def version():
    """smtpmtm.__version__, read from the source (the host need not import the core)."""
    with open(os.path.join(ROOT, "shared", "smtpmtm", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].split("#", 1)[0].strip().strip("\"'")
    raise ValueError("no __version__ in shared/smtpmtm/__init__.py")


def files(ext=".py"):
    """(path on the board under /lib, path in the tree) of every packaged module."""
    from host.mpytable import modules

    out = []
    for top in ("shared", "device"):
        for rel, _src in modules((top,)):
            if rel in NOT_PACKAGED:
                continue
            out.append((rel[:-3] + ext, "%s/%s" % (top, rel)))
    return out


def package_json(urls):
    return {"urls": [list(u) for u in urls], "deps": [], "version": version()}


def source_json():
    """The root package.json: sources, URLs relative to the repository root."""
    return package_json(files())


def dump(data):
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def write_source(path=None):
    path = path or os.path.join(ROOT, "package.json")
    with open(path, "w") as f:
        f.write(dump(source_json()))
    return path


def dist(out=None):
    """Compile into out (default build/dist) and write its package.json; returns out."""
    from host.mpytable import compile_all

    out = out or os.path.join(ROOT, "build", "dist")
    shutil.rmtree(out, ignore_errors=True)
    compile_all(None, out)
    for name in NOT_PACKAGED:
        os.remove(os.path.join(out, name[:-3] + ".mpy"))
    urls = []
    for dest, _src in files(".mpy"):
        if not os.path.exists(os.path.join(out, dest)):
            raise FileNotFoundError(dest)
        urls.append((dest, dest))
    with open(os.path.join(out, "package.json"), "w") as f:
        f.write(dump(package_json(urls)))
    return out


def romfs(board, out=None):
    """Compile for the board's arch into a ROMFS image (mpremote romfs build); returns its path."""
    import subprocess
    import tempfile

    from host.mpytable import board_arch, compile_all
    from host.vboard import mpremote_cmd

    out = out or os.path.join(ROOT, "build", "romfs", board + ".romfs")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tree = tempfile.mkdtemp(prefix="smtpmtm-romfs-")
    try:
        lib = os.path.join(tree, "lib")
        compile_all(board_arch(board), lib)
        for name in NOT_PACKAGED:
            os.remove(os.path.join(lib, name[:-3] + ".mpy"))
        subprocess.run([mpremote_cmd(), "romfs", "--no-mpy", "-o", out, "build", tree], check=True,
                       capture_output=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return out


def main(argv=None):
    import argparse

    from host.vboard import boards

    ap = argparse.ArgumentParser(prog="python -m host.package")
    ap.add_argument("what", nargs="?", default="json", choices=("json", "dist", "romfs"))
    ap.add_argument("board", nargs="?", choices=boards(), help="romfs: the board to compile for")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    what = a.what
    if what == "json":
        print("wrote %s (version %s)" % (os.path.relpath(write_source()), version()))
    elif what == "dist":
        out = dist()
        n = sum(1 for _d, _s, fs in os.walk(out) for x in fs if x.endswith(".mpy"))
        size = sum(os.path.getsize(os.path.join(d, x)) for d, _s, fs in os.walk(out) for x in fs)
        print("%s: %d .mpy files + package.json, %d bytes, version %s" % (os.path.relpath(out), n, size,
                                                                         version()))
    elif a.board:
        out = romfs(a.board)
        print("%s: %d bytes (deploy: mpremote romfs deploy %s)" % (os.path.relpath(out), os.path.getsize(out),
                                                                  os.path.relpath(out)))
    else:
        ap.error("romfs needs a board: make romfs BOARD=x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

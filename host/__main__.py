"""The host command line: ``python -m host <command> ...``.

A small dispatcher: every module ``host/cli_<name>.py`` is a subcommand. It
provides ``HELP`` (one line), ``add_arguments(parser)`` and ``main(args) -> int``
(the exit status). So adding a command (``sim``, ``demo``, ``deploy``) is adding
a file; nothing here changes.

Example::

    python -m host send --host 127.0.0.1 --port 2525 --starttls --cafile ca.pem \\
        --from pump@example.com --to ann@example.com --subject "Alarm" --body "Low"
    python -m host serve --mode starttls --port 2525
"""

import argparse
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "shared")
if SHARED not in sys.path:
    sys.path.insert(0, SHARED)


def commands():
    names = sorted(n[4:-3] for n in os.listdir(HERE) if n.startswith("cli_") and n.endswith(".py"))
    return {n: "host.cli_" + n for n in names}


class _Broken:
    """Stands in for a command module that failed to import."""

    def __init__(self, modname, error):
        self.HELP = "(unavailable: %s)" % error
        self.error = "%s: %s: %s" % (modname, type(error).__name__, error)

    def add_arguments(self, p):
        p.add_argument("rest", nargs="*")

    def main(self, args):
        print("host: command unavailable: " + self.error, file=sys.stderr)
        return 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m host", description="smtpmtm host tools")
    sub = parser.add_subparsers(dest="command", metavar="command")
    mods = {}
    for name, modname in commands().items():
        try:
            mod = importlib.import_module(modname)
        except Exception as e:  # one broken command must not take the others down
            mod = _Broken(modname, e)
        mods[name] = mod
        p = sub.add_parser(name, help=getattr(mod, "HELP", ""), description=getattr(mod, "HELP", ""))
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    return mods[args.command].main(args)


if __name__ == "__main__":
    sys.exit(main())

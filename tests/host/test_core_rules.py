"""The rules of the core (DESIGN.md): no forbidden imports, no asserts, docstrings, layers.

The layers of shared/smtpmtm and the direction of their imports:

    wire/, mime/        know only the base (errors, compat, syntax)
    store/              the base
    settings, accounts  the base and store/
    client/             anything but outbox/
    outbox/             anything but client/
    __init__            the public face: names from every layer, loaded lazily
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = os.path.join(ROOT, "shared", "smtpmtm")
FORBIDDEN = {"socket", "ssl", "network", "machine", "asyncio", "uasyncio", "select",
             "dataclasses", "typing", "enum", "threading"}


def core_modules():
    """(path relative to shared/smtpmtm, source) of every module of the core, sub-packages too."""
    for dirpath, dirnames, files in os.walk(CORE):
        dirnames.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    yield os.path.relpath(path, CORE), f.read()


def test_core_never_imports_io_modules():
    bad = []
    for name, src in core_modules():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for m in mods:
                if m.split(".")[0] in FORBIDDEN:
                    bad.append("%s imports %s" % (name, m))
    assert not bad, bad


def test_core_never_sleeps_or_asserts():
    bad = []
    for name, src in core_modules():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assert):
                bad.append("%s:%d assert" % (name, node.lineno))
            if isinstance(node, ast.Attribute) and node.attr in ("sleep", "sleep_ms", "sleep_us"):
                bad.append("%s:%d sleeps" % (name, node.lineno))
    assert not bad, bad


def test_every_module_has_a_docstring():
    for top in ("shared/smtpmtm", "device", "host"):
        base = os.path.join(ROOT, top)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    with open(path) as f:
                        src = f.read()
                    assert ast.get_docstring(ast.parse(src)), path + " has no docstring"


def test_only_compat_looks_at_the_implementation():
    for name, src in core_modules():
        if name != "compat.py":
            assert "sys.implementation" not in src, name


# layer -> the layers it may import ("base" = errors, compat, syntax)
LAYERS = {
    "base": {"base"},
    "wire": {"base", "wire"},
    "mime": {"base", "mime"},
    "store": {"base", "store"},
    "settings": {"base", "settings"},
    "accounts": {"base", "store", "settings", "accounts"},
    "client": {"base", "store", "mime", "settings", "accounts", "client"},
    "outbox": {"base", "store", "mime", "wire", "settings", "accounts", "outbox"},
}


def _layer(module):
    """The layer of a dotted core module name (``smtpmtm.wire.smtp`` -> ``wire``)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in ("errors", "compat", "syntax"):
        return "base"
    return top or "face"


def _module_of(rel):
    """``outbox/job.py`` -> ``smtpmtm.outbox.job``; a package's __init__.py -> the package."""
    name = "smtpmtm." + rel[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _imports(rel, src):
    """The dotted smtpmtm modules that module ``rel`` (e.g. ``outbox/job.py``) imports."""
    me = _module_of(rel)
    package = me if rel.endswith("__init__.py") else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("smtpmtm"):
                    yield a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = base + ("." + node.module if node.module else "")
            else:
                mod = node.module or ""
            if not mod.startswith("smtpmtm"):
                continue
            if mod.count(".") <= 1:  # from smtpmtm import x, from ..store import entry
                for a in node.names:
                    yield mod + "." + a.name if mod == "smtpmtm" else mod
                    if mod != "smtpmtm":
                        yield mod + "." + a.name
            else:
                yield mod


def test_layers_import_only_downwards():
    """wire and mime know nothing of store, client or outbox; client and outbox never
    import each other; nothing inside the core imports the lazy face (smtpmtm/__init__)."""
    bad = []
    for rel, src in core_modules():
        mine = _layer(_module_of(rel))
        if mine == "face":
            continue
        if mine not in LAYERS:
            bad.append("%s is in no layer" % rel)
            continue
        for mod in _imports(rel, src):
            theirs = _layer(mod)
            if theirs == "face" or (theirs not in LAYERS[mine] and theirs in LAYERS):
                bad.append("%s (%s) imports %s (%s)" % (rel, mine, mod, theirs))
    assert not bad, bad


def test_the_layer_rule_can_fail():
    """The rule above sees a relative import across layers (a test that can fail)."""
    found = list(_imports("client/mtm.py", "from ..outbox import sender\nfrom ..outbox.plan import x\n"))
    assert "smtpmtm.outbox.sender" in found and "smtpmtm.outbox.plan" in found
    assert _layer("smtpmtm.outbox.plan") not in LAYERS["client"]


def test_the_repl_commands_import_only_the_console():
    """device/smtpmtm_board: repl.py imports the command modules, they import console.py
    (the App and the shared helpers), and none imports repl.py back: no circle."""
    board = os.path.join(ROOT, "device", "smtpmtm_board")
    commands = ("console", "commands_acct", "commands_show")
    for name in commands:
        with open(os.path.join(board, name + ".py")) as f:
            tree = ast.parse(f.read())
        forbidden = {"repl", "commands_acct", "commands_show"} - {name}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
                for n in names:
                    assert n.split(".")[-1] not in forbidden, "%s imports %s" % (name, n)


def test_every_error_code_is_in_the_one_table():
    """errors.CODES lists every code the core and the firmware give (code= keywords,
    class codes, OAuth2, Wi-Fi and modem cases), each with its flag (1, 0 or ?)."""
    import re
    import sys

    sys.path.insert(0, os.path.join(ROOT, "shared"))
    from smtpmtm.errors import CODES

    words = CODES.split()
    table = dict(zip(words[0::2], words[1::2]))
    assert set(table.values()) <= {"0", "1", "?"}, table
    used = set()
    for top in ("shared/smtpmtm", "device"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(dirpath, name)) as f:
                        src = f.read()
                    used |= set(re.findall(r'\bcode\s*=\s*"([a-z0-9-]+)"', src))
                    used |= set(re.findall(r'"(oauth-[a-z-]+)"', src))
                    used |= set(re.findall(r'(?:Error|_error)\([^()]*?, "([a-z0-9-]+)"\)', src))
                    used |= set(re.findall(r'\b_error\("([a-z0-9-]+)"', src))
                    used |= set(re.findall(r'\("STAT_[A-Z_]+", "([a-z-]+)"', src))
    assert len(used) > 40, sorted(used)
    assert not used - set(table), sorted(used - set(table))


def test_importing_the_package_loads_no_layer():
    """The face is lazy: ``import smtpmtm`` loads no sub-module until a name is used, and
    ``from smtpmtm import mime`` still finds the sub-module (MicroPython asks the module
    ``__getattr__`` first), on both interpreters."""
    import subprocess
    import sys

    sys.path.insert(0, ROOT)
    from host import mpy

    code = ("import sys\nsys.path.insert(0, %r)\nimport smtpmtm\n"
            "print(sorted(m for m in sys.modules if m.startswith('smtpmtm')))\n"
            "smtpmtm.Sender\nprint('smtpmtm.outbox.sender' in sys.modules)\n"
            "from smtpmtm import mime\nprint(mime.build is smtpmtm.build)\n" % os.path.join(ROOT, "shared"))
    for interp in (sys.executable, mpy.binary()):
        out = subprocess.run([interp, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.split("\n")[:3] == ["['smtpmtm']", "True", "True"], (interp, out)

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
    if top == "providers":  # settings presets
        return "settings"
    return top or "face"


def _module_of(rel):
    """``outbox/plan.py`` -> ``smtpmtm.outbox.plan``; a package's __init__.py -> the package."""
    name = "smtpmtm." + rel[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _imports(rel, src):
    """The dotted smtpmtm modules that module ``rel`` (e.g. ``outbox/plan.py``) imports."""
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
            if theirs not in LAYERS[mine]:  # a layer above, or the face
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


# Words that make a name a time: Unix seconds, a deadline, ticks, a delay (split on "_").
_TIME_WORDS = {"now", "time", "clock", "deadline", "tick", "ticks", "uptime", "mono", "monotonic",
               "expires", "expiry", "try", "date", "delay", "timeout", "since", "ms", "ntp",
               "due", "until", "correction", "stamp", "offset", "epoch", "backoff", "jitter"}


def _time_named(name):
    return any(w in _TIME_WORDS for w in name.lower().strip("_").split("_"))


def float_time_arithmetic(src):
    """(line, text) of each simple statement that computes with a time and a float: a true
    division, a float constant added/subtracted/compared, or float(), in a statement that
    names a time (or in a function whose name is one). A board's single-precision float
    holds a Unix time only to 128 s. Sleep hints (``return 0.5``, ``sleep(0.25)``) are not
    arithmetic and pass; a rate or a fraction (``done / total``) names no time and passes."""
    found = []

    def visit(node, func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for child in node.body:
                visit(child, node.name)
            return
        if isinstance(node, ast.stmt):
            # a simple statement whole; of an if/while/for only its header (test, iter)
            heads = [node] if not hasattr(node, "body") else [
                getattr(node, f) for f in ("test", "iter") if getattr(node, f, None) is not None]
            for h in heads:
                check(h, node.lineno, func)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.stmt, ast.excepthandler)):
                    visit(child, func)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    def check(node, lineno, func):
        names = [func] if func else []
        floaty = False
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                names.append(n.id)
            elif isinstance(n, ast.Attribute):
                names.append(n.attr)
            elif isinstance(n, ast.arg):
                names.append(n.arg)
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div):
                floaty = True
            elif isinstance(n, (ast.BinOp, ast.Compare)):
                parts = [n.left, n.right] if isinstance(n, ast.BinOp) else [n.left] + n.comparators
                floaty = floaty or any(isinstance(p, ast.Constant) and isinstance(p.value, float)
                                       for p in parts)
            elif isinstance(n, ast.Call) and getattr(n.func, "id", "") == "float":
                floaty = True
        if floaty and any(_time_named(x) for x in names):
            found.append((lineno, ast.get_source_segment(src, node)))

    visit(ast.parse(src), None)
    return found


def test_float_time_arithmetic_is_caught_precisely():
    caught = ("up = self._up_ms / 1000", "next_try = int(nxt + 0.999)",
              "def delay(self):\n    return d / 2 + r * d / 2", "left = deadline - clock() / 1",
              "t = time.time() + 0.5", "x = float(now)", "if now > 0.5: pass")
    for src in caught:
        assert float_time_arithmetic(src), src
    passed = ("return 0.05", "time.sleep(0.25)", "frac = done / total", "n = int(frac * width)",
              "POLL_S = 0.25", "due = now + delay(1)", "kb = size / 1024",
              "def bar(p):\n    return done / 1024")
    for src in passed:
        assert not float_time_arithmetic(src), src


def test_core_and_firmware_compute_time_in_ints():
    bad = []
    for top in ("shared/smtpmtm", "device"):
        for dirpath, dirnames, files in os.walk(os.path.join(ROOT, top)):
            dirnames.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    with open(path) as f:
                        bad += ["%s:%d %s" % (os.path.relpath(path, ROOT), ln, text)
                                for ln, text in float_time_arithmetic(f.read())]
    assert not bad, "float arithmetic on a time (use int s or ms):\n" + "\n".join(bad)

"""The rules of the core (DESIGN.md): no forbidden imports, no asserts, docstrings, small modules."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = os.path.join(ROOT, "shared", "smtpmtm")
FORBIDDEN = {"socket", "ssl", "network", "machine", "asyncio", "uasyncio", "select",
             "dataclasses", "typing", "enum", "threading"}


def core_modules():
    for name in sorted(os.listdir(CORE)):
        if name.endswith(".py"):
            path = os.path.join(CORE, name)
            with open(path) as f:
                yield name, f.read()


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


def test_every_module_has_a_docstring_and_stays_small():
    for top in ("shared/smtpmtm", "device", "host"):
        base = os.path.join(ROOT, top)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    with open(path) as f:
                        src = f.read()
                    assert ast.get_docstring(ast.parse(src)), path + " has no docstring"
                    if top == "shared/smtpmtm":
                        assert len(src.encode()) <= 16384, path + " is past 16 KB: split it"


def test_only_compat_looks_at_the_implementation():
    for name, src in core_modules():
        if name != "compat.py":
            assert "sys.implementation" not in src, name


def _consts(src, private):
    """NAME -> value of each module-level ``NAME = const(value)`` (private: ``_NAME``)."""
    out = {}
    for node in ast.parse(src).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "const"):
            name = node.targets[0].id
            if name.startswith("_") == private:
                out[name.lstrip("_")] = ast.literal_eval(node.value.args[0])
    return out


def test_private_copies_of_entry_constants_match_entry():
    """The send path folds entry.py's values as private consts (_SEND_SENT = const(8))
    rather than loading entry.py; each copy must hold entry.py's value."""
    with open(os.path.join(CORE, "entry.py")) as f:
        entry = _consts(f.read(), False)
    checked = 0
    for name, src in core_modules():
        for k, v in _consts(src, True).items():
            if k in entry:
                assert v == entry[k], "%s: _%s = %r, entry.%s = %r" % (name, k, v, k, entry[k])
                checked += 1
    assert checked >= 14


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
        base = os.path.join(ROOT, top)
        for name in sorted(os.listdir(base)):
            if name.endswith(".py"):
                with open(os.path.join(base, name)) as f:
                    bad += ["%s/%s:%d %s" % (top, name, ln, text)
                            for ln, text in float_time_arithmetic(f.read())]
    assert not bad, "float arithmetic on a time (use int s or ms):\n" + "\n".join(bad)

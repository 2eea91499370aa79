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

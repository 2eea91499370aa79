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

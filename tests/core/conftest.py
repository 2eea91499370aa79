"""Run every core test case twice: on CPython (pytest) and on MicroPython.

For each ``tests/core/test_*.py`` pytest collects the module as usual and this
plugin adds a twin item ``<test>[micropython]`` per top-level ``test_*``
function, which runs that function in the MicroPython unix port and fails if
it fails there. The test gets 64 KiB of free heap (or the module's
``MPY_HEAP``) after its code is loaded: on a board the code is frozen in
flash, so _mprun.py loads it first and pins the rest of a large heap.
"""

import ast
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from host import mpy, mpytable  # noqa: E402


def _module_facts(path):
    tree = ast.parse(open(path).read())
    heap = "64k"
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MPY_HEAP" for t in node.targets
        ):
            heap = ast.literal_eval(node.value)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names.append(node.name)
    return heap, names


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.name.startswith("test_"):
        return MpyFile.from_parent(parent, path=file_path)
    return None


class MpyFile(pytest.File):
    def collect(self):
        heap, names = _module_facts(str(self.path))
        for name in names:
            yield MpyItem.from_parent(self, name=name + "[micropython]", func=name, heap=heap)


_COMPILED = {}


def _compiled(config):
    """Compile the core and the core tests to .mpy once per worker, as a board ships them."""
    if "dir" not in _COMPILED:
        out = str(config._tmp_path_factory.mktemp("mpycache"))
        mpytable.compile_all(out=out, sources=("shared", "tests/core"))
        _COMPILED["dir"] = out
    return _COMPILED["dir"]


class MpyFailure(Exception):
    pass


class MpyItem(pytest.Item):
    def __init__(self, *, func, heap, **kw):
        super().__init__(**kw)
        self.func = func
        self.heap = heap

    def runtest(self):
        tmp = self.config._tmp_path_factory.mktemp("mpy")
        compiled = _compiled(self.config)
        mod = self.path.stem
        proc = mpy.run(
            os.path.join(HERE, "_mprun.py"),
            [mod, self.func, mpy.heap_bytes(self.heap)],
            heap="4m",
            path=(compiled, HERE, os.path.join(ROOT, "tests", "mpy")),
            env={"SMTPMTM_TEST_TMP": str(tmp)},
            timeout=900,
        )
        out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        if "MPRUN-SKIP" in out:
            pytest.skip("not on this port: " + out.split("MPRUN-SKIP", 1)[1].strip())
        if proc.returncode != 0 or "MPRUN-PASS" not in out:
            raise MpyFailure(out[-6000:])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MpyFailure):
            return "MicroPython (heap %s) failed:\n%s" % (self.heap, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "micropython: %s" % self.func

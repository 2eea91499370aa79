"""Run every core test case twice: on CPython (pytest) and on MicroPython.

For each ``tests/core/test_*.py`` pytest collects the module as usual and this
plugin adds a twin item ``<test>[micropython]`` per top-level ``test_*``
function, which runs that function in the MicroPython unix port at
``-X heapsize=64k`` (or the module's ``MPY_HEAP``) and fails if it fails there.
"""

import ast
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from host import mpy  # noqa: E402


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


class MpyFailure(Exception):
    pass


class MpyItem(pytest.Item):
    def __init__(self, *, func, heap, **kw):
        super().__init__(**kw)
        self.func = func
        self.heap = heap

    def runtest(self):
        tmp = self.config._tmp_path_factory.mktemp("mpy")
        mod = self.path.stem
        proc = mpy.run(
            os.path.join(HERE, "_mprun.py"),
            [mod, self.func],
            heap=self.heap,
            path=(HERE,),
            env={"SMTPMTM_TEST_TMP": str(tmp)},
            timeout=900,
        )
        out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        if "MPRUN-SKIP" in out:
            pytest.skip("CPython only: " + out.split("MPRUN-SKIP", 1)[1].strip())
        if proc.returncode != 0 or "MPRUN-PASS" not in out:
            raise MpyFailure(out[-6000:])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MpyFailure):
            return "MicroPython (heap %s) failed:\n%s" % (self.heap, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "micropython: %s" % self.func

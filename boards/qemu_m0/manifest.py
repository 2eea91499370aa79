# Freeze manifest of the qemu_m0 board (the emulated Cortex-M0 of `make qemu-test`):
# the project as every board freezes it, asyncio (the port has no _asyncio C module, so
# the pure-Python task.py as well), the core tests and their helpers, and the board's
# test runner. Relative paths resolve against this folder.
import os

include("../manifest_project.py")

package(
    "asyncio",
    ("__init__.py", "core.py", "event.py", "funcs.py", "lock.py", "stream.py", "task.py"),
    base_path="$(MPY_DIR)/extmod",
    opt=3,
)

# the core tests, frozen as on-board test code is; conftest.py/_mprun.py are the host's
for _name in sorted(os.listdir("../../tests/core")):
    if _name.endswith(".py") and _name not in ("conftest.py", "_mprun.py"):
        module(_name, base_path="../../tests/core")
module("device_fakemodem.py", base_path="../../tests/mpy")
module("qemu_run.py")
module("qemu_bench.py")

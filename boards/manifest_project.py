# The project's part of every board's freeze manifest (MicroPython manifest
# syntax: https://docs.micropython.org/en/latest/reference/manifest.html).
# Included by boards/<board>/manifest.py; relative paths resolve against this
# file's folder (makemanifest chdirs into it while executing it).
import os

# the one version number, smtpmtm.__version__ (host/package.py reads it the same way)
with open("../shared/smtpmtm/__init__.py") as _f:
    _version = [_l.split("=", 1)[1].split("#", 1)[0].strip().strip("\"'") for _l in _f
                if _l.startswith("__version__")][0]
metadata(description="smtpmtm: email sending for MicroPython boards", version=_version, license="MIT")

# the core: shared/smtpmtm/ frozen as the package `smtpmtm`
package("smtpmtm", base_path="../shared")

# the device glue: each device/*.py as a top-level module; boot.py and main.py
# stay files on the flash (copied by `make deploy`) so a person can edit them
for _name in sorted(os.listdir("../device")):
    if _name.endswith(".py") and _name not in ("boot.py", "main.py"):
        module(_name, base_path="../device")

# The project's part of every board's freeze manifest (MicroPython manifest
# syntax: https://docs.micropython.org/en/latest/reference/manifest.html).
# Included by boards/<board>/manifest.py; relative paths resolve against this
# file's folder (makemanifest chdirs into it while executing it).

# the one version number, smtpmtm.__version__ (host/package.py reads it the same way)
with open("../shared/smtpmtm/__init__.py") as _f:
    _version = [_l.split("=", 1)[1].split("#", 1)[0].strip().strip("\"'") for _l in _f
                if _l.startswith("__version__")][0]
metadata(description="smtpmtm: email sending for MicroPython boards", version=_version, license="MIT")

# the core: shared/smtpmtm/ frozen as the package `smtpmtm`
package("smtpmtm", base_path="../shared")

# the firmware: device/smtpmtm_board/ frozen as the package `smtpmtm_board` (nothing
# of it at the top of /lib, where a user's own net.py or app.py would clash), and
# umail, top-level by its contract; boot.py and main.py stay files on the flash
# (copied by `make deploy`) so a person can edit them
package("smtpmtm_board", base_path="../device")
module("umail.py", base_path="../device")

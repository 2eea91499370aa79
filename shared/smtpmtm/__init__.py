"""smtpmtm: email sending for MicroPython boards, after the Symbian OS SMTP MTM.

The core package: pure Python that runs unchanged on MicroPython and CPython.
It never opens a socket, never sleeps and never reads a clock on its own: I/O,
time and links are passed in (see DESIGN.md beside the checkout).
"""

__version__ = "0.1.0"  # the one place: package.json, build/dist and the freeze manifests read it
VERSION = __version__

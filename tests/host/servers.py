"""Pytest fixtures for tests that need the local SMTP server and the test CA.

Host-only (aiosmtpd, trustme). Import from a test module:

    from servers import certs, smtp_server   # noqa: F401  (pytest fixtures)

``certs`` is a session-wide host.testca.Certs generated at test time;
``smtp_server(**kw)`` starts a host.server.SmtpServer (mode defaults to
"starttls", users {"ann": "s3cret"}) and stops it after the test.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in (ROOT, os.path.join(ROOT, "shared")):
    if p not in sys.path:
        sys.path.insert(0, p)

from host.boardctl import marks  # noqa: E402,F401 - the board scripts' MARK lines, for the tests
from host.mpytable import compile_all  # noqa: E402
from host.server import SmtpServer  # noqa: E402
from host.testca import make_certs  # noqa: E402

USER, PASSWORD = "ann", "s3cret"
MPY_DIR = os.path.join(ROOT, "tests", "mpy")


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def smtp_server(certs, tmp_path):
    started = []

    def start(mode="starttls", **kw):
        kw.setdefault("users", {USER: PASSWORD})
        kw.setdefault("maildir", str(tmp_path / ("maildir%d" % len(started))))
        srv = SmtpServer(mode=mode, certs=certs, **kw).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def mpy_script(name):
    return os.path.join(MPY_DIR, name)


@pytest.fixture(scope="session")
def mpy_path(tmp_path_factory):
    """MICROPYPATH extras for host.mpy.run: shared/ and device/ compiled by mpy-cross (a board
    runs .mpy, and compiling the core from source at -X heapsize=64k does not fit)."""
    out = str(tmp_path_factory.mktemp("mpy"))
    compile_all(None, out)
    return (out,)

"""Installing like any MicroPython library: mip package.json (source) and build/dist (.mpy).

Host-only. The root package.json and the freeze manifests carry smtpmtm.__version__ (the one
place it is written); ``mpremote mip install http://127.0.0.1:<port>/package.json`` (a local
HTTP server stands in for GitHub: mip takes the same relative URLs from both) installs each
form onto an empty virtual board, which then sends a message with what was installed.
"""

import functools
import http.server
import json
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import USER, PASSWORD, certs, smtp_server  # noqa: E402,F401
from host import package  # noqa: E402
from host.boardctl import mpremote  # noqa: E402
from host.mpy import ROOT  # noqa: E402
from host.vboard import VirtualBoard  # noqa: E402


def test_root_package_json_is_current_and_carries_the_version():
    """`make package` regenerates it; this fails when a module was added, moved or removed."""
    with open(os.path.join(ROOT, "package.json")) as f:
        on_disk = json.load(f)
    assert on_disk == package.source_json(), "package.json is stale: run `make package`"
    sys.path.insert(0, os.path.join(ROOT, "shared"))
    import smtpmtm

    assert on_disk["version"] == smtpmtm.__version__ == package.version()
    targets = [t for t, _u in on_disk["urls"]]
    assert "smtpmtm/wire/session.py" in targets and "umail.py" in targets
    assert "smtpmtm_board/net.py" in targets  # the firmware as one package, nothing else at the top
    assert {t for t in targets if "/" not in t} == {"umail.py"}
    assert "boot.py" not in targets and "main.py" not in targets  # a template, never replaced by mip
    for _t, url in on_disk["urls"]:
        assert os.path.isfile(os.path.join(ROOT, url)), url


@pytest.fixture
def http_root():
    """A local HTTP server; returns a function serving a folder, giving its base URL."""
    servers = []

    def serve(folder):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        handler.log_message = lambda *a: None
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return "http://127.0.0.1:%d" % srv.server_address[1]

    yield serve
    for s in servers:
        s.shutdown()


SEND = """
import umail
s = umail.SMTP('localhost', %d, ssl=True, username=%r, password=%r, cafile='/ca.pem')
s.to('ann@example.com', mail_from='pump@example.com')
print(s.send('Subject: installed by mip (%s)\\n\\nhello'))
s.quit()
from smtpmtm import __version__
print('VERSION', __version__)
"""


@pytest.mark.parametrize("form", ["source", "dist"])
def test_mip_install_onto_an_empty_board_then_send(form, smtp_server, certs, http_root, tmp_path):
    folder = ROOT if form == "source" else package.dist(str(tmp_path / "dist"))
    base = http_root(folder)
    srv = smtp_server("implicit")
    with VirtualBoard("sim", state_dir=str(tmp_path / "vb"), heap=512 * 1024, fresh=True) as vb:
        out = "".join(mpremote(vb.pty, "mip", "install", base + "/package.json", timeout=600))
        assert "Installing " in out, out
        out = mpremote(vb.pty, "fs", "cp", certs.ca, ":/ca.pem")[0]
        out = mpremote(vb.pty, "exec", "import os; print(sorted(os.listdir('/lib')))")[0]
        ext = ".py" if form == "source" else ".mpy"
        assert "'smtpmtm'" in out and "'umail%s'" % ext in out and "'main" not in out, out
        script = tmp_path / "send.py"
        script.write_text(SEND % (srv.port, USER, PASSWORD, form))
        out = "".join(mpremote(vb.pty, "run", str(script), timeout=300))
    assert "(250," in out and ("VERSION %s" % package.version()) in out, out
    msg = srv.wait_messages(1)[0]
    assert msg.tls and msg.user == USER and b"installed by mip (%s)" % form.encode() in msg.data


ROMFS_RUN = """
import sys, vfs
with open(%r, 'rb') as f:
    image = f.read()
vfs.mount(vfs.VfsRom(image), '/rom')
sys.path[:] = ['/rom/lib']  # what a board with a ROM partition searches, and nothing else
import umail
print('FROM', umail.__file__)
s = umail.SMTP('localhost', %d)
s.to('ann@example.com', mail_from='pump@example.com')
print(s.send('Subject: from ROMFS\\n\\nhello'))
s.quit()
"""


def test_romfs_image_runs_the_code_in_place(smtp_server, tmp_path):
    """`make romfs BOARD=x`: the image mpremote romfs builds, mounted as a board mounts its
    ROM partition (vfs.VfsRom at /rom; the unix port has it), sends a message."""
    img = package.romfs("sim", str(tmp_path / "sim.romfs"))
    srv = smtp_server("plain", users={})
    script = tmp_path / "romfs_run.py"
    script.write_text(ROMFS_RUN % (img, srv.port))
    from host import mpy

    r = mpy.run(str(script), heap="256k", timeout=120)
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0 and "FROM /rom/lib/umail.mpy" in out and "(250," in out, out
    assert b"Subject: from ROMFS" in srv.wait_messages(1)[0].data

"""`python -m host deploy` against the virtual board, and the boards' facts and manifests.

Host-only: deploy runs mpy-cross and mpremote (subprocesses) against the
virtual board's pty; the manifest check executes each boards/<b>/manifest.py
with stand-ins for MicroPython's manifest functions (package, module, include).
"""

import json
import os
import subprocess
import sys

import pytest

from host import cli_deploy, mpytable
from host.boardctl import mpremote
from host.mpy import ROOT
from host.vboard import VirtualBoard, boards, board_facts

BOARDS = ("esp32_generic", "esp32s3", "rp2_pico_w", "rp2_pico_modem", "sim")
ARCH = {"esp32_generic": "xtensawin", "esp32s3": "xtensawin", "rp2_pico_w": "armv6m",
        "rp2_pico_modem": "armv6m", "sim": None}


def mpr(vb, *args):
    return mpremote(vb.pty, *args, timeout=60)[0]


class Args:
    def __init__(self, **kw):
        self.__dict__.update(dict(board="sim", port=None, out=None, no_settings=False, no_reset=False,
                                  dry_run=False, virtual=False, certs=".certs"), **kw)


def test_every_board_has_its_facts():
    assert set(BOARDS) <= set(boards())
    for b in BOARDS:
        f = board_facts(b)
        assert f["name"] == b and f["mpy_arch"] == ARCH[b], b
        assert f["fs"] == "littlefs2" and f["fs_bytes"] % f["fs_block_size"] == 0, b
        assert 32 * 1024 <= f["heap_bytes"] and f["connect_hooks"], b
        assert isinstance(f["pins"], dict), b
    assert board_facts("esp32s3")["heap_bytes"] > 1024 * 1024  # PSRAM


@pytest.mark.parametrize("board", BOARDS)
def test_manifest_lists_existing_files(board, monkeypatch):
    seen = {"package": [], "module": [], "include": [], "metadata": []}
    here = os.path.join(ROOT, "boards", board)

    def run(path):
        path = os.path.normpath(os.path.join(os.getcwd(), path))
        old = os.getcwd()
        os.chdir(os.path.dirname(path))  # as makemanifest does
        try:
            with open(path) as f:
                exec(f.read(), {"package": package, "module": module, "include": include,
                                "metadata": lambda **kw: seen["metadata"].append(kw)})
        finally:
            os.chdir(old)

    def package(name, files=None, base_path="."):
        assert os.path.isfile(os.path.join(base_path, name, "__init__.py"))
        seen["package"].append(name)

    def module(name, base_path="."):
        assert os.path.isfile(os.path.join(base_path, name)), name
        seen["module"].append(name)

    def include(path):
        if path.startswith("$("):
            seen["include"].append(path)  # the port's own manifest, in the MicroPython tree
        else:
            run(path)

    monkeypatch.chdir(here)
    run("manifest.py")
    assert seen["package"] == ["smtpmtm", "smtpmtm_board"]
    assert seen["module"] == ["umail.py"]  # nothing else at the top of /lib
    assert (board == "sim") == (not seen["include"])
    from host.package import version

    assert [m["version"] for m in seen["metadata"]] == [version()]  # smtpmtm.__version__, one place


@pytest.mark.parametrize("arch", ["xtensawin", "armv6m"])
def test_every_module_compiles_for_the_boards(arch, tmp_path):
    rows = mpytable.compile_all(arch, str(tmp_path))
    names = {r[0] for r in rows}
    assert "smtpmtm/errors.py" in names and "smtpmtm_board/modem.py" in names
    # the firmware is a package: only boot.py, main.py and umail.py sit at the top
    assert {n for n in names if "/" not in n} == {"boot.py", "main.py", "umail.py"}, names
    for rel, src_bytes, mpy_bytes in rows:
        assert mpy_bytes > 0, rel
        with open(os.path.join(str(tmp_path), rel[:-3] + ".mpy"), "rb") as f:
            head = f.read(4)
        assert head[0:1] == b"M" and head[1] == 6, rel  # .mpy version 6


def test_make_mpy_board_reads_the_arch(tmp_path):
    for b in BOARDS:
        assert mpytable.board_arch(b) == ARCH[b], b
    for b in ("esp32_generic",):  # what `make mpy BOARD=x` runs (the compile itself is arch-blind, see below)
        out = str(tmp_path / b)
        r = subprocess.run([os.path.join(ROOT, ".venv", "bin", "python"), "-m", "host.mpytable", "--board", b,
                            "--out", out], cwd=ROOT, capture_output=True, timeout=120)
        assert r.returncode == 0 and b"**total**" in r.stdout, r.stderr
        assert os.path.exists(os.path.join(out, "smtpmtm", "errors.mpy"))


@pytest.mark.parametrize("board", [b for b in BOARDS if ARCH[b]])
def test_board_arch_is_a_real_mpy_cross_arch(board, tmp_path):
    # bytecode-only .mpy files carry no arch (header byte 2 is 0): native code shows it
    src = tmp_path / "n.py"
    src.write_text("import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n")
    dest = str(tmp_path / "n.mpy")
    subprocess.run([mpytable.mpy_cross(), "-march=" + board_facts(board)["mpy_arch"], "-o", dest, str(src)],
                   check=True)
    with open(dest, "rb") as f:
        arch_code = f.read(3)[2] >> 2
    assert arch_code == {"xtensawin": 10, "armv6m": 4}[ARCH[board]]  # MP_NATIVE_ARCH_*, arch_code


def test_a_typo_in_board_or_port_is_named_not_a_traceback(tmp_path, capsys):
    # `make mpy BOARD=esp32` was a FileNotFoundError traceback; `make deploy` to a port that does
    # not exist was mpremote's "failed to access ... (it may be in use by another program)"
    for cmd in (["-m", "host.mpytable", "--board"], ["-m", "host", "deploy", "--board"],
                ["-m", "host", "sim", "--board"], ["-m", "host.package", "romfs"]):  # romfs: a traceback too
        r = subprocess.run([sys.executable] + cmd + ["esp32"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and "invalid choice: 'esp32' (choose from " \
            "'esp32_generic', 'esp32s3'" in r.stderr, (cmd, r.stderr)
    r = subprocess.run([sys.executable, "-m", "host.package", "romfs"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "romfs needs a board: make romfs BOARD=x" in r.stderr, r.stderr
    # a real board's deploy: the template's Wi-Fi placeholders, only the providers' roots
    out = str(tmp_path / "real")
    assert cli_deploy.main(Args(board="esp32_generic", port="/dev/ttyUSB9", out=out, dry_run=True)) == 0
    printed = capsys.readouterr().out
    assert "local test CA" not in printed and "your-network" not in printed, printed
    port = str(tmp_path / "ttyUSB9").replace(str(tmp_path), "/dev/nonexistent")
    assert cli_deploy.main(Args(port=port, out=str(tmp_path / "build"))) == 1
    assert "deploy: no serial port %s: is the board plugged in? `mpremote devs` lists" % port \
        in capsys.readouterr().err


def test_settings_template_follows_the_board():
    t = cli_deploy.settings_template(board_facts("rp2_pico_modem"))
    assert t["config.json"]["hooks"] == ["modem"] and t["config.json"]["modem"]["tx"] == 0
    assert "wifi.json" not in t
    t = cli_deploy.settings_template(board_facts("sim"))
    assert t["config.json"]["hooks"] == ["wifi"] and "wifi.json" in t


def test_deploy_to_the_virtual_board(tmp_path):
    from host.testca import load_or_make_certs
    from host.vboard import ACCESS_POINT

    certs = str(tmp_path / "certs")
    with VirtualBoard("sim", state_dir=str(tmp_path / "vb"), heap=256 * 1024) as vb:
        out = str(tmp_path / "build")
        assert cli_deploy.main(Args(port=vb.pty, out=out, certs=certs)) == 0
        # `host sim --bare`, then the deploy it prints: the board got "your-network" and no
        # local CA (test() failed tls-unknown-ca against `host serve`); now as `make sim` flashes it
        assert json.loads(mpr(vb, "fs", "cat", ":wifi.json")) == ACCESS_POINT
        with open(load_or_make_certs(certs)[0].ca) as f:
            local = f.read().strip()
        assert local in mpr(vb, "fs", "cat", ":certs/ca.pem").replace("\r\n", "\n")
        assert json.loads(mpr(vb, "fs", "cat", ":config.json"))["ntp"] is None  # no internet
        ls = mpr(vb, "fs", "ls", ":")
        for name in ("boot.py", "main.py", "config.json", "wifi.json", "lib/"):
            assert name in ls, ls
        lib = mpr(vb, "fs", "ls", ":lib")
        assert "smtpmtm/" in lib and "smtpmtm_board/" in lib and "umail.mpy" in lib and "main.mpy" not in lib
        cfg = json.loads(mpr(vb, "fs", "cat", ":config.json"))
        assert cfg["hooks"] == ["wifi"]
        # the CA bundle where device/smtpmtm_board/net.py and umail look by default (issue 10)
        size = mpr(vb, "exec", "import os; print(os.stat('/certs/ca.pem')[6])")
        assert int(size) == os.path.getsize(os.path.join(out, "ca.pem")) > 10000, size
        # the deployed .mpy files import on the board, from /lib (not from the ROM)
        out_ = mpr(vb, "exec", "import smtpmtm.errors as e, smtpmtm_board.modem_at as m; print(e.__file__, m.__file__)")
        assert out_.split() == ["/lib/smtpmtm/errors.mpy", "/lib/smtpmtm_board/modem_at.mpy"]
        # a second deploy keeps the person's settings
        mpr(vb, "exec", "f=open('config.json','w'); f.write('{\"hooks\": []}'); f.close()")
        assert cli_deploy.main(Args(port=vb.pty, out=out)) == 0
        assert mpr(vb, "fs", "cat", ":config.json") == '{"hooks": []}'
        assert "config.json" not in mpr(vb, "fs", "ls", ":lib")

"""The virtual board driven by mpremote, as a person drives a real board.

Host-only: it starts the MicroPython unix port behind a pseudo-terminal
(host/vboard.py) and runs the real ``mpremote`` command line against it
(subprocesses, ptys, signals: nothing MicroPython can run itself). Waits are
for prompts/answers with timeouts, never sleeps.
"""

import os
import subprocess
import time

import pytest

from host.boardctl import Console, mpremote
from host.vboard import VirtualBoard, mpremote_cmd, read_link

MPREMOTE = mpremote_cmd()


def mpr(vb, *args):
    return mpremote(vb.pty, *args, timeout=30)[0]


@pytest.fixture
def vb(tmp_path):
    with VirtualBoard("sim", state_dir=str(tmp_path / "vb")) as b:
        yield b


def test_fs_cp_ls_cat_exec(vb, tmp_path):
    src = tmp_path / "note.txt"
    src.write_bytes(b"hello board\n" * 100)
    mpr(vb, "fs", "mkdir", ":data")
    mpr(vb, "fs", "cp", str(src), ":data/note.txt")
    assert "1200 note.txt" in mpr(vb, "fs", "ls", ":data")
    # printed through the board's cooked stdout, "\n" arrives as "\r\n" (as from any board)
    assert mpr(vb, "fs", "cat", ":data/note.txt") == "hello board\r\n" * 100
    back = tmp_path / "back.txt"
    mpr(vb, "fs", "cp", ":data/note.txt", str(back))
    assert back.read_bytes() == src.read_bytes()
    out = mpr(vb, "exec", "import os, sys; print(os.stat('/data/note.txt')[6], sys.implementation.name, os.getcwd())")
    assert out.split() == ["1200", "micropython", "/"]
    # it is the littlefs image, not the host's disk, at / (behind the flash's lock, FlashVfs)
    mounts = mpr(vb, "exec", "import vfs; print([type(f).__name__ + ':' + type(getattr(f, 'lfs', f)).__name__ + m "
                             "for f, m in vfs.mount()])")
    assert "'FlashVfs:VfsLfs2/'" in mounts, mounts


def test_run_script_and_heap_is_the_boards(vb, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import gc\ngc.collect()\nprint('total', gc.mem_free() + gc.mem_alloc())\n")
    out = mpr(vb, "run", str(script))
    total = int(out.split()[1])
    assert 60000 < total <= vb.heap, out  # -X heapsize from boards/sim/board.json


def test_soft_reset_keeps_flash_and_runs_boot_py(vb):
    mpr(vb, "exec", "open('boot.py','w').write('BOOTED = 1\\nprint(\"boot.py ran\")\\n')")
    boots = vb.boots
    mpr(vb, "soft-reset")
    assert vb.boots > boots
    assert "1" in mpr(vb, "exec", "print(BOOTED)")
    assert "boot.py" in mpr(vb, "ls")


def test_flash_persists_across_process_restart(tmp_path):
    state = str(tmp_path / "vb")
    with VirtualBoard("sim", state_dir=state) as vb:
        mpr(vb, "exec", "f=open('keep.txt','w'); f.write('kept'); f.close()")
    with VirtualBoard("sim", state_dir=state) as vb:
        assert mpr(vb, "cat", "keep.txt") == "kept"
    with VirtualBoard("sim", state_dir=state, fresh=True) as vb:
        assert "keep.txt" not in mpr(vb, "ls")


def test_a_second_board_on_the_same_flash_is_refused(vb, tmp_path):
    # `make sim` typed twice: two unix ports writing littlefs over each other's blocks (the
    # second one also rebuilt the first one's rom/); it is refused, and says what to do
    import sys

    from host.vboard import BoardBusy

    with pytest.raises(BoardBusy) as e:
        VirtualBoard("sim", state_dir=vb.state_dir)
    assert "already running on %s (pid %d, serial port %s)" % (vb.state_dir, os.getpid(), vb.pty) \
        in str(e.value) and "--state DIR" in str(e.value), e.value
    assert mpr(vb, "exec", "print(6 * 7)").strip() == "42"  # the first board is untouched
    r = subprocess.run([sys.executable, "-m", "host", "sim", "--state", vb.state_dir, "--bare"],
                       capture_output=True, text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(
                           os.path.dirname(os.path.abspath(__file__)))))
    assert r.returncode == 1 and "sim: virtual board 'sim' is already running" in r.stderr, r
    vb.stop()  # stopped, the folder is free again
    VirtualBoard("sim", state_dir=vb.state_dir).stop()


def test_power_cycle_runs_main_py(vb):
    # closed before the power cut (an open file's data is lost then, as on a board)
    mpr(vb, "exec", "f=open('main.py','w'); f.write('print(\"main.py says hi\")\\n'); f.close()")
    con = Console(vb.pty)
    try:
        vb.power_cycle()
        con.expect(b"main.py says hi")
        con.expect(b">>> ")
        assert con.cmd(b"1+2").strip() == b"3"
    finally:
        con.close()


def test_ctrl_c_interrupts_running_code_and_ctrl_d_reboots(vb):
    con = Console(vb.pty)
    try:
        con.friendly()
        boots = vb.boots
        con.write(b"while True: pass\r\r")
        con.expect(b"\n")
        con.write(b"\x03")
        con.expect(b"KeyboardInterrupt")
        con.expect(b">>> ")
        assert vb.boots == boots  # interrupted, not rebooted
        con.write(b"\x04")  # Ctrl-D at the friendly prompt: soft reboot
        con.expect(b"MPY: soft reboot\r\n")
        con.expect(b">>> ")
        assert vb.boots == boots + 1
    finally:
        con.close()


def test_machine_reset_is_a_hard_reset(vb):
    con = Console(vb.pty)
    try:
        con.friendly()
        con.write(b"import machine; machine.reset()\r")
        con.expect(b"machine.reset()\r\n")
        con.expect(b"MicroPython ")
        con.expect(b">>> ")
        assert vb.boot_log[-1] == "power"
    finally:
        con.close()


def test_mount_host_folder(vb, tmp_path):
    d = tmp_path / "proj"
    d.mkdir()
    (d / "hello_mod.py").write_text("def f():\n    return 'from the host'\n")
    out = mpr(vb, "mount", str(d), "exec", "import hello_mod; print(hello_mod.f())")
    assert "from the host" in out


def test_link_up_down_seen_by_network(vb):
    join = "w.connect('vboard-ap', 'vboard')"  # host.vboard.ACCESS_POINT
    code = ("import network; w=network.WLAN(network.STA_IF); w.active(True); %s;"
            "print(w.status(), w.isconnected(), w.ifconfig()[0])" % join)
    out = mpr(vb, "exec", code).split()
    assert out[1:] == ["False", "0.0.0.0"]
    vb.set_link(True)
    assert read_link(vb.state_dir)
    out = mpr(vb, "exec", code).split()
    assert out[1:] == ["True", "10.0.0.7"]
    # the link drops while connected: the same WLAN object sees it go
    con = Console(vb.pty)
    try:
        con.friendly()
        con.cmd(b"import network; w=network.WLAN(network.STA_IF); w.active(True); " + join.encode())
        assert b"(False, True)" in con.cmd(b"w.isconnected(), w.isconnected()")
        vb.set_link(False)
        assert b"(False, 200)" in con.cmd(b"w.isconnected(), w.status()")
    finally:
        con.close()


def test_the_access_point_wants_its_name_and_password(vb):
    # wifi('typo', 'x') at the REPL joined the simulated network all the same: a board's Wi-Fi
    # finds no such access point, or refuses the password
    from host.vboard import ACCESS_POINT

    vb.set_link(True)
    code = ("import network; w=network.WLAN(network.STA_IF); w.active(True); w.connect(%r, %r);"
            "w.status(); print('MARK', w.status(), w.isconnected())")  # one poll "connecting"
    for ssid, key, want in (("other-ap", ACCESS_POINT["password"], "201 False"),  # no AP found
                            (ACCESS_POINT["ssid"], "wrong", "202 False"),  # wrong password
                            (ACCESS_POINT["ssid"], ACCESS_POINT["password"], "1010 True")):
        out = mpr(vb, "exec", code % (ssid, key))
        assert out.split("MARK ")[1].strip() == want, (ssid, key, out)
    scan = mpr(vb, "exec", "import network; print(network.WLAN(0).scan()[0][0])")
    assert scan.strip() == repr(ACCESS_POINT["ssid"].encode()), scan


class Terminal:
    """mpremote with a terminal on its side (a pty), as a person runs `mpremote ... repl`."""

    def __init__(self, vb, *args):
        import pty as ptymod

        self.master, slave = ptymod.openpty()
        self.p = subprocess.Popen([MPREMOTE, "connect", vb.pty] + list(args), stdin=slave, stdout=slave,
                                  stderr=slave)
        os.close(slave)
        self.seen = b""

    def type(self, data):
        os.write(self.master, data)

    def expect(self, marker, timeout=20):
        import select

        end = time.monotonic() + timeout
        while marker not in self.seen:
            left = end - time.monotonic()
            assert left > 0, self.seen[-300:]
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    self.seen += os.read(self.master, 1024)
                except OSError:
                    break
        assert marker in self.seen, self.seen[-300:]
        self.seen = self.seen[self.seen.index(marker) + len(marker):]

    def close(self):
        self.type(b"\x1d")  # Ctrl-]: leave mpremote
        try:
            return self.p.wait(20)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            os.close(self.master)


def test_mpremote_repl_interactive(vb):
    t = Terminal(vb, "repl")
    try:
        t.expect(b"Connected to MicroPython")
        t.type(b"\r")
        t.expect(b">>> ")
        t.type(b"print(6 * 7)\r")
        t.expect(b"42")
    finally:
        assert t.close() == 0


def test_mount_survives_a_soft_reset_in_the_repl(vb, tmp_path):
    d = tmp_path / "proj"
    d.mkdir()
    (d / "hm.py").write_text("X = 5\n")
    t = Terminal(vb, "mount", str(d), "repl")
    try:
        t.expect(b"Connected to MicroPython")
        t.type(b"\r")
        t.expect(b">>> ")
        t.type(b"import hm, os; print(hm.X, os.getcwd())\r")
        t.expect(b"5 /remote")
        t.type(b"\x04")  # Ctrl-D: soft reboot; mpremote must see the board come back and remount
        t.expect(b"MPY: soft reboot")
        t.expect(b"Remount local directory")
        t.type(b"\r")
        t.expect(b">>> ")
        t.type(b"import os; print(os.getcwd(), os.listdir())\r")
        t.expect(b"/remote ['hm.py']")
    finally:
        assert t.close() == 0


def test_strict_link_fails_name_lookups_while_down(tmp_path):
    with VirtualBoard("sim", state_dir=str(tmp_path / "vb"), strict_link=True) as vb:
        code = ("import socket\ntry:\n    print('ADDR', len(socket.getaddrinfo('127.0.0.1', 25)) > 0)\n"
                "except OSError as e:\n    print('ERR', e.args[0])\n")
        assert "ERR -202" in mpr(vb, "exec", code)
        vb.set_link(True)
        assert "ADDR True" in mpr(vb, "exec", code)

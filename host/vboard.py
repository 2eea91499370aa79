"""The virtual board: the MicroPython unix port as a board, on a pty that mpremote drives.

Host-only (CPython). ``VirtualBoard`` runs the real MicroPython unix port
(``host.mpy.binary()``) with the board's heap (``-X heapsize=``, from
boards/<board>/board.json), a flash image file formatted as littlefs2 and
mounted at ``/`` (host/vboard_boot.py; the image persists between runs, a soft
reset reboots with the flash kept), /boot.py and /main.py run from flash, a
simulated ``network`` (WLAN + PPP) whose link the host switches, a simulated
``machine`` (UART to the simulated modem, reset, WDT, RTC, Pin), and its REPL on
a pseudo-terminal (host/vboard_pty.py): ``mpremote connect <pty> ...`` works on
it as on a real board (fs cp/ls/cat, exec, run, repl, soft-reset, mount).
Optionally a simulated modem (host/modemsim.py) answers AT commands on a
second pty, which the board's ``machine.UART(1, ...)`` opens.

State lives in a folder (default var/vboard/<board>/): flash.img, link ("up"
or "down", written in place), ap (the simulated access point's name and password,
``ACCESS_POINT``), rom/ (the read-only /.rom mount: simulated
built-ins, and with ``frozen=True`` the project compiled to .mpy, as if frozen
into the firmware), pty and modem (the current pty paths, for other commands).
With ``strict_link=True`` a link that is down also fails the board's DNS
lookups (socket.getaddrinfo raises OSError(-202)); by default sockets reach
the host's network whatever the link says, and only network.WLAN/PPP follow it.

Example::

    with VirtualBoard("sim", state_dir="/tmp/vb") as vb:
        print(vb.pty)                 # mpremote connect /dev/pts/N ls
        vb.set_link(True)             # network.WLAN(...).isconnected() -> True
        vb.power_cycle()              # pull the plug (the flash keeps what was written)
"""

import fcntl
import json
import os
import shutil
import sys

from host import mpy
from host.vboard_pty import HARD_RESET_RC, Relay  # noqa: F401

ROOT = mpy.ROOT
HERE = os.path.dirname(os.path.abspath(__file__))
ROM_SRC = os.path.join(HERE, "vboard_rom")
BOOT = os.path.join(HERE, "vboard_boot.py")


def board_facts(board):
    """boards/<board>/board.json as a dict (raises FileNotFoundError for an unknown board)."""
    with open(os.path.join(ROOT, "boards", board, "board.json")) as f:
        return json.load(f)


def boards():
    base = os.path.join(ROOT, "boards")
    return sorted(d for d in os.listdir(base) if os.path.exists(os.path.join(base, d, "board.json")))


# the simulated access point in range while the link is up (host/vboard_rom/network.py reads it
# from <state>/ap): a board must join it by this name and password, as a real one its network
ACCESS_POINT = {"ssid": "vboard-ap", "password": "vboard"}


class BoardBusy(Exception):
    """Another virtual board runs on this state folder (its flash image, link and rom/)."""


def default_state_dir(board):
    return os.path.join(ROOT, "var", "vboard", board)


def heap_arg(nbytes):
    return "%dk" % (nbytes // 1024) if nbytes % 1024 == 0 else str(nbytes)


def write_link(state_dir, up, name="link"):
    """Switch the simulated link (name "link") or Ethernet cable ("cable"): written in place
    (same inode), the board re-reads it."""
    path = os.path.join(state_dir, name)
    mode = "r+" if os.path.exists(path) else "w"
    with open(path, mode) as f:
        f.seek(0)
        f.write("up  \n" if up else "down\n")
        f.truncate()
    return path


def read_link(state_dir, name="link", missing=False):
    try:
        with open(os.path.join(state_dir, name)) as f:
            return f.read().strip() == "up"
    except OSError:
        return missing


class VirtualBoard:
    """One virtual board; see the module docstring. Use as a context manager or start()/stop()."""

    def __init__(self, board="sim", state_dir=None, image=None, heap=None, link=False,
                 frozen=False, modem=None, fresh=False, strict_link=False):
        self.board = board
        self.facts = board_facts(board)
        self.state_dir = os.path.abspath(state_dir or default_state_dir(board))
        self.image = os.path.abspath(image or os.path.join(self.state_dir, "flash.img"))
        self.heap = heap or self.facts.get("heap_bytes", 65536)
        self.frozen = frozen
        self.strict_link = strict_link
        self.modem = modem  # a host.modemsim.Modem (started here) or None
        self.block_size = int(self.facts.get("fs_block_size", 4096))
        self.block_count = int(self.facts.get("fs_bytes", 2 * 1024 * 1024)) // self.block_size
        self.relay = None
        self.boot_log = []
        os.makedirs(self.state_dir, exist_ok=True)
        self._lock = self._take_state()  # before anything here touches the image or rom/
        if fresh and os.path.exists(self.image):
            os.remove(self.image)
        self._make_image()
        self._make_rom()
        write_link(self.state_dir, link)
        write_link(self.state_dir, False, "cable")
        with open(os.path.join(self.state_dir, "ap"), "w") as f:
            f.write("%s\n%s\n" % (ACCESS_POINT["ssid"], ACCESS_POINT["password"]))

    # -- preparation ---------------------------------------------------------------
    def _take_state(self):
        """The state folder for this board alone (an flock held until stop()): two boards on
        one flash image would each write littlefs over the other's blocks."""
        fd = os.open(os.path.join(self.state_dir, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.read(fd, 100).decode(errors="replace").strip() or "another process"
            os.close(fd)
            try:
                with open(os.path.join(self.state_dir, "pty")) as f:
                    port = f.read().strip()
            except OSError:
                port = "?"
            raise BoardBusy("virtual board %r is already running on %s (%s, serial port %s): use "
                            "that one (mpremote connect %s), stop it (Ctrl-C in its terminal), or "
                            "give this one a folder of its own with --state DIR"
                            % (self.board, self.state_dir, owner, port, port)) from None
        os.ftruncate(fd, 0)
        os.write(fd, b"pid %d" % os.getpid())
        return fd

    def _make_image(self):
        size = self.block_size * self.block_count
        if os.path.exists(self.image) and os.path.getsize(self.image) == size:
            return
        os.makedirs(os.path.dirname(self.image), exist_ok=True)
        with open(self.image, "wb") as f:  # erased flash; the boot shim formats it
            chunk = b"\xff" * self.block_size
            for _ in range(self.block_count):
                f.write(chunk)

    def _make_rom(self):
        rom = os.path.join(self.state_dir, "rom")
        shutil.rmtree(rom, ignore_errors=True)
        os.makedirs(rom)
        for name in os.listdir(ROM_SRC):
            if name.endswith(".py") and name != "socket_strict.py":
                os.symlink(os.path.join(ROM_SRC, name), os.path.join(rom, name))
        if self.strict_link:
            os.symlink(os.path.join(ROM_SRC, "socket_strict.py"), os.path.join(rom, "socket.py"))
        if self.frozen:
            from host import mpytable

            out = os.path.join(self.state_dir, "frozen")
            shutil.rmtree(out, ignore_errors=True)
            mpytable.compile_all(None, out)
            for name in os.listdir(out):
                os.symlink(os.path.join(out, name), os.path.join(rom, name))
        self.rom = rom

    def argv(self, mode):
        return [mpy.binary(), "-X", "heapsize=" + heap_arg(self.heap), "-i", BOOT, self.image,
                str(self.block_size), str(self.block_count), mode, self.rom, self.ready_path]

    def env(self):
        env = dict(os.environ)
        env["MICROPYPATH"] = ""
        env["VBOARD_STATE"] = self.state_dir
        env["VBOARD_BOARD"] = self.board
        env["VBOARD_MODEM"] = self.modem.pty if self.modem else ""
        return env

    # -- running -------------------------------------------------------------------
    def start(self):
        if self.modem is not None and not getattr(self.modem, "started", False):
            self.modem.start()
        self.ready_path = os.path.join(self.state_dir, "ready")
        self.relay = Relay(self.argv, self.env(), cwd=self.state_dir, ready_path=self.ready_path,
                           on_boot=lambda n, kind: self.boot_log.append(kind))
        self.relay.start()
        with open(os.path.join(self.state_dir, "pty"), "w") as f:
            f.write(self.relay.pty_path + "\n")
        with open(os.path.join(self.state_dir, "modem"), "w") as f:
            f.write((self.modem.pty if self.modem else "") + "\n")
        return self

    @property
    def pty(self):
        return self.relay.pty_path

    @property
    def boots(self):
        return self.relay.boots

    def set_link(self, up):
        write_link(self.state_dir, up)

    def set_cable(self, plugged):
        """The Ethernet cable of network.LAN: in (True) or pulled (False)."""
        write_link(self.state_dir, plugged, "cable")

    def power_cycle(self):
        self.relay.power_cycle()

    def stop(self):
        if self.relay:
            self.relay.stop()
        if self.modem is not None:
            self.modem.stop()
        for name in ("pty", "modem"):
            try:
                os.remove(os.path.join(self.state_dir, name))
            except OSError:
                pass
        if self._lock is not None:  # the folder is free for the next board
            os.close(self._lock)
            self._lock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def mpremote_cmd():
    path = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return path if os.path.exists(path) else "mpremote"

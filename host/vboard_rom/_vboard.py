"""Virtual board ROM helper (MicroPython unix port only): reach host files from
inside the board. The board's root is its littlefs flash, so a host file is
opened through a VfsPosix mount that exists only for the open() call; the file
object stays usable after the umount.
"""
import os
import vfs

STATE = os.getenv("VBOARD_STATE") or ""
MODEM = os.getenv("VBOARD_MODEM") or ""
BOARD = os.getenv("VBOARD_BOARD") or "sim"
_MNT = "/.vboard-host"


def host_open(path, mode="rb"):
    d, name = path.rsplit("/", 1)
    vfs.mount(vfs.VfsPosix(d or "/"), _MNT)
    try:
        return open(_MNT + "/" + name, mode)
    finally:
        vfs.umount(_MNT)


class Link:
    """A host-switched link state: <state>/<name> holds "up" or "down" ("link": the radio
    links; "cable": the Ethernet cable, host.vboard.VirtualBoard.set_cable; "wifi": the
    access point in range, up while there is no such file: `host link up --wifi off`)."""

    def __init__(self, name="link", missing=False):
        self.name = name
        self.missing = missing  # the state when the file is not there
        self.f = None

    def up(self):
        if not STATE:
            return True
        try:
            if self.f is None:
                self.f = host_open(STATE + "/" + self.name, "rb")
            self.f.seek(0)
            return self.f.read(8).strip() == b"up"
        except OSError:
            return self.missing


link = Link()
cable = Link("cable")
wifi_ap = Link("wifi", True)


def access_point():
    """(ssid, password) of the simulated access point (<state>/ap, host.vboard.ACCESS_POINT);
    without a state folder, one named "vboard-ap" that takes any password (None)."""
    try:
        with host_open(STATE + "/ap", "rb") as f:
            ssid, password = f.read().decode().split("\n")[:2]
        return ssid, password
    except (OSError, ValueError):
        return "vboard-ap", None

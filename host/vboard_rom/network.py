"""Simulated ``network`` module of the virtual board (MicroPython unix port only).

The host switches the link (``python -m host link up|down`` writes "up" or
"down" into <state>/link); WLAN and PPP report it like a board's drivers do,
and LAN (Ethernet) follows <state>/cable (the cable, switched on its own),
with the ESP32 port's status codes. Sockets themselves are not cut when the
link is down (the host's network stays reachable); the project's connect hooks
see the link through ``isconnected()``/``status()`` as on a board.

    import network
    w = network.WLAN(network.STA_IF); w.active(True); w.connect("ssid", "key")
    w.isconnected()   # True once the host link is up

The access point in range is host.vboard.ACCESS_POINT ("vboard-ap", password "vboard", from
<state>/ap): another name finds no access point (STAT_NO_AP_FOUND), another password is refused
(STAT_WRONG_PASSWORD), as a board's Wi-Fi would.
"""

from _vboard import access_point, cable, link, wifi_ap

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
STAT_CONNECT_FAIL = 205
PHY_LAN8720 = 0
PHY_IP101 = 1
PHY_RTL8201 = 2
PHY_DP83848 = 3
PHY_KSZ8041 = 4
PHY_KSZ8081 = 5
PHY_W5500 = 6
PHY_DM9051 = 7
PHY_KSZ8851SNL = 8
ETH_INITIALIZED = 0
ETH_STARTED = 1
ETH_STOPPED = 2
ETH_CONNECTED = 3
ETH_DISCONNECTED = 4
ETH_GOT_IP = 5
_IP = ("10.0.0.7", "255.255.255.0", "10.0.0.1", "10.0.0.1")
_host = ["vboard"]


def hostname(name=None):
    if name is None:
        return _host[0]
    _host[0] = name


def country(code=None):
    return "XX" if code is None else None


class WLAN:
    _ifaces = {}

    def __new__(cls, iface=STA_IF):
        w = cls._ifaces.get(iface)
        if w is None:
            w = object.__new__(cls)
            w._init(iface)
            cls._ifaces[iface] = w
        return w

    def __init__(self, iface=STA_IF):
        pass

    def _init(self, iface):
        self.iface = iface
        self._active = False
        self._st = STAT_IDLE
        self._ssid = None
        self._key = None
        self._polls = 0
        self.no_ap = 0  # joins answered "no access point" (the link is down): tests wait on it
        self._cfg = {"mac": b"\x02\x00\x00\x00\x00\x07", "ssid": "", "channel": 6}

    def active(self, v=None):
        if v is None:
            return self._active
        self._active = bool(v)
        if not v:
            self._st = STAT_IDLE

    def connect(self, ssid=None, key=None, bssid=None):
        if not self._active:
            raise OSError("Wifi Not Started")
        self._ssid = ssid
        self._key = key
        self._st = STAT_CONNECTING
        self._polls = 1

    def disconnect(self):
        self._st = STAT_IDLE

    def status(self, param=None):
        if param == "rssi":
            return -55 if self.isconnected() else -100
        if param is not None:
            return None
        if self._st == STAT_CONNECTING:
            ssid, password = access_point()
            if self._polls > 0:
                self._polls -= 1
            elif not (link.up() and wifi_ap.up()) or self._ssid != ssid:  # not in range, another name
                self._st = STAT_NO_AP_FOUND
                self.no_ap += 1
            elif password is not None and self._key != password:
                self._st = STAT_WRONG_PASSWORD
            else:
                self._st = STAT_GOT_IP
        elif self._st == STAT_GOT_IP and not (link.up() and wifi_ap.up()):
            self._st = STAT_BEACON_TIMEOUT  # the access point went away
        return self._st

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self, cfg=None):
        return _IP if self.isconnected() else ("0.0.0.0",) * 4

    def ipconfig(self, key):
        return (self.ifconfig()[0], "/24") if key == "addr4" else None

    def config(self, *args, **kw):
        if kw:
            self._cfg.update(kw)
            return None
        return self._cfg.get(args[0]) if args else None

    def scan(self):
        if not (link.up() and wifi_ap.up()):
            return []
        return [(access_point()[0].encode(), b"\x02\x00\x00\x00\x00\x01", 6, -55, 3, False)]


class PPP:
    """PPP over a (simulated) UART: up while the modem call holds and the host link is up."""

    SEC_NONE = 0
    SEC_PAP = 1
    SEC_CHAP = 2

    def __init__(self, stream):
        self.stream = stream
        self._active = False
        self._up = False
        self._buf = b""

    def active(self, v=None):
        if v is None:
            return self._active
        self._active = bool(v)
        if not v:
            self._up = False

    def connect(self, security=0, user=None, key=None, authmode=None):
        if not self._active:
            raise OSError("PPP not active")
        self._up = True

    def _carrier(self):
        data = self.stream.read()
        if data:
            self._buf = (self._buf + data)[-32:]
            if b"NO CARRIER" in self._buf:
                self._up = False
        return self._up

    def isconnected(self):
        return self._active and self._carrier() and link.up()

    def status(self):
        return 1 if self.isconnected() else 0

    def disconnect(self):
        self._up = False

    def ifconfig(self, cfg=None):
        return ("10.64.0.9", "255.255.255.255", "10.64.0.1", "8.8.8.8")

    def ipconfig(self, key):
        return (self.ifconfig()[0], "/32") if key == "addr4" else None


class LAN:
    """Ethernet (ESP32 port API: network.LAN(mdc=, mdio=, power=, phy_type=, phy_addr=) or
    with spi=, cs=, int= for a W5500): connected while active and the host's cable is in."""

    _made = None

    def __init__(self, id=0, phy_type=PHY_LAN8720, phy_addr=0, **pins):
        if LAN._made is not None and LAN._made != phy_type:
            raise ValueError("vboard: one Ethernet interface only")
        if phy_type in (PHY_W5500, PHY_DM9051, PHY_KSZ8851SNL):
            if "spi" not in pins or "cs" not in pins:
                raise ValueError("an SPI Ethernet chip needs spi= and cs=")
        elif "mdc" not in pins or "mdio" not in pins:
            raise ValueError("an RMII PHY needs mdc= and mdio=")
        LAN._made = phy_type
        self.phy_type = phy_type
        self._active = False
        self._static = None

    def active(self, v=None):
        if v is None:
            return self._active
        self._active = bool(v)

    def isconnected(self):
        return self._active and cable.up()

    def status(self):
        if not self._active:
            return ETH_STOPPED
        return ETH_GOT_IP if cable.up() else ETH_DISCONNECTED

    def ifconfig(self, cfg=None):
        if cfg is not None:
            self._static = tuple(cfg)
            return None
        if not self.isconnected():
            return ("0.0.0.0",) * 4
        return self._static or ("10.0.1.7", "255.255.255.0", "10.0.1.1", "10.0.1.1")

    def config(self, *args, **kw):
        if kw:
            return None
        return b"\x02\x00\x00\x00\x01\x07" if args and args[0] == "mac" else None

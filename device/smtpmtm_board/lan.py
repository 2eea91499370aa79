"""Ethernet connect hook over network.LAN: an ESP32 with a LAN8720 PHY (RMII) or a W5500 (SPI).

A wired board is in the same ordered list of links as Wi-Fi and the modem
(``"hooks": ["lan", "wifi", "modem"]`` in /config.json, the account's
``connect_prefs`` choosing the order): with the cable in, mail goes by wire;
unplugged, the next link in the list is tried. ``LanHook`` is a
smtpmtm.link.ConnectHook: ``up()`` makes the interface (once) and activates it,
returning at once; ``is_up()`` is ``isconnected()`` (link and an address, by
DHCP or the static ``ifconfig`` given); a cable pulled later is noticed there;
``down()`` deactivates the interface. The pins come from the config::

    "lan": {"phy": "LAN8720", "mdc": 23, "mdio": 18, "power": 12, "phy_addr": 0}
    "lan": {"phy": "W5500", "spi": 2, "sck": 18, "mosi": 23, "miso": 19, "cs": 5,
            "int": 4, "phy_addr": 0, "ifconfig": ["10.0.0.9", "255.255.255.0", "10.0.0.1", "10.0.0.1"]}

Example::

    from smtpmtm_board.lan import LanHook
    lan = LanHook({"phy": "LAN8720", "mdc": 23, "mdio": 18, "power": 12})
    lan.up()
    while not lan.is_up(): time.sleep(0.1)
"""

from smtpmtm.errors import LinkDown
from smtpmtm.outbox.link import ConnectHook

PHYS = ("LAN8720", "IP101", "RTL8201", "DP83848", "KSZ8041", "KSZ8081", "W5500", "DM9051",
        "KSZ8851SNL")
_SPI_PHYS = ("W5500", "DM9051", "KSZ8851SNL")


class LanError(LinkDown):
    code = "lan"


class LanHook(ConnectHook):
    """Connect hook for a wired interface; see the module docstring."""

    def __init__(self, cfg=None, name="lan", network=None, lan=None):
        self.name = name
        self.cfg = cfg or {}
        self._net = network
        self._lan = lan
        self.stage = "down"
        self.error = None
        phy = self.cfg.get("phy", "LAN8720")
        if phy not in PHYS:
            raise LanError("lan: unknown phy %r (one of %s)" % (phy, ", ".join(PHYS)))
        self.phy = phy

    def _make(self):
        net = self._net
        if net is None:
            import network as net

            self._net = net
        from machine import Pin

        c = self.cfg
        kw = {"phy_type": getattr(net, "PHY_" + self.phy), "phy_addr": c.get("phy_addr", 0)}
        if self.phy in _SPI_PHYS:
            from machine import SPI

            kw["spi"] = SPI(c.get("spi", 2), sck=Pin(c.get("sck", 18)), mosi=Pin(c.get("mosi", 23)),
                            miso=Pin(c.get("miso", 19)))
            kw["cs"] = Pin(c.get("cs", 5))
            if c.get("int") is not None:
                kw["int"] = Pin(c["int"])
        else:
            kw["mdc"] = Pin(c.get("mdc", 23))
            kw["mdio"] = Pin(c.get("mdio", 18))
            if c.get("power") is not None:
                kw["power"] = Pin(c["power"])
        return net.LAN(**kw)

    def lan(self):
        if self._lan is None:
            self._lan = self._make()
        return self._lan

    def up(self):
        """Activate the interface (DHCP, or the static address given); returns at once."""
        try:
            n = self.lan()
            n.active(True)
            if self.cfg.get("ifconfig"):
                n.ifconfig(tuple(self.cfg["ifconfig"]))
        except (OSError, ValueError) as e:  # no PHY answering: wiring, power pin, phy_addr
            self.stage = "down"
            self.error = LanError("lan: %s does not start: %s" % (self.phy, e))
            raise self.error
        self.error = None
        self.stage = "connecting"

    def is_up(self):
        if self.stage == "down" or self._lan is None:
            return False
        if self._lan.isconnected():
            self.stage = "up"
            self.error = None
            return True
        if self.stage == "up":
            self.stage = "connecting"  # the cable was pulled: back when it is in again
            self.error = LanError("lan: link lost (cable?)")
        return False

    def down(self):
        self.stage = "down"
        if self._lan is not None:
            try:
                self._lan.active(False)
            except OSError:
                pass

    def status(self):
        ip = None
        if self.stage == "up":
            try:
                ip = self._lan.ifconfig()[0]
            except (OSError, AttributeError):
                pass
        return {"hook": self.name, "stage": self.stage, "phy": self.phy, "ip": ip,
                "error": self.error.code if self.error else None}

"""device/smtpmtm_board/lan.py: the Ethernet connect hook over a scripted network.LAN, both interpreters."""

from smtpmtm_board.lan import LanError, LanHook
from smtpmtm.errors import LinkDown
from smtpmtm.outbox.link import Links
from smtpmtm.outbox.manualhook import ManualHook
from portable import FakeClock, raises


class FakeLan:
    """network.LAN as the ESP32 port has it: active(), isconnected(), ifconfig()."""

    def __init__(self, fail=None):
        self.on = False
        self.cable = True
        self.fail = fail
        self.static = None

    def active(self, v=None):
        if v is None:
            return self.on
        if v and self.fail:
            raise OSError(self.fail)
        self.on = bool(v)

    def isconnected(self):
        return self.on and self.cable

    def ifconfig(self, cfg=None):
        if cfg is not None:
            self.static = cfg
            return None
        return self.static or ("10.0.1.7", "255.255.255.0", "10.0.1.1", "10.0.1.1")


def test_up_down_and_a_pulled_cable():
    nic = FakeLan()
    h = LanHook({"phy": "LAN8720", "ifconfig": ["10.0.0.9", "255.255.255.0", "10.0.0.1", "10.0.0.1"]},
                lan=nic)
    assert not h.is_up() and h.status()["stage"] == "down"
    h.up()
    assert nic.static == ("10.0.0.9", "255.255.255.0", "10.0.0.1", "10.0.0.1")
    assert h.is_up() and h.status()["ip"] == "10.0.0.9"
    nic.cable = False
    assert not h.is_up() and h.status()["error"] == "lan"
    nic.cable = True
    assert h.is_up() and h.status()["error"] is None
    h.down()
    assert not nic.on and not h.is_up()


def test_an_unknown_phy_or_a_silent_one_is_named():
    e = raises(LanError, LanHook, {"phy": "LAN9999"})
    assert "LAN9999" in str(e) and "W5500" in str(e)
    h = LanHook({"phy": "W5500"}, lan=FakeLan(fail="PHY not found"))
    e = raises(LinkDown, h.up)
    assert "W5500" in str(e) and "PHY not found" in str(e) and not h.is_up()


def test_in_the_ordered_list_before_wifi():
    clock = FakeClock()
    nic = FakeLan()
    lan = LanHook({"phy": "LAN8720"}, lan=nic)
    wifi = ManualHook("wifi")
    links = Links([lan, wifi], clock)
    acq = links.acquire(["lan", "wifi"])
    assert acq.step() is lan and acq.brought and wifi.ups == 0
    lan.down()
    nic.cable = False
    acq = links.acquire(["lan", "wifi"])
    h = None
    for _ in range(200):
        h = acq.step()
        if h is not None:
            break
        clock.advance(1)
    assert h is wifi and acq.tried == ["lan", "wifi"]

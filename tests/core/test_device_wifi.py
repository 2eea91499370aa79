"""Wi-Fi hook cases against a fake ``network`` module (ESP32 status codes), fake clock.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from device_fakemodem import Clock
from portable import raises
from smtpmtm.errors import InputError
from smtpmtm_board.wifi import WifiError, WifiHook, load_credentials, save_credentials


class FakeNet:
    STA_IF = 0
    STAT_IDLE = 1000
    STAT_CONNECTING = 1001
    STAT_WRONG_PASSWORD = 202
    STAT_NO_AP_FOUND = 201
    STAT_CONNECT_FAIL = 203
    STAT_GOT_IP = 1010

    def __init__(self, aps, polls=3):
        self.aps = aps  # ssid -> password
        self.polls = polls
        self.wlan = None

    def WLAN(self, iface):
        self.wlan = FakeWLAN(self)
        return self.wlan


class FakeWLAN:
    def __init__(self, net):
        self.net = net
        self._active = False
        self.st = net.STAT_IDLE
        self.joined = None
        self.count = 0
        self.connects = []

    def active(self, v=None):
        if v is not None:
            self._active = v
        return self._active

    def connect(self, ssid, password):
        if not self._active:
            raise OSError("not active")
        self.connects.append(ssid)
        self.want = (ssid, password)
        self.count = self.net.polls
        self.st = self.net.STAT_CONNECTING

    def disconnect(self):
        self.joined = None
        self.st = self.net.STAT_IDLE

    def status(self):
        return self.st

    def isconnected(self):
        if self.st == self.net.STAT_CONNECTING:
            self.count -= 1
            if self.count <= 0:
                ssid, pw = self.want
                if ssid not in self.net.aps:
                    self.st = self.net.STAT_NO_AP_FOUND
                elif self.net.aps[ssid] is None:
                    pass  # never answers: timeout
                elif self.net.aps[ssid] != pw:
                    self.st = self.net.STAT_WRONG_PASSWORD
                else:
                    self.st = self.net.STAT_GOT_IP
                    self.joined = ssid
        return self.st == self.net.STAT_GOT_IP

    def ifconfig(self):
        return ("10.0.0.7", "255.255.255.0", "10.0.0.1", "10.0.0.1")

    def drop(self):
        self.joined = None
        self.st = self.net.STAT_IDLE


def make(aps, networks, **kw):
    clock = Clock()
    net = FakeNet(aps)
    h = WifiHook(networks=networks, network=net, clock_ms=clock, idle=clock.idle, **kw)
    return h, net, clock


def fails(code, h):
    try:
        h.connect()
    except WifiError as e:
        assert e.code == code, (e.code, str(e))
        assert e.transient
        return e
    raise AssertionError("no WifiError " + code)


def test_connects():
    h, net, _ = make({"home": "pw"}, [("home", "pw")])
    assert h.connect()
    assert h.is_up() and h.status()["ip"] == "10.0.0.7" and h.status()["ssid"] == "home"


def test_wrong_password():
    h, _, _ = make({"home": "pw"}, [("home", "nope")], reconnect=False)
    e = fails("wrong-password", h)
    assert "home" in str(e)


def test_no_ap():
    h, _, _ = make({"home": "pw"}, [("elsewhere", "pw")])
    fails("no-ap", h)


def test_timeout():
    h, _, _ = make({"home": None}, [("home", "pw")], timeout=5)
    fails("timeout", h)


def test_second_network_after_first_fails():
    h, net, _ = make({"b": "pw2"}, [("a", "x"), ("b", "pw2")])
    assert h.connect()
    assert net.wlan.connects == ["a", "b"] and h.ssid == "b"
    assert h.network() == "b"  # the network joined: mail a portal deferred goes on another


def test_no_credentials():
    h, _, _ = make({}, None, path="/nonexistent/wifi.json")
    try:
        h.up()
    except WifiError as e:
        assert e.code == "no-credentials"
        return
    raise AssertionError("no error")


def test_drop_and_reconnect():
    h, net, clock = make({"home": "pw"}, [("home", "pw")])
    h.connect()
    net.wlan.drop()
    assert not h.is_up()
    assert h.error.code == "dropped"
    n = 0
    while not h.is_up():
        clock.idle()
        n += 1
        if n > 100:
            raise AssertionError("no reconnect")
    assert net.wlan.connects == ["home", "home"] and h.error is None


def test_retry_after_failure_when_reconnecting():
    aps = {"home": "old"}
    h, net, clock = make(aps, [("home", "pw")], retry_s=10)
    h.up()
    for _ in range(10):
        assert not h.is_up()
    assert h.stage == "waiting" and h.error.code == "wrong-password"
    aps["home"] = "pw"  # the router's password was fixed
    clock.t += 11000
    n = 0
    while not h.is_up():
        n += 1
        if n > 100:
            raise AssertionError("no retry")


def test_down_stops():
    h, net, _ = make({"home": "pw"}, [("home", "pw")])
    h.connect()
    h.down()
    assert not h.is_up() and net.wlan.joined is None


def test_credentials_file_roundtrip():
    from portable import tmpdir

    p = tmpdir("wifi") + "/wifi.json"
    save_credentials(p, "greenhouse", "s3cret")
    assert load_credentials(p) == [("greenhouse", "s3cret")]
    # wifi('', 'x') at the REPL wrote an empty SSID over good credentials: refused, kept
    for bad in (("", "x"), ("n" * 33, "x"), (None, "x"), ("greenhouse", 1234)):
        e = raises(InputError, save_credentials, p, *bad)
        assert str(e).startswith("wifi: the "), e
    assert load_credentials(p) == [("greenhouse", "s3cret")]
    save_credentials(p, "Café", "")  # 5 bytes of UTF-8, an open network: replaces the file
    assert load_credentials(p) == [("Café", "")]
    with open(p, "w") as f:
        f.write('{"networks": [{"ssid": "a", "password": "1"}, {"ssid": "b"}]}')
    assert load_credentials(p) == [("a", "1"), ("b", "")]


def test_links_prefers_wifi_then_modem():
    from smtpmtm.outbox.link import Links
    from smtpmtm.outbox.manualhook import ManualHook

    h, net, clock = make({"home": "pw"}, [("home", "nope")], reconnect=False, timeout=3)
    modem = ManualHook("modem", up_after=2)
    links = Links([h, modem], clock.seconds, up_timeout_s=10)
    acq = links.acquire(["wifi", "modem"])
    n = 0
    while acq.step() is None:
        clock.idle()
        n += 1
        if n > 1000:
            raise AssertionError("never up")
    assert acq.hook is modem and acq.tried == ["wifi", "modem"]
    assert h.error.code == "wrong-password"

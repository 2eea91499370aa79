"""Wi-Fi connect hook over network.WLAN(STA_IF): credentials from flash, timeout, reconnect.

Credentials live in a small JSON file on flash (default ``/wifi.json``)::

    {"ssid": "greenhouse", "password": "..."}
    or {"networks": [{"ssid": "a", "password": "..."}, {"ssid": "b", "password": "..."}]}

``WifiHook`` is a smtpmtm.outbox.link.ConnectHook: ``up()`` calls ``wlan.connect()``
and returns at once; ``is_up()`` polls ``wlan.status()`` and turns the port's
status codes (network.STAT_WRONG_PASSWORD, STAT_NO_AP_FOUND,
STAT_CONNECT_FAIL, ...) into a clear ``WifiError`` (a LinkDown) kept in
``error``: codes wrong-password, no-ap, connect-fail, timeout, no-credentials,
dropped. With several networks, the next one is tried after a failure. A
link that drops is noticed by ``is_up()``; with ``reconnect=True`` the hook
starts connecting again after ``retry_s``. ``connect(timeout)`` is the
blocking convenience (polls with ``idle()``, default sleep 50 ms).

Example::

    from smtpmtm_board.wifi import WifiHook
    wifi = WifiHook()            # reads /wifi.json
    wifi.connect(timeout=20)     # raises WifiError(code="wrong-password") ...
    print(wifi.status())
"""

import json
import os

from smtpmtm.compat import monotonic_ms
from smtpmtm.errors import InputError, LinkDown
from smtpmtm.outbox.link import ConnectHook

# status codes across ports (ESP32 uses 2xx/1xxx, CYW43 on the Pico W uses -3..3)
_NAMES = (
    ("STAT_WRONG_PASSWORD", "wrong-password", "wrong Wi-Fi password for %r"),
    ("STAT_NO_AP_FOUND", "no-ap", "no access point %r in range"),
    ("STAT_CONNECT_FAIL", "connect-fail", "could not join %r"),
    ("STAT_ASSOC_FAIL", "connect-fail", "association with %r failed"),
    ("STAT_BEACON_TIMEOUT", "connect-fail", "lost the beacon of %r"),
    ("STAT_HANDSHAKE_TIMEOUT", "wrong-password", "handshake with %r timed out (wrong password?)"),
)


class WifiError(LinkDown):
    """Wi-Fi could not come up; ``code`` names the case."""

    code = "wifi"


def load_credentials(path):
    """[(ssid, password), ...] from the JSON file at path; [] if it is missing."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError:
        return []
    except ValueError:
        raise WifiError("%s is not valid JSON" % path, "no-credentials")
    nets = data.get("networks") or [data]
    return [(n["ssid"], n.get("password", "")) for n in nets if n.get("ssid")]


def save_credentials(path, ssid, password):
    """Write a one-network credentials file (the REPL's wifi(ssid, password)).

    Bad values are refused before the file is touched (an SSID is 1 to 32 bytes; the
    password text, "" for an open network), and the new file replaces the old in one
    rename, so a power cut leaves one or the other."""
    if not isinstance(ssid, str) or not 0 < len(ssid.encode()) <= 32:
        raise InputError("wifi: the network name (SSID) must be 1 to 32 bytes of text, not %r" % (ssid,))
    if not isinstance(password, str):
        raise InputError("wifi: the password must be text ('' for an open network)")
    tmp = path + ".new"
    with open(tmp, "w") as f:
        json.dump({"ssid": ssid, "password": password}, f)
    try:
        os.rename(tmp, path)  # littlefs replaces the old file in one step
    except OSError:  # FAT does not rename onto an existing file
        os.remove(path)
        os.rename(tmp, path)


def _idle():
    import time

    if hasattr(time, "sleep_ms"):
        time.sleep_ms(50)
    else:
        time.sleep(0.05)


class WifiHook(ConnectHook):
    """Connect hook for a station interface; see the module docstring."""

    def __init__(self, wlan=None, path="/wifi.json", networks=None, name="wifi",
                 timeout=20, reconnect=True, retry_s=30, clock_ms=None, idle=None, network=None):
        self.name = name
        self.path = path
        self._networks = networks
        self._wlan = wlan
        self._net = network
        self.timeout = timeout
        self.reconnect = reconnect
        self.retry_s = retry_s
        self._clock = clock_ms  # int milliseconds (timeouts below are seconds)
        self._idle = idle or _idle
        self.stage = "down"  # down, connecting, up, waiting (before a reconnect)
        self.error = None
        self.ssid = None
        self._i = 0
        self._since = 0
        self._nets = []

    def now(self):
        """Monotonic milliseconds, an int (never a float, see smtpmtm.compat)."""
        if self._clock is not None:
            return self._clock()
        return monotonic_ms()

    def wlan(self):
        if self._wlan is None:
            if self._net is None:
                import network

                self._net = network
            self._wlan = self._net.WLAN(self._net.STA_IF)
        return self._wlan

    def _codes(self):
        net = self._net
        if net is None:
            try:
                import network as net
            except ImportError:
                return {}
        out = {}
        for attr, code, text in _NAMES:
            v = getattr(net, attr, None)
            if v is not None:
                out[v] = (code, text)
        return out

    # -- ConnectHook -------------------------------------------------------------
    def up(self):
        """Start joining the first configured network (returns at once)."""
        if self.stage == "up" and self.wlan().isconnected():
            return
        self._nets = self._networks or load_credentials(self.path)
        if not self._nets:
            self.stage = "down"
            self.error = WifiError("no Wi-Fi credentials (%s)" % self.path, "no-credentials")
            raise self.error
        self.error = None
        self._i = 0
        self._join()

    def _join(self):
        w = self.wlan()
        w.active(True)
        self.ssid, password = self._nets[self._i]
        try:
            w.disconnect()
        except OSError:
            pass
        w.connect(self.ssid, password)
        self.stage = "connecting"
        self._since = self.now()

    def _fail(self, code, text):
        self.error = WifiError(text, code)
        try:
            self.wlan().disconnect()
        except OSError:
            pass
        if self._i + 1 < len(self._nets):
            self._i += 1  # try the next network
            self._join()
            return False
        self.stage = "waiting" if self.reconnect else "down"
        self._since = self.now()
        return False

    def is_up(self):
        """Poll: True while joined with an IP; notices errors, timeouts, drops."""
        s = self.stage
        if s == "down":
            return False
        w = self.wlan()
        if s == "waiting":
            if self.now() - self._since >= self.retry_s * 1000:
                self._i = 0
                self._join()
            return False
        if w.isconnected():
            if s != "up":
                self.stage = "up"
                self.error = None
            return True
        if s == "up":
            self.error = WifiError("Wi-Fi %r dropped" % self.ssid, "dropped")
            if self.reconnect:
                self._i = 0
                self._join()
            else:
                self.stage = "down"
            return False
        st = w.status()
        bad = self._codes().get(st)
        if bad:
            return self._fail(bad[0], bad[1] % self.ssid)
        if self.now() - self._since >= self.timeout * 1000:
            return self._fail("timeout", "Wi-Fi %r: no connection after %ss (status %s)" % (self.ssid, self.timeout, st))
        return False

    def failed(self):
        """The WifiError that ended the last up() (every network tried), else None."""
        return self.error if self.stage in ("waiting", "down") else None

    def down(self):
        """Leave the network and stop reconnecting (until the next up())."""
        self.stage = "down"
        if self._wlan is not None:
            try:
                self._wlan.disconnect()
            except OSError:
                pass

    def connect(self, timeout=None):
        """Blocking: bring Wi-Fi up or raise the WifiError that stopped it."""
        self.up()
        begin = self.now()
        limit = timeout or self.timeout * max(1, len(self._nets)) + 1
        while not self.is_up():
            if self.stage in ("down", "waiting") or self.now() - begin >= limit * 1000:
                err = self.error or WifiError("Wi-Fi not up after %ss" % limit, "timeout")
                self.stage = "down"
                raise err
            self._idle()
        return True

    def network(self):
        """The SSID joined (or being joined): a TLS failure's mail goes at once on another."""
        return self.ssid

    def status(self):
        """A small dict for the REPL's status()."""
        ip = None
        if self.stage == "up" and self._wlan is not None:
            try:
                ip = self._wlan.ifconfig()[0]
            except (OSError, AttributeError):
                pass
        return {"hook": self.name, "stage": self.stage, "ssid": self.ssid, "ip": ip,
                "error": self.error.code if self.error else None}

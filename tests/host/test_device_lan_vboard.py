"""Ethernet (device/smtpmtm_board/lan.py, network.LAN) in the ordered list of links, on the virtual board via mpremote.

Host-only. The virtual board's network.LAN (host/vboard_rom/network.py) is
connected while the host's simulated cable is in (VirtualBoard.set_cable),
independently of the radio link Wi-Fi follows. With ``"hooks": ["lan", "wifi"]``
mail goes by wire while the cable is in and by Wi-Fi once it is pulled.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PASSWORD, USER, certs, marks, smtp_server  # noqa: E402,F401
from host.boardctl import BoardCtl, install_firmware, set_account  # noqa: E402
from host.vboard import VirtualBoard  # noqa: E402

HEAP = 512 * 1024
LAN = {"phy": "LAN8720", "mdc": 23, "mdio": 18, "power": 12, "phy_addr": 0}


def test_wired_first_then_wifi_when_the_cable_is_pulled(smtp_server, certs, tmp_path):
    srv = smtp_server("starttls", require_auth=True)
    vb = VirtualBoard("sim", state_dir=str(tmp_path / "vb"), heap=HEAP, frozen=True, fresh=True).start()
    try:
        ctl = BoardCtl(vb.pty)
        install_firmware(ctl, vb, str(tmp_path), certs.ca,
                         {"hooks": ["lan", "wifi"], "up_at_boot": ["lan", "wifi"], "lan": LAN,
                          "background": "none"})
        assert "saved" in set_account(ctl, srv.port, USER, PASSWORD)
        vb.set_cable(True)
        vb.set_link(True)  # Wi-Fi is there too, but second in the list
        out = ctl.exec("queue('ann@example.com', 'By wire', 'x'); send(); "
                       "print('MARK hook', app.last['hook']); status()")
        assert marks(out)["hook"] == "lan", out
        assert "sent 1," in out and "phy=LAN8720" in out and "ip=10.0.1.7" in out, out
        vb.set_cable(False)
        out = ctl.exec("queue('ann@example.com', 'By radio', 'x'); send(); "
                       "print('MARK hook', app.last['hook']); status()")
        assert marks(out)["hook"] == "wifi", out
        assert "sent 1," in out, out
        msgs = srv.wait_messages(2)
        assert [b"Subject: By wire" in msgs[0].data, b"Subject: By radio" in msgs[1].data] == [True, True]
    finally:
        vb.stop()

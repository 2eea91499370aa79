"""socket for the virtual board with ``strict_link=True`` (installed in the ROM as socket.py).

The unix port's own socket (``from usocket import *``), except that while the
host link is down (``python -m host link down``) name lookups fail as on a
board with no network: ``getaddrinfo`` raises OSError(-202), the ESP32 port's
lwIP "no route" code, so the project's send path meets a dead link for real.
Connections already open are not cut (host/simlink.py does drops and stalls).
"""

from usocket import *  # noqa: F401,F403
from usocket import getaddrinfo as _getaddrinfo
from _vboard import link as _link


def getaddrinfo(host, port, *args):
    if not _link.up():
        raise OSError(-202)
    return _getaddrinfo(host, port, *args)

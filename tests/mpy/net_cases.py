"""MicroPython checks of device/smtpmtm_board/net.py run by tests/host/test_net.py.

Usage: micropython net_cases.py STALL_PORT DROP_PORT SELF_SIGNED_PORT TLS_STALL_PORT CAFILE
Prints one line per check:
  stall: a read with a 0.3 s timeout on a server that never greets -> "Timeout"
  drop: the server closes after the greeting -> "closed" (read returns b"")
  noverify: MicroPython's own ssl with its default context connects to a
      self-signed server -> "accepted" (why device/smtpmtm_board/net.py sets CERT_REQUIRED)
  tls-stall: the same timeout inside an implicit TLS session -> "Timeout"
"""

import socket
import sys

from smtpmtm_board import net
from smtpmtm.errors import Timeout


def stall(port, tls="plain", cafile=None):
    s = net.connect("127.0.0.1", port, tls=tls, cafile=cafile, timeout=5)
    try:
        s.read(100, 0.3)
        return "no timeout"
    except Timeout:
        return "Timeout"
    finally:
        s.close()


def drop(port):
    s = net.connect("127.0.0.1", port, tls="plain", timeout=5)
    first = s.read(100, 5)
    s.write(b"EHLO board\r\n")
    rest = s.read(100, 5)
    s.close()
    return "closed" if first.startswith(b"220") and rest == b"" else repr((first, rest))


def noverify(port):
    import ssl

    sock = socket.socket()
    sock.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    try:
        t = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_socket(sock, server_hostname="localhost")
        t.close()
        return "accepted"
    except Exception as e:
        return "refused %r" % e


# what connect() says when a name does not resolve: an errno on ESP32 (-202), text on the
# unix port ("[addrinfo error -2]": the virtual board once printed that as it was)
print("why", " | ".join(net.why(OSError(a)) for a in (-202, "[addrinfo error -2]", 111)))
print("stall", stall(int(sys.argv[1])))
print("drop", drop(int(sys.argv[2])))
print("noverify", noverify(int(sys.argv[3])))
print("tls-stall", stall(int(sys.argv[4]), "implicit", sys.argv[5]))

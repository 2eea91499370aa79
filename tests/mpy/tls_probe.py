"""MicroPython probe run by tests/host/test_net.py: connect with device/smtpmtm_board/net.py and report.

Usage: micropython tls_probe.py CAFILE HOSTNAME MODE:PORT [MODE:PORT ...]
MODE is implicit (TLS at once) or starttls (EHLO, STARTTLS, then upgrade).
Prints one line per target: "ok <first reply line>" or "<ErrorClass> <code>".
"""

import sys

from smtpmtm_board import net


def probe(cafile, hostname, mode, port):
    s = net.connect("127.0.0.1", port, tls=mode, cafile=cafile, server_hostname=hostname, timeout=10)
    try:
        greeting = s.read(512, 10)
        if mode == "starttls":
            s.write(b"EHLO board\r\n")
            buf = b""
            while not (b"\r\n250 " in buf or buf.startswith(b"250 ")):
                buf += s.read(512, 10)
            s.write(b"STARTTLS\r\n")
            s.read(512, 10)
            s.starttls(hostname)
            s.write(b"EHLO board\r\n")
            greeting = s.read(512, 10)
        return "ok " + greeting.split(b"\r\n")[0].decode()
    finally:
        s.close()


def main():
    cafile, hostname = sys.argv[1], sys.argv[2]
    for target in sys.argv[3:]:
        mode, port = target.split(":")
        try:
            print(probe(cafile, hostname, mode, int(port)))
        except Exception as e:  # report, the host test judges
            print(type(e).__name__, getattr(e, "code", "-"))


main()

"""A real NTP exchange on MicroPython (host-only: it needs a UDP responder on 127.0.0.1).

The responder runs in a thread here; WallClock.ntp_start/ntp_poll run in a
MicroPython subprocess (non-blocking socket, no sleeps in the clock code).
The clock's other cases are tests/core/test_device_clock.py, on both interpreters.
"""

import socket
import struct
import threading

from host import mpy


def test_real_ntp_exchange_on_micropython(tmp_path):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    server_time = 1767225600  # 2026-01-01

    def serve():
        data, addr = srv.recvfrom(64)
        pkt = bytes([0x24, 2]) + bytes(22) + data[40:48] + bytes(8)
        srv.sendto(pkt + struct.pack("!II", server_time + 2208988800, 0), addr)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    script = tmp_path / "ntp.py"
    script.write_text(
        "import time\nfrom smtpmtm_board.clock import WallClock\n"
        "c = WallClock(path=%r, rtc=False, time_fn=lambda: 946684800)\n"
        "print('before', c.valid)\n"
        "import socket\n"
        "c.ntp_start('127.0.0.1', timeout=10, addr=socket.getaddrinfo('127.0.0.1', %d)[0][-1])\n"
        "n = 0\n"
        "while not c.ntp_poll():\n    n += 1\n    time.sleep_ms(1)\n"
        "print('after', c.valid, c.source, int(c.now()))\n"
        % (str(tmp_path / "clock.dat"), port)
    )
    r = mpy.run(str(script), heap="128k")
    srv.close()
    out = r.stdout.decode() + r.stderr.decode()
    assert "before False" in out, out
    assert "after True ntp %d" % server_time in out, out  # (non-blocking: the FakeSock case)

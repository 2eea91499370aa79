"""host/simlink.py: the simulated link relays bytes, counts round trips, drops and stalls.

Host-only: the relay is CPython threads and sockets.
"""

import socket
import threading

import pytest

from host.simlink import SimLink


class Sink:
    """A server that greets, then answers each line with 'ok <n>' and records what it got."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.done = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        data = b""
        c.sendall(b"220 hi\r\n")
        n = 0
        while True:
            try:
                d = c.recv(4096)
            except OSError:
                d = b""
            if not d:
                break
            data += d
            while b"\r\n" in data[n:]:
                i = data.index(b"\r\n", n)
                n = i + 2
                try:
                    c.sendall(b"250 ok\r\n")
                except OSError:
                    pass
        self.got.append(data)
        self.done.append(True)
        c.close()


def recv_line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        d = s.recv(100)
        if not d:
            return buf
        buf += d
    return buf


def wait_for(cond, n=200):
    import time

    for _ in range(n):
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_relay_counts_turns_and_bytes():
    srv = Sink()
    with SimLink(("127.0.0.1", srv.port), rtt_s=0.01, bandwidth_bps=10 ** 6) as link:
        s = socket.create_connection(("127.0.0.1", link.port))
        assert recv_line(s) == b"220 hi\r\n"
        for i in range(3):
            s.sendall(b"CMD %d\r\n" % i)
            assert recv_line(s) == b"250 ok\r\n"
        s.sendall(b"A\r\nB\r\n")  # pipelined: one turn for two replies
        assert recv_line(s) + recv_line(s) == b"250 ok\r\n" * 2
        s.close()
        assert wait_for(lambda: srv.done)
        assert srv.got[0] == b"CMD 0\r\nCMD 1\r\nCMD 2\r\nA\r\nB\r\n"
        assert link.bytes_c2s == len(srv.got[0])
        assert link.turns == 5
        assert link.connections == 1


@pytest.mark.parametrize("n", [0, 1, 7, 20])
def test_drop_after_n_bytes_delivers_exactly_n(n):
    srv = Sink()
    with SimLink(("127.0.0.1", srv.port), drop_after=n) as link:
        s = socket.create_connection(("127.0.0.1", link.port))
        recv_line(s)
        try:
            s.sendall(b"x" * 10 + b"\r\n" + b"y" * 30)
            s.settimeout(5)
            while s.recv(100):
                pass
        except OSError:
            pass
        assert wait_for(lambda: srv.done)
        assert srv.got[0] == (b"x" * 10 + b"\r\n" + b"y" * 30)[:n]
        assert link.drops == 1


def test_drop_at_marker_and_plan_per_connection():
    srv = Sink()
    plan = [{"drop_at": (b"DATA\r\n", 3)}, {}]
    with SimLink(("127.0.0.1", srv.port), plan=plan) as link:
        s = socket.create_connection(("127.0.0.1", link.port))
        recv_line(s)
        s.sendall(b"MAIL\r\nDA")
        s.sendall(b"TA\r\nhello\r\n")
        s.settimeout(5)
        try:
            while s.recv(100):
                pass
        except OSError:
            pass
        assert wait_for(lambda: srv.done)
        assert srv.got[0] == b"MAIL\r\nDATA\r\nhel"
        s2 = socket.create_connection(("127.0.0.1", link.port))  # second connection: no fault
        recv_line(s2)
        s2.sendall(b"DATA\r\nhello\r\n")
        assert recv_line(s2) == b"250 ok\r\n"
        s2.close()


def test_stall_keeps_socket_open_and_silent():
    srv = Sink()
    with SimLink(("127.0.0.1", srv.port), stall_after=6) as link:
        s = socket.create_connection(("127.0.0.1", link.port))
        recv_line(s)
        s.sendall(b"ONE\r\nTWO\r\n")
        s.settimeout(0.3)
        got = b""
        with pytest.raises(socket.timeout):
            while True:
                d = s.recv(100)
                assert d, "stalled link must not close"
                got += d
        assert got in (b"", b"250 ok\r\n")
        s.close()


def test_refused_connection_closes_at_once():
    srv = Sink()
    with SimLink(("127.0.0.1", srv.port), plan=[{"refuse": True}]) as link:
        s = socket.create_connection(("127.0.0.1", link.port))
        s.settimeout(5)
        assert s.recv(10) == b""

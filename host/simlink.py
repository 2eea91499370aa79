"""A simulated network link: a TCP relay on 127.0.0.1 between client and server.

Host-only (threads and sockets). Used by the sender tests and the benchmark to
put a slow, lossy link (a 2G modem, bad Wi-Fi) between the core's Session and
the local aiosmtpd server::

    with SimLink(("127.0.0.1", server_port), rtt_s=0.3, bandwidth_bps=40000) as link:
        stream = net.connect("127.0.0.1", link.port, tls="plain")
        ...
    print(link.turns, link.bytes_c2s, link.bytes_s2c)

Per direction, bytes go through the link at ``bandwidth_bps`` (bits per
second, serialised in pieces of ``piece`` bytes) and arrive ``rtt_s / 2``
later. Faults, per connection (``plan[i]`` for the i-th connection, else the
constructor's defaults):

- ``drop_after=N``: after N client-to-server bytes the connection is reset
  (both sides), the N bytes themselves are delivered;
- ``drop_at=(marker, N)``: the same, N bytes after the first ``marker`` (e.g.
  b"DATA\\r\\n" or b"BDAT") seen in the client's stream (plain SMTP only);
- ``stall_after=N`` / ``stall_at=(marker, N)``: after that point nothing more is
  forwarded either way, but the sockets stay open (the client's deadline fires);
- ``refuse=True``: the connection is closed at once.

``turns`` counts round trips as seen on the wire: each burst of server bytes
that follows client bytes (plus the greeting) is one. ``burst_c2s`` is how many
client bytes went through since the server last sent any: it grows large only
inside a message's DATA (the chaos probe cuts the power there, host/chaos.py).
``listen(on_client)`` is its accepting half, shared with host/portal.py.
"""

import socket
import threading
import time

_DROP = object()
_EOF = object()


def listen(on_client):
    """A listening socket on 127.0.0.1 (any free port), and a thread that hands each client
    socket it accepts to ``on_client(client)`` until the listener is closed. Returns it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def accept():
        while True:
            try:  # this listener, not the owner's attribute: stop() clears that while we wait
                client, _ = sock.accept()
            except OSError:
                return
            on_client(client)

    threading.Thread(target=accept, daemon=True).start()
    return sock


class _Dir:
    """One direction of one connection: a reader that schedules, a writer that delivers."""

    def __init__(self, relay, conn, src, dst, c2s):
        self.relay = relay
        self.conn = conn
        self.src = src
        self.dst = dst
        self.c2s = c2s
        self.queue = []
        self.cv = threading.Condition()
        self.link_free = 0.0

    def start(self):
        for fn in (self._read, self._write):
            t = threading.Thread(target=fn, daemon=True)
            t.start()

    def _push(self, item, at):
        with self.cv:
            self.queue.append((at, item))
            self.cv.notify()

    def _read(self):
        r = self.relay
        piece = r.piece
        while True:
            try:
                data = self.src.recv(65536)
            except OSError:
                data = b""
            if self.conn.stalled:
                if not data:
                    return
                continue  # a stalled link swallows everything
            if not data:
                self._push(_EOF, self._when(0))
                return
            data = self.conn.inspect(data, self.c2s)
            cut = self.conn.cut_point(self.c2s, len(data))
            if cut is not None:
                data = data[:cut]
            for i in range(0, len(data), piece):
                p = data[i : i + piece]
                self._push(p, self._when(len(p)))
            if cut is not None:
                if self.conn.fault_kind == "drop":
                    self._push(_DROP, self._when(0))
                    return
                self.conn.stalled = True

    def _when(self, n):
        r = self.relay
        now = time.monotonic()
        start = max(now, self.link_free)
        end = start + (n * 8.0 / r.bandwidth_bps if r.bandwidth_bps else 0.0)
        self.link_free = end
        return end + r.rtt_s / 2.0

    def _write(self):
        while True:
            with self.cv:
                while not self.queue:
                    self.cv.wait()
                at, item = self.queue.pop(0)
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if item is _DROP:
                self.conn.reset()
                return
            if item is _EOF:
                try:
                    self.dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                self.dst.sendall(item)
            except OSError:
                self.conn.reset()
                return
            self.conn.count(len(item), self.c2s)


def shut(*socks):
    """Shut down and close each socket, whatever state it is in: shutdown() wakes the threads
    blocked in its recv() (a relay's, the portal's), which close() alone does not."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


class _Conn:
    def __init__(self, relay, client, server, faults):
        self.relay = relay
        self.client = client
        self.server = server
        self.stalled = False
        self.closed = False
        self.seen = 0  # client bytes read so far
        self.tail = b""
        self.marker_end = None
        f = faults
        self.fault_kind = None
        self.limit = None
        self.marker = None
        if f.get("drop_after") is not None or f.get("drop_at") is not None:
            self.fault_kind = "drop"
        elif f.get("stall_after") is not None or f.get("stall_at") is not None:
            self.fault_kind = "stall"
        if self.fault_kind:
            after = f.get(self.fault_kind + "_after")
            at = f.get(self.fault_kind + "_at")
            if after is not None:
                self.limit = after
            else:
                self.marker, self.offset = at
        self.fault_dir_c2s = f.get("direction", "c2s") == "c2s"
        self.s2c_seen = 0
        self.fired = False

    def inspect(self, data, c2s):
        if c2s and self.marker is not None and self.marker_end is None:
            buf = self.tail + data
            i = buf.find(self.marker)
            if i >= 0:
                self.marker_end = self.seen - len(self.tail) + i + len(self.marker)
                self.limit = self.marker_end + self.offset
            else:
                self.tail = buf[-len(self.marker) :]
        return data

    def cut_point(self, c2s, n):
        """Index at which this chunk must be cut (fault fires), or None."""
        if c2s:
            start = self.seen
            self.seen += n
        else:
            start = self.s2c_seen
            self.s2c_seen += n
        if self.fired or self.limit is None or c2s != self.fault_dir_c2s:
            return None
        if start + n >= self.limit:
            self.fired = True
            return max(0, self.limit - start)
        return None

    def count(self, n, c2s):
        self.relay._count(n, c2s)

    def reset(self):
        if self.closed:
            return
        self.closed = True
        self.relay.drops += 1
        shut(self.client, self.server)

    def close(self):
        if self.closed:
            return
        self.closed = True
        shut(self.client, self.server)


class SimLink:
    def __init__(self, upstream, rtt_s=0.0, bandwidth_bps=None, piece=256, plan=(), **faults):
        self.upstream = upstream
        self.rtt_s = rtt_s
        self.bandwidth_bps = bandwidth_bps
        self.piece = piece
        self.plan = list(plan)
        self.faults = faults
        self.port = None
        self.host = "127.0.0.1"
        self.connections = 0
        self.drops = 0
        self.lock = threading.Lock()
        self._conns = []
        self._sock = None
        self.reset_counters()

    def reset_counters(self):
        self.bytes_c2s = 0
        self.bytes_s2c = 0
        self.turns = 0
        self.burst_c2s = 0
        self._last_c2s = True

    def _count(self, n, c2s):
        with self.lock:
            if c2s:
                self.bytes_c2s += n
                self.burst_c2s += n
                self._last_c2s = True
            else:
                self.bytes_s2c += n
                self.burst_c2s = 0
                if self._last_c2s:
                    self.turns += 1
                self._last_c2s = False

    def start(self):
        self._sock = listen(self._relay)
        self.port = self._sock.getsockname()[1]
        return self

    def _relay(self, client):
        i = self.connections
        self.connections += 1
        faults = dict(self.faults)
        if i < len(self.plan):
            faults = dict(self.plan[i])
        if faults.get("refuse"):
            client.close()
            return
        try:
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(self, client, server, faults)
        self._conns.append(conn)
        _Dir(self, conn, client, server, True).start()
        _Dir(self, conn, server, client, False).start()

    def reset_all(self):
        """Reset every open connection now; what the link still held is never delivered
        (a board losing power takes its radio's buffer with it)."""
        for c in list(self._conns):
            c.reset()
        with self.lock:
            self.burst_c2s = 0

    def stop(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        for c in self._conns:
            c.close()
        self._conns = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

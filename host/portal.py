"""A hostile network in front of a real SMTP server: a captive portal or intercepting proxy.

Host-only (threads, sockets, ssl). ``Portal((host, port), certs)`` listens on
127.0.0.1 and relays each connection to the real server, in plain text and in
lock step (greeting, then a command and its reply), up to the point where TLS
should start. There, by the ``mode`` it had when the connection came:

- a certificate case of host/testca.py ("self-signed", "unknown-ca", "expired",
  "wrong-host"): it answers STARTTLS itself and terminates TLS with that
  certificate, a man in the middle; should the client accept it, the portal
  relays what it reads to the real server over TLS of its own, as an attacker
  would, so the mail still arrives and only the record shows the leak;
- "strip": it takes STARTTLS out of the EHLO reply (RFC 3207 section 4: a client
  that wants TLS must then not go on) and answers a STARTTLS itself with 454;
- "inject": it relays STARTTLS and appends plaintext replies to the server's 220
  (CVE-2011-0411), then relays the rest untouched.

Every byte the client sends is recorded per connection (an ``Intercept``):
``clear``, what it sent in plain text; ``inside``, what it sent past the TLS
point through the portal's own TLS, or after the injected reply. ``leak()`` says
how the client went on where it should have stopped: a command other than
EHLO, HELO, STARTTLS, QUIT, RSET or NOOP in plain text (AUTH, MAIL, message
content ...), or any byte inside. Fail closed is measured there, not assumed.

Example::

    with Portal(("127.0.0.1", mta.port), certs, mode="strip") as portal:
        ...  # a client sends to 127.0.0.1:portal.port with STARTTLS
        assert not [r.leak() for r in portal.intercepts if r.leak()]
"""

import select
import socket
import ssl
import threading

from host.simlink import listen, shut
from host.testca import EXPECTED_CODE

CERT_MODES = ("self-signed", "unknown-ca", "expired", "wrong-host")
MODES = CERT_MODES + ("strip", "inject")
# what a client may say in plain text when it wants TLS (RFC 3207 section 4; RFC 5321 4.1.4)
ALLOWED_CLEAR = (b"EHLO", b"HELO", b"STARTTLS", b"QUIT", b"RSET", b"NOOP")
# the error code a client that fails closed gives for each mode (shared/smtpmtm/errors.py)
CLIENT_CODE = dict(EXPECTED_CODE, strip="tls-not-offered", inject="tls-injection")
INJECTED = b"250-injected by the portal\r\n250 AUTH PLAIN\r\n"
TIMEOUT_S = 60  # a connection quiet this long is dropped (a client that hangs must not pin a thread)
TLS_HANDSHAKE = 0x16  # the first byte of a TLS handshake record (RFC 8446 section 5.1)


class Intercept:
    """What one client connection met at the portal and every byte it sent."""

    def __init__(self, mode):
        self.mode = mode
        self.clear = bytearray()  # sent in plain text
        self.inside = bytearray()  # sent past the TLS point: through the portal's TLS, after an injection
        self.tls_point = False  # the connection got as far as the portal's attack
        self.handshake = None  # cert modes: "completed" or why the client's handshake ended
        self.done = False  # the connection is closed: the record is complete
        self.ended = None  # why, when it was not a plain close: the error the portal saw

    def leak(self):
        """None when the client stopped where it should; else what it sent on."""
        if self.inside:
            return "%s: %d bytes past the TLS point (%r...)" % (self.mode, len(self.inside),
                                                               bytes(self.inside[:40]))
        for line in bytes(self.clear).split(b"\n"):
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb and verb not in ALLOWED_CLEAR:
                return "%s: %r in plain text" % (self.mode, line[:60])
        return None


class _Lines:
    """Lines (and whole SMTP replies) from a socket, with what was read past them kept."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("closed")
            self.buf += data
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def reply(self):
        """A whole reply: lines up to one whose 4th byte is not '-' (RFC 5321 4.2.1)."""
        out = b""
        while True:
            line = self.line()
            out += line
            if line[3:4] != b"-":
                return out

    def rest(self):
        out, self.buf = self.buf, b""
        return out


def strip_starttls(reply):
    """An EHLO reply without its STARTTLS line, the continuation marks set again."""
    lines = [ln for ln in reply.split(b"\r\n")[:-1] if ln[4:].strip().upper() != b"STARTTLS"]
    last = len(lines) - 1
    return b"".join(ln[:3] + (b" " if i == last else b"-") + ln[4:] + b"\r\n" for i, ln in enumerate(lines))


class _ServerTls:
    """The server side of TLS over a socket through memory BIOs: every raw byte is seen."""

    def __init__(self, sock, ctx):
        self.sock = sock
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=True)
        self.raw = bytearray()  # what the client sent after STARTTLS, as it came

    def feed(self, data):
        self.raw += data
        self.inc.write(data)

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self.flush()
                return
            except ssl.SSLWantReadError:
                self.flush()
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("closed during the handshake")
                self.feed(data)

    def read_ready(self):
        """The application bytes decrypted so far (b"" if none)."""
        out = b""
        while True:
            try:
                data = self.obj.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
            if not data:
                break
            out += data
        self.flush()
        return out

    def write(self, data):
        self.obj.write(data)
        self.flush()


class Portal:
    """See the module docstring. ``mode`` may be changed at any time: it applies to the
    connections that come after."""

    def __init__(self, upstream, certs, mode="self-signed", server_hostname="localhost"):
        if mode not in MODES:
            raise ValueError("portal mode %r: not one of %s" % (mode, ", ".join(MODES)))
        self.upstream = upstream
        self.mode = mode
        self.server_hostname = server_hostname
        self.contexts = dict((case, certs.server_context(case)) for case in CERT_MODES)
        self.up_context = ssl.create_default_context(cafile=certs.ca)  # the attacker's own, verified
        self.intercepts = []
        self.port = None
        self._sock = None
        self._open = []

    def start(self):
        self._sock = listen(self._intercept)
        self.port = self._sock.getsockname()[1]
        return self

    def _intercept(self, client):
        rec = Intercept(self.mode)
        self.intercepts.append(rec)
        threading.Thread(target=self._serve, args=(client, rec), daemon=True).start()

    def leaks(self):
        """[what each leaking connection sent on], empty when every client stopped."""
        return [r.leak() for r in self.intercepts if r.leak()]

    def met(self):
        """{mode: connections that got as far as the portal's attack in that mode}."""
        out = {}
        for r in self.intercepts:
            if r.tls_point:
                out[r.mode] = out.get(r.mode, 0) + 1
        return out

    def _serve(self, client, rec):
        try:
            up = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            rec.done = True
            return
        self._open += [client, up]
        try:
            for s in (client, up):
                s.settimeout(TIMEOUT_S)
            self._relay(client, up, rec)
        except (OSError, EOFError, ssl.SSLError) as e:  # either side went away
            rec.ended = repr(e)
        finally:
            shut(client, up)
            rec.done = True

    def _relay(self, client, up, rec):
        cl, ul = _Lines(client), _Lines(up)
        client.sendall(ul.reply())  # the greeting
        while True:
            line = cl.line()
            rec.clear += line
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"STARTTLS":
                rec.tls_point = True
                if rec.mode == "strip":  # it was not offered: refused as a stripping proxy does
                    client.sendall(b"454 4.7.0 TLS not available\r\n")
                    continue
                if rec.mode == "inject":
                    up.sendall(line)
                    client.sendall(ul.reply() + INJECTED)
                    return self._pump(client, cl, up, ul, rec.inside)
                return self._terminate(client, cl, up, ul, rec)
            up.sendall(line)
            if verb not in ALLOWED_CLEAR:  # going on in plain text: no longer in lock step
                return self._pump(client, cl, up, ul, rec.clear)
            reply = ul.reply()
            if rec.mode == "strip" and verb == b"EHLO":
                reply = strip_starttls(reply)
                rec.tls_point = True
            client.sendall(reply)

    def _terminate(self, client, cl, up, ul, rec):
        """TLS with the client on the portal's certificate; if it is accepted, relay."""
        tls = _ServerTls(client, self.contexts[rec.mode])
        client.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        pending = cl.rest()
        if pending:
            tls.feed(pending)
        try:
            tls.handshake()
        except (ssl.SSLError, EOFError, OSError) as e:
            rec.handshake = "refused: %s" % (getattr(e, "reason", None) or e)
            if tls.raw and tls.raw[0] != TLS_HANDSHAKE:  # not TLS at all: the client went on in plain text
                rec.clear += tls.raw
            return
        rec.handshake = "completed"
        rec.inside += tls.read_ready()
        up.sendall(b"STARTTLS\r\n")  # the attacker's own TLS to the real server
        if not ul.reply().startswith(b"220"):
            return
        ups = self.up_context.wrap_socket(up, server_hostname=self.server_hostname)
        if rec.inside:
            ups.sendall(bytes(rec.inside))
        while True:
            ready, _, _ = select.select([client, ups], [], [], TIMEOUT_S)
            if not ready:
                return
            if client in ready:
                data = client.recv(65536)
                if not data:
                    return
                tls.feed(data)
                data = tls.read_ready()
                rec.inside += data
                if data:
                    ups.sendall(data)
            if ups in ready:
                ups.settimeout(0)  # readable may mean a TLS 1.3 session ticket only: never block here
                try:
                    data = ups.recv(65536)
                    while ups.pending():
                        data += ups.recv(ups.pending())
                except ssl.SSLWantReadError:
                    data = None
                finally:
                    ups.settimeout(TIMEOUT_S)
                if data == b"":
                    return
                if data:
                    tls.write(data)

    def _pump(self, client, cl, up, ul, record):
        """Relay both ways untouched until either side closes, client bytes into ``record``."""
        data = cl.rest()
        record += data
        if data:
            up.sendall(data)
        data = ul.rest()
        if data:
            client.sendall(data)
        while True:
            ready, _, _ = select.select([client, up], [], [], TIMEOUT_S)
            if not ready:
                return
            for src, dst in ((client, up), (up, client)):
                if src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    if src is client:
                        record += data
                    dst.sendall(data)

    def stop(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for s in self._open:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

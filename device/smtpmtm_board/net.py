"""The MicroPython Stream: socket + TLS that verifies, for the core's Session.

Same API as host/net.py: ``connect(host, port, tls="implicit"|"starttls"|"plain",
cafile=None, server_hostname=None, timeout=30)`` -> Stream with
write(data), read(max_bytes, timeout_s) (b"" = closed, Timeout on timeout),
ready(ms) (a read would not wait: select.poll, which also sees the bytes the TLS
layer holds decrypted), starttls(server_hostname) (upgrade in place, RFC 3207),
is_tls, close().

MicroPython's ssl does NOT verify unless told to, so this module always uses
SSLContext(PROTOCOL_TLS_CLIENT) with verify_mode = CERT_REQUIRED, the CA
certificates from ``cafile`` (PEM or DER; this mbedtls build only parses DER,
so PEM blocks are decoded and loaded one by one) and server_hostname for SNI
and the name check. Without ``cafile``, ``CAFILE`` (/certs/ca.pem, the bundle
``make deploy`` installs); if that file is missing too the connection is
refused (tls-no-ca) instead of silently not verifying.

mbedtls reports verification failures as ValueError with the text of
mbedtls_x509_crt_verify_info(); found by experiment (Mbed TLS 3.6):

    "...not correctly signed by the trusted CA"   unknown CA or self-signed
    "...validity has expired" / "...starts in the future"  -> tls-expired
    "...Common Name (CN) does not match..."         -> tls-hostname (also IP SANs)

A handshake the other end closes (mbedtls SSL_CONN_EOF, a reset) is ConnectionLost,
transient as on the host: an MTA restarting must not fail the Outbox for good.

Self-signed is told apart from unknown CA by a verify_callback that only looks
at the depth-0 certificate (issuer == subject) and returns 0, which leaves
mbedtls's verdict unchanged (checked: the handshake still fails).

Example::

    s = connect("smtp.example.com", 465, tls="implicit", cafile="/flash/ca.pem")
"""

import select
import socket

try:
    import tls as _tls  # MicroPython >= 1.23: the module with verify_callback
except ImportError:  # pragma: no cover
    import ssl as _tls
import binascii

from smtpmtm.errors import ConnectionLost, Timeout, TlsError

# the CA bundle ``make deploy`` and the virtual board put on the flash (README "Certificates"):
# the roots the big mail providers' certificates chain to
CAFILE = "/certs/ca.pem"

_MESSAGES = (
    ("not correctly signed", "tls-unknown-ca"),
    ("has been revoked", "tls-unknown-ca"),
    ("validity has expired", "tls-expired"),
    ("starts in the future", "tls-expired"),
    ("does not match with the expected CN", "tls-hostname"),
)


def pem_to_der(path):
    """Yield each certificate of a PEM file as DER bytes, reading it line by line."""
    with open(path, "rb") as f:
        head = f.read(1)
        f.seek(0)
        if head == b"\x30":  # already DER (a SEQUENCE)
            yield f.read()
            return
        inside = None
        for line in f:
            line = line.strip()
            if line.startswith(b"-----BEGIN CERTIFICATE"):
                inside = []
            elif line.startswith(b"-----END CERTIFICATE"):
                if inside is not None:
                    yield binascii.a2b_base64(b"".join(inside))
                inside = None
            elif inside is not None:
                inside.append(line)


def _tlv(b, i):
    """(tag, value start, value end) of the DER item at offset i."""
    tag = b[i]
    n = b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(bytes(b[i:i + k]), "big")
        i += k
    return tag, i, i + n


def is_self_signed(der):
    """True if the certificate's issuer Name equals its subject Name."""
    try:
        _, v, _ = _tlv(der, 0)  # Certificate
        _, i, _ = _tlv(der, v)  # tbsCertificate
        tag, _, end = _tlv(der, i)
        if tag == 0xA0:  # [0] version
            i = end
        names = []
        for n in range(5):  # serial, signature, issuer, validity, subject
            _, _, end = _tlv(der, i)
            if n in (2, 4):
                names.append(bytes(der[i:end]))
            i = end
        return names[0] == names[1]
    except (IndexError, ValueError):
        return False


class Stream:
    """A connected socket (plain or TLS) with the Stream API."""

    def __init__(self, sock, host, cafile=None, timeout=30):
        self.raw = sock
        self.sock = sock
        self.host = host
        self.cafile = cafile
        self.timeout = timeout
        self._current = timeout
        self.is_tls = False
        self._leaf_self_signed = False
        self._poll = self._polled = None  # select.poll of self.sock (a new one after STARTTLS)

    def _context(self):
        ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = _tls.CERT_REQUIRED
        loaded = 0
        try:
            if self.cafile:
                for der in pem_to_der(self.cafile):
                    ctx.load_verify_locations(der)
                    loaded += 1
        except (OSError, ValueError) as e:
            why = "no such file: copy a CA bundle there" if e.args and e.args[0] == 2 else repr(e)
            raise TlsError("cannot use the CA certificates (%s): %s" % (self.cafile, why), "tls-no-ca")
        if not loaded:
            raise TlsError("no CA certificates: give cafile", "tls-no-ca")
        if hasattr(ctx, "verify_callback"):
            ctx.verify_callback = self._observe
        return ctx

    def _observe(self, cert, depth):
        # Only observes; returning 0 keeps mbedtls's own verdict.
        if depth == 0:
            self._leaf_self_signed = is_self_signed(cert)
        return 0

    def starttls(self, server_hostname=None):
        """Upgrade in place; raises TlsError(code=...) when verification fails."""
        name = server_hostname or self.host
        try:
            ctx = self._context()
            self.sock = ctx.wrap_socket(self.raw, server_hostname=name)
        except TlsError:
            self.close()
            raise
        except ValueError as e:
            self.close()
            text = str(e)
            code = "tls-handshake"
            for needle, c in _MESSAGES:
                if needle in text:
                    code = c
                    break
            if code == "tls-unknown-ca" and self._leaf_self_signed:
                code = "tls-self-signed"
            raise TlsError("TLS certificate check failed for %s: %s" % (name, text.strip()), code)
        except OSError as e:
            self.close()
            if _is_timeout(e):
                raise Timeout("TLS handshake with %s timed out" % name)
            if e.args and e.args[0] in _CUT:  # the server or the path closed it: try again later
                raise ConnectionLost("connection lost during the TLS handshake with %s: %r" % (name, e))
            raise TlsError("TLS handshake with %s failed: %r" % (name, e), "tls-handshake")
        self.is_tls = True

    def write(self, data):
        if self.sock is None:
            raise ConnectionLost("write on a closed connection")
        try:
            self._timeout(self.timeout)
            n = self.sock.write(data)
            if n is None or n < len(data):  # a short write: send the rest without copying
                mv = memoryview(data)[n or 0:]
                while mv:
                    n = self.sock.write(mv)
                    if not n:  # no progress on a blocking socket: treat as a timeout
                        raise OSError(110)
                    mv = mv[n:]
        except OSError as e:
            if _is_timeout(e):
                raise Timeout("write timed out")
            raise ConnectionLost("connection lost while writing: %r" % e)

    def _timeout(self, t):
        # The raw socket's timeout bounds every recv/send, also inside TLS records.
        if t != self._current:
            self.raw.settimeout(t)
            self._current = t

    def read(self, max_bytes, timeout_s=None):
        if self.sock is None:
            return b""
        try:
            self._timeout(timeout_s)
            data = self.sock.recv(max_bytes)  # recv returns what is there (read() waits for all)
        except OSError as e:
            if _is_timeout(e):
                raise Timeout("no reply within %s s" % timeout_s)
            raise ConnectionLost("connection lost while reading: %r" % e)
        return data if data is not None else b""

    def ready(self, ms):
        """True once a read would not wait (bytes, the end, an error), waiting up to ms."""
        s = self.sock
        if s is None:
            return True
        if self._polled is not s:
            self._poll = select.poll()
            self._poll.register(s, select.POLLIN)
            self._polled = s
        return bool(self._poll.poll(ms))

    def close(self):
        if self.sock is not None:
            for s in (self.sock, self.raw):  # the TLS socket, then the one under it
                try:
                    s.close()
                except OSError:
                    pass
            self.sock = self._poll = self._polled = None


# errno -> words (MicroPython's errno numbers are Linux's on every port; negative: getaddrinfo)
_WHY = {111: "connection refused: no server listens on that port (is it running? the right port?)",
        113: "no route to the host", 101: "the network is unreachable", 104: "connection reset",
        103: "connection aborted", -2: "host name not found (DNS)", -3: "DNS lookup failed (try again)",
        -202: "host name not found (DNS)"}


def why(e):
    """An OSError from connect() as words a person reads, the errno kept in brackets."""
    n = e.args[0] if e.args else None
    if isinstance(n, str) and n.startswith("[addrinfo error ") and n[16:-1].lstrip("-").isdigit():
        n = int(n[16:-1])  # the unix port's getaddrinfo says it in text
    text = _WHY.get(n)
    return "%s [errno %s]" % (text, n) if text else str(e)


# a handshake the other end closed (an MTA restarting, a link dropping): mbedtls's
# SSL_CONN_EOF and SSL_PEER_CLOSE_NOTIFY; the socket's ECONNRESET, EPIPE, ECONNABORTED
# (MicroPython's tls module raises socket errors as their errno). A certificate or
# protocol failure is not in here.
_CUT = (-0x7280, -0x7880, 104, 32, 103)


def _is_timeout(e):
    return e.args and e.args[0] in (110, 11, -110, "timed out")


def connect(host, port, tls="starttls", cafile=None, server_hostname=None, timeout=30):
    """Open a Stream. tls: "implicit" (handshake now), "starttls" or "plain" (upgrade later).
    Without cafile the board's bundle CAFILE is used."""
    if tls not in ("implicit", "starttls", "plain"):
        raise ValueError("tls must be implicit, starttls or plain")
    if cafile is None:
        cafile = CAFILE
    try:
        addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
        sock = socket.socket()
        try:  # IPPROTO_TCP=6, TCP_NODELAY=1 (Linux and lwIP): pipelined small writes go at once
            sock.setsockopt(6, 1, 1)
        except (OSError, TypeError, ValueError):
            pass
        sock.settimeout(timeout)
        sock.connect(addr)
    except OSError as e:
        if _is_timeout(e):
            raise Timeout("connect to %s:%s timed out" % (host, port))
        raise ConnectionLost("cannot connect to %s:%s: %s" % (host, port, why(e)))
    stream = Stream(sock, host, cafile, timeout)
    if tls == "implicit":
        stream.starttls(server_hostname or host)
    return stream

"""The CPython Stream: a TCP socket with TLS that verifies, for the core's Session.

Host-only twin of device/smtpmtm_board/net.py (same API). ``connect()`` opens a TCP
connection and, for ``tls="implicit"`` (port 465, RFC 8314 section 3.3),
does the TLS handshake at once; for ``"starttls"`` and ``"plain"`` it returns
a plaintext stream that ``starttls(server_hostname)`` upgrades in place after
the server's 220 (RFC 3207 section 4). Verification is always on:
CERT_REQUIRED, check_hostname, SNI = server_hostname (defaults to the host),
CA certificates from ``cafile`` (then only those) or else the system store. Verification failures
become ``TlsError`` with a code: tls-self-signed, tls-unknown-ca,
tls-expired, tls-hostname; a handshake the other end closes (EOF, reset) is
``ConnectionLost`` (transient: an MTA restarting, a link dropping); anything else in the
handshake is tls-handshake.

Stream API (the same as device/smtpmtm_board/net.py's): write(data), read(max_bytes, timeout_s) ->
bytes (b"" = closed, Timeout on timeout), ready(ms) (a read would not wait),
starttls(server_hostname), is_tls, close().

Example::

    s = connect("127.0.0.1", 2525, tls="starttls", cafile="ca.pem")
    s.read(512, 5)              # b"220 ..."
"""

import select
import socket
import ssl

from smtpmtm.errors import ConnectionLost, Timeout, TlsError

# OpenSSL X509_V_ERR_* codes -> our TLS error codes
_VERIFY_CODES = {
    18: "tls-self-signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "tls-unknown-ca",  # SELF_SIGNED_CERT_IN_CHAIN (an untrusted root)
    20: "tls-unknown-ca",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "tls-unknown-ca",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    2: "tls-unknown-ca",  # UNABLE_TO_GET_ISSUER_CERT
    10: "tls-expired",  # CERT_HAS_EXPIRED
    9: "tls-expired",  # CERT_NOT_YET_VALID (outside its validity period)
    62: "tls-hostname",  # HOSTNAME_MISMATCH
    64: "tls-hostname",  # IP_ADDRESS_MISMATCH
}


def tls_context(cafile=None):
    """A client SSLContext that verifies (CERT_REQUIRED + host name check)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    return ctx


def tls_error(exc, server_hostname):
    """Map an exception from the TLS handshake to a TlsError with a code, or to
    ConnectionLost (transient) when the other end closed the handshake."""
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError)):
        return ConnectionLost("connection lost during the TLS handshake with %s: %s" % (server_hostname, exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = _VERIFY_CODES.get(exc.verify_code, "tls-handshake")
        return TlsError(
            "TLS certificate check failed for %s: %s" % (server_hostname, exc.verify_message),
            code=code,
        )
    return TlsError("TLS handshake with %s failed: %s" % (server_hostname, exc), code="tls-handshake")


class Stream:
    """A connected socket (plain or TLS) with the Stream API."""

    def __init__(self, sock, host, cafile=None):
        self.sock = sock
        self.host = host
        self.cafile = cafile
        self.is_tls = False

    def starttls(self, server_hostname=None):
        """Upgrade in place; raises TlsError(code=...) when verification fails."""
        name = server_hostname or self.host
        ctx = tls_context(self.cafile)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=name)
        except socket.timeout:
            self.close()
            raise Timeout("TLS handshake with %s timed out" % name)
        except (ssl.SSLError, OSError) as e:
            self.close()
            raise tls_error(e, name)
        self.is_tls = True

    def write(self, data):
        if self.sock is None:
            raise ConnectionLost("write on a closed connection")
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise Timeout("write timed out")
        except OSError as e:
            raise ConnectionLost("connection lost while writing: %s" % e)

    def read(self, max_bytes, timeout_s=None):
        if self.sock is None:
            return b""
        try:
            self.sock.settimeout(timeout_s)
            data = self.sock.recv(max_bytes)
        except socket.timeout:
            raise Timeout("no reply within %s s" % timeout_s)
        except ssl.SSLError as e:
            raise ConnectionLost("TLS error while reading: %s" % e)
        except OSError as e:
            raise ConnectionLost("connection lost while reading: %s" % e)
        return data

    def ready(self, ms):
        """True once a read would not wait (bytes, the end, an error), waiting up to ms."""
        s = self.sock
        if s is None or (self.is_tls and s.pending()):  # bytes the TLS layer holds decrypted
            return True
        return bool(select.select([s], [], [], ms / 1000)[0])

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def connect(host, port, tls="starttls", cafile=None, server_hostname=None, timeout=30):
    """Open a Stream. tls: "implicit" (handshake now), "starttls" or "plain" (upgrade later)."""
    if tls not in ("implicit", "starttls", "plain"):
        raise ValueError("tls must be implicit, starttls or plain")
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        raise Timeout("connect to %s:%s timed out" % (host, port))
    except OSError as e:
        raise ConnectionLost("cannot connect to %s:%s: %s" % (host, port, e))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = Stream(sock, host, cafile)
    if tls == "implicit":
        stream.starttls(server_hostname or host)
    return stream

"""The Streams (host/net.py on CPython, device/smtpmtm_board/net.py on MicroPython) against the local server.

Host-only: needs real sockets, aiosmtpd and a test CA generated at test time.
Checks TLS verification on by default and each failure mapped to its code, on
both interpreters, the STARTTLS upgrade in place, timeouts and closed connections.
"""

import pytest

from host import mpy, net
from host.testca import CASES, EXPECTED_CODE
from servers import certs, mpy_script, smtp_server  # noqa: F401
from smtpmtm.errors import ConnectionLost, Timeout, TlsError


def _lines(stream, timeout=10):
    """Read one whole (possibly multi-line) reply."""
    buf = b""
    while True:
        buf += stream.read(4096, timeout)
        lines = buf.split(b"\r\n")
        for line in lines[:-1]:
            if line[3:4] == b" ":
                return buf
        if not buf:
            raise AssertionError("closed")


def _starttls(stream, name="127.0.0.1"):
    assert _lines(stream).startswith(b"220")
    stream.write(b"EHLO host\r\n")
    assert b"STARTTLS" in _lines(stream)
    stream.write(b"STARTTLS\r\n")
    assert _lines(stream).startswith(b"220")
    stream.starttls(name)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_implicit_tls_good_cert(smtp_server, certs, name):
    srv = smtp_server("implicit")
    s = net.connect("127.0.0.1", srv.port, tls="implicit", cafile=certs.ca, server_hostname=name)
    assert s.is_tls
    assert _lines(s).startswith(b"220 ")
    s.write(b"EHLO host\r\n")
    assert b"AUTH" in _lines(s)
    s.close()
    assert s.read(10, 1) == b""


def test_starttls_upgrade_in_place(smtp_server, certs):
    srv = smtp_server("starttls")
    s = net.connect("127.0.0.1", srv.port, tls="starttls", cafile=certs.ca)
    assert not s.is_tls
    _starttls(s)
    assert s.is_tls
    s.write(b"EHLO host\r\n")
    reply = _lines(s)
    assert b"AUTH" in reply and b"STARTTLS" not in reply
    s.close()


@pytest.mark.parametrize("case", sorted(EXPECTED_CODE))
@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_bad_certificate_fails_closed_with_its_code(smtp_server, certs, case, mode):
    srv = smtp_server(mode, cert_case=case)
    with pytest.raises(TlsError) as info:
        s = net.connect("127.0.0.1", srv.port, tls=mode, cafile=certs.ca, server_hostname="127.0.0.1")
        _starttls(s)
    assert info.value.code == EXPECTED_CODE[case]
    assert srv.leaked() == []


def test_verification_is_on_without_a_cafile(smtp_server):
    # The system store does not know the test CA: refused, not silently accepted.
    srv = smtp_server("implicit")
    with pytest.raises(TlsError) as info:
        net.connect("127.0.0.1", srv.port, tls="implicit")
    assert info.value.code == "tls-unknown-ca"


def test_read_timeout_and_refused_connection(smtp_server, certs):
    srv = smtp_server("plain", faults={"GREETING": "stall"})
    s = net.connect("127.0.0.1", srv.port, tls="plain")
    with pytest.raises(Timeout):
        s.read(100, 0.2)
    s.close()
    port = srv.port
    srv.stop()
    with pytest.raises(ConnectionLost):
        net.connect("127.0.0.1", port, tls="plain", timeout=5)


def test_dropped_connection_reads_empty(smtp_server):
    srv = smtp_server("plain", faults={"EHLO": "drop"})
    s = net.connect("127.0.0.1", srv.port, tls="plain")
    assert _lines(s).startswith(b"220")
    s.write(b"EHLO host\r\n")
    assert s.read(100, 5) == b""


def test_micropython_stream_maps_every_case(smtp_server, certs):
    targets, expect = [], []
    for case in CASES:
        for mode in ("implicit", "starttls"):
            srv = smtp_server(mode, cert_case=case)
            targets.append("%s:%d" % (mode, srv.port))
            expect.append(("ok", case) if case == "good" else ("TlsError", EXPECTED_CODE[case]))
    r = mpy.run(mpy_script("tls_probe.py"), [certs.ca, "127.0.0.1"] + targets, heap="64k", timeout=60)
    out = r.stdout.decode().splitlines()
    assert r.returncode == 0, r.stderr.decode()
    assert len(out) == len(expect), out
    for line, (kind, detail) in zip(out, expect):
        if kind == "ok":
            assert line.startswith("ok 2"), line
        else:
            assert line == "TlsError " + detail, (line, detail)


@pytest.mark.parametrize("pem", [None, b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                 b"no certificate here\n"], ids=["missing", "broken", "empty"])
def test_micropython_refuses_without_a_usable_ca(smtp_server, certs, tmp_path, pem):
    srv = smtp_server("implicit")
    path = tmp_path / "ca.pem"
    if pem is not None:
        path.write_bytes(pem)
    r = mpy.run(mpy_script("tls_probe.py"), [str(path), "localhost", "implicit:%d" % srv.port])
    assert r.stdout.decode().strip() == "TlsError tls-no-ca"
    assert srv.commands() == []


def test_micropython_timeout_drop_and_why_verification_is_forced(smtp_server, certs):
    stall = smtp_server("plain", faults={"GREETING": "stall"})
    drop = smtp_server("plain", faults={"EHLO": "drop"})
    bad = smtp_server("implicit", cert_case="self-signed")
    tls_stall = smtp_server("implicit", faults={"GREETING": "stall"})
    r = mpy.run(mpy_script("net_cases.py"),
                [stall.port, drop.port, bad.port, tls_stall.port, certs.ca], heap="64k")
    assert r.returncode == 0, (r.stdout + r.stderr).decode()
    assert r.stdout.decode().splitlines() == [
        "why host name not found (DNS) [errno -202] | host name not found (DNS) [errno -2] | "
        "connection refused: no server listens on that port (is it running? the right port?) [errno 111]",
        "stall Timeout", "drop closed", "noverify accepted", "tls-stall Timeout"]

"""A test certificate authority and server certificates, generated at test time.

Host-only (CPython, trustme + cryptography). ``make_certs(folder)`` writes PEM
files for a throw-away CA and one server certificate per TLS case the tests
and the reliability run need:

    good         issued by the test CA for 127.0.0.1 and localhost
    self-signed  a leaf for 127.0.0.1/localhost that signs itself
    unknown-ca   issued for 127.0.0.1/localhost by another, untrusted CA
    expired      issued by the test CA, valid only in the past
    wrong-host   issued by the test CA for other.example / 10.9.9.9

Each case is a (chain PEM, key PEM) pair; ``certs.ca`` is the CA file a client
trusts (``--cafile`` / ``cafile=``). ``load_or_make_certs(folder)`` reuses what an
earlier run wrote there (``host serve`` and ``host sim`` share .certs/ that way). Keys are RSA 2048 so every TLS stack we
drive (OpenSSL, MicroPython's mbedtls) takes them.

Example::

    certs = make_certs(tmp_path)
    ctx = certs.server_context("good")     # ssl.SSLContext for the server side
    stream = net.connect("127.0.0.1", port, tls="implicit", cafile=certs.ca)
"""

import datetime
import os
import ssl

import trustme

CASES = ("good", "self-signed", "unknown-ca", "expired", "wrong-host")
# The TLS error code a verifying client must report for each bad case.
EXPECTED_CODE = {
    "self-signed": "tls-self-signed",
    "unknown-ca": "tls-unknown-ca",
    "expired": "tls-expired",
    "wrong-host": "tls-hostname",
}
HOSTS = ("127.0.0.1", "localhost")


def _self_signed(cert_path, key_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )


class Certs:
    """Paths of the generated PEM files."""

    def __init__(self, folder):
        self.folder = folder
        self.ca = os.path.join(folder, "ca.pem")
        self.other_ca = os.path.join(folder, "other-ca.pem")
        self.pairs = {}

    def chain(self, case):
        return self.pairs[case][0]

    def key(self, case):
        return self.pairs[case][1]

    def server_context(self, case="good"):
        """An ssl.SSLContext for the server side presenting the case's certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        chain, key = self.pairs[case]
        ctx.load_cert_chain(chain, key)
        return ctx


def make_certs(folder):
    """Write the CA and every case's chain/key into ``folder``; return Certs."""
    os.makedirs(folder, exist_ok=True)
    certs = Certs(folder)
    rsa = trustme.KeyType.RSA
    ca = trustme.CA(key_type=rsa, organization_name="smtpmtm test CA")
    other = trustme.CA(key_type=rsa, organization_name="unknown CA")
    ca.cert_pem.write_to_path(certs.ca)
    other.cert_pem.write_to_path(certs.other_ca)
    now = datetime.datetime.now(datetime.timezone.utc)
    leaves = {
        "good": ca.issue_cert(*HOSTS, common_name="localhost", key_type=rsa),
        "unknown-ca": other.issue_cert(*HOSTS, common_name="localhost", key_type=rsa),
        "expired": ca.issue_cert(
            *HOSTS,
            common_name="localhost",
            not_before=now - datetime.timedelta(days=60),
            not_after=now - datetime.timedelta(days=30),
            key_type=rsa,
        ),
        "wrong-host": ca.issue_cert(
            "other.example", "10.9.9.9", common_name="other.example", key_type=rsa
        ),
    }
    for case, leaf in leaves.items():
        chain = os.path.join(folder, case + ".pem")
        key = os.path.join(folder, case + ".key")
        with open(chain, "wb") as f:
            for blob in leaf.cert_chain_pems:
                f.write(blob.bytes())
        leaf.private_key_pem.write_to_path(key)
        certs.pairs[case] = (chain, key)
    chain = os.path.join(folder, "self-signed.pem")
    key = os.path.join(folder, "self-signed.key")
    _self_signed(chain, key)
    certs.pairs["self-signed"] = (chain, key)
    return certs


def load_certs(folder):
    """The Certs an earlier make_certs(folder) wrote, or None if a file is missing or the
    good server certificate has expired (``python -m host serve`` keeps its CA across
    restarts, so a board's copy of ca.pem stays valid)."""
    from cryptography import x509

    certs = Certs(folder)
    names = [certs.ca, certs.other_ca]
    for case in CASES:
        certs.pairs[case] = (os.path.join(folder, case + ".pem"), os.path.join(folder, case + ".key"))
        names += list(certs.pairs[case])
    if not all(os.path.exists(n) for n in names):
        return None
    try:
        with open(certs.chain("good"), "rb") as f:
            leaf = x509.load_pem_x509_certificate(f.read())
    except ValueError:
        return None
    if leaf.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1):
        return None
    return certs


def load_or_make_certs(folder):
    """(Certs, made): the CA already in folder if it is usable, else a new one written there."""
    certs = load_certs(folder)
    if certs is not None:
        return certs, False
    return make_certs(folder), True


def attacks():
    """The TLS fail-closed cases: (name, server kwargs, client mode, server_name, code).

    Client mode "plain-strict" is a plaintext connection WITHOUT allow_plaintext.
    Used by tests/host/test_tls.py and host/reliability/r_tls.py.
    """
    out = [
        ("starttls-not-offered", {"mode": "plain"}, "starttls", "127.0.0.1", "tls-not-offered"),
        ("starttls-454", {"mode": "starttls", "faults": {"STARTTLS": "454 4.7.0 TLS not available"}},
         "starttls", "127.0.0.1", "tls-refused"),
        ("starttls-injection", {"mode": "starttls", "faults": {"STARTTLS": "inject"}},
         "starttls", "127.0.0.1", "tls-injection"),
        ("plaintext-not-allowed", {"mode": "plain"}, "plain-strict", "127.0.0.1", "tls-required"),
        ("implicit-tls-to-plaintext-server", {"mode": "plain"}, "implicit", "127.0.0.1",
         "tls-handshake"),
    ]
    for mode in ("starttls", "implicit"):
        for case in ("self-signed", "unknown-ca", "expired"):
            out.append(("%s-%s" % (mode, case), {"mode": mode, "cert_case": case}, mode,
                        "127.0.0.1", EXPECTED_CODE[case]))
        out.append(("%s-wrong-name" % mode, {"mode": mode, "cert_case": "wrong-host"}, mode,
                    "localhost", "tls-hostname"))
        out.append(("%s-wrong-ip" % mode, {"mode": mode, "cert_case": "wrong-host"}, mode,
                    "127.0.0.1", "tls-hostname"))
    return out


def client_mode(mode):
    """(client TLS mode, allow_plaintext) for an attacks() client mode."""
    return ("plain", False) if mode == "plain-strict" else (mode, None)


def attack_spec(port, mode, server_name, cafile, user, password, subject="secret"):
    """The spec tests/mpy/send_one.py sends for one attacks() case against 127.0.0.1:port."""
    cmode, allow = client_mode(mode)
    spec = {"host": "127.0.0.1", "port": port, "mode": cmode, "cafile": cafile,
            "server_name": server_name, "user": user, "password": password,
            "from": "pump@example.com", "to": ["ann@example.com"], "subject": subject,
            "text": "x", "timeout": 10}
    if allow is not None:
        spec["allow_plaintext"] = allow
    return spec

"""The board's CA bundle (host/cabundle.py, `make cabundle`): the roots the mail providers'
chains end at, taken from the pinned certifi, small enough for flash, and usable by the
board's TLS (device/smtpmtm_board/net.py on the MicroPython unix port parses every root of it).

Host-only: certifi + cryptography; the MicroPython probe connects to aiosmtpd with the bundle
(plus the local test CA, as the virtual board gets it) as its only CA file.
"""

import datetime
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import certs, mpy_script, smtp_server  # noqa: E402,F401
from host import cabundle, mpy  # noqa: E402


def _roots(pem):
    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x509.load_pem_x509_certificates(pem)


def test_every_provider_chain_ends_at_a_root_in_the_bundle():
    """Issue 10: Gmail (GTS), Microsoft 365, Yahoo, iCloud, Fastmail, Zoho, GMX, Let's Encrypt
    hosts, Amazon SES, SendGrid, Mailgun: the issuer at the top of each chain is in it."""
    from cryptography import x509

    pem, names = cabundle.build()
    have = {cabundle.subject_name(c): c for c in _roots(pem)}
    for provider in ("smtp.gmail.com", "office365", "yahoo", "icloud", "fastmail", "zoho", "gmx",
                     "let's encrypt", "amazon ses", "sendgrid", "mailgun"):
        assert any(provider in k.lower() for k in cabundle.PROVIDERS), provider
    for provider, roots in cabundle.PROVIDERS.items():
        for r in roots:
            assert r in have, (provider, r)
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)
    for name, c in have.items():
        assert c.issuer == c.subject, name  # roots only: a board trusts nothing in between
        assert c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, name
        assert c.not_valid_after_utc > soon, name
    assert sorted(have) == sorted(names) == cabundle.wanted()


def test_bundle_fits_a_small_flash_and_names_each_root(tmp_path):
    names, size = cabundle.write(str(tmp_path / "ca.pem"))
    assert size <= cabundle.MAX_BYTES, size
    text = (tmp_path / "ca.pem").read_text()
    for n in names:
        assert "# " + n + "\n-----BEGIN CERTIFICATE-----" in text, n


def test_the_board_loads_every_root_and_verifies_with_the_bundle(smtp_server, certs, tmp_path):
    """device/smtpmtm_board/net.py (mbedtls on the MicroPython unix port) parses all roots, RSA and ECC; with the
    local CA appended (as on the virtual board) the local server verifies; without it, it does not."""
    srv = smtp_server("implicit")
    both = str(tmp_path / "with_local.pem")
    cabundle.write(both, local_ca=certs.ca)
    alone = str(tmp_path / "providers.pem")
    cabundle.write(alone)
    r = mpy.run(mpy_script("tls_probe.py"), [both, "localhost", "implicit:%d" % srv.port])
    assert r.stdout.decode().startswith("ok 220"), r.stdout + r.stderr
    r = mpy.run(mpy_script("tls_probe.py"), [alone, "localhost", "implicit:%d" % srv.port])
    assert r.stdout.decode().strip() == "TlsError tls-unknown-ca", r.stdout + r.stderr

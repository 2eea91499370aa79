"""`make cabundle`: the CA bundle a board verifies mail servers with, chosen from certifi.

Host-only (CPython, certifi + cryptography). A board has no system trust store and
its flash is small, so instead of Mozilla's ~120 roots (about 220 KB) it gets the
roots the big mail providers' certificate chains end at (``PROVIDERS``: the
issuer name at the top of each server's chain, as its certificate chain names
it), taken from the pinned ``certifi`` package (Mozilla's list, maintained).
``make deploy`` and the virtual board put the result at /certs/ca.pem, the
default of device/smtpmtm_board/net.py and umail, so
``umail.SMTP('smtp.gmail.com', 587, username=..., password=...)`` verifies with
no extra line.

To add a root (your provider's chain ends elsewhere: ``openssl s_client
-starttls smtp -connect host:587 -showcerts`` shows the issuer of the last
certificate): add its common name to ``PROVIDERS`` (or pass ``--add NAME``)
and run ``make cabundle``; a root certifi does not carry can be appended as PEM
to build/ca.pem by hand.

Example::

    python -m host.cabundle --out build/ca.pem     # prints roots, size
"""

import argparse
import os
import sys

# mail submission host -> the root names its certificate chain ends at (RSA and ECC
# variants where the provider has both); a board trusts exactly the union
PROVIDERS = {
    "smtp.gmail.com (Google Trust Services)": ("GTS Root R1", "GTS Root R3", "GTS Root R4"),
    "smtp.office365.com, smtp-mail.outlook.com (Microsoft 365)": (
        "DigiCert Global Root G2", "Microsoft RSA Root Certificate Authority 2017",
        "Microsoft ECC Root Certificate Authority 2017"),
    "smtp.mail.yahoo.com (Yahoo)": ("DigiCert Global Root G2",),
    "smtp.mail.me.com (iCloud)": ("DigiCert Global Root G2",),
    "smtp.fastmail.com (Fastmail)": ("DigiCert Global Root G2", "DigiCert Global Root G3"),
    "smtp.zoho.com (Zoho)": ("USERTrust RSA Certification Authority", "USERTrust ECC Certification Authority"),
    "mail.gmx.net, smtp.web.de (GMX, WEB.DE)": ("T-TeleSec GlobalRoot Class 2", "Telekom Security TLS RSA Root 2023"),
    "Let's Encrypt-served hosts (mailbox.org, Migadu, self-hosted)": ("ISRG Root X1", "ISRG Root X2"),
    "email-smtp.<region>.amazonaws.com (Amazon SES)": (
        "Amazon Root CA 1", "Amazon Root CA 3", "Starfield Services Root Certificate Authority - G2"),
    "smtp.sendgrid.net (SendGrid)": ("Amazon Root CA 1", "ISRG Root X1"),
    "smtp.mailgun.org (Mailgun)": ("ISRG Root X1", "USERTrust RSA Certification Authority"),
    "Sectigo-issued hosts (many ISPs)": ("Sectigo Public Server Authentication Root R46",),
    "smtpout.secureserver.net (GoDaddy)": ("Go Daddy Root Certificate Authority - G2",
                                           "Starfield Root Certificate Authority - G2"),
}
MAX_BYTES = 48 * 1024  # what /certs/ca.pem may take of a small board's flash


def wanted(extra=()):
    """Every root name the bundle must hold, sorted."""
    names = set(extra)
    for roots in PROVIDERS.values():
        names.update(roots)
    return sorted(names)


def subject_name(cert):
    """A certificate's common name (or, without one, its organisational unit)."""
    from cryptography.x509.oid import NameOID

    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
        a = cert.subject.get_attributes_for_oid(oid)
        if a:
            return a[0].value
    return cert.subject.rfc4514_string()


def build(extra=()):
    """(PEM bytes, [root names]) from certifi; KeyError names a root certifi does not have."""
    import warnings

    import certifi
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    with open(certifi.where(), "rb") as f:
        data = f.read()
    with warnings.catch_warnings():  # one of Mozilla's old roots has a negative serial
        warnings.simplefilter("ignore")
        by_name = {}
        for c in x509.load_pem_x509_certificates(data):
            by_name.setdefault(subject_name(c), c)
    out = []
    names = wanted(extra)
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError("not in certifi %s: %s" % (certifi.__version__, ", ".join(missing)))
    for n in names:
        out.append(b"# " + n.encode() + b"\n" + by_name[n].public_bytes(serialization.Encoding.PEM))
    return b"".join(out), names


def write(path, extra=(), local_ca=None):
    """Write the bundle to path (plus the local test CA's PEM, for the virtual board)."""
    pem, names = build(extra)
    if local_ca:
        with open(local_ca, "rb") as f:
            pem += b"# smtpmtm local test CA (python -m host serve)\n" + f.read()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(pem)
    return names, len(pem)


def main(argv=None):
    import certifi

    ap = argparse.ArgumentParser(description="build the board's CA bundle from certifi")
    ap.add_argument("--out", default="build/ca.pem")
    ap.add_argument("--add", action="append", default=[], metavar="ROOT_NAME",
                    help="one more root by its common name, as certifi spells it")
    a = ap.parse_args(argv)
    names, size = write(a.out, a.add)
    print("%s: %d roots from certifi %s, %d bytes (limit %d)" % (a.out, len(names), certifi.__version__,
                                                               size, MAX_BYTES))
    for n in names:
        print("  " + n)
    return 0 if size <= MAX_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())

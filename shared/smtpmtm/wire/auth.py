"""SASL mechanisms for SMTP AUTH (RFC 4954): PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER.

Each mechanism is an object with ``name``, ``initial()`` (the initial response
as raw bytes, or None to wait for the first 334 challenge) and
``step(challenge)`` (raw challenge bytes in, raw response bytes out).  The
protocol client does the base64 on the wire (RFC 4954 section 4).

- PLAIN: RFC 4616 section 2, ``NUL authcid NUL passwd`` (no authzid).
- LOGIN: draft-murchison-sasl-login, user then password on two challenges.
- CRAM-MD5: RFC 2195, ``user SP hex(HMAC-MD5(password, challenge))``; HMAC
  (RFC 2104) is written here because MicroPython has no ``hmac`` module.
- XOAUTH2 (Google/Microsoft): ``user=U^Aauth=Bearer T^A^A``; on an error
  challenge the client answers an empty line and gets the final 5xx.
- OAUTHBEARER: RFC 7628 section 3.1, GS2 header then the same key/values.

Every mechanism is made with ``(user, secret)``: the password, or for XOAUTH2 and
OAUTHBEARER the access token. ``choose(offered, secure, user, password, token,
wanted)`` picks the best mechanism the server offers.

Example::

    m = choose(["PLAIN", "LOGIN"], True, "ann", "secret")
    m.name, m.initial()        # -> "PLAIN", b"\\x00ann\\x00secret"
"""

import binascii
import hashlib

from ..errors import InputError


def _b(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def hmac_md5(key, msg):
    """HMAC-MD5 (RFC 2104) from hashlib.md5 alone."""
    key = _b(key)
    if len(key) > 64:
        key = hashlib.md5(key).digest()
    key = key + bytes(64 - len(key))
    inner = hashlib.md5(bytes(k ^ 0x36 for k in key))
    inner.update(_b(msg))
    outer = hashlib.md5(bytes(k ^ 0x5C for k in key))
    outer.update(inner.digest())
    return outer.digest()


class _Mechanism:
    """The user name and the secret (password or token) as bytes; no initial response."""

    def __init__(self, user, secret):
        self.user = _b(user)
        self.secret = _b(secret)
        self.n = 0  # challenges answered

    def initial(self):
        return None


class Plain(_Mechanism):
    name = "PLAIN"

    def initial(self):
        # RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd (no authzid)
        return b"\0" + self.user + b"\0" + self.secret

    def step(self, challenge):
        return b"" if challenge else self.initial()


class Login(_Mechanism):
    name = "LOGIN"

    def step(self, challenge):
        self.n += 1
        c = challenge.lower()
        if c.startswith(b"user"):
            return self.user
        if c.startswith(b"pass") or self.n > 1:
            return self.secret
        return self.user


class CramMd5(_Mechanism):
    name = "CRAM-MD5"

    def step(self, challenge):
        # RFC 2195 2: the response is the user name, a space, and the hex digest
        return self.user + b" " + binascii.hexlify(hmac_md5(self.secret, challenge))


class XOAuth2(_Mechanism):
    name = "XOAUTH2"

    def initial(self):
        return b"user=" + self.user + b"\x01auth=Bearer " + self.secret + b"\x01\x01"

    def step(self, challenge):
        return b""  # an error challenge (JSON); an empty answer gets the final reply


class OAuthBearer(_Mechanism):
    name = "OAUTHBEARER"

    def initial(self):
        # RFC 7628 3.1: gs2-header "n,a=user," then kvpairs
        return (b"n,a=" + self.user.replace(b"=", b"=3D").replace(b",", b"=2C") + b",\x01auth=Bearer "
                + self.secret + b"\x01\x01")

    def step(self, challenge):
        return b"\x01"  # RFC 7628 3.2.3: a failed client answers %x01


_TOKEN = ("XOAUTH2", "OAUTHBEARER")
_MECHANISMS = {"PLAIN": Plain, "LOGIN": Login, "CRAM-MD5": CramMd5, "XOAUTH2": XOAuth2,
               "OAUTHBEARER": OAuthBearer}


def choose(offered, secure, user, password=None, token=None, wanted=None):
    """The mechanism to use: the first of ``wanted`` (or our order) the server offers."""
    offered = [m.upper() for m in (offered or ())]
    if wanted:
        order = [m.upper() for m in wanted]
    elif token is not None:
        order = _TOKEN
    elif secure:
        order = ("PLAIN", "LOGIN", "CRAM-MD5")  # over TLS: simple and widely enabled
    else:
        order = ("CRAM-MD5", "PLAIN", "LOGIN")  # no TLS (only if allowed): hide the password
    for name in order:
        secret = token if name in _TOKEN else password
        if name in offered and secret is not None:
            cls = _MECHANISMS.get(name)
            if cls is None:
                raise InputError("unknown AUTH mechanism %s" % name, "auth-mechanism")
            return cls(user, secret)
    raise InputError("no usable AUTH mechanism: server offers %s, we can use %s"
                     % (" ".join(offered) or "none", " ".join(order)), "auth-not-offered")

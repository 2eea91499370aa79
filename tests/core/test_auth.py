"""SASL mechanisms: exact bytes (RFC 4616, RFC 2195 vector, XOAUTH2, RFC 7628), HMAC-MD5 (RFC 2104), choice."""

import binascii

from smtpmtm.wire import auth
from smtpmtm.errors import InputError
from portable import needs_md5, raises


def b64(b):
    return binascii.b2a_base64(b, newline=False)


def test_plain_rfc4616():
    m = auth.Plain("tim", "tanstaaftanstaaf")
    assert m.initial() == b"\0tim\0tanstaaftanstaaf"
    assert b64(m.initial()) == b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    assert auth.Plain("Ursel", "kurt\xe4").initial() == b"\0Ursel\0kurt\xc3\xa4"


def test_login():
    m = auth.Login("ann", "pw")
    assert m.initial() is None
    assert m.step(b"Username:") == b"ann"
    assert m.step(b"Password:") == b"pw"


@needs_md5
def test_hmac_md5_rfc2104_vectors():
    h = binascii.hexlify
    assert h(auth.hmac_md5(b"\x0b" * 16, b"Hi There")) == b"9294727a3638bb1c13f48ef8158bfc9d"
    assert h(auth.hmac_md5(b"Jefe", b"what do ya want for nothing?")) == b"750c783e6ab0b503eaa86e310a5db738"
    # RFC 2202 case 6: a key longer than the block is hashed first
    assert h(auth.hmac_md5(b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First")) == \
        b"6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"


@needs_md5
def test_cram_md5_rfc2195_vector():
    m = auth.CramMd5("tim", "tanstaaftanstaaf")
    assert m.initial() is None
    resp = m.step(b"<1896.697170952@postoffice.reston.mci.net>")
    assert resp == b"tim b913a602c7eda7a495b4e6e7334d3890"
    assert b64(resp) == b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"


def test_xoauth2_and_oauthbearer():
    m = auth.XOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    assert m.initial() == (b"user=someuser@example.com\x01auth=Bearer "
                           b"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01")
    assert m.step(b'{"status":"401"}') == b""
    o = auth.OAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==")
    # RFC 7628 4.1 example
    assert o.initial() == (b"n,a=user@example.com,\x01auth=Bearer "
                           b"vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01")


def test_choose():
    assert auth.choose(["LOGIN", "PLAIN", "CRAM-MD5"], True, "u", "p").name == "PLAIN"
    assert auth.choose(["LOGIN", "PLAIN", "CRAM-MD5"], False, "u", "p").name == "CRAM-MD5"
    assert auth.choose(["LOGIN"], True, "u", "p").name == "LOGIN"
    assert auth.choose(["PLAIN", "XOAUTH2"], True, "u", token="t").name == "XOAUTH2"
    assert auth.choose(["PLAIN", "LOGIN"], True, "u", "p", wanted=["login"]).name == "LOGIN"
    e = raises(InputError, auth.choose, ["GSSAPI"], True, "u", "p")
    assert e.code == "auth-not-offered"
    raises(InputError, auth.choose, None, True, "u", "p")
    raises(InputError, auth.choose, ["XOAUTH2"], True, "u", "p")  # no token given

"""TLS fails closed, on both interpreters: not one byte of AUTH or MAIL reaches the server.

Host-only: real TLS handshakes against host/server.py with certificates made at
test time. For every case of host.testca.attacks() (STARTTLS not offered, 454,
plaintext injected after 220, self-signed, unknown CA, expired, wrong host name,
wrong IP — over STARTTLS and implicit TLS —, plaintext without
allow_plaintext, and implicit TLS to a server that speaks plaintext) the send fails with a TlsError whose code names the case, and
the server's log of every received line holds no AUTH, MAIL, RCPT, DATA or BDAT
line and not the password. A control case proves the log check can fail.
"""

import json

import pytest

from host import mpy
from host.cli_send import deliver, make_message
from host.testca import attack_spec, attacks, client_mode
from servers import PASSWORD, USER, certs, mpy_path, mpy_script, smtp_server  # noqa: F401
from smtpmtm.errors import TlsError

ATTACKS = attacks()
BUDGET = "--budget=65536"  # 64 KiB free heap after the code is loaded as if frozen


def _message():
    return make_message("pump@example.com", ["ann@example.com"], subject="secret", body="x")


def _no_leak(srv):
    assert srv.leaked() == []
    assert not any(PASSWORD.encode() in line for line in srv.commands())


@pytest.mark.parametrize("name,server,mode,server_name,code", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_cpython_fails_closed(smtp_server, certs, name, server, mode, server_name, code):
    srv = smtp_server(**server)
    mode, allow = client_mode(mode)
    with pytest.raises(TlsError) as info:
        deliver("127.0.0.1", srv.port, mode, _message(), cafile=certs.ca, user=USER,
                password=PASSWORD, server_name=server_name, timeout=10, allow_plaintext=allow)
    assert info.value.code == code, str(info.value)
    _no_leak(srv)


def test_control_the_leak_check_sees_auth_and_mail(smtp_server, certs):
    srv = smtp_server("starttls")
    deliver("127.0.0.1", srv.port, "starttls", _message(), cafile=certs.ca, user=USER,
            password=PASSWORD, timeout=10)
    verbs = {line.split()[0].upper() for line in srv.leaked()}
    assert {b"AUTH", b"MAIL", b"RCPT"} <= verbs


def test_plaintext_works_only_when_allowed(smtp_server, certs):
    srv = smtp_server("plain")
    r = deliver("127.0.0.1", srv.port, "plain", _message(), user=USER, password=PASSWORD, timeout=10)
    assert r["reply"][0] == 250
    assert srv.wait_messages(1)[0].tls is False


def test_micropython_fails_closed(smtp_server, certs, tmp_path, mpy_path):
    specs, servers = [], []
    for name, server, mode, server_name, code in ATTACKS:
        srv = smtp_server(**server)
        servers.append(srv)
        specs.append(attack_spec(srv.port, mode, server_name, certs.ca, USER, PASSWORD))
    p = tmp_path / "specs.json"
    p.write_text(json.dumps(specs))
    r = mpy.run(mpy_script("send_one.py"), [str(p), BUDGET], heap="2m", path=mpy_path, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    outs = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
    assert len(outs) == len(ATTACKS)
    for (name, _, _, _, code), out, srv in zip(ATTACKS, outs, servers):
        assert out.get("error") == "TlsError" and out.get("code") == code, (name, out)
        _no_leak(srv)

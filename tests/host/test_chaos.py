"""The short cases of `make chaos` (host/chaos.py): a brown-out and a portal against a real Postfix.

Brown-out: one virtual board queues five messages, one with a 120-150 KB attachment; the
board is SIGKILLed each time the link is inside that message's transfer, three
times (its max_attempts). Every other message must arrive intact, once, and
the big one must end failed with the reason "interrupted 3 times". Portal: one
board queues six messages while its network intercepts TLS for two seeded spells
(host/portal.py); all six must arrive, none fail, and the portal must have recorded
no byte the board should not have sent it. Skipped,
with the reason, when Postfix cannot be had (not installed and not root).
"""

import socket
import ssl

import pytest

from host import chaos
from host.postfix import Postfix, ensure_installed

WHY = ensure_installed(apt=False)  # .ci/run installs it; `make chaos` too, when root
pytestmark = pytest.mark.skipif(WHY is not None, reason="chaos: %s" % WHY)


def test_postfix_instance_refuses_bare_lf_and_wants_tls_before_auth(tmp_path):
    from host.testca import make_certs

    certs = make_certs(str(tmp_path / "certs"))
    with Postfix(str(tmp_path / "pf"), certs, users={"pump": "pw"}) as mta:
        s = socket.create_connection(("127.0.0.1", mta.port), timeout=10)
        f = s.makefile("rb")

        def cmd(line):
            s.sendall(line)
            while True:
                r = f.readline()
                if r[3:4] != b"-":
                    return r

        assert f.readline().startswith(b"220")
        cmd(b"EHLO x\r\n")
        assert cmd(b"AUTH PLAIN AHB1bXAAcHc=\r\n").startswith(b"5")  # no AUTH before STARTTLS
        assert cmd(b"STARTTLS\r\n").startswith(b"220")
        t = ssl.create_default_context(cafile=certs.ca).wrap_socket(s, server_hostname="localhost")
        f = t.makefile("rb")
        s = t
        cmd(b"EHLO x\r\n")
        assert cmd(b"AUTH PLAIN AHB1bXAAcHc=\r\n").startswith(b"235")
        assert cmd(b"MAIL FROM:<pump@example.com>\r\n").startswith(b"250")
        assert cmd(b"RCPT TO:<ann@example.com>\r\n").startswith(b"250")
        assert cmd(b"DATA\r\n").startswith(b"354")
        reply = cmd(b"Subject: bare\nMessage-ID: <lf@x>\n\nline with a bare LF\r\n.\r\n")
        assert reply.startswith(b"550"), reply  # smtpd_forbid_bare_newline
        t.close()


def test_brownout_others_all_delivered_big_one_fails_with_its_reason():
    f = chaos.scenario("brownout", seed=3, short=True)
    assert (f["lost"], f["corrupted"], f["dup_other_id"], f["stuck"]) == (0, 0, 0, 0), f
    assert f["delivered_others"] == f["others"] == 4, f
    assert f["big_failed"] and f["failed"] == 1, f
    assert "interrupted 3 times (3 attempts, max_attempts 3)" in f["reasons"][0], f


def test_portal_nothing_went_through_the_interceptor_and_nothing_failed():
    from host.portal import CLIENT_CODE

    f = chaos.scenario("portal", seed=1, short=True)
    assert f["leaks"] == [], f  # no byte past EHLO/STARTTLS/QUIT in the clear, none through its TLS
    assert (f["failed"], f["lost"], f["corrupted"], f["dup_other_id"], f["stuck"]) == (0, 0, 0, 0, 0), f
    assert f["delivered"] == f["queued"] == 6, f
    assert f["portal_met"], f  # the board did meet the portal: something was probed
    # the board stopped every time for the reason the portal gave it, and logged it
    assert f["tls_refusals"] and set(f["tls_refusals"]) <= set(CLIENT_CODE[m] for m in f["portal_met"]), f


def test_an_unknown_argument_prints_the_usage_instead_of_running_every_scenario(capsys):
    # `python -m host.chaos --help` ran every scenario (minutes): anything not a scenario or
    # --seed N is refused before a board starts
    for argv in (["--help"], ["--seed", "x"], ["crash", "flakey"]):
        assert chaos.main(argv) == 2, argv
        assert "usage: python -m host.chaos [crash flaky mta boards brownout portal ...] [--seed N]" \
            in capsys.readouterr().err, argv


def test_a_refusal_no_portal_mode_explains_is_counted():
    # the full scenario printed the boards' refusal codes but only the short test compared them
    # with the modes the portal met: a board refusing for the wrong reason passed `make chaos`
    base = {"lost": 0, "corrupted": 0, "dup_other_id": 0, "dup_same_id": 0, "stuck": 0, "failed": 0,
            "queued": 3, "delivered": 3, "cuts": 0, "resets": 1, "restarts": 0, "drain_s": 9,
            "leaks": [], "attempts_max": 2, "portal_met": {"strip": 1, "unknown-ca": 2}}
    ok = dict(base, tls_refusals={"tls-not-offered": 1, "tls-unknown-ca": 2})
    assert chaos.totals({"portal": ok})["portal_refusals_unexplained"] == 0
    odd = dict(base, tls_refusals={"tls-not-offered": 1, "tls-hostname": 2})
    assert chaos.totals({"portal": odd})["portal_refusals_unexplained"] == 2

"""The send engine against the real local server: the RFC 5321 outcome table and drops in DATA.

Host-only: aiosmtpd (host/server.py) with STARTTLS + AUTH, CPython sockets/ssl, and the
threaded simulated link (host/simlink.py). The engine itself is the same core that the
tests/core/test_sender*.py cases run on MicroPython against an in-memory server.
"""

import os

import pytest

from host.reliability import r_sender as R
from host.reliability import r_tls
from host.testca import attacks
from host.server import SmtpServer
from host.simlink import SimLink

_ENV = []


def env():
    if not _ENV:
        _ENV.append(R.Env())
    return _ENV[0]


def teardown_module(module):
    for e in _ENV:
        e.close()


@pytest.mark.parametrize("stage", R.STAGES)
@pytest.mark.parametrize("action", R.ACTIONS)
def test_outcome(stage, action):
    problems = R.run_case(env(), stage, action)
    assert problems == []


@pytest.mark.parametrize("stage", R.STAGES)
@pytest.mark.parametrize("action", ["4xx", "5xx", "drop"])
def test_outcome_on_micropython(stage, action):
    """A representative part of the table run by MicroPython with device/smtpmtm_board/net.py
    (`make reliability` runs all 54 cases there)."""
    problems = R.run_case(env(), stage, action, R.MpyRunner)
    assert problems == []


@pytest.mark.parametrize("runner", [R.LocalRunner, R.MpyRunner], ids=["cpython", "micropython"])
@pytest.mark.parametrize("case", attacks(), ids=[c[0] for c in attacks()])
def test_a_tls_failure_leaves_the_outbox_waiting(case, runner):
    """Real TLS failures (test CA: self-signed, unknown CA, expired, wrong name or IP;
    STARTTLS stripped, 454, injected; implicit TLS to a plaintext server) through the
    engine: nothing of AUTH or MAIL reaches the server, both messages wait for their retry
    time with the TLS code noted (plaintext not allowed: failed at once), and a good
    server after the retry time gets each exactly once."""
    problems, leaked = r_tls.engine_case(env(), case, runner)
    assert problems == [] and not leaked


def test_expectations_cover_the_table():
    states = {R.expected(s, a) for s in R.STAGES for a in R.ACTIONS}
    assert ("uncertain", "sent") in states and ("failed", "sent") in states
    assert ("failed", "failed") in states and ("waiting", "sent") in states


@pytest.mark.parametrize("offset", [0, 1, 50, 400, 1500, 2990, 3010])
def test_drop_inside_data_never_loses_or_silently_doubles(offset):
    from smtpmtm.store import entry as E

    e = env()
    e.n += 1
    with SmtpServer(mode="plain", chunking=False) as srv:
        with SimLink(("127.0.0.1", srv.port), plan=[{"drop_at": (b"DATA\r\n", offset)}]) as link:
            st, s, off = R._sender_parts(e, link.port, os.path.join(e.tmp, "d%d" % e.n),
                                         starttls=False)
            body = b"".join(b"line %04d of the log\r\n" % i for i in range(130))  # ~3 KB
            m1, id1 = R.queue(st, 1, [R.ANN], text=body)
            r = s.send_all()
            state = E.SEND_STATE_NAMES[st.get(m1).sending_state]
            assert state in ("waiting", "uncertain"), r
            assert r["error"] in ("connection-lost", "timeout")
            assert srv.messages == []  # the server never saw the end of the data
            off[0] += 10 ** 5
            r = s.send_all()
            assert r["sent"] == [m1] and link.connections == 2
            got = srv.wait_messages(1)
            assert len(got) == 1 and ("Message-ID: " + id1).encode() in got[0].data
            assert got[0].data.endswith(body)

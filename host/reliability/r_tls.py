"""`make reliability` section: every TLS attack case on both interpreters; leaks must be 0.

The cases are host.testca.attacks(): STARTTLS not offered, answered 454, plaintext
injected after "220", self-signed, unknown CA, expired, wrong host name and wrong
IP (over STARTTLS and over implicit TLS), a plaintext session without
allow_plaintext, and implicit TLS to a plaintext server. Each is run from CPython (host/net.py) and from MicroPython
(device/smtpmtm_board/net.py, tests/mpy/send_one.py) against host/server.py with a fresh test CA.
A case fails if the send does not raise TlsError with the expected code; it
leaks if any AUTH/MAIL/RCPT/DATA/BDAT line or the password reached the server.

The same cases also go through the send engine (``engine_case``: Sender with an
Outbox of two messages, host/reliability/r_sender.py's runners, CPython and
MicroPython): nothing leaks, and every message waits for its retry time with the
attempt counted and the TLS code noted for show(id) (the code is transient in
errors.CODES: the network path, the server or the clock), except tls-required
(the account's own settings), which fails them at once; then the clock passes the
retry time and a good server on another port gets each message exactly once.
"""

import json
import os
import sys
import tempfile

from host import mpy
from host.mpytable import compile_all

if os.path.join(mpy.ROOT, "shared") not in sys.path:
    sys.path.insert(0, os.path.join(mpy.ROOT, "shared"))

USER, PASSWORD = "ann", "s3cret-pw"
BUDGET = "--budget=65536"  # 64 KiB free after the code is loaded as if frozen


def _leaked(srv):
    return bool(srv.leaked()) or any(PASSWORD.encode() in l for l in srv.commands())


def engine_want(code):
    """The state a case leaves each queued message in: only the account's own settings
    (plaintext not allowed) fail them; what the network path or the clock causes waits."""
    return "failed" if code == "tls-required" else "waiting"


def engine_case(env, case, runner):
    """One attacks() case through the send engine; returns a list of problems (empty = pass)
    and whether anything leaked."""
    from host.reliability import r_sender as R
    from host.server import SmtpServer
    from host.testca import client_mode

    name, server, mode, server_name, code = case
    env.n += 1
    want = engine_want(code)
    probs = []
    tls = {"mode": client_mode(mode)[0], "tls_domain": server_name, "login": USER,
           "password": PASSWORD}
    with SmtpServer(certs=env.certs, users={USER: PASSWORD}, **server) as srv:
        run = runner(env, srv.port, tls)
        obs, (id1, id2) = run.first([R.ANN], [R.BOB])
        got = (obs["states"], obs["attempts"], obs["why"], obs["error"])
        if got != ([want] * 2, [1, 1], [code] * 2, code):
            probs.append("%s: states, attempts, noted error, error %r; want %s, 1, %s"
                         % (name, got, want, code))
        leaked = _leaked(srv)
    # the network is fine again (a real clock, no portal): a good server in the same mode
    good_mode = tls["mode"] if tls["mode"] != "plain" else "starttls"
    with SmtpServer(mode=good_mode, certs=env.certs, users={USER: PASSWORD}) as good:
        run.to_port(good.port)
        obs = run.retry()
        final = "failed" if want == "failed" else "sent"
        if obs["states"] != [final] * 2:
            probs.append("%s: after the retry time %s" % (name, obs["states"]))
        for mid in (id1, id2):
            n = sum(1 for x in good.messages if ("Message-ID: " + mid).encode() in x.data)
            if n != (final == "sent"):
                probs.append("%s: %s delivered %d times" % (name, mid, n))
    return probs, leaked


def engine_rows(certs):
    """The engine cases on both interpreters: (rows, figures)."""
    from host.reliability import r_sender as R
    from host.testca import attacks

    env = R.Env(certs)
    rows, figs = [], {}
    try:
        for interp, runner in (("cpython", R.LocalRunner), ("micropython", R.MpyRunner)):
            probs, leaks = [], 0
            for case in attacks():
                p, leaked = engine_case(env, case, runner)
                probs += p
                leaks += leaked
            rows.append({"suite": "tls attacks through the send engine (%s): 2 messages wait, "
                                  "then go; tls-required fails them" % interp,
                         "cases": len(attacks()), "failures": len(probs) + leaks,
                         "notes": "; ".join(probs[:3]) or "every case as wanted, nothing leaked"})
            figs["tls_engine_failures_" + interp] = len(probs) + leaks
    finally:
        env.close()
    return rows, figs


def run(argv):
    from host.cli_send import deliver, make_message
    from host.server import SmtpServer
    from host.testca import attack_spec, attacks, client_mode, make_certs
    from smtpmtm.errors import SmtpMtmError

    cases = attacks()
    rows, fails, leaks, notes = [], {"cpython": [], "micropython": []}, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certs(os.path.join(tmp, "certs"))
        build = os.path.join(tmp, "mpy")  # shared/ and device/ as .mpy: a board runs compiled code
        compile_all(None, build)
        servers = []
        try:
            # CPython
            for name, server, mode, server_name, code in cases:
                srv = SmtpServer(certs=certs, users={USER: PASSWORD}, **server).start()
                servers.append(srv)
                cmode, allow = client_mode(mode)
                msg = make_message("pump@example.com", ["ann@example.com"], subject="s", body="x")
                got = None
                try:
                    deliver("127.0.0.1", srv.port, cmode, msg, cafile=certs.ca, user=USER,
                            password=PASSWORD, server_name=server_name, timeout=10,
                            allow_plaintext=allow)
                except SmtpMtmError as e:
                    got = e.code
                if got != code:
                    fails["cpython"].append("%s: %s" % (name, got))
                if _leaked(srv):
                    leaks += 1
                    notes.append("cpython %s leaked" % name)
                srv.stop()
            # MicroPython: all cases in one process
            specs, mservers = [], []
            for name, server, mode, server_name, code in cases:
                srv = SmtpServer(certs=certs, users={USER: PASSWORD}, **server).start()
                servers.append(srv)
                mservers.append(srv)
                specs.append(attack_spec(srv.port, mode, server_name, certs.ca, USER, PASSWORD,
                                         subject="s"))
            path = os.path.join(tmp, "specs.json")
            with open(path, "w") as f:
                json.dump(specs, f)
            r = mpy.run(os.path.join(mpy.ROOT, "tests", "mpy", "send_one.py"), [path, BUDGET],
                        heap="2m", path=(build,), timeout=300)
            outs = [json.loads(l) for l in r.stdout.decode().splitlines() if l.startswith("{")]
            outs += [{}] * (len(cases) - len(outs))
            for (name, _, _, _, code), out, srv in zip(cases, outs, mservers):
                if out.get("code") != code:
                    fails["micropython"].append("%s: %s" % (name, out.get("code")))
                if _leaked(srv):
                    leaks += 1
                    notes.append("micropython %s leaked" % name)
        finally:
            for srv in servers:
                srv.stop()
    for interp in ("cpython", "micropython"):
        rows.append({"suite": "tls attacks (%s)" % interp, "cases": len(cases),
                     "failures": len(fails[interp]),
                     "notes": "; ".join(fails[interp]) or "every case refused with its code"})
    rows.append({"suite": "tls attacks: AUTH/MAIL bytes or password reaching the server",
                 "cases": 2 * len(cases), "failures": leaks, "notes": "; ".join(notes) or "none"})
    figs = {"tls_attack_cases": 2 * len(cases), "tls_attack_leaks": leaks,
            "tls_attack_wrong_code": len(fails["cpython"]) + len(fails["micropython"])}
    with tempfile.TemporaryDirectory() as tmp:
        erows, efigs = engine_rows(make_certs(os.path.join(tmp, "certs")))
    rows += erows
    figs.update(efigs)
    return rows, figs

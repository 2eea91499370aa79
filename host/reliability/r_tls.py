"""`make reliability` section: every TLS attack case on both interpreters; leaks must be 0.

The cases are host.testca.attacks(): STARTTLS not offered, answered 454, plaintext
injected after "220", self-signed, unknown CA, expired, wrong host name and wrong
IP (over STARTTLS and over implicit TLS), a plaintext session without
allow_plaintext, and implicit TLS to a plaintext server. Each is run from CPython (host/net.py) and from MicroPython
(device/smtpmtm_board/net.py, tests/mpy/send_one.py) against host/server.py with a fresh test CA.
A case fails if the send does not raise TlsError with the expected code; it
leaks if any AUTH/MAIL/RCPT/DATA/BDAT line or the password reached the server.
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
    return rows, figs

"""Reliability of the send engine: the RFC 5321 outcome table and power cuts during a send.

Host-only (aiosmtpd server, TLS, the MicroPython power-cut device in a subprocess).

Outcome table: each of GREETING, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, BDAT and the
final DOT answered with 2xx, 4xx, 5xx, 421, a dropped connection or a stall (the
Session's deadline fires; timeouts are set to 1 s, no sleeps; BDAT = the reply to
BDAT LAST on a CHUNKING server), against the local
aiosmtpd server (host/server.py, STARTTLS + AUTH). Two messages are queued (the
first to ann + bob, the fault hits ann's RCPT); each case checks the state of both
messages, entry.error, the per-recipient results, the progress counters, then
clears the fault, lets the clock pass the retry time and sends again: every message
not permanently failed must end sent, each Message-ID delivered once unless the
first copy was marked uncertain.

The same table runs twice: in this process (host/net.py) and on MicroPython
(tests/mpy/sender_case.py with device/smtpmtm_board/net.py, one subprocess per phase).

Power cut: tests/mpy/sender_powercut.py (MicroPython, littlefs on blockdev.CutDevice)
cuts at every block write of a send of three messages, recovers and re-sends.

``python -m host.reliability sender`` prints the rows and merges outcome_cases,
outcome_failures, sender_powercut_points, sender_powercut_failures,
sender_duplicates_without_same_message_id into .bench/reliability.json.
"""

import json
import os
import shutil
import sys
import tempfile
import time

from host import mpy

if os.path.join(mpy.ROOT, "shared") not in sys.path:  # the core, as host/__main__.py does
    sys.path.insert(0, os.path.join(mpy.ROOT, "shared"))

from host import net  # noqa: E402  (needs the core on the path)
from host.server import SmtpServer
from host.testca import make_certs

STAGES = ("GREETING", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "DOT")
ACTIONS = ("2xx", "4xx", "5xx", "421", "drop", "stall")
CONNECT_STAGES = ("GREETING", "EHLO", "STARTTLS", "AUTH")
_REPLIES = {
    "4xx": {"STARTTLS": "454 4.7.0 TLS not available now", "AUTH": "454 4.7.0 try again later"},
    "5xx": {"RCPT": "550 5.1.1 no such user", "AUTH": "535 5.7.8 bad credentials",
            "STARTTLS": "501 5.5.4 no"},
}
_DEFAULT = {"2xx": "250 2.0.0 fine", "4xx": "451 4.3.0 try later", "5xx": "554 5.3.0 refused",
            "421": "421 4.3.2 closing"}
ANN, BOB, CARL = "ann@example.com", "bob@example.com", "carl@example.com"


def action_text(stage, action):
    if action in ("drop", "stall"):
        return action
    if action == "2xx":
        return "220 smtp.test fine" if stage == "GREETING" else "250 2.0.0 fine"
    return _REPLIES.get(action, {}).get(stage, _DEFAULT[action])


def expected(stage, action):
    """(state of message 1, state of message 2) after the faulty run.

    Message 2 is always sent once the session was open: the fault is a single
    occurrence, and when it killed the session the job opens one fresh session.
    """
    if action == "2xx":
        return "sent", "sent"
    if stage in CONNECT_STAGES:
        return ("failed", "failed") if action == "5xx" else ("waiting", "waiting")
    if stage == "RCPT":  # the fault hits ann only; bob still gets message 1
        if action == "5xx":
            return "sent", "sent"
        return "waiting", "sent"  # ann is retried later, alone
    if action == "5xx":
        return "failed", "sent"
    if stage in ("DOT", "BDAT") and action in ("drop", "stall"):
        return "uncertain", "sent"  # the final reply never came
    return "waiting", "sent"


class Env:
    """One certificate set and one server for many cases."""

    def __init__(self, certs=None):
        self.tmp = tempfile.mkdtemp(prefix="rsender")
        self.certs = certs or make_certs(os.path.join(self.tmp, "certs"))
        self.n = 0

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def _sender_parts(env, port, store_dir, starttls=True, connect=None, settings=None, **kw):
    from smtpmtm.outbox.sender import Sender
    from smtpmtm.settings import SmtpSettings
    from smtpmtm.store.tree import Store

    off = [0.0]

    def clock():
        return time.time() + off[0]

    d = dict(server="127.0.0.1", port=port, email_address="pump@example.com",
             alias="Pump House", starttls=starttls, auth=starttls, login="u",
             password="pw", cafile=env.certs.ca, allow_plaintext=not starttls,
             max_attempts=5, backoff_base_s=30, backoff_max_s=600)
    d.update(settings or {})
    cfg = SmtpSettings(**d)
    st = Store(store_dir)
    t = dict(greeting=1, command=1, mail=1, rcpt=1, data=1, block=1, dot=1)
    s = Sender(st, cfg, 0x100, connect or net.connect, clock, rand=lambda: 0.5, timeouts=t,
               connect_timeout=5, **kw)
    return st, s, off


def queue(st, n, to, subject="case", text=b"Pressure low\r\n", service=0x100):
    from smtpmtm.store import entry as E
    from smtpmtm.store import headpart as M

    h = M.new_header()
    h["to"] = [("", a) for a in to]
    h["subject"] = "%s %d" % (subject, n)
    h["message_id"] = "<case%d.%d@example.com>" % (n, int(time.time() * 1000) % 10 ** 9)
    h["date"] = 1732790000
    h["text"] = "text"
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=service, mtm=E.MTM_SMTP,
                description=h["subject"], details=to[0], sending_state=E.SEND_WAITING)
    return st.create(e, parts={"header": M.header_chunks(h), "text": [text]}), h["message_id"]


def observe(st, s, r, m1, m2):
    """What a case checks, as plain data (tests/mpy/sender_case.py prints the same)."""
    from smtpmtm.store import entry as E
    from smtpmtm.outbox import plan

    p = s.progress
    rc = plan.read_result(st, m1)["rcpt"]
    return {"states": [E.SEND_STATE_NAMES[st.get(m).sending_state] for m in (m1, m2)],
            "errors": [st.get(m).error for m in (m1, m2)],
            "attempts": [st.get(m).attempts for m in (m1, m2)],
            "why": [(plan.read_result(st, m)["error"] or [None])[0] for m in (m1, m2)],
            "progress": [p.sent, p.failed, p.not_sent, p.total, p.consistent()],
            "rcpt1": dict((a, rc[a][0]) for a in rc), "error": r.get("error")}


class LocalRunner:
    """Runs the engine in this process (CPython, host/net.py). ``tls`` (r_tls.py's engine
    cases): {"mode", "tls_domain", "login", "password"}, as tests/mpy/sender_case.py takes."""

    def __init__(self, env, port, tls=None):
        cfg = None
        if tls:
            mode = tls["mode"]
            cfg = dict(starttls=mode == "starttls", tls=mode == "implicit", auth=True,
                       allow_plaintext=False, tls_domain=tls["tls_domain"], login=tls["login"],
                       password=tls["password"])
        self.st, self.s, self.off = _sender_parts(env, port, os.path.join(env.tmp, "st%d" % env.n),
                                                  settings=cfg)

    def to_port(self, port):
        """The next phase connects to this port (another server)."""
        self.s.settings.port = port

    def first(self, to1, to2):
        self.m1, id1 = queue(self.st, 1, to1)
        self.m2, id2 = queue(self.st, 2, to2)
        r = self.s.send_all()
        return observe(self.st, self.s, r, self.m1, self.m2), (id1, id2)

    def retry(self):
        self.off[0] += 10 ** 5
        r = self.s.send_all()
        return observe(self.st, self.s, r, self.m1, self.m2)


class MpyRunner:
    """Runs tests/mpy/sender_case.py in the MicroPython unix port (device/smtpmtm_board/net.py)."""

    HEAP = "2m"  # sender_case.py loads the code first, then leaves the engine 64 KiB (tests/mpy/budget.py)

    def __init__(self, env, port, tls=None):
        self.spec = {"store": os.path.join(env.tmp, "mst%d" % env.n), "port": port,
                     "cafile": env.certs.ca, "n": env.n}
        self.spec.update(tls or {})
        self.path = os.path.join(env.tmp, "spec%d.json" % env.n)

    def to_port(self, port):
        self.spec["port"] = port

    def _run(self, phase):
        self.spec["phase"] = phase
        with open(self.path, "w") as f:
            json.dump(self.spec, f)
        script = os.path.join(mpy.ROOT, "tests", "mpy", "sender_case.py")
        proc = mpy.run(script, [self.path], heap=self.HEAP, path=("tests/mpy",), timeout=120)
        out = proc.stdout.decode("utf-8", "replace")
        for line in out.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError("sender_case.py: " + out[-2000:] + proc.stderr.decode()[-2000:])

    def first(self, to1, to2):
        self.spec["to"] = [to1, to2]
        obs = self._run("first")
        return obs, tuple(obs["ids"])

    def retry(self):
        return self._run("retry")


def run_case(env, stage, action, runner=LocalRunner):
    """Run one outcome case; returns a list of problems (empty = pass)."""
    env.n += 1
    key = "RCPT " + ANN if stage == "RCPT" else stage
    if stage == "BDAT":
        # the final reply of BDAT LAST (one flight with MAIL/RCPT for a small message);
        # host/server.py's "BDAT" fault answers without reading the chunk, so use "DOT"
        key = "DOT"
    faults = {key: [action_text(stage, action)]}
    chunking = stage == "BDAT"
    probs = []
    srv = SmtpServer(mode="starttls", certs=env.certs, users={"u": "pw"}, require_auth=True,
                     chunking=chunking, faults=faults, timeout=30)
    with srv:
        run = runner(env, srv.port)
        obs, (id1, id2) = run.first([ANN, BOB], [CARL])
        got = tuple(obs["states"])
        want = expected(stage, action)
        if got != want:
            probs.append("states %s, want %s (error %s)" % (got, want, obs["error"]))
        sent, failed, not_sent, total, ok = obs["progress"]
        if not ok or total != 2 or sent != list(got).count("sent"):
            probs.append("progress %r" % (obs["progress"],))
        if action in ("4xx", "5xx", "421") and stage != "RCPT" and got[0] != "sent":
            code = int(action_text(stage, action)[:3])
            if obs["errors"][0] != code:
                probs.append("entry.error %s, want %s" % (obs["errors"][0], code))
        if stage == "RCPT" and action in ("4xx", "5xx"):
            rc = obs["rcpt1"]
            code = int(action_text(stage, action)[:3])
            if rc.get(ANN) != code or not 200 <= rc.get(BOB, 0) < 300:
                probs.append("per-recipient results %r" % rc)
        # retry: no fault, clock past every next_try
        srv.set_faults({})
        obs2 = run.retry()
        for final, want1, m in zip(obs2["states"], want, (1, 2)):
            ok = "failed" if want1 == "failed" else "sent"
            if final != ok:
                probs.append("after retry message %d is %s" % (m, final))
        for mid, was, rcpts in ((id1, want[0], (ANN, BOB)), (id2, want[1], (CARL,))):
            copies = [x for x in srv.messages if ("Message-ID: " + mid).encode() in x.data]
            for a in rcpts:
                n = sum(1 for x in copies if a in x.rcpt_tos)
                if n > 1 and was != "uncertain":
                    probs.append("%s delivered %d times to %s" % (mid, n, a))
            if was != "failed" and not copies:
                probs.append("%s never delivered" % mid)
    return probs


def outcome_table(env=None, stages=STAGES, actions=ACTIONS, runner=LocalRunner):
    own = env is None
    env = env or Env()
    results = []
    try:
        for stage in stages:
            for action in actions:
                results.append((stage, action, run_case(env, stage, action, runner)))
    finally:
        if own:
            env.close()
    return results


def powercut(points="all", torn=True, timeout=3000):
    """Run tests/mpy/sender_powercut.py; returns its JSON summary."""
    script = os.path.join(mpy.ROOT, "tests", "mpy", "sender_powercut.py")
    proc = mpy.run(script, [points, 1 if torn else 0], heap="48m",
                   path=("tests/mpy", "tests/core"), timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("sender_powercut.py failed:\n" + out[-3000:] + proc.stderr.decode()[-3000:])


def run(argv):
    t0 = time.time()
    table = outcome_table()
    t1 = time.time()
    mtable = outcome_table(runner=MpyRunner)
    rows = []
    fails_all = 0
    for name, tab, secs in (("CPython", table, t1 - t0), ("MicroPython, device/smtpmtm_board/net.py, engine in 64 KiB free heap", mtable,
                                                          time.time() - t1)):
        fails = [(st, a, p) for st, a, p in tab if p]
        fails_all += len(fails)
        rows.append({"suite": "sender outcome table, %s (9 stages x 6 answers, STARTTLS+AUTH, "
                              "aiosmtpd)" % name, "cases": len(tab), "failures": len(fails),
                     "notes": "; ".join("%s/%s: %s" % (st, a, p[0]) for st, a, p in fails[:3])
                     or "%.0f s" % secs})
    pc = powercut("all")
    rows.append({"suite": "sender power cut at every block write (3 messages, littlefs, clean+torn)",
                 "cases": pc["points"], "failures": pc["failures"],
                 "notes": "duplicates without same Message-ID: %d; re-sent copies: %d"
                 % (pc["dup_without_same_id"], pc["resent"])})
    figs = {"outcome_cases": len(table) + len(mtable), "outcome_failures": fails_all,
            "sender_powercut_points": pc["points"], "sender_powercut_failures": pc["failures"],
            "sender_duplicates_without_same_message_id": pc["dup_without_same_id"]}
    return rows, figs

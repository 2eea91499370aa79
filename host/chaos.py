"""`make chaos`: virtual boards sending to a real Postfix under power cuts, resets and restarts.

Host-only (CPython, root for Postfix). Each scenario starts a private Postfix
(host/postfix.py: STARTTLS with the test CA, AUTH from a SASL database, bare LF
refused, maildir delivery), one or more virtual boards (host/vboard.py: the
MicroPython unix port running device/boot.py and main.py from a littlefs2 flash
image) whose account points at a throttled simulated link (host/simlink.py)
in front of it, queues messages on each board (text, and some with 50-200 KB
flash attachments of known content), brings the link up, and then, seeded:

- ``crash``:   SIGKILLs the board at random moments and restarts it on the same
  flash image, until the outbox drains or a cap of cuts;
- ``flaky``:   no cuts; the link resets connections at random byte offsets;
- ``mta``:     Postfix is stopped and started again while the board sends;
- ``boards``:  three boards at once, each cut at random moments;
- ``brownout``: the cut always falls inside the biggest message's transfer
  (the link has carried more client bytes since the server last spoke than
  any small message has), as a weak supply that resets when the radio sends
  hard; that message must fail with its reason once its attempts run out,
  and every other message must go out;
- ``portal``:  the board's network is hostile for seeded spells (host/portal.py): a
  man in the middle terminating TLS with its own certificate (self-signed, unknown
  CA, expired, another host's), a proxy stripping STARTTLS, one injecting plaintext
  after the 220, switching at seeded moments, the real network between spells
  (the board roams back onto the portal with its link reset); then the portal
  goes away. Every TLS failure must leave the messages waiting (none failed) and
  fail closed: the portal records every byte the board sent it, and a command
  past EHLO/STARTTLS/QUIT in plain text or any byte through its TLS is a leak
  that fails the run. The board's logged TLS refusals are counted.

Then, from the maildir against what was queued: delivered, lost (neither
delivered nor failed with a reason on the board), corrupted (body or
attachment digest differs), duplicates with the same Message-ID (allowed:
recognisable), duplicates with another Message-ID, stuck (still waiting on
the board when the run ends), failed (with the reason the board gives) and
the time to drain. Only the brown-out may fail a message: the other scenarios'
faults are all transient, so a message failed there makes the run fail too (seed 5
once failed all 30 in ``mta``: a TLS handshake Postfix closed was taken as
permanent). Figures go to .bench/reliability.json; a table is printed.

Example::

    python -m host.chaos                 # every scenario
    python -m host.chaos brownout --seed 7
"""

import ast
import email
import email.policy
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

USER, PASSWORD = "pump", "chaos-secret"
SCENARIOS = ("crash", "flaky", "mta", "boards", "brownout", "portal")
# a small message's DATA is ~2 KB; past this the link is inside a big one (DATA, not BDAT:
# BDAT's replies between chunks would reset the count)
BIG_BURST = 24 * 1024
BIG_MIN = 50 * 1024

# runs on the board: write a flash file of known content (1 KB blocks, header + filler)
MAKE_FILE = """def _chaos_file(path, size, k):
    with app.lock:
        f = open(path, 'wb')
        j = 0
        n = 0
        while n < size:
            b = (b'%08d:%06d ' % (k, j) + bytes([(k * 7 + j) & 255]) * 1009)[:min(1024, size - n)]
            f.write(b)
            n += len(b)
            j += 1
        f.close()
"""

STATE = """with app.lock:
    from smtpmtm.outbox import plan as _sp
    for _f in (0x1003, 0x1005):
        for _e in app.store.children(_f):
            _r = _sp.read_result(app.store, _e.id)
            print('ROW', _f, _e.sending_state, _e.attempts, _r['interrupted'],
                  repr((_e.description, (_r['error'] or ('', 0, ''))[2])))
"""

# the board's log (device/smtpmtm_board/applog.py, two files) lines of the sends that TLS stopped:
# "send: 0 sent, 0 failed, 30 deferred, 0 held (tls-expired: ...)"
TLS_REFUSALS = """for _p in ('/log.old', '/log.txt'):
    try:
        with open(_p) as _f:
            for _l in _f:
                if 'send: ' in _l and ' (tls' in _l:
                    print('TLS', 'tls' + _l.split(' (tls', 1)[1].split(':', 1)[0])
    except OSError:
        pass
"""

STATE_NAMES = ("unknown", "upon-request", "waiting", "sending", "scheduled", "resend", "suspended",
               "failed", "sent", "not-applicable", "uncertain")


def file_bytes(size, k):
    """What _chaos_file writes on the board, produced on the host for the digests."""
    out = bytearray()
    j = 0
    while len(out) < size:
        out += ((b"%08d:%06d " % (k, j)) + bytes([(k * 7 + j) & 255]) * 1009)[:min(1024, size - len(out))]
        j += 1
    return bytes(out)


def specs_for(rng, board, n, n_big, big=(BIG_MIN, 200 * 1024)):
    """The messages to queue on one board: subject, body, attachment size (0: none), key."""
    bigs = set(rng.sample(range(n), n_big))
    out = []
    for i in range(n):
        k = rng.randrange(10 ** 6)
        size = rng.randrange(big[0], big[1]) if i in bigs else 0
        out.append({"subject": "chaos %s %02d" % (board, i), "body": "reading %d of %s, key %d" % (i, board, k),
                    "size": size, "key": k})
    return out


class Board:
    """One virtual board with the firmware, an account at the link, and its messages queued."""

    def __init__(self, name, work, link, ca, specs, max_attempts=10):
        from host.boardctl import BoardCtl, install_firmware, marks
        from host.vboard import VirtualBoard

        self.name = name
        self.specs = specs
        self.net = link  # this board's own simulated link (host/simlink.py)
        d = os.path.join(work, "board-" + name)
        os.makedirs(d)
        self.vb = VirtualBoard("sim", state_dir=d, heap=512 * 1024, frozen=True, fresh=True,
                               link=False).start()
        self.ctl = BoardCtl(self.vb.pty)
        install_firmware(self.ctl, self.vb, d, ca)
        self.ctl.exec("account(server='localhost', port=%d, tls='starttls', user=%r, password=%r, "
                      "email='pump@example.com', name='Pump %s', cafile='/ca.pem', max_attempts=%d, "
                      "backoff_base_s=2, backoff_max_s=8)"
                      % (link.port, USER, PASSWORD, name, max_attempts))
        self.ctl.exec(MAKE_FILE)
        for i, m in enumerate(specs):
            att = ""
            if m["size"]:
                path = "/a%02d.bin" % i
                self.ctl.exec("_chaos_file(%r, %d, %d)" % (path, m["size"], m["key"]))
                att = ", attach=[%r], link=True" % path
            out = self.ctl.exec("print('MARK id', queue('ann@example.com', %r, %r%s))"
                                % (m["subject"], m["body"], att))
            if not marks(out).get("id", "None").isdigit():  # queue() returns the new id, None on error
                raise RuntimeError("queue on board %s failed: %s" % (name, out))
        self.cuts = 0
        self.boots_before = 0

    def link(self, up):
        self.vb.set_link(up)

    def cut(self):
        """Pull the plug (SIGKILL); it boots again on the same flash image. Then its link
        resets: what its radio had not sent yet dies with it (reset first, the board
        could see the drop and record it: not a power cut)."""
        self.cuts += 1
        self.boots_before = self.vb.boots
        self.vb.power_cycle()
        self.net.reset_all()

    def settle(self):
        """After the last cut: wait until the board has booted and main.py is up."""
        if self.cuts:
            self.ctl.wait_booted(self.vb, self.boots_before)

    def states(self):
        """{subject: (state name, attempts, interrupted, error text)} from the board's store."""
        from host.boardctl import BoardError

        for _ in range(20):
            try:
                out = self.ctl.exec(STATE, show=False, timeout=60)
                break
            except (BoardError, subprocess.TimeoutExpired):  # still booting after a cut
                time.sleep(1)
        else:
            raise RuntimeError("board %s does not answer" % self.name)
        rows = {}
        for line in out.splitlines():
            if line.startswith("ROW "):
                w = line.split(" ", 5)
                subject, err = ast.literal_eval(w[5])
                rows[subject] = (STATE_NAMES[int(w[2])], int(w[3]), int(w[4]), err)
        return rows

    def tls_refusals(self):
        """{error code: sends the board logged as stopped by it} for the TLS codes."""
        out = {}
        for line in self.ctl.exec(TLS_REFUSALS, show=False, timeout=60).splitlines():
            if line.startswith("TLS "):
                code = line.split()[1]
                out[code] = out.get(code, 0) + 1
        return out

    def stop(self):
        self.vb.stop()
        self.net.stop()


def delivered(mta):
    """[(subject, Message-ID, body text, attachment bytes or None)] read from the maildir."""
    out = []
    for path in mta.delivered():
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        body = None
        att = None
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                att = part.get_payload(decode=True)
            elif part.get_content_type() == "text/plain" and body is None:
                body = part.get_content().strip()
        out.append((str(msg["subject"]), str(msg["message-id"]), body, att))
    return out


def check(boards, mta):
    """The figures of one run, from the maildir against what each board queued."""
    got = {}
    for subject, mid, body, att in delivered(mta):
        got.setdefault(subject, []).append((mid, body, att))
    f = {"queued": 0, "delivered": 0, "lost": 0, "corrupted": 0, "dup_same_id": 0,
         "dup_other_id": 0, "stuck": 0, "failed": 0, "reasons": []}
    for b in boards:
        states = b.states()
        for m in b.specs:
            f["queued"] += 1
            copies = got.get(m["subject"], [])
            st = states.get(m["subject"], ("missing", 0, 0, ""))
            if copies:
                f["delivered"] += 1
                want_att = hashlib.sha256(file_bytes(m["size"], m["key"])).hexdigest() if m["size"] else None
                for mid, body, att in copies:
                    have = hashlib.sha256(att).hexdigest() if att is not None else None
                    if body != m["body"] or have != want_att:
                        f["corrupted"] += 1
                ids = set(c[0] for c in copies)
                f["dup_same_id"] += len(copies) - len(ids)
                f["dup_other_id"] += len(ids) - 1
            elif st[0] == "failed" and st[3]:
                f["failed"] += 1
                f["reasons"].append("%s: %s" % (m["subject"], st[3]))
            elif st[0] in ("waiting", "sending", "uncertain", "scheduled", "resend", "suspended"):
                f["stuck"] += 1
            else:
                f["lost"] += 1
    return f


def all_settled(boards, mta, expect_failed=()):
    """True when every queued message has a copy in the maildir (or is one expected to fail)."""
    subjects = set(s for s, _, _, _ in delivered(mta))
    return all(m["subject"] in subjects or m["subject"] in expect_failed for b in boards for m in b.specs)


def drain(boards, mta, timeout):
    """After the chaos: wait (no more faults) until no board has a message left to try."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = 0
        for b in boards:
            left += sum(1 for v in b.states().values()
                        if v[0] in ("waiting", "sending", "uncertain", "scheduled", "resend"))
        if not left and mta.queued() == 0:
            return True
        time.sleep(2)
    return False


class Run:
    """One scenario's Postfix, link and boards; figures() after the chaos."""

    def __init__(self, work, seed, link_kw=None, chunking=True):
        from host.postfix import Postfix
        from host.testca import make_certs

        self.rng = random.Random(seed)
        self.work = work
        self.certs = make_certs(os.path.join(work, "certs"))
        self.mta = Postfix(os.path.join(work, "postfix"), self.certs, users={USER: PASSWORD},
                           chunking=chunking).start()
        self.link_kw = {"rtt_s": 0.05, "bandwidth_bps": 1_000_000}  # a 200 KB attachment: ~2.7 s
        self.link_kw.update(link_kw or {})
        self.boards = []
        self.portal = None  # host/portal.py, when the boards' network intercepts them
        self.t0 = None
        self.t_setup = time.monotonic()
        self.restarts = 0

    def add_board(self, name, n, n_big, max_attempts=10, big=(BIG_MIN, 200 * 1024)):
        from host.simlink import SimLink

        link = SimLink(self.upstream(), **self.link_kw).start()
        b = Board(name, self.work, link, self.certs.ca, specs_for(self.rng, name, n, n_big, big),
                  max_attempts)
        self.boards.append(b)
        return b

    def add_portal(self, mode):
        """The boards added after this meet the portal (in ``mode``) in front of Postfix."""
        from host.portal import Portal

        self.portal = Portal(("127.0.0.1", self.mta.port), self.certs, mode).start()
        return self.portal

    def upstream(self):
        """Where the boards' links lead: the portal while it is there, else Postfix."""
        return ("127.0.0.1", (self.portal or self.mta).port)

    def route(self, through_portal):
        """New connections from now on go through the portal, or straight to Postfix."""
        for b in self.boards:
            b.net.upstream = ("127.0.0.1", (self.portal if through_portal else self.mta).port)

    def go(self):
        self.t0 = time.monotonic()
        self.setup_s = int(self.t0 - self.t_setup)
        for b in self.boards:
            b.link(True)

    def finish(self, drain_s=120):
        for b in self.boards:
            b.settle()
        ok = drain(self.boards, self.mta, drain_s)
        t = time.monotonic() - self.t0
        f = check(self.boards, self.mta)
        f["drain_s"] = int(t)
        f["cuts"] = sum(b.cuts for b in self.boards)
        f["resets"] = sum(b.net.drops for b in self.boards)  # link resets: the flaky plan's and the cuts'
        f["restarts"] = self.restarts
        f["setup_s"] = self.setup_s
        f["drained"] = ok
        return f

    def close(self):
        for b in self.boards:
            b.stop()
        if self.portal is not None:
            self.portal.stop()
        self.mta.stop()


def crash_loop(run, boards, lo, hi, cap):
    """SIGKILL a random board every lo..hi s until every message is delivered or cap cuts."""
    n = 0
    while n < cap and not all_settled(run.boards, run.mta):
        time.sleep(run.rng.uniform(lo, hi))
        run.rng.choice(boards).cut()
        n += 1


def brownout_loop(run, board, attempts):
    """Cut the board each time the link is deep inside a big transfer (only the big
    message gets there), ``attempts`` times: then the message has used every attempt."""
    stop = time.monotonic() + 600
    while board.cuts < attempts and time.monotonic() < stop:
        if board.net.burst_c2s > BIG_BURST:
            board.cut()
        time.sleep(0.005)


def portal_plan(rng, spells):
    """[(portal mode, or None for the real network; seconds)]: ``spells`` runs of the portal,
    each of that many distinct modes (2-5 s each), 2-4 s of the real network between."""
    from host.portal import MODES

    steps = []
    for i, n in enumerate(spells):
        if i:
            steps.append((None, rng.uniform(2, 4)))
        steps += [(mode, rng.uniform(2, 5)) for mode in rng.sample(MODES, n)]
    return steps


def portal_loop(run, steps):
    """Play a portal_plan (its first mode is the portal's already): each step holds for the
    connections that come during it. A spell after the real network starts with the links
    reset, as a board roaming onto the hostile network mid-send. Then the portal goes away."""
    away = False
    for mode, secs in steps:
        if mode is None:
            run.route(False)
        else:
            run.portal.mode = mode
            if away:
                run.route(True)
                for b in run.boards:
                    b.net.reset_all()
        away = mode is None
        time.sleep(secs)
    run.route(False)


def scenario(name, seed, short=False):
    """Run one scenario; returns its figures."""
    work = tempfile.mkdtemp(prefix="chaos-%s-" % name)
    run = None
    try:
        if name == "flaky":
            rng = random.Random(seed + 1)
            # most connections reset somewhere in their first 150 KB (1 Mbit/s: ~1.2 s)
            plan = [({"drop_after": rng.randrange(300, 150000)} if i == 0 or rng.random() < 0.75 else {})
                    for i in range(400)]
            run = Run(work, seed, {"plan": plan})
        else:  # brownout: DATA, not BDAT, so a long run of client bytes is one message's content
            run = Run(work, seed, chunking=name != "brownout")
        n, n_big = (6, 1) if short else (30, 6)
        if name == "boards":
            bs = [run.add_board("b%d" % i, n // 3, max(1, n_big // 3)) for i in range(3)]
        elif name == "portal":
            steps = portal_plan(run.rng, (1, 1) if short else (2, 2))
            run.add_portal(steps[0][0])
            # a try the portal stops ends at once, and the next waits for its backoff (1-2,
            # 2-4, then 4-8 s) and the board's 5 s check (device/smtpmtm_board/app.py): the
            # at most 20 s of portal cost a message at most one attempt per 5 s, one per
            # spell and one for the roam's cut, under 10; 20 cannot run out (failing after
            # max_attempts is meant to happen; attempts_max shows what was used)
            bs = [run.add_board("b0", n, n_big, max_attempts=20)]
        elif name == "brownout":
            n, n_big = (5, 1) if short else (12, 1)
            bs = [run.add_board("b0", n, n_big, max_attempts=3 if short else 5, big=(120 * 1024, 150 * 1024))]
        else:
            bs = [run.add_board("b0", n, n_big, max_attempts=20)]
        run.go()
        if name in ("crash", "boards"):
            crash_loop(run, bs, 0.2, 4.0, 12 if short else 80)
        elif name == "mta":
            for _ in range(3):
                time.sleep(run.rng.uniform(0.5, 4.0))
                run.mta.restart()
                run.restarts += 1
        elif name == "portal":
            portal_loop(run, steps)
        elif name == "brownout":
            big = max(bs[0].specs, key=lambda m: m["size"])["subject"]
            brownout_loop(run, bs[0], 3 if short else 5)
        f = run.finish(90 if short else 240)
        if name == "brownout":
            f["delivered_others"] = f["delivered"] - (1 if big in [s for s, _, _, _ in delivered(run.mta)] else 0)
            f["others"] = f["queued"] - 1
            f["big_failed"] = any(r.startswith(big + ": interrupted") for r in f["reasons"])
        if name == "portal":
            f["portal_met"] = run.portal.met()
            f["leaks"] = run.portal.leaks()
            f["tls_refusals"] = {}
            for b in bs:
                for code, k in b.tls_refusals().items():
                    f["tls_refusals"][code] = f["tls_refusals"].get(code, 0) + k
            f["attempts_max"] = max(v[1] for b in bs for v in b.states().values())
        return f
    finally:
        if run is not None:
            run.close()
        shutil.rmtree(work, ignore_errors=True)


def totals(results):
    """The figures for .bench/reliability.json from {scenario: figures}."""
    figs = {"chaos_runs": len(results)}
    for k in ("lost", "corrupted", "dup_other_id", "dup_same_id", "stuck"):
        figs["chaos_" + k] = sum(f[k] for f in results.values())
    # only a brown-out may fail a message (the big one, by design); every other scenario's
    # faults are transient, so a message failed there is a bug (a transient error taken as permanent)
    figs["chaos_failed_by_transient"] = sum(f["failed"] for n, f in results.items() if n != "brownout")
    if "brownout" in results:
        figs["brownout_delivered_others"] = results["brownout"]["delivered_others"]
    if "portal" in results:
        p = results["portal"]
        figs["portal_leaks"] = len(p["leaks"])  # connections where a board went on past the TLS point
        figs["portal_met"] = sum(p["portal_met"].values())
        figs["portal_tls_refusals"] = sum(p["tls_refusals"].values())
        figs["portal_attempts_max"] = p["attempts_max"]
        # a refusal no mode the portal met would give (a board that refused for the wrong reason)
        from host.portal import CLIENT_CODE

        met = set(CLIENT_CODE[m] for m in p["portal_met"])
        figs["portal_refusals_unexplained"] = sum(k for c, k in p["tls_refusals"].items() if c not in met)
    for name, f in results.items():
        for k in ("queued", "delivered", "failed", "cuts", "resets", "restarts", "drain_s"):
            figs["chaos_%s_%s" % (name, k)] = f[k]
    return figs


def portal_summary(f):
    """One line: what the portal met, what the board refused, what leaked."""
    return "portal: met %d connections (%s); the board refused TLS %d times (%s); at most %d " \
        "attempts a message; leaks: %s" % (
            sum(f["portal_met"].values()), ", ".join("%s %d" % kv for kv in sorted(f["portal_met"].items())),
            sum(f["tls_refusals"].values()),
            ", ".join("%s %d" % kv for kv in sorted(f["tls_refusals"].items())) or "none",
            f["attempts_max"], "; ".join(f["leaks"]) or "none")


def table(results):
    head = ("scenario", "queued", "delivered", "failed", "lost", "corrupt", "dup same", "dup other",
            "stuck", "cuts", "resets", "restarts", "tls refused", "leaks", "setup s", "drain s")
    rows = [head]
    for name, f in results.items():
        portal = "tls_refusals" in f  # only the portal scenario counts them
        rows.append((name, f["queued"], f["delivered"], f["failed"], f["lost"], f["corrupted"],
                     f["dup_same_id"], f["dup_other_id"], f["stuck"], f["cuts"], f["resets"],
                     f["restarts"], sum(f["tls_refusals"].values()) if portal else "-",
                     len(f["leaks"]) if portal else "-", f["setup_s"], f["drain_s"]))
    w = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(str(c).rjust(w[i]) for i, c in enumerate(r)) for r in rows)


def main(argv):
    from host import figures
    from host.postfix import ensure_installed

    seed = 1
    names = []
    args = list(argv)
    while args:  # scenario names and --seed N; anything else (--help too) gets the usage
        a = args.pop(0)
        if a == "--seed" and args and args[0].isdigit():
            seed = int(args.pop(0))
        elif a in SCENARIOS:
            names.append(a)
        else:
            print("usage: python -m host.chaos [%s ...] [--seed N]   (%r: not a scenario or option)"
                  % (" ".join(SCENARIOS), a), file=sys.stderr)
            return 2
    names = names or list(SCENARIOS)
    why = ensure_installed()
    if why is not None:
        print("chaos: skipped: " + why)
        return 0
    results = {}
    for name in names:
        t = time.monotonic()
        results[name] = scenario(name, seed)
        f = results[name]
        print("%s: %d s; %s" % (name, int(time.monotonic() - t),
                                 "; ".join(f["reasons"]) or "nothing failed"), flush=True)
        if name == "portal":
            print(portal_summary(f), flush=True)
    print(table(results))
    figs = totals(results)
    figures.merge("reliability.json", figs)
    print("\nfigures: %s" % os.path.join(figures.BENCH_DIR, "reliability.json"))
    bad = figs["chaos_lost"] + figs["chaos_corrupted"] + figs["chaos_dup_other_id"] + figs["chaos_stuck"] \
        + figs["chaos_failed_by_transient"]
    if "brownout" in results:
        b = results["brownout"]
        bad += (b["others"] - b["delivered_others"]) + (0 if b["big_failed"] else 1)
    if "portal" in results:  # a leak, a refusal no mode met explains, or nothing probed
        bad += figs["portal_leaks"] + (0 if figs["portal_met"] else 1) + figs["portal_refusals_unexplained"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

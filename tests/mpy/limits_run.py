"""Alarm floods against sending limits and coalescing, with power cuts (MicroPython unix port).

    micropython -X heapsize=64m limits_run.py SUITE SEED CUTS [KIND]

SUITE "limits" or "coalesce". A seeded workload on a store on littlefs2 (KIND
"lfs", default) or FAT ("fat") over a RAM block device that can lose power
(blockdev.CutDevice) queues bursts of alarms
and runs sends against an in-memory SMTP server (sender_fakes.FakeServer) on a
moving clock. It runs once whole to count its block writes, then once per cut
point (CUTS of them, seeded, each clean and torn): the power goes at that write
(no byte leaves the board after it: the server refuses it), the board reboots
on the flash as it was cut, and sends until the Outbox is empty. Checks:

- limits: every alarm whose queue() returned before the cut was delivered, and
  in no rolling minute/hour were more messages or recipients delivered than the
  account's limits (deliveries counted by the server, duplicates included);
- coalesce: the alarms delivered, counted through the digests ("N messages"
  lines; each Message-ID once), are at least those acknowledged and at most
  one more (the one in flight), and far fewer messages than alarms went out.

Prints FAIL lines and ``LIMITS suite=.. cases=.. failures=.. messages=..``.
"""

import sys
import vfs

from blockdev import CutDevice
from portable import Rng
from sender_fakes import SERVICE, FakeServer, queue, settings
from smtpmtm.store import entry as E
from smtpmtm.errors import ConnectionLost
from smtpmtm.outbox.sender import Sender
from smtpmtm.store.tree import Store

W = "/w"
T0 = 1700000000
LIMITS = {"messages_per_minute": 3, "messages_per_hour": 12, "recipients_per_hour": 20}
WINDOWS = ((60, "messages_per_minute", 0), (3600, "messages_per_hour", 0),
           (3600, "recipients_per_hour", 1))


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        return self.t


class Board:
    """The flash, the store on it, the clock and the server; dead once the power went."""

    def __init__(self, dev, srv, clock, deliveries):
        self.dev = dev
        self.srv = srv
        self.clock = clock
        self.deliveries = deliveries  # (time, recipients, data)

    def alive(self):
        return not self.dev.dropped

    def connect(self, host, port, **kw):
        if not self.alive():
            raise ConnectionLost("power cut")
        s = self.srv.connect(host, port, **kw)
        write = s.write

        def guarded(data):
            if not self.alive():  # the board is dead: nothing more leaves it
                raise ConnectionLost("power cut")
            write(data)

        s.write = guarded
        return s

    def send(self, st, cfg, service=SERVICE):
        n = len(self.srv.messages)
        try:
            Sender(st, cfg, service, self.connect, self.clock, rand=lambda: 0.5).send_all()
        finally:  # also when the power went in the middle: what the server got, it got
            for m in self.srv.messages[n:]:
                self.deliveries.append((self.clock.t, len(m[1]), m[2]))


KIND = sys.argv[4] if len(sys.argv) > 4 else "lfs"


def mount(dev):
    try:
        vfs.umount(W)
    except OSError:
        pass
    dev.mount(W, KIND, mtime=False)
    return Store(W + "/mail")


# ---- limits ------------------------------------------------------------------------


def limits_workload(board, st, rng, acked):
    cfg = settings(limits=dict(LIMITS), max_attempts=1000, max_age_s=10 ** 8, backoff_base_s=30)
    n = 0
    for _ in range(28):
        c = rng.below(10)
        if c < 4:
            for _ in range(1 + rng.below(5)):
                n += 1
                to = ("ann@example.com",) if rng.below(3) else ("ann@example.com", "bob@example.com")
                queue(st, to=to, n=n, date=T0, text=b"alarm %d\r\n" % n)
                if not board.alive():
                    return cfg
                acked.append("<m%d.%d@example.com>" % (T0, n))
        else:
            board.send(st, cfg)
            if not board.alive():
                return cfg
        board.clock.t += rng.below(120)
    return cfg


def drain(board, st, cfg, rng):
    for _ in range(400):
        if not [e for e in st.children(E.OUTBOX) if e.sending_state != E.SEND_FAILED]:
            return True
        board.clock.t += 30 + rng.below(600)
        board.send(st, cfg)
    return False


def check_limits(deliveries, acked):
    bad = []
    got = {}
    for t, r, data in deliveries:
        i = data.find(b"Message-ID: ")
        got[data[i + 12:data.find(b"\r\n", i)].decode()] = 1
    for mid in acked:
        if mid not in got:
            bad.append("lost %s" % mid)
    for span, key, k in WINDOWS:
        for t, r, d in deliveries:  # every window that ends at a delivery
            n = 0
            for u, rr, dd in deliveries:
                if t - span < u <= t:
                    n += 1 if k == 0 else rr
            if n > LIMITS[key]:
                bad.append("%s: %d in the window ending %d" % (key, n, t))
                break
    return bad


# ---- coalesce ----------------------------------------------------------------------


def coalesce_workload(board, st, rng, acked):
    from smtpmtm.accounts import Accounts
    from smtpmtm.client.mtm import Client
    from smtpmtm.client.coalesce import absorb, note_sent

    ac = Accounts(st)
    accts = ac.list()
    if accts:
        a = accts[0]
    else:
        a = ac.create("main", settings(max_attempts=1000, max_age_s=10 ** 8, backoff_base_s=30))
        ac.set_default(a)
    if not board.alive():
        return None
    c = Client(st, ac, board.clock)
    cfg = ac.load(a)
    for _ in range(30):
        x = rng.below(10)
        if x < 6:
            for _ in range(1 + rng.below(8)):
                c.create_message()
                c.add_addressee("ann@example.com")
                c.subject = "Pump 1 pressure"
                c.set_body_text("alarm")
                c.save_message()
                mid = c.queue()
                absorb(c, mid, "pump1", 300, board.clock(), 600)
                if not board.alive():
                    return (a.service, cfg)
                acked[0] += 1
        elif x < 8:
            board.send(st, cfg, a.service)
            if not board.alive():
                return (a.service, cfg)
            note_sent(st, [i for i in _sent_ids(st)], board.clock())
            if not board.alive():
                return (a.service, cfg)
        board.clock.t += rng.below(200)
    return (a.service, cfg)


def _sent_ids(st):
    return [e.id for e in st.children(E.SENT)]


def count_alarms(deliveries):
    seen = {}
    for t, r, data in deliveries:
        i = data.find(b"Message-ID: ")
        mid = data[i + 12:data.find(b"\r\n", i)]
        body = data[data.find(b"\r\n\r\n") + 4:]
        n = 1
        j = body.find(b' messages "pump1"')
        if j > 0:
            k = body.rfind(b"\n", 0, j)
            n = int(body[k + 1:j])
        seen[mid] = n
    return sum(seen.values()), len(seen)


# ---- the runs ----------------------------------------------------------------------


def run_case(suite, seed, cut, torn):
    dev = CutDevice(blocks=1024)  # 4 MiB: every message and its parts stay (in Sent)
    CutDevice.format(dev, KIND)
    dev.cut_at, dev.torn = cut, torn
    clock = Clock()
    board = Board(dev, FakeServer(), clock, [])
    rng = Rng(seed)
    st = mount(dev)
    acked = [] if suite == "limits" else [0]
    try:
        (limits_workload if suite == "limits" else coalesce_workload)(board, st, rng, acked)
    except Exception:  # noqa: BLE001
        if board.alive():
            raise
        # the power went: the code ran on against a flash that keeps nothing (a real board
        # would be dead); what it did after the cut is not the board's

    writes = dev.writes
    CutDevice.umount(W)
    # reboot on the flash as the cut left it; no more cuts
    dev2 = CutDevice(data=dev.image())
    dev2.kind = KIND
    board.dev = dev2
    st = mount(dev2)
    rng2 = Rng(seed + 1000)
    if suite == "limits":
        cfg = settings(limits=dict(LIMITS), max_attempts=1000, max_age_s=10 ** 8, backoff_base_s=30)
        ok = drain(board, st, cfg, rng2)
        bad = check_limits(board.deliveries, acked)
    else:
        from smtpmtm.accounts import Accounts

        ac = Accounts(st)
        bad = []
        ok = True
        if ac.list():
            a = ac.list()[0]
            cfg = ac.load(a)
            for _ in range(400):
                if not [e for e in st.children(E.OUTBOX) if e.sending_state != E.SEND_FAILED]:
                    break
                clock.t += 30 + rng2.below(600)
                board.send(st, cfg, a.service)
            ok = not [e for e in st.children(E.OUTBOX)]
        total, msgs = count_alarms(board.deliveries)
        if not acked[0] <= total <= acked[0] + 1:
            bad.append("alarms: %d acknowledged, %d delivered in digests" % (acked[0], total))
        if cut == 0 and msgs * 3 > total:
            bad.append("coalescing: %d messages for %d alarms" % (msgs, total))
    if not ok:
        bad.append("the Outbox never emptied")
    CutDevice.umount(W)
    return writes, bad, len(board.deliveries)


def main():
    suite, seed, cuts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    writes, bad, msgs = run_case(suite, seed, 0, False)
    cases, failures = 1, 0
    for b in bad:
        print("FAIL seed %d no cut: %s" % (seed, b))
        failures += 1
    rng = Rng(seed * 7 + 3)
    points = {}
    while len(points) < min(cuts, writes):
        points[1 + rng.below(writes)] = 1
    for cut in sorted(points):
        for torn in (False, True):
            _, bad, m = run_case(suite, seed, cut, torn)
            cases += 1
            msgs += m
            if bad:
                failures += 1
                print("FAIL seed %d cut %d%s: %s" % (seed, cut, " torn" if torn else "", "; ".join(bad[:3])))
    print("LIMITS suite=%s kind=%s writes=%d cases=%d failures=%d messages=%d" % (suite, KIND, writes, cases, failures, msgs))


main()

"""Power cut at every block write during a send of three messages (MicroPython only).

    micropython -X heapsize=48m sender_powercut.py POINTS TORN

Formats a littlefs2 image on blockdev.CutDevice, queues three messages in a Store,
records every block write of one send (the in-memory server of
tests/core/sender_fakes.py accepts all three), then for each cut point N
(POINTS "all" or every k-th write as "every:k"), clean and, with TORN=1, torn:
mounts the image as it stood, opens the store (recovery), and checks

- no message is lost: all three are still in the Outbox or in Sent;
- none is marked sent that the server had not accepted before the cut;
- none the server had accepted is left in a state that would re-send it
  silently (it must be sent or uncertain);
then re-sends with a fresh server and checks every message ends in Sent, every
message reached a server at least once, and every re-sent copy of a message
the first server had already accepted carries the same Message-ID.
Prints one JSON line: points, failures, dup_without_same_id, resent, writes.
"""

import json
import sys

from blockdev import CutDevice, Replay
from portable import FakeClock
from smtpmtm.store import entry as E
from smtpmtm.outbox.sender import Sender
from smtpmtm.store.tree import Store
from sender_fakes import FakeServer, SERVICE, queue, settings

W = "/w"
C = "/c"


class Log(list):
    """srv.messages that notes how many block writes were done when each was accepted."""

    def __init__(self, dev):
        super().__init__()
        self.dev = dev
        self.at = []

    def append(self, item):
        self.at.append(self.dev.writes)
        super().append(item)


def subject_of(data):
    i = data.find(b"Subject: ")
    return data[i + 9:data.find(b"\r\n", i)]


def mid_of(data):
    i = data.find(b"Message-ID: ")
    return data[i + 12:data.find(b"\r\n", i)]


def queue3(st):
    return [queue(st, to=("ann@example.com", "bob@example.com"), subject="pc %d" % n, n=n,
                  text=b"".join(b"reading %d\r\n" % i for i in range(40 + 30 * n)))
            for n in range(3)]


def main():
    points = sys.argv[1] if len(sys.argv) > 1 else "all"
    torn_too = len(sys.argv) > 2 and sys.argv[2] == "1"
    dev = CutDevice(blocks=256)
    CutDevice.format(dev, "lfs")
    dev.mount(W, mtime=False)
    st = Store(W + "/mail")
    ids = queue3(st)
    dev.record()
    srv = FakeServer()
    srv.messages = Log(dev)
    s = Sender(st, settings(), SERVICE, srv.connect, FakeClock(), rand=lambda: 0.5)
    r = s.send_all()
    total = dev.writes
    CutDevice.umount(W)
    if sorted(r["sent"]) != sorted(ids):
        print(json.dumps({"error": "the uncut send failed: %r" % (r,)}))
        return 1
    first = {}  # subject -> (Message-ID, writes done when accepted)
    for k in range(len(srv.messages)):
        data = srv.messages[k][2]
        first[subject_of(data)] = (mid_of(data), srv.messages.at[k])
    step = 1
    if points.startswith("every:"):
        step = int(points[6:])
    rp = Replay(dev)
    checked = failures = dups_bad = resent = 0
    for n in range(1, total + 1, step):
        for torn in ((False, True) if torn_too else (False,)):
            img = rp.image(n, torn)
            d = CutDevice(data=img)
            d.mount(C, kind="lfs", mtime=False)
            probs = []
            try:
                st2 = Store(C + "/mail")
                subj = {}
                for i in ids:
                    e = st2.get(i)  # NotFound = a lost message
                    subj[i] = e.description.encode()
                    if e.parent not in (E.OUTBOX, E.SENT):
                        probs.append("%x in folder %x" % (i, e.parent))
                    acc = first[subj[i]][1] <= n - 1
                    if e.sending_state == E.SEND_SENT and not acc:
                        probs.append("%x sent but not accepted before the cut" % i)
                    if acc and e.sending_state not in (E.SEND_SENT, E.SEND_UNCERTAIN):
                        probs.append("%x accepted but %s" % (i, E.SEND_STATE_NAMES[e.sending_state]))
                srv2 = FakeServer()
                # a day later: every retry time has come, max_age_s (3 days) not yet
                clock = FakeClock(1700000000 + 86400)
                Sender(st2, settings(), SERVICE, srv2.connect, clock, rand=lambda: 0.5).send_all()
                for i in ids:
                    e = st2.get(i)
                    if e.sending_state != E.SEND_SENT or e.parent != E.SENT:
                        probs.append("%x not sent after recovery" % i)
                got = {}
                for m in srv2.messages:
                    got[subject_of(m[2])] = mid_of(m[2])
                for i in ids:
                    mid0, at = first[subj[i]]
                    if at <= n - 1 and subj[i] in got:
                        resent += 1
                        if got[subj[i]] != mid0:
                            dups_bad += 1
                            probs.append("%x re-sent with another Message-ID" % i)
                    if at > n - 1 and subj[i] not in got:
                        probs.append("%x never delivered" % i)
            except Exception as exc:
                probs.append("exception %r" % (exc,))
            CutDevice.umount(C)
            checked += 1
            if probs:
                failures += 1
                print("FAIL write %d torn %d: %s" % (n, torn, "; ".join(probs)))
    print(json.dumps({"points": checked, "failures": failures, "dup_without_same_id": dups_bad,
                      "resent": resent, "writes": total}))
    return 1 if failures else 0


sys.exit(main())

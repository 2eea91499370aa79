"""Power-cut suite for the store, run inside the MicroPython unix port.

    micropython -X heapsize=48m powercut_run.py KIND SEED POINTS RECOVERY [OPS]

KIND lfs|fat|fat512 (FAT on 512-byte sectors); POINTS "all" or a count (a seeded sample of cut points);
RECOVERY "all", a count of cut points inside the recovery to try per main
point, or 0; OPS the number of workload steps (default 24).

It formats a 1 MiB board-sized device (256 x 4096-byte blocks), records
every block write of a seeded workload (create the store, save messages with
parts, queue, send to Sent, delete, purge, copy, compact, prepare a message in
pieces (its body from a chunk list or through a PartWriter), atomic_write a
settings file), then for each cut point N, clean and
torn (blockdev.Replay), mounts the image, opens the store (recovery) and
checks the logical state (entries, part contents, settings) is exactly the
state after the operations acknowledged before N, or that plus the one in
flight. Then the recovery's own writes are cut the same way and the state must
equal the first recovery's result. Prints FAIL lines and a final
``POWERCUT kind=.. points=.. checks=.. failures=..`` line.
"""

import sys
import vfs

from blockdev import CutDevice, Replay
from smtpmtm.store import entry as E
from smtpmtm.store import tree as store
from smtpmtm.errors import NotFound
from portable import Rng, part_crc  # tests/core/portable.py: the same seeded generator

W = "/w"
C = "/c"
# kinds: littlefs2 and FAT on 4096-byte blocks (board flash), FAT on 512-byte sectors (SD card)
FS = {"lfs": "lfs", "fat": "fat", "fat512": "fat"}
BS = {"lfs": 4096, "fat": 4096, "fat512": 512}


def state(st, mount):
    out = []
    for eid, enc, parts in st.dump():
        pc = []
        for name, size in parts:
            n, crc = part_crc(st, eid, name)
            pc.append((name, size, n, crc))
        out.append((eid, enc, tuple(pc)))
    try:
        s = store.read_file(mount + "/settings")
    except NotFound:
        s = None
    return (tuple(out), s)


def body(rng, n):
    return [bytes((65 + (rng.next() % 26)) for _ in range(min(200, n - i)))
            for i in range(0, n, 200)]


def workload(nops, seed, ack):
    """Run the seeded workload on the mounted store at W; call ack(st) after each op."""
    rng = Rng(seed)
    st = store.Store(W + "/mail")
    st.COMPACT_MIN, st.COMPACT_RATIO = 512, 1.5  # automatic compactions inside commits happen in the workload too
    ack(st)
    store.atomic_write(W + "/settings", b"version 1\n" + bytes(rng.below(200)))
    ack(st)
    n = 0
    while n < nops:
        n += 1
        drafts = [e.id for e in st.children(E.DRAFTS)]
        outbox = [e.id for e in st.children(E.OUTBOX)]
        sent = [e.id for e in st.children(E.SENT)]
        deleted = [e.id for e in st.children(E.DELETED)]
        c = rng.below(10)
        if c <= 2 or not drafts:
            e = E.Entry(parent=E.DRAFTS, mtm=E.MTM_SMTP, description="msg %d" % n,
                        details="ann@example.com", date=1732790000 + n)
            st.create(e, parts={"header": b"To: ann@example.com\r\nSubject: %d\r\n" % n,
                                "body": body(rng, 100 + rng.below(2500))})
        elif c == 3:
            e = st.get(drafts[rng.below(len(drafts))])
            e.parent = E.OUTBOX
            e.sending_state = E.SEND_WAITING
            st.update(e)
        elif c == 4 and outbox:
            e = st.get(outbox[0])
            e.parent = E.SENT
            e.sending_state = E.SEND_SENT
            st.update(e)
        elif c == 5 and sent:
            st.delete(sent[0])
        elif c == 6 and deleted:
            st.purge(deleted[0])
        elif c == 7:
            st.copy(drafts[0], E.DRAFTS)
        elif c == 8:
            if rng.below(2):
                st.compact()
            else:
                store.atomic_write(W + "/settings", b"version %d\n" % n)
        else:
            e = E.Entry(parent=E.DRAFTS, flags=E.PRIORITY_MEDIUM | E.FLAG_IN_PREPARATION)
            mid = st.create(e)
            ack(st)
            chunks = body(rng, 50 + rng.below(1500))
            if rng.below(2):
                st.write_part(mid, "body", chunks)
            else:  # written in pieces (Client.create_attachment): visible only on commit
                w = st.part_writer(mid, "body")
                for c in chunks:
                    w.write(c)
                w.commit()
            ack(st)
            e.set_flag(E.FLAG_IN_PREPARATION, False)
            e.size = st.part_size(mid, "body")
            st.update(e)
        ack(st)


def sample(total, count, rng):
    if count == "all" or int(count) >= total:
        return list(range(1, total + 1))
    picked = {}
    while len(picked) < int(count):
        picked[1 + rng.below(total)] = 1
    return sorted(picked)


def check(img, kind, allowed, record):
    """Mount img, recover; -> (state, device) or raise."""
    d = CutDevice(data=img, block_size=BS[kind])
    d.kind = FS[kind]
    if record:
        d.record()
    d.mount(C)
    try:
        st = store.Store(C + "/mail")
        s = state(st, C)
    finally:
        CutDevice.umount(C)
    return s, d


def mutate(name):
    """Known-unsafe variants of the store, to prove this suite can fail."""
    from smtpmtm.store import base as storebase
    if name == "inplace":  # compaction rewrites the current slot instead of the other one
        orig = storebase.StoreBase._compact

        def _compact(self):
            self._slot = 1 - self._slot
            orig(self)
        storebase.StoreBase._compact = _compact
    elif name == "nocrc":  # records are not checked: a torn tail is taken as data
        from smtpmtm.store import index

        def crc32(data, crc=0):
            return 0
        index.crc32 = crc32
    elif name == "split":  # each op of a transaction is its own record
        from smtpmtm.store import index as X
        orig_c = storebase.StoreBase._commit

        def _commit(self, ops):
            for op in X.parse_payload(ops):
                if op[0] == X.OP_PUT:
                    orig_c(self, X.op_put(op[2]))
                elif op[0] == X.OP_DEL:
                    orig_c(self, X.op_del(op[1]))
                else:
                    orig_c(self, X.op_part(op[1], op[2], op[3], op[4]))
        storebase.StoreBase._commit = _commit


def main():
    kind, seed, points, recovery = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    nops = int(sys.argv[5]) if len(sys.argv) > 5 else 24
    if len(sys.argv) > 6:
        mutate(sys.argv[6])
    dev = CutDevice(blocks=(1 << 20) // BS[kind], block_size=BS[kind])
    CutDevice.format(dev, FS[kind])
    dev.record()
    dev.mount(W)
    acks = []
    models = []

    def ack(st):
        acks.append(dev.writes)
        models.append(state(st, W))

    workload(nops, seed, ack)
    CutDevice.umount(W)
    total = dev.writes
    rng = Rng(seed + 99)
    pts = sample(total, points, rng)
    rp = Replay(dev)
    checks = 0
    fails = 0
    rec_checks = 0
    for n in pts:
        done = 0
        while done < len(acks) and acks[done] <= n - 1:
            done += 1
        allowed = [models[0]] if done == 0 else models[done - 1:done + 1]
        for torn in (False, True):
            img = rp.image(n, torn)
            checks += 1
            try:
                s, d = check(img, kind, allowed, recovery != "0")
            except Exception as e:
                fails += 1
                print("FAIL %s n=%d torn=%d recovery raised %r" % (kind, n, torn, e))
                continue
            if s not in allowed:
                fails += 1
                print("FAIL %s n=%d torn=%d done=%d state not allowed (%d entries)" % (
                    kind, n, torn, done, len(s[0])))
                continue
            if recovery == "0" or not d.log:
                continue
            rp2 = Replay(d)
            for m in sample(len(d.log), recovery, rng):
                for torn2 in (False, True):
                    rec_checks += 1
                    try:
                        s2, _ = check(rp2.image(m, torn2), kind, allowed, False)
                    except Exception as e:
                        fails += 1
                        print("FAIL %s n=%d/%d m=%d/%d recovery-of-recovery raised %r" % (
                            kind, n, torn, m, torn2, e))
                        continue
                    if s2 != s:
                        fails += 1
                        print("FAIL %s n=%d/%d m=%d/%d second recovery differs" % (
                            kind, n, torn, m, torn2))
    print("POWERCUT kind=%s writes=%d points=%d checks=%d recovery_checks=%d failures=%d ops=%d"
          % (kind, total, len(pts), checks, rec_checks, fails, len(acks)))


if __name__ == "__main__":
    main()

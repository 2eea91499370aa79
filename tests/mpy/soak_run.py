"""The board side of the soak run (host/soak.py): one App, hundreds of sends, no reset.

    micropython -X heapsize=... soak_run.py PORT CAFILE BUDGET

Mounts littlefs2 (vfs.VfsLfs2) on a RAM block device at /flash, loads the board
code as if frozen, then leaves BUDGET bytes of free heap (tests/mpy/budget.py),
as on a board. Builds the board App (device/smtpmtm_board/app.py) with one
hand-switched link ("wifi", outbox/manualhook.py) and the real device/smtpmtm_board/net.py
(sockets, TLS to aiosmtpd with the test CA), sets the account with the REPL's
account(), then reads one JSON plan a line from stdin, each a cycle:

    {"n": 7, "msgs": [{"to": "ann@example.com", "attach": 0 | 1 | 2}], "down_send": false}

``attach`` 1: a CSV written on /flash copied into the store; 2: the same file
linked (read at send time). With ``down_send`` the REPL's send() is asked while
the link cannot come up (LinkDown: nothing is tried, nothing counted). A cycle:
link down, queue the messages with the REPL's queue(), run the engine
until idle (nothing goes: send on next connection), link up, run until idle,
rm() every failed message as a person would (tidy() purges Deleted at the next
send), link down. Then one line ``SOAK {json}`` with the figures after
gc.collect(): heap (gc.mem_alloc), free, the largest block free (fragmentation), the
store's files and their bytes, the log's bytes, flash used, the folders' sizes, the
ids queued this cycle (decimal, as the REPL prints them). "quit" prints the log's
last lines and ends the run.
"""

import gc
import json
import os
import sys

sys.path.append(sys.argv[0].rsplit("/", 1)[0])

import budget  # noqa: E402
from blockdev import CutDevice  # noqa: E402

PORT, CAFILE, BUDGET = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
BLOCKS = 128  # 512 KiB of 4 KiB blocks, a small board's littlefs partition

dev = CutDevice(blocks=BLOCKS)
CutDevice.format(dev, "lfs")
dev.mount("/flash")
csv = open("/flash/log.csv", "w")  # the board's own data file, mailed now and then
for i in range(300):
    csv.write("%d,12.5,13.1,ok\n" % i)
csv.close()

budget.preload(extra=("smtpmtm_board.net", "smtpmtm_board.app", "smtpmtm_board.repl",
                      "smtpmtm_board.applog", "smtpmtm_board.clock", "smtpmtm_board.datefix",
                      "smtpmtm_board.watchdog", "smtpmtm_board.commands_show",
                      "smtpmtm_board.commands_acct"))

import board_app  # noqa: E402
from smtpmtm_board import repl  # noqa: E402
from smtpmtm.store import entry as E  # noqa: E402

_ballast = budget.pin_all_but(BUDGET)


def make_app():
    return board_app.make_app("/flash")


def run_until_idle(a):
    board_app.run_until_idle(a, 4000, 0.01, strict=True)


def files_under(path):
    """(files, bytes) under path, sub-folders too."""
    n = size = 0
    for name in os.listdir(path):
        st = os.stat(path + "/" + name)
        if st[0] & 0x4000:
            k, b = files_under(path + "/" + name)
            n, size = n + k, size + b
        else:
            n, size = n + 1, size + st[6]
    return n, size


def file_size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


def largest_free():
    """The largest bytearray the heap can give now (bytes, to 16): what fragmentation left."""
    lo, hi = 0, gc.mem_free()
    while hi - lo > 16:
        mid = (lo + hi) // 2
        try:
            b = bytearray(mid)
            b = None  # noqa: F841
            lo = mid
        except MemoryError:
            hi = mid
    return lo


def figures(a):
    gc.collect()
    heap, free = gc.mem_alloc(), gc.mem_free()
    fs = os.statvfs("/flash")
    big = largest_free()
    files, size = files_under("/flash/store")
    return {"heap": heap, "free": free, "largest": big, "files": files, "store_bytes": size,
            "log_bytes": file_size("/flash/log.txt") + file_size("/flash/log.old"),
            "flash": (fs[2] - fs[3]) * fs[0],
            "outbox": len(a.store.children(E.OUTBOX)), "sent": len(a.store.children(E.SENT)),
            "deleted": len(a.store.children(E.DELETED)), "runs": a.runs}


def cycle(a, link, plan):
    link.set(False)
    link.can_come_up = False
    ids = []
    for m in plan["msgs"]:
        k = len(ids) + 1
        att = ["/flash/log.csv"] if m.get("attach") else []
        i = repl.queue(m["to"], "soak %d.%d" % (plan["n"], k), "reading %d" % k, attach=att,
                       link=m.get("attach") == 2)
        if i is None:
            raise RuntimeError("queue() refused %r" % (m,))
        ids.append(i)
    if plan.get("down_send"):
        repl.send()  # no link can come up: LinkDown, the messages wait
    run_until_idle(a)
    link.can_come_up = True
    link.set(True)
    run_until_idle(a)
    for e in a.store.children(E.OUTBOX):
        if e.sending_state == E.SEND_FAILED:  # a person reads show() and rm()s it
            repl.rm(e.id)
    link.set(False)
    run_until_idle(a)
    return ids


def main():
    a, link = make_app()
    repl.account(server="localhost", port=PORT, tls="starttls", user="ann", password="s3cret",
                 email="pump@example.com", name="Pump House", cafile=CAFILE)
    print("SOAK " + json.dumps(figures(a)))
    while True:
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            for x in a.log.lines(40):  # what the board logged, for a failure's message
                print("LOG " + x)
            break
        ids = cycle(a, link, json.loads(line))
        f = figures(a)
        f["ids"] = ids
        print("SOAK " + json.dumps(f))


main()

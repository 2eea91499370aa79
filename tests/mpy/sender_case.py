"""One sender outcome case on MicroPython (device/smtpmtm_board/net.py + the core), for host/reliability/r_sender.py.

    micropython -X heapsize=512k sender_case.py SPEC.json

SPEC: store (folder), port, cafile, n, phase ("first": queue two messages and send;
"retry": open the same store, move the clock past every retry time, send again),
to ([[rcpts of message 1], [rcpts of message 2]]); optional, for r_tls.py's engine
cases: mode ("starttls", "implicit" or "plain"), tls_domain (default "localhost"),
login and password. Prints one JSON line with the message states, entry errors,
attempts, progress counters, message 1's per-recipient replies, the kind of each
message's last noted error (its result part, what show(id) prints) and the session
error (the same fields as r_sender.observe()).
"""

import json
import sys
import time

from smtpmtm_board import net
from smtpmtm.store import entry as E
from smtpmtm.store import headpart as M
from smtpmtm.outbox import plan as sendplan
from smtpmtm.outbox.sender import Sender
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store

OFFSET = 10 ** 5

import budget  # noqa: E402

# as on a board: the code loaded as if frozen, then 64 KiB of free heap for the engine's work
_ballast = budget.limit(65536)


def main():
    spec = json.load(open(sys.argv[1]))
    off = OFFSET if spec["phase"] == "retry" else 0

    def clock():
        return time.time() + off

    mode = spec.get("mode", "starttls")
    cfg = SmtpSettings(server="127.0.0.1", port=spec["port"], email_address="pump@example.com",
                       alias="Pump House", starttls=mode == "starttls", tls=mode == "implicit",
                       auth=True, login=spec.get("login", "u"), password=spec.get("password", "pw"),
                       cafile=spec["cafile"], max_attempts=5, backoff_base_s=30,
                       backoff_max_s=600, tls_domain=spec.get("tls_domain", "localhost"))
    st = Store(spec["store"])
    if spec["phase"] == "first":
        ids = []
        mids = []
        for k in (0, 1):
            h = M.new_header()
            h["to"] = [("", a) for a in spec["to"][k]]
            h["subject"] = "case %d" % (k + 1)
            h["message_id"] = "<mcase%d.%d.%d@example.com>" % (k + 1, spec["n"], int(time.time()))
            h["date"] = 1732790000
            h["text"] = "text"
            e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=0x100, mtm=E.MTM_SMTP,
                        description=h["subject"], details=spec["to"][k][0],
                        sending_state=E.SEND_WAITING)
            ids.append(st.create(e, parts={"header": M.header_chunks(h), "text": [b"Pressure low\r\n"]}))
            mids.append(h["message_id"])
    else:
        ids = [e.id for e in st.children(E.OUTBOX)] + [e.id for e in st.children(E.SENT)]
        ids.sort()
        mids = []
    t = {}
    for k in ("greeting", "command", "mail", "rcpt", "data", "block", "dot"):
        t[k] = 1
    s = Sender(st, cfg, 0x100, net.connect, clock, rand=lambda: 0.5, timeouts=t, connect_timeout=5)
    r = s.send_all()
    p = s.progress
    rc = sendplan.read_result(st, ids[0])["rcpt"]
    print(json.dumps({
        "states": [E.SEND_STATE_NAMES[st.get(m).sending_state] for m in ids],
        "errors": [st.get(m).error for m in ids],
        "attempts": [st.get(m).attempts for m in ids],
        "why": [(sendplan.read_result(st, m)["error"] or [None])[0] for m in ids],
        "progress": [p.sent, p.failed, p.not_sent, p.total, p.consistent()],
        "rcpt1": dict((a, rc[a][0]) for a in rc), "error": r.get("error"), "ids": mids}))


main()

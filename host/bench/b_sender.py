"""Bench: network round trips and slow-link wall time of the send engine vs a simple client.

Workload: 10 small messages (~0.5 KB) to 2 recipients each, plain SMTP to the local
aiosmtpd server (host/server.py). Compared:

- engine, one session for all 10, PIPELINING + CHUNKING (BDAT), as the server offers;
- engine, one session, PIPELINING only (server without CHUNKING);
- engine, one session, neither (capabilities hidden from the Session after EHLO);
- "simple": one session per message, no pipelining, no chunking, QUIT after each:
  how the small clients (uMail, ESP-Mail-Client's default) send.

Round trips are the Session's count of waits for replies (``round_trips``; the TCP
handshake of each connection is not counted, so the simple client is flattered).
Wall time is measured over host/simlink.py at 300 ms round trip and 40 kbit/s each
way (a 2G modem), both clients in the same run. On the same link: the seconds until an
alarm queued after a 20 KB log is accepted, with high priority (the engine sends it
first) and at normal priority (queue order, as every other client sends).
"""

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
from host.simlink import SimLink

N_MSGS = 10
RCPTS = ["ann@example.com", "bob@example.com"]
TEXT = b"".join(b"pump 3 pressure %d.%d bar at 12:%02d\r\n" % (i, i * 7 % 10, i) for i in range(10))
LOG_BYTES = 20000  # a day's log, queued before the alarm
LOG_TEXT = (TEXT * (LOG_BYTES // len(TEXT) + 1))[:LOG_BYTES]


def _hiding(hide):
    """A session factory whose Session does not see the hidden EHLO keywords."""
    from smtpmtm.wire.session import Session

    class Plain(Session):
        def open(self):
            caps = Session.open(self)
            for k in hide:
                self.client.capabilities.pop(k, None)
            return caps

    def factory(stream, clock, hostname, timeouts, allow_plaintext):
        return Plain(stream, clock, hostname=hostname, timeouts=timeouts,
                     allow_plaintext=allow_plaintext)

    return factory


def _add_message(st, n, subject, text, priority=None):
    """Queue one message in the Outbox as the client would; returns its id."""
    from smtpmtm.store import entry as E
    from smtpmtm.store import headpart as M

    h = M.new_header()
    h["to"] = [("", a) for a in RCPTS]
    h["subject"] = subject
    h["message_id"] = "<bench%d.1732790000@example.com>" % n
    h["date"] = 1732790000
    h["text"] = "text"
    e = E.Entry(type=E.TYPE_MESSAGE, parent=E.OUTBOX, service=0x100, mtm=E.MTM_SMTP,
                description=subject, details=RCPTS[0], sending_state=E.SEND_WAITING)
    if priority is not None:
        e.priority = priority
    return st.create(e, parts={"header": M.header_chunks(h), "text": [text]})


def _store_with_messages(folder):
    from smtpmtm.store.tree import Store

    st = Store(folder)
    return st, [_add_message(st, n, "reading %d" % n, TEXT) for n in range(N_MSGS)]


def _settings(port):
    from smtpmtm.settings import SmtpSettings

    return SmtpSettings(server="127.0.0.1", port=port, email_address="pump@example.com",
                        alias="Pump House", allow_plaintext=True)


def engine(tmp, port, hide=()):
    """Send the 10 messages with the engine; returns (round_trips, seconds, sent)."""
    from smtpmtm.outbox.sender import Sender

    st, ids = _store_with_messages(tempfile.mkdtemp(dir=tmp))
    s = Sender(st, _settings(port), 0x100, net.connect, time.time, rand=lambda: 0.5,
               session_factory=_hiding(hide) if hide else None)
    t0 = time.time()
    r = s.send_all()
    return r["round_trips"], time.time() - t0, len(r["sent"])


def alarm_after_log(tmp, port, urgent):
    """Seconds from the start of a send until the server accepted an alarm queued after a
    LOG_BYTES log: ``urgent``, the alarm has high priority (the engine sends it first);
    else normal, so it goes in queue order, as every other client sends."""
    from smtpmtm.outbox.sender import Sender
    from smtpmtm.store import entry as E
    from smtpmtm.store.tree import Store

    st = Store(tempfile.mkdtemp(dir=tmp))
    _add_message(st, 0, "daily log", LOG_TEXT)
    alarm = _add_message(st, 1, "ALARM pump 3 stopped", TEXT, E.PRIORITY_HIGH if urgent else None)
    s = Sender(st, _settings(port), 0x100, net.connect, time.time, rand=lambda: 0.5)
    at = []

    def seen(_progress):
        if not at and alarm in s.job.result["sent"]:
            at.append(time.time())

    s.progress.subscribe(seen)
    t0 = time.time()
    r = s.send_all()
    if len(r["sent"]) != 2 or not at:
        raise RuntimeError("the log and the alarm were not both sent: %r" % (r,))
    return at[0] - t0


def simple(tmp, port):
    """One session per message, no pipelining/chunking, as simple clients do."""
    from smtpmtm import mime
    from smtpmtm.outbox import plan
    from smtpmtm.store.headpart import read_header

    st, ids = _store_with_messages(tempfile.mkdtemp(dir=tmp))
    cfg = _settings(port)
    factory = _hiding(("PIPELINING", "CHUNKING"))
    trips = 0
    sent = 0
    t0 = time.time()
    for i in ids:
        h = read_header(st, i)
        p = plan.plan(h, cfg, st.get(i))
        b = mime.build(plan.mime_message(st, i, h, p, mime))
        stream = net.connect("127.0.0.1", port, tls="plain")
        s = factory(stream, time.time, "board", None, True)
        s.open()
        r = s.send_message(p["mail_from"], p["transmissions"][0][0], b.chunks(), b.size)
        s.quit()
        trips += s.round_trips
        sent += len(r["accepted"]) > 0
    return trips, time.time() - t0, sent


def run(argv):
    tmp = tempfile.mkdtemp(prefix="bsender")
    rows = []
    figs = {}
    try:
        with SmtpServer(mode="plain", chunking=True) as srv:
            rt_chunk, _, ok1 = engine(tmp, srv.port)
            rt_simple, _, ok4 = simple(tmp, srv.port)
        with SmtpServer(mode="plain", chunking=False) as srv:
            rt_pipe, _, ok2 = engine(tmp, srv.port)
            rt_none, _, ok3 = engine(tmp, srv.port, hide=("PIPELINING", "CHUNKING"))
        if (ok1, ok2, ok3, ok4) != (N_MSGS,) * 4:
            raise RuntimeError("not every message was sent: %r" % ((ok1, ok2, ok3, ok4),))
        per = lambda n: round(n / float(N_MSGS), 2)  # noqa: E731
        # greeting + EHLO are 2 waits shared by the whole session (QUIT is not counted)
        figs["round_trips_session_setup"] = 2
        figs["round_trips_marginal_per_msg_chunking"] = per(rt_chunk - 2)
        figs["round_trips_marginal_per_msg_pipelining"] = per(rt_pipe - 2)
        figs.update(round_trips_per_msg_simple=per(rt_simple),
                    round_trips_per_msg_pipelining=per(rt_pipe),
                    round_trips_per_msg_chunking=per(rt_chunk),
                    round_trips_per_msg_engine_no_extensions=per(rt_none))
        peer = "one session per message, no pipelining"
        rows += [
            {"section": "sender", "measure": "round trips/msg, PIPELINING+CHUNKING (10 msgs x 2 rcpts; incl. greeting+EHLO /10)",
             "smtpmtm": "%s (%s/msg + 2 per session)" % (per(rt_chunk), per(rt_chunk - 2)),
             "peer": peer, "peer value": per(rt_simple), "target": "<= 1"},
            {"section": "sender", "measure": "round trips/msg, PIPELINING only",
             "smtpmtm": "%s (%s/msg + 2 per session)" % (per(rt_pipe), per(rt_pipe - 2)),
             "peer": peer, "peer value": per(rt_simple), "target": "<= 2"},
            {"section": "sender", "measure": "round trips/msg, one session, no extensions",
             "smtpmtm": per(rt_none), "peer": peer, "peer value": per(rt_simple), "target": ""},
        ]
        with SmtpServer(mode="plain", chunking=True) as srv:
            with SimLink(("127.0.0.1", srv.port), rtt_s=0.3, bandwidth_bps=40000) as link:
                _, t_engine, ok1 = engine(tmp, link.port)
                _, t_simple, ok2 = simple(tmp, link.port)
                t_urgent = alarm_after_log(tmp, link.port, True)
                t_fifo = alarm_after_log(tmp, link.port, False)
        figs.update(slowlink_seconds_engine=round(t_engine, 2), slowlink_seconds_simple=round(t_simple, 2),
                    slowlink_seconds_alarm_after_log=round(t_urgent, 2),
                    slowlink_seconds_alarm_after_log_fifo=round(t_fifo, 2))
        rows.append({"section": "sender",
                     "measure": "10 msgs x 2 rcpts over 300 ms RTT, 40 kbit/s (s)",
                     "smtpmtm": round(t_engine, 1), "peer": peer, "peer value": round(t_simple, 1),
                     "target": "lower"})
        rows.append({"section": "sender",
                     "measure": "an alarm (priority high) queued after a %d KB log, same link: s until accepted"
                                % (LOG_BYTES // 1000),
                     "smtpmtm": round(t_urgent, 1), "peer": "queue order, as other clients send",
                     "peer value": round(t_fifo, 1), "target": "lower"})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows, figs

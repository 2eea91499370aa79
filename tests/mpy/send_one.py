"""MicroPython sender run by the host tests and benchmarks: device/smtpmtm_board/net.py + the core.

Usage: micropython -X heapsize=2m send_one.py SPEC.json [--budget=65536]
SPEC.json holds one spec or a list. With --budget the code is loaded first, as if
frozen, and then exactly that many bytes of heap are left free (tests/mpy/budget.py).
SPEC keys: host, port, mode (implicit|starttls|plain), cafile, server_name, user,
password, from, to, cc, bcc, subject, date, message_id, text | text_path, html_path,
inline [[cid, path]], attach [path], timeout, heap_probe (bool), allow_plaintext.
Prints one JSON line per spec: {"accepted", "refused", "reply", "is_tls", "heap_peak"} or
{"error": class name, "code", "message", "transient"}.
"""

import gc
import json
import sys
import time

from smtpmtm_board import net
from smtpmtm import mime, syntax
from smtpmtm.errors import SmtpMtmError
from smtpmtm.wire.session import Session


from smtpmtm.compat import monotonic as clock  # noqa: E402  (safe across ticks wrap-around)


def build(spec):
    m = mime.Message(sender=spec["from"], to=spec.get("to", []), cc=spec.get("cc", []),
                     bcc=spec.get("bcc", []), subject=spec.get("subject", ""),
                     date=spec.get("date", 1732790000), message_id=spec.get("message_id"))
    if spec.get("text_path"):
        m.set_text(path=spec["text_path"])
    else:
        m.set_text(spec.get("text", ""))
    if spec.get("html_path"):
        m.set_html(path=spec["html_path"])
    for cid, path in spec.get("inline", []):
        m.attach(path, inline_cid=cid)
    for path in spec.get("attach", []):
        m.attach(path)
    return m


class Peak:
    """Wraps the chunk iterator and samples gc.mem_alloc() after every chunk."""

    def __init__(self, chunks):
        self.it = iter(chunks)
        self.peak = gc.mem_alloc()

    def __iter__(self):
        return self

    def __next__(self):
        c = next(self.it)
        a = gc.mem_alloc()
        if a > self.peak:
            self.peak = a
        return c


def send(spec):
    m = build(spec)
    b = mime.build(m)
    mode = spec.get("mode", "starttls")
    name = spec.get("server_name") or spec["host"]
    t = spec.get("timeout", 30)
    stream = net.connect(spec["host"], spec["port"], tls=mode, cafile=spec.get("cafile"),
                         server_hostname=name, timeout=t)
    timeouts = {}
    for k in ("greeting", "command", "mail", "rcpt", "data", "block", "dot"):
        timeouts[k] = t
    s = Session(stream, clock, "board", timeouts=timeouts,
                allow_plaintext=spec.get("allow_plaintext", mode == "plain"))
    try:
        s.open()
        if mode == "starttls":
            s.starttls(name)
        if spec.get("user"):
            s.login(spec["user"], spec.get("password", ""))
        gc.collect()
        base = gc.mem_alloc()
        chunks = Peak(b.chunks()) if spec.get("heap_probe") else b.chunks()
        r = s.send_message(syntax.parse_address(m.sender)[1] if isinstance(m.sender, str) else m.sender[1],
                           m.recipients(), chunks, b.size,
                           needs_8bit=b.needs_8bit, needs_smtputf8=b.needs_smtputf8)
        out = {"accepted": r["accepted"], "refused": r["refused"], "reply": r["reply"],
               "is_tls": stream.is_tls, "size": b.size}
        if spec.get("heap_probe"):
            out["heap_growth"] = chunks.peak - base
        s.quit()
        return out
    finally:
        s.close()


def _kind(e):
    """The error class, or the first of its well-known bases (Timeout, ConnectionLost, ...)."""
    from smtpmtm import errors

    for name in ("TlsError", "Timeout", "ConnectionLost", "ReplyError", "ProtocolError", "InputError"):
        if isinstance(e, getattr(errors, name)):
            return name
    return type(e).__name__


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--budget=")]
    specs = json.loads(open(args[0]).read())
    ballast = None
    for a in sys.argv[1:]:
        if a.startswith("--budget="):  # code loaded as if frozen, then this much free heap
            import budget

            ballast = budget.limit(int(a[9:]))
    for spec in (specs if isinstance(specs, list) else [specs]):
        try:
            out = send(spec)
        except SmtpMtmError as e:
            out = {"error": _kind(e), "code": e.code, "message": str(e),
                   "transient": e.transient}
        print(json.dumps(out))
        out = None
        gc.collect()
    return ballast


main()

"""MicroPython side of host/bench/b_send.py: the core vs the least work, heap and speed.

Usage:
  micropython bench_send.py core HOST PORT PROBE FILE   send FILE as an attachment
        through device/smtpmtm_board/net.py + mime + Session (plaintext); PROBE=1 samples the live
        heap (gc.collect + gc.mem_alloc) after every chunk the builder yields.
  micropython bench_send.py tls HOST PORT CAFILE FILE   the same over STARTTLS
        (verified), also reporting the heap one TLS session holds ("connection_heap").
  micropython bench_send.py build - 0 FILE   only iterate the builder's chunks (timing)
  micropython bench_send.py profile - 0 FILE   where the per-chunk time goes, no network: the
        builder alone, the builder plus the DATA / BDAT encoder's safety scans
        (dotstuff.Encoder.feed), and the least work's read + b2a_base64 + join alone, each a
        whole pass over FILE; prints microseconds per pass and the number of chunks
  micropython bench_send.py least HOST PORT FILE   the least work a correct sender
        does: FILE read into a preallocated 912-byte buffer, b2a_base64 of each 57-byte
        line, the lines joined with CRLF, each block written to the sink (the ceiling).
Any of them with --budget=N: the code is loaded first as if frozen (budget.py) and
then exactly N bytes of heap are free, as on a board with -X heapsize=N.
Prints one JSON line: {"bytes", "us", "heap_growth", "heap_base", "reply", ...}.
"""

import gc
import json
import socket
import sys
import time

from smtpmtm.compat import monotonic as clock  # noqa: E402  (safe across ticks wrap-around)


gc.collect()


def core(host, port, probe, path, cafile=None):
    from smtpmtm_board import net
    from smtpmtm import mime
    from smtpmtm.wire.session import Session

    m = mime.Message(sender="pump@example.com", to=["ann@example.com"], subject="bench",
                     date=1732790000)
    m.set_text("see attachment")
    m.attach(path, content_type="application/octet-stream")
    b = mime.build(m)
    gc.collect()
    before = gc.mem_alloc()
    stream = net.connect(host, port, tls="starttls" if cafile else "plain", cafile=cafile,
                         timeout=60)
    s = Session(stream, clock, "board", allow_plaintext=not cafile)
    s.open()
    if cafile:
        s.starttls(host)
    gc.collect()
    conn = gc.mem_alloc() - before
    base = gc.mem_alloc()
    peak = [base]

    def chunks():
        for c in b.chunks():
            if probe:
                gc.collect()
                a = gc.mem_alloc()
                if a > peak[0]:
                    peak[0] = a
            yield c

    t0 = time.ticks_us()
    r = s.send_message("pump@example.com", ["ann@example.com"], chunks(), b.size)
    us = time.ticks_diff(time.ticks_us(), t0)
    s.quit()
    s.close()
    return {"bytes": b.size, "us": us, "heap_growth": peak[0] - base, "heap_base": base,
            "reply": r["reply"][0], "connection_heap": conn}


def build_only(path):
    """Time only producing the message's chunks (the MIME builder reading + base64)."""
    from smtpmtm import mime

    m = mime.Message(sender="pump@example.com", to=["ann@example.com"], subject="bench",
                     date=1732790000)
    m.set_text("see attachment")
    m.attach(path, content_type="application/octet-stream")
    b = mime.build(m)
    n = 0
    t0 = time.ticks_us()
    for c in b.chunks():
        n += len(c)
    return {"bytes": n, "us": time.ticks_diff(time.ticks_us(), t0), "reply": 250}


def profile(path):
    """Whole passes over FILE without a socket: what each stage of the per-chunk path costs."""
    from smtpmtm import mime
    from smtpmtm.wire.dotstuff import Encoder

    def builder():
        m = mime.Message(sender="pump@example.com", to=["ann@example.com"], subject="bench",
                         date=1732790000)
        m.set_text("see attachment")
        m.attach(path, content_type="application/octet-stream")
        return mime.build(m)

    out = {"reply": 250}
    for name, stuff in (("build", None), ("build_data", True), ("build_bdat", False)):
        b = builder()
        enc = Encoder(stuff) if stuff is not None else None
        n = chunks = 0
        gc.collect()
        t0 = time.ticks_us()
        for c in b.chunks():
            if enc:
                c = enc.feed(c)
            n += len(c)
            chunks += 1
        out[name + "_us"] = time.ticks_diff(time.ticks_us(), t0)
        out["bytes"], out["chunks"] = n, chunks
    counted = [0]

    def count(block):
        counted[0] += len(block)

    gc.collect()
    t0 = time.ticks_us()
    least_work(path, count)
    out["least_us"] = time.ticks_diff(time.ticks_us(), t0)
    out["least_bytes"] = counted[0]
    out["us"] = out["build_us"]
    return out


def least_work(path, write):
    """The least work itself: FILE read into one preallocated buffer of 16 lines (912 bytes),
    b2a_base64 of each 57-byte line, the lines joined with CRLF, each block to write()."""
    import binascii

    buf = bytearray(912)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            out = [binascii.b2a_base64(mv[i:min(i + 57, n)], newline=False)
                   for i in range(0, n, 57)]
            out.append(b"")
            write(b"\r\n".join(out))


def least(host, port, path):
    """The least work a correct sender does for the attachment: read the file into one
    preallocated buffer of 16 lines (912 bytes), b2a_base64 each 57-byte line, join the
    lines with CRLF and write each block to the sink (announced as "RAW n")."""
    import os

    size = os.stat(path)[6]
    lines = (size + 56) // 57
    total = 4 * ((size + 2) // 3) + 2 * lines
    sock = socket.socket()
    sock.connect(socket.getaddrinfo(host, port)[0][-1])
    sock.recv(100)  # greeting
    t0 = time.ticks_us()
    sock.write(b"RAW %d\r\n" % total)
    least_work(path, sock.write)
    reply = sock.recv(100)
    us = time.ticks_diff(time.ticks_us(), t0)
    sock.close()
    return {"bytes": total, "us": us, "reply": int(reply[:3])}


def main():
    argv = [a for a in sys.argv if not a.startswith("--budget=")]
    for a in sys.argv[1:]:
        if a.startswith("--budget="):  # code loaded as if frozen, then this much free heap
            import budget

            globals()["_ballast"] = budget.limit(int(a[9:]))
    sys.argv[:] = argv
    kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "core":
        out = core(host, port, sys.argv[4] == "1", sys.argv[5])
    elif kind == "build":
        out = build_only(sys.argv[4])
    elif kind == "profile":
        out = profile(sys.argv[4])
    elif kind == "tls":
        out = core(host, port, True, sys.argv[5], cafile=sys.argv[4])
    else:
        out = least(host, port, sys.argv[4])
    print(json.dumps(out))


main()

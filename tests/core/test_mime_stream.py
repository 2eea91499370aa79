"""Streaming: a 1 MB attachment goes through a bounded heap, byte-exact, in bounded chunks."""

import binascii
import gc

from portable import tmpdir
from smtpmtm import mime


# port; tests/host/test_mime_heap.py runs this same scenario precompiled at -X heapsize=64k


def write_pattern(path, size):
    block = bytearray(1024)
    with open(path, "wb") as f:
        done = 0
        while done < size:
            n = min(1024, size - done)
            for i in range(n):
                block[i] = (done + i) * 7 & 255
            f.write(block[:n] if n < 1024 else block)
            done += n


def check_line(line, pos):
    data = binascii.a2b_base64(line)
    n = len(data)
    assert data[0] == pos * 7 & 255 and data[n - 1] == (pos + n - 1) * 7 & 255, pos
    assert len(line) == 76 or n < 57
    return n


def stream(path):
    """Build and stream a message with the file attached, checking every base64 line.

    The checking itself allocates little (memoryviews, one carry buffer), so that the
    heap figure is the builder's. Returns (built, bytes streamed, file bytes seen, live
    heap growth while streaming)."""
    m = mime.Message(sender="cam@example.com", to=["ann@example.com"], subject="picture",
                     date=1732790000, message_id="<s@example.com>")
    m.set_text("see attached")
    m.attach(path, name="pic.jpg")
    gc.collect()
    base = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    b = mime.build(m)
    total = peak = pos = phase = blen = n = 0  # phase 0 headers, 1 base64 lines, 2 after
    carry = bytearray(80)  # a line split across two chunks
    for c in b.chunks():
        assert 0 < len(c) <= mime.CHUNK
        total += len(c)
        n += 1
        i = 0
        if phase == 0:
            k = c.find(b"Content-Transfer-Encoding: base64\r\n\r\n")
            if k >= 0:
                phase, i = 1, k + 37
        mv = memoryview(c)
        while phase == 1:
            j = c.find(b"\r\n", i)
            if j < 0:
                carry[blen:blen + len(c) - i] = mv[i:]
                blen += len(c) - i
                break
            if blen:
                carry[blen:blen + j - i] = mv[i:j]
                line = memoryview(carry)[:blen + j - i]
                blen = 0
            else:
                line = mv[i:j]
            if line[0] == 45:  # "-": the delimiter after the part ("-" is not base64)
                phase = 2
            else:
                pos += check_line(line, pos)
            i = j + 2
        if n % 32 == 0 and hasattr(gc, "mem_alloc"):
            gc.collect()
            peak = max(peak, gc.mem_alloc() - base)
    assert phase == 2
    return b, total, pos, peak


def test_one_megabyte_attachment_streams_in_bounded_memory():
    d = tmpdir()
    size = 1 << 20
    write_pattern(d + "/big.bin", size)
    b, total, pos, peak = stream(d + "/big.bin")
    assert pos == size  # every base64 line checked, in order
    assert total == b.size and b.size > size * 4 // 3
    if hasattr(gc, "mem_alloc"):
        assert peak < 16384, peak  # live heap while streaming, not the file size

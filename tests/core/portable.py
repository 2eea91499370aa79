"""Helpers for core test cases that run on both CPython and MicroPython.

Core tests are plain ``test_*`` functions using only ``assert`` and these
helpers, so the same file runs under pytest (CPython) and under the
MicroPython unix port (tests/core/_mprun.py) and the emulated board
(host/qemuboard.py). Use ``cpython_only(reason)`` for the rare case that cannot
run on MicroPython, ``needs(module, attr, reason)`` for one that needs what
some ports lack; the reason is reported.
"""

import os
import sys

MICROPYTHON = sys.implementation.name == "micropython"

_counter = [0]


_NEEDS = {}  # test function -> ((module, attr, reason), ...): MicroPython functions take no attributes


def needs(module, attr=None, reason=""):
    """Mark a test that needs ``module`` (and its ``attr``), which some ports lack.

    A real board has what the unix port has only when its firmware was built
    with it (hashlib.md5 comes with a TLS library; _thread with threads). Where
    it is missing the runner skips the test and reports ``reason``.
    """

    def mark(fn):
        _NEEDS[fn] = _NEEDS.get(fn, ()) + ((module, attr, reason),)
        return fn

    return mark


def cpython_only(reason):
    """Mark a test that cannot run on MicroPython, saying why."""
    return needs(None if MICROPYTHON else "sys", None, reason)


# hashlib.md5 (HMAC-MD5 for CRAM-MD5) is built in only with a TLS library: the ESP32 and
# RP2040 firmwares have one, the emulated board (ports/qemu) has none
needs_md5 = needs("hashlib", "md5", "hashlib.md5: a port has it only with a TLS library (ports/qemu has none)")


def missing(fn):
    """Why ``fn`` cannot run on this port (a ``needs`` not met), or None."""
    for module, attr, reason in _NEEDS.get(fn, ()):
        if module is None:  # cpython_only on MicroPython
            return reason
        try:
            mod = __import__(module)
        except ImportError:
            return reason
        if attr and not hasattr(mod, attr):
            return reason
    return None


def live_heap():
    """Bytes of live heap now: gc.mem_alloc() after a collection on MicroPython; on CPython
    what tracemalloc counts from the first call on (call it once before the work whose
    caches fill, then compare two later calls' figures)."""
    import gc

    gc.collect()
    if MICROPYTHON:
        return gc.mem_alloc()
    import tracemalloc

    if not tracemalloc.is_tracing():
        tracemalloc.start()
    return tracemalloc.get_traced_memory()[0]


def raises(exc_type, fn, *args, **kw):
    """Call fn and return the exception of exc_type it raised; fail if none."""
    try:
        fn(*args, **kw)
    except exc_type as e:
        return e
    raise AssertionError("%s not raised by %r" % (exc_type.__name__, fn))


def tmpdir(prefix="t"):
    """A fresh empty directory under the per-test temp root."""
    getenv = getattr(os, "getenv", None)  # a bare-metal port has no environment
    root = (getenv and getenv("SMTPMTM_TEST_TMP")) or "/tmp"
    _counter[0] += 1
    pid = os.getpid() if hasattr(os, "getpid") else 0
    path = "%s/%s%d_%d" % (root, prefix, pid, _counter[0])
    n = 0
    while exists(path + ("_%d" % n if n else "")):
        n += 1
    if n:
        path += "_%d" % n
    os.mkdir(path)
    return path


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def rmtree(path):
    try:
        mode = os.stat(path)[0]
    except OSError:
        return
    if mode & 0x4000:
        for name in os.listdir(path):
            rmtree(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def read_part(st, eid, name):
    """The whole content of part ``name`` of entry ``eid`` in store ``st``."""
    f = st.open_part(eid, name)
    try:
        return f.read()
    finally:
        f.close()


def part_crc(st, eid, name):
    """(bytes read, CRC-32) of part ``name`` of ``eid``, read in 512-byte pieces."""
    from smtpmtm.store.fsutil import crc32

    f = st.open_part(eid, name)
    try:
        crc = n = 0
        buf = bytearray(512)
        while True:
            k = f.readinto(buf)
            if not k:
                return n, crc
            crc = crc32(memoryview(buf)[:k], crc)
            n += k
    finally:
        f.close()


class FakeClock:
    """A clock the test moves by hand: ``now()`` returns whole Unix seconds as an int, as
    the boards' WallClock does (a single-precision float holds a Unix time only to 128 s).
    ``advance(seconds)`` also takes a step's sleep hint such as link.POLL_S (0.25): the
    fraction is kept in ms, so four of them make one second."""

    def __init__(self, start=1700000000):
        if type(start) is not int:
            raise TypeError("FakeClock: start must be int Unix seconds, not %r" % (start,))
        self.t = start
        self.ms = 0  # the part of a second advanced so far

    def __call__(self):
        if type(self.t) is not int:
            raise TypeError("FakeClock: a test set a time that is not an int: %r" % (self.t,))
        return self.t

    def advance(self, seconds):
        ms = self.ms + int(seconds * 1000)
        self.t += ms // 1000
        self.ms = ms % 1000


class Rng:
    """A small seeded xorshift generator, identical on both interpreters."""

    def __init__(self, seed=1):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n if n else 0

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))

    def choice(self, seq):
        return seq[self.below(len(seq))]

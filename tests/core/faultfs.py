"""A filesystem for the store that fails on purpose: the k-th call raises OSError(errno).

Used by the core fault tests (both interpreters): pass ``FaultFs(k, errno)``
to ``Store(root, fs=...)``; every fs call and every call on a file it opened
(open, write, read, readinto, readline, close, remove, mkdir, listdir, size,
exists) counts.
"""

from smtpmtm.store import fsutil

EIO = 5


class FaultFs(fsutil.Fs):
    """Counts every fs and file call; the call numbered `fail_at` raises OSError(errno)."""

    def __init__(self, fail_at=0, errno=EIO):
        self.n = 0
        self.fail_at = fail_at
        self.errno = errno
        self.failed = False

    def tick(self):
        self.n += 1
        if self.n == self.fail_at:
            self.failed = True
            raise OSError(self.errno)

    def open(self, path, mode):
        self.tick()
        return _File(self, open(path, mode))

    def remove(self, path):
        self.tick()
        fsutil.Fs.remove(self, path)

    def mkdir(self, path):
        self.tick()
        fsutil.Fs.mkdir(self, path)

    def listdir(self, path):
        self.tick()
        return fsutil.Fs.listdir(self, path)

    def size(self, path):
        self.tick()
        return fsutil.Fs.size(self, path)

    def exists(self, path):
        self.tick()
        return fsutil.Fs.exists(self, path)


class _File:
    def __init__(self, fs, f):
        self.fs = fs
        self.f = f

    def write(self, b):
        self.fs.tick()
        return self.f.write(b)

    def read(self, *a):
        self.fs.tick()
        return self.f.read(*a)

    def readinto(self, b):
        self.fs.tick()
        return self.f.readinto(b)

    def readline(self, *a):
        self.fs.tick()
        return self.f.readline(*a)

    def close(self):
        try:
            self.fs.tick()
        finally:
            self.f.close()  # the real file is closed either way (its data may have landed)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
